// A borrowed prepared statement, reset when its use ends (the repositories
// split out of sqlite_store.cpp share it).
#pragma once

#include <SQLiteCpp/Statement.h>

namespace gymdash::sqlite_store {

/** Resets a borrowed statement when the use ends, whatever happens. */
class Use {
 public:
  explicit Use(SQLite::Statement& s) : s_(s) {}
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  ~Use() { s_.tryReset(); }
  SQLite::Statement* operator->() const { return &s_; }
  SQLite::Statement& operator*() const { return s_; }

 private:
  SQLite::Statement& s_;
};

}  // namespace gymdash::sqlite_store
