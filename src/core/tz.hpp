// Time zones (Howard Hinnant's date/tz over the system's tz database).
#pragma once

#include <string_view>

namespace gymdash::tz {

/** True if `name` is an IANA zone the tz database knows (`America/New_York`). */
bool is_known_zone(std::string_view name) noexcept;

}  // namespace gymdash::tz
