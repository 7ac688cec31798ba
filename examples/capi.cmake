# Examples of the C ABI (included by examples/CMakeLists.txt). The test that
# runs them is registered in tests/cmake/capi.cmake (label "examples"), beside
# the Python quickstart, which needs no build step.
add_executable(gymdash_example_host "${CMAKE_CURRENT_LIST_DIR}/host.c")
set_target_properties(gymdash_example_host PROPERTIES
  OUTPUT_NAME host
  C_STANDARD 11
  C_STANDARD_REQUIRED ON
  C_EXTENSIONS OFF)
target_link_libraries(gymdash_example_host PRIVATE gymdash::c)
target_compile_options(gymdash_example_host PRIVATE
  $<$<C_COMPILER_ID:GNU,Clang>:-Wall -Wextra -pedantic>)
