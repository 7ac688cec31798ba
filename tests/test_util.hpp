// Helpers shared by the C++ tests.
#pragma once

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

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
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      std::filesystem::remove(path_.string() + suffix, ec);
  }
  std::filesystem::path path_;
};

}  // namespace gymdash::test
