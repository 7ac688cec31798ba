// The simulated voice provider: determinism from the seed, the outcome mix,
// virtual time on a ManualClock, real time on Asio timers, and the Runtime
// feeding its events into CallService.
#include <gymdash/voice.hpp>

#include <gymdash/error.hpp>
#include <gymdash/runtime.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <thread>

using namespace gymdash;
namespace asio = boost::asio;

namespace {

struct IoThread {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~IoThread() {
    work.reset();
    thread.join();
  }
};

const Timestamp kStart = parse_timestamp("2026-01-05T15:00:00Z");

struct Collector {
  std::mutex mutex;
  std::vector<CallEvent> events;
  void operator()(const CallEvent& e) {
    std::lock_guard lock(mutex);
    events.push_back(e);
  }
  std::vector<CallEvent> snapshot() {
    std::lock_guard lock(mutex);
    return events;
  }
};

PlaceCallRequest request(int i) {
  PlaceCallRequest r;
  r.from = "+15550001111";
  r.to = "+1555700" + std::to_string(1000 + i);
  r.metadata = {{"gym_id", "gym-1"}, {"lead_id", "lead-" + std::to_string(i)}};
  return r;
}

// Places n calls in virtual time and returns every event, in delivery order.
std::vector<CallEvent> run_calls(const SimulatedSettings& s, int n) {
  IoThread io;
  auto clock = std::make_shared<ManualClock>(kStart);
  auto p = make_simulated_voice_provider(s, io.io.get_executor(), clock);
  auto collector = std::make_shared<Collector>();
  p->set_event_sink([collector](const CallEvent& e) { (*collector)(e); });
  for (int i = 0; i < n; ++i) p->async_place_call(request(i), asio::use_future).get();
  // Events are delivered on the provider's strand, after place_call returns:
  // wait (bounded) until every call's final event has arrived.
  for (int spin = 0; spin < 20000; ++spin) {
    const auto ev = collector->snapshot();
    int finals = 0;
    for (const auto& e : ev)
      if (e.ended_at) ++finals;
    if (finals == n) break;
    std::this_thread::sleep_for(std::chrono::microseconds{500});
  }
  return collector->snapshot();
}

}  // namespace

TEST_CASE("the same seed gives the same calls; another seed does not") {
  SimulatedSettings s;
  s.seed = 7;
  const auto a = run_calls(s, 30);
  const auto b = run_calls(s, 30);
  REQUIRE(a.size() >= 60);
  CHECK(a == b);
  s.seed = 8;
  const auto c = run_calls(s, 30);
  CHECK(a != c);
}

TEST_CASE("a call's events: ringing, answered, ended, stamped in virtual time") {
  SimulatedSettings s;
  s.answer_rate = 1;
  s.voicemail_rate = 0;
  s.busy_rate = 0;
  s.failed_rate = 0;
  const auto ev = run_calls(s, 1);
  REQUIRE(ev.size() == 3);
  CHECK(ev[0].status == CallStatus::Ringing);
  CHECK(ev[1].status == CallStatus::InProgress);
  CHECK(ev[1].answered_by == AnsweredBy::Human);
  CHECK(ev[2].status == CallStatus::Completed);
  CHECK(ev[2].outcome.has_value());
  CHECK(ev[2].gym_id == "gym-1");
  CHECK(ev[2].lead_id == "lead-0");
  CHECK(ev[2].started_at == kStart);
  REQUIRE(ev[2].ended_at);
  CHECK(*ev[2].ended_at > kStart + std::chrono::seconds{5});
  CHECK(ev[0].event_id != ev[1].event_id);
  CHECK(ev[0].call_id == ev[2].call_id);
}

