// Phone numbers through libphonenumber, with a fast path for plain NANP
// (memoized) and United Kingdom numbers (see phone_fast.hpp for the contract).
#include <gymdash/error.hpp>
#include <gymdash/phone.hpp>

#include "core/phone_fast.hpp"
#include "core/text.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>

namespace gymdash {

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

const PhoneNumberUtil& util() {
  // GetInstance is a thread-safe singleton; its const methods are thread-safe.
  static const PhoneNumberUtil* instance = PhoneNumberUtil::GetInstance();
  return *instance;
}

// Both paths must word a rejection identically.
std::string invalid_for_region(std::string_view region) {
  return fmt::format("is not a valid number for region {}", region);
}

// libphonenumber's verdict on NANP national numbers, memoized per region and
// six-digit NPA-NXX prefix.
//
// A region is two upper-case letters, so 26 * 26 slots, each created on first
// use. A region whose calling code is not 1 needs no table: libphonenumber never
// finds a +1 number valid for it. A NANP region's table keeps two bits per
// prefix (unknown, valid, invalid): 250 KB, filled lazily with fetch_or. The
// verdict is a pure function of the prefix, so racing threads write the same
// bits and relaxed ordering is enough.
class VerdictCache {
 public:
  static constexpr std::uint32_t kValid = 1;
  static constexpr std::uint32_t kInvalid = 2;

  // Validity of +1 `national` (ten digits, the first 2..9) for `region`.
  bool is_valid(std::string_view region, std::string_view national) {
    const auto slot = static_cast<std::size_t>((region[0] - 'A') * 26 + (region[1] - 'A'));
    const Table* table = tables_[slot].load(std::memory_order_acquire);
    if (table == nullptr) table = create(slot, region);
    if (!table->nanp) return false;

    std::uint32_t prefix = 0;
    for (std::size_t i = 0; i < 6; ++i) prefix = prefix * 10 + static_cast<std::uint32_t>(national[i] - '0');
    auto& word = table->bits[prefix / 16];
    const auto shift = (prefix % 16) * 2;
    const auto known = (word.load(std::memory_order_relaxed) >> shift) & 3u;
    if (known != 0) return known == kValid;

    PhoneNumber number;
    number.set_country_code(1);
    std::uint64_t value = 0;
    for (char c : national) value = value * 10 + static_cast<std::uint64_t>(c - '0');
    number.set_national_number(value);
    const bool valid = util().IsValidNumberForRegion(number, std::string(region));
    word.fetch_or((valid ? kValid : kInvalid) << shift, std::memory_order_relaxed);
    return valid;
  }

 private:
  struct Table {
    bool nanp = false;
    std::unique_ptr<std::atomic<std::uint32_t>[]> bits;  // 1,000,000 prefixes, 16 a word
  };

  const Table* create(std::size_t slot, std::string_view region) {
    auto table = std::make_unique<Table>();
    table->nanp = util().GetCountryCodeForRegion(std::string(region)) == 1;
    if (table->nanp) table->bits = std::make_unique<std::atomic<std::uint32_t>[]>(1'000'000 / 16);  // zeroed
    const Table* expected = nullptr;
    if (tables_[slot].compare_exchange_strong(expected, table.get(), std::memory_order_acq_rel))
      return table.release();
    return expected;  // another thread won; ours is dropped
  }

  std::array<std::atomic<const Table*>, 26 * 26> tables_{};
};

VerdictCache& verdicts() {
  // Never destroyed: imports may still run on other threads during exit.
  static auto* cache = new VerdictCache;
  return *cache;
}

bool is_upper_region(std::string_view region) {
  return region.size() == 2 && region[0] >= 'A' && region[0] <= 'Z' && region[1] >= 'A' && region[1] <= 'Z';
}

}  // namespace

