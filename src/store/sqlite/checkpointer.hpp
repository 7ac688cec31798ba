// Moves SQLite's WAL checkpoints off the committing thread.
//
// SQLite's automatic checkpoint runs inside the commit that grows the WAL past
// 1,000 pages: that one commit then copies every page back into the database
// and syncs it, a pause of milliseconds in the middle of an API call. The
// Checkpointer takes over: the connection's WAL hook pokes a thread of its
// own, which checkpoints (PASSIVE: never blocking readers or writers) through
// a second connection.
//
// A passive checkpoint alone never lets the log start over under a steady
// stream of commits: its two syncs take milliseconds, during which more
// frames arrive, so the log is never wholly copied when a writer begins, and
// it grows by every commit (hundreds of MB in a minute of call events). So
// once the log passes kRestartPages the thread, having copied what it could
// without blocking anyone, holds the store's writers back for the rest — the
// frames committed during its passive pass, and two syncs — and restarts the
// log (SQLITE_CHECKPOINT_RESTART, never waiting: a reader of another
// connection still on the log makes it give up until the next poke). Should
// the thread fall behind anyway (the log over kInlinePages), or be unable to
// open its connection, the committing thread checkpoints as SQLite would have.
//
// During a bulk load (set_bulk_load) the log is let grow to kBulkRestartPages
// before it starts over: the thread still copies every page as it comes, but
// no longer holds the loading thread back for the frames of its last
// transaction and their syncs every 32 MB. When the load ends the thread
// copies what is left and truncates the log (SQLITE_CHECKPOINT_TRUNCATE).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace gymdash::sqlite_store {

/**
 * The checkpoint thread of one store connection. Owned by the store; not
 * copyable; its methods are called by the store's connection (the WAL hook)
 * and its own thread only.
 */
class Checkpointer {
 public:
  static constexpr int kPokePages = 1000;     ///< WAL size that wakes the thread (~4 MB)
  static constexpr int kPokeStepPages = 512;  ///< and then again every so many pages of log (~2 MB)
  static constexpr int kRestartPages = 8192;  ///< WAL size at which the thread makes the log start over (~32 MB)
  static constexpr int kInlinePages = 50000;  ///< WAL size at which a commit checkpoints itself (~200 MB)
  static constexpr int kBulkRestartPages = 262144;  ///< kRestartPages during a bulk load (~1 GB)
  static constexpr int kBulkInlinePages = 524288;   ///< kInlinePages during a bulk load (~2 GB)

  /**
   * Starts the thread and installs the WAL hook on `db` (the store's
   * connection). `writers` is the mutex every transaction of that connection
   * holds; the thread takes it to restart the log. Both outlive this object.
   */
  Checkpointer(sqlite3* db, std::string path, int busy_timeout_ms, std::recursive_mutex& writers);
  /**
   * Whether a commit that left the log at `pages` pages wakes the thread:
   * from kPokePages on, once every kPokeStepPages pages, counted from
   * `poked_at` (the log's size at the last wake, updated here), and again
   * after the log started over (a size below `poked_at`).
   */
  static bool poke_due(int pages, int& poked_at) noexcept;
  /**
   * Whether a bulk load runs on the store's connection (the log's larger
   * limits above). Ending one wakes the thread to copy the rest of the log
   * and truncate it. Thread-safe.
   */
  void set_bulk_load(bool on);
  /** How many times the thread has made the log start over (or truncated it). Thread-safe. */
  int restarts() const noexcept { return restarts_.load(std::memory_order_relaxed); }
  /** Stops the thread (after a last checkpoint) and removes the hook. */
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  static int on_commit(void* self, sqlite3* db, const char* name, int pages);
  void run();

  sqlite3* db_;
  std::string path_;
  int busy_timeout_ms_;
  std::recursive_mutex& writers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false;
  int poked_at_ = 0;  // the log's size at the last wake (poke_due)
  bool stop_ = false;
  bool bulk_ = false;      // set_bulk_load
  bool truncate_ = false;  // a bulk load ended: truncate the log at the next wake
  bool failed_ = false;  // the thread has no connection: commits checkpoint inline
  std::atomic<int> restarts_{0};
  std::thread thread_;
};

}  // namespace gymdash::sqlite_store
