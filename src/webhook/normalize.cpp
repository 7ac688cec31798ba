// Provider webhooks → CallEvents (the mapping tables of docs/webhooks.md), and
// ingest_webhook, which verifies, resolves gym and lead, and applies them.
#include <gymdash/error.hpp>
#include <gymdash/webhook.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <map>

#include "core/json_reader.hpp"
#include "webhook/webhook_text.hpp"

namespace gymdash {
namespace {

namespace bj = boost::json;
using namespace std::chrono;

// ---- lenient JSON reading: absent or null is empty; a wrong type names the path -----

const bj::object* object_at(const bj::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const auto* v = o->if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

std::string text_at(const bj::object* o, std::string_view key, std::string_view path) {
  if (o == nullptr) return {};
  const auto* v = o->if_contains(key);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_string()) throw_invalid(path, fmt::format("expected a string, got {}", json::kind_name(*v)));
  return std::string(v->get_string());
}

std::optional<double> number_at(const bj::object* o, std::string_view key, std::string_view path) {
  if (o == nullptr) return std::nullopt;
  const auto* v = o->if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  throw_invalid(path, fmt::format("expected a number, got {}", json::kind_name(*v)));
}

std::optional<Timestamp> iso_at(const bj::object* o, std::string_view key, std::string_view path) {
  const std::string t = text_at(o, key, path);
  if (t.empty()) return std::nullopt;
  return parse_timestamp(t, path);
}

// The latest time a timestamp may be (9999-12-31T23:59:59.999Z, the last one
// parse_timestamp reads), in Unix milliseconds. A larger number, up to the
// infinity that 1e999 parses to, is refused: converting it to an integer would
// be undefined.
constexpr double kMaxMillis = 253402300799999.0;

std::optional<Timestamp> millis_at(const bj::object* o, std::string_view key, std::string_view path) {
  const auto n = number_at(o, key, path);
  if (!n) return std::nullopt;
  if (*n < 0) throw_invalid(path, "must not be negative");
  if (*n > kMaxMillis) throw_invalid(path, "is after the year 9999 (expected Unix milliseconds)");
  return Timestamp{milliseconds{static_cast<std::int64_t>(*n)}};
}

bj::object parse_body(const std::string& body) {
  boost::system::error_code ec;
  auto v = bj::parse(body, ec);
  if (ec) throw_invalid("body", fmt::format("not JSON: {}", ec.message()));
  if (!v.is_object()) throw_invalid("body", fmt::format("expected a JSON object, got {}", json::kind_name(v)));
  return std::move(v.get_object());
}

std::int64_t seconds_between(Timestamp a, Timestamp b) {
  return static_cast<std::int64_t>(std::llround(duration<double>(b - a).count()));
}

// ---- shared pieces -------------------------------------------------------------

// Where a call says which gym, lead and campaign it belongs to: the metadata
// we sent when placing it, else the webhook URL's query.
void apply_ids(CallEvent& e, const bj::object* metadata, std::string_view metadata_path, const webhook::Params& query) {
  auto pick = [&](std::string& out, std::string_view key) {
    out = text_at(metadata, key, fmt::format("{}.{}", metadata_path, key));
    if (out.empty())
      if (const std::string* v = webhook::param(query, key)) out = *v;
  };
  pick(e.gym_id, "gym_id");
  pick(e.lead_id, "lead_id");
  pick(e.campaign_id, "campaign_id");
  if (e.lead_id.empty()) pick(e.lead_external_id, "lead_external_id");
}

// The fields our assistants' post-call analysis fills (Retell
// custom_analysis_data, Vapi structuredData): outcome, callback_at,
// recording_consent, sentiment. A value we cannot read is left out with a warning.
void apply_analysis(CallEvent& e, const bj::object* data, std::string_view path, std::vector<std::string>& warnings) {
  if (data == nullptr) return;
  auto warn = [&](std::string_view key, const bj::value& v) {
    warnings.push_back(fmt::format("{}.{}: {} is not understood; left out", path, key, bj::serialize(v).substr(0, 80)));
  };
  if (const auto* v = data->if_contains("outcome"); v && !v->is_null()) {
    std::optional<CallOutcome> o;
    if (v->is_string()) {
      try {
        o = parse_call_outcome(v->get_string());
      } catch (const InvalidArgumentError&) {
      }
    }
    if (o) e.outcome = o;
    else warn("outcome", *v);
  }
  if (const auto* v = data->if_contains("callback_at"); v && !v->is_null()) {
    std::optional<Timestamp> t;
    if (v->is_string()) t = try_parse_timestamp(v->get_string());
    if (t) e.callback_at = t;
    else warn("callback_at", *v);
  }
  if (const auto* v = data->if_contains("recording_consent"); v && !v->is_null()) {
    if (v->is_bool()) e.recording_consent = v->get_bool();
    else warn("recording_consent", *v);
  }
  if (const auto* v = data->if_contains("sentiment"); v && !v->is_null() && e.sentiment.empty()) {
    std::string s = v->is_string() ? std::string(v->get_string()) : std::string();
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "positive" || s == "neutral" || s == "negative") e.sentiment = s;
    else warn("sentiment", *v);
  }
}

// An outcome is a conversation's: it implies a person, unless a machine was
// detected, when the outcome is dropped.
void reconcile_outcome(CallEvent& e, std::vector<std::string>& warnings) {
  if (!e.outcome) return;
  if (e.answered_by == AnsweredBy::Machine) {
    warnings.push_back(fmt::format("outcome: {} dropped, the call reached a machine", to_string(*e.outcome)));
    e.outcome.reset();
    e.callback_at.reset();
    return;
  }
  e.answered_by = AnsweredBy::Human;
}

struct StatusMapping {
  CallStatus status;
  std::optional<AnsweredBy> answered_by;
};

// ---- Retell ----------------------------------------------------------------------

StatusMapping retell_end(std::string_view reason, std::string_view call_status) {
  static const std::map<std::string_view, StatusMapping> kReasons = {
      {"user_hangup", {CallStatus::Completed, AnsweredBy::Human}},
      {"agent_hangup", {CallStatus::Completed, AnsweredBy::Human}},
      {"call_transfer", {CallStatus::Completed, AnsweredBy::Human}},
      {"voicemail_reached", {CallStatus::Completed, AnsweredBy::Machine}},
      {"ivr_reached", {CallStatus::Completed, AnsweredBy::Machine}},
      {"inactivity", {CallStatus::Completed, std::nullopt}},
      {"max_duration_reached", {CallStatus::Completed, std::nullopt}},
      {"dial_busy", {CallStatus::Busy, std::nullopt}},
      {"user_declined", {CallStatus::Busy, std::nullopt}},
      {"dial_no_answer", {CallStatus::NoAnswer, std::nullopt}},
      {"dial_failed", {CallStatus::Failed, std::nullopt}},
      {"invalid_destination", {CallStatus::Failed, std::nullopt}},
      {"telephony_provider_permission_denied", {CallStatus::Failed, std::nullopt}},
      {"telephony_provider_unavailable", {CallStatus::Failed, std::nullopt}},
      {"sip_routing_error", {CallStatus::Failed, std::nullopt}},
      {"marked_as_spam", {CallStatus::Failed, std::nullopt}},
      {"concurrency_limit_reached", {CallStatus::Failed, std::nullopt}},
      {"no_valid_payment", {CallStatus::Failed, std::nullopt}},
      {"scam_detected", {CallStatus::Failed, std::nullopt}},
      {"registered_call_timeout", {CallStatus::Failed, std::nullopt}},
  };
  if (const auto it = kReasons.find(reason); it != kReasons.end()) return it->second;
  if (reason.starts_with("error")) return {CallStatus::Failed, std::nullopt};
  if (call_status == "not_connected" || call_status == "error") return {CallStatus::Failed, std::nullopt};
  return {CallStatus::Completed, std::nullopt};
}

NormalizedWebhook normalize_retell(const WebhookRequest& r, Timestamp now) {
  const bj::object root = parse_body(r.body);
  NormalizedWebhook n;
  n.kind = text_at(&root, "event", "event");
  if (n.kind.empty()) throw_invalid("event", "is required");
  const bj::object* call = object_at(&root, "call");
  if (call == nullptr) throw_invalid("call", "is required (an object)");
  const std::string call_id = text_at(call, "call_id", "call.call_id");
  if (call_id.empty()) throw_invalid("call.call_id", "is required");
  if (n.kind != "call_started" && n.kind != "call_ended" && n.kind != "call_analyzed") {
    n.ignored = "retell event " + n.kind.substr(0, 64);
    return n;
  }
  CallEvent e;
  e.provider = "retell";
  e.event_id = "retell:" + call_id + ":" + n.kind;
  e.call_id = call_id;
  apply_ids(e, object_at(call, "metadata"), "call.metadata", webhook::url_query(r.url));
  e.to = text_at(call, "to_number", "call.to_number");
  e.from = text_at(call, "from_number", "call.from_number");
  const std::string direction = text_at(call, "direction", "call.direction");
  if (direction == "inbound") e.direction = CallDirection::Inbound;
  else if (direction == "outbound") e.direction = CallDirection::Outbound;
  const auto start = millis_at(call, "start_timestamp", "call.start_timestamp");
  const auto end = millis_at(call, "end_timestamp", "call.end_timestamp");
  const std::string call_status = text_at(call, "call_status", "call.call_status");
  e.end_reason = text_at(call, "disconnection_reason", "call.disconnection_reason");
  if (n.kind == "call_started") {
    e.status = CallStatus::InProgress;
  } else {
    const auto m = retell_end(e.end_reason, call_status);
    e.status = m.status;
    e.answered_by = m.answered_by;
    e.ended_at = end;
  }
  e.started_at = start ? start : end ? end : std::optional<Timestamp>(now);
  if (start && end && *end >= *start) e.duration_s = seconds_between(*start, *end);
  else if (const auto ms = number_at(call, "duration_ms", "call.duration_ms"); ms && *ms >= 0)
    e.duration_s = static_cast<std::int64_t>(std::llround(*ms / 1000.0));
  e.transcript = text_at(call, "transcript", "call.transcript");
  e.recording_url = text_at(call, "recording_url", "call.recording_url");
  if (const auto cents = number_at(object_at(call, "call_cost"), "combined_cost", "call.call_cost.combined_cost"))
    e.cost_usd = *cents / 100.0;  // Retell reports cents
  if (const bj::object* analysis = object_at(call, "call_analysis")) {
    e.summary = text_at(analysis, "call_summary", "call.call_analysis.call_summary");
    std::string s = text_at(analysis, "user_sentiment", "call.call_analysis.user_sentiment");
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "positive" || s == "neutral" || s == "negative") e.sentiment = s;
    if (const auto* v = analysis->if_contains("in_voicemail"); v && v->is_bool() && v->get_bool())
      e.answered_by = AnsweredBy::Machine;
    apply_analysis(e, object_at(analysis, "custom_analysis_data"), "call.call_analysis.custom_analysis_data",
                   n.warnings);
  }
  reconcile_outcome(e, n.warnings);
  n.events.push_back(std::move(e));
  n.started_at_estimated.push_back(!start);
  return n;
}

