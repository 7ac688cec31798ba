// Enum names and the Boost.JSON conversions of the model types.
#include "core/json_reader.hpp"
#include "core/model_json_parts.hpp"

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/call.hpp>
#include <gymdash/services/lead.hpp>

#include <fmt/format.h>

#include <array>

namespace gymdash {

namespace bj = boost::json;
using json::ObjectReader;

// ---- enums ------------------------------------------------------------------

namespace {
constexpr std::array<const char*, 6> kStatusNames{"new", "contacted", "qualified", "trial_booked", "converted", "lost"};
constexpr std::array<const char*, 3> kQualificationNames{"hot", "neutral", "cold"};
constexpr std::array<const char*, 7> kDayNames{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<const char*, 8> kCallStatusNames{"queued",    "ringing", "in_progress", "completed",
                                                      "busy",      "no_answer", "failed",    "canceled"};
constexpr std::array<const char*, 3> kAnsweredByNames{"unknown", "human", "machine"};
constexpr std::array<const char*, 7> kOutcomeNames{"interested",      "not_interested", "callback_requested",
                                                   "trial_booked",    "membership_sold", "wrong_number",
                                                   "do_not_call"};

template <class E, std::size_t N>
const char* enum_name(const std::array<const char*, N>& names, E v) noexcept {
  const auto i = static_cast<std::size_t>(v);
  return i < N ? names[i] : "unknown";
}
}  // namespace

const char* to_string(CallStatus s) noexcept { return enum_name(kCallStatusNames, s); }
const char* to_string(AnsweredBy a) noexcept { return enum_name(kAnsweredByNames, a); }
const char* to_string(CallOutcome o) noexcept { return enum_name(kOutcomeNames, o); }

CallStatus parse_call_status(std::string_view text, std::string_view field) {
  for (std::size_t i = 0; i < kCallStatusNames.size(); ++i)
    if (text == kCallStatusNames[i]) return static_cast<CallStatus>(i);
  if (text == "no-answer") return CallStatus::NoAnswer;
  if (text == "in-progress") return CallStatus::InProgress;
  if (text == "cancelled") return CallStatus::Canceled;
  throw_invalid(field, fmt::format("\"{}\" is not a call status (queued, ringing, in_progress, completed, busy, "
                                   "no_answer, failed, canceled)",
                                   text.substr(0, 64)));
}

AnsweredBy parse_answered_by(std::string_view text, std::string_view field) {
  for (std::size_t i = 0; i < kAnsweredByNames.size(); ++i)
    if (text == kAnsweredByNames[i]) return static_cast<AnsweredBy>(i);
  throw_invalid(field, fmt::format("\"{}\" is not one of human, machine, unknown", text.substr(0, 64)));
}

CallOutcome parse_call_outcome(std::string_view text, std::string_view field) {
  for (std::size_t i = 0; i < kOutcomeNames.size(); ++i)
    if (text == kOutcomeNames[i]) return static_cast<CallOutcome>(i);
  throw_invalid(field, fmt::format("\"{}\" is not an outcome (interested, not_interested, callback_requested, "
                                   "trial_booked, membership_sold, wrong_number, do_not_call)",
                                   text.substr(0, 64)));
}

const char* to_string(LeadStatus s) noexcept {
  const auto i = static_cast<std::size_t>(s);
  return i < kStatusNames.size() ? kStatusNames[i] : "unknown";
}

const char* to_string(Qualification q) noexcept {
  const auto i = static_cast<std::size_t>(q);
  return i < kQualificationNames.size() ? kQualificationNames[i] : "unknown";
}

LeadStatus parse_lead_status(std::string_view text, std::string_view field) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i)
    if (text == kStatusNames[i]) return static_cast<LeadStatus>(i);
  throw_invalid(field, fmt::format("\"{}\" is not a status (new, contacted, qualified, trial_booked, converted, lost)",
                                   text.substr(0, 64)));
}

