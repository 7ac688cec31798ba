// Personal data in logs and error texts (docs/hardening.md, "Personal data
// in logs and errors"): a full run — gyms and leads imported with bad rows,
// call events ingested with rejected ones, webhooks with bad signatures, a
// campaign dialed on the simulated provider, dashboards, bad requests — with
// every log record captured at the most verbose level, and every error text
// and rejection detail kept. None may hold a lead's full phone number (E.164
// or the 10 national digits, however punctuated) or an email address.
#include <gymdash/dialer.hpp>
#include <gymdash/gymdash.hpp>
#include <gymdash/webhook.hpp>

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

const Timestamp kStart = parse_timestamp("2026-11-02T15:00:00Z");  // Monday 10:00 in New York

// The national digits of the run's n-th phone number: 212 736 1000 + n.
std::string digits(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "212736%04d", 1000 + n);
  return buf;
}
// The same number as people type it, in a few shapes.
std::string typed(int n) {
  const std::string d = digits(n);
  switch (n % 4) {
    case 0: return "(" + d.substr(0, 3) + ") " + d.substr(3, 3) + "-" + d.substr(6);
    case 1: return "+1 " + d.substr(0, 3) + " " + d.substr(3, 3) + " " + d.substr(6);
    case 2: return d.substr(0, 3) + "." + d.substr(3, 3) + "." + d.substr(6);
    default: return "+1" + d;
  }
}

struct Scan {
  std::set<std::string> phones;  // national digits of every number the run used
  std::vector<std::string> texts;
  std::vector<std::string> findings;

  // Digits of each run of digits and the punctuation people type in numbers.
  void check(const std::string& where, const std::string& text) {
    texts.push_back(text);
    std::string run;
    auto flush = [&] {
      for (const auto& p : phones)
        if (run.find(p) != std::string::npos) {
          findings.push_back(where + ": phone " + p + " in: " + text.substr(0, 400));
          break;
        }
      run.clear();
    };
    for (char c : text) {
      if (c >= '0' && c <= '9') run.push_back(c);
      else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' && c != '+') flush();
    }
    flush();
    for (std::size_t at = text.find('@'); at != std::string::npos; at = text.find('@', at + 1)) {
      const bool local = at > 0 && std::isalnum(static_cast<unsigned char>(text[at - 1]));
      const bool domain = at + 1 < text.size() && std::isalnum(static_cast<unsigned char>(text[at + 1]));
      if (local && domain) findings.push_back(where + ": email in: " + text.substr(0, 400));
    }
  }
};

struct Run {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(kStart);
  std::shared_ptr<MemoryLogSink> sink = std::make_shared<MemoryLogSink>(LogFormat::Json);
  std::shared_ptr<MemoryLogSink> logfmt = std::make_shared<MemoryLogSink>(LogFormat::Logfmt);
  test::TempPath db{"personal-data"};
  std::unique_ptr<Runtime> rt;
  Scan scan;
  std::vector<std::string> errors;  // every error text and rejection detail the run was given

  Run() {
    Config config;
    config.storage = "sqlite:" + db.str();
    config.worker_threads = 2;
    config.logging.sink = "none";
    config.logging.level = LogLevel::Trace;
    VoiceProviderConfig sim;
    sim.kind = "simulated";
    sim.options = {{"seed", "7"}, {"answer_rate", "0.6"}, {"voicemail_rate", "0.2"}};
    config.voice_providers["sim"] = sim;
    config.defaults.lines = 4;
    auto both = make_callback_log_sink([this](const LogRecord& r, std::string_view line) {
      sink->write(r);
      logfmt->write(r);
      (void)line;
    });
    rt = Runtime::open(config, clock);
    rt->logger().set_sink(both);
    for (int n = 0; n < 40; ++n) scan.phones.insert(digits(n));
  }

  // Runs `fn`; an error's text is kept for the scan.
  template <class Fn>
  void attempt(Fn&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      errors.emplace_back(e.what());
    }
  }
};

}  // namespace

