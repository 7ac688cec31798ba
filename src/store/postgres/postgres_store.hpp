// The PostgreSQL store's core, shared by its repositories: the pool, this
// thread's transaction, the error boundary.
#pragma once

#include <fmt/format.h>

#include <gymdash/error.hpp>
#include <gymdash/store.hpp>
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "store/postgres/pg.hpp"

namespace gymdash::postgres_store {

/**
 * The phone numbers this process stored during a bulk lead load into a table
 * that held no lead when the load began (PostgresStore::begin_bulk_load),
 * as 64-bit hashes of (gym, number). While it is active, a number not in
 * the set was not in the table before the load and was not stored by this
 * process since: the COPY path need not ask the server about it (another
 * process storing it meanwhile makes the COPY fail, and the batch takes the
 * way that asks). A hash that collides only makes a number asked about.
 * Thread safety: safe concurrently.
 */
class BulkNumbers {
 public:
  /** The hash of a gym and a number: the two strings' hashes mixed (no string made). */
  static std::uint64_t key(std::string_view gym_id, std::string_view e164) {
    std::uint64_t h = std::hash<std::string_view>{}(gym_id);
    h ^= std::hash<std::string_view>{}(e164) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
  }
  void start() {
    std::lock_guard lock(mutex_);
    active_ = true;
    sorted_.clear();
  }
  void stop() {
    std::lock_guard lock(mutex_);
    active_ = false;
    std::vector<std::uint64_t>().swap(sorted_);
  }
  bool active() const {
    std::lock_guard lock(mutex_);
    return active_;
  }
  /** For each key: whether it may be stored already (always true when inactive). */
  std::vector<bool> maybe_stored(const std::vector<std::uint64_t>& keys) const {
    std::lock_guard lock(mutex_);
    std::vector<bool> out(keys.size(), true);
    if (!active_) return out;
    for (std::size_t i = 0; i < keys.size(); ++i)
      out[i] = std::binary_search(sorted_.begin(), sorted_.end(), keys[i]);
    return out;
  }
  /** Records stored numbers (nothing when inactive). */
  void add(std::vector<std::uint64_t> keys) {
    std::sort(keys.begin(), keys.end());
    std::lock_guard lock(mutex_);
    if (!active_) return;
    const auto middle = static_cast<std::ptrdiff_t>(sorted_.size());
    sorted_.insert(sorted_.end(), keys.begin(), keys.end());
    std::inplace_merge(sorted_.begin(), sorted_.begin() + middle, sorted_.end());
  }

 private:
  mutable std::mutex mutex_;
  bool active_ = false;
  std::vector<std::uint64_t> sorted_;  // 8 bytes a number: 8 MB for a million
};

/**
 * Connections and transactions of one PostgreSQL store.
 *
 * Outside a transaction every repository call borrows a pooled connection
 * for its statements (autocommit, or a transaction of its own when it writes
 * several rows). Store::transact binds one connection to the calling thread
 * for its duration: every repository call on that thread uses it, a nested
 * transact is a savepoint. Other threads use other connections, so they do
 * not wait for it; they see its writes when it commits (READ COMMITTED).
 *
 * A statement the server refuses inside a transaction aborts it in
 * PostgreSQL. Expected refusals (a duplicate id, a missing gym, a stale
 * version) are therefore asked for without raising a server error
 * (ON CONFLICT DO NOTHING, WHERE EXISTS, version guards), so that a caller
 * may catch them and go on, as on SQLite. After any other storage error the
 * transaction can only fail.
 *
 * Ownership: owned by the Store. Thread safety: safe concurrently.
 */
class Core {
 public:
  Core(std::string uri, std::string schema, int pool_size, std::chrono::milliseconds pool_wait)
      : pool_(std::move(uri), std::move(schema), pool_size, pool_wait) {}

  /** The numbers stored during the bulk lead load in progress, if it began on an empty table. */
  BulkNumbers& bulk_numbers() noexcept { return bulk_numbers_; }

  const std::string& where() const noexcept { return pool_.where(); }

  /** A connection outside the pool (pg::Pool::connect_unpooled). */
  std::unique_ptr<pg::Connection> connect_unpooled() const { return pool_.connect_unpooled(); }