Qualification parse_qualification(std::string_view text, std::string_view field) {
  for (std::size_t i = 0; i < kQualificationNames.size(); ++i)
    if (text == kQualificationNames[i]) return static_cast<Qualification>(i);
  if (text == "warm") return Qualification::Neutral;
  throw_invalid(field, fmt::format("\"{}\" is not a qualification (hot, neutral, cold)", text.substr(0, 64)));
}

namespace json_parts {

std::string format_local_time(int minute) { return fmt::format("{:02}:{:02}", minute / 60, minute % 60); }

int parse_local_time(std::string_view text, const std::string& field) {
  // HH:MM, 00:00–24:00
  if (text.size() == 5 && text[2] == ':') {
    const auto d = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9' ? text[i] - '0' : -100; };
    const int h = d(0) * 10 + d(1);
    const int m = d(3) * 10 + d(4);
    if (h >= 0 && m >= 0 && m < 60 && (h < 24 || (h == 24 && m == 0))) return h * 60 + m;
  }
  throw_invalid(field, fmt::format("\"{}\" is not a time (HH:MM, 00:00–24:00)", text.substr(0, 32)));
}

bj::value optional_time(const std::optional<Timestamp>& t) {
  if (t) return bj::value(format_timestamp(*t));
  return nullptr;
}

bj::array string_array(const std::vector<std::string>& v) {
  bj::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

bj::object string_map(const std::map<std::string, std::string>& m) {
  bj::object o;
  for (const auto& [k, v] : m) o.emplace(k, v);
  return o;
}

DayMask parse_days(const std::vector<std::string>& names, const std::string& field) {
  DayMask mask = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    bool found = false;
    for (std::size_t d = 0; d < kDayNames.size(); ++d) {
      if (names[i] == kDayNames[d]) {
        mask |= static_cast<DayMask>(1u << d);
        found = true;
      }
    }
    if (!found)
      throw_invalid(fmt::format("{}[{}]", field, i),
                    fmt::format("\"{}\" is not a day (mon, tue, wed, thu, fri, sat, sun)", names[i].substr(0, 32)));
  }
  return mask;
}

bj::array format_days(DayMask mask) {
  bj::array a;
  for (std::size_t d = 0; d < kDayNames.size(); ++d)
    if (mask & (1u << d)) a.emplace_back(kDayNames[d]);
  return a;
}

}  // namespace json_parts

using namespace json_parts;

namespace {

Consent read_consent(const bj::value& v, const std::string& path) {
  if (v.is_bool()) return Consent{v.get_bool(), std::nullopt, {}, {}};
  ObjectReader r(v, path);
  Consent c;
  if (auto x = r.boolean("given")) c.given = *x;
  c.at = r.timestamp("at");
  if (auto x = r.string("method")) c.method = *x;
  if (auto x = r.string("source")) c.source = *x;
  r.finish();
  return c;
}

}  // namespace

// ---- LocalWindow -------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const LocalWindow& v) {
  jv = bj::object{{"start", format_local_time(v.start_minute)}, {"end", format_local_time(v.end_minute)}};
}

LocalWindow tag_invoke(const bj::value_to_tag<LocalWindow>&, const bj::value& jv) {
  ObjectReader r(jv, "call_hours");
  LocalWindow w;
  if (auto s = r.string("start")) w.start_minute = parse_local_time(*s, r.path("start"));
  if (auto s = r.string("end")) w.end_minute = parse_local_time(*s, r.path("end"));
  r.finish();
  return w;
}

// ---- Gym ---------------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const Gym& g) {
  bj::object o;
  o["id"] = g.id;
  o["name"] = g.name;
  o["timezone"] = g.timezone;
  o["region"] = g.region;
  o["state"] = g.state;
  bj::value hours;
  tag_invoke(bj::value_from_tag{}, hours, g.call_hours);
  o["call_hours"] = std::move(hours);
  o["call_days"] = format_days(g.call_days);
  o["caller_ids"] = string_array(g.caller_ids);
  o["created_at"] = format_timestamp(g.created_at);
  o["updated_at"] = format_timestamp(g.updated_at);
  jv = std::move(o);
}

