#include "core/tz.hpp"

#include <gymdash/error.hpp>

#include <date/tz.h>
#include <fmt/format.h>

#include <map>
#include <mutex>
#include <string>

namespace gymdash::tz {

const date::time_zone* zone(std::string_view name, std::string_view field) {
  static std::mutex mutex;
  static std::map<std::string, const date::time_zone*, std::less<>> cache;
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(name); it != cache.end()) return it->second;
  }
  const date::time_zone* z = nullptr;
  try {
    z = date::locate_zone(std::string(name));
  } catch (...) {
    throw_invalid(field, fmt::format("\"{}\" is not an IANA time zone", name.substr(0, 64)));
  }
  std::lock_guard lock(mutex);
  cache.emplace(std::string(name), z);
  return z;
}

std::chrono::milliseconds local_since_epoch(std::chrono::milliseconds utc_ms, std::string_view name,
                                            std::string_view field) {
  const auto info = zone(name, field)->get_info(date::sys_seconds{std::chrono::floor<std::chrono::seconds>(utc_ms)});
  return utc_ms + std::chrono::duration_cast<std::chrono::milliseconds>(info.offset);
}

bool is_known_zone(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  try {
    return date::locate_zone(std::string(name)) != nullptr;
  } catch (...) {
    return false;
  }
}

}  // namespace gymdash::tz
