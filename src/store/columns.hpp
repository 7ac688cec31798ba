// How the SQL backends write values that are not plain numbers or text: the
// stored names of enums and the JSON of list-valued columns. The stored forms
// are the database format of both the SQLite and the PostgreSQL backend (the
// same as sqlite_store.cpp writes), so they must never change.
#pragma once

#include <fmt/format.h>

#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <map>
#include <string>
#include <string_view>
#include <vector>

// The columns of `leads`, in the order both backends bind and read them
// (sqlite/lead_row.hpp, postgres_leads.cpp). A column added by a later
// migration is appended here and in each backend's read and write.
#define GYMDASH_LEAD_COLUMNS                                                                \
  "id, gym_id, external_id, phone, first_name, last_name, email, source, interest, "        \
  "timeline, notes, tags, consent_given, consent_at, consent_method, consent_source, "      \
  "do_not_call, phone_invalid, status, qualification, qualification_manual, score, "        \
  "attempts, last_call_at, next_call_at, timezone, custom_fields, created_at, updated_at, " \
  "version, callback_at, blocked_until, recent_calls, last_outcome, sentiment, connects, "   \
  "active_call_id, local_zone, local_state, dnc_listed, base_status, base_status_at"

// The columns of `calls`, in the order both backends bind and read them, and
// the upsert both write a call with (every column but the id replaced).
#define GYMDASH_CALL_COLUMNS                                                                        \
  "id, provider_call_id, gym_id, lead_id, direction, to_number, from_number, status, answered_by, " \
  "started_at, ended_at, duration_s, outcome, callback_at, sentiment, summary, transcript, "        \
  "recording_url, cost_usd, campaign_id, created_at, updated_at, provider, end_reason, "          \
  "recording_duration_s, recording_channels, recording_consent, purged_at"
#define GYMDASH_CALL_UPSERT                                                                               \
  "ON CONFLICT (id) DO UPDATE SET provider_call_id = excluded.provider_call_id, gym_id = excluded.gym_id, "    \
  "lead_id = excluded.lead_id, direction = excluded.direction, to_number = excluded.to_number, "               \
  "from_number = excluded.from_number, status = excluded.status, answered_by = excluded.answered_by, "          \
  "started_at = excluded.started_at, ended_at = excluded.ended_at, duration_s = excluded.duration_s, "          \
  "outcome = excluded.outcome, callback_at = excluded.callback_at, sentiment = excluded.sentiment, "            \
  "summary = excluded.summary, transcript = excluded.transcript, recording_url = excluded.recording_url, "      \
  "cost_usd = excluded.cost_usd, campaign_id = excluded.campaign_id, created_at = excluded.created_at, "        \
  "updated_at = excluded.updated_at, provider = excluded.provider, end_reason = excluded.end_reason, "          \
  "recording_duration_s = excluded.recording_duration_s, recording_channels = excluded.recording_channels, "    \
  "recording_consent = excluded.recording_consent, purged_at = excluded.purged_at"

namespace gymdash::store_columns {

inline std::int64_t to_millis(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp from_millis(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }

inline constexpr std::array<std::string_view, 6> kStatusNames{"new",          "contacted", "qualified",
                                                              "trial_booked", "converted", "lost"};
inline constexpr std::array<std::string_view, 3> kQualificationNames{"hot", "neutral", "cold"};

/** The stored name, or empty for a value outside the enum (a filter on it then matches nothing). */
inline std::string_view status_name(LeadStatus s) {
  auto i = static_cast<std::size_t>(s);
  return i < kStatusNames.size() ? kStatusNames[i] : std::string_view{};
}
inline std::string_view qualification_name(Qualification q) {
  auto i = static_cast<std::size_t>(q);
  return i < kQualificationNames.size() ? kQualificationNames[i] : std::string_view{};
}

template <class Enum, std::size_t N>
Enum parse_stored(const std::array<std::string_view, N>& names, std::string_view text, std::string_view owner,
                  std::string_view column) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == text) return static_cast<Enum>(i);
  throw StorageError(fmt::format("{}: {}: unknown value \"{}\" in the database", owner, column, text),
                     std::string(column));
}

[[noreturn]] inline void corrupt(std::string_view owner, std::string_view column) {
  throw StorageError(fmt::format("{}: {}: malformed JSON in the database", owner, column), std::string(column));
}

