// The campaign types' state names and Boost.JSON conversions (campaign_model.hpp).
//
// The shapes follow model_json.cpp: hours are `{"start":"HH:MM","end":"HH:MM"}`,
// days an array of `mon` … `sun`, timestamps ISO 8601 UTC, absent optionals
// null. Dates are `YYYY-MM-DD` (null or "" for none). Nested objects are read
// with their path, so an error names `pacing.max_concurrent` or
// `schedule.hours.start`; an object read on its own uses its member name in a
// Campaign as its path (`pacing`, `schedule` …), as LocalWindow uses
// `call_hours`.
#include "core/day.hpp"
#include "core/json_reader.hpp"
#include "core/model_json_parts.hpp"

#include <gymdash/campaign_model.hpp>
#include <gymdash/error.hpp>

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <limits>

namespace gymdash {

namespace bj = boost::json;
using namespace json_parts;
using json::ObjectReader;

// ---- CampaignState -------------------------------------------------------------

namespace {
constexpr std::array<const char*, 5> kStateNames{"draft", "active", "paused", "completed", "cancelled"};
}  // namespace

const char* to_string(CampaignState s) noexcept {
  const auto i = static_cast<std::size_t>(s);
  return i < kStateNames.size() ? kStateNames[i] : "unknown";
}

CampaignState parse_campaign_state(std::string_view text, std::string_view field) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i)
    if (text == kStateNames[i]) return static_cast<CampaignState>(i);
  if (text == "canceled") return CampaignState::Cancelled;
  throw_invalid(field, fmt::format("\"{}\" is not a campaign state (draft, active, paused, completed, cancelled)",
                                   text.substr(0, 64)));
}

