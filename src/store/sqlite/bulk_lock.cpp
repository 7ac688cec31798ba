#include "store/sqlite/bulk_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

namespace gymdash::sqlite_store {

BulkLock::Result BulkLock::try_lock(const std::string& database_path) {
  if (fd_ >= 0) return Result::Locked;
  const std::string path = database_path + "-bulkload";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Result::Unavailable;
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const bool held = errno == EWOULDBLOCK;
    ::close(fd);
    return held ? Result::Held : Result::Unavailable;
  }
  fd_ = fd;
  return Result::Locked;
}

void BulkLock::unlock() {
  if (fd_ < 0) return;
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace gymdash::sqlite_store
