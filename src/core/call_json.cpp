// The call types' enum names and Boost.JSON conversions (model.hpp and
// services/call.hpp).
#include "core/json_reader.hpp"

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/call.hpp>

#include <fmt/format.h>

namespace gymdash {

namespace bj = boost::json;
using json::ObjectReader;

namespace {

bj::value opt_time(const std::optional<Timestamp>& t) {
  if (!t) return nullptr;
  return bj::value(format_timestamp(*t));
}

bj::value opt_text(const std::string& s) {
  if (s.empty()) return nullptr;
  return bj::value(s);
}

std::optional<double> read_number(ObjectReader& r, std::string_view key) {
  const auto* v = r.value(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) throw_invalid(r.path(key), fmt::format("expected a number, got {}", json::kind_name(*v)));
  return v->to_number<double>();
}

}  // namespace

const char* to_string(CallDirection d) noexcept { return d == CallDirection::Inbound ? "inbound" : "outbound"; }

CallDirection parse_call_direction(std::string_view text, std::string_view field) {
  if (text == "outbound") return CallDirection::Outbound;
  if (text == "inbound") return CallDirection::Inbound;
  throw_invalid(field, fmt::format("\"{}\" is not one of outbound, inbound", text.substr(0, 64)));
}

bool is_terminal(CallStatus s) noexcept {
  return s == CallStatus::Completed || s == CallStatus::Busy || s == CallStatus::NoAnswer || s == CallStatus::Failed ||
         s == CallStatus::Canceled;
}

// ---- CallDirection ---------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CallDirection& d) { jv = to_string(d); }

CallDirection tag_invoke(const bj::value_to_tag<CallDirection>&, const bj::value& jv) {
  if (!jv.is_string()) throw_invalid("direction", "expected a string");
  return parse_call_direction(jv.get_string());
}

// ---- Call --------------------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const Call& c) {
  bj::object o;
  o["id"] = c.id;
  o["provider_call_id"] = c.provider_call_id;
  o["gym_id"] = c.gym_id;
  o["lead_id"] = c.lead_id;
  o["direction"] = to_string(c.direction);
  o["to"] = c.to_number;
  o["from"] = c.from_number;
  o["status"] = to_string(c.status);
  o["answered_by"] = to_string(c.answered_by);
  o["started_at"] = format_timestamp(c.started_at);
  o["ended_at"] = opt_time(c.ended_at);
  if (c.duration_s) o["duration_s"] = *c.duration_s;
  else o["duration_s"] = nullptr;
  if (c.outcome) o["outcome"] = to_string(*c.outcome);
  else o["outcome"] = nullptr;
  o["callback_at"] = opt_time(c.callback_at);
  o["sentiment"] = c.sentiment;
  o["summary"] = c.summary;
  o["transcript"] = c.transcript;
  o["recording_url"] = c.recording_url;
  o["recording_duration_s"] = c.recording_duration_s ? bj::value(*c.recording_duration_s) : bj::value(nullptr);
  o["recording_channels"] = c.recording_channels ? bj::value(*c.recording_channels) : bj::value(nullptr);
  o["recording_consent"] = c.recording_consent ? bj::value(*c.recording_consent) : bj::value(nullptr);
  o["purged_at"] = opt_time(c.purged_at);
  if (c.cost_usd) o["cost_usd"] = *c.cost_usd;
  else o["cost_usd"] = nullptr;
  o["campaign_id"] = c.campaign_id;
  o["provider"] = c.provider;
  o["end_reason"] = c.end_reason;
  o["created_at"] = format_timestamp(c.created_at);
  o["updated_at"] = format_timestamp(c.updated_at);
  jv = std::move(o);
}