// ---- Vapi ------------------------------------------------------------------------

StatusMapping vapi_end(std::string_view reason, bool connected) {
  static const std::map<std::string_view, StatusMapping> kReasons = {
      {"customer-ended-call", {CallStatus::Completed, AnsweredBy::Human}},
      {"assistant-ended-call", {CallStatus::Completed, AnsweredBy::Human}},
      {"assistant-said-end-call-phrase", {CallStatus::Completed, AnsweredBy::Human}},
      {"assistant-ended-call-after-message-spoken", {CallStatus::Completed, AnsweredBy::Human}},
      {"assistant-ended-call-with-hangup-task", {CallStatus::Completed, AnsweredBy::Human}},
      {"assistant-forwarded-call", {CallStatus::Completed, AnsweredBy::Human}},
      {"voicemail", {CallStatus::Completed, AnsweredBy::Machine}},
      {"silence-timed-out", {CallStatus::Completed, std::nullopt}},
      {"exceeded-max-duration", {CallStatus::Completed, std::nullopt}},
      {"customer-busy", {CallStatus::Busy, std::nullopt}},
      {"customer-did-not-answer", {CallStatus::NoAnswer, std::nullopt}},
      {"manually-canceled", {CallStatus::Canceled, std::nullopt}},
      {"customer-did-not-give-microphone-permission", {CallStatus::Failed, std::nullopt}},
      {"twilio-failed-to-connect-call", {CallStatus::Failed, std::nullopt}},
      {"vonage-failed-to-connect-call", {CallStatus::Failed, std::nullopt}},
      {"twilio-reported-customer-misdialed", {CallStatus::Failed, std::nullopt}},
      {"vonage-rejected", {CallStatus::Failed, std::nullopt}},
  };
  if (const auto it = kReasons.find(reason); it != kReasons.end()) return it->second;
  if (reason.find("error") != std::string_view::npos || reason.find("fault") != std::string_view::npos ||
      reason.find("failed") != std::string_view::npos)
    return {CallStatus::Failed, std::nullopt};
  return {connected ? CallStatus::Completed : CallStatus::Failed, std::nullopt};
}