TEST_CASE("the outcome mix is the configured one, within tolerance") {
  SimulatedSettings s;
  s.seed = 42;
  s.answer_rate = 0.5;
  s.voicemail_rate = 0.2;
  s.busy_rate = 0.1;
  s.failed_rate = 0.05;
  s.outcome_weights = {{"interested", 3}, {"not_interested", 1}};
  const int n = 2000;
  const auto ev = run_calls(s, n);
  std::map<CallStatus, int> status;
  int human = 0, machine = 0, interested = 0;
  for (const auto& e : ev) {
    if (!e.ended_at) continue;
    ++status[*e.status];
    if (e.answered_by == AnsweredBy::Human) {
      ++human;
      if (e.outcome == CallOutcome::Interested) ++interested;
    }
    if (e.answered_by == AnsweredBy::Machine) ++machine;
  }
  CHECK(human / double(n) == doctest::Approx(0.5).epsilon(0.08));
  CHECK(machine / double(n) == doctest::Approx(0.2).epsilon(0.15));
  CHECK(status[CallStatus::Busy] / double(n) == doctest::Approx(0.1).epsilon(0.2));
  CHECK(status[CallStatus::Failed] / double(n) == doctest::Approx(0.05).epsilon(0.3));
  CHECK(status[CallStatus::NoAnswer] / double(n) == doctest::Approx(0.15).epsilon(0.2));
  CHECK(interested / double(human) == doctest::Approx(0.75).epsilon(0.08));
}

TEST_CASE("virtual time: get_status follows the manual clock; hang_up ends a live call") {
  SimulatedSettings s;
  s.answer_rate = 1;
  s.voicemail_rate = s.busy_rate = s.failed_rate = 0;
  s.ring_min_s = s.ring_max_s = 10;
  s.talk_median_s = 120;
  s.talk_sigma = 0;
  IoThread io;
  auto clock = std::make_shared<ManualClock>(kStart);
  auto p = make_simulated_voice_provider(s, io.io.get_executor(), clock);
  const auto id = p->async_place_call(request(1), asio::use_future).get().provider_call_id;
  CHECK(p->async_get_status(id, asio::use_future).get().status == CallStatus::Ringing);
  clock->advance(std::chrono::seconds{11});
  auto st = p->async_get_status(id, asio::use_future).get();
  CHECK(st.status == CallStatus::InProgress);
  CHECK(st.answered_by == AnsweredBy::Human);
  clock->advance(std::chrono::seconds{200});
  st = p->async_get_status(id, asio::use_future).get();
  CHECK(st.status == CallStatus::Completed);
  CHECK(st.duration_s == 120);

  const auto id2 = p->async_place_call(request(2), asio::use_future).get().provider_call_id;
  clock->advance(std::chrono::seconds{30});
  p->async_hang_up(id2, asio::use_future).get();
  st = p->async_get_status(id2, asio::use_future).get();
  CHECK(st.status == CallStatus::Completed);
  CHECK(st.end_reason == "hung_up");
  try {
    p->async_get_status("sim-x", asio::use_future).get();
    FAIL("expected NotFound");
  } catch (const NotFoundError& e) {
    CHECK(e.field() == "provider_call_id");
  }
}

