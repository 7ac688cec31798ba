// Webhooks: signatures of Retell, Vapi and Twilio (accepted, tampered, wrong
// secret, missing, stale), normalization of real-shaped payloads into calls,
// duplicates, out-of-order delivery, resolution of gym and lead, bad bodies.
#include <gymdash/gymdash.hpp>
#include <gymdash/webhook.hpp>

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_util.hpp"

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

Timestamp T(const char* iso) { return parse_timestamp(iso); }

const std::string kSecret = "key_test_3f1e0c9a7b";

std::string fixture(const std::string& name) {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "data" / "webhooks" / name;
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in, "missing fixture " << path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

struct Fixture {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(T("2026-11-02T15:00:00Z"));
  std::unique_ptr<Runtime> rt;
  int line = 2001;

  explicit Fixture(std::string storage = "memory:") {
    RuntimeOptions o;
    o.storage = std::move(storage);
    o.clock = clock;
    o.worker_threads = 1;
    o.log_level = LogLevel::Warn;
    rt = Runtime::open(o);
    Gym g;
    g.id = "gym-a";
    g.name = "Iron Temple";
    g.timezone = "America/New_York";
    rt->gyms().create_gym(g);
  }

  Lead add(std::string external_id) {
    LeadInput in;
    in.external_id = std::move(external_id);
    in.phone = "(212) 736-" + std::to_string(line++);
    in.consent = Consent{true, clock->now() - 24h, "web_form", ""};
    return rt->leads().create_lead("gym-a", in).lead;
  }

  std::int64_t call_count() { return rt->calls().list_calls("gym-a", CallFilter{}).total; }

  WebhookRequest signed_request(const std::string& provider, std::string body, std::string url = {}) {
    WebhookRequest r;
    r.provider = provider;
    r.url = std::move(url);
    r.body = std::move(body);
    r.headers["Content-Type"] = provider == "twilio" ? "application/x-www-form-urlencoded" : "application/json";
    sign_webhook(r, kSecret, clock->now());
    return r;
  }

  WebhookResult ingest(const WebhookRequest& r) {
    WebhookOptions o;
    o.secrets = {kSecret};
    return ingest_webhook(rt->calls(), r, o, clock->now());
  }
};

// The error ingest throws, for checking its code and field.
template <class F>
Error caught(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected an error");
  return Error(ErrorCode::Ok, "");
}

}  // namespace

TEST_CASE("header names are looked up without regard to case") {
  WebhookHeaders h;
  h["X-Retell-Signature"] = "v=1,d=ab";
  CHECK(h.count("x-retell-signature") == 1);
  CHECK(h.find("X-RETELL-SIGNATURE") != h.end());
  h["x-retell-signature"] = "v=2,d=cd";
  CHECK(h.size() == 1);
}

TEST_CASE("retell: started, ended and analyzed build one call and move the lead") {
  Fixture f;
  const Lead lead = f.add("ext-r1");
  auto body = [&](const char* name) { return replace_all(fixture(name), "@LEAD_ID@", lead.id); };

  auto r1 = f.ingest(f.signed_request("retell", body("retell_call_started.json")));
  CHECK(r1.applied == 1);
  CHECK(r1.kind == "call_started");
  REQUIRE(r1.results.size() == 1);
  CHECK(r1.results[0].event_id == "retell:Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6:call_started");
  CHECK(r1.results[0].call.status == CallStatus::InProgress);

  auto r2 = f.ingest(f.signed_request("retell", body("retell_call_ended.json")));
  CHECK(r2.applied == 1);
  auto r3 = f.ingest(f.signed_request("retell", body("retell_call_analyzed.json")));
  CHECK(r3.applied == 1);
  CHECK(r3.warnings.empty());

  const Call c = f.rt->calls().get_call("gym-a", "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6");
  CHECK(c.lead_id == lead.id);
  CHECK(c.provider == "retell");
  CHECK(c.status == CallStatus::Completed);
  CHECK(c.answered_by == AnsweredBy::Human);
  CHECK(c.started_at == T("2026-11-02T14:55:00Z"));
  CHECK(c.ended_at == T("2026-11-02T14:57:05Z"));
  CHECK(c.duration_s == 125);
  CHECK(c.outcome == CallOutcome::TrialBooked);
  CHECK(c.sentiment == "positive");
  CHECK(c.summary == "Dana agreed to a free trial class on Thursday.");
  CHECK(c.transcript.find("free trial class") != std::string::npos);
  CHECK(c.recording_url.ends_with("/recording.wav"));
  CHECK(c.recording_consent == true);
  REQUIRE(c.cost_usd.has_value());
  CHECK(*c.cost_usd == doctest::Approx(0.175));
  CHECK(c.end_reason == "user_hangup");
  CHECK(c.campaign_id == "camp-fall");
  CHECK(c.to_number == "+12127362001");
  CHECK(c.direction == CallDirection::Outbound);
  CHECK(f.call_count() == 1);
  CHECK(f.rt->leads().get_lead("gym-a", lead.id).status == LeadStatus::TrialBooked);
}

