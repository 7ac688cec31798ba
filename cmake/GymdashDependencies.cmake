# Finds gymdash's dependencies. scripts/install-deps.sh installs all of them on
# Debian 12; see README.md.
find_package(Threads REQUIRED)
find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS json)
find_package(SQLiteCpp REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(fmt REQUIRED)
find_package(date CONFIG REQUIRED)
# libcrypto: HMAC-SHA256/SHA1 and base64 for webhook signatures; libssl: TLS of the
# voice providers' HTTP client (both private to the libraries).
find_package(OpenSSL REQUIRED COMPONENTS Crypto SSL)
# libpq (Debian: libpq-dev): the PostgreSQL backend, private to the libraries.
if(GYMDASH_WITH_POSTGRES)
  find_package(PostgreSQL REQUIRED)
endif()

# libphonenumber: Debian's -dev package cannot be installed beside Boost 1.81
# (it depends on the 1.74 thread headers), so scripts/install-deps.sh unpacks
# its headers into a build-local prefix; the runtime library comes from
# Debian's libphonenumber8 package. The headers need no Boost unless
# I18N_PHONENUMBERS_USE_BOOST is defined, and we never define it.
set(GYMDASH_PHONENUMBER_PREFIX "${PROJECT_SOURCE_DIR}/.deps/phonenumber/usr"
    CACHE PATH "Prefix holding include/phonenumbers (libphonenumber headers)")
find_path(GYMDASH_PHONENUMBER_INCLUDE_DIR phonenumbers/phonenumberutil.h
          HINTS "${GYMDASH_PHONENUMBER_PREFIX}/include" REQUIRED)
# The shared library from libphonenumber8 (the unpacked -dev package also holds
# a static archive, which would drag in its own dependencies).
find_library(GYMDASH_PHONENUMBER_LIBRARY NAMES libphonenumber.so.8 libphonenumber.so REQUIRED)
find_package(Protobuf REQUIRED)
add_library(gymdash_phonenumber INTERFACE)
target_include_directories(gymdash_phonenumber SYSTEM INTERFACE "${GYMDASH_PHONENUMBER_INCLUDE_DIR}")
target_link_libraries(gymdash_phonenumber INTERFACE "${GYMDASH_PHONENUMBER_LIBRARY}" protobuf::libprotobuf)
