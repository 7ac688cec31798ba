#include "store/sqlite/number_index.hpp"

#include <algorithm>

namespace gymdash::sqlite_store {
namespace {

constexpr std::uint32_t kMaxPackedGyms = 1u << 13;  // 64 - 1 - kPhoneBits bits of gym number

// The digits of an E.164 number as one integer, or nothing for any other text.
std::optional<std::uint64_t> e164_value(std::string_view phone) {
  if (phone.size() < 2 || phone.size() > 16 || phone[0] != '+' || phone[1] == '0') return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 1; i < phone.size(); ++i) {
    const char c = phone[i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

NumberIndex::NumberIndex(std::size_t expected) {
  // At most half full (put()); growing doubles the table, and for a moment
  // holds both: sized up front, a million-row import never grows it. Up
  // front at most 2^21 slots (32 MiB), whatever the estimate says.
  std::size_t slots = std::size_t{1} << 16;
  while (slots < expected * 2 && slots < (std::size_t{1} << 21)) slots *= 2;
  slots_.resize(slots);
}

std::string NumberIndex::text_key(std::string_view gym_id, std::string_view phone) {
  std::string k(gym_id);
  k.push_back('\0');
  k += phone;
  return k;
}

std::optional<std::uint64_t> NumberIndex::key(std::string_view gym_id, std::string_view phone) const {
  const auto value = e164_value(phone);
  if (!value) return std::nullopt;
  const auto gym = gym_numbers_.find(std::string(gym_id));
  if (gym == gym_numbers_.end() || gym->second >= kMaxPackedGyms) return std::nullopt;
  return (static_cast<std::uint64_t>(gym->second) << kPhoneBits) | *value;
}

std::uint64_t NumberIndex::key_adding_gym(std::string_view gym_id, std::string_view phone) {
  const auto value = e164_value(phone);
  auto gym = gym_numbers_.find(std::string(gym_id));
  if (gym == gym_numbers_.end()) {
    gym = gym_numbers_.emplace(std::string(gym_id), static_cast<std::uint32_t>(gym_names_.size())).first;
    gym_names_.emplace_back(gym_id);
  }
  if (!value || gym->second >= kMaxPackedGyms) return kEmpty;
  return (static_cast<std::uint64_t>(gym->second) << kPhoneBits) | *value;
}

std::size_t NumberIndex::slot_of(std::uint64_t key) const {
  // Fibonacci hashing: the top bits of the product, as many as the table needs.
  const auto bits = static_cast<unsigned>(__builtin_ctzll(slots_.size()));
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

const NumberIndex::Slot* NumberIndex::find_slot(std::uint64_t key) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = slot_of(key);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.key == key) return &s;
    if (s.key == kEmpty) return nullptr;
  }
}

NumberIndex::Slot* NumberIndex::find_slot(std::uint64_t key) {
  return const_cast<Slot*>(static_cast<const NumberIndex*>(this)->find_slot(key));
}

void NumberIndex::put(std::uint64_t key, std::int64_t rowid) {
  if ((size_ + 1) * 2 > slots_.size()) grow();  // at most half full: short probes
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = slot_of(key);; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.key == kEmpty) {
      s.key = key;
      s.rowid = rowid;
      ++size_;
      return;
    }
    if (s.key == key) {
      s.rowid = rowid;
      return;
    }
  }
}

// Linear probing without tombstones: the entries after the hole that would
// not be found across it move back into it.
void NumberIndex::erase(std::uint64_t key) {
  Slot* found = find_slot(key);
  if (!found) return;
  const std::size_t mask = slots_.size() - 1;
  auto hole = static_cast<std::size_t>(found - slots_.data());
  for (std::size_t i = (hole + 1) & mask; slots_[i].key != kEmpty; i = (i + 1) & mask) {
    const std::size_t home = slot_of(slots_[i].key);
    // Moves back if its home is not cyclically within (hole, i].
    const bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
    if (stays) continue;
    slots_[hole] = slots_[i];
    hole = i;
  }
  slots_[hole] = Slot{};
  --size_;
}

void NumberIndex::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  size_ = 0;
  for (const Slot& s : old)
    if (s.key != kEmpty) put(s.key, s.rowid);
}

std::optional<std::int64_t> NumberIndex::find(std::string_view gym_id, std::string_view phone) const {
  if (const auto k = key(gym_id, phone)) {
    const Slot* s = find_slot(*k);
    if (!s) return std::nullopt;
    return s->rowid;
  }
  const auto it = others_.find(text_key(gym_id, phone));
  if (it == others_.end()) return std::nullopt;
  return it->second;
}

void NumberIndex::prefetch(std::string_view gym_id, std::string_view phone) const {
  if (const auto k = key(gym_id, phone)) __builtin_prefetch(&slots_[slot_of(*k)]);
}

std::vector<std::pair<std::string, std::int64_t>> NumberIndex::find_any_gym(std::string_view phone) const {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& gym : gym_names_)
    if (const auto rowid = find(gym, phone)) out.emplace_back(gym, *rowid);
  std::sort(out.begin(), out.end());
  return out;
}

void NumberIndex::add(std::string_view gym_id, std::string_view phone, std::int64_t rowid) {
  Undo u;
  u.added = true;
  u.key = place(gym_id, phone, rowid);
  u.rowid = rowid;
  if (u.key == kEmpty) u.text = text_key(gym_id, phone);
  undo_.push_back(std::move(u));
}

void NumberIndex::load(std::string_view gym_id, std::string_view phone, std::int64_t rowid) {
  place(gym_id, phone, rowid);
}

std::uint64_t NumberIndex::place(std::string_view gym_id, std::string_view phone, std::int64_t rowid) {
  const std::uint64_t k = key_adding_gym(gym_id, phone);
  if (k == kEmpty)
    others_.insert_or_assign(text_key(gym_id, phone), rowid);
  else
    put(k, rowid);
  return k;
}

void NumberIndex::remove(std::string_view gym_id, std::string_view phone) {
  Undo u;
  if (const auto k = key(gym_id, phone)) {
    const Slot* s = find_slot(*k);
    if (!s) return;
    u.key = *k;
    u.rowid = s->rowid;
    erase(*k);
  } else {
    auto it = others_.find(text_key(gym_id, phone));
    if (it == others_.end()) return;
    u.text = it->first;
    u.rowid = it->second;
    others_.erase(it);
  }
  undo_.push_back(std::move(u));
}

void NumberIndex::undo_to(std::size_t mark) {
  while (undo_.size() > mark) {
    const Undo& u = undo_.back();
    if (u.key != kEmpty) {
      if (u.added)
        erase(u.key);
      else
        put(u.key, u.rowid);
    } else {
      if (u.added)
        others_.erase(u.text);
      else
        others_.insert_or_assign(u.text, u.rowid);
    }
    undo_.pop_back();
  }
}

}  // namespace gymdash::sqlite_store