TEST_CASE("retell: a bad, missing or stale signature is refused and nothing is written") {
  Fixture f;
  const Lead lead = f.add("ext-r2");
  const std::string body = replace_all(fixture("retell_call_ended.json"), "@LEAD_ID@", lead.id);

  SUBCASE("tampered body") {
    auto r = f.signed_request("retell", body);
    r.body = replace_all(r.body, "user_hangup", "agent_hangup");
    const auto e = caught([&] { f.ingest(r); });
    CHECK(e.code() == ErrorCode::InvalidArgument);
    CHECK(e.field() == "signature");
  }
  SUBCASE("wrong secret") {
    auto r = f.signed_request("retell", body);
    sign_webhook(r, "key_someone_else", f.clock->now());
    CHECK(caught([&] { f.ingest(r); }).field() == "signature");
  }
  SUBCASE("missing header") {
    auto r = f.signed_request("retell", body);
    r.headers.erase("X-Retell-Signature");
    const auto e = caught([&] { f.ingest(r); });
    CHECK(e.field() == "signature");
    CHECK(std::string(e.what()).find("missing x-retell-signature") != std::string::npos);
  }
  SUBCASE("malformed header") {
    auto r = f.signed_request("retell", body);
    r.headers["x-retell-signature"] = "deadbeef";
    CHECK(caught([&] { f.ingest(r); }).field() == "signature");
  }
  SUBCASE("stale: signed more than 5 minutes ago") {
    WebhookRequest r;
    r.provider = "retell";
    r.body = body;
    sign_webhook(r, kSecret, f.clock->now() - 301s);
    const auto e = caught([&] { f.ingest(r); });
    CHECK(e.field() == "signature");
    CHECK(std::string(e.what()).find("replay") != std::string::npos);
  }
  SUBCASE("signed in the future beyond the tolerance") {
    WebhookRequest r;
    r.provider = "retell";
    r.body = body;
    sign_webhook(r, kSecret, f.clock->now() + 10min);
    CHECK(caught([&] { f.ingest(r); }).field() == "signature");
  }
  SUBCASE("no secret configured") {
    auto r = f.signed_request("retell", body);
    const auto e = caught([&] { ingest_webhook(f.rt->calls(), r, WebhookOptions{}, f.clock->now()); });
    CHECK(e.field() == "secret");
  }
  CHECK(f.call_count() == 0);
}

TEST_CASE("retell: within the tolerance, and a second key during rotation") {
  Fixture f;
  const Lead lead = f.add("ext-r3");
  WebhookRequest r;
  r.provider = "retell";
  r.body = replace_all(fixture("retell_call_ended.json"), "@LEAD_ID@", lead.id);
  sign_webhook(r, kSecret, f.clock->now() - 299s);
  WebhookOptions o;
  o.secrets = {"key_old_one", kSecret};
  CHECK(ingest_webhook(f.rt->calls(), r, o, f.clock->now()).applied == 1);
}

