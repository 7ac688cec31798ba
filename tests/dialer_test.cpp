// Placing calls: the durable claim (CallService::begin_outbound_call and
// friends), the dialer's division of a gym's lines, its limits, stopping,
// and what a restart does with calls a dead process left open.

#include <doctest/doctest.h>

#include <gymdash/dialer.hpp>
#include <gymdash/error.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/voice.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "test_util.hpp"

using namespace gymdash;
namespace asio = boost::asio;

namespace {

const Timestamp kStart = parse_timestamp("2026-04-06T15:00:00Z");  // Monday 11:00 in New York

// A provider that accepts every call and never reports anything unless told to.
class FakeProvider final : public VoiceProvider {
 public:
  explicit FakeProvider(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  std::string_view kind() const noexcept override { return "fake"; }
  asio::any_io_executor get_executor() const noexcept override { return ex_; }
  void place_call(PlaceCallRequest request, PlaceCallHandler handler) override {
    const std::string id = "fake-" + std::to_string(++n_);
    requests.push_back(request);
    asio::post(ex_, [h = std::move(handler), id, refuse = refuse_next]() mutable {
      if (refuse) std::move(h)(std::make_exception_ptr(ProviderError("refused by the test", "to")), PlaceCallResult{});
      else std::move(h)(nullptr, PlaceCallResult{id, CallStatus::Queued});
    });
  }
  void hang_up(std::string, HangUpHandler handler) override {
    asio::post(ex_, [h = std::move(handler)]() mutable { std::move(h)(nullptr); });
  }
  void get_status(std::string id, StatusHandler handler) override {
    asio::post(ex_, [h = std::move(handler), id]() mutable { std::move(h)(nullptr, CallStatusReport{id}); });
  }
  void set_event_sink(EventSink sink) override { sink_ = std::move(sink); }
  void emit(const CallEvent& e) { sink_(e); }

  std::vector<PlaceCallRequest> requests;
  bool refuse_next = false;

 private:
  asio::any_io_executor ex_;
  EventSink sink_;
  int n_ = 0;
};

struct Bench {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(kStart);
  std::shared_ptr<Config> config = std::make_shared<Config>();
  std::unique_ptr<Store> store;
  std::unique_ptr<GymService> gyms;
  std::unique_ptr<LeadService> leads;
  std::unique_ptr<CallService> calls;
  std::unique_ptr<CampaignService> campaigns;
  asio::io_context io;
  std::unique_ptr<FakeProvider> fake;
  std::unique_ptr<Dialer> dialer;
  DialerOptions options;

