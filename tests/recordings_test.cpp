// Recordings and retention: the per-gym retention purge, the purge on request
// for one lead (with its audit entry), recording consent, and that a purged
// call stays purged. Every case runs on the memory and the SQLite backend.
#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "test_util.hpp"

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

Timestamp T(const char* iso) { return parse_timestamp(iso); }

using test::Backend;

struct World {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(T("2026-11-02T15:00:00Z"));
  std::shared_ptr<MemoryLogSink> sink = std::make_shared<MemoryLogSink>();
  std::unique_ptr<Runtime> rt;
  int line = 3000;
  int events = 0;

  // gym-a keeps recordings 90 days (the default), gym-b 30 (its own policy).
  explicit World(const std::string& storage) {
    Config config;
    config.storage = storage;
    config.worker_threads = 1;
    config.logging.sink = "none";
    config.logging.level = LogLevel::Info;
    config.gyms["gym-b"].recording_retention_days = 30;
    rt = Runtime::open(config, clock);
    rt->logger().set_sink(sink);
    for (const char* id : {"gym-a", "gym-b"}) {
      Gym g;
      g.id = id;
      g.name = id;
      g.timezone = "America/New_York";
      rt->gyms().create_gym(g);
    }
  }

  Lead add(const std::string& gym) {
    LeadInput in;
    in.phone = "(212) 736-" + std::to_string(line++);
    in.consent = Consent{true, clock->now(), "web_form", ""};
    return rt->leads().create_lead(gym, in).lead;
  }

  // A finished call with a recording, transcript and summary.
  CallEvent event(const Lead& lead, const std::string& call_id, Timestamp started) {
    CallEvent e;
    e.event_id = "ev-" + std::to_string(++events);
    e.call_id = call_id;
    e.gym_id = lead.gym_id;
    e.lead_id = lead.id;
    e.started_at = started;
    e.ended_at = started + 2min;
    e.status = CallStatus::Completed;
    e.answered_by = AnsweredBy::Human;
    e.duration_s = 120;
    e.outcome = CallOutcome::Interested;
    e.recording_url = "https://recordings.example.test/" + call_id + ".wav";
    e.recording_duration_s = 118;
    e.recording_channels = 2;
    e.recording_consent = true;
    e.transcript = "agent: Hi, this is the gym.\nuser: I would like to try a class.";
    e.summary = "Lead wants to try a class.";
    return e;
  }

  Call call(const std::string& gym, const std::string& call_id) { return rt->calls().get_call(gym, call_id); }
};

void check_purged(const Call& c, Timestamp at) {
  CHECK(c.recording_url.empty());
  CHECK(c.transcript.empty());
  CHECK(c.summary.empty());
  CHECK(c.purged_at == at);
  // What analytics and the lead's state need stays.
  CHECK(c.outcome == CallOutcome::Interested);
  CHECK(c.duration_s == 120);
  CHECK(c.recording_duration_s == 118);
  CHECK(c.recording_channels == 2);
  CHECK(c.recording_consent == true);
}

void check_kept(const Call& c) {
  CHECK_FALSE(c.recording_url.empty());
  CHECK_FALSE(c.transcript.empty());
  CHECK_FALSE(c.summary.empty());
  CHECK_FALSE(c.purged_at);
}

}  // namespace