namespace phone_detail {

std::string normalize_reference(std::string_view raw, std::string_view region, std::string* error) {
  const auto trimmed = text::trim(raw);
  if (trimmed.empty()) {
    *error = "is empty";
    return {};
  }
  if (trimmed.size() > 64) {
    *error = "is too long to be a phone number";
    return {};
  }
  PhoneNumber number;
  const std::string region_str(region);
  const auto rc = util().Parse(std::string(trimmed), region_str, &number);
  if (rc != PhoneNumberUtil::NO_PARSING_ERROR) {
    *error = "is not a phone number";
    return {};
  }
  if (!util().IsValidNumberForRegion(number, region_str)) {
    *error = invalid_for_region(region);
    return {};
  }
  std::string out;
  util().Format(number, PhoneNumberUtil::E164, &out);
  return out;
}

namespace {

// libphonenumber's verdict on a United Kingdom national significant number
// of ten digits (the first not 0), and its E.164 form if valid.
FastResult gb_verdict(std::string_view nsn, std::string* e164) {
  PhoneNumber number;
  number.set_country_code(44);
  std::uint64_t value = 0;
  for (char c : nsn) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  number.set_national_number(value);
  if (!util().IsValidNumberForRegion(number, "GB")) return FastResult::Invalid;
  e164->assign("+44");
  e164->append(nsn);
  return FastResult::Valid;
}

}  // namespace

FastResult normalize_fast(std::string_view raw, std::string_view region, std::string* e164) {
  const auto s = text::trim(raw);
  if (s.empty() || s.size() > 64 || !is_upper_region(region)) return FastResult::NotHandled;

  const bool plus = s[0] == '+';
  char digits[14];
  std::size_t n = 0;
  for (std::size_t i = plus ? 1 : 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      if (n == sizeof digits) return FastResult::NotHandled;
      digits[n++] = c;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
      return FastResult::NotHandled;
    }
  }
  const std::string_view all(digits, n);

  std::string_view national;
  if (plus && s.size() > 1 && s[1] == '1') {
    if (n != 11) return FastResult::NotHandled;
    national = all.substr(1);
  } else if (region == "GB") {
    // "+44", "0044" (the international prefix) or "0" (the national
    // prefix) and ten digits not starting with 0: libphonenumber's parse
    // gives country code 44 and those ten digits (phone_fast.hpp).
    std::string_view nsn;
    if (plus) {
      if (s.size() > 2 && s[1] == '4' && s[2] == '4' && n == 12) nsn = all.substr(2);
    } else if (n == 14 && all.substr(0, 4) == "0044") {
      nsn = all.substr(4);
    } else if (n == 11 && all[0] == '0') {
      nsn = all.substr(1);
    }
    if (nsn.empty() || nsn[0] == '0') return FastResult::NotHandled;
    return gb_verdict(nsn, e164);
  } else if (plus) {
    return FastResult::NotHandled;
  } else {
    if (region != "US" && region != "CA") return FastResult::NotHandled;
    if (n == 10) {
      national = all;
    } else if (n == 11 && digits[0] == '1') {
      national = all.substr(1);
    } else {
      return FastResult::NotHandled;
    }
  }
  if (national[0] < '2') return FastResult::NotHandled;

  if (!verdicts().is_valid(region, national)) return FastResult::Invalid;
  e164->assign("+1");
  e164->append(national);
  return FastResult::Valid;
}

std::string normalize(std::string_view raw, std::string_view region, std::string* error) {
  std::string out;
  switch (normalize_fast(raw, region, &out)) {
    case FastResult::Valid:
      return out;
    case FastResult::Invalid:
      *error = invalid_for_region(region);
      return {};
    case FastResult::NotHandled:
      break;
  }
  return normalize_reference(raw, region, error);
}

}  // namespace phone_detail

std::string normalize_phone(std::string_view raw, std::string_view region, std::string_view field) {
  std::string error;
  auto out = phone_detail::normalize(raw, region, &error);
  if (out.empty()) {
    // Never echo the whole number: it is personal data.
    throw_invalid(field, fmt::format("\"{}\" {}", mask_phone(raw), error));
  }
  return out;
}

std::optional<std::string> try_normalize_phone(std::string_view raw, std::string_view region) noexcept {
  try {
    std::string error;
    auto out = phone_detail::normalize(raw, region, &error);
    if (out.empty()) return std::nullopt;
    return out;
  } catch (...) {
    return std::nullopt;
  }
}

bool is_known_phone_region(std::string_view region) noexcept {
  try {
    static const std::set<std::string, std::less<>> regions = [] {
      std::set<std::string> all;
      util().GetSupportedRegions(&all);
      return std::set<std::string, std::less<>>(all.begin(), all.end());
    }();
    return regions.find(region) != regions.end();
  } catch (...) {
    return false;
  }
}

std::string mask_phone(std::string_view phone) {
  std::string digits;
  for (char c : phone)
    if (c >= '0' && c <= '9') digits.push_back(c);
  if (digits.size() <= 4) return "***";
  return "***" + digits.substr(digits.size() - 4);
}

}  // namespace gymdash