Call tag_invoke(const bj::value_to_tag<Call>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  Call c;
  if (auto x = r.string("id")) c.id = *x;
  if (auto x = r.string("provider_call_id")) c.provider_call_id = *x;
  if (auto x = r.string("gym_id")) c.gym_id = *x;
  if (auto x = r.string("lead_id")) c.lead_id = *x;
  if (auto x = r.string("direction")) c.direction = parse_call_direction(*x);
  if (auto x = r.string("to")) c.to_number = *x;
  if (auto x = r.string("from")) c.from_number = *x;
  if (auto x = r.string("status")) c.status = parse_call_status(*x);
  if (auto x = r.string("answered_by")) c.answered_by = parse_answered_by(*x);
  if (auto x = r.timestamp("started_at")) c.started_at = *x;
  c.ended_at = r.timestamp("ended_at");
  c.duration_s = r.integer("duration_s");
  if (auto x = r.string("outcome")) c.outcome = parse_call_outcome(*x);
  c.callback_at = r.timestamp("callback_at");
  if (auto x = r.string("sentiment")) c.sentiment = *x;
  if (auto x = r.string("summary")) c.summary = *x;
  if (auto x = r.string("transcript")) c.transcript = *x;
  if (auto x = r.string("recording_url")) c.recording_url = *x;
  c.recording_duration_s = r.integer("recording_duration_s");
  if (auto x = r.integer("recording_channels")) c.recording_channels = static_cast<int>(*x);
  c.recording_consent = r.boolean("recording_consent");
  c.purged_at = r.timestamp("purged_at");
  c.cost_usd = read_number(r, "cost_usd");
  if (auto x = r.string("campaign_id")) c.campaign_id = *x;
  if (auto x = r.string("provider")) c.provider = *x;
  if (auto x = r.string("end_reason")) c.end_reason = *x;
  if (auto x = r.timestamp("created_at")) c.created_at = *x;
  if (auto x = r.timestamp("updated_at")) c.updated_at = *x;
  r.finish();
  return c;
}

// ---- CallFilter --------------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CallFilter& f) {
  bj::object o;
  o["lead_id"] = f.lead_id;
  o["campaign_id"] = f.campaign_id;
  o["status"] = f.status ? bj::value(to_string(*f.status)) : bj::value(nullptr);
  o["outcome"] = f.outcome ? bj::value(to_string(*f.outcome)) : bj::value(nullptr);
  o["direction"] = f.direction ? bj::value(to_string(*f.direction)) : bj::value(nullptr);
  o["started_from"] = opt_time(f.started_from);
  o["started_to"] = opt_time(f.started_to);
  o["page"] = f.page;
  o["page_size"] = f.page_size;
  jv = std::move(o);
}

CallFilter tag_invoke(const bj::value_to_tag<CallFilter>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  CallFilter f;
  if (auto x = r.string("lead_id")) f.lead_id = *x;
  if (auto x = r.string("campaign_id")) f.campaign_id = *x;
  if (auto x = r.string("status")) f.status = parse_call_status(*x, "status");
  if (auto x = r.string("outcome")) f.outcome = parse_call_outcome(*x, "outcome");
  if (auto x = r.string("direction")) f.direction = parse_call_direction(*x, "direction");
  f.started_from = r.timestamp("started_from");
  f.started_to = r.timestamp("started_to");
  json::read_paging(r, f.page, f.page_size);
  r.finish();
  return f;
}

// ---- CallPage ----------------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CallPage& p) { jv = json::page_to_json(p); }

CallPage tag_invoke(const bj::value_to_tag<CallPage>&, const bj::value& jv) { return json::page_from_json<CallPage>(jv); }