// Each key from the first of the objects that has it (call metadata, then the assistant's).
bj::object merged_metadata(std::initializer_list<const bj::object*> sources) {
  bj::object out;
  for (const bj::object* s : sources)
    if (s != nullptr)
      for (const auto& kv : *s)
        if (!out.contains(kv.key())) out.emplace(kv.key(), kv.value());
  return out;
}

NormalizedWebhook normalize_vapi(const WebhookRequest& r, Timestamp now) {
  const bj::object root = parse_body(r.body);
  NormalizedWebhook n;
  const bj::object* msg = object_at(&root, "message");
  if (msg == nullptr) throw_invalid("message", "is required (an object)");
  n.kind = text_at(msg, "type", "message.type");
  if (n.kind.empty()) throw_invalid("message.type", "is required");
  if (n.kind != "status-update" && n.kind != "end-of-call-report") {
    n.ignored = "vapi message type " + n.kind.substr(0, 64);
    return n;
  }
  const bj::object* call = object_at(msg, "call");
  if (call == nullptr) throw_invalid("message.call", "is required (an object)");
  const std::string call_id = text_at(call, "id", "message.call.id");
  if (call_id.empty()) throw_invalid("message.call.id", "is required");

  CallEvent e;
  e.provider = "vapi";
  e.call_id = call_id;
  const bj::object* overrides = object_at(call, "assistantOverrides");
  const bj::object metadata = merged_metadata(
      {object_at(call, "metadata"), object_at(object_at(msg, "assistant"), "metadata"), object_at(overrides, "metadata")});
  apply_ids(e, &metadata, "message.call.metadata", webhook::url_query(r.url));

  const std::string type = text_at(call, "type", "message.call.type");
  const bool inbound = type == "inboundPhoneCall";
  e.direction = inbound ? CallDirection::Inbound : CallDirection::Outbound;
  std::string customer = text_at(object_at(call, "customer"), "number", "message.call.customer.number");
  if (customer.empty()) customer = text_at(object_at(msg, "customer"), "number", "message.customer.number");
  std::string ours = text_at(object_at(call, "phoneNumber"), "number", "message.call.phoneNumber.number");
  if (ours.empty()) ours = text_at(object_at(msg, "phoneNumber"), "number", "message.phoneNumber.number");
  e.to = inbound ? ours : customer;
  e.from = inbound ? customer : ours;

  auto first_iso = [&](std::string_view key) {
    if (auto t = iso_at(msg, key, fmt::format("message.{}", key))) return t;
    return iso_at(call, key, fmt::format("message.call.{}", key));
  };
  const auto start = first_iso("startedAt");
  const auto end = first_iso("endedAt");
  e.end_reason = text_at(msg, "endedReason", "message.endedReason");
  if (e.end_reason.empty()) e.end_reason = text_at(call, "endedReason", "message.call.endedReason");

  if (n.kind == "status-update") {
    const std::string status = text_at(msg, "status", "message.status");
    if (status.empty()) throw_invalid("message.status", "is required");
    e.event_id = "vapi:" + call_id + ":status-update:" + status;
    if (status == "scheduled" || status == "queued") e.status = CallStatus::Queued;
    else if (status == "ringing") e.status = CallStatus::Ringing;
    else if (status == "in-progress" || status == "forwarding") e.status = CallStatus::InProgress;
    else if (status == "ended") {
      const auto m = vapi_end(e.end_reason, start.has_value());
      e.status = m.status;
      e.answered_by = m.answered_by;
      e.ended_at = end;
    } else {
      n.ignored = "vapi status " + status.substr(0, 64);
      return n;
    }
  } else {
    e.event_id = "vapi:" + call_id + ":end-of-call-report";
    const auto m = vapi_end(e.end_reason, start.has_value());
    e.status = m.status;
    e.answered_by = m.answered_by;
    e.ended_at = end;
    if (const auto d = number_at(msg, "durationSeconds", "message.durationSeconds"); d && *d >= 0)
      e.duration_s = static_cast<std::int64_t>(std::llround(*d));
    else if (start && end && *end >= *start)
      e.duration_s = seconds_between(*start, *end);
    e.cost_usd = number_at(msg, "cost", "message.cost");
    if (!e.cost_usd) e.cost_usd = number_at(call, "cost", "message.call.cost");
    const bj::object* artifact = object_at(msg, "artifact");
    e.transcript = text_at(artifact, "transcript", "message.artifact.transcript");
    if (e.transcript.empty()) e.transcript = text_at(msg, "transcript", "message.transcript");
    std::string mono = text_at(artifact, "recordingUrl", "message.artifact.recordingUrl");
    if (mono.empty()) mono = text_at(msg, "recordingUrl", "message.recordingUrl");
    if (mono.empty())
      mono = text_at(object_at(object_at(artifact, "recording"), "mono"), "combinedUrl",
                     "message.artifact.recording.mono.combinedUrl");
    std::string stereo = text_at(artifact, "stereoRecordingUrl", "message.artifact.stereoRecordingUrl");
    if (stereo.empty()) stereo = text_at(msg, "stereoRecordingUrl", "message.stereoRecordingUrl");
    if (!mono.empty()) {
      e.recording_url = mono;
      e.recording_channels = 1;
    } else if (!stereo.empty()) {
      e.recording_url = stereo;
      e.recording_channels = 2;
    }
    if (!e.recording_url.empty() && e.duration_s) e.recording_duration_s = e.duration_s;
    if (const bj::object* analysis = object_at(msg, "analysis")) {
      e.summary = text_at(analysis, "summary", "message.analysis.summary");
      apply_analysis(e, object_at(analysis, "structuredData"), "message.analysis.structuredData", n.warnings);
    }
  }
  const auto sent = millis_at(msg, "timestamp", "message.timestamp");
  e.started_at = start ? start : sent ? sent : std::optional<Timestamp>(now);
  if (e.ended_at && *e.started_at > *e.ended_at) e.started_at = e.ended_at;
  reconcile_outcome(e, n.warnings);
  n.events.push_back(std::move(e));
  n.started_at_estimated.push_back(!start);
  return n;
}

