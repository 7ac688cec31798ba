// CallService: idempotency, the merge rule, out-of-order folding, rejections,
// listing, and the reference data set's call figures.
#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_util.hpp"

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

Timestamp T(const char* iso) { return parse_timestamp(iso); }

struct Fixture {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(T("2026-11-02T15:00:00Z"));
  std::unique_ptr<Runtime> rt;
  int line = 2000;

  explicit Fixture(std::string storage = "memory:", bool create_gym = true) {
    RuntimeOptions o;
    o.storage = std::move(storage);
    o.clock = clock;
    o.worker_threads = 1;
    o.log_level = LogLevel::Warn;
    rt = Runtime::open(o);
    if (!create_gym) return;
    Gym g;
    g.id = "gym-a";
    g.name = "A";
    g.timezone = "America/New_York";
    rt->gyms().create_gym(g);
  }

  Lead add(std::string external_id) {
    LeadInput in;
    in.external_id = std::move(external_id);
    in.phone = "(212) 736-" + std::to_string(line++);
    in.consent = Consent{true, clock->now(), "web_form", ""};
    return rt->leads().create_lead("gym-a", in).lead;
  }

  // One complete call event of the data contract.
  static std::string event(const std::string& event_id, const std::string& call_id, const std::string& lead_ext,
                           const std::string& started, const std::string& status, const std::string& answered_by,
                           const std::string& outcome) {
    const auto start = parse_timestamp(started);
    const auto end = format_timestamp(start + 60s);
    return fmt_event(event_id, call_id, lead_ext, started, end, status, answered_by,
                     outcome.empty() ? "null" : "\"" + outcome + "\"");
  }
  static std::string fmt_event(const std::string& event_id, const std::string& call_id, const std::string& lead_ext,
                               const std::string& started, const std::string& ended, const std::string& status,
                               const std::string& answered_by, const std::string& outcome_json) {
    return "{\"event_id\":\"" + event_id + "\",\"call_id\":\"" + call_id +
           "\",\"gym_id\":\"gym-a\",\"lead_external_id\":\"" + lead_ext +
           "\",\"to\":\"+12127362000\",\"direction\":\"outbound\",\"started_at\":\"" + started +
           "\",\"ended_at\":" + (ended.empty() ? "null" : "\"" + ended + "\"") + ",\"status\":\"" + status +
           "\",\"answered_by\":\"" + answered_by + "\",\"duration_s\":60,\"outcome\":" + outcome_json +
           ",\"cost_usd\":0.1,\"recording_url\":null,\"summary\":null}";
  }

  IngestReport ingest(const std::string& text, int batch = 10000) {
    std::istringstream in(text);
    IngestOptions o;
    o.batch_size = batch;
    return rt->calls().ingest_jsonl(in, o);
  }

  ProcessResult process(const std::string& json) { return rt->calls().process_event(from_json<CallEvent>(json)); }
};

// The lead fields that calls decide.
void check_same_call_state(const Lead& a, const Lead& b) {
  CHECK(a.status == b.status);
  CHECK(a.attempts == b.attempts);
  CHECK(a.connects == b.connects);
  CHECK(a.last_call_at == b.last_call_at);
  CHECK(a.next_call_at == b.next_call_at);
  CHECK(a.callback_at == b.callback_at);
  CHECK(a.last_outcome == b.last_outcome);
  CHECK(a.do_not_call == b.do_not_call);
  CHECK(a.qualification == b.qualification);
}

}  // namespace

TEST_CASE("call event JSON is strict and round-trips") {
  const auto json = Fixture::event("E1", "C1", "L1", "2026-11-01T14:00:00Z", "no-answer", "unknown", "");
  const auto e = from_json<CallEvent>(json);
  CHECK(e.status == CallStatus::NoAnswer);
  CHECK(from_json<CallEvent>(to_json(e)) == e);
  try {
    from_json<CallEvent>(R"({"event_id":"E1","colour":"red"})");
    FAIL("accepted an unknown field");
  } catch (const InvalidArgumentError& err) {
    CHECK(err.field() == "colour");
  }
  CHECK_THROWS_AS(from_json<CallEvent>(R"({"status":"exploded"})"), InvalidArgumentError);
  CHECK_THROWS_AS(from_json<CallEvent>(R"({"duration_s":"ten"})"), InvalidArgumentError);
}