  explicit Bench(std::unique_ptr<Store> s, int lines = 10, std::optional<DialerOptions> o = std::nullopt)
      : store(std::move(s)) {
    VoiceProviderConfig v;
    v.kind = "simulated";
    config->voice_providers["fake"] = v;  // the name campaigns may use; the dialer gets FakeProvider
    config->defaults.lines = lines;
    options.idle_recheck = std::chrono::milliseconds{0};
    if (o) options = *o;
    build();
  }
  void build() {
    gyms = make_gym_service(*store, clock);
    leads = make_lead_service(*store, clock, config);
    calls = make_call_service(*store, clock, *leads, config);
    campaigns = make_campaign_service(*store, clock, config);
    fake = std::make_unique<FakeProvider>(io.get_executor());
    dialer = make_dialer(context(), options);
  }
  // What a dialer over this bench works with: its services, FakeProvider as "fake", io.
  DialerContext context() {
    DialerContext dc;
    dc.store = store.get();
    dc.leads = leads.get();
    dc.calls = calls.get();
    dc.campaigns = campaigns.get();
    dc.clock = clock;
    dc.config = config;
    dc.provider = [this](std::string_view name) -> VoiceProvider* { return name == "fake" ? fake.get() : nullptr; };
    dc.executor = io.get_executor();
    return dc;
  }
  void drain() {
    io.restart();
    while (io.poll() > 0) {
    }
  }
  TickReport tick() {
    auto r = dialer->tick();
    drain();
    return r;
  }
  void gym(const std::string& id = "gym-nyc") {
    Gym g;
    g.id = id;
    g.name = id;
    g.timezone = "America/New_York";
    g.state = "NY";
    g.call_hours = LocalWindow{8 * 60, 21 * 60};
    g.caller_ids = {"+12125550100"};
    gyms->create_gym(g);
  }
  std::vector<std::string> add_leads(const std::string& gym_id, int n, int first = 0, const std::string& tag = "") {
    std::vector<std::string> ids;
    for (int i = first; i < first + n; ++i) {
      LeadInput in;
      char phone[32];
      std::snprintf(phone, sizeof phone, "+1212555%04d", 1000 + i);
      in.phone = phone;
      in.consent = Consent{true, kStart - std::chrono::hours{24}, "web_form", "test"};
      if (!tag.empty()) in.tags = {tag};
      in.created_at = kStart - std::chrono::minutes{i + 1};
      ids.push_back(leads->create_lead(gym_id, in).lead.id);
    }
    return ids;
  }
  Campaign campaign(const std::string& gym_id, int max_concurrent, int weight, const std::string& tag = "") {
    CampaignInput in;
    in.name = "c";
    in.voice_provider = "fake";
    in.schedule.days = kAllDays;
    in.schedule.hours = LocalWindow{9 * 60, 20 * 60};
    in.pacing = CampaignPacing{max_concurrent, 100000, 100, 5, 60};
    in.weight = weight;
    if (!tag.empty()) in.target.tags = {tag};
    auto c = campaigns->create_campaign(gym_id, in);
    campaigns->enrol_by_filter(gym_id, c.id);
    return campaigns->set_state(gym_id, c.id, CampaignState::Active);
  }
  std::map<std::string, int> lines_by_campaign() {
    std::map<std::string, int> out;
    for (const auto& c : dialer->status().campaigns) out[c.campaign_id] = c.lines_in_use;
    return out;
  }
};

CallEvent ended_event(const Call& placed, const std::string& provider_id, const std::string& event_id,
                      std::optional<CallOutcome> outcome = std::nullopt) {
  CallEvent e;
  e.event_id = event_id;
  e.call_id = provider_id;
  e.gym_id = placed.gym_id;
  e.lead_id = placed.lead_id;
  e.campaign_id = placed.campaign_id;
  e.started_at = placed.started_at;
  e.ended_at = placed.started_at + std::chrono::seconds{40};
  e.status = CallStatus::Completed;
  e.answered_by = outcome ? AnsweredBy::Human : AnsweredBy::Machine;
  e.outcome = outcome;
  e.duration_s = 40;
  e.cost_usd = 0.07;
  return e;
}

}  // namespace

TEST_CASE("begin_outbound_call claims the lead and counts the attempt once") {
  Bench b(make_memory_store());
  b.gym();
  const auto ids = b.add_leads("gym-nyc", 1);
  const auto c = b.campaign("gym-nyc", 1, 1);
  const Call call = b.calls->begin_outbound_call(OutboundCall{"gym-nyc", ids[0], c.id, "fake", "+12125550100"});
  CHECK(call.status == CallStatus::Queued);
  CHECK(call.provider_call_id == call.id);
  Lead l = b.leads->get_lead("gym-nyc", ids[0]);
  CHECK(l.active_call_id == call.id);
  CHECK(l.attempts == 1);
  auto d = b.leads->explain("gym-nyc", ids[0]);
  CHECK(std::find(d.reasons.begin(), d.reasons.end(), "on_call") != d.reasons.end());

  // A second claim is refused, naming the lead.
  try {
    b.calls->begin_outbound_call(OutboundCall{"gym-nyc", ids[0], c.id, "fake", ""});
    FAIL("expected ConflictError");
  } catch (const ConflictError& e) {
    CHECK(e.field() == "lead_id");
  }
  CHECK_THROWS_AS(b.calls->begin_outbound_call(OutboundCall{"gym-nyc", "ld_nope", c.id, "fake", ""}), NotFoundError);
  CHECK_THROWS_AS(b.calls->begin_outbound_call(OutboundCall{"gym-nope", ids[0], c.id, "fake", ""}), NotFoundError);

  // The provider's first event (before its id was attached) merges into the same call; its end releases the lead.
  b.clock->advance(std::chrono::seconds{5});
  auto e = ended_event(call, "prov-1", "ev-1", CallOutcome::Interested);
  auto r = b.calls->process_event(e);
  CHECK(r.call.id == call.id);
  CHECK(r.call.provider_call_id == "prov-1");
  l = b.leads->get_lead("gym-nyc", ids[0]);
  CHECK(l.active_call_id.empty());
  CHECK(l.attempts == 1);  // the placeholder's result was replaced, not added to
  CHECK(l.status == LeadStatus::Qualified);
  CHECK(b.calls->lead_calls("gym-nyc", ids[0]).size() == 1);
  // attach after the fact: same id is a no-op, another id a conflict.
  CHECK(b.calls->attach_provider_call_id("gym-nyc", call.id, "prov-1").provider_call_id == "prov-1");
  CHECK_THROWS_AS(b.calls->attach_provider_call_id("gym-nyc", call.id, "prov-2"), ConflictError);
}

TEST_CASE("abandoned and stale calls release their leads") {
  Bench b(make_memory_store());
  b.gym();
  const auto ids = b.add_leads("gym-nyc", 3);
  const auto c = b.campaign("gym-nyc", 3, 1);
  const Call a = b.calls->begin_outbound_call(OutboundCall{"gym-nyc", ids[0], c.id, "fake", ""});
  const Call old = b.calls->begin_outbound_call(OutboundCall{"gym-nyc", ids[1], c.id, "fake", ""});
  b.clock->advance(std::chrono::hours{3});
  const Call fresh = b.calls->begin_outbound_call(OutboundCall{"gym-nyc", ids[2], c.id, "fake", ""});

  const Call gone = b.calls->abandon_call("gym-nyc", a.id, "not placed: test");
  CHECK(gone.status == CallStatus::Failed);
  CHECK(gone.end_reason == "not placed: test");
  CHECK(b.leads->get_lead("gym-nyc", ids[0]).active_call_id.empty());
  CHECK(b.calls->abandon_call("gym-nyc", a.id, "again").end_reason == "not placed: test");  // ended already

  // Only campaign calls older than the cutoff.
  CHECK(b.calls->abandon_stale_calls(b.clock->now() - std::chrono::hours{2}, "stale") == 1);
  CHECK(b.calls->get_call("gym-nyc", old.id).status == CallStatus::Failed);
  CHECK(b.leads->get_lead("gym-nyc", ids[1]).active_call_id.empty());
  CHECK(b.leads->get_lead("gym-nyc", ids[2]).active_call_id == fresh.id);
  CHECK(b.calls->abandon_stale_calls(b.clock->now() - std::chrono::hours{2}, "stale") == 0);
}

TEST_CASE("the dialer places calls, attaches provider ids, and frees lines when calls end") {
  Bench b(make_memory_store(), 10);
  b.gym();
  b.add_leads("gym-nyc", 5);
  const auto c = b.campaign("gym-nyc", 3, 1);
  std::vector<DialerEvent> events;
  b.dialer->set_observer([&](const DialerEvent& e) { events.push_back(e); });
  auto r = b.tick();
  CHECK(r.placed == 3);
  CHECK(r.lines_in_use == 3);
  REQUIRE(b.fake->requests.size() == 3);
  CHECK(b.fake->requests[0].from == "+12125550100");
  CHECK(b.fake->requests[0].metadata.at("campaign_id") == c.id);
  CHECK(std::count_if(events.begin(), events.end(), [](auto& e) { return e.kind == DialerEvent::Kind::Placed; }) == 3);
  // Lines are full: nothing more until a call ends.
  CHECK(b.tick().placed == 0);
  CHECK(b.dialer->status().campaigns.at(0).waiting == "lines");
  // One call ends (through the provider's sink).
  auto page = b.calls->list_calls("gym-nyc", CallFilter{});
  REQUIRE(page.items.size() == 3);
  const Call& first = page.items.back();
  CHECK(first.provider_call_id.rfind("fake-", 0) == 0);
  b.fake->emit(ended_event(first, first.provider_call_id, "ev-end-1"));
  CHECK(b.tick().placed == 0);  // the call ends 40 s after it started: its line is busy until then
  b.clock->advance(std::chrono::seconds{41});
  CHECK(b.tick().placed == 1);
  CHECK(b.dialer->status().lines_in_use == 3);
  // A refusal abandons the call and frees its line and lead.
  b.fake->refuse_next = true;
  page = b.calls->list_calls("gym-nyc", CallFilter{});
  const Call& second = page.items.front();
  b.fake->emit(ended_event(second, second.provider_call_id, "ev-end-2"));
  b.clock->advance(std::chrono::seconds{41});
  const auto placed = b.tick().placed;
  CHECK(placed == 1);
  CHECK(b.dialer->status().refused == 1);
  CHECK(b.dialer->status().lines_in_use == 2);
}

TEST_CASE("a gym's lines are divided by weight, max-min fair, and no line idles while leads wait") {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 40; ++round) {
    const int lines = 1 + static_cast<int>(rng() % 12);
    Bench b(make_memory_store(), lines);
    b.gym();
    const int n = 2 + static_cast<int>(rng() % 3);
    struct Spec {
      Campaign c;
      int cap, weight, leads;
    };
    std::vector<Spec> specs;
    int first = 0;
    for (int k = 0; k < n; ++k) {
      const std::string tag = "t" + std::to_string(k);
      const int leads = static_cast<int>(rng() % 8);
      b.add_leads("gym-nyc", leads, first, tag);
      first += leads;
      const int cap = 1 + static_cast<int>(rng() % 6);
      const int weight = 1 + static_cast<int>(rng() % 4);
      specs.push_back({b.campaign("gym-nyc", cap, weight, tag), cap, weight, leads});
    }
    b.tick();
    const auto used = b.lines_by_campaign();
    int total = 0, demand = 0;
    for (const auto& s : specs) {
      const int x = used.count(s.c.id) ? used.at(s.c.id) : 0;
      CHECK(x <= s.cap);
      CHECK(x <= s.leads);
      total += x;
      demand += std::min(s.cap, s.leads);
    }
    // No line idle while a campaign with eligible leads waits.
    CHECK(total == std::min(lines, demand));
    // Weighted max-min: a campaign below what it could use has at least the
    // share per weight of any other (up to one line of rounding).
    for (const auto& i : specs)
      for (const auto& j : specs) {
        const int xi = used.count(i.c.id) ? used.at(i.c.id) : 0;
        const int xj = used.count(j.c.id) ? used.at(j.c.id) : 0;
        if (xi < std::min(i.cap, i.leads))
          CHECK(static_cast<double>(xj) / j.weight <= static_cast<double>(xi) / i.weight + 1.0 / j.weight + 1e-9);
      }
  }
}