// ---- Twilio ----------------------------------------------------------------------

std::optional<std::int64_t> form_int(const webhook::Params& p, std::string_view name) {
  const std::string* v = webhook::param(p, name);
  if (v == nullptr || v->empty()) return std::nullopt;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || end != v->data() + v->size() || n < 0)
    throw_invalid(name, fmt::format("\"{}\" is not a whole number of 0 or more", v->substr(0, 32)));
  return n;
}

std::optional<Timestamp> form_time(const webhook::Params& p, std::string_view name) {
  const std::string* v = webhook::param(p, name);
  if (v == nullptr || v->empty()) return std::nullopt;
  if (auto t = webhook::parse_rfc2822(*v)) return t;
  if (auto t = try_parse_timestamp(*v)) return t;
  throw_invalid(name, fmt::format("\"{}\" is not a date (RFC 2822, as Twilio sends it)", v->substr(0, 64)));
}

std::optional<AnsweredBy> twilio_answered_by(const std::string& v) {
  if (v == "human") return AnsweredBy::Human;
  if (v == "machine_start" || v == "machine_end_beep" || v == "machine_end_silence" || v == "machine_end_other" ||
      v == "fax")
    return AnsweredBy::Machine;
  if (v == "unknown") return AnsweredBy::Unknown;
  return std::nullopt;
}

