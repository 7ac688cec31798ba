// The SQLite VFS that writes a transaction's WAL frames in few large writes
// (src/store/sqlite/wal_vfs.hpp): what other connections and a reopened file
// see is what the default VFS would give them, and the writes are fewer.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "store/sqlite/wal_vfs.hpp"
#include "test_util.hpp"

using gymdash::sqlite_store::coalescing_wal_vfs;
using gymdash::test::TempPath;

namespace {

class Db {
 public:
  Db(const std::string& path, const char* vfs) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    INFO(sql << ": " << message);
    REQUIRE(rc == SQLITE_OK);
  }
  std::int64_t integer(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    const auto v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    std::string v(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
};

void wal_mode(Db& db) {
  CHECK(db.text("PRAGMA journal_mode = WAL") == "wal");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA wal_autocheckpoint = 0");
}

// Counts the write system calls of the default VFS (unix: pwrite, pwrite64
// or write, whichever this build of SQLite uses), while alive.
class WriteCounter {
 public:
  WriteCounter() : vfs_(sqlite3_vfs_find(nullptr)) {
    REQUIRE(vfs_ != nullptr);
    REQUIRE(vfs_->iVersion >= 3);
    for (int i = 0; i < 3; ++i) {
      saved_[i] = vfs_->xGetSystemCall(vfs_, kNames[i]);
      if (saved_[i]) originals()[i] = saved_[i];
    }
    if (saved_[0]) vfs_->xSetSystemCall(vfs_, kNames[0], reinterpret_cast<sqlite3_syscall_ptr>(&counted_pwrite));
    if (saved_[1]) vfs_->xSetSystemCall(vfs_, kNames[1], reinterpret_cast<sqlite3_syscall_ptr>(&counted_pwrite64));
    if (saved_[2]) vfs_->xSetSystemCall(vfs_, kNames[2], reinterpret_cast<sqlite3_syscall_ptr>(&counted_write));
    count() = 0;
  }
  ~WriteCounter() {
    for (int i = 0; i < 3; ++i)
      if (saved_[i]) vfs_->xSetSystemCall(vfs_, kNames[i], saved_[i]);
  }
  WriteCounter(const WriteCounter&) = delete;
  WriteCounter& operator=(const WriteCounter&) = delete;
  static std::atomic<long>& count() {
    static std::atomic<long> n{0};
    return n;
  }

 private:
  static constexpr const char* kNames[3] = {"pwrite", "pwrite64", "write"};
  static sqlite3_syscall_ptr* originals() {
    static sqlite3_syscall_ptr calls[3] = {nullptr, nullptr, nullptr};
    return calls;
  }
  static ssize_t counted_pwrite(int fd, const void* data, size_t n, off_t offset) {
    ++count();
    return reinterpret_cast<ssize_t (*)(int, const void*, size_t, off_t)>(originals()[0])(fd, data, n, offset);
  }
  static ssize_t counted_pwrite64(int fd, const void* data, size_t n, off_t offset) {
    ++count();
    return reinterpret_cast<ssize_t (*)(int, const void*, size_t, off_t)>(originals()[1])(fd, data, n, offset);
  }
  static ssize_t counted_write(int fd, const void* data, size_t n) {
    ++count();
    return reinterpret_cast<ssize_t (*)(int, const void*, size_t)>(originals()[2])(fd, data, n);
  }
  sqlite3_vfs* vfs_;
  sqlite3_syscall_ptr saved_[3] = {nullptr, nullptr, nullptr};
};

// A statement that makes rows 1..n of t (k, v): v a 400-character text.
std::string insert_rows(int from, int to) {
  return "WITH RECURSIVE s(x) AS (SELECT " + std::to_string(from) + " UNION ALL SELECT x + 1 FROM s WHERE x < " +
         std::to_string(to) + ") INSERT INTO t (k, v) SELECT x, printf('%0400d', x * 7919 % 100003) FROM s";
}

// Writes of one transaction that touches many pages (an indexed table of wide rows).
long writes_of_a_commit(const char* vfs) {
  TempPath path("wal-vfs-count");
  Db db(path.str(), vfs);
  wal_mode(db);
  db.exec("PRAGMA temp_store = MEMORY");  // only the log is written during the commit
  db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v)");
  db.exec(insert_rows(1, 2000));
  WriteCounter counter;
  db.exec("BEGIN; UPDATE t SET v = printf('%0400d', k * 31 % 100003) WHERE k % 50 = 0; COMMIT");
  return WriteCounter::count().load();
}

}  // namespace

TEST_CASE("the coalescing VFS is registered and is not the default") {
  const char* name = coalescing_wal_vfs();
  REQUIRE(name != nullptr);
  CHECK(std::string(name).rfind("gymdash-wal-", 0) == 0);
  CHECK(sqlite3_vfs_find(name) != nullptr);
  CHECK(sqlite3_vfs_find(nullptr) != sqlite3_vfs_find(name));
  CHECK(coalescing_wal_vfs() == name);  // registered once
}

