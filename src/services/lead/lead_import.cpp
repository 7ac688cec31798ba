#include "services/lead/lead_import.hpp"

#include <gymdash/phone.hpp>

#include "core/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace gymdash::lead_import {

Columns Columns::from(const csv::Header& h) {
  Columns c;
  c.external_id = h.index("external_id");
  c.gym_id = h.index("gym_id");
  c.first_name = h.index("first_name");
  c.last_name = h.index("last_name");
  c.phone = h.index("phone");
  c.email = h.index("email");
  c.source = h.index("source");
  c.created_at = h.index("created_at");
  c.interest = h.index("interest");
  c.timeline = h.index("timeline");
  c.consent = h.index("consent");
  c.tags = h.index("tags");
  c.count = h.size();
  return c;
}

namespace {

constexpr std::size_t kNameLimit = 200;
constexpr std::size_t kEmailLimit = 320;
constexpr std::size_t kOtherLimit = 10000;
constexpr std::size_t kTagLimit = 100;
constexpr std::size_t kTagCount = 100;

std::string_view at(std::span<const std::string_view> f, const std::optional<std::size_t>& i) {
  return i ? text::trim(f[*i]) : std::string_view{};
}

const char* column_name(const Columns& c, std::size_t i) {
  if (c.external_id == i) return "external_id";
  if (c.gym_id == i) return "gym_id";
  if (c.first_name == i) return "first_name";
  if (c.last_name == i) return "last_name";
  if (c.phone == i) return "phone";
  if (c.email == i) return "email";
  if (c.source == i) return "source";
  if (c.created_at == i) return "created_at";
  if (c.interest == i) return "interest";
  if (c.timeline == i) return "timeline";
  if (c.consent == i) return "consent";
  if (c.tags == i) return "tags";
  return "";
}

std::size_t limit_of(const Columns& c, std::size_t i) {
  if (c.first_name == i || c.last_name == i) return kNameLimit;
  if (c.email == i) return kEmailLimit;
  return kOtherLimit;
}

Reject reject(std::int64_t line, const char* reason, std::string detail) { return Reject{line, reason, std::move(detail)}; }

}  // namespace

Parsed parse_row(std::span<const std::string_view> fields, std::int64_t line, const Columns& c,
                 const std::map<std::string, std::string, std::less<>>& gym_regions, Timestamp now,
                 const std::string& source) {
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (!text::is_valid_utf8(fields[i]))
      return reject(line, "bad_encoding", fmt::format("column {} is not valid UTF-8", i + 1));
  if (fields.size() != c.count)
    return reject(line, "bad_format", fmt::format("{} fields where the header has {}", fields.size(), c.count));
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto n = text::code_points(text::trim(fields[i]));
    const auto limit = limit_of(c, i);
    if (n > limit) {
      const char* name = column_name(c, i);
      return reject(line, "too_long",
                    fmt::format("{}: {} characters; the limit is {}", *name ? name : "column", n, limit));
    }
  }
  std::vector<std::string> tags;
  if (c.tags) {
    std::string_view rest = at(fields, c.tags);
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      auto tag = text::trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      if (tag.empty()) continue;
      if (text::code_points(tag) > kTagLimit)
        return reject(line, "too_long", fmt::format("tags: a tag is over {} characters", kTagLimit));
      tags.push_back(text::ascii_lower(tag));
    }
    std::sort(tags.begin(), tags.end());
    tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
    if (tags.size() > kTagCount) return reject(line, "too_long", fmt::format("tags: more than {} tags", kTagCount));
  }
  const auto gym_id = at(fields, c.gym_id);
  const auto gym = gym_regions.find(gym_id);
  if (gym_id.empty() || gym == gym_regions.end())
    return reject(line, "unknown_gym", gym_id.empty() ? "gym_id: empty" : "gym_id: not a known gym");
  const auto raw_phone = at(fields, c.phone);
  auto e164 = try_normalize_phone(raw_phone, gym->second);
  if (!e164)
    return reject(line, "bad_phone",
                  raw_phone.empty() ? std::string("phone: empty")
                                    : fmt::format("phone: \"{}\" is not a valid number for region {}",
                                                  mask_phone(raw_phone), gym->second));
  Timestamp created = now;
  if (c.created_at) {
    auto t = try_parse_timestamp(at(fields, c.created_at));
    if (!t) return reject(line, "bad_created_at", "created_at: not an ISO 8601 timestamp with Z or an offset");
    created = *t;
  }

  Row row;
  row.line = line;
  row.gym_id = std::string(gym_id);
  auto& in = row.input;
  in.phone = std::move(*e164);
  in.external_id = std::string(at(fields, c.external_id));
  in.first_name = std::string(at(fields, c.first_name));
  in.last_name = std::string(at(fields, c.last_name));
  in.email = std::string(at(fields, c.email));
  in.source = std::string(at(fields, c.source));
  in.interest = std::string(at(fields, c.interest));
  in.timeline = std::string(at(fields, c.timeline));
  in.tags = std::move(tags);
  in.created_at = created;
  in.actor = "import";
  if (c.consent) {
    const auto v = text::ascii_lower(at(fields, c.consent));
    if (v == "yes" || v == "y" || v == "true" || v == "1") in.consent = Consent{true, created, "import", source};
    else if (v == "no" || v == "n" || v == "false" || v == "0") in.consent = Consent{false, created, "import", source};
  }
  return row;
}

}  // namespace gymdash::lead_import
