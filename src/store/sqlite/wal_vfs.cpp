#include "store/sqlite/wal_vfs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace gymdash::sqlite_store {
namespace {

constexpr int kFrameHeaderBytes = 24;  // a WAL frame: this header, then one page
constexpr int kWalHeaderBytes = 32;    // the log's own header, before the first frame
constexpr int kMaxPageBytes = 65536;
// The largest single write: the unix VFS masks a write's length to 17 bits
// (0x1ffff, its seekAndWrite), so a larger one would be cut short.
constexpr std::size_t kMaxWriteBytes = 0x1ffff;
// Room for a full buffer plus one more frame of the largest page.
constexpr std::size_t kBufferCapacity = kWalBufferBytes + kFrameHeaderBytes + kMaxPageBytes;

// A log opened through this VFS. SQLite allocates vfs.szOsFile bytes for it
// and hands them to xOpen: this struct, then (at kRealOffset) the default
// VFS's own file. One connection uses it at a time (SQLite's rule for a file).
struct WalFile {
  sqlite3_file base;            // pMethods: kWalMethods
  sqlite3_file* real;           // the default VFS's file, inside the same allocation
  unsigned char* buffer;        // kBufferCapacity bytes, or nullptr: write through
  std::size_t used;             // bytes buffered
  sqlite3_int64 start;          // the file offset of buffer[0]
  sqlite3_int64 body_at;        // where the page of the buffered frame header goes, or -1
  bool commit;                  // the buffered frame header is a commit frame's
};

constexpr std::size_t kRealOffset = (sizeof(WalFile) + 7) & ~std::size_t{7};

sqlite3_vfs* real_vfs(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }
WalFile* wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }
const sqlite3_io_methods& real_methods(WalFile* w) { return *w->real->pMethods; }

// Writes what is buffered; the buffer is empty afterwards, written or not
// (a failed write fails the transaction that wrote those frames). In pieces
// of kMaxWriteBytes: the unix VFS writes no more than 17 bits' worth at once.
int flush(WalFile* w) {
  w->body_at = -1;
  const std::size_t size = w->used;
  w->used = 0;
  for (std::size_t done = 0; done < size;) {
    const std::size_t piece = std::min(size - done, kMaxWriteBytes);
    const int rc = real_methods(w).xWrite(w->real, w->buffer + done, static_cast<int>(piece),
                                          w->start + static_cast<sqlite3_int64>(done));
    if (rc != SQLITE_OK) return rc;
    done += piece;
  }
  return SQLITE_OK;
}

// Appends to the buffer; the caller has checked that it fits and follows on.
void append(WalFile* w, const void* data, int amount, sqlite3_int64 offset) {
  if (w->used == 0) w->start = offset;
  std::memcpy(w->buffer + w->used, data, static_cast<std::size_t>(amount));
  w->used += static_cast<std::size_t>(amount);
}

bool follows_on(const WalFile* w, sqlite3_int64 offset) {
  return w->used == 0 || offset == w->start + static_cast<sqlite3_int64>(w->used);
}

int wal_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* w = wal(f);
  if (w->buffer) {
    if (amount == kFrameHeaderBytes && offset >= kWalHeaderBytes) {
      // A frame header: buffered, its page expected next.
      if (w->body_at >= 0 || !follows_on(w, offset) ||
          w->used + kFrameHeaderBytes + kMaxPageBytes > kBufferCapacity) {
        if (int rc = flush(w); rc != SQLITE_OK) return rc;
      }
      append(w, data, amount, offset);
      const auto* bytes = static_cast<const unsigned char*>(data);
      // Bytes 4–7: the database size in pages after a commit, 0 in other frames.
      w->commit = (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
      w->body_at = offset + kFrameHeaderBytes;
      return SQLITE_OK;
    }
    if (w->body_at >= 0 && offset == w->body_at && amount > 0 && amount <= kMaxPageBytes && follows_on(w, offset)) {
      // The page of the buffered header: a commit frame ends the buffering.
      append(w, data, amount, offset);
      w->body_at = -1;
      if (w->commit || w->used >= kWalBufferBytes) return flush(w);
      return SQLITE_OK;
    }
  }
  // Anything else (the log's header, a rewrite of an earlier frame): after
  // what is buffered, as given.
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xWrite(w->real, data, amount, offset);
}