Gym tag_invoke(const bj::value_to_tag<Gym>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  Gym g;
  if (auto x = r.string("id")) g.id = *x;
  if (auto x = r.string("name")) g.name = *x;
  if (auto x = r.string("timezone")) g.timezone = *x;
  if (auto x = r.string("region")) g.region = *x;
  if (auto x = r.string("state")) g.state = *x;
  if (const auto* v = r.value("call_hours")) {
    ObjectReader h(*v, "call_hours");
    if (auto s = h.string("start")) g.call_hours.start_minute = parse_local_time(*s, h.path("start"));
    if (auto s = h.string("end")) g.call_hours.end_minute = parse_local_time(*s, h.path("end"));
    h.finish();
  }
  if (auto x = r.string_array("call_days")) g.call_days = parse_days(*x, "call_days");
  if (auto x = r.string_array("caller_ids")) g.caller_ids = *x;
  if (auto x = r.timestamp("created_at")) g.created_at = *x;
  if (auto x = r.timestamp("updated_at")) g.updated_at = *x;
  r.finish();
  return g;
}

// ---- Consent -----------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const Consent& c) {
  jv = bj::object{{"given", c.given}, {"at", optional_time(c.at)}, {"method", c.method}, {"source", c.source}};
}

Consent tag_invoke(const bj::value_to_tag<Consent>&, const bj::value& jv) { return read_consent(jv, "consent"); }

// ---- enums as JSON -----------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const LeadStatus& s) { jv = to_string(s); }
LeadStatus tag_invoke(const bj::value_to_tag<LeadStatus>&, const bj::value& jv) {
  if (!jv.is_string()) throw_invalid("status", fmt::format("expected a string, got {}", json::kind_name(jv)));
  return parse_lead_status(jv.get_string());
}
void tag_invoke(const bj::value_from_tag&, bj::value& jv, const Qualification& q) { jv = to_string(q); }
Qualification tag_invoke(const bj::value_to_tag<Qualification>&, const bj::value& jv) {
  if (!jv.is_string()) throw_invalid("qualification", fmt::format("expected a string, got {}", json::kind_name(jv)));
  return parse_qualification(jv.get_string());
}

// ---- Lead --------------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const Lead& l) {
  bj::object o;
  o["id"] = l.id;
  o["gym_id"] = l.gym_id;
  o["external_id"] = l.external_id;
  o["phone"] = l.phone;
  o["first_name"] = l.first_name;
  o["last_name"] = l.last_name;
  o["email"] = l.email;
  o["source"] = l.source;
  o["interest"] = l.interest;
  o["timeline"] = l.timeline;
  o["notes"] = l.notes;
  o["tags"] = string_array(l.tags);
  bj::value consent;
  tag_invoke(bj::value_from_tag{}, consent, l.consent);
  o["consent"] = std::move(consent);
  o["do_not_call"] = l.do_not_call;
  o["phone_invalid"] = l.phone_invalid;
  o["status"] = to_string(l.status);
  o["qualification"] = to_string(l.qualification);
  o["qualification_manual"] = l.qualification_manual;
  o["score"] = l.score;
  o["attempts"] = l.attempts;
  o["last_call_at"] = optional_time(l.last_call_at);
  o["next_call_at"] = optional_time(l.next_call_at);
  o["timezone"] = l.timezone;
  o["custom_fields"] = string_map(l.custom_fields);
  o["created_at"] = format_timestamp(l.created_at);
  o["updated_at"] = format_timestamp(l.updated_at);
  o["version"] = l.version;
  o["callback_at"] = optional_time(l.callback_at);
  o["blocked_until"] = optional_time(l.blocked_until);
  bj::array recent;
  for (auto t : l.recent_calls) recent.emplace_back(format_timestamp(t));
  o["recent_calls"] = std::move(recent);
  o["last_outcome"] = l.last_outcome;
  o["sentiment"] = l.sentiment;
  o["connects"] = l.connects;
  o["active_call_id"] = l.active_call_id;
  o["local_zone"] = l.local_zone;
  o["local_state"] = l.local_state;
  o["dnc_listed"] = l.dnc_listed;
  o["base_status"] = to_string(l.base_status);
  o["base_status_at"] = format_timestamp(l.base_status_at);
  jv = std::move(o);
}