TEST_CASE("daily cap, budget and schedule hold a campaign back, each with its reason") {
  Bench b(make_memory_store(), 20);
  b.gym();
  b.add_leads("gym-nyc", 30);
  auto c = b.campaign("gym-nyc", 10, 1);
  b.campaigns->set_state("gym-nyc", c.id, CampaignState::Paused);
  CampaignPatch p;
  p.pacing = CampaignPacing{10, 4, 100, 5, 60};  // 4 calls a day
  b.campaigns->update_campaign("gym-nyc", c.id, p);
  b.campaigns->set_state("gym-nyc", c.id, CampaignState::Active);
  CHECK(b.tick().placed == 4);
  CHECK(b.tick().placed == 0);
  CHECK(b.dialer->status().campaigns.at(0).waiting == "daily_cap");

  // A budget of $1.00 with $0.50 held per call: two calls at once, at most.
  b.campaigns->set_state("gym-nyc", c.id, CampaignState::Paused);
  p = CampaignPatch{};
  p.pacing = CampaignPacing{10, 1000, 100, 5, 60};
  p.budget = CampaignBudget{1.0, 0, 0.5};
  b.campaigns->update_campaign("gym-nyc", c.id, p);
  b.campaigns->set_state("gym-nyc", c.id, CampaignState::Active);
  CHECK(b.tick().placed == 0);  // the four calls in flight hold $2.00 already
  CHECK(b.dialer->status().campaigns.at(0).waiting == "budget");

  // Outside the campaign's days: nothing, and it says so.
  Bench s(make_memory_store(), 5);
  s.gym();
  s.add_leads("gym-nyc", 3);
  CampaignInput in;
  in.name = "weekend";
  in.voice_provider = "fake";
  in.schedule.days = 0x60;  // Saturday and Sunday; kStart is a Monday
  auto w = s.campaigns->create_campaign("gym-nyc", in);
  s.campaigns->enrol_by_filter("gym-nyc", w.id);
  s.campaigns->set_state("gym-nyc", w.id, CampaignState::Active);
  CHECK(s.tick().placed == 0);
  CHECK(s.dialer->status().campaigns.at(0).waiting == "outside_schedule");
}