namespace {

// ---- helpers -------------------------------------------------------------------


bj::value opt_text(const std::string& s) {
  if (s.empty()) return nullptr;
  return bj::value(s);
}




std::string read_date(ObjectReader& r, std::string_view key) {
  auto x = r.string(key);
  if (!x || x->empty()) return {};
  // An existing date, 1970 or later.
  const auto day = parse_day(*x);
  if (!day || *day < 0)
    throw_invalid(r.path(key), fmt::format("\"{}\" is not a date (YYYY-MM-DD)", x->substr(0, 32)));
  return *x;
}



std::optional<int> read_int(ObjectReader& r, std::string_view key) {
  auto x = r.integer(key);
  if (!x) return std::nullopt;
  if (*x < std::numeric_limits<int>::min() || *x > std::numeric_limits<int>::max())
    throw_invalid(r.path(key), fmt::format("{} is out of range", *x));
  return static_cast<int>(*x);
}

std::optional<double> read_number(ObjectReader& r, std::string_view key) {
  const auto* v = r.value(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) throw_invalid(r.path(key), fmt::format("expected a number, got {}", json::kind_name(*v)));
  return v->to_number<double>();
}


// ---- writers -------------------------------------------------------------------

bj::value window_json(const LocalWindow& w) {
  return bj::object{{"start", format_local_time(w.start_minute)}, {"end", format_local_time(w.end_minute)}};
}

bj::value target_json(const CampaignTarget& t) {
  bj::object o;
  bj::array quals, statuses;
  for (auto q : t.qualifications) quals.emplace_back(to_string(q));
  for (auto s : t.statuses) statuses.emplace_back(to_string(s));
  o["qualifications"] = std::move(quals);
  o["statuses"] = std::move(statuses);
  o["tags"] = string_array(t.tags);
  o["source"] = t.source;
  o["created_from"] = optional_time(t.created_from);
  o["created_to"] = optional_time(t.created_to);
  return o;
}

bj::value schedule_json(const CampaignSchedule& s) {
  bj::object o;
  o["start_date"] = opt_text(s.start_date);
  o["end_date"] = opt_text(s.end_date);
  o["days"] = format_days(s.days);
  o["hours"] = window_json(s.hours);
  return o;
}

bj::value pacing_json(const CampaignPacing& p) {
  return bj::object{{"max_concurrent", p.max_concurrent},
                    {"calls_per_day", p.calls_per_day},
                    {"calls_per_second", p.calls_per_second},
                    {"max_attempts", p.max_attempts},
                    {"retry_gap_minutes", p.retry_gap_minutes}};
}

bj::value budget_json(const CampaignBudget& b) {
  return bj::object{{"daily_usd", b.daily_usd}, {"total_usd", b.total_usd},
                    {"reserve_per_call_usd", b.reserve_per_call_usd}};
}

// ---- readers (with the path of the object) -------------------------------------

LocalWindow read_window(const bj::value& v, const std::string& path) {
  ObjectReader r(v, path);
  LocalWindow w{9 * 60, 19 * 60};  // the schedule's default hours
  if (auto s = r.string("start")) w.start_minute = parse_local_time(*s, r.path("start"));
  if (auto s = r.string("end")) w.end_minute = parse_local_time(*s, r.path("end"));
  r.finish();
  return w;
}

CampaignTarget read_target(const bj::value& v, const std::string& path) {
  ObjectReader r(v, path);
  CampaignTarget t;
  t.qualifications = enum_array<Qualification>(r, "qualifications", [](std::string_view s, const std::string& f) {
    return parse_qualification(s, f);
  });
  t.statuses = enum_array<LeadStatus>(r, "statuses", [](std::string_view s, const std::string& f) {
    return parse_lead_status(s, f);
  });
  if (auto x = r.string_array("tags")) t.tags = *x;
  if (auto x = r.string("source")) t.source = *x;
  t.created_from = r.timestamp("created_from");
  t.created_to = r.timestamp("created_to");
  r.finish();
  return t;
}

CampaignSchedule read_schedule(const bj::value& v, const std::string& path) {
  ObjectReader r(v, path);
  CampaignSchedule s;
  s.start_date = read_date(r, "start_date");
  s.end_date = read_date(r, "end_date");
  if (auto x = r.string_array("days")) s.days = parse_days(*x, r.path("days"));
  if (const auto* h = r.value("hours")) s.hours = read_window(*h, r.path("hours"));
  r.finish();
  return s;
}

CampaignPacing read_pacing(const bj::value& v, const std::string& path) {
  ObjectReader r(v, path);
  CampaignPacing p;
  if (auto x = read_int(r, "max_concurrent")) p.max_concurrent = *x;
  if (auto x = read_int(r, "calls_per_day")) p.calls_per_day = *x;
  if (auto x = read_number(r, "calls_per_second")) p.calls_per_second = *x;
  if (auto x = read_int(r, "max_attempts")) p.max_attempts = *x;
  if (auto x = read_int(r, "retry_gap_minutes")) p.retry_gap_minutes = *x;
  r.finish();
  return p;
}

CampaignBudget read_budget(const bj::value& v, const std::string& path) {
  ObjectReader r(v, path);
  CampaignBudget b;
  if (auto x = read_number(r, "daily_usd")) b.daily_usd = *x;
  if (auto x = read_number(r, "total_usd")) b.total_usd = *x;
  if (auto x = read_number(r, "reserve_per_call_usd")) b.reserve_per_call_usd = *x;
  r.finish();
  return b;
}

}  // namespace

// ---- CampaignState as JSON -------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignState& v) { jv = to_string(v); }

CampaignState tag_invoke(const bj::value_to_tag<CampaignState>&, const bj::value& jv) {
  if (!jv.is_string()) throw_invalid("state", fmt::format("expected a string, got {}", json::kind_name(jv)));
  return parse_campaign_state(jv.get_string());
}

// ---- the parts -------------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignTarget& v) { jv = target_json(v); }
CampaignTarget tag_invoke(const bj::value_to_tag<CampaignTarget>&, const bj::value& jv) {
  return read_target(jv, "target");
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignSchedule& v) { jv = schedule_json(v); }
CampaignSchedule tag_invoke(const bj::value_to_tag<CampaignSchedule>&, const bj::value& jv) {
  return read_schedule(jv, "schedule");
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignPacing& v) { jv = pacing_json(v); }
CampaignPacing tag_invoke(const bj::value_to_tag<CampaignPacing>&, const bj::value& jv) {
  return read_pacing(jv, "pacing");
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignBudget& v) { jv = budget_json(v); }
CampaignBudget tag_invoke(const bj::value_to_tag<CampaignBudget>&, const bj::value& jv) {
  return read_budget(jv, "budget");
}