TEST_CASE_FIXTURE(Fixture, "the same event twice is a duplicate and changes nothing") {
  const auto lead = add("L1");
  const auto json = event("E1", "C1", "L1", "2026-11-01T14:00:00Z", "completed", "human", "interested");
  const auto first = process(json);
  CHECK(first.kind == ProcessResult::Kind::Applied);
  CHECK(first.call.provider_call_id == "C1");
  CHECK(first.call.lead_id == lead.id);
  const auto after = rt->leads().get_lead("gym-a", lead.id);
  CHECK(after.status == LeadStatus::Qualified);
  CHECK(after.attempts == 1);
  const auto again = process(json);
  CHECK(again.kind == ProcessResult::Kind::Duplicate);
  CHECK(again.call == first.call);
  CHECK(rt->leads().get_lead("gym-a", lead.id) == after);
  const auto r = ingest(json + "\n" + json + "\n");
  CHECK(r.events == 2);
  CHECK(r.duplicates == 2);
  CHECK(r.applied == 0);
  CHECK(rt->calls().list_calls("gym-a", {}).total == 1);
}

TEST_CASE_FIXTURE(Fixture, "started and ended events merge into one call in either order") {
  add("L1");
  add("L2");
  auto started = [](std::string ev, std::string call, std::string lead) {
    return fmt_event(ev, call, lead, "2026-11-01T14:00:00Z", "", "in_progress", "unknown", "null");
  };
  auto ended = [](std::string ev, std::string call, std::string lead) {
    return fmt_event(ev, call, lead, "2026-11-01T14:00:00Z", "2026-11-01T14:03:00Z", "completed", "human",
                     "\"trial_booked\"");
  };
  const auto a = ingest(started("E1", "C1", "L1") + "\n" + ended("E2", "C1", "L1") + "\n");
  const auto b = ingest(ended("E3", "C2", "L2") + "\n" + started("E4", "C2", "L2") + "\n");
  CHECK(a.applied == 2);
  CHECK(b.applied == 2);
  auto c1 = rt->calls().get_call("gym-a", "C1");
  auto c2 = rt->calls().get_call("gym-a", "C2");
  for (const auto* c : {&c1, &c2}) {
    CHECK(c->status == CallStatus::Completed);
    CHECK(c->answered_by == AnsweredBy::Human);
    CHECK(c->outcome == CallOutcome::TrialBooked);
    CHECK(c->ended_at == T("2026-11-01T14:03:00Z"));
    CHECK(c->duration_s == 60);
  }
  CHECK(rt->calls().get_call("gym-a", c1.id) == c1);  // by our id too
  const auto l1 = rt->leads().get_lead("gym-a", c1.lead_id);
  const auto l2 = rt->leads().get_lead("gym-a", c2.lead_id);
  check_same_call_state(l1, l2);
  CHECK(l1.status == LeadStatus::TrialBooked);
  CHECK(l1.attempts == 1);
}

TEST_CASE_FIXTURE(Fixture, "out-of-order events leave the lead as if delivered in order") {
  const auto in_order = add("L1");
  const auto shuffled = add("L2");
  auto calls_of = [&](const std::string& lead, const std::string& prefix) {
    return std::vector<std::string>{
        event(prefix + "1", prefix + "C1", lead, "2026-11-01T10:00:00Z", "no-answer", "unknown", ""),
        event(prefix + "2", prefix + "C2", lead, "2026-11-01T12:00:00Z", "completed", "human", "not_interested"),
        event(prefix + "3", prefix + "C3", lead, "2026-11-01T14:00:00Z", "completed", "human", "callback_requested"),
        event(prefix + "4", prefix + "C4", lead, "2026-11-01T16:00:00Z", "completed", "machine", ""),
    };
  };
  std::string ordered, reversed;
  for (const auto& e : calls_of("L1", "A")) ordered += e + "\n";
  auto b = calls_of("L2", "B");
  for (auto it = b.rbegin(); it != b.rend(); ++it) reversed += *it + "\n";
  CHECK(ingest(ordered).applied == 4);
  CHECK(ingest(reversed, 1).applied == 4);
  const auto x = rt->leads().get_lead("gym-a", in_order.id);
  const auto y = rt->leads().get_lead("gym-a", shuffled.id);
  check_same_call_state(x, y);
  CHECK(x.attempts == 4);
  CHECK(x.status == LeadStatus::Lost);  // not_interested; the later callback request does not revive a lost lead
  const auto history = rt->calls().lead_calls("gym-a", shuffled.id);
  REQUIRE(history.size() == 4);
  CHECK(history.front().provider_call_id == "BC1");
  CHECK(history.back().provider_call_id == "BC4");
  // The callback asked for without a time is due a day after the call ended.
  CHECK(history[2].callback_at == T("2026-11-02T14:01:00Z"));
}