TEST_CASE("start ticks on the executor; stop stops placing calls") {
  Bench b(make_memory_store(), 50);
  b.gym();
  b.add_leads("gym-nyc", 40);
  b.campaign("gym-nyc", 1, 1);
  b.dialer.reset();
  DialerOptions o;
  o.tick = std::chrono::milliseconds{10};
  o.idle_recheck = std::chrono::milliseconds{0};
  auto dialer = make_dialer(b.context(), o);
  auto work = asio::make_work_guard(b.io);
  std::thread runner([&] { b.io.run(); });
  dialer->start();
  // Each call ends right away, so each tick may place one more.
  for (int i = 0; i < 500 && dialer->status().placed < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds{5});
  dialer->stop();
  std::this_thread::sleep_for(std::chrono::milliseconds{50});
  const auto ticks = dialer->status().ticks;
  const auto placed = dialer->status().placed;
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
  CHECK(dialer->status().ticks == ticks);
  CHECK(dialer->status().placed == placed);
  CHECK_FALSE(dialer->status().running);
  CHECK(ticks >= 1);
  CHECK(placed >= 1);
  dialer->stop();  // twice is fine
  dialer.reset();
  work.reset();
  runner.join();
}

TEST_CASE("a due callback runs exactly once across a process that dies mid-call (SQLite)") {
  test::TempPath path("dialer-restart");
  std::string lead_id;
  std::string campaign_id;
  Timestamp callback_due{};
  {
    Bench b(make_sqlite_store(SqliteOptions{path.str()}));
    b.gym();
    lead_id = b.add_leads("gym-nyc", 1)[0];
    const auto c = b.campaign("gym-nyc", 1, 1);
    campaign_id = c.id;
    // A call that asks for a callback in an hour.
    auto first = b.calls->begin_outbound_call(OutboundCall{"gym-nyc", lead_id, c.id, "fake", ""});
    auto e = ended_event(first, "prov-cb", "ev-cb", CallOutcome::CallbackRequested);
    callback_due = *e.ended_at + std::chrono::hours{1};
    e.callback_at = callback_due;
    b.calls->process_event(e);
    b.clock->set(callback_due + std::chrono::seconds{1});
    CHECK(b.tick().placed == 1);  // the callback: claimed, asked for, never answered
    CHECK(b.calls->lead_calls("gym-nyc", lead_id).size() == 2);
    // The process dies here: nothing ends the call.
  }
  {
    Bench b(make_sqlite_store(SqliteOptions{path.str()}));
    b.clock->set(callback_due + std::chrono::minutes{30});
    CHECK(b.tick().placed == 0);  // still claimed: the call may be live
    CHECK(b.leads->get_lead("gym-nyc", lead_id).active_call_id.size() > 0);
  }
  {
    Bench b(make_sqlite_store(SqliteOptions{path.str()}));
    b.clock->set(callback_due + std::chrono::hours{3});  // past stale_call_after (2 h)
    const auto r = b.tick();
    const auto calls = b.calls->lead_calls("gym-nyc", lead_id);
    REQUIRE(calls.size() >= 2);
    CHECK(calls[1].status == CallStatus::Failed);
    CHECK(calls[1].end_reason.find("abandoned") != std::string::npos);
    // The callback is settled: the lead is an ordinary retry now, not a due callback.
    const Lead l = b.leads->get_lead("gym-nyc", lead_id);
    CHECK_FALSE(l.callback_at.has_value());
    CHECK(l.attempts == static_cast<int>(calls.size()));
    CHECK(b.campaigns->enrolment("gym-nyc", campaign_id, lead_id)->attempts == static_cast<int>(calls.size()) - 1);
    // The retry (if the gap allowed one) is a new attempt, not the callback again.
    CHECK(r.placed <= 1);
  }
}