TEST_CASE("retell: a re-delivery is a duplicate; out-of-order events merge") {
  Fixture f;
  const Lead lead = f.add("ext-r4");
  auto body = [&](const char* name) { return replace_all(fixture(name), "@LEAD_ID@", lead.id); };
  const auto ended = f.signed_request("retell", body("retell_call_ended.json"));
  CHECK(f.ingest(ended).applied == 1);
  // Retell retries with a new signature; the event id is the same.
  f.clock->advance(20s);
  const auto again = f.ingest(f.signed_request("retell", body("retell_call_ended.json")));
  CHECK(again.duplicates == 1);
  CHECK(again.applied == 0);
  CHECK(again.results[0].kind == ProcessResult::Kind::Duplicate);
  // call_started arriving after call_ended does not reopen the call.
  CHECK(f.ingest(f.signed_request("retell", body("retell_call_started.json"))).applied == 1);
  const Call c = f.rt->calls().get_call("gym-a", "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6");
  CHECK(c.status == CallStatus::Completed);
  CHECK(c.ended_at == T("2026-11-02T14:57:05Z"));
  CHECK(f.call_count() == 1);
}

TEST_CASE("retell: a call that never connected") {
  Fixture f;
  const Lead lead = f.add("ext-r5");
  const auto r = f.ingest(
      f.signed_request("retell", replace_all(fixture("retell_dial_no_answer.json"), "@LEAD_ID@", lead.id)));
  const Call& c = r.results.at(0).call;
  CHECK(c.status == CallStatus::NoAnswer);
  CHECK(c.end_reason == "dial_no_answer");
  CHECK(c.started_at == T("2026-11-02T14:55:30Z"));  // no start: its end stands in
  CHECK_FALSE(c.outcome.has_value());
  CHECK(f.rt->leads().get_lead("gym-a", lead.id).attempts == 1);
}

TEST_CASE("retell: gym and lead resolution") {
  Fixture f;
  const Lead lead = f.add("ext-r6");
  const std::string ended = replace_all(fixture("retell_call_ended.json"), "@LEAD_ID@", lead.id);

  SUBCASE("no gym anywhere") {
    const std::string body = replace_all(ended, R"("gym_id": "gym-a", )", "");
    CHECK(caught([&] { f.ingest(f.signed_request("retell", body)); }).field() == "gym_id");
  }
  SUBCASE("gym from the URL's query") {
    const std::string body = replace_all(ended, R"("gym_id": "gym-a", )", "");
    CHECK(f.ingest(f.signed_request("retell", body, "https://hooks.example.com/retell?gym_id=gym-a")).applied == 1);
  }
  SUBCASE("unknown gym") {
    const std::string body = replace_all(ended, R"("gym_id": "gym-a")", R"("gym_id": "gym-zz")");
    const auto e = caught([&] { f.ingest(f.signed_request("retell", body)); });
    CHECK(e.code() == ErrorCode::NotFound);
    CHECK(e.field() == "gym_id");
  }
  SUBCASE("unknown lead") {
    const std::string body = replace_all(ended, lead.id, "lead_nobody");
    const auto e = caught([&] { f.ingest(f.signed_request("retell", body)); });
    CHECK(e.code() == ErrorCode::NotFound);
    CHECK(e.field() == "lead_id");
  }
  SUBCASE("no lead: taken from the stored call, else refused") {
    const std::string no_lead = replace_all(fixture("retell_call_analyzed.json"), R"(, "lead_id": "@LEAD_ID@")", "");
    const auto e = caught([&] { f.ingest(f.signed_request("retell", no_lead)); });
    CHECK(e.code() == ErrorCode::NotFound);
    CHECK(e.field() == "lead_id");
    CHECK(f.ingest(f.signed_request("retell", ended)).applied == 1);
    const auto r = f.ingest(f.signed_request("retell", no_lead));
    CHECK(r.applied == 1);
    CHECK(r.results[0].call.lead_id == lead.id);
  }
  CHECK(f.call_count() <= 1);
}

TEST_CASE("retell: malformed bodies name the field") {
  Fixture f;
  CHECK(caught([&] { f.ingest(f.signed_request("retell", "{\"event\": \"call_ended\", ")); }).field() == "body");
  CHECK(caught([&] { f.ingest(f.signed_request("retell", "[1,2]")); }).field() == "body");
  CHECK(caught([&] { f.ingest(f.signed_request("retell", R"({"call": {"call_id": "x"}})")); }).field() == "event");
  CHECK(caught([&] { f.ingest(f.signed_request("retell", R"({"event": "call_ended"})")); }).field() == "call");
  CHECK(caught([&] { f.ingest(f.signed_request("retell", R"({"event": "call_ended", "call": {}})")); }).field() ==
        "call.call_id");
  CHECK(caught([&] {
          f.ingest(f.signed_request("retell", R"({"event": "call_ended", "call": {"call_id": "x", "start_timestamp": "soon"}})"));
        }).field() == "call.start_timestamp");
  CHECK(f.call_count() == 0);
  // Other events are verified, then ignored.
  const auto r = f.ingest(f.signed_request("retell", R"({"event": "transcript_updated", "call": {"call_id": "x"}})"));
  CHECK(r.events == 0);
  CHECK(r.ignored == "retell event transcript_updated");
}