Lead tag_invoke(const bj::value_to_tag<Lead>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  Lead l;
  if (auto x = r.string("id")) l.id = *x;
  if (auto x = r.string("gym_id")) l.gym_id = *x;
  if (auto x = r.string("external_id")) l.external_id = *x;
  if (auto x = r.string("phone")) l.phone = *x;
  if (auto x = r.string("first_name")) l.first_name = *x;
  if (auto x = r.string("last_name")) l.last_name = *x;
  if (auto x = r.string("email")) l.email = *x;
  if (auto x = r.string("source")) l.source = *x;
  if (auto x = r.string("interest")) l.interest = *x;
  if (auto x = r.string("timeline")) l.timeline = *x;
  if (auto x = r.string("notes")) l.notes = *x;
  if (auto x = r.string_array("tags")) l.tags = *x;
  if (const auto* v = r.value("consent")) l.consent = read_consent(*v, "consent");
  if (auto x = r.boolean("do_not_call")) l.do_not_call = *x;
  if (auto x = r.boolean("phone_invalid")) l.phone_invalid = *x;
  if (auto x = r.string("status")) l.status = parse_lead_status(*x);
  if (auto x = r.string("qualification")) l.qualification = parse_qualification(*x);
  if (auto x = r.boolean("qualification_manual")) l.qualification_manual = *x;
  if (auto x = r.integer("score")) l.score = static_cast<int>(*x);
  if (auto x = r.integer("attempts")) l.attempts = static_cast<int>(*x);
  l.last_call_at = r.timestamp("last_call_at");
  l.next_call_at = r.timestamp("next_call_at");
  if (auto x = r.string("timezone")) l.timezone = *x;
  if (auto x = r.string_map("custom_fields")) l.custom_fields = *x;
  if (auto x = r.timestamp("created_at")) l.created_at = *x;
  if (auto x = r.timestamp("updated_at")) l.updated_at = *x;
  if (auto x = r.integer("version")) l.version = *x;
  l.callback_at = r.timestamp("callback_at");
  l.blocked_until = r.timestamp("blocked_until");
  if (auto x = r.string_array("recent_calls")) {
    for (std::size_t i = 0; i < x->size(); ++i)
      l.recent_calls.push_back(parse_timestamp((*x)[i], fmt::format("recent_calls[{}]", i)));
  }
  if (auto x = r.string("last_outcome")) l.last_outcome = *x;
  if (auto x = r.string("sentiment")) l.sentiment = *x;
  if (auto x = r.integer("connects")) l.connects = static_cast<int>(*x);
  if (auto x = r.string("active_call_id")) l.active_call_id = *x;
  if (auto x = r.string("local_zone")) l.local_zone = *x;
  if (auto x = r.string("local_state")) l.local_state = *x;
  if (auto x = r.boolean("dnc_listed")) l.dnc_listed = *x;
  if (auto x = r.string("base_status")) l.base_status = parse_lead_status(*x, "base_status");
  if (auto x = r.timestamp("base_status_at")) l.base_status_at = *x;
  r.finish();
  return l;
}

// ---- CallResult ----------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CallResult& c) {
  bj::object o;
  o["call_id"] = c.call_id;
  o["started_at"] = format_timestamp(c.started_at);
  o["ended_at"] = optional_time(c.ended_at);
  o["status"] = to_string(c.status);
  o["answered_by"] = to_string(c.answered_by);
  if (c.outcome) o["outcome"] = to_string(*c.outcome);
  else o["outcome"] = nullptr;
  o["callback_at"] = optional_time(c.callback_at);
  o["sentiment"] = c.sentiment;
  o["opted_out"] = c.opted_out;
  jv = std::move(o);
}

CallResult tag_invoke(const bj::value_to_tag<CallResult>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  CallResult c;
  if (auto x = r.string("call_id")) c.call_id = *x;
  auto started = r.timestamp("started_at");
  if (!started) throw_invalid("started_at", "is required");
  c.started_at = *started;
  c.ended_at = r.timestamp("ended_at");
  if (auto x = r.string("status")) c.status = parse_call_status(*x, "status");
  if (auto x = r.string("answered_by")) c.answered_by = parse_answered_by(*x, "answered_by");
  if (auto x = r.string("outcome")) c.outcome = parse_call_outcome(*x, "outcome");
  c.callback_at = r.timestamp("callback_at");
  if (auto x = r.string("sentiment")) c.sentiment = *x;
  if (auto x = r.boolean("opted_out")) c.opted_out = *x;
  r.finish();
  return c;
}