// ---- Campaign --------------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const Campaign& c) {
  bj::object o;
  o["id"] = c.id;
  o["gym_id"] = c.gym_id;
  o["name"] = c.name;
  o["description"] = c.description;
  o["state"] = to_string(c.state);
  o["target"] = target_json(c.target);
  o["schedule"] = schedule_json(c.schedule);
  o["pacing"] = pacing_json(c.pacing);
  o["budget"] = budget_json(c.budget);
  o["voice_provider"] = c.voice_provider;
  o["assistant_id"] = c.assistant_id;
  o["weight"] = c.weight;
  o["created_at"] = format_timestamp(c.created_at);
  o["updated_at"] = format_timestamp(c.updated_at);
  o["activated_at"] = optional_time(c.activated_at);
  o["ended_at"] = optional_time(c.ended_at);
  o["version"] = c.version;
  jv = std::move(o);
}

Campaign tag_invoke(const bj::value_to_tag<Campaign>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  Campaign c;
  if (auto x = r.string("id")) c.id = *x;
  if (auto x = r.string("gym_id")) c.gym_id = *x;
  if (auto x = r.string("name")) c.name = *x;
  if (auto x = r.string("description")) c.description = *x;
  if (auto x = r.string("state")) c.state = parse_campaign_state(*x, "state");
  if (const auto* v = r.value("target")) c.target = read_target(*v, "target");
  if (const auto* v = r.value("schedule")) c.schedule = read_schedule(*v, "schedule");
  if (const auto* v = r.value("pacing")) c.pacing = read_pacing(*v, "pacing");
  if (const auto* v = r.value("budget")) c.budget = read_budget(*v, "budget");
  if (auto x = r.string("voice_provider")) c.voice_provider = *x;
  if (auto x = r.string("assistant_id")) c.assistant_id = *x;
  if (auto x = read_int(r, "weight")) c.weight = *x;
  if (auto x = r.timestamp("created_at")) c.created_at = *x;
  if (auto x = r.timestamp("updated_at")) c.updated_at = *x;
  c.activated_at = r.timestamp("activated_at");
  c.ended_at = r.timestamp("ended_at");
  if (auto x = r.integer("version")) c.version = *x;
  r.finish();
  return c;
}

// ---- CampaignInput ---------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignInput& in) {
  bj::object o;
  o["name"] = in.name;
  o["description"] = in.description;
  o["target"] = target_json(in.target);
  o["schedule"] = schedule_json(in.schedule);
  o["pacing"] = pacing_json(in.pacing);
  o["budget"] = budget_json(in.budget);
  o["voice_provider"] = in.voice_provider;
  o["assistant_id"] = in.assistant_id;
  o["weight"] = in.weight;
  jv = std::move(o);
}

CampaignInput tag_invoke(const bj::value_to_tag<CampaignInput>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  CampaignInput in;
  if (auto x = r.string("name")) in.name = *x;
  if (auto x = r.string("description")) in.description = *x;
  if (const auto* v = r.value("target")) in.target = read_target(*v, "target");
  if (const auto* v = r.value("schedule")) in.schedule = read_schedule(*v, "schedule");
  if (const auto* v = r.value("pacing")) in.pacing = read_pacing(*v, "pacing");
  if (const auto* v = r.value("budget")) in.budget = read_budget(*v, "budget");
  if (auto x = r.string("voice_provider")) in.voice_provider = *x;
  if (auto x = r.string("assistant_id")) in.assistant_id = *x;
  if (auto x = read_int(r, "weight")) in.weight = *x;
  r.finish();
  return in;
}