NormalizedWebhook normalize_twilio(const WebhookRequest& r, Timestamp now) {
  const auto p = webhook::parse_form(r.body, "body");
  NormalizedWebhook n;
  const std::string* sid = webhook::param(p, "CallSid");
  if (sid == nullptr || sid->empty()) throw_invalid("CallSid", "is required");
  CallEvent e;
  e.provider = "twilio";
  e.call_id = *sid;
  apply_ids(e, nullptr, "", webhook::url_query(r.url));
  auto get = [&](std::string_view name) {
    const std::string* v = webhook::param(p, name);
    return v == nullptr ? std::string() : *v;
  };
  e.to = get("To");
  e.from = get("From");
  const std::string direction = get("Direction");
  if (direction == "inbound") e.direction = CallDirection::Inbound;
  else if (direction.starts_with("outbound")) e.direction = CallDirection::Outbound;
  const auto sent = form_time(p, "Timestamp");
  bool estimated = true;
  const std::string answered = get("AnsweredBy");
  if (!answered.empty()) {
    e.answered_by = twilio_answered_by(answered);
    if (!e.answered_by) n.warnings.push_back(fmt::format("AnsweredBy: \"{}\" is not understood; left out", answered.substr(0, 32)));
  }
  const std::string* recording_sid = webhook::param(p, "RecordingSid");
  const std::string status = get("CallStatus");
  if (recording_sid != nullptr && !recording_sid->empty() && status.empty()) {
    n.kind = "recording";
    const std::string rec_status = get("RecordingStatus");
    if (!rec_status.empty() && rec_status != "completed") {
      n.ignored = "twilio recording status " + rec_status.substr(0, 32);
      return n;
    }
    e.event_id = "twilio:" + *sid + ":recording:" + *recording_sid;
    e.recording_url = get("RecordingUrl");
    e.recording_duration_s = form_int(p, "RecordingDuration");
    if (const auto ch = form_int(p, "RecordingChannels")) {
      if (*ch != 1 && *ch != 2) throw_invalid("RecordingChannels", "must be 1 or 2");
      e.recording_channels = static_cast<int>(*ch);
    }
    e.started_at = form_time(p, "RecordingStartTime");
  } else if (!status.empty()) {
    n.kind = status;
    e.event_id = "twilio:" + *sid + ":" + status;
    static const std::map<std::string_view, CallStatus> kStatuses = {
        {"queued", CallStatus::Queued},       {"initiated", CallStatus::Queued},
        {"ringing", CallStatus::Ringing},     {"in-progress", CallStatus::InProgress},
        {"answered", CallStatus::InProgress}, {"completed", CallStatus::Completed},
        {"busy", CallStatus::Busy},           {"failed", CallStatus::Failed},
        {"no-answer", CallStatus::NoAnswer},  {"canceled", CallStatus::Canceled}};
    const auto it = kStatuses.find(status);
    if (it == kStatuses.end())
      throw_invalid("CallStatus", fmt::format("\"{}\" is not a Twilio call status", status.substr(0, 32)));
    e.status = it->second;
    e.duration_s = form_int(p, "CallDuration");
    if (is_terminal(*e.status)) {
      e.end_reason = status;
      if (const std::string* code = webhook::param(p, "SipResponseCode"); code && !code->empty())
        e.end_reason += " (sip " + code->substr(0, 8) + ")";
      e.ended_at = sent;
      // No start worked out of a duration no call has (the call service
      // refuses the event for it, naming duration_s): one of millions of
      // years would overflow the time arithmetic.
      constexpr std::int64_t kLongestShiftS = 1'000'000'000'000;
      if (sent && e.duration_s && *e.duration_s <= kLongestShiftS)  // never negative (form_int)
        e.started_at = *sent - seconds{*e.duration_s};
      else e.started_at = sent;
    } else {
      e.started_at = sent;
      // A queued or ringing callback is sent as the call starts; an answer comes later.
      estimated = !sent || *e.status == CallStatus::InProgress;
    }
    if (const std::string* url = webhook::param(p, "RecordingUrl"); url && !url->empty()) {
      e.recording_url = *url;
      e.recording_duration_s = form_int(p, "RecordingDuration");
    }
  } else if (!answered.empty()) {
    n.kind = "amd";
    e.event_id = "twilio:" + *sid + ":amd";
  } else {
    n.ignored = "twilio callback without CallStatus, RecordingSid or AnsweredBy";
    return n;
  }
  if (!e.started_at) e.started_at = sent ? sent : std::optional<Timestamp>(now);
  n.events.push_back(std::move(e));
  n.started_at_estimated.push_back(estimated);
  return n;
}

}  // namespace