TEST_CASE("vapi: status update and end-of-call report") {
  Fixture f;
  const Lead lead = f.add("ext-vapi-1");
  const auto s = f.ingest(f.signed_request("vapi", fixture("vapi_status_update.json")));
  CHECK(s.applied == 1);
  CHECK(s.results[0].event_id == "vapi:5f1c7d2e-8a4b-4c1e-9f0a-3b2d6e7f8a91:status-update:in-progress");
  CHECK(s.results[0].call.status == CallStatus::InProgress);

  const auto r = f.ingest(f.signed_request("vapi", fixture("vapi_end_of_call_report.json")));
  CHECK(r.applied == 1);
  const Call& c = r.results.at(0).call;
  CHECK(c.lead_id == lead.id);
  CHECK(c.provider == "vapi");
  CHECK(c.status == CallStatus::Completed);
  CHECK(c.answered_by == AnsweredBy::Human);
  CHECK(c.outcome == CallOutcome::CallbackRequested);
  CHECK(c.callback_at == T("2026-11-09T17:00:00Z"));
  CHECK(c.sentiment == "neutral");
  CHECK(c.duration_s == 90);
  CHECK(c.end_reason == "customer-ended-call");
  CHECK(c.recording_url == "https://storage.vapi.ai/5f1c7d2e-mono.wav");
  CHECK(c.recording_channels == 1);
  CHECK(c.recording_duration_s == 90);
  CHECK(c.summary == "The lead asked to be called back next week.");
  CHECK(c.transcript.find("call me back") != std::string::npos);
  CHECK(*c.cost_usd == doctest::Approx(0.1245));
  CHECK(c.to_number == "+12127362003");
  CHECK(c.from_number == "+12125550100");
  CHECK(c.campaign_id == "camp-fall");
  CHECK(f.call_count() == 1);
  CHECK(f.ingest(f.signed_request("vapi", fixture("vapi_end_of_call_report.json"))).duplicates == 1);
}

TEST_CASE("vapi: secrets and HMAC credentials") {
  Fixture f;
  f.add("ext-vapi-1");
  const std::string body = fixture("vapi_end_of_call_report.json");

  SUBCASE("wrong x-vapi-secret") {
    auto r = f.signed_request("vapi", body);
    r.headers["X-Vapi-Secret"] = "not-it";
    CHECK(caught([&] { f.ingest(r); }).field() == "signature");
  }
  SUBCASE("no header") {
    WebhookRequest r{"vapi", "", {}, body};
    CHECK(caught([&] { f.ingest(r); }).field() == "signature");
  }
  CHECK(f.call_count() == 0);
}

TEST_CASE("vapi: an HMAC credential, with and without a timestamp") {
  Fixture f;
  // Digests computed independently of the library: HMAC-SHA256(kSecret, "1793631600." + body) and of the body alone.
  WebhookRequest r{"vapi", "", {}, R"({"message":{"type":"speech-update","status":"started"}})"};
  r.headers["X-Signature"] = "b57eee406911a15dfa05c17cf370f55be000eaa5463c519619db64d72df76732";
  r.headers["X-Timestamp"] = "1793631600";
  CHECK(f.ingest(r).ignored == "vapi message type speech-update");
  f.clock->advance(301s);
  CHECK(caught([&] { f.ingest(r); }).field() == "signature");  // stale
  r.headers.erase("X-Timestamp");
  CHECK(caught([&] { f.ingest(r); }).field() == "signature");  // the digest covered the timestamp
  r.headers["x-signature"] = "sha256=4a239ac3feb37b55a73457560fc4274b3fdcbeb056a19da3126a1601cc7bc855";
  CHECK(f.ingest(r).events == 0);
  r.body += " ";
  CHECK(caught([&] { f.ingest(r); }).field() == "signature");
}