TEST_CASE("real time: events come from Asio timers (sped up)") {
  SimulatedSettings s;
  s.time = "real";
  s.time_scale = 10000;  // a 90 s call plays in about 10 ms
  IoThread io;
  auto p = make_simulated_voice_provider(s, io.io.get_executor(), make_system_clock());
  auto collector = std::make_shared<Collector>();
  p->set_event_sink([collector](const CallEvent& e) { (*collector)(e); });
  const auto id = p->async_place_call(request(3), asio::use_future).get().provider_call_id;
  for (int i = 0; i < 5000; ++i) {
    const auto ev = collector->snapshot();
    if (!ev.empty() && ev.back().ended_at) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  const auto ev = collector->snapshot();
  REQUIRE(!ev.empty());
  CHECK(ev.front().status == CallStatus::Ringing);
  CHECK(ev.back().ended_at.has_value());
  CHECK(is_terminal(p->async_get_status(id, asio::use_future).get().status));
}

TEST_CASE("bad requests and settings name their field") {
  IoThread io;
  auto p = make_simulated_voice_provider({}, io.io.get_executor(), make_system_clock());
  auto r = request(1);
  r.to = "555-1234";
  try {
    p->async_place_call(r, asio::use_future).get();
    FAIL("expected InvalidArgument");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "to");
    CHECK(std::string(e.what()).find("555-1234") == std::string::npos);
  }
  VoiceProviderConfig c;
  c.kind = "simulated";
  c.options["answer_rate"] = "0.9";
  c.options["voicemail_rate"] = "0.5";
  try {
    make_voice_provider(c, io.io.get_executor(), make_system_clock());
    FAIL("expected InvalidArgument");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "options.answer_rate");
  }
  c.options = {{"outcome_weights", "interested:1,bored:2"}};
  CHECK_THROWS_AS(simulated_settings(c), InvalidArgumentError);
  c.options = {{"seed", "12"}, {"time", "virtual"}, {"outcome_weights", "trial_booked:1"}};
  const auto s = simulated_settings(c);
  CHECK(s.seed == 12);
  CHECK(s.time == "virtual");
  CHECK(s.outcome_weights.at("trial_booked") == 1);
}

TEST_CASE("the runtime's providers: by name, events applied to CallService") {
  Config config;
  config.storage = "memory:";
  config.logging.sink = "none";
  VoiceProviderConfig sim;
  sim.kind = "simulated";
  sim.options = {{"answer_rate", "1"}, {"voicemail_rate", "0"}, {"busy_rate", "0"}, {"failed_rate", "0"},
                 {"outcome_weights", "interested:1"}};
  config.voice_providers["sim"] = sim;
  auto clock = std::make_shared<ManualClock>(kStart);
  auto rt = Runtime::open(config, clock);
  Gym gym;
  gym.id = "gym-1";
  gym.name = "Iron Temple";
  gym.timezone = "America/New_York";
  rt->gyms().create_gym(gym);
  LeadInput in;
  in.first_name = "Dana";
  in.phone = "+12127365000";
  const auto lead = rt->leads().create_lead("gym-1", in).lead;
  auto req = request(1);
  req.metadata["lead_id"] = lead.id;
  const auto id = rt->voice("sim").async_place_call(req, asio::use_future).get().provider_call_id;
  Call call;
  for (int i = 0; i < 2000; ++i) {
    try {
      call = rt->calls().get_call("gym-1", id);
      if (call.outcome) break;
    } catch (const NotFoundError&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  CHECK(call.provider_call_id == id);
  CHECK(call.outcome == CallOutcome::Interested);
  CHECK_THROWS_AS(rt->voice("nope"), NotFoundError);

  config.voice_providers["sim"].options["answer_rate"] = "2";
  try {
    Runtime::open(config, clock);
    FAIL("expected InvalidArgument");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "voice_providers.sim.options.answer_rate");
  }
}

TEST_CASE("voice_providers.<name>.options in the configuration document") {
  const auto c = parse_config(R"({"voice_providers": {"sim": {"kind": "simulated",
      "options": {"seed": 7, "answer_rate": 0.45, "time": "virtual", "flag": true}}}})");
  const auto& o = c.voice_providers.at("sim").options;
  CHECK(o.at("seed") == "7");
  CHECK(o.at("answer_rate") == "0.45");
  CHECK(o.at("time") == "virtual");
  CHECK(o.at("flag") == "true");
  CHECK(to_json(c).find("\"answer_rate\": \"0.45\"") != std::string::npos);
  try {
    parse_config(R"({"voice_providers": {"sim": {"kind": "simulated", "options": {"seed": {"x": 1}}}}})");
    FAIL("expected InvalidArgument");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "voice_providers.sim.options.seed");
  }
}
