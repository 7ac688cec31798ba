# Crash safety (docs/hardening.md, "Crash safety"): crash_test starts
# crash_child, a real process importing or ingesting into an SQLite file, and
# kills it with SIGKILL at random points. Included by tests/CMakeLists.txt.
add_executable(crash_child "${CMAKE_CURRENT_LIST_DIR}/../crash_child.cpp")
target_link_libraries(crash_child PRIVATE gymdash::gymdash)
add_dependencies(crash_test crash_child)
set_property(TEST crash_test APPEND PROPERTY ENVIRONMENT "GYMDASH_CRASH_CHILD=$<TARGET_FILE:crash_child>")
