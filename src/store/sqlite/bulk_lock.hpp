// The lock a bulk load holds while the indexes it dropped are missing
// (SqliteStore::begin_bulk_load … end_bulk_load): an advisory flock() on a
// file beside the database, `<database>-bulkload`, left empty in place.
//
// It tells whether the load that dropped indexes is still running: the
// kernel releases the lock when its process ends, however it ends. Opening
// the store builds the indexes a bulk load left only when nobody holds the
// lock (a crashed load), never under a running one; and a second bulk load
// does not start while one runs. flock() locks are apart from the POSIX
// record locks SQLite takes on the database file, and the file is never
// the database, so closing it cannot drop SQLite's locks.
//
// Ownership: owns its file descriptor. Not thread-safe: the store's mutex
// guards it.
#pragma once

#include <string>

namespace gymdash::sqlite_store {

class BulkLock {
 public:
  enum class Result {
    Locked,      // this object holds the lock now
    Held,        // another holder has it: a bulk load is running
    Unavailable  // the lock file cannot be made or locked (a read-only directory …)
  };

  BulkLock() = default;
  BulkLock(const BulkLock&) = delete;
  BulkLock& operator=(const BulkLock&) = delete;
  ~BulkLock() { unlock(); }

  /** Takes the lock of `database_path` without waiting (Locked if held by this object already). */
  Result try_lock(const std::string& database_path);
  bool locked() const { return fd_ >= 0; }
  void unlock();

 private:
  int fd_ = -1;
};

}  // namespace gymdash::sqlite_store
