// Moves SQLite's WAL checkpoints off the committing thread.
//
// SQLite's automatic checkpoint runs inside the commit that grows the WAL past
// 1,000 pages: that one commit then copies every page back into the database
// and syncs it, a pause of milliseconds in the middle of an API call. The
// Checkpointer takes over: the connection's WAL hook pokes a thread of its
// own, which checkpoints (PASSIVE: never blocking readers or writers) through
// a second connection. Should the thread fall behind (the WAL over
// kInlinePages), or be unable to open its connection, the committing thread
// checkpoints as SQLite would have.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace gymdash::sqlite_store {

class Checkpointer {
 public:
  static constexpr int kPokePages = 1000;     ///< WAL size that wakes the thread
  static constexpr int kInlinePages = 50000;  ///< WAL size at which a commit checkpoints itself (~200 MB)

  /** Starts the thread and installs the WAL hook on `db` (the store's connection). */
  Checkpointer(sqlite3* db, std::string path, int busy_timeout_ms);
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
  std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false;
  bool stop_ = false;
  bool failed_ = false;  // the thread has no connection: commits checkpoint inline
  std::thread thread_;
};

}  // namespace gymdash::sqlite_store
