// Helpers shared by the C++ tests.
#pragma once

#include <gymdash/store.hpp>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace gymdash::test {

/** A fresh path under the test temp directory; the file is removed at scope exit. */
class TempPath {
 public:
  explicit TempPath(const std::string& stem) {
    static std::atomic<int> counter{0};
    const char* base = std::getenv("GYMDASH_TEST_TMP");
    std::filesystem::path dir = base ? base : std::filesystem::temp_directory_path();
    std::filesystem::create_directories(dir);
    path_ = dir / (stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".db");
    cleanup();
  }
  ~TempPath() { cleanup(); }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  std::string str() const { return path_.string(); }

 private:
  void cleanup() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal", "-bulkload"})
      std::filesystem::remove(path_.string() + suffix, ec);
  }
  std::filesystem::path path_;
};

/**
 * A storage backend a test runs its cases on: the memory store, or an SQLite
 * file of its own (removed with the Backend). `uri()` is what a Config or the
 * C ABI takes; `open()` a Store for tests that work below the services.
 */
struct Backend {
  std::string name;
  std::unique_ptr<TempPath> file;  // null for the memory backend
  std::string uri() const { return file ? "sqlite:" + file->str() : "memory:"; }
  std::unique_ptr<Store> open() const {
    if (!file) return make_memory_store();
    SqliteOptions options;
    options.path = file->str();
    return make_sqlite_store(options);
  }
};

/** Every backend, each fresh; `stem` names the SQLite file. */
inline std::vector<Backend> backends(const std::string& stem) {
  std::vector<Backend> out;
  out.push_back(Backend{"memory", nullptr});
  out.push_back(Backend{"sqlite", std::make_unique<TempPath>(stem)});
  return out;
}

}  // namespace gymdash::test