TEST_CASE_FIXTURE(Fixture, "rejections: a reason per line, its number, nothing written") {
  const auto lead = add("L1");
  const auto good = event("E1", "C1", "L1", "2026-11-01T14:00:00Z", "completed", "human", "interested");
  std::string text;
  text += "not json\n";                                                                   // 1 bad_json
  text += "[1,2]\n";                                                                      // 2 bad_json
  text += R"({"event_id":"E9","colour":"red"})" "\n";                                     // 3 bad_field
  text += event("E2", "C2", "L1", "2026-11-01T14:00:00Z", "exploded", "human", "") + "\n";  // 4 bad_field
  auto other_gym = event("E3", "C3", "L1", "2026-11-01T14:00:00Z", "completed", "human", "");
  other_gym.replace(other_gym.find("gym-a"), 5, "gym-z");
  text += other_gym + "\n";                                                               // 5 unknown_gym
  text += event("E4", "C4", "L-nobody", "2026-11-01T14:00:00Z", "completed", "human", "") + "\n";  // 6 unknown_lead
  text += "\n";                                                                           // 7 blank: skipped
  text += fmt_event("E5", "C5", "L1", "2026-11-01T14:00:00Z", "2026-11-01T13:00:00Z", "completed", "human",
                    "null") + "\n";                                                       // 8 bad_times
  auto negative = event("E6", "C6", "L1", "2026-11-01T14:00:00Z", "completed", "human", "");
  negative.replace(negative.find("\"duration_s\":60"), 15, "\"duration_s\":-5");
  text += negative + "\n";                                                                // 9 negative_duration
  text += event("E7", "C7", "L1", "2026-11-01T14:00:00Z", "completed", "machine", "interested") +
          "\n";                                                                           // 10 outcome_without_person
  text += good + "\n";                                                                    // 11 applied
  const auto r = ingest(text);
  CHECK(r.events == 10);
  CHECK(r.applied == 1);
  CHECK(r.rejected == 9);
  CHECK(r.rejected_by_reason.at("bad_json") == 2);
  CHECK(r.rejected_by_reason.at("bad_field") == 2);
  CHECK(r.rejected_by_reason.at("unknown_gym") == 1);
  CHECK(r.rejected_by_reason.at("unknown_lead") == 1);
  CHECK(r.rejected_by_reason.at("bad_times") == 1);
  CHECK(r.rejected_by_reason.at("negative_duration") == 1);
  CHECK(r.rejected_by_reason.at("outcome_without_person") == 1);
  REQUIRE(r.rejected_lines.size() == 9);
  const std::vector<std::int64_t> lines{1, 2, 3, 4, 5, 6, 8, 9, 10};
  for (std::size_t i = 0; i < lines.size(); ++i) CHECK(r.rejected_lines[i].line == lines[i]);
  CHECK(r.rejected_lines[2].detail.find("colour") != std::string::npos);
  CHECK(r.rejected_lines[3].detail.find("status") != std::string::npos);
  // Only the good line was written: one call, one attempt, and rejected event ids are not remembered.
  CHECK(rt->calls().list_calls("gym-a", {}).total == 1);
  CHECK(rt->leads().get_lead("gym-a", lead.id).attempts == 1);
  CHECK_FALSE(rt->store().calls().has_event("gym-a", "E7"));
  // A later event that contradicts the call merged so far is refused whole.
  auto contradiction = event("E8", "C1", "L1", "2026-11-01T14:00:00Z", "completed", "machine", "");
  CHECK_THROWS_AS(process(contradiction), InvalidArgumentError);
  CHECK_FALSE(rt->store().calls().has_event("gym-a", "E8"));
  CHECK(rt->calls().get_call("gym-a", "C1").answered_by == AnsweredBy::Human);
  CHECK_THROWS_AS(process(event("E9", "C9", "L-nobody", "2026-11-01T14:00:00Z", "busy", "unknown", "")),
                  NotFoundError);
}

TEST_CASE_FIXTURE(Fixture, "list filters and pages; lead call history") {
  const auto a = add("L1");
  add("L2");
  std::string text;
  text += event("E1", "C1", "L1", "2026-11-01T10:00:00Z", "no-answer", "unknown", "") + "\n";
  text += event("E2", "C2", "L2", "2026-11-01T11:00:00Z", "completed", "human", "interested") + "\n";
  text += event("E3", "C3", "L1", "2026-11-01T12:00:00Z", "completed", "human", "trial_booked") + "\n";
  text += event("E4", "C4", "L2", "2026-11-01T13:00:00Z", "busy", "unknown", "") + "\n";
  CHECK(ingest(text).applied == 4);
  auto page = rt->calls().list_calls("gym-a", {});
  CHECK(page.total == 4);
  REQUIRE(page.items.size() == 4);
  CHECK(page.items[0].provider_call_id == "C4");
  CallFilter f;
  f.lead_id = a.id;
  CHECK(rt->calls().list_calls("gym-a", f).total == 2);
  f = {};
  f.status = CallStatus::Completed;
  CHECK(rt->calls().list_calls("gym-a", f).total == 2);
  f.outcome = CallOutcome::Interested;
  CHECK(rt->calls().list_calls("gym-a", f).total == 1);
  f = {};
  f.started_from = T("2026-11-01T11:00:00Z");
  f.started_to = T("2026-11-01T13:00:00Z");
  f.page_size = 1;
  f.page = 2;
  const auto p2 = rt->calls().list_calls("gym-a", f);
  CHECK(p2.total == 2);
  REQUIRE(p2.items.size() == 1);
  CHECK(p2.items[0].provider_call_id == "C2");
  f.page_size = 1001;
  CHECK_THROWS_AS(rt->calls().list_calls("gym-a", f), InvalidArgumentError);
  CHECK_THROWS_AS(rt->calls().list_calls("gym-z", {}), NotFoundError);
  const auto history = rt->calls().lead_calls("gym-a", a.id);
  REQUIRE(history.size() == 2);
  CHECK(history[0].provider_call_id == "C1");
  CHECK(history[1].provider_call_id == "C3");
  CHECK_THROWS_AS(rt->calls().lead_calls("gym-a", "ld_nobody"), NotFoundError);
  CHECK_THROWS_AS(rt->calls().get_call("gym-a", "C-nobody"), NotFoundError);
}

