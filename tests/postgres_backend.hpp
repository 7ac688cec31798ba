// The PostgreSQL backend of the conformance suites: each store it opens lives
// in a schema of its own (created by the store, dropped when the backend
// object goes), on the server named by GYMDASH_TEST_POSTGRES_URI. The test
// main (doctest_main.cpp) leaves out every case instantiated with it when
// that variable is not set.
#pragma once

#include <doctest/doctest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <gymdash/store.hpp>
#include <memory>
#include <stdexcept>
#include <string>

namespace gymdash::test {

extern bool postgres_cases_compiled;
inline const bool postgres_cases_registered = (postgres_cases_compiled = true);

/** The test server's URI, or empty. */
inline std::string postgres_test_uri() {
  const char* uri = std::getenv("GYMDASH_TEST_POSTGRES_URI");
  return uri ? uri : "";
}

/** A connection to the test server, its notices silenced; throws std::runtime_error if it fails. */
inline std::unique_ptr<PGconn, decltype(&PQfinish)> postgres_connect(const std::string& uri) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(uri.c_str()), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c.get()));
  PQsetNoticeProcessor(c.get(), [](void*, const char*) {}, nullptr);
  return c;
}

/** Runs SQL on the test server outside any store; throws std::runtime_error with the server's text. */
inline void postgres_exec(const std::string& uri, const std::string& sql) {
  auto c = postgres_connect(uri);
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw std::runtime_error(PQerrorMessage(c.get()));
}

/** Runs a query on the test server and returns the first column of the first row ("" if none). */
inline std::string postgres_value(const std::string& uri, const std::string& sql) {
  auto c = postgres_connect(uri);
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) throw std::runtime_error(PQerrorMessage(c.get()));
  return PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
}

/**
 * A URI of the test server whose connections work in `schema` (created
 * here), for code that opens a store by URI (a Runtime).
 */
inline std::string postgres_uri_in_schema(const std::string& uri, const std::string& schema) {
  postgres_exec(uri, "CREATE SCHEMA IF NOT EXISTS \"" + schema + "\"");
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "options=-c%20search_path%3D" + schema;
}

/** A schema name no other test (of this or another process) uses. */
inline std::string unique_schema(const std::string& stem) {
  static std::atomic<int> counter{0};
  return stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

struct PostgresBackend {
  static constexpr std::string_view kName = "postgres";
  std::string uri = postgres_test_uri();
  std::string schema = unique_schema("gdtest");
  PostgresBackend() = default;
  PostgresBackend(const PostgresBackend&) = delete;
  PostgresBackend& operator=(const PostgresBackend&) = delete;
  ~PostgresBackend() {
    try {
      postgres_exec(uri, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    } catch (...) {
    }
  }
  std::unique_ptr<Store> open() {
    PostgresOptions options;
    options.uri = uri;
    options.schema = schema;
    return make_postgres_store(options);
  }
};

}  // namespace gymdash::test

TYPE_TO_STRING_AS("PostgresBackend", gymdash::test::PostgresBackend);