int wal_close(sqlite3_file* f) {
  WalFile* w = wal(f);
  const int flushed = flush(w);
  const int closed = real_methods(w).xClose(w->real);
  sqlite3_free(w->buffer);
  w->buffer = nullptr;
  return flushed != SQLITE_OK ? flushed : closed;
}

int wal_read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xRead(w->real, out, amount, offset);
}

int wal_truncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xTruncate(w->real, size);
}

int wal_sync(sqlite3_file* f, int flags) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xSync(w->real, flags);
}

int wal_file_size(sqlite3_file* f, sqlite3_int64* size) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xFileSize(w->real, size);
}

int wal_lock(sqlite3_file* f, int level) { return real_methods(wal(f)).xLock(wal(f)->real, level); }
int wal_unlock(sqlite3_file* f, int level) { return real_methods(wal(f)).xUnlock(wal(f)->real, level); }
int wal_check_reserved(sqlite3_file* f, int* out) {
  return real_methods(wal(f)).xCheckReservedLock(wal(f)->real, out);
}

int wal_file_control(sqlite3_file* f, int op, void* arg) {
  WalFile* w = wal(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xFileControl(w->real, op, arg);
}

int wal_sector_size(sqlite3_file* f) { return real_methods(wal(f)).xSectorSize(wal(f)->real); }
int wal_device_characteristics(sqlite3_file* f) {
  return real_methods(wal(f)).xDeviceCharacteristics(wal(f)->real);
}

// Version 1: SQLite maps shared memory and fetches pages through the
// database file only, never through its log.
const sqlite3_io_methods kWalMethods = {
    1,
    wal_close,
    wal_read,
    wal_write,
    wal_truncate,
    wal_sync,
    wal_file_size,
    wal_lock,
    wal_unlock,
    wal_check_reserved,
    wal_file_control,
    wal_sector_size,
    wal_device_characteristics,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

// Files other than logs are the default VFS's, in the memory SQLite gave us
// (szOsFile covers both layouts).
int vfs_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* real = real_vfs(vfs);
  if (!(flags & SQLITE_OPEN_WAL)) return real->xOpen(real, name, file, flags, out_flags);
  WalFile* w = wal(file);
  w->base.pMethods = nullptr;
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<unsigned char*>(file) + kRealOffset);
  w->real->pMethods = nullptr;
  w->buffer = nullptr;
  w->used = 0;
  w->start = 0;
  w->body_at = -1;
  w->commit = false;
  const int rc = real->xOpen(real, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    // SQLite closes what has methods; the real file's, if set, are closed here.
    if (w->real->pMethods) w->real->pMethods->xClose(w->real);
    return rc;
  }
  // Without the buffer the log is written through, as by the default VFS.
  w->buffer = static_cast<unsigned char*>(sqlite3_malloc64(kBufferCapacity));
  w->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

int vfs_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return real_vfs(vfs)->xDelete(real_vfs(vfs), name, sync_dir);
}
int vfs_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return real_vfs(vfs)->xAccess(real_vfs(vfs), name, flags, out);
}
int vfs_full_pathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  return real_vfs(vfs)->xFullPathname(real_vfs(vfs), name, size, out);
}
void* vfs_dl_open(sqlite3_vfs* vfs, const char* name) { return real_vfs(vfs)->xDlOpen(real_vfs(vfs), name); }
void vfs_dl_error(sqlite3_vfs* vfs, int size, char* out) { real_vfs(vfs)->xDlError(real_vfs(vfs), size, out); }
void (*vfs_dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return real_vfs(vfs)->xDlSym(real_vfs(vfs), handle, symbol);
}
void vfs_dl_close(sqlite3_vfs* vfs, void* handle) { real_vfs(vfs)->xDlClose(real_vfs(vfs), handle); }
int vfs_randomness(sqlite3_vfs* vfs, int size, char* out) {
  return real_vfs(vfs)->xRandomness(real_vfs(vfs), size, out);
}
int vfs_sleep(sqlite3_vfs* vfs, int micros) { return real_vfs(vfs)->xSleep(real_vfs(vfs), micros); }
int vfs_current_time(sqlite3_vfs* vfs, double* out) { return real_vfs(vfs)->xCurrentTime(real_vfs(vfs), out); }
int vfs_get_last_error(sqlite3_vfs* vfs, int size, char* out) {
  return real_vfs(vfs)->xGetLastError ? real_vfs(vfs)->xGetLastError(real_vfs(vfs), size, out) : 0;
}
int vfs_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return real_vfs(vfs)->xCurrentTimeInt64(real_vfs(vfs), out);
}
int vfs_set_system_call(sqlite3_vfs* vfs, const char* name, sqlite3_syscall_ptr call) {
  return real_vfs(vfs)->xSetSystemCall(real_vfs(vfs), name, call);
}
sqlite3_syscall_ptr vfs_get_system_call(sqlite3_vfs* vfs, const char* name) {
  return real_vfs(vfs)->xGetSystemCall(real_vfs(vfs), name);
}
const char* vfs_next_system_call(sqlite3_vfs* vfs, const char* name) {
  return real_vfs(vfs)->xNextSystemCall(real_vfs(vfs), name);
}