TEST_CASE("vapi: ignored message types and bad bodies") {
  Fixture f;
  const auto r = f.ingest(f.signed_request("vapi", R"({"message": {"type": "speech-update", "status": "started"}})"));
  CHECK(r.ignored == "vapi message type speech-update");
  CHECK(caught([&] { f.ingest(f.signed_request("vapi", R"({"msg": {}})")); }).field() == "message");
  CHECK(caught([&] { f.ingest(f.signed_request("vapi", R"({"message": {"type": "end-of-call-report"}})")); }).field() ==
        "message.call");
  CHECK(caught([&] {
          f.ingest(f.signed_request("vapi", R"({"message": {"type": "end-of-call-report", "call": {"id": 7}}})"));
        }).field() == "message.call.id");
  CHECK(f.call_count() == 0);
}

TEST_CASE("twilio: status callbacks out of order, then the recording") {
  Fixture f;
  const Lead lead = f.add("ext-t1");
  const std::string url = "https://hooks.example.com/twilio/status?gym_id=gym-a&lead_id=" + lead.id;

  // completed arrives first: its start is estimated from Timestamp − CallDuration.
  const auto done = f.ingest(f.signed_request("twilio", fixture("twilio_status_completed.form"), url));
  CHECK(done.applied == 1);
  CHECK(done.results[0].event_id == "twilio:CA1f0e4c2a9b8d7e6f5a4b3c2d1e0f9a8b:completed");
  Call c = done.results[0].call;
  CHECK(c.status == CallStatus::Completed);
  CHECK(c.answered_by == AnsweredBy::Machine);
  CHECK(c.duration_s == 175);
  CHECK(c.ended_at == T("2026-11-02T14:58:05Z"));
  CHECK(c.started_at == T("2026-11-02T14:55:10Z"));
  CHECK(c.provider == "twilio");
  CHECK(c.end_reason == "completed (sip 200)");

  const auto ringing = f.ingest(f.signed_request("twilio", fixture("twilio_status_ringing.form"), url));
  CHECK(ringing.applied == 1);
  c = ringing.results[0].call;
  CHECK(c.status == CallStatus::Completed);  // a terminal status wins
  CHECK(c.started_at == T("2026-11-02T14:55:02Z"));

  const auto rec = f.ingest(f.signed_request("twilio", fixture("twilio_recording.form"),
                                             "https://hooks.example.com/twilio/recording?gym_id=gym-a"));
  CHECK(rec.applied == 1);
  c = rec.results[0].call;
  CHECK(c.lead_id == lead.id);  // from the stored call
  CHECK(c.recording_url.ends_with("/Recordings/RE4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f"));
  CHECK(c.recording_channels == 2);
  CHECK(c.recording_duration_s == 170);
  CHECK(c.started_at == T("2026-11-02T14:55:02Z"));  // the recording's start does not move the call's
  CHECK(f.call_count() == 1);
  CHECK(f.ingest(f.signed_request("twilio", fixture("twilio_recording.form"),
                                  "https://hooks.example.com/twilio/recording?gym_id=gym-a"))
            .duplicates == 1);
}