TEST_CASE("a forecast runs the plan on a copy and writes nothing back") {
  Bench b(make_memory_store(), 10);
  b.gym();
  const auto ids = b.add_leads("gym-nyc", 25);
  // One lead may never be called: it is on the gym's do-not-call list.
  b.leads->add_to_dnc("gym-nyc", b.leads->get_lead("gym-nyc", ids[3]).phone, "asked", "test");
  auto c = b.campaign("gym-nyc", 3, 1);
  b.campaigns->set_state("gym-nyc", c.id, CampaignState::Paused);
  const auto before = b.leads->list_leads("gym-nyc", LeadFilter{});

  ForecastOptions o;
  o.days = 5;
  o.provider_options = {{"seed", "3"}, {"answer_rate", "0.6"}, {"voicemail_rate", "0.2"}};
  const Forecast f = forecast_campaign(*b.store, *b.config, "gym-nyc", c.id, kStart, o);
  CHECK(f.target_leads == 25);
  CHECK(f.calls > 0);
  CHECK(f.connected > 0);
  CHECK(f.connected + f.voicemail <= f.calls);
  std::int64_t by_day = 0;
  for (const auto& d : f.by_day) by_day += d.calls;
  CHECK(by_day == f.calls);
  CHECK(f.attempted_leads <= 24);  // never the listed one
  CHECK(f.reached_leads <= f.attempted_leads);
  CHECK(f.done_leads >= f.reached_leads);
  CHECK(f.done_leads <= f.target_leads);
  if (f.hours_until_all_done) CHECK(f.done_leads == f.target_leads);
  CHECK(f.to <= kStart + std::chrono::hours{24 * 5});

  // Nothing was written to the real store.
  CHECK(b.calls->list_calls("gym-nyc", CallFilter{}).total == 0);
  CHECK(b.leads->list_leads("gym-nyc", LeadFilter{}).items == before.items);
  CHECK(b.campaigns->get_campaign("gym-nyc", c.id).state == CampaignState::Paused);
  // The same plan, the same seed: the same forecast.
  const Forecast again = forecast_campaign(*b.store, *b.config, "gym-nyc", c.id, kStart, o);
  CHECK(again.calls == f.calls);
  CHECK(again.connected == f.connected);

  // Progress after each simulated day; throwing cancels.
  std::vector<int> days_seen;
  o.progress = [&](const ForecastProgress& p) {
    days_seen.push_back(p.day);
    CHECK(p.target_leads == 25);
  };
  const Forecast with_progress = forecast_campaign(*b.store, *b.config, "gym-nyc", c.id, kStart, o);
  CHECK(with_progress.calls == f.calls);
  if (!with_progress.hours_until_all_done) CHECK(days_seen == std::vector<int>{1, 2, 3, 4, 5});
  o.progress = [](const ForecastProgress& p) {
    if (p.day >= 1) throw ConflictError("progress: stop", "progress");
  };
  CHECK_THROWS_AS(forecast_campaign(*b.store, *b.config, "gym-nyc", c.id, kStart, o), ConflictError);
  o.progress = nullptr;

  // Bad input names the option.
  o.days = 0;
  CHECK_THROWS_AS(forecast_campaign(*b.store, *b.config, "gym-nyc", c.id, kStart, o), InvalidArgumentError);
  o.days = 2;
  o.provider_options = {{"answer_rate", "2"}};
  try {
    forecast_campaign(*b.store, *b.config, "gym-nyc", c.id, kStart, o);
    FAIL("expected InvalidArgumentError");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field().find("answer_rate") != std::string::npos);
  }
  CHECK_THROWS_AS(forecast_campaign(*b.store, *b.config, "gym-nyc", "cmp_nope", kStart, ForecastOptions{}),
                  NotFoundError);
}