  /** The error boundary: a refused statement becomes a StorageError naming what it was about. */
  template <class Body>
  decltype(auto) run(std::string_view kind, std::string_view id, Body&& body) {
    try {
      return body();
    } catch (const pg::SqlError& e) {
      throw StorageError(fmt::format("postgres {}: {}{}{}: {} (SQLSTATE {})", where(), kind, id.empty() ? "" : " ",
                                     id, e.what(), e.sqlstate()));
    }
  }

  /** Runs body(connection): this thread's transaction's, or a pooled one. */
  template <class Body>
  decltype(auto) with_connection(Body&& body) {
    if (Tx* tx = current()) return body(*tx->lease);
    auto lease = pool_.acquire();
    return body(*lease);
  }

  /** Runs body(connection) as one atomic unit: a transaction of its own, or a savepoint inside this thread's. */
  template <class Body>
  decltype(auto) atomically(Body&& body) {
    Level level(*this);
    if constexpr (std::is_void_v<decltype(body(level.connection()))>) {
      body(level.connection());
      level.commit();
    } else {
      auto result = body(level.connection());
      level.commit();
      return result;
    }
  }

  /** Runs body(connection) inside this thread's transaction as is, or in one of its own when there is none. */
  template <class Body>
  decltype(auto) within_transaction(Body&& body) {
    if (Tx* tx = current()) return body(*tx->lease);
    return atomically(std::forward<Body>(body));
  }

 private:
  struct Tx {
    pg::Pool::Lease lease;
    int depth = 1;
  };

  Tx* current() {
    std::lock_guard lock(tx_mutex_);
    auto it = txs_.find(std::this_thread::get_id());
    return it == txs_.end() ? nullptr : it->second.get();
  }
  Tx* open(pg::Pool::Lease lease) {
    std::lock_guard lock(tx_mutex_);
    auto& slot = txs_[std::this_thread::get_id()];
    slot = std::make_unique<Tx>();
    slot->lease = std::move(lease);
    return slot.get();
  }
  void close() noexcept {
    std::unique_ptr<Tx> done;
    {
      std::lock_guard lock(tx_mutex_);
      auto it = txs_.find(std::this_thread::get_id());
      if (it == txs_.end()) return;
      done = std::move(it->second);
      txs_.erase(it);
    }
    // The lease goes back to the pool here, outside the lock.
  }

  // One level of transaction: BEGIN or a savepoint; rolls back in its
  // destructor unless committed, and never throws there.
  class Level {
   public:
    explicit Level(Core& core) : core_(core) {
      tx_ = core_.current();
      if (tx_) {
        tx_->lease->script("SAVEPOINT gymdash_nested");
        ++tx_->depth;
        nested_ = true;
      } else {
        auto lease = core_.pool_.acquire();
        lease->script("BEGIN");
        tx_ = core_.open(std::move(lease));
      }
    }
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;
    pg::Connection& connection() { return *tx_->lease; }
    void commit() {
      if (nested_) {
        tx_->lease->script("RELEASE SAVEPOINT gymdash_nested");
        --tx_->depth;
      } else {
        done_ = true;  // whatever COMMIT says, the transaction is over
        try {
          tx_->lease->script("COMMIT");
        } catch (...) {
          core_.close();
          throw;
        }
        core_.close();
      }
      done_ = true;
    }
    ~Level() {
      if (done_) return;
      if (nested_) {
        --tx_->depth;
        tx_->lease->try_script("ROLLBACK TO SAVEPOINT gymdash_nested");
        tx_->lease->try_script("RELEASE SAVEPOINT gymdash_nested");
      } else {
        tx_->lease->try_script("ROLLBACK");
        core_.close();
      }
    }

   private:
    Core& core_;
    Tx* tx_ = nullptr;
    bool nested_ = false;
    bool done_ = false;
  };

  pg::Pool pool_;
  BulkNumbers bulk_numbers_;
  std::mutex tx_mutex_;
  std::unordered_map<std::thread::id, std::unique_ptr<Tx>> txs_;  // open transactions by thread
};

}  // namespace gymdash::postgres_store