TEST_CASE("a full run logs and returns no full phone number and no email address") {
  Run run;
  auto& rt = *run.rt;

  // ---- gyms, with bad rows --------------------------------------------------------
  {
    std::istringstream csv(
        "gym_id,name,timezone,region,state\n"
        "gym-nyc,Iron Temple,America/New_York,US,NY\n"
        "gym-bk,Brooklyn 212-736-1030,America/New_York,US,NY\n"
        "gym-bad,Gym zoe@example.com,Mars/Base,US,NY\n"
        "+1 212 736 1031,Phone Gym,America/New_York,US,NY\n"
        "gym-x,X,America/New_York,ZZ 2127361032,NY\n");
    const auto report = rt.gyms().import_gyms(csv);
    CHECK(report.created == 2);
    CHECK(report.rejected >= 2);
    for (const auto& [line, message] : report.rejected_rows) run.errors.push_back(message);
    Gym g = rt.gyms().get_gym("gym-nyc");
    g.caller_ids = {"+12125550100"};
    g.call_hours = LocalWindow{8 * 60, 21 * 60};
    rt.gyms().update_gym(g);
  }

  // ---- leads, with bad rows -------------------------------------------------------
  {
    std::string csv = "external_id,gym_id,first_name,last_name,phone,email,source,created_at,consent,tags\n";
    for (int n = 0; n < 12; ++n)
      csv += "E" + std::to_string(n) + ",gym-nyc,Ana" + std::to_string(n) + ",Reyes,\"" + typed(n) +
             "\",ana" + std::to_string(n) + "@example.com,web_form,2026-11-01T10:00:00Z,yes,vip\n";
    csv += "E12,gym-nyc,Bo,Li,\"" + typed(12) + "\",bo@example.com,web_form,2026-11-01T10:00:00Z,yes,\n";
    csv += "E13,gym-nyc,Dup,Li,\"" + typed(12) + "\",dup@example.com,web_form,2026-11-01T10:00:00Z,yes,\n";
    csv += "E14,gym-nyc,Cy,Li,\"" + digits(14).substr(0, 8) + "\",cy@example.com,web_form,,yes,\n";  // bad phone
    csv += "E15,gym-zz,Di,Li,\"" + typed(15) + "\",di@example.com,web_form,,yes,\n";  // unknown gym
    csv += "E16,gym-nyc,Ed,Li,\"" + typed(16) + "\",ed@example.com,web_form,yesterday,yes,\n";  // bad created_at
    csv += "E17,gym-nyc,Fa,Li,\"" + typed(17) + "\",fa@example.com,web_form\n";  // too few fields
    csv += "E18,gym-nyc," + std::string(201, 'x') + ",Li,\"" + typed(18) + "\",x@example.com,web_form,,yes,\n";
    csv += "E19,gym-nyc,G\xff,Li,\"" + typed(19) + "\",g@example.com,web_form,,yes,\n";  // bad encoding
    csv += "E20,gym-nyc,Hu,Li,\"" + digits(20) + "99\",hu@example.com,web_form,,yes,\n";  // too many digits
    csv += "E21,gym-nyc,In,Li,\"" + typed(21) + " ext 5\",in@example.com,web_form,,yes,\n";
    std::istringstream in(csv);
    ImportOptions o;
    o.batch_size = 5;
    const auto report = rt.leads().import_leads(in, o);
    CHECK(report.imported >= 12);
    CHECK(report.merged_duplicates == 1);
    CHECK(report.rejected >= 5);
    for (const auto& r : report.rejected_rows) run.errors.push_back(r.detail);
    run.errors.push_back(boost::json::serialize(boost::json::value_from(report)));
  }
  LeadFilter all;
  all.page_size = 100;
  const auto leads = rt.leads().list_leads("gym-nyc", all).items;
  REQUIRE(leads.size() >= 12);
  const Lead& first = leads.back();

  // ---- bad requests ---------------------------------------------------------------
  run.attempt([&] { rt.leads().get_lead("gym-nyc", "+1" + digits(30)); });
  run.attempt([&] { rt.leads().get_lead("gym-nyc", "zoe@example.com"); });
  run.attempt([&] { rt.leads().get_lead(typed(31), "ld_x"); });
  run.attempt([&] { rt.gyms().get_gym("zoe@example.com"); });
  run.attempt([&] {
    LeadInput in;
    in.phone = digits(32).substr(0, 9);
    rt.leads().create_lead("gym-nyc", in);
  });
  run.attempt([&] {
    LeadInput in;
    in.phone = typed(33);
    in.email = "zoe at example";
    rt.leads().create_lead("gym-nyc", in);
  });
  run.attempt([&] {
    LeadPatch p;
    p.phone = typed(0);  // another lead's number
    rt.leads().update_lead("gym-nyc", leads.front().id, p);
  });
  run.attempt([&] {
    LeadPatch p;
    p.email = "zoe@";
    rt.leads().update_lead("gym-nyc", first.id, p);
  });
  run.attempt([&] { rt.leads().add_tags("gym-nyc", "+1" + digits(1), {"vip"}); });
  run.attempt([&] { rt.leads().add_note("gym-nyc", first.id, "Call " + typed(2) + " or mail ana2@example.com", "coach ana@example.com"); });
  run.attempt([&] { rt.leads().change_status("gym-nyc", first.id, StatusChange{LeadStatus::Lost, "ana@example.com", "called " + digits(3), false}); });
  run.attempt([&] { rt.leads().add_to_dnc("gym-nyc", digits(34).substr(0, 6), "asked", "front desk"); });
  run.attempt([&] { rt.leads().add_to_dnc("gym-nyc", typed(35), "asked ana@example.com", "front desk " + typed(35)); });
  run.attempt([&] { rt.leads().check_dnc("gym-nyc", typed(35)); });
  run.attempt([&] { rt.leads().remove_from_dnc("gym-nyc", typed(35), "ana@example.com", "by " + digits(35)); });
  run.attempt([&] {
    LeadFilter f;
    f.search = digits(4);
    rt.leads().list_leads("gym-nyc", f);
  });
  run.attempt([&] {
    LeadFilter f;
    f.search = std::string(201, '1');
    rt.leads().list_leads("gym-nyc", f);
  });
  run.attempt([&] { rt.leads().erase_lead("gym-nyc", leads.front().id, "ana@example.com", ""); });
  run.attempt([&] { rt.leads().erase_lead("gym-nyc", leads.front().id, "", "asked on " + leads.front().phone); });
  run.attempt([&] { rt.calls().get_call("gym-nyc", "+1" + digits(5)); });

  // ---- call events, with rejected ones --------------------------------------------
  {
    std::string jsonl;
    auto event = [&](const std::string& id, const std::string& lead_part, const std::string& extra) {
      return "{\"event_id\":\"" + id + "\",\"call_id\":\"call-" + id + "\",\"gym_id\":\"gym-nyc\"," + lead_part +
             ",\"started_at\":\"2026-11-02T14:00:00Z\",\"status\":\"completed\",\"answered_by\":\"human\"" + extra +
             "}\n";
    };
    for (int n = 0; n < 6; ++n)
      jsonl += event("ok" + std::to_string(n), "\"lead_external_id\":\"E" + std::to_string(n) + "\"",
                     ",\"to\":\"+1" + digits(n) + "\",\"duration_s\":60,\"outcome\":\"interested\","
                     "\"transcript\":\"user: my number is " + typed(n) + ", mail ana@example.com\"");
    jsonl += event("bad1", "\"lead_external_id\":\"+1" + digits(6) + "\"", "");              // unknown lead
    jsonl += event("bad2", "\"lead_external_id\":\"E1\"", ",\"to\":\"" + typed(7) + "x\"");  // bad number
    jsonl += event("bad3", "\"lead_id\":\"ana@example.com\"", "");
    jsonl += "{\"event_id\":\"bad4\",\"to\":\"+1" + digits(8) + "\"\n";                       // broken JSON
    jsonl += event("bad5", "\"lead_external_id\":\"E2\"", ",\"duration_s\":-5");
    jsonl += event("bad6", "\"lead_external_id\":\"E2\"", ",\"status\":\"" + digits(9) + "\"");
    jsonl += event("bad7", "\"lead_external_id\":\"E3\"", ",\"from\":\"" + typed(10) + "@example.com\"");
    std::istringstream in(jsonl);
    const auto report = rt.calls().ingest_jsonl(in);
    CHECK(report.applied >= 6);
    CHECK(report.rejected >= 5);
    for (const auto& r : report.rejected_lines) run.errors.push_back(r.detail);
    run.errors.push_back(boost::json::serialize(boost::json::value_from(report)));
    CallEvent e;
    e.event_id = "single";
    e.call_id = "call-single";
    e.gym_id = "gym-nyc";
    e.lead_external_id = "+1" + digits(11);
    e.to = "+1" + digits(11);
    e.started_at = kStart - 1h;
    run.attempt([&] { rt.calls().process_event(e); });
    e.lead_external_id = "E11";
    e.to = typed(11) + "99";
    run.attempt([&] { rt.calls().process_event(e); });
  }

  // ---- webhooks: a bad signature, none, a stale one, an unknown lead --------------
  {
    const std::string body =
        "{\"event\":\"call_ended\",\"call\":{\"call_id\":\"wh-1\",\"from_number\":\"+12125550100\","
        "\"to_number\":\"+1" + digits(2) + "\",\"direction\":\"outbound\",\"call_status\":\"ended\","
        "\"metadata\":{\"gym_id\":\"gym-nyc\",\"lead_id\":\"" + leads[2].id + "\"},"
        "\"start_timestamp\":1793631300000,\"end_timestamp\":1793631425000,"
        "\"transcript\":\"User: reach me at " + typed(2) + " or ana2@example.com\"}}";
    WebhookOptions o;
    o.secrets = {"key_test_secret"};
    WebhookRequest bad;
    bad.provider = "retell";
    bad.body = body;
    bad.headers["X-Retell-Signature"] = "v=1793631300000,d=" + std::string(64, 'a');
    run.attempt([&] { ingest_webhook(rt, bad, o); });
    WebhookRequest none = bad;
    none.headers.clear();
    run.attempt([&] { ingest_webhook(rt, none, o); });
    WebhookRequest good = bad;
    good.headers.clear();
    sign_webhook(good, "key_test_secret", rt.clock().now());
    run.attempt([&] {
      // The result holds the call (its number is data the host asked for); its warnings are texts.
      const auto result = ingest_webhook(rt, good, o);
      for (const auto& w : result.warnings) run.errors.push_back(w);
    });
    WebhookRequest stale = bad;
    stale.headers.clear();
    sign_webhook(stale, "key_test_secret", rt.clock().now() - 2h);
    run.attempt([&] { ingest_webhook(rt, stale, o); });
    WebhookRequest unknown = bad;
    unknown.headers.clear();
    unknown.body = body;
    const auto at = unknown.body.find(leads[2].id);
    unknown.body.replace(at, leads[2].id.size(), "+1" + digits(36));
    sign_webhook(unknown, "key_test_secret", rt.clock().now());
    run.attempt([&] { ingest_webhook(rt, unknown, o); });
    WebhookRequest twilio;
    twilio.provider = "twilio";
    twilio.url = "https://hooks.example.com/twilio?gym_id=gym-nyc";
    twilio.headers["Content-Type"] = "application/x-www-form-urlencoded";
    twilio.body = "CallSid=CA1&CallStatus=completed&To=%2B1" + digits(37) + "&From=%2B12125550100";
    twilio.headers["X-Twilio-Signature"] = "bm90IGEgc2lnbmF0dXJl";
    run.attempt([&] { ingest_webhook(rt, twilio, o); });
  }

  // ---- a short campaign dial on the simulated provider ----------------------------
  {
    CampaignInput in;
    in.name = "Spring " + typed(38);  // a number in a name is the host's business; it is not logged in full
    in.voice_provider = "sim";
    in.schedule.days = kAllDays;
    in.schedule.hours = LocalWindow{8 * 60, 20 * 60};
    in.pacing.max_concurrent = 3;
    in.pacing.calls_per_second = 100;
    const auto c = rt.campaigns().create_campaign("gym-nyc", in);
    rt.campaigns().enrol_by_filter("gym-nyc", c.id);
    rt.campaigns().set_state("gym-nyc", c.id, CampaignState::Active);
    run.attempt([&] {
      CampaignInput badc = in;
      badc.voice_provider = "nope";
      rt.campaigns().create_campaign("gym-nyc", badc);
    });
    std::mutex m;
    std::condition_variable cv;
    std::int64_t settled = 0;
    rt.dialer().set_observer([&](const DialerEvent& e) {
      std::lock_guard lock(m);
      if (e.kind == DialerEvent::Kind::Placed || e.kind == DialerEvent::Kind::Refused) ++settled;
      if (!e.message.empty()) run.errors.push_back(e.message);
      cv.notify_all();
    });
    std::int64_t begun = 0;
    for (int round = 0; round < 4; ++round) {
      begun += rt.dialer().tick().placed;
      {
        std::unique_lock lock(m);
        cv.wait_for(lock, std::chrono::seconds(10), [&] { return settled >= begun; });
      }
      run.clock->advance(10min);
    }
    rt.dialer().set_observer({});
    CHECK(begun > 0);
    run.attempt([&] { rt.campaigns().enrol_leads("gym-nyc", c.id, {"+1" + digits(39)}); });
  }

  // ---- dashboards, and bad queries --------------------------------------------------
  {
    AnalyticsQuery q;
    q.gym_id = "gym-nyc";
    q.from = "2026-10-01";
    q.to = "2026-11-30";
    const auto d = rt.analytics().dashboard(q);
    CHECK(d.calls.calls > 0);
    (void)dashboard_csv(d);
    q.from = digits(0);
    run.attempt([&] { rt.analytics().dashboard(q); });
    q.from = "2026-10-01";
    q.timezone = "zoe@example.com";
    run.attempt([&] { rt.analytics().dashboard(q); });
  }
  // Erasing and deleting log too (leads the dialer has not left on a call:
  // its last round's simulated calls may still be in flight).
  std::vector<std::string> idle;
  for (std::size_t i = 3; i < leads.size() && idle.size() < 2; ++i)
    if (rt.leads().get_lead("gym-nyc", leads[i].id).active_call_id.empty()) idle.push_back(leads[i].id);
  REQUIRE(idle.size() == 2);
  rt.leads().erase_lead("gym-nyc", idle[0], "dpo", "request 2026-11-02");
  rt.leads().delete_lead("gym-nyc", idle[1]);
  run.rt.reset();  // runtime.close and what the workers had left

  // ---- the scan ------------------------------------------------------------------
  CHECK(run.sink->lines().size() > 50);
  CHECK(run.errors.size() > 30);
  std::set<std::string> ops;
  for (const auto& r : run.sink->records()) {
    ops.insert(r.operation);
    run.scan.check("record " + r.operation + " gym_id", r.gym_id);
    run.scan.check("record " + r.operation + " lead_id", r.lead_id);
    run.scan.check("record " + r.operation + " call_id", r.call_id);
    run.scan.check("record " + r.operation + " message", r.message);
    for (const auto& [k, v] : r.fields) run.scan.check("record " + r.operation + " " + k, v);
  }
  for (const auto& line : run.sink->lines()) run.scan.check("json line", line);
  for (const auto& line : run.logfmt->lines()) run.scan.check("logfmt line", line);
  for (const auto& text : run.errors) run.scan.check("error", text);
  // Every part of the run was logged: the scan had something to look at.
  for (const char* op : {"gyms.import", "leads.import", "calls.ingest", "call.event", "webhook.ingest",
                         "voice.simulated.place_call", "call.begin_outbound", "lead.erase", "analytics.dashboard",
                         "runtime.close"}) {
    const std::string name = op;
    CAPTURE(name);
    CHECK(ops.count(name) == 1);
  }
  for (const auto& f : run.scan.findings) CAPTURE(f);
  if (!run.scan.findings.empty()) {
    std::string all;
    for (const auto& f : run.scan.findings) all += f + "\n";
    FAIL_CHECK("personal data found:\n" << all);
  }
}