TEST_CASE("retention purges each gym's calls older than its own recording_retention_days") {
  for (auto& backend : test::backends("recordings")) {
    CAPTURE(backend.name);
    World w(backend.uri());
    const Timestamp now = w.clock->now();
    const auto a = w.add("gym-a");
    const auto b = w.add("gym-b");
    w.rt->calls().process_event(w.event(a, "A-old", now - std::chrono::days{91}));
    w.rt->calls().process_event(w.event(a, "A-mid", now - std::chrono::days{45}));
    w.rt->calls().process_event(w.event(a, "A-new", now - std::chrono::days{1}));
    w.rt->calls().process_event(w.event(b, "B-old", now - std::chrono::days{91}));
    w.rt->calls().process_event(w.event(b, "B-mid", now - std::chrono::days{45}));
    w.rt->calls().process_event(w.event(b, "B-new", now - std::chrono::days{1}));
    const auto lead_before = w.rt->leads().get_lead("gym-a", a.id);

    w.clock->advance(1h);
    const Timestamp at = w.clock->now();
    const auto report = w.rt->calls().purge_expired_recordings();
    CHECK(report.at == at);
    CHECK(report.calls == 3);
    REQUIRE(report.gyms.size() == 2);
    CHECK(report.gyms[0].gym_id == "gym-a");
    CHECK(report.gyms[0].retention_days == 90);
    CHECK(report.gyms[0].cutoff == at - std::chrono::days{90});
    CHECK(report.gyms[0].calls == 1);
    CHECK(report.gyms[1].gym_id == "gym-b");
    CHECK(report.gyms[1].retention_days == 30);
    CHECK(report.gyms[1].calls == 2);

    check_purged(w.call("gym-a", "A-old"), at);
    check_kept(w.call("gym-a", "A-mid"));
    check_kept(w.call("gym-a", "A-new"));
    check_purged(w.call("gym-b", "B-old"), at);
    check_purged(w.call("gym-b", "B-mid"), at);
    check_kept(w.call("gym-b", "B-new"));
    // The lead's state is not a recording: untouched.
    CHECK(w.rt->leads().get_lead("gym-a", a.id) == lead_before);

    // Again: nothing more to purge, and the first purge's time stays.
    w.clock->advance(1h);
    const auto again = w.rt->calls().purge_expired_recordings();
    CHECK(again.calls == 0);
    CHECK(w.call("gym-a", "A-old").purged_at == at);

    // An explicit `now` moves the cutoff.
    const auto later = w.rt->calls().purge_expired_recordings(now + std::chrono::days{60});
    CHECK(later.gyms[0].calls == 1);  // A-mid is now 105 days old
    CHECK(later.gyms[1].calls == 1);  // B-new is now 61 days old
    CHECK(later.calls == 2);

    const auto json = boost::json::value_from(report).as_object();
    CHECK(json.at("calls").as_int64() == 3);
    CHECK(json.at("gyms").as_array().size() == 2);
    CHECK(json.at("gyms").as_array()[0].as_object().at("cutoff").is_string());
  }
}

TEST_CASE("a call without content or already purged is not counted") {
  for (auto& backend : test::backends("recordings")) {
    CAPTURE(backend.name);
    World w(backend.uri());
    const auto a = w.add("gym-a");
    auto bare = w.event(a, "A-bare", w.clock->now() - std::chrono::days{200});
    bare.recording_url.clear();
    bare.transcript.clear();
    bare.summary.clear();
    w.rt->calls().process_event(bare);
    CHECK(w.rt->calls().purge_expired_recordings().calls == 0);
    CHECK_FALSE(w.call("gym-a", "A-bare").purged_at);
  }
}

TEST_CASE("a purged call takes no recording, transcript or summary again") {
  for (auto& backend : test::backends("recordings")) {
    CAPTURE(backend.name);
    World w(backend.uri());
    const auto a = w.add("gym-a");
    const auto old = w.clock->now() - std::chrono::days{120};
    w.rt->calls().process_event(w.event(a, "A-old", old));
    REQUIRE(w.rt->calls().purge_expired_recordings().calls == 1);
    // The provider re-sends the call's analysis later.
    auto late = w.event(a, "A-old", old);
    const auto merged = w.rt->calls().process_event(late).call;
    CHECK(merged.recording_url.empty());
    CHECK(merged.transcript.empty());
    CHECK(merged.summary.empty());
    CHECK(merged.purged_at);
    check_purged(w.call("gym-a", "A-old"), *merged.purged_at);
  }
}

