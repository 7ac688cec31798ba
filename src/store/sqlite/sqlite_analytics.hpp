// The SQLite backend's analytics repository (rollup tables of schema v5),
// kept in its own file; the store lends it its connection.
#pragma once

#include <gymdash/store.hpp>

#include <functional>
#include <memory>
#include <string_view>

struct sqlite3;

namespace SQLite {
class Statement;
}

namespace gymdash::sqlite_store {

/**
 * What the analytics repository borrows from the SQLite store: its lock and
 * error boundary, its transactions and its statement cache.
 * Ownership: implemented by the store, which outlives the repository.
 */
class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  virtual ~Connection() = default;

  /** Runs `body` holding the connection; an SQLite error becomes StorageError naming `what`. */
  virtual void run(std::string_view what, const std::function<void()>& body) = 0;
  /** Inside run(): `body` in its own transaction, or as is inside a caller's. */
  virtual void within_transaction(const std::function<void()>& body) = 0;
  /**
   * Inside run(): the cached statement for `sql`, reset, bindings cleared.
   * The caller resets it when done (an unreset SELECT pins a WAL snapshot).
   */
  virtual SQLite::Statement& statement(std::string_view sql) = 0;
};

/**
 * Registers on `db` the SQL function the repository's statements use,
 * `gymdash_add_counts(stored, delta)`: two packed count lists (migration
 * v5's form) added, entries that reach zero dropped. Call once per
 * connection, before the repository's first statement.
 */
void register_rollup_functions(sqlite3* db);

/** The analytics repository over `connection`, which must outlive it. */
std::unique_ptr<AnalyticsRepository> make_sqlite_analytics(Connection& connection);

}  // namespace gymdash::sqlite_store