// The VFS of this copy of the library, registered while it is loaded. Its
// name carries the object's address: a process that loads two copies (the
// C++ library and the C ABI's, each with its own code) has two, and each
// copy's connections use its own, so unloading one leaves the other's
// connections working. Unregistered when the copy is unloaded (or at exit),
// so SQLite's list keeps no pointer into unloaded code.
struct Registration {
  sqlite3_vfs vfs{};
  char name[48] = {};
  bool registered = false;

  Registration() {
    sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
    if (!real || real->iVersion < 2) return;
    std::snprintf(name, sizeof name, "gymdash-wal-%p", static_cast<void*>(this));
    vfs.iVersion = real->iVersion >= 3 ? 3 : 2;
    vfs.szOsFile = static_cast<int>(kRealOffset) + real->szOsFile;
    vfs.mxPathname = real->mxPathname;
    vfs.pNext = nullptr;
    vfs.zName = name;
    vfs.pAppData = real;
    vfs.xOpen = vfs_open;
    vfs.xDelete = vfs_delete;
    vfs.xAccess = vfs_access;
    vfs.xFullPathname = vfs_full_pathname;
    vfs.xDlOpen = vfs_dl_open;
    vfs.xDlError = vfs_dl_error;
    vfs.xDlSym = vfs_dl_sym;
    vfs.xDlClose = vfs_dl_close;
    vfs.xRandomness = vfs_randomness;
    vfs.xSleep = vfs_sleep;
    vfs.xCurrentTime = vfs_current_time;
    vfs.xGetLastError = vfs_get_last_error;
    vfs.xCurrentTimeInt64 = real->xCurrentTimeInt64 ? vfs_current_time_int64 : nullptr;
    if (vfs.iVersion >= 3) {
      vfs.xSetSystemCall = real->xSetSystemCall ? vfs_set_system_call : nullptr;
      vfs.xGetSystemCall = real->xGetSystemCall ? vfs_get_system_call : nullptr;
      vfs.xNextSystemCall = real->xNextSystemCall ? vfs_next_system_call : nullptr;
    }
    registered = sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
  }
  ~Registration() {
    if (registered) sqlite3_vfs_unregister(&vfs);
  }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
};

}  // namespace

const char* coalescing_wal_vfs() {
  static Registration registration;
  return registration.registered ? registration.name : nullptr;
}

}  // namespace gymdash::sqlite_store
