// Calendar days as numbers (days since 1970-01-01) and as `YYYY-MM-DD`:
// the form of dates in requests (campaign schedules, report periods) and of
// the analytics rollups' keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gymdash {

/** `YYYY-MM-DD` of a day number. */
std::string format_day(std::int32_t day);
/** The day number of `YYYY-MM-DD` (years 0000–9999), or nullopt for a malformed or impossible date. */
std::optional<std::int32_t> parse_day(std::string_view text);

}  // namespace gymdash
