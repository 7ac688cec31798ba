// Form and query decoding, header lookup and RFC 2822 dates for webhooks.
#include "webhook/webhook_text.hpp"

#include <gymdash/error.hpp>

#include <array>
#include <cctype>
#include <chrono>

namespace gymdash {

bool HeaderNameLess::operator()(std::string_view a, std::string_view b) const noexcept {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    const int ca = std::tolower(static_cast<unsigned char>(a[i]));
    const int cb = std::tolower(static_cast<unsigned char>(b[i]));
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

namespace webhook {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode(std::string_view s, std::string_view field) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      const int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) throw_invalid(field, "bad percent escape at byte " + std::to_string(i + 1));
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Params parse_form(std::string_view text, std::string_view field) {
  Params params;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos) amp = text.size();
    const std::string_view pair = text.substr(pos, amp - pos);
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos)
        params.emplace_back(decode(pair, field), std::string());
      else
        params.emplace_back(decode(pair.substr(0, eq), field), decode(pair.substr(eq + 1), field));
    }
    pos = amp + 1;
  }
  return params;
}

Params url_query(std::string_view url) {
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = url.substr(q + 1);
  if (const std::size_t hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  return parse_form(query, "url");
}

const std::string* param(const Params& params, std::string_view name) {
  for (const auto& [k, v] : params)
    if (k == name) return &v;
  return nullptr;
}

const std::string* header(const WebhookRequest& request, std::string_view name) {
  const auto it = request.headers.find(name);
  return it == request.headers.end() ? nullptr : &it->second;
}

std::optional<Timestamp> parse_rfc2822(std::string_view s) {
  using namespace std::chrono;
  std::size_t p = 0;
  auto skip_spaces = [&] {
    while (p < s.size() && s[p] == ' ') ++p;
  };
  auto number = [&](int min_digits, int max_digits, int& out) {
    int n = 0;
    out = 0;
    while (p < s.size() && n < max_digits && s[p] >= '0' && s[p] <= '9') {
      out = out * 10 + (s[p] - '0');
      ++p;
      ++n;
    }
    return n >= min_digits;
  };
  skip_spaces();
  // Optional day of week: "Mon,".
  if (const std::size_t comma = s.find(','); comma != std::string_view::npos && comma < 10) p = comma + 1;
  skip_spaces();
  int d, y, h, mi, sec = 0;
  if (!number(1, 2, d)) return std::nullopt;
  skip_spaces();
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (p + 3 > s.size()) return std::nullopt;
  unsigned mo = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i)
    if (s.substr(p, 3) == kMonths[i]) mo = i + 1;
  if (mo == 0) return std::nullopt;
  p += 3;
  skip_spaces();
  if (!number(4, 4, y)) return std::nullopt;
  skip_spaces();
  if (!number(2, 2, h) || p >= s.size() || s[p++] != ':' || !number(2, 2, mi)) return std::nullopt;
  if (p < s.size() && s[p] == ':') {
    ++p;
    if (!number(2, 2, sec)) return std::nullopt;
  }
  skip_spaces();
  int offset_min = 0;
  if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    const int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int hhmm;
    if (!number(4, 4, hhmm)) return std::nullopt;
    offset_min = sign * ((hhmm / 100) * 60 + hhmm % 100);
  } else if (s.substr(p, 3) == "GMT" || s.substr(p, 3) == "UTC") {
    p += 3;
  } else {
    return std::nullopt;
  }
  skip_spaces();
  if (p != s.size() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const year_month_day ymd{year{y}, month{mo}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return Timestamp{sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} - minutes{offset_min}};
}

}  // namespace webhook
}  // namespace gymdash