// ---- DncEntry ------------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const DncEntry& e) {
  jv = bj::object{{"scope", e.scope}, {"phone", e.phone}, {"reason", e.reason}, {"source", e.source},
                  {"added_at", format_timestamp(e.added_at)}};
}

DncEntry tag_invoke(const bj::value_to_tag<DncEntry>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  DncEntry e;
  if (auto x = r.string("scope")) e.scope = *x;
  if (auto x = r.string("phone")) e.phone = *x;
  if (auto x = r.string("reason")) e.reason = *x;
  if (auto x = r.string("source")) e.source = *x;
  if (auto x = r.timestamp("added_at")) e.added_at = *x;
  r.finish();
  return e;
}

// ---- LeadEvent ---------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const LeadEvent& e) {
  jv = bj::object{{"seq", e.seq},   {"lead_id", e.lead_id}, {"at", format_timestamp(e.at)},
                  {"kind", e.kind}, {"from", e.from},       {"to", e.to},
                  {"actor", e.actor}, {"reason", e.reason}};
}

LeadEvent tag_invoke(const bj::value_to_tag<LeadEvent>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  LeadEvent e;
  if (auto x = r.integer("seq")) e.seq = *x;
  if (auto x = r.string("lead_id")) e.lead_id = *x;
  if (auto x = r.timestamp("at")) e.at = *x;
  if (auto x = r.string("kind")) e.kind = *x;
  if (auto x = r.string("from")) e.from = *x;
  if (auto x = r.string("to")) e.to = *x;
  if (auto x = r.string("actor")) e.actor = *x;
  if (auto x = r.string("reason")) e.reason = *x;
  r.finish();
  return e;
}

// ---- LeadErasure -------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const LeadErasure& e) {
  jv = bj::object{{"seq", e.seq},
                  {"gym_id", e.gym_id},
                  {"lead_id", e.lead_id},
                  {"at", format_timestamp(e.at)},
                  {"actor", e.actor},
                  {"reason", e.reason},
                  {"removed", bj::object{{"history_entries", e.history_entries},
                                         {"calls", e.calls},
                                         {"recordings", e.recordings},
                                         {"transcripts", e.transcripts},
                                         {"call_results", e.call_results},
                                         {"enrolments", e.enrolments}}}};
}

LeadErasure tag_invoke(const bj::value_to_tag<LeadErasure>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  LeadErasure e;
  if (auto x = r.integer("seq")) e.seq = *x;
  if (auto x = r.string("gym_id")) e.gym_id = *x;
  if (auto x = r.string("lead_id")) e.lead_id = *x;
  if (auto x = r.timestamp("at")) e.at = *x;
  if (auto x = r.string("actor")) e.actor = *x;
  if (auto x = r.string("reason")) e.reason = *x;
  if (const auto* removed = r.value("removed")) {
    ObjectReader c(*removed, r.path("removed"));
    if (auto x = c.integer("history_entries")) e.history_entries = *x;
    if (auto x = c.integer("calls")) e.calls = *x;
    if (auto x = c.integer("recordings")) e.recordings = *x;
    if (auto x = c.integer("transcripts")) e.transcripts = *x;
    if (auto x = c.integer("call_results")) e.call_results = *x;
    if (auto x = c.integer("enrolments")) e.enrolments = *x;
    c.finish();
  }
  r.finish();
  return e;
}

