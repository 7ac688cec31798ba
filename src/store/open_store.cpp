// open_store(uri): picks a backend by the URI's scheme.

#include <fmt/format.h>

#include <gymdash/error.hpp>
#include <gymdash/store.hpp>

namespace gymdash {

std::unique_ptr<Store> open_store(std::string_view uri) {
  constexpr std::string_view kMemory = "memory:";
  constexpr std::string_view kSqlite = "sqlite:";
  if (uri.starts_with(kMemory)) {
    if (uri.size() != kMemory.size())
      throw InvalidArgumentError(
          fmt::format("uri: \"{}\": the memory: backend takes nothing after the colon", uri),
          "uri");
    return make_memory_store();
  }
  if (uri.starts_with(kSqlite)) {
    SqliteOptions options;
    options.path = std::string(uri.substr(kSqlite.size()));
    if (options.path.empty())
      throw InvalidArgumentError(
          fmt::format("uri: \"{}\" names no database file (expected sqlite:PATH)", uri), "uri");
    return make_sqlite_store(options);
  }
  if (uri.starts_with("postgresql://") || uri.starts_with("postgres://")) {
    PostgresOptions options;
    options.uri = std::string(uri);
    return make_postgres_store(options);
  }
  // Name the scheme as written (up to and with its colon) when there is one,
  // the whole text otherwise, so the message points at what to fix.
  auto colon = uri.find(':');
  if (colon == std::string_view::npos)
    throw InvalidArgumentError(
        fmt::format("uri: \"{}\" has no storage scheme (expected memory:, sqlite:PATH or postgresql://…)", uri),
        "uri");
  throw InvalidArgumentError(
      fmt::format("uri: unknown storage scheme \"{}\" (expected memory:, sqlite:PATH or postgresql://…)",
                  uri.substr(0, colon + 1)),
      "uri");
}

#ifndef GYMDASH_WITH_POSTGRES
std::unique_ptr<Store> make_postgres_store(const PostgresOptions&) {
  throw StorageError("postgres: this build of gymdash has no PostgreSQL backend (built with GYMDASH_WITH_POSTGRES=OFF)",
                     "uri");
}
#endif

}  // namespace gymdash
