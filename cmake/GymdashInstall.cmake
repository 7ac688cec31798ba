# Install rules and the CMake package: a host project does
#   find_package(gymdash CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE gymdash::gymdash)   # C++
#   target_link_libraries(app PRIVATE gymdash::c)         # C ABI
include(CMakePackageConfigHelpers)

install(TARGETS gymdash EXPORT gymdashTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/gymdash DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(FILES "${PROJECT_BINARY_DIR}/include/gymdash/version.hpp"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/gymdash)

set(GYMDASH_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gymdash)
install(EXPORT gymdashTargets NAMESPACE gymdash:: DESTINATION ${GYMDASH_CMAKE_DIR})
configure_package_config_file(cmake/gymdashConfig.cmake.in
  "${PROJECT_BINARY_DIR}/gymdashConfig.cmake" INSTALL_DESTINATION ${GYMDASH_CMAKE_DIR})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/gymdashConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/gymdashConfig.cmake" "${PROJECT_BINARY_DIR}/gymdashConfigVersion.cmake"
        DESTINATION ${GYMDASH_CMAKE_DIR})
install(FILES LICENSE README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL)
