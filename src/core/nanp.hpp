// North American Numbering Plan area codes: where each geographic NPA of the
// US (with its territories) and Canada is assigned, and its time zone.
//
// The calling-window rules need a lead's local time; when a lead has no zone of
// its own, the area code of its number gives one. Source, rules and limits:
// docs/nanp.md.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace gymdash::nanp {

/** Where an area code is assigned. The views point to static storage. */
struct AreaInfo {
  /** US state, "DC", or Canadian province/territory, two letters ("NY", "ON"); for a US territory, its code ("PR"). */
  std::string_view state;
  /** IANA zone covering most of the area code's population ("America/New_York"). */
  std::string_view timezone;
  /** ISO 3166 region of the number, as libphonenumber names it: "US", "CA", "PR", "VI", "GU", "MP", "AS". */
  std::string_view country;
};

/**
 * The assignment of area code `npa` (200..999), or nullopt for a code that is
 * not a geographic code in service in the US or Canada: toll-free (8xx),
 * personal (5xx), non-geographic (600, 700, 900 …), unassigned, or another NANP
 * country's (Caribbean). Then the caller falls back to the gym's zone.
 * Thread-safe, no allocation.
 */
std::optional<AreaInfo> lookup(int npa) noexcept;

/** lookup() for an E.164 NANP number, "+1" followed by exactly ten digits; nullopt for anything else. */
std::optional<AreaInfo> lookup_e164(std::string_view e164) noexcept;

/** One row of the table. */
struct Entry {
  int npa;
  AreaInfo info;
};

/** The whole table, sorted by area code, each code once (for tests and reports). */
std::span<const Entry> entries() noexcept;

}  // namespace gymdash::nanp