// ---- LeadInput ---------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const LeadInput& in) {
  bj::object o;
  o["external_id"] = in.external_id;
  o["phone"] = in.phone;
  o["first_name"] = in.first_name;
  o["last_name"] = in.last_name;
  o["email"] = in.email;
  o["source"] = in.source;
  o["interest"] = in.interest;
  o["timeline"] = in.timeline;
  o["notes"] = in.notes;
  o["tags"] = string_array(in.tags);
  if (in.consent) {
    bj::value consent;
    tag_invoke(bj::value_from_tag{}, consent, *in.consent);
    o["consent"] = std::move(consent);
  }
  o["do_not_call"] = in.do_not_call;
  if (in.status) o["status"] = to_string(*in.status);
  if (in.qualification) o["qualification"] = to_string(*in.qualification);
  o["timezone"] = in.timezone;
  o["custom_fields"] = string_map(in.custom_fields);
  if (in.created_at) o["created_at"] = format_timestamp(*in.created_at);
  if (!in.actor.empty()) o["actor"] = in.actor;
  jv = std::move(o);
}

LeadInput tag_invoke(const bj::value_to_tag<LeadInput>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  LeadInput in;
  if (auto x = r.string("external_id")) in.external_id = *x;
  if (auto x = r.string("phone")) in.phone = *x;
  if (auto x = r.string("first_name")) in.first_name = *x;
  if (auto x = r.string("last_name")) in.last_name = *x;
  if (auto x = r.string("email")) in.email = *x;
  if (auto x = r.string("source")) in.source = *x;
  if (auto x = r.string("interest")) in.interest = *x;
  if (auto x = r.string("timeline")) in.timeline = *x;
  if (auto x = r.string("notes")) in.notes = *x;
  if (auto x = r.string_array("tags")) in.tags = *x;
  if (const auto* v = r.value("consent")) in.consent = read_consent(*v, "consent");
  if (auto x = r.boolean("do_not_call")) in.do_not_call = *x;
  if (auto x = r.string("status")) in.status = parse_lead_status(*x);
  if (auto x = r.string("qualification")) in.qualification = parse_qualification(*x);
  if (auto x = r.string("timezone")) in.timezone = *x;
  if (auto x = r.string_map("custom_fields")) in.custom_fields = *x;
  in.created_at = r.timestamp("created_at");
  if (auto x = r.string("actor")) in.actor = *x;
  r.finish();
  return in;
}

// ---- LeadPatch ---------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const LeadPatch& p) {
  bj::object o;
  const auto put = [&](const char* k, const std::optional<std::string>& v) {
    if (v) o[k] = *v;
  };
  put("external_id", p.external_id);
  put("phone", p.phone);
  put("first_name", p.first_name);
  put("last_name", p.last_name);
  put("email", p.email);
  put("source", p.source);
  put("interest", p.interest);
  put("timeline", p.timeline);
  put("notes", p.notes);
  if (p.consent) {
    bj::value c;
    tag_invoke(bj::value_from_tag{}, c, *p.consent);
    o["consent"] = std::move(c);
  }
  if (p.qualification) o["qualification"] = to_string(*p.qualification);
  put("timezone", p.timezone);
  if (p.custom_fields) o["custom_fields"] = string_map(*p.custom_fields);
  if (!p.actor.empty()) o["actor"] = p.actor;
  jv = std::move(o);
}

LeadPatch tag_invoke(const bj::value_to_tag<LeadPatch>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  LeadPatch p;
  p.external_id = r.string("external_id");
  p.phone = r.string("phone");
  p.first_name = r.string("first_name");
  p.last_name = r.string("last_name");
  p.email = r.string("email");
  p.source = r.string("source");
  p.interest = r.string("interest");
  p.timeline = r.string("timeline");
  p.notes = r.string("notes");
  if (const auto* v = r.value("consent")) p.consent = read_consent(*v, "consent");
  if (auto x = r.string("qualification")) p.qualification = parse_qualification(*x);
  p.timezone = r.string("timezone");
  p.custom_fields = r.string_map("custom_fields");
  if (auto x = r.string("actor")) p.actor = *x;
  r.finish();
  return p;
}

// ---- StatusChange --------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const StatusChange& c) {
  jv = bj::object{{"to", to_string(c.to)}, {"actor", c.actor}, {"reason", c.reason}, {"force", c.force}};
}

