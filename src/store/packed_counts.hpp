// The packed form of the rollup rows that hold many named counts in one text
// column (rollup_call_hours, rollup_lead_days; SQLite migration v5, the same
// on PostgreSQL): `<length of name>:<name>=<count>;` per entry, names in byte
// order, no zero count. Shared by both backends; docs/analytics.md.
#pragma once

#include <gymdash/error.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace gymdash::packed_counts {

/** Reads a packed list one entry at a time. Holds a view: `text` must outlive it. */
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}
  /** The next entry, false at the end; throws StorageError on a malformed list. */
  bool next(std::string_view& name, std::int64_t& value) {
    if (i_ >= text_.size()) return false;
    const auto length = static_cast<std::size_t>(number(':'));
    if (length >= text_.size() - i_ || text_[i_ + length] != '=') malformed();
    name = text_.substr(i_, length);
    i_ += length + 1;  // the name and '='
    value = number(';');
    return true;
  }

 private:
  [[noreturn]] static void malformed() { throw StorageError("rollups: malformed counts in the database", "counts"); }

  std::int64_t number(char end) {
    const bool negative = i_ < text_.size() && text_[i_] == '-';
    if (negative) ++i_;
    const std::size_t first = i_;
    std::int64_t v = 0;
    while (i_ < text_.size() && text_[i_] >= '0' && text_[i_] <= '9') v = v * 10 + (text_[i_++] - '0');
    if (i_ == first || i_ >= text_.size() || text_[i_] != end) malformed();
    ++i_;  // the end character
    return negative ? -v : v;
  }

  std::string_view text_;
  std::size_t i_ = 0;
};

/** Calls fn(name, count) for each entry of a packed list; throws StorageError on a malformed one. */
template <class Fn>
void unpack(std::string_view text, Fn&& fn) {
  Reader reader(text);
  std::string_view name;
  std::int64_t n = 0;
  while (reader.next(name, n)) fn(name, n);
}

/** Appends one entry (the caller keeps the names in byte order). */
inline void put(std::string& out, std::string_view name, std::int64_t n) {
  out += std::to_string(name.size());
  out.push_back(':');
  out += name;
  out.push_back('=');
  out += std::to_string(n);
  out.push_back(';');
}

/** The packed form of `counts` (a std::map keeps its names in byte order); zero counts left out. */
inline std::string pack(const std::map<std::string, std::int64_t>& counts) {
  std::string out;
  for (const auto& [name, n] : counts)
    if (n != 0) put(out, name, n);
  return out;
}

/**
 * `stored` + `delta`, both packed lists, in the same form: one pass, as a
 * merge of two sorted lists; entries that reach zero dropped, so an empty
 * result means every count cancelled. A list out of order (or holding a
 * name twice) or malformed is a StorageError.
 */
inline std::string add(std::string_view stored, std::string_view delta) {
  std::string out;
  out.reserve(stored.size() + delta.size());
  Reader a(stored), b(delta);
  std::string_view an, bn;
  std::int64_t av = 0, bv = 0;
  bool has_a = a.next(an, av), has_b = b.next(bn, bv);
  std::string_view last;  // the last name met
  bool any = false;
  const auto emit = [&](std::string_view name, std::int64_t n) {
    if (any && name <= last) throw StorageError("rollups: counts out of order in the database", "counts");
    any = true;
    last = name;
    if (n != 0) put(out, name, n);
  };
  while (has_a || has_b) {
    const int order = !has_a ? 1 : !has_b ? -1 : an.compare(bn);
    if (order < 0) {
      emit(an, av);
      has_a = a.next(an, av);
    } else if (order > 0) {
      emit(bn, bv);
      has_b = b.next(bn, bv);
    } else {
      emit(an, av + bv);
      has_a = a.next(an, av);
      has_b = b.next(bn, bv);
    }
  }
  return out;
}

}  // namespace gymdash::packed_counts