NormalizedWebhook normalize_webhook(const WebhookRequest& request, Timestamp now) {
  if (request.provider == "retell") return normalize_retell(request, now);
  if (request.provider == "vapi") return normalize_vapi(request, now);
  if (request.provider == "twilio") return normalize_twilio(request, now);
  throw_invalid("provider",
                fmt::format("\"{}\" is not a webhook provider (retell, vapi, twilio)", request.provider.substr(0, 32)));
}

WebhookResult ingest_webhook(CallService& calls, const WebhookRequest& request, const WebhookOptions& options,
                             Timestamp now) {
  verify_webhook(request, options, now);
  NormalizedWebhook n = normalize_webhook(request, now);
  WebhookResult result;
  result.provider = request.provider;
  result.kind = n.kind;
  result.ignored = std::move(n.ignored);
  result.warnings = std::move(n.warnings);
  for (std::size_t i = 0; i < n.events.size(); ++i) {
    CallEvent& e = n.events[i];
    const bool estimated = i < n.started_at_estimated.size() && n.started_at_estimated[i];
    if (e.gym_id.empty())
      throw_invalid("gym_id", fmt::format("the {} webhook names no gym: {}", request.provider,
                                          request.provider == "twilio"
                                              ? "put gym_id in the query of the status callback URL"
                                              : "put gym_id in the call's metadata when placing it, or in the "
                                                "webhook URL's query"));
    const bool no_lead = e.lead_id.empty() && e.lead_external_id.empty();
    if (no_lead || estimated) {
      std::optional<Call> stored;
      try {
        stored = calls.get_call(e.gym_id, e.call_id);
      } catch (const NotFoundError& ex) {
        if (ex.field() == "gym_id") throw;
      }
      if (stored) {
        if (no_lead) e.lead_id = stored->lead_id;
        if (estimated) e.started_at = stored->started_at;
      } else if (no_lead) {
        throw NotFoundError(fmt::format("lead_id: the {} webhook names no lead (metadata or URL lead_id) and gym {} "
                                        "has no call {} to take it from",
                                        request.provider, e.gym_id.substr(0, 64), e.call_id.substr(0, 64)),
                            "lead_id");
      }
    }
    if (e.ended_at && e.started_at && *e.started_at > *e.ended_at) e.started_at = e.ended_at;
    ProcessResult pr = calls.process_event(e);
    ++result.events;
    if (pr.kind == ProcessResult::Kind::Duplicate) ++result.duplicates;
    else ++result.applied;
    result.results.push_back(WebhookEventResult{e.event_id, pr.kind, std::move(pr.call)});
  }
  return result;
}

