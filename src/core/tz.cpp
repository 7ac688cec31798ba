#include "core/tz.hpp"

#include <date/tz.h>

#include <string>

namespace gymdash::tz {

bool is_known_zone(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  try {
    return date::locate_zone(std::string(name)) != nullptr;
  } catch (...) {
    return false;
  }
}

}  // namespace gymdash::tz