// ---- candidate queues -------------------------------------------------------------------------

namespace {

DialerOptions long_lived_queues() {
  DialerOptions o;
  o.idle_recheck = std::chrono::milliseconds{0};
  o.queue_max_age = std::chrono::minutes{10};
  return o;
}

// Ends the lead's latest call through the provider's sink, optionally asking for a callback.
void end_call(Bench& b, const std::string& lead_id, const std::string& event_id,
              std::optional<Timestamp> callback = std::nullopt) {
  const auto calls = b.calls->lead_calls("gym-nyc", lead_id);
  REQUIRE_FALSE(calls.empty());
  const Call& c = calls.back();
  auto e = ended_event(c, c.provider_call_id, event_id,
                       callback ? std::optional<CallOutcome>(CallOutcome::CallbackRequested) : std::nullopt);
  e.callback_at = callback;
  b.fake->emit(e);
}

std::string phone_of(Bench& b, const std::string& lead_id) { return b.leads->get_lead("gym-nyc", lead_id).phone; }

void check_question_and_check_agree(Bench& b) {
  b.gym();
  std::mt19937 rng(11);
  const char* areas[] = {"212", "305", "310", "808", "602"};
  std::vector<std::string> ids;
  for (int i = 0; i < 90; ++i) {
    LeadInput in;
    char phone[32];
    std::snprintf(phone, sizeof phone, "+1%s555%04d", areas[rng() % 5], 1000 + i);
    in.phone = phone;
    if (rng() % 6 != 0) in.consent = Consent{true, kStart - std::chrono::hours{24}, "web_form", "test"};
    in.qualification = static_cast<Qualification>(rng() % 3);
    in.created_at = kStart - std::chrono::minutes{1 + static_cast<int>(rng() % 5000)};
    const auto lead = b.leads->create_lead("gym-nyc", in).lead;
    ids.push_back(lead.id);
    // Some earlier calls, some asking for a callback.
    const int calls = static_cast<int>(rng() % 3);
    for (int k = 0; k < calls; ++k) {
      CallResult r;
      r.call_id = "c" + std::to_string(i) + "-" + std::to_string(k);
      r.started_at = kStart - std::chrono::minutes{static_cast<int>(rng() % 900)};
      r.ended_at = r.started_at + std::chrono::seconds{30};
      r.status = CallStatus::Completed;
      r.answered_by = AnsweredBy::Human;
      if (rng() % 3 == 0) {
        r.outcome = CallOutcome::CallbackRequested;
        r.callback_at = kStart + std::chrono::minutes{static_cast<int>(rng() % 600)} - std::chrono::minutes{120};
      } else {
        r.outcome = CallOutcome::NotInterested;
        r.answered_by = AnsweredBy::Machine;
        r.outcome.reset();
      }
      b.leads->update_lead_after_call("gym-nyc", lead.id, r);
    }
  }
  CampaignInput in;
  in.name = "scoped";
  in.voice_provider = "fake";
  in.schedule.days = kAllDays;
  in.schedule.hours = LocalWindow{10 * 60, 18 * 60};
  in.pacing = CampaignPacing{5, 1000, 10, 2, 90};
  in.target.qualifications = {Qualification::Hot, Qualification::Neutral};
  const auto c = b.campaigns->create_campaign("gym-nyc", in);
  // Two leads in three are enrolled; some have campaign attempts already.
  std::vector<std::string> enrolled;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (i % 3 != 0) enrolled.push_back(ids[i]);
  b.campaigns->enrol_leads("gym-nyc", c.id, enrolled);
  for (const auto& id : enrolled) {
    const int attempts = static_cast<int>(rng() % 3);
    for (int k = 0; k < attempts; ++k)
      b.store->campaigns().record_attempt("gym-nyc", c.id, id,
                                          kStart - std::chrono::minutes{static_cast<int>(rng() % 300)});
  }
  const DialScope scope = dial_scope_of(c);  // as the dialer puts its campaign
  std::set<std::string> reasons_seen;
  std::size_t dialable_seen = 0;
  for (const char* at : {"2026-04-06T15:00:00Z", "2026-04-06T17:30:00Z", "2026-04-06T21:00:00Z",
                         "2026-04-06T23:30:00Z", "2026-04-07T03:00:00Z"}) {
    CAPTURE(at);
    const Timestamp t = parse_timestamp(at);
    std::set<std::string> got;
    for (const auto& l : b.leads->get_prioritized_leads("gym-nyc", 1000, scope, {}, t)) got.insert(l.id);
    std::set<std::string> want;
    for (const auto& id : ids) {
      const auto d = b.leads->explain("gym-nyc", id, scope, t);
      if (d.dialable) want.insert(id);
      reasons_seen.insert(d.reasons.begin(), d.reasons.end());
    }
    CHECK(got == want);
    dialable_seen += want.size();
  }
  CHECK(dialable_seen > 0);
  for (const char* r : {"not_enrolled", "campaign_attempts", "campaign_retry_gap", "qualification",
                        "outside_campaign_hours", "retry_gap", "no_consent"}) {
    CAPTURE(r);
    CHECK(reasons_seen.contains(r));
  }
  // The scope is checked as the question checks it.
  DialScope bad = scope;
  bad.hours = LocalWindow{18 * 60, 10 * 60};
  try {
    b.leads->explain("gym-nyc", ids[0], bad);
    FAIL("expected InvalidArgumentError");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "hours");
  }
  CHECK_THROWS_AS(b.leads->explain("gym-nyc", "ld_nope", scope), NotFoundError);
}

}  // namespace