TEST_CASE("twilio: signature covers URL and every parameter") {
  Fixture f;
  const Lead lead = f.add("ext-t2");
  const std::string url = "https://hooks.example.com/twilio/status?gym_id=gym-a&lead_id=" + lead.id;
  const std::string body = fixture("twilio_status_completed.form");

  SUBCASE("the default port is tolerated") {
    auto r = f.signed_request("twilio", body, url);
    r.url = "https://hooks.example.com:443/twilio/status?gym_id=gym-a&lead_id=" + lead.id;
    CHECK(f.ingest(r).applied == 1);
  }
  SUBCASE("another lead in the URL") {
    auto r = f.signed_request("twilio", body, url);
    r.url = "https://hooks.example.com/twilio/status?gym_id=gym-a&lead_id=lead_other";
    CHECK(caught([&] { f.ingest(r); }).field() == "signature");
  }
  SUBCASE("a changed parameter") {
    auto r = f.signed_request("twilio", body, url);
    r.body = replace_all(r.body, "CallDuration=175", "CallDuration=1");
    CHECK(caught([&] { f.ingest(r); }).field() == "signature");
  }
  SUBCASE("wrong auth token") {
    auto r = f.signed_request("twilio", body, url);
    sign_webhook(r, "another-token", f.clock->now());
    CHECK(caught([&] { f.ingest(r); }).field() == "signature");
  }
  SUBCASE("missing header") {
    auto r = f.signed_request("twilio", body, url);
    r.headers.erase("x-twilio-signature");
    CHECK(caught([&] { f.ingest(r); }).field() == "signature");
  }
  SUBCASE("no URL") {
    auto r = f.signed_request("twilio", body, url);
    r.url.clear();
    CHECK(caught([&] { f.ingest(r); }).field() == "url");
  }
  SUBCASE("a stale Timestamp") {
    f.clock->advance(6min);
    CHECK(caught([&] { f.ingest(f.signed_request("twilio", body, url)); }).field() == "signature");
  }
  SUBCASE("malformed form and fields") {
    CHECK(caught([&] { f.ingest(f.signed_request("twilio", "CallSid=CA1&CallStatus=%zz", url)); }).field() == "body");
    CHECK(caught([&] { f.ingest(f.signed_request("twilio", "CallStatus=completed", url)); }).field() == "CallSid");
    CHECK(caught([&] { f.ingest(f.signed_request("twilio", "CallSid=CA1&CallStatus=exploded", url)); }).field() ==
          "CallStatus");
    CHECK(caught([&] { f.ingest(f.signed_request("twilio", "CallSid=CA1&CallStatus=completed&CallDuration=-4", url)); })
              .field() == "CallDuration");
    CHECK(caught([&] { f.ingest(f.signed_request("twilio", "CallSid=CA1&CallStatus=completed", "https://h.example/x")); })
              .field() == "gym_id");
  }
  CHECK(f.call_count() <= 1);
}

TEST_CASE("normalize_webhook maps answered_by and statuses without a store") {
  WebhookRequest r;
  r.provider = "twilio";
  r.url = "https://h.example/t?gym_id=g&lead_id=l&campaign_id=c";
  r.body = "CallSid=CA9&CallStatus=no-answer&Timestamp=Mon%2C+02+Nov+2026+14%3A55%3A02+%2B0000";
  auto n = normalize_webhook(r, T("2026-11-02T15:00:00Z"));
  REQUIRE(n.events.size() == 1);
  CHECK(n.events[0].status == CallStatus::NoAnswer);
  CHECK(n.events[0].campaign_id == "c");
  CHECK(n.events[0].gym_id == "g");
  r.body = "CallSid=CA9&AnsweredBy=fax";
  n = normalize_webhook(r, T("2026-11-02T15:00:00Z"));
  CHECK(n.kind == "amd");
  CHECK(n.events.at(0).answered_by == AnsweredBy::Machine);
  CHECK(n.events[0].event_id == "twilio:CA9:amd");
  r.body = "CallSid=CA9&RecordingSid=RE1&RecordingStatus=failed";
  CHECK(normalize_webhook(r, T("2026-11-02T15:00:00Z")).ignored == "twilio recording status failed");
}

TEST_CASE("webhook_secrets reads the configuration's providers") {
  Config c;
  VoiceProviderConfig retell;
  retell.kind = "retell";
  retell.api_key = "key_a";
  c.voice_providers["main"] = retell;
  VoiceProviderConfig vapi;
  vapi.kind = "vapi";
  vapi.api_key = "not-a-webhook-secret";
  vapi.webhook_secret = "vs";
  c.voice_providers["v"] = vapi;
  CHECK(webhook_secrets(c, "retell") == std::vector<std::string>{"key_a"});
  CHECK(webhook_secrets(c, "vapi") == std::vector<std::string>{"vs"});
  CHECK(webhook_secrets(c, "twilio").empty());
}