TEST_CASE("a commit's frames go to the log in one write, not two a page") {
  const long plain = writes_of_a_commit(nullptr);
  const long coalesced = writes_of_a_commit(coalescing_wal_vfs());
  INFO("default VFS: " << plain << " writes; coalescing: " << coalesced);
  CHECK(plain >= 80);               // two a page, and the transaction dirties 40 pages and more
  CHECK(coalesced * 20 <= plain);  // 31 frames of 4 KiB pages a write
}

TEST_CASE("another connection sees every commit, small or larger than the buffer, and nothing else") {
  TempPath path("wal-vfs-readers");
  Db writer(path.str(), coalescing_wal_vfs());
  wal_mode(writer);
  writer.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v)");
  Db reader(path.str(), nullptr);  // the default VFS, as another program would
  std::int64_t rows = 0;
  std::int64_t total = 0;
  // Transactions of 1 row to 8,000 rows (over 3 MiB of frames: several buffers).
  for (int n : {1, 3, 40, 700, 8000, 2, 2500}) {
    writer.exec("BEGIN");
    writer.exec(insert_rows(static_cast<int>(rows) + 1, static_cast<int>(rows) + n));
    writer.exec("COMMIT");
    total += (rows + 1 + rows + n) * n / 2;
    rows += n;
    CHECK(reader.integer("SELECT count(*) FROM t") == rows);
    CHECK(reader.integer("SELECT sum(k) FROM t") == total);
    CHECK(reader.integer("SELECT count(*) FROM t INDEXED BY t_v WHERE v >= ''") == rows);
  }
  // Updates in place, then the other connection makes the log start over
  // (its checkpoint copies everything and truncates the log); writing goes on.
  writer.exec("UPDATE t SET v = printf('%0400d', k) WHERE k % 3 = 0");
  CHECK(reader.integer("SELECT count(*) FROM t WHERE v = printf('%0400d', k)") == rows / 3);
  reader.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  writer.exec(insert_rows(static_cast<int>(rows) + 1, static_cast<int>(rows) + 500));
  rows += 500;
  CHECK(reader.integer("SELECT count(*) FROM t") == rows);
  CHECK(reader.text("PRAGMA integrity_check") == "ok");
  CHECK(writer.text("PRAGMA integrity_check") == "ok");
}

TEST_CASE("a transaction that spills pages to the log reads them back, and its rollback leaves nothing") {
  TempPath path("wal-vfs-spill");
  Db writer(path.str(), coalescing_wal_vfs());
  wal_mode(writer);
  writer.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v)");
  writer.exec(insert_rows(1, 1000));
  // A cache of 10 pages: a transaction of thousands of pages writes most of
  // them to the log before its commit, and reads them from there.
  writer.exec("PRAGMA cache_size = 10");
  Db reader(path.str(), nullptr);
  writer.exec("BEGIN");
  writer.exec(insert_rows(1001, 6000));
  writer.exec("UPDATE t SET v = printf('%0400d', k + 1) WHERE k <= 1000");
  CHECK(writer.integer("SELECT count(*) FROM t") == 6000);
  CHECK(writer.integer("SELECT count(*) FROM t WHERE v = printf('%0400d', k + 1)") == 1000);
  CHECK(reader.integer("SELECT count(*) FROM t") == 1000);  // not committed
  writer.exec("ROLLBACK");
  CHECK(writer.integer("SELECT count(*) FROM t") == 1000);
  CHECK(writer.integer("SELECT count(*) FROM t WHERE v = printf('%0400d', k + 1)") == 0);
  // The same again, committed this time.
  writer.exec("BEGIN");
  writer.exec(insert_rows(1001, 6000));
  writer.exec("UPDATE t SET v = printf('%0400d', k + 1) WHERE k <= 1000");
  writer.exec("COMMIT");
  CHECK(reader.integer("SELECT count(*) FROM t") == 6000);
  CHECK(reader.integer("SELECT count(*) FROM t WHERE v = printf('%0400d', k + 1)") == 1000);
  CHECK(reader.text("PRAGMA integrity_check") == "ok");
}

TEST_CASE("a commit is in the file when the writing process ends without closing") {
  TempPath path("wal-vfs-exit");
  {
    Db db(path.str(), nullptr);
    wal_mode(db);
    db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
  }
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child commits through the coalescing VFS and ends at once: no
    // close, no checkpoint, no destructors.
    sqlite3* db = nullptr;
    int ok = sqlite3_open_v2(path.str().c_str(), &db, SQLITE_OPEN_READWRITE, coalescing_wal_vfs()) == SQLITE_OK;
    ok = ok && sqlite3_exec(db, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr) == SQLITE_OK;
    ok = ok && sqlite3_exec(db, insert_rows(1, 3000).c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
    ok = ok && sqlite3_exec(db, "INSERT INTO t VALUES (0, 'last')", nullptr, nullptr, nullptr) == SQLITE_OK;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  Db db(path.str(), nullptr);
  CHECK(db.integer("SELECT count(*) FROM t") == 3001);
  CHECK(db.text("SELECT v FROM t WHERE k = 0") == "last");
  CHECK(db.text("PRAGMA integrity_check") == "ok");
}
