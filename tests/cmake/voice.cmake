# The voice provider tests make a TLS certificate at run time with OpenSSL.
# Included by tests/CMakeLists.txt after every *_test.cpp target exists.
if(TARGET voice_test)
  target_link_libraries(voice_test PRIVATE OpenSSL::SSL OpenSSL::Crypto)
endif()
