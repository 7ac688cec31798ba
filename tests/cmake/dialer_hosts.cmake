# Several hosts on one PostgreSQL database (docs/campaigns.md, "Several
# hosts"): dialer_hosts_test starts dialer_host, a real process running a
# dialer, four times over the same campaigns. Included by tests/CMakeLists.txt.
if(GYMDASH_WITH_POSTGRES)
  add_executable(dialer_host "${CMAKE_CURRENT_LIST_DIR}/../dialer_host.cpp")
  target_link_libraries(dialer_host PRIVATE gymdash::gymdash Threads::Threads)
  add_dependencies(dialer_hosts_test dialer_host)
  set_property(TEST dialer_hosts_test APPEND PROPERTY ENVIRONMENT "GYMDASH_DIALER_HOST=$<TARGET_FILE:dialer_host>")
endif()