TEST_CASE("a campaign's question and the check of one lead agree (memory)") {
  Bench b(make_memory_store());
  check_question_and_check_agree(b);
}

TEST_CASE("a campaign's question and the check of one lead agree (SQLite)") {
  test::TempPath path("dialer-scope");
  Bench b(make_sqlite_store(SqliteOptions{path.str()}));
  check_question_and_check_agree(b);
}

TEST_CASE("a queued lead is checked again when its turn comes, and dropped if it may not be called") {
  Bench b(make_memory_store(), 10, long_lived_queues());
  b.gym();
  const auto ids = b.add_leads("gym-nyc", 6);  // newest first: ids[0], ids[1], …
  const auto c = b.campaign("gym-nyc", 1, 1);
  auto r = b.tick();
  CHECK(r.asked == 1);
  CHECK(r.placed == 1);
  REQUIRE(b.fake->requests.size() == 1);
  CHECK(b.fake->requests[0].to == phone_of(b, ids[0]));
  // One line a tick: the queue holds four ticks' worth, less the one taken.
  CHECK(b.dialer->status().campaigns.at(0).queued == 3);

  // Queued leads change: one goes on the do-not-call list, one is lost, one loses its enrolment.
  b.leads->add_to_dnc("gym-nyc", phone_of(b, ids[1]), "asked", "test");
  b.leads->change_status("gym-nyc", ids[2], StatusChange{LeadStatus::Lost, "test", "moved away", false});
  end_call(b, ids[0], "ev-q-1");
  b.clock->advance(std::chrono::seconds{41});
  r = b.tick();
  CHECK(r.asked == 0);  // taken from the queue, not asked again
  CHECK(r.dropped == 2);
  CHECK(r.placed == 1);
  CHECK(b.fake->requests.back().to == phone_of(b, ids[3]));
  CHECK(b.leads->get_lead("gym-nyc", ids[1]).active_call_id.empty());
  CHECK(b.calls->lead_calls("gym-nyc", ids[1]).empty());
  CHECK(b.calls->lead_calls("gym-nyc", ids[2]).empty());

  // A lead removed from the campaign changes its version: the queue is asked again.
  CHECK(b.campaigns->remove_leads("gym-nyc", c.id, {ids[4]}) == 1);
  end_call(b, ids[3], "ev-q-2");
  b.clock->advance(std::chrono::seconds{41});
  r = b.tick();
  CHECK(r.asked == 1);
  CHECK(r.placed == 1);
  CHECK(b.fake->requests.back().to == phone_of(b, ids[5]));
  CHECK(b.calls->lead_calls("gym-nyc", ids[4]).empty());
}