TEST_CASE("sqlite: an ingest survives reopening; running it again applies nothing") {
  test::TempPath db("calls");
  std::string text;
  std::string lead_id;
  {
    Fixture f("sqlite:" + db.str());
    lead_id = f.add("L1").id;
    for (int i = 0; i < 25; ++i) {
      auto ts = format_timestamp(T("2026-11-01T10:00:00Z") + std::chrono::hours{i});
      text += Fixture::event("E" + std::to_string(i), "C" + std::to_string(i), "L1", ts, "no-answer", "unknown", "") +
              "\n";
    }
    const auto r = f.ingest(text, 7);
    CHECK(r.applied == 25);
  }
  Fixture again("sqlite:" + db.str(), false);
  const auto before = again.rt->leads().get_lead("gym-a", lead_id);
  CHECK(before.attempts == 25);
  const auto r = again.ingest(text, 10);
  CHECK(r.duplicates == 25);
  CHECK(r.applied == 0);
  CHECK(again.rt->leads().get_lead("gym-a", lead_id) == before);
  CHECK(again.rt->calls().lead_calls("gym-a", lead_id).size() == 25);
}

// The reference data set, when the datagen is there: the manifest's call
// figures must come out exactly. (The project builds and tests without it.)
TEST_CASE("reference data set: call figures equal the manifest") {
  std::filesystem::path script;
  for (const char* candidate : {std::getenv("GYMDASH_DATAGEN") ? std::getenv("GYMDASH_DATAGEN") : "",
                                "/work/shared/datagen/gen.py"}) {
    if (*candidate && std::filesystem::exists(candidate)) {
      script = candidate;
      break;
    }
  }
  if (script.empty()) {
    MESSAGE("datagen not found; skipped");
    return;
  }
  test::TempPath dir("datagen-calls");
  const auto out = dir.str() + ".d";
  const auto cmd = "/usr/bin/python3 " + script.string() + " --leads 5000 --seed 5 --out " + out + " > /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  test::TempPath db("reference-calls");
  auto rt = Runtime::open(RuntimeOptions{"sqlite:" + db.str(), nullptr, 1, nullptr, LogLevel::Warn});
  std::ifstream gyms(out + "/gyms.csv", std::ios::binary);
  REQUIRE(rt->gyms().import_gyms(gyms).rejected == 0);
  std::ifstream leads(out + "/leads.csv", std::ios::binary);
  rt->leads().import_leads(leads);
  std::ifstream calls(out + "/calls.jsonl", std::ios::binary);
  const auto r = rt->calls().ingest_jsonl(calls);
  std::ifstream mf(out + "/manifest.json");
  std::stringstream ss;
  ss << mf.rdbuf();
  const auto manifest = boost::json::parse(ss.str());
  const auto& m = manifest.at("calls");
  CHECK(r.events == m.at("events_delivered").to_number<std::int64_t>());
  CHECK(r.duplicates == m.at("duplicate_deliveries").to_number<std::int64_t>());
  CHECK(r.rejected == 0);
  CHECK(r.applied == m.at("unique_calls").to_number<std::int64_t>());
  std::int64_t total = 0;
  for (const auto& [gym_id, g] : manifest.at("per_gym").as_object()) {
    CAPTURE(std::string(gym_id));
    CallFilter f;
    f.page_size = 1;
    const auto calls_of_gym = rt->calls().list_calls(gym_id, f).total;
    CHECK(calls_of_gym == g.at("calls").to_number<std::int64_t>());
    total += calls_of_gym;
  }
  CHECK(total == m.at("unique_calls").to_number<std::int64_t>());
  std::filesystem::remove_all(out);
}