// ---- CampaignPatch ---------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignPatch& p) {
  bj::object o;
  if (p.name) o["name"] = *p.name;
  if (p.description) o["description"] = *p.description;
  if (p.target) o["target"] = target_json(*p.target);
  if (p.schedule) o["schedule"] = schedule_json(*p.schedule);
  if (p.pacing) o["pacing"] = pacing_json(*p.pacing);
  if (p.budget) o["budget"] = budget_json(*p.budget);
  if (p.voice_provider) o["voice_provider"] = *p.voice_provider;
  if (p.assistant_id) o["assistant_id"] = *p.assistant_id;
  if (p.weight) o["weight"] = *p.weight;
  jv = std::move(o);
}

CampaignPatch tag_invoke(const bj::value_to_tag<CampaignPatch>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  CampaignPatch p;
  p.name = r.string("name");
  p.description = r.string("description");
  if (const auto* v = r.value("target")) p.target = read_target(*v, "target");
  if (const auto* v = r.value("schedule")) p.schedule = read_schedule(*v, "schedule");
  if (const auto* v = r.value("pacing")) p.pacing = read_pacing(*v, "pacing");
  if (const auto* v = r.value("budget")) p.budget = read_budget(*v, "budget");
  p.voice_provider = r.string("voice_provider");
  p.assistant_id = r.string("assistant_id");
  p.weight = read_int(r, "weight");
  r.finish();
  return p;
}

// ---- CampaignFilter --------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignFilter& f) {
  bj::array states;
  for (auto s : f.states) states.emplace_back(to_string(s));
  jv = bj::object{{"states", std::move(states)}, {"page", f.page}, {"page_size", f.page_size}};
}

CampaignFilter tag_invoke(const bj::value_to_tag<CampaignFilter>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  CampaignFilter f;
  f.states = enum_array<CampaignState>(r, "states", [](std::string_view s, const std::string& field) {
    return parse_campaign_state(s, field);
  });
  json::read_paging(r, f.page, f.page_size);
  r.finish();
  return f;
}

// ---- results (written only) ----------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignPage& p) { jv = json::page_to_json(p); }

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const EnrolReport& v) {
  jv = bj::object{{"enrolled", v.enrolled}, {"already_enrolled", v.already_enrolled}};
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignPerformance& v) {
  bj::object o;
  o["campaign_id"] = v.campaign_id;
  o["state"] = to_string(v.state);
  o["enrolled"] = v.enrolled;
  o["never_called"] = v.never_called;
  o["exhausted"] = v.exhausted;
  o["attempts"] = v.attempts;
  o["calls_today"] = v.calls_today;
  o["cost_today_usd"] = v.cost_today_usd;
  o["cost_total_usd"] = v.cost_total_usd;
  o["connected"] = v.connected;
  o["trials_booked"] = v.trials_booked;
  o["memberships_sold"] = v.memberships_sold;
  jv = std::move(o);
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignLead& v) {
  jv = bj::object{{"campaign_id", v.campaign_id},
                  {"lead_id", v.lead_id},
                  {"enrolled_at", format_timestamp(v.enrolled_at)},
                  {"attempts", v.attempts},
                  {"last_attempt_at", optional_time(v.last_attempt_at)}};
}

// ---- to_json / from_json of the campaign types (templates: core/model_json_parts.hpp) ----

#define GYMDASH_INSTANTIATE(T)                  \
  template std::string to_json<T>(const T&); \
  template T from_json<T>(std::string_view);

GYMDASH_INSTANTIATE(CampaignState)
GYMDASH_INSTANTIATE(CampaignTarget)
GYMDASH_INSTANTIATE(CampaignSchedule)
GYMDASH_INSTANTIATE(CampaignPacing)
GYMDASH_INSTANTIATE(CampaignBudget)
GYMDASH_INSTANTIATE(Campaign)
GYMDASH_INSTANTIATE(CampaignInput)
GYMDASH_INSTANTIATE(CampaignPatch)
GYMDASH_INSTANTIATE(CampaignFilter)
#undef GYMDASH_INSTANTIATE

template std::string to_json<CampaignPage>(const CampaignPage&);
template std::string to_json<EnrolReport>(const EnrolReport&);
template std::string to_json<CampaignPerformance>(const CampaignPerformance&);
template std::string to_json<CampaignLead>(const CampaignLead&);
template std::string to_json<std::vector<Campaign>>(const std::vector<Campaign>&);

}  // namespace gymdash