// ---- CallEvent (the data contract's calls.jsonl line) -------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CallEvent& e) {
  bj::object o;
  o["event_id"] = e.event_id;
  o["call_id"] = e.call_id;
  o["gym_id"] = e.gym_id;
  if (!e.lead_external_id.empty()) o["lead_external_id"] = e.lead_external_id;
  if (!e.lead_id.empty()) o["lead_id"] = e.lead_id;
  o["to"] = e.to;
  if (!e.from.empty()) o["from"] = e.from;
  o["direction"] = to_string(e.direction.value_or(CallDirection::Outbound));
  o["started_at"] = opt_time(e.started_at);
  o["ended_at"] = opt_time(e.ended_at);
  o["status"] = e.status ? bj::value(to_string(*e.status)) : bj::value(nullptr);
  o["answered_by"] = e.answered_by ? bj::value(to_string(*e.answered_by)) : bj::value(nullptr);
  o["duration_s"] = e.duration_s ? bj::value(*e.duration_s) : bj::value(nullptr);
  o["outcome"] = e.outcome ? bj::value(to_string(*e.outcome)) : bj::value(nullptr);
  if (e.callback_at) o["callback_at"] = format_timestamp(*e.callback_at);
  if (!e.sentiment.empty()) o["sentiment"] = e.sentiment;
  o["cost_usd"] = e.cost_usd ? bj::value(*e.cost_usd) : bj::value(nullptr);
  o["recording_url"] = opt_text(e.recording_url);
  if (e.recording_duration_s) o["recording_duration_s"] = *e.recording_duration_s;
  if (e.recording_channels) o["recording_channels"] = *e.recording_channels;
  if (e.recording_consent) o["recording_consent"] = *e.recording_consent;
  o["summary"] = opt_text(e.summary);
  if (!e.transcript.empty()) o["transcript"] = e.transcript;
  if (!e.campaign_id.empty()) o["campaign_id"] = e.campaign_id;
  if (!e.provider.empty()) o["provider"] = e.provider;
  if (!e.end_reason.empty()) o["end_reason"] = e.end_reason;
  jv = std::move(o);
}

CallEvent tag_invoke(const bj::value_to_tag<CallEvent>&, const bj::value& jv) {
  ObjectReader r(jv, "");
  CallEvent e;
  if (auto x = r.string("event_id")) e.event_id = *x;
  if (auto x = r.string("call_id")) e.call_id = *x;
  if (auto x = r.string("gym_id")) e.gym_id = *x;
  if (auto x = r.string("lead_external_id")) e.lead_external_id = *x;
  if (auto x = r.string("lead_id")) e.lead_id = *x;
  if (auto x = r.string("to")) e.to = *x;
  if (auto x = r.string("from")) e.from = *x;
  if (auto x = r.string("direction")) e.direction = parse_call_direction(*x, "direction");
  e.started_at = r.timestamp("started_at");
  e.ended_at = r.timestamp("ended_at");
  if (auto x = r.string("status")) e.status = parse_call_status(*x, "status");
  if (auto x = r.string("answered_by")) e.answered_by = parse_answered_by(*x, "answered_by");
  e.duration_s = r.integer("duration_s");
  if (auto x = r.string("outcome")) e.outcome = parse_call_outcome(*x, "outcome");
  e.callback_at = r.timestamp("callback_at");
  if (auto x = r.string("sentiment")) e.sentiment = *x;
  e.cost_usd = read_number(r, "cost_usd");
  if (auto x = r.string("recording_url")) e.recording_url = *x;
  e.recording_duration_s = r.integer("recording_duration_s");
  if (auto x = r.integer("recording_channels")) {
    if (*x != 1 && *x != 2) throw_invalid(r.path("recording_channels"), "must be 1 or 2");
    e.recording_channels = static_cast<int>(*x);
  }
  e.recording_consent = r.boolean("recording_consent");
  if (auto x = r.string("summary")) e.summary = *x;
  if (auto x = r.string("transcript")) e.transcript = *x;
  if (auto x = r.string("campaign_id")) e.campaign_id = *x;
  if (auto x = r.string("provider")) e.provider = *x;
  if (auto x = r.string("end_reason")) e.end_reason = *x;
  r.finish();
  return e;
}

// ---- reports -----------------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const ProcessResult& p) {
  jv = bj::object{{"result", p.kind == ProcessResult::Kind::Applied ? "applied" : "duplicate"},
                  {"call", bj::value_from(p.call)}};
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const IngestReport& r) {
  bj::object by_reason;
  for (const auto& [k, n] : r.rejected_by_reason) by_reason[k] = n;
  bj::array lines;
  for (const auto& l : r.rejected_lines)
    lines.push_back(bj::object{{"line", l.line}, {"reason", l.reason}, {"detail", l.detail}});
  jv = bj::object{{"events", r.events},
                  {"duplicates", r.duplicates},
                  {"applied", r.applied},
                  {"rejected", r.rejected},
                  {"rejected_by_reason", std::move(by_reason)},
                  {"rejected_lines", std::move(lines)},
                  {"rejected_lines_truncated", r.rejected_lines_truncated},
                  {"seconds", r.seconds}};
}

}  // namespace gymdash
