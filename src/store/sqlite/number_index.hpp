// The leads' numbers by gym, in memory, while a lead bulk load has dropped
// the unique index leads_gym_phone (SqliteStore::begin_bulk_load).
//
// A million random inserts into that index were about a seventh of the
// million-row import (docs/import.md, "The number index during a bulk
// load"); a hash table answers the same question — does this gym already
// have this number, and which lead holds it — in memory, and the index is
// built once, sorted, at the end of the load.
//
// Ownership and threads: owned by the SqliteStore that made it; not
// thread-safe — every call is made under the store's mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gymdash::sqlite_store {

class NumberIndex {
 public:
  /** Sized for about `expected` numbers without growing (it grows past them). */
  explicit NumberIndex(std::size_t expected = 0);

  /** The rowid of the lead of `gym_id` with number `phone`, if any. */
  std::optional<std::int64_t> find(std::string_view gym_id, std::string_view phone) const;
  /**
   * Asks the processor to load the slot of (gym_id, phone) into its cache:
   * for a caller about to find() many numbers, a few calls ahead (the table
   * is larger than the caches, and each find is otherwise a wait on memory).
   */
  void prefetch(std::string_view gym_id, std::string_view phone) const;
  /** Every gym's lead with `phone`, as (gym id, rowid), by gym id. */
  std::vector<std::pair<std::string, std::int64_t>> find_any_gym(std::string_view phone) const;
  /** Records the number of a lead (which must not be there yet). */
  void add(std::string_view gym_id, std::string_view phone, std::int64_t rowid);
  /** add() for filling the index from the table: not undone by undo_to(). */
  void load(std::string_view gym_id, std::string_view phone, std::int64_t rowid);
  /** Forgets the number of a lead; a no-op if it is not there. */
  void remove(std::string_view gym_id, std::string_view phone);
  std::size_t size() const { return size_ + others_.size(); }

  // Changes follow the store's transactions: mark() where a transaction or
  // savepoint starts, undo_to(mark) when it rolls back, forget() when the
  // outermost one commits.
  std::size_t mark() const { return undo_.size(); }
  void undo_to(std::size_t mark);
  void forget() { undo_.clear(); }

 private:
  // A number of at most 15 digits after '+' (E.164) without a leading zero
  // and a gym among the first 2^13 seen pack into one 64-bit key; anything
  // else (an odd stored number) goes to `others_` under its text.
  static constexpr int kPhoneBits = 50;  // 10^15 < 2^50
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  struct Slot {
    std::uint64_t key = kEmpty;
    std::int64_t rowid = 0;
  };
  struct Undo {
    bool added = false;  // undone by removing; else by adding back
    std::uint64_t key = kEmpty;  // kEmpty: `text` names the entry in others_
    std::int64_t rowid = 0;
    std::string text;
  };

  std::optional<std::uint64_t> key(std::string_view gym_id, std::string_view phone) const;
  std::uint64_t key_adding_gym(std::string_view gym_id, std::string_view phone);
  static std::string text_key(std::string_view gym_id, std::string_view phone);
  // Records the entry (add() and load()); its key, or kEmpty when it went to others_ under its text.
  std::uint64_t place(std::string_view gym_id, std::string_view phone, std::int64_t rowid);
  std::size_t slot_of(std::uint64_t key) const;
  Slot* find_slot(std::uint64_t key);
  const Slot* find_slot(std::uint64_t key) const;
  void put(std::uint64_t key, std::int64_t rowid);
  void erase(std::uint64_t key);
  void grow();

  std::vector<Slot> slots_;  // open addressing, linear probing, a power of two
  std::size_t size_ = 0;
  std::unordered_map<std::string, std::uint32_t> gym_numbers_;
  std::vector<std::string> gym_names_;
  std::unordered_map<std::string, std::int64_t> others_;
  std::vector<Undo> undo_;
};

}  // namespace gymdash::sqlite_store