TEST_CASE("enrolment changes move a campaign's version; nothing changed, nothing written") {
  Bench b(make_memory_store());
  b.gym();
  const auto ids = b.add_leads("gym-nyc", 3);
  CampaignInput in;
  in.name = "v";
  in.voice_provider = "fake";
  auto c = b.campaigns->create_campaign("gym-nyc", in);
  b.clock->advance(std::chrono::seconds{1});
  b.campaigns->enrol_leads("gym-nyc", c.id, {ids[0]});
  auto after = b.campaigns->get_campaign("gym-nyc", c.id);
  CHECK(after.version == c.version + 1);
  CHECK(after.updated_at == b.clock->now());
  b.campaigns->enrol_leads("gym-nyc", c.id, {ids[0]});  // already enrolled
  CHECK(b.campaigns->get_campaign("gym-nyc", c.id).version == after.version);
  b.campaigns->enrol_by_filter("gym-nyc", c.id);
  CHECK(b.campaigns->get_campaign("gym-nyc", c.id).version == after.version + 1);
  CHECK(b.campaigns->remove_leads("gym-nyc", c.id, {"ld_nope"}) == 0);
  CHECK(b.campaigns->get_campaign("gym-nyc", c.id).version == after.version + 1);
  CHECK(b.campaigns->remove_leads("gym-nyc", c.id, {ids[1], ids[2]}) == 2);
  CHECK(b.campaigns->get_campaign("gym-nyc", c.id).version == after.version + 2);
}

TEST_CASE("a callback that comes due joins the front of the queue without a new question") {
  Bench b(make_memory_store(), 10, long_lived_queues());
  b.gym();
  const auto ids = b.add_leads("gym-nyc", 8);
  b.campaign("gym-nyc", 1, 1);
  CHECK(b.tick().placed == 1);  // ids[0]
  const Timestamp due = b.clock->now() + std::chrono::minutes{5};
  end_call(b, ids[0], "ev-cb-1", due);
  b.clock->advance(std::chrono::seconds{41});
  auto r = b.tick();
  CHECK(r.placed == 1);  // ids[1], from the queue
  CHECK(b.fake->requests.back().to == phone_of(b, ids[1]));
  end_call(b, ids[1], "ev-cb-2");
  b.clock->advance(std::chrono::seconds{41});
  CHECK(b.tick().placed == 1);  // ids[2]
  end_call(b, ids[2], "ev-cb-3");
  // Not yet due: the queue goes on.
  b.clock->set(due - std::chrono::seconds{60});
  r = b.tick();
  CHECK(r.placed == 1);
  CHECK(b.fake->requests.back().to == phone_of(b, ids[3]));
  end_call(b, ids[3], "ev-cb-4");
  // Due: placed at the next tick, ahead of the queue, and the queue was not asked again.
  b.clock->set(due + std::chrono::seconds{1});
  r = b.tick();
  CHECK(r.asked == 0);
  CHECK(r.placed == 1);
  CHECK(b.fake->requests.back().to == phone_of(b, ids[0]));
  const auto calls = b.calls->lead_calls("gym-nyc", ids[0]);
  REQUIRE(calls.size() == 2);
  CHECK(calls[1].started_at >= due);
}

TEST_CASE("refill fills the queues off the tick; the tick then only takes from them") {
  Bench b(make_memory_store(), 10);
  b.gym();
  b.add_leads("gym-nyc", 20);
  b.campaign("gym-nyc", 2, 1);
  b.campaign("gym-nyc", 3, 1);
  const RefillReport f = b.dialer->refill();
  CHECK(f.refilled == 2);
  CHECK(f.leads == 8 + 12);  // four ticks of two lines and of three
  CHECK(b.dialer->refill().refilled == 0);  // nothing due
  const auto r = b.tick();
  CHECK(r.asked == 0);
  CHECK(r.refilled == 0);
  CHECK(r.placed == 5);
  // Both campaigns enrol every lead: none is called twice.
  std::set<std::string> to;
  for (const auto& req : b.fake->requests) to.insert(req.to);
  CHECK(to.size() == 5);
  CHECK(boost::json::value_from(f).as_object().at("refilled").as_int64() == 2);
}

TEST_CASE("queue options out of range name the option") {
  Bench b(make_memory_store());
  const auto field = [&](DialerOptions o) -> std::string {
    try {
      make_dialer(b.context(), o);
    } catch (const InvalidArgumentError& e) {
      return e.field();
    }
    return "";
  };
  DialerOptions o;
  CHECK(field(o).empty());
  o.queue_ticks = 0;
  CHECK(field(o) == "queue_ticks");
  o = DialerOptions{};
  o.queue_max_leads = 1001;
  CHECK(field(o) == "queue_max_leads");
  o = DialerOptions{};
  o.queue_max_age = std::chrono::milliseconds{500};
  CHECK(field(o) == "queue_max_age");
}
