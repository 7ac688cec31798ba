#include "store/sqlite/checkpointer.hpp"

#include <sqlite3.h>

#include <utility>

namespace gymdash::sqlite_store {

Checkpointer::Checkpointer(sqlite3* db, std::string path, int busy_timeout_ms, std::recursive_mutex& writers)
    : db_(db), path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms), writers_(writers) {
  thread_ = std::thread([this] { run(); });
  sqlite3_wal_hook(db_, &Checkpointer::on_commit, this);
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(db_, nullptr, nullptr);
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

// Not every commit: a wake for each one (a call event's ~20 pages) had the
// thread copy a few pages and sync twice every few events, and the
// committing thread paid for it — the wake, the interrupts of those syncs,
// a core shared with the copy. One call event through the C ABI: wall p50
// 220–234 µs, p99 507–568 µs waking it at every commit; 189–192 µs and
// 405–416 µs once every 512 pages (docs/calls.md).
bool Checkpointer::poke_due(int pages, int& poked_at) noexcept {
  if (pages < kPokePages) return false;
  if (pages >= poked_at && pages < poked_at + kPokeStepPages) return false;
  poked_at = pages;
  return true;
}

void Checkpointer::set_bulk_load(bool on) {
  {
    std::lock_guard lock(mutex_);
    if (bulk_ == on) return;
    bulk_ = on;
    if (on) return;
    truncate_ = true;
    due_ = true;
  }
  wake_.notify_one();
}

int Checkpointer::on_commit(void* self, sqlite3* db, const char* name, int pages) {
  auto* c = static_cast<Checkpointer*>(self);
  if (pages < kPokePages) return SQLITE_OK;
  bool inline_checkpoint = false;
  {
    std::lock_guard lock(c->mutex_);
    inline_checkpoint = c->failed_ || pages >= (c->bulk_ ? kBulkInlinePages : kInlinePages);
    if (!inline_checkpoint && !poke_due(pages, c->poked_at_)) return SQLITE_OK;
    c->due_ = true;
  }
  if (inline_checkpoint) {
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  c->wake_.notify_one();
  return SQLITE_OK;
}

void Checkpointer::run() {
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    sqlite3_close(conn);
    std::lock_guard lock(mutex_);
    failed_ = true;
    return;
  }
  sqlite3_busy_timeout(conn, busy_timeout_ms_);
  // A connection learns that the database is in WAL mode when it first reads
  // it; until then a checkpoint through it does nothing.
  sqlite3_exec(conn, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return due_ || stop_; });
    const bool stopping = stop_;
    const int restart_pages = bulk_ ? kBulkRestartPages : kRestartPages;
    const bool truncate = std::exchange(truncate_, false);
    due_ = false;
    lock.unlock();
    // Errors (SQLITE_BUSY while another checkpoint runs …) only mean the next poke tries again.
    int log_frames = 0;
    const int rc = sqlite3_wal_checkpoint_v2(conn, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, nullptr);
    if (rc == SQLITE_OK && (log_frames >= restart_pages || (truncate && log_frames > 0))) {
      // The passive pass copied what it could; what is left is the frames
      // committed meanwhile. Without waiting on anyone (busy timeout 0): the
      // store's own writers are held back by their mutex, another process's
      // writer or a reader still on the log makes this give up until later.
      std::lock_guard writers(writers_);
      sqlite3_busy_timeout(conn, 0);
      if (sqlite3_wal_checkpoint_v2(conn, nullptr, truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_RESTART,
                                    nullptr, nullptr) == SQLITE_OK)
        restarts_.fetch_add(1, std::memory_order_relaxed);
      sqlite3_busy_timeout(conn, busy_timeout_ms_);
    }
    lock.lock();
    if (stopping) break;
  }
  lock.unlock();
  sqlite3_close(conn);
}

}  // namespace gymdash::sqlite_store
