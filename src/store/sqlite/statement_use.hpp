// A borrowed prepared statement, reset when its use ends (every SQLite
// repository lends its cached statements out this way).
#pragma once

#include <SQLiteCpp/Statement.h>

namespace gymdash::sqlite_store {

/**
 * A cached statement lent out for one use. Giving it back resets it, whatever
 * happens: an unreset SELECT would keep its read transaction open and pin a
 * WAL snapshot. Movable, so that several can be held at once (a merge of
 * several index ranges keeps one cursor per range).
 */
class Use {
 public:
  explicit Use(SQLite::Statement& s) : s_(&s) {}
  Use(Use&& other) noexcept : s_(other.s_) { other.s_ = nullptr; }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  Use& operator=(Use&&) = delete;
  ~Use() {
    if (s_) s_->tryReset();
  }
  SQLite::Statement* operator->() const { return s_; }
  SQLite::Statement& operator*() const { return *s_; }

 private:
  SQLite::Statement* s_;
};

}  // namespace gymdash::sqlite_store