StatusChange tag_invoke(const bj::value_to_tag<StatusChange>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  StatusChange c;
  auto to = r.string("to");
  if (!to) throw_invalid("to", "is required");
  c.to = parse_lead_status(*to, "to");
  if (auto x = r.string("actor")) c.actor = *x;
  if (auto x = r.string("reason")) c.reason = *x;
  if (auto x = r.boolean("force")) c.force = *x;
  r.finish();
  return c;
}

// ---- LeadFilter ----------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const LeadFilter& f) {
  bj::object o;
  bj::array statuses, quals;
  for (auto s : f.statuses) statuses.emplace_back(to_string(s));
  for (auto q : f.qualifications) quals.emplace_back(to_string(q));
  o["statuses"] = std::move(statuses);
  o["qualifications"] = std::move(quals);
  o["tags"] = string_array(f.tags);
  o["source"] = f.source;
  o["created_from"] = optional_time(f.created_from);
  o["created_to"] = optional_time(f.created_to);
  o["search"] = f.search;
  o["page"] = f.page;
  o["page_size"] = f.page_size;
  jv = std::move(o);
}

LeadFilter tag_invoke(const bj::value_to_tag<LeadFilter>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  LeadFilter f;
  f.statuses = enum_array<LeadStatus>(r, "statuses", [](std::string_view s, const std::string& field) {
    return parse_lead_status(s, field);
  });
  f.qualifications = enum_array<Qualification>(r, "qualifications", [](std::string_view s, const std::string& field) {
    return parse_qualification(s, field);
  });
  if (auto x = r.string_array("tags")) f.tags = *x;
  if (auto x = r.string("source")) f.source = *x;
  f.created_from = r.timestamp("created_from");
  f.created_to = r.timestamp("created_to");
  if (auto x = r.string("search")) f.search = *x;
  json::read_paging(r, f.page, f.page_size);
  r.finish();
  return f;
}

// ---- LeadPage / CreateLeadResult ---------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const LeadPage& p) { jv = json::page_to_json(p); }

LeadPage tag_invoke(const bj::value_to_tag<LeadPage>&, const bj::value& jv) { return json::page_from_json<LeadPage>(jv); }

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CreateLeadResult& v) {
  jv = bj::object{{"lead", bj::value_from(v.lead)}, {"merged", v.merged}};
}

// ---- string helpers ------------------------------------------------------------

#define GYMDASH_INSTANTIATE(T)                  \
  template std::string to_json<T>(const T&); \
  template T from_json<T>(std::string_view);

GYMDASH_INSTANTIATE(LocalWindow)
GYMDASH_INSTANTIATE(Gym)
GYMDASH_INSTANTIATE(Consent)
GYMDASH_INSTANTIATE(Lead)
GYMDASH_INSTANTIATE(LeadEvent)
GYMDASH_INSTANTIATE(LeadErasure)
GYMDASH_INSTANTIATE(LeadInput)
GYMDASH_INSTANTIATE(LeadPatch)
GYMDASH_INSTANTIATE(StatusChange)
GYMDASH_INSTANTIATE(LeadFilter)
GYMDASH_INSTANTIATE(LeadPage)
GYMDASH_INSTANTIATE(CallResult)
GYMDASH_INSTANTIATE(DncEntry)
GYMDASH_INSTANTIATE(Call)
GYMDASH_INSTANTIATE(CallFilter)
GYMDASH_INSTANTIATE(CallPage)
GYMDASH_INSTANTIATE(CallEvent)
#undef GYMDASH_INSTANTIATE

template std::string to_json<CreateLeadResult>(const CreateLeadResult&);
template std::string to_json<std::vector<Gym>>(const std::vector<Gym>&);
template std::string to_json<std::vector<LeadEvent>>(const std::vector<LeadEvent>&);
template std::string to_json<std::vector<LeadErasure>>(const std::vector<LeadErasure>&);
template std::string to_json<std::vector<Lead>>(const std::vector<Lead>&);
template std::string to_json<std::vector<Call>>(const std::vector<Call>&);
template std::string to_json<ProcessResult>(const ProcessResult&);
template std::string to_json<IngestReport>(const IngestReport&);

}  // namespace gymdash
