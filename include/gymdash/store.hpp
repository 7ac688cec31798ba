/**
 * @file store.hpp
 * @brief Store: the pluggable storage interface, its repositories, and the
 *        factories that open a backend by URI.
 *
 * Services hold the business rules and never build SQL; a backend holds the
 * SQL (or the maps) and never decides a business rule. Every repository method
 * is scoped to one gym where the data is a gym's: asking for gym A's lead under
 * gym B finds nothing.
 *
 * Backends: `memory:` (tests; nothing persists), `sqlite:PATH` (embedded
 * default; WAL; schema migrations applied on open). Both pass one conformance
 * suite (tests/store_conformance_test.cpp).
 */
#pragma once

#include <gymdash/model.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash {

/**
 * Gyms in storage.
 * Ownership: owned by its Store; valid while the Store lives.
 * Thread safety: safe for concurrent use from multiple threads.
 */
class GymRepository {
 public:
  GymRepository() = default;
  GymRepository(const GymRepository&) = delete;
  GymRepository& operator=(const GymRepository&) = delete;
  virtual ~GymRepository() = default;

  /** Stores a new gym. Throws AlreadyExistsError if the id is taken. */
  virtual void insert(const Gym& gym) = 0;
  /** The gym with that id, or nullopt. */
  virtual std::optional<Gym> find(std::string_view gym_id) = 0;
  /** Every gym, ordered by id. */
  virtual std::vector<Gym> list() = 0;
  /** Replaces a stored gym. Throws NotFoundError if there is none with that id. */
  virtual void update(const Gym& gym) = 0;
};

/**
 * Leads and their history in storage.
 * Ownership: owned by its Store; valid while the Store lives.
 * Thread safety: safe for concurrent use from multiple threads.
 */
class LeadRepository {
 public:
  LeadRepository() = default;
  LeadRepository(const LeadRepository&) = delete;
  LeadRepository& operator=(const LeadRepository&) = delete;
  virtual ~LeadRepository() = default;

  /**
   * Stores a new lead. Throws AlreadyExistsError if the id is taken or the
   * gym already has a lead with that phone number, NotFoundError if the gym
   * does not exist.
   */
  virtual void insert(const Lead& lead) = 0;
  /** The lead of that gym with that id, or nullopt. */
  virtual std::optional<Lead> find(std::string_view gym_id, std::string_view lead_id) = 0;
  /** The lead of that gym with that E.164 number, or nullopt. */
  virtual std::optional<Lead> find_by_phone(std::string_view gym_id, std::string_view e164) = 0;
  /**
   * Replaces a stored lead if the stored version is `lead.version - 1`
   * (optimistic concurrency). Throws NotFoundError if the lead is gone,
   * ConflictError if someone else changed it first, AlreadyExistsError if the
   * new phone number belongs to another lead of the gym.
   */
  virtual void update(const Lead& lead) = 0;
  /** Deletes a lead with its history. Returns false if there was none. */
  virtual bool remove(std::string_view gym_id, std::string_view lead_id) = 0;
  /** One page of a gym's leads matching `filter`, newest first (created_at, then id). */
  virtual LeadPage list(std::string_view gym_id, const LeadFilter& filter) = 0;
  /**
   * Appends to a lead's history and returns the `seq` the store assigned
   * (increasing, never reused). Throws NotFoundError if the lead is not the gym's.
   */
  virtual std::int64_t append_history(std::string_view gym_id, const LeadEvent& event) = 0;
  /** A lead's history, oldest first; empty for an unknown lead or another gym's. */
  virtual std::vector<LeadEvent> history(std::string_view gym_id, std::string_view lead_id) = 0;
};

/**
 * A storage backend: repositories plus transactions.
 * Ownership: a Store is owned by whoever opened it (usually the Runtime);
 * services hold a reference and must not outlive it.
 * Thread safety: safe for concurrent access from multiple threads without
 * external synchronization. A transaction belongs to the thread that runs it.
 */
class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  /** `memory` or `sqlite`. */
  virtual std::string_view backend() const = 0;
  /** Schema version of the open database (0 for memory). */
  virtual int schema_version() const = 0;

  virtual GymRepository& gyms() = 0;
  virtual LeadRepository& leads() = 0;

  /**
   * Runs `fn` as one transaction: every repository call `fn` makes on this
   * thread commits together when `fn` returns, or not at all when it throws
   * (the exception propagates). Other threads' writes wait until it ends.
   * A transact inside a transact joins the outer transaction as a savepoint:
   * its writes commit only with the outer one, and if it throws (and the
   * outer fn catches), only the inner writes are undone.
   */
  virtual void transact(const std::function<void()>& fn) = 0;
};

/** Options of the SQLite backend. */
struct SqliteOptions {
  std::string path;              ///< file name; required
  bool create = true;            ///< create the file if missing (default true)
  int busy_timeout_ms = 10000;   ///< wait this long for another process's lock (default 10 s)
};

/** The in-memory backend: for tests and simulations; nothing persists. */
std::unique_ptr<Store> make_memory_store();

/**
 * Opens (and creates, migrates) an SQLite database. Throws StorageError if the
 * file cannot be opened or was written by a newer schema than this library
 * knows; the file is left untouched in that case.
 */
std::unique_ptr<Store> make_sqlite_store(const SqliteOptions& options);

/**
 * Opens a backend by URI: `memory:` or `sqlite:PATH` (`sqlite:` followed by a
 * file path, e.g. `sqlite:gym.db`, `sqlite:/var/lib/gymdash/main.db`).
 * Throws InvalidArgumentError naming `uri` for an unknown scheme.
 */
std::unique_ptr<Store> open_store(std::string_view uri);

}  // namespace gymdash