inline boost::json::value parse_column(std::string_view text, std::string_view owner, std::string_view column) {
  boost::json::parse_options options;
  options.allow_invalid_utf8 = true;  // stored byte for byte
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec, {}, options);
  if (ec) corrupt(owner, column);
  return value;
}

inline std::string encode_strings(const std::vector<std::string>& values) {
  if (values.empty()) return "[]";
  boost::json::array array;
  array.reserve(values.size());
  for (const auto& v : values) array.emplace_back(boost::json::string_view(v));
  return boost::json::serialize(array);
}

inline std::vector<std::string> decode_strings(std::string_view text, std::string_view owner,
                                               std::string_view column) {
  if (text == "[]") return {};
  auto value = parse_column(text, owner, column);
  if (!value.is_array()) corrupt(owner, column);
  std::vector<std::string> out;
  out.reserve(value.get_array().size());
  for (const auto& item : value.get_array()) {
    if (!item.is_string()) corrupt(owner, column);
    out.emplace_back(item.get_string());
  }
  return out;
}

inline std::string encode_fields(const std::map<std::string, std::string>& fields) {
  if (fields.empty()) return "{}";
  boost::json::object object;
  object.reserve(fields.size());
  for (const auto& [k, v] : fields) object.emplace(k, boost::json::string_view(v));
  return boost::json::serialize(object);
}

inline std::map<std::string, std::string> decode_fields(std::string_view text, std::string_view owner,
                                                        std::string_view column) {
  if (text == "{}") return {};
  auto value = parse_column(text, owner, column);
  if (!value.is_object()) corrupt(owner, column);
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : value.get_object()) {
    if (!v.is_string()) corrupt(owner, column);
    out.emplace(std::string(k), std::string(v.get_string()));
  }
  return out;
}

inline std::string encode_times(const std::vector<Timestamp>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    out += std::to_string(to_millis(values[i]));
  }
  out.push_back(']');
  return out;
}

inline std::vector<Timestamp> decode_times(std::string_view text, std::string_view owner) {
  if (text == "[]") return {};
  auto value = parse_column(text, owner, "recent_calls");
  if (!value.is_array()) corrupt(owner, "recent_calls");
  std::vector<Timestamp> out;
  for (const auto& item : value.get_array()) {
    if (!item.is_int64() && !item.is_uint64()) corrupt(owner, "recent_calls");
    out.push_back(from_millis(item.to_number<std::int64_t>()));
  }
  return out;
}

// Campaign states and lists of enum values (a campaign target's lists).
inline constexpr std::array<std::string_view, 5> kStateNames{"draft", "active", "paused", "completed", "cancelled"};

/** The stored name of an enum value; empty for a value outside the enum. */
template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, Enum value) {
  auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : std::string_view{};
}

/** The stored name; a value outside the enum is InvalidArgumentError naming `field`. */
template <class Enum, std::size_t N>
std::string stored_name(const std::array<std::string_view, N>& names, Enum value, std::string_view owner,
                        std::string_view field) {
  auto name = name_of(names, value);
  if (name.empty())
    throw InvalidArgumentError(fmt::format("{}: {}: not a valid value", owner, field), std::string(field));
  return std::string(name);
}

/** A list of enum values as a JSON array of their stored names. */
template <class Enum, std::size_t N>
std::string encode_names(const std::array<std::string_view, N>& names, const std::vector<Enum>& values,
                         std::string_view owner, std::string_view field) {
  std::vector<std::string> out;
  out.reserve(values.size());
  for (auto v : values) out.push_back(stored_name(names, v, owner, field));
  return encode_strings(out);
}

/** The inverse of encode_names(); an unknown name is StorageError naming `column`. */
template <class Enum, std::size_t N>
std::vector<Enum> decode_names(const std::array<std::string_view, N>& names, std::string_view text,
                               std::string_view owner, std::string_view column) {
  std::vector<Enum> out;
  for (const auto& name : decode_strings(text, owner, column))
    out.push_back(parse_stored<Enum>(names, name, owner, column));
  return out;
}

/** ASCII-only case folding, as SQLite's lower() without ICU and the memory backend do. */
inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace gymdash::store_columns