TEST_CASE("the result as JSON") {
  Fixture f;
  const Lead lead = f.add("ext-j");
  const auto r = f.ingest(
      f.signed_request("retell", replace_all(fixture("retell_call_ended.json"), "@LEAD_ID@", lead.id)));
  const auto jv = boost::json::value_from(r);
  const auto& o = jv.as_object();
  CHECK(o.at("provider") == "retell");
  CHECK(o.at("applied") == 1);
  CHECK(o.at("duplicates") == 0);
  CHECK(o.at("ignored").is_null());
  CHECK(o.at("results").as_array().at(0).at("result") == "applied");
  CHECK(o.at("results").as_array().at(0).at("call").at("status") == "completed");
}

TEST_CASE("the runtime entry: configured secrets, one log record per request, no personal data") {
  auto sink = std::make_shared<MemoryLogSink>();
  auto clock = std::make_shared<ManualClock>(T("2026-11-02T15:00:00Z"));
  Config config;
  config.storage = "memory:";
  config.logging.sink = "none";
  config.worker_threads = 1;
  ::setenv("GYMDASH_WEBHOOK_TEST_KEY", kSecret.c_str(), 1);
  VoiceProviderConfig retell;
  retell.kind = "retell";
  retell.api_key_env = "GYMDASH_WEBHOOK_TEST_KEY";
  config.voice_providers["main"] = retell;
  auto rt = Runtime::open(config, clock);
  rt->logger().set_sink(sink);
  Gym g;
  g.id = "gym-a";
  g.name = "A";
  g.timezone = "America/New_York";
  rt->gyms().create_gym(g);
  LeadInput in;
  in.phone = "(212) 736-2099";
  const Lead lead = rt->leads().create_lead("gym-a", in).lead;

  WebhookRequest r;
  r.provider = "retell";
  r.body = replace_all(fixture("retell_call_ended.json"), "@LEAD_ID@", lead.id);
  sign_webhook(r, kSecret, clock->now());
  CHECK(ingest_webhook(*rt, r).applied == 1);
  r.body += "\n";
  CHECK_THROWS_AS(ingest_webhook(*rt, r), InvalidArgumentError);

  std::vector<LogRecord> mine;
  for (const auto& rec : sink->records())
    if (rec.operation == "webhook.ingest") mine.push_back(rec);
  REQUIRE(mine.size() == 2);
  CHECK(mine[0].level == LogLevel::Info);
  CHECK(mine[0].lead_id == lead.id);
  CHECK(mine[1].level == LogLevel::Info);
  CHECK(mine[1].fields.back() == std::pair<std::string, std::string>{"field", "signature"});
  CHECK(mine[1].code == ErrorCode::InvalidArgument);
  for (const auto& line : sink->lines()) {
    CHECK(line.find("+12127362001") == std::string::npos);
    CHECK(line.find(kSecret) == std::string::npos);
  }
}

TEST_CASE("sqlite: the same flow, the lead taken from the stored call, duplicates across reopening") {
  test::TempPath path("webhook");
  std::string lead_id;
  {
    Fixture f("sqlite:" + path.str());
    lead_id = f.add("ext-s1").id;
    const std::string ended = replace_all(fixture("retell_call_ended.json"), "@LEAD_ID@", lead_id);
    CHECK(f.ingest(f.signed_request("retell", ended)).applied == 1);
    const std::string analyzed =
        replace_all(fixture("retell_call_analyzed.json"), R"(, "lead_id": "@LEAD_ID@")", "");
    const auto r = f.ingest(f.signed_request("retell", analyzed));
    CHECK(r.applied == 1);
    CHECK(r.results[0].call.lead_id == lead_id);
    CHECK(r.results[0].call.outcome == CallOutcome::TrialBooked);
  }
  RuntimeOptions o;
  o.storage = "sqlite:" + path.str();
  o.clock = std::make_shared<ManualClock>(T("2026-11-02T15:01:00Z"));
  o.log_level = LogLevel::Warn;
  auto rt = Runtime::open(o);
  WebhookRequest r;
  r.provider = "retell";
  r.body = replace_all(fixture("retell_call_ended.json"), "@LEAD_ID@", lead_id);
  sign_webhook(r, kSecret, o.clock->now());
  WebhookOptions opt;
  opt.secrets = {kSecret};
  CHECK(ingest_webhook(rt->calls(), r, opt, o.clock->now()).duplicates == 1);
  CHECK(rt->calls().list_calls("gym-a", CallFilter{}).total == 1);
}
