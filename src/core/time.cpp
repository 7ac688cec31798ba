// Timestamps (ISO 8601) and time-ordered ids.
#include <gymdash/error.hpp>
#include <gymdash/model.hpp>

#include <fmt/format.h>

#include "core/day.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <random>

namespace gymdash {

using namespace std::chrono;

std::string format_timestamp(Timestamp t) {
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const auto ms = (t - day).count();
  const long long secs = ms / 1000;
  const int frac = static_cast<int>(ms % 1000);
  char buf[40];
  int n;
  if (frac != 0) {
    n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03dZ", int(ymd.year()),
                      unsigned(ymd.month()), unsigned(ymd.day()), secs / 3600, secs / 60 % 60, secs % 60, frac);
  } else {
    n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", int(ymd.year()),
                      unsigned(ymd.month()), unsigned(ymd.day()), secs / 3600, secs / 60 % 60, secs % 60);
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

namespace {

// Reads exactly `width` digits at `pos`.
bool digits(std::string_view s, std::size_t& pos, int width, int& out) {
  if (pos + width > s.size()) return false;
  int v = 0;
  for (int i = 0; i < width; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += width;
  out = v;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

std::optional<Timestamp> parse(std::string_view s) {
  std::size_t p = 0;
  int y, mo, d, h, mi, sec = 0, ms = 0;
  if (!digits(s, p, 4, y) || !expect(s, p, '-') || !digits(s, p, 2, mo) || !expect(s, p, '-') ||
      !digits(s, p, 2, d))
    return std::nullopt;
  if (!expect(s, p, 'T')) return std::nullopt;
  if (!digits(s, p, 2, h) || !expect(s, p, ':') || !digits(s, p, 2, mi)) return std::nullopt;
  if (expect(s, p, ':')) {
    if (!digits(s, p, 2, sec)) return std::nullopt;
    if (expect(s, p, '.') || expect(s, p, ',')) {
      int n = 0;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
        if (n < 3) ms = ms * 10 + (s[p] - '0');
        ++n;
        ++p;
      }
      if (n == 0) return std::nullopt;
      for (int i = n; i < 3; ++i) ms *= 10;
    }
  }
  if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  int offset_min = 0;
  if (expect(s, p, 'Z')) {
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    const int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh, om = 0;
    if (!digits(s, p, 2, oh)) return std::nullopt;
    if (expect(s, p, ':')) {
      if (!digits(s, p, 2, om)) return std::nullopt;
    } else if (p < s.size()) {
      if (!digits(s, p, 2, om)) return std::nullopt;
    }
    if (oh > 18 || om > 59) return std::nullopt;
    offset_min = sign * (oh * 60 + om);
  } else {
    return std::nullopt;  // a timestamp without a zone is ambiguous
  }
  if (p != s.size()) return std::nullopt;
  const auto local = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{ms};
  return Timestamp{local - minutes{offset_min}};
}

}  // namespace

std::optional<Timestamp> try_parse_timestamp(std::string_view text) noexcept { return parse(text); }

Timestamp parse_timestamp(std::string_view text, std::string_view field) {
  if (auto t = parse(text)) return *t;
  std::string shown(text.substr(0, 64));
  throw_invalid(field, "\"" + shown + "\" is not an ISO 8601 timestamp with Z or an offset (e.g. 2026-10-13T12:21:44Z)");
}

std::string make_id(std::string_view prefix) {
  static std::mutex mutex;
  static std::uint64_t last_ms = 0;
  static std::uint16_t rand_hi = 0;  // top 16 of the 80 random bits
  static std::uint64_t rand_lo = 0;  // low 64
  static std::mt19937_64 rng{std::random_device{}()};

  const auto now_ms = static_cast<std::uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  std::uint64_t ms;
  std::uint16_t hi;
  std::uint64_t lo;
  {
    std::lock_guard lock(mutex);
    if (now_ms > last_ms) {
      last_ms = now_ms;
      rand_hi = static_cast<std::uint16_t>(rng());
      rand_lo = rng() >> 1;  // leave room to count up within the millisecond
    } else {
      if (++rand_lo == 0) ++rand_hi;  // same (or earlier) millisecond: keep increasing
    }
    ms = last_ms;
    hi = rand_hi;
    lo = rand_lo;
  }
  // 128 bits = ms(48) | hi(16) | lo(64), written as 26 base32 digits (130 bits, top 2 zero),
  // five bits at a time from the low end.
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::uint64_t high = (ms << 16) | hi;
  std::uint64_t low = lo;
  std::string id(prefix);
  char out[26];
  for (int i = 25; i >= 0; --i) {
    out[i] = kAlphabet[low & 31];
    low = (low >> 5) | (high << 59);
    high >>= 5;
  }
  id.append(out, 26);
  return id;
}

std::string format_day(std::int32_t day) {
  const year_month_day ymd{sys_days{days{day}}};
  return fmt::format("{:04}-{:02}-{:02}", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
}

std::optional<std::int32_t> parse_day(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto number = [&](std::size_t from, std::size_t n) -> int {
    int v = 0;
    for (std::size_t i = from; i < from + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const int y = number(0, 4), m = number(5, 2), d = number(8, 2);
  if (y < 0 || m < 0 || d < 0) return std::nullopt;
  const year_month_day ymd{year{y}, month{unsigned(m)}, day{unsigned(d)}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<std::int32_t>(sys_days{ymd}.time_since_epoch().count());
}

}  // namespace gymdash
