# Installs the build into a scratch prefix and builds a separate project
# against it with find_package(gymdash), then runs it.
if(GYMDASH_INSTALL AND NOT GYMDASH_SANITIZE)
  add_test(NAME install_consumer
           COMMAND ${CMAKE_COMMAND}
                   -DBUILD_DIR=${PROJECT_BINARY_DIR}
                   -DSOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/consumer
                   -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer-work
                   -DGENERATOR=${CMAKE_GENERATOR}
                   -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run.cmake)
  set_tests_properties(install_consumer PROPERTIES LABELS "install" TIMEOUT 600
                       PASS_REGULAR_EXPRESSION "consumer: ok")
endif()