WebhookResult ingest_webhook(Runtime& runtime, const WebhookRequest& request, const WebhookOptions& options) {
  WebhookOptions o = options;
  if (o.secrets.empty()) o.secrets = webhook_secrets(runtime.config(), request.provider);
  const auto started = steady_clock::now();
  LogRecord record;
  record.operation = "webhook.ingest";
  record.fields.emplace_back("provider", request.provider.substr(0, 16));
  auto finish = [&](LogLevel level) {
    record.level = level;
    record.duration_ms = duration<double, std::milli>(steady_clock::now() - started).count();
    runtime.logger().log(std::move(record));
  };
  try {
    WebhookResult result = ingest_webhook(runtime.calls(), request, o, runtime.clock().now());
    record.fields.emplace_back("kind", result.kind.substr(0, 64));
    record.fields.emplace_back("events", std::to_string(result.events));
    record.fields.emplace_back("applied", std::to_string(result.applied));
    record.fields.emplace_back("duplicates", std::to_string(result.duplicates));
    if (!result.results.empty()) {
      record.gym_id = result.results.front().call.gym_id.substr(0, 64);
      record.lead_id = result.results.front().call.lead_id.substr(0, 64);
      record.call_id = result.results.front().call.id;
    }
    record.message = result.ignored.empty() ? "applied" : "ignored: " + result.ignored;
    finish(LogLevel::Info);
    return result;
  } catch (const Error& e) {
    record.code = e.code();
    if (!e.field().empty()) record.fields.emplace_back("field", e.field().substr(0, 64));
    record.message = e.what();
    // As for every service operation: a caller's mistake (a refused signature included) is routine.
    finish(e.code() == ErrorCode::StorageError || e.code() == ErrorCode::Internal || e.code() == ErrorCode::Unavailable
               ? LogLevel::Error
               : LogLevel::Info);
    throw;
  }
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const WebhookResult& v) {
  bj::array results;
  for (const auto& r : v.results)
    results.push_back(bj::object{{"event_id", r.event_id},
                                 {"result", r.kind == ProcessResult::Kind::Duplicate ? "duplicate" : "applied"},
                                 {"call", bj::value_from(r.call)}});
  bj::array warnings;
  for (const auto& w : v.warnings) warnings.push_back(bj::string(w));
  jv = bj::object{{"provider", v.provider},
                  {"kind", v.kind},
                  {"events", v.events},
                  {"applied", v.applied},
                  {"duplicates", v.duplicates},
                  {"ignored", v.ignored.empty() ? bj::value(nullptr) : bj::value(v.ignored)},
                  {"warnings", std::move(warnings)},
                  {"results", std::move(results)}};
}

}  // namespace gymdash