TEST_CASE("a purge on request empties every call of the lead and records it in the history") {
  for (auto& backend : test::backends("recordings")) {
    CAPTURE(backend.name);
    World w(backend.uri());
    const auto a = w.add("gym-a");
    const auto other = w.add("gym-a");
    const Timestamp now = w.clock->now();
    w.rt->calls().process_event(w.event(a, "A1", now - std::chrono::days{2}));
    w.rt->calls().process_event(w.event(a, "A2", now - 1h));
    w.rt->calls().process_event(w.event(other, "O1", now - 1h));

    w.clock->advance(5min);
    const Timestamp at = w.clock->now();
    const auto report = w.rt->calls().purge_lead_recordings("gym-a", a.id, "dpo@gym", "erasure request 42");
    CHECK(report.calls == 2);
    CHECK(report.lead_id == a.id);
    REQUIRE(report.gyms.size() == 1);
    CHECK(report.gyms[0].gym_id == "gym-a");
    CHECK(report.gyms[0].calls == 2);
    CHECK(report.gyms[0].retention_days == 0);
    CHECK_FALSE(report.gyms[0].cutoff);
    check_purged(w.call("gym-a", "A1"), at);
    check_purged(w.call("gym-a", "A2"), at);
    check_kept(w.call("gym-a", "O1"));

    const auto history = w.rt->leads().get_history("gym-a", a.id);
    REQUIRE_FALSE(history.empty());
    const auto& entry = history.back();
    CHECK(entry.kind == "recordings_purged");
    CHECK(entry.to == "2");
    CHECK(entry.from.empty());
    CHECK(entry.actor == "dpo@gym");
    CHECK(entry.reason == "erasure request 42");
    CHECK(entry.at == at);
    CHECK(entry.to.find("https") == std::string::npos);

    // Again: nothing left, but the request is still recorded (default actor api).
    const auto again = w.rt->calls().purge_lead_recordings("gym-a", a.id);
    CHECK(again.calls == 0);
    const auto after = w.rt->leads().get_history("gym-a", a.id);
    CHECK(after.size() == history.size() + 1);
    CHECK(after.back().kind == "recordings_purged");
    CHECK(after.back().to == "0");
    CHECK(after.back().actor == "api");
  }
}

TEST_CASE("a purge on request names what it cannot find and refuses bad audit text") {
  for (auto& backend : test::backends("recordings")) {
    CAPTURE(backend.name);
    World w(backend.uri());
    const auto a = w.add("gym-a");
    try {
      w.rt->calls().purge_lead_recordings("gym-b", a.id);  // another gym's lead
      FAIL("purged another gym's lead");
    } catch (const NotFoundError& e) {
      CHECK(e.field() == "lead_id");
    }
    try {
      w.rt->calls().purge_lead_recordings("gym-x", a.id);
      FAIL("purged in an unknown gym");
    } catch (const NotFoundError& e) {
      CHECK(e.field() == "gym_id");
    }
    try {
      w.rt->calls().purge_lead_recordings("gym-a", a.id, "api", std::string(201, 'x'));
      FAIL("accepted an over-long reason");
    } catch (const InvalidArgumentError& e) {
      CHECK(e.field() == "reason");
    }
    // Nothing was recorded by the refused requests.
    for (const auto& entry : w.rt->leads().get_history("gym-a", a.id)) CHECK(entry.kind != "recordings_purged");
  }
}

TEST_CASE("a call without recording consent keeps no recording_url, and says so in the log") {
  for (auto& backend : test::backends("recordings")) {
    CAPTURE(backend.name);
    World w(backend.uri());
    const auto a = w.add("gym-a");
    auto e = w.event(a, "NC1", w.clock->now() - 1h);
    e.recording_consent = false;
    const auto call = w.rt->calls().process_event(e).call;
    CHECK(call.recording_url.empty());
    CHECK(call.recording_consent == false);
    CHECK(call.recording_duration_s == 118);  // metadata stays
    CHECK_FALSE(call.transcript.empty());     // retention applies to it, consent to the audio
    CHECK(w.call("gym-a", "NC1").recording_url.empty());
    bool logged = false;
    for (const auto& r : w.sink->records())
      if (r.operation == "call.recording_consent") {
        logged = true;
        CHECK(r.level == LogLevel::Info);
        CHECK(r.call_id == call.id);
        CHECK(r.gym_id == "gym-a");
      }
    CHECK(logged);

    // Consent withdrawn by a later event of a call that had a recording.
    auto first = w.event(a, "NC2", w.clock->now() - 30min);
    REQUIRE_FALSE(w.rt->calls().process_event(first).call.recording_url.empty());
    CallEvent withdrawn;
    withdrawn.event_id = "ev-withdrawn";
    withdrawn.call_id = "NC2";
    withdrawn.gym_id = "gym-a";
    withdrawn.lead_id = a.id;
    withdrawn.started_at = first.started_at;
    withdrawn.recording_consent = false;
    CHECK(w.rt->calls().process_event(withdrawn).call.recording_url.empty());
    CHECK(w.call("gym-a", "NC2").recording_url.empty());

    // Unknown consent (not reported) keeps the recording.
    auto unknown = w.event(a, "NC3", w.clock->now() - 10min);
    unknown.recording_consent.reset();
    CHECK_FALSE(w.rt->calls().process_event(unknown).call.recording_url.empty());
  }
}
