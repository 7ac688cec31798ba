// A thin SQLite VFS over the default one that writes a transaction's WAL
// frames in few large writes instead of two small ones per page.
//
// SQLite appends each page of a commit to the write-ahead log as a 24-byte
// frame header and then the page: two pwrite calls per page, about 40 for a
// call event's transaction, each a system call of 1.5–2 µs on a virtual
// machine. This VFS keeps the frames of a transaction in a buffer and writes
// them at once when the commit frame arrives (its header names the database
// size, which only a commit frame does), or sooner when the buffer reaches
// kWalBufferBytes. Every other operation on the log — a read, a sync, a
// truncate, its size, a write that does not append to the buffer, closing it —
// first writes what is buffered, so what any reader of the file sees is what
// SQLite wrote, in its order. The commit's frames are in the file before
// xWrite returns for the commit frame, so before SQLite publishes the commit
// in the WAL index: durability and what other connections see are those of
// the default VFS. Files other than logs are the default VFS's own.
#pragma once

#include <cstddef>

namespace gymdash::sqlite_store {

/** Bytes of frames a log buffers before writing them (1 MiB, written in pieces of 128 KiB). */
inline constexpr std::size_t kWalBufferBytes = std::size_t{1} << 20;

/**
 * The name of the coalescing VFS ("gymdash-wal-" and an address: one per
 * copy of the library in the process), registered (not as the default) on
 * the first call and unregistered when the library is unloaded; nullptr if
 * SQLite refused to register it (then connections use the default VFS).
 * Thread-safe.
 */
const char* coalescing_wal_vfs();

}  // namespace gymdash::sqlite_store
