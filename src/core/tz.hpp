// Time zones (Howard Hinnant's date/tz over the system's tz database).
#pragma once

#include <chrono>
#include <string_view>

namespace date {
class time_zone;
}

namespace gymdash::tz {

/**
 * The zone named `name`, looked up in the tz database once and then cached
 * (locate_zone searches). Throws InvalidArgumentError naming `field` for a
 * name the database does not know. Thread-safe.
 */
const date::time_zone* zone(std::string_view name, std::string_view field);

/**
 * Milliseconds since the epoch of zone `name`'s local calendar at instant
 * `utc_ms` (its UTC offset at that instant applied, daylight saving
 * included): floor by days for the local date, the rest is the time of day.
 */
std::chrono::milliseconds local_since_epoch(std::chrono::milliseconds utc_ms, std::string_view name,
                                            std::string_view field);

/** True if `name` is an IANA zone the tz database knows (`America/New_York`). */
bool is_known_zone(std::string_view name) noexcept;

}  // namespace gymdash::tz
