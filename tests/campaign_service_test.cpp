#include <gymdash/gymdash.hpp>
#include <gymdash/services/campaign.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include "test_util.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <set>

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const Config> test_config() {
  auto c = std::make_shared<Config>();
  VoiceProviderConfig sim;
  sim.kind = "simulated";
  c->voice_providers["sim"] = sim;
  VoiceProviderConfig retell;
  retell.kind = "retell";
  retell.api_key_env = "RETELL_KEY";
  retell.assistants = {"asst_1", "asst_2"};
  c->voice_providers["retell"] = retell;
  VoiceProviderConfig vapi;
  vapi.kind = "vapi";
  vapi.api_key_env = "VAPI_KEY";
  c->voice_providers["vapi"] = vapi;
  return c;
}

struct Fixture {
  std::unique_ptr<Store> store;
  // 2026-11-02 10:00 in New York (a Monday).
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(parse_timestamp("2026-11-02T15:00:00Z"));
  std::unique_ptr<GymService> gyms = make_gym_service(*store, clock);
  std::unique_ptr<LeadService> leads = make_lead_service(*store, clock);
  std::unique_ptr<CampaignService> svc = make_campaign_service(*store, clock, test_config());

  explicit Fixture(std::unique_ptr<Store> backend = make_memory_store()) : store(std::move(backend)) {
    Gym a;
    a.id = "gym-a";
    a.name = "A";
    a.timezone = "America/New_York";  // call hours 09:00–20:00, every day
    gyms->create_gym(a);
    Gym b = a;
    b.id = "gym-b";
    b.name = "B";
    b.call_hours = LocalWindow{0, 24 * 60};
    b.call_days = 0x60;  // sat, sun
    gyms->create_gym(b);
  }

  static CampaignInput valid() {
    CampaignInput in;
    in.name = "Winter push";
    in.voice_provider = "sim";
    return in;
  }

  Campaign create(const CampaignInput& in = valid(), const std::string& gym = "gym-a") {
    return svc->create_campaign(gym, in);
  }

  Lead add_lead(const std::string& phone, const std::string& gym = "gym-a", std::vector<std::string> tags = {},
                std::optional<LeadStatus> status = std::nullopt) {
    LeadInput in;
    in.phone = phone;
    in.tags = std::move(tags);
    in.status = status;
    return leads->create_lead(gym, in).lead;
  }

  // The field of the InvalidArgumentError `fn` throws, or "<accepted>".
  static std::string field_of(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const InvalidArgumentError& e) {
      return e.field();
    }
    return "<accepted>";
  }

  // Creates `in` in gym-a; the field of its error, or "<accepted>".
  std::string create_field(const CampaignInput& in, const std::string& gym = "gym-a") {
    return field_of([&] { svc->create_campaign(gym, in); });
  }

  template <class F>
  std::string with(F&& change) {
    CampaignInput in = valid();
    change(in);
    return create_field(in);
  }

  std::int64_t count(const std::string& gym = "gym-a") { return svc->list_campaigns(gym, {}).total; }

  // Scenarios run over both backends (registered at the end of the file).
  void lifecycle_table();
  void lifecycle_stamps();
  void activation_recheck();
  void update_rules();
  void delete_rules();
  void enrol_by_id();
  void enrol_by_filter_and_remove();
  void performance_counters();
  void list_paging();

  Campaign in_state(CampaignState s) {
    Campaign c = create();
    using S = CampaignState;
    switch (s) {
      case S::Draft: break;
      case S::Active: c = svc->set_state("gym-a", c.id, S::Active); break;
      case S::Paused:
        svc->set_state("gym-a", c.id, S::Active);
        c = svc->set_state("gym-a", c.id, S::Paused);
        break;
      case S::Completed:
        svc->set_state("gym-a", c.id, S::Active);
        c = svc->set_state("gym-a", c.id, S::Completed);
        break;
      case S::Cancelled: c = svc->set_state("gym-a", c.id, S::Cancelled); break;
    }
    REQUIRE(c.state == s);
    return c;
  }
};

// A database file that outlives the store opened on it (a base initialized first).
struct TempFile {
  test::TempPath path{"campaign-service"};
};

struct SqliteFixture : TempFile, Fixture {
  SqliteFixture() : TempFile(), Fixture(open_store("sqlite:" + path.str())) {}
};

const std::vector<CampaignState> kStates{CampaignState::Draft, CampaignState::Active, CampaignState::Paused,
                                         CampaignState::Completed, CampaignState::Cancelled};

}  // namespace

// ---- create and read -------------------------------------------------------------

TEST_CASE_FIXTURE(Fixture, "create stores a draft with defaults and normalized fields") {
  CampaignInput in = valid();
  in.name = "  Winter push ";
  in.target.tags = {" VIP", "vip", "Student"};
  in.target.statuses = {LeadStatus::Qualified, LeadStatus::New, LeadStatus::New};
  Campaign c = create(in);
  CHECK(c.id.rfind("cmp_", 0) == 0);
  CHECK(c.gym_id == "gym-a");
  CHECK(c.name == "Winter push");
  CHECK(c.state == CampaignState::Draft);
  CHECK(c.target.tags == std::vector<std::string>{"student", "vip"});
  CHECK(c.target.statuses == std::vector<LeadStatus>{LeadStatus::New, LeadStatus::Qualified});
  CHECK(c.schedule.days == kWeekdays);
  CHECK(c.schedule.hours == LocalWindow{9 * 60, 19 * 60});
  CHECK(c.pacing.max_concurrent == 5);
  CHECK(c.budget.reserve_per_call_usd == 0.5);
  CHECK(c.weight == 1);
  CHECK(c.version == 1);
  CHECK(c.created_at == clock->now());
  CHECK(c.updated_at == clock->now());
  CHECK_FALSE(c.activated_at);
  CHECK_FALSE(c.ended_at);
  CHECK(svc->get_campaign("gym-a", c.id) == c);

  // Scoped to the gym.
  CHECK_THROWS_AS(svc->get_campaign("gym-b", c.id), NotFoundError);
  CHECK_THROWS_AS(svc->get_campaign("gym-x", c.id), NotFoundError);
  CHECK_THROWS_AS(svc->create_campaign("gym-x", valid()), NotFoundError);
  try {
    svc->get_campaign("gym-a", "cmp_nope");
    FAIL("expected NotFoundError");
  } catch (const NotFoundError& e) {
    CHECK(e.field() == "campaign_id");
  }
}

void Fixture::list_paging() {
  Campaign a = create();
  clock->advance(1s);
  Campaign b = create();
  clock->advance(1s);
  Campaign c = create();
  svc->set_state("gym-a", b.id, CampaignState::Active);
  auto page = svc->list_campaigns("gym-a", {});
  REQUIRE(page.items.size() == 3);
  CHECK(page.total == 3);
  CHECK(page.items[0].id == c.id);
  CHECK(page.items[2].id == a.id);
  CampaignFilter f;
  f.states = {CampaignState::Active};
  page = svc->list_campaigns("gym-a", f);
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0].id == b.id);
  f = {};
  f.page_size = 2;
  f.page = 2;
  page = svc->list_campaigns("gym-a", f);
  CHECK(page.items.size() == 1);
  CHECK(page.total == 3);
  CHECK(svc->list_campaigns("gym-b", {}).total == 0);
  f = {};
  f.page_size = 0;
  CHECK(field_of([&] { svc->list_campaigns("gym-a", f); }) == "page_size");
  f.page_size = 1001;
  CHECK(field_of([&] { svc->list_campaigns("gym-a", f); }) == "page_size");
  f.page_size = 1000;
  f.page = 0;
  CHECK(field_of([&] { svc->list_campaigns("gym-a", f); }) == "page");
}

// ---- validation, every rule at and just past its limit ----------------------------

TEST_CASE_FIXTURE(Fixture, "name and description limits") {
  CHECK(with([](auto& in) { in.name = ""; }) == "name");
  CHECK(with([](auto& in) { in.name = "   "; }) == "name");
  CHECK(with([](auto& in) { in.name = std::string(200, 'n'); }) == "<accepted>");
  CHECK(with([](auto& in) { in.name = std::string(201, 'n'); }) == "name");
  CHECK(with([](auto& in) { in.name = "\xff"; }) == "name");
  CHECK(with([](auto& in) { in.description = std::string(10000, 'd'); }) == "<accepted>");
  CHECK(with([](auto& in) { in.description = std::string(10001, 'd'); }) == "description");
}

TEST_CASE_FIXTURE(Fixture, "target rules") {
  for (auto s : {LeadStatus::New, LeadStatus::Contacted, LeadStatus::Qualified, LeadStatus::TrialBooked})
    CHECK(with([&](auto& in) { in.target.statuses = {s}; }) == "<accepted>");
  CHECK(with([](auto& in) { in.target.statuses = {LeadStatus::Converted}; }) == "target.statuses[0]");
  CHECK(with([](auto& in) { in.target.statuses = {LeadStatus::New, LeadStatus::Lost}; }) == "target.statuses[1]");
  CHECK(with([](auto& in) { in.target.tags = {"ok", " "}; }) == "target.tags[1]");
  CHECK(with([](auto& in) { in.target.tags = {std::string(100, 't')}; }) == "<accepted>");
  CHECK(with([](auto& in) { in.target.tags = {std::string(101, 't')}; }) == "target.tags[0]");
  CHECK(with([](auto& in) { in.target.tags = std::vector<std::string>(101, "x"); }) == "target.tags");
  CHECK(with([](auto& in) { in.target.source = std::string(201, 's'); }) == "target.source");
  const Timestamp t = parse_timestamp("2026-10-01T00:00:00Z");
  CHECK(with([&](auto& in) {
          in.target.created_from = t;
          in.target.created_to = t;
        }) == "target.created_to");
  CHECK(with([&](auto& in) {
          in.target.created_from = t;
          in.target.created_to = t + 1ms;
        }) == "<accepted>");
  CHECK(with([&](auto& in) { in.target.created_to = t; }) == "<accepted>");
}

TEST_CASE_FIXTURE(Fixture, "schedule dates") {
  CHECK(with([](auto& in) { in.schedule.start_date = "2026-13-01"; }) == "schedule.start_date");
  CHECK(with([](auto& in) { in.schedule.start_date = "2026-02-29"; }) == "schedule.start_date");
  CHECK(with([](auto& in) { in.schedule.start_date = "2028-02-29"; }) == "<accepted>");
  CHECK(with([](auto& in) { in.schedule.start_date = "2026/11/02"; }) == "schedule.start_date");
  CHECK(with([](auto& in) { in.schedule.end_date = "tomorrow"; }) == "schedule.end_date");
  // end ≥ start
  CHECK(with([](auto& in) {
          in.schedule.start_date = "2026-12-02";
          in.schedule.end_date = "2026-12-01";
        }) == "schedule.end_date");
  CHECK(with([](auto& in) {
          in.schedule.start_date = "2026-12-02";
          in.schedule.end_date = "2026-12-02";
        }) == "<accepted>");
  // Not in the past: today is 2026-11-02 in New York (15:00 UTC).
  CHECK(with([](auto& in) { in.schedule.end_date = "2026-11-01"; }) == "schedule.end_date");
  CHECK(with([](auto& in) { in.schedule.end_date = "2026-11-02"; }) == "<accepted>");
  // A start in the past is fine (calling starts at activation).
  CHECK(with([](auto& in) { in.schedule.start_date = "2026-10-01"; }) == "<accepted>");
  // Gym-local today: at 03:00 UTC on the 3rd it is still the 2nd in New York.
  clock->set(parse_timestamp("2026-11-03T03:00:00Z"));
  CHECK(with([](auto& in) { in.schedule.end_date = "2026-11-02"; }) == "<accepted>");
  clock->set(parse_timestamp("2026-11-03T05:00:00Z"));
  CHECK(with([](auto& in) { in.schedule.end_date = "2026-11-02"; }) == "schedule.end_date");
}

TEST_CASE_FIXTURE(Fixture, "schedule days and hours") {
  CHECK(with([](auto& in) { in.schedule.days = 0; }) == "schedule.days");
  CHECK(with([](auto& in) { in.schedule.days = 0x80; }) == "schedule.days");
  CHECK(with([](auto& in) { in.schedule.days = 0x40; }) == "<accepted>");
  CHECK(with([](auto& in) { in.schedule.hours = {10 * 60, 10 * 60}; }) == "schedule.hours");
  CHECK(with([](auto& in) { in.schedule.hours = {10 * 60, 10 * 60 + 1}; }) == "<accepted>");
  CHECK(with([](auto& in) { in.schedule.hours = {0, 24 * 60}; }) == "<accepted>");
  CHECK(with([](auto& in) { in.schedule.hours = {0, 24 * 60 + 1}; }) == "schedule.hours");
  CHECK(with([](auto& in) { in.schedule.hours = {-1, 10 * 60}; }) == "schedule.hours");
  // Gym A calls 09:00–20:00: the hours must overlap it (and 08:00–21:00).
  CHECK(with([](auto& in) { in.schedule.hours = {7 * 60, 9 * 60}; }) == "schedule.hours");
  CHECK(with([](auto& in) { in.schedule.hours = {7 * 60, 9 * 60 + 1}; }) == "<accepted>");
  CHECK(with([](auto& in) { in.schedule.hours = {20 * 60, 22 * 60}; }) == "schedule.hours");
  CHECK(with([](auto& in) { in.schedule.hours = {20 * 60 - 1, 22 * 60}; }) == "<accepted>");
}

TEST_CASE_FIXTURE(Fixture, "schedules that never open against the federal window and the gym's days") {
  // Gym B calls around the clock, on weekends only.
  CampaignInput in = valid();
  in.schedule.days = 0x60;
  in.schedule.hours = {21 * 60, 23 * 60};
  CHECK(create_field(in, "gym-b") == "schedule.hours");
  in.schedule.hours = {21 * 60 - 1, 23 * 60};
  CHECK(create_field(in, "gym-b") == "<accepted>");
  in.schedule.hours = {6 * 60, 8 * 60};
  CHECK(create_field(in, "gym-b") == "schedule.hours");
  in.schedule.hours = {6 * 60, 8 * 60 + 1};
  CHECK(create_field(in, "gym-b") == "<accepted>");
  in.schedule.days = kWeekdays;
  CHECK(create_field(in, "gym-b") == "schedule.days");
  in.schedule.days = kWeekdays | 0x20;  // + saturday
  CHECK(create_field(in, "gym-b") == "<accepted>");
}

TEST_CASE_FIXTURE(Fixture, "pacing ranges") {
  struct IntRule {
    const char* field;
    int CampaignPacing::*member;
    int lo, hi;
  };
  for (const IntRule& r : {IntRule{"pacing.max_concurrent", &CampaignPacing::max_concurrent, 1, 1000},
                           IntRule{"pacing.calls_per_day", &CampaignPacing::calls_per_day, 1, 1000000},
                           IntRule{"pacing.max_attempts", &CampaignPacing::max_attempts, 1, 20},
                           IntRule{"pacing.retry_gap_minutes", &CampaignPacing::retry_gap_minutes, 1, 43200}}) {
    CAPTURE(r.field);
    CHECK(with([&](auto& in) { in.pacing.*r.member = r.lo - 1; }) == r.field);
    CHECK(with([&](auto& in) { in.pacing.*r.member = -5; }) == r.field);
    CHECK(with([&](auto& in) { in.pacing.*r.member = r.lo; }) == "<accepted>");
    CHECK(with([&](auto& in) { in.pacing.*r.member = r.hi; }) == "<accepted>");
    CHECK(with([&](auto& in) { in.pacing.*r.member = r.hi + 1; }) == r.field);
  }
  const auto rate = [&](double v) { return with([&](auto& in) { in.pacing.calls_per_second = v; }); };
  CHECK(rate(0) == "pacing.calls_per_second");
  CHECK(rate(0.0099) == "pacing.calls_per_second");
  CHECK(rate(0.01) == "<accepted>");
  CHECK(rate(100) == "<accepted>");
  CHECK(rate(100.01) == "pacing.calls_per_second");
  CHECK(rate(-1) == "pacing.calls_per_second");
  CHECK(rate(std::nan("")) == "pacing.calls_per_second");
}

TEST_CASE_FIXTURE(Fixture, "budget rules") {
  const auto budget = [&](double daily, double total, double reserve) {
    return with([&](auto& in) { in.budget = CampaignBudget{daily, total, reserve}; });
  };
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(budget(0, 0, 0.5) == "<accepted>");
  // reserve 0.01–100
  CHECK(budget(0, 0, 0.0099) == "budget.reserve_per_call_usd");
  CHECK(budget(0, 0, 0.01) == "<accepted>");
  CHECK(budget(0, 0, 100) == "<accepted>");
  CHECK(budget(0, 0, 100.01) == "budget.reserve_per_call_usd");
  CHECK(budget(0, 0, 0) == "budget.reserve_per_call_usd");
  CHECK(budget(0, 0, std::nan("")) == "budget.reserve_per_call_usd");
  // daily: 0 or at least one reservation, finite
  CHECK(budget(-0.01, 0, 0.5) == "budget.daily_usd");
  CHECK(budget(0.49, 0, 0.5) == "budget.daily_usd");
  CHECK(budget(0.5, 0, 0.5) == "<accepted>");
  CHECK(budget(inf, 0, 0.5) == "budget.daily_usd");
  CHECK(budget(std::nan(""), 0, 0.5) == "budget.daily_usd");
  // total: the same, and not below daily
  CHECK(budget(0, -1, 0.5) == "budget.total_usd");
  CHECK(budget(0, 0.49, 0.5) == "budget.total_usd");
  CHECK(budget(0, 0.5, 0.5) == "<accepted>");
  CHECK(budget(0, inf, 0.5) == "budget.total_usd");
  CHECK(budget(10, 9.99, 0.5) == "budget.total_usd");
  CHECK(budget(10, 10, 0.5) == "<accepted>");
  CHECK(budget(10, 0, 0.5) == "<accepted>");  // no total cap
  CHECK(budget(0, 5, 0.5) == "<accepted>");   // no daily cap
}

TEST_CASE_FIXTURE(Fixture, "voice provider, assistant and weight") {
  CHECK(with([](auto& in) { in.voice_provider = ""; }) == "voice_provider");
  try {
    CampaignInput in = valid();
    in.voice_provider = "nope";
    create(in);
    FAIL("expected InvalidArgumentError");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "voice_provider");
    const std::string msg = e.what();
    CHECK(msg.find("retell") != std::string::npos);
    CHECK(msg.find("sim") != std::string::npos);
    CHECK(msg.find("vapi") != std::string::npos);
  }
  // retell: assistant required, and from the allow-list.
  CHECK(with([](auto& in) { in.voice_provider = "retell"; }) == "assistant_id");
  CHECK(with([](auto& in) {
          in.voice_provider = "retell";
          in.assistant_id = "asst_1";
        }) == "<accepted>");
  CHECK(with([](auto& in) {
          in.voice_provider = "retell";
          in.assistant_id = "asst_9";
        }) == "assistant_id");
  // vapi: required, any id (no allow-list).
  CHECK(with([](auto& in) { in.voice_provider = "vapi"; }) == "assistant_id");
  CHECK(with([](auto& in) {
          in.voice_provider = "vapi";
          in.assistant_id = "whatever";
        }) == "<accepted>");
  // simulated: optional.
  CHECK(with([](auto& in) { in.assistant_id = ""; }) == "<accepted>");
  CHECK(with([](auto& in) { in.assistant_id = std::string(201, 'a'); }) == "assistant_id");

  CHECK(with([](auto& in) { in.weight = 0; }) == "weight");
  CHECK(with([](auto& in) { in.weight = 1; }) == "<accepted>");
  CHECK(with([](auto& in) { in.weight = 1000; }) == "<accepted>");
  CHECK(with([](auto& in) { in.weight = 1001; }) == "weight");

  // Without a configuration every provider name is refused.
  auto bare = make_campaign_service(*store, clock, nullptr);
  CHECK(field_of([&] { bare->create_campaign("gym-a", valid()); }) == "voice_provider");
}

TEST_CASE_FIXTURE(Fixture, "a refused create writes nothing") {
  create();
  CampaignInput in = valid();
  in.pacing.max_concurrent = 0;
  CHECK(create_field(in) == "pacing.max_concurrent");
  CHECK(count() == 1);
}

// ---- lifecycle -----------------------------------------------------------------------

void Fixture::lifecycle_table() {
  using S = CampaignState;
  const std::set<std::pair<S, S>> allowed{{S::Draft, S::Active},      {S::Active, S::Paused},
                                          {S::Paused, S::Active},     {S::Active, S::Completed},
                                          {S::Paused, S::Completed},  {S::Draft, S::Cancelled},
                                          {S::Active, S::Cancelled},  {S::Paused, S::Cancelled}};
  for (auto from : kStates) {
    for (auto to : kStates) {
      CAPTURE(to_string(from));
      CAPTURE(to_string(to));
      const Campaign c = in_state(from);
      if (allowed.count({from, to})) {
        clock->advance(1s);
        const Campaign moved = svc->set_state("gym-a", c.id, to);
        CHECK(moved.state == to);
        CHECK(moved.version == c.version + 1);
        CHECK(moved.updated_at == clock->now());
        CHECK(svc->get_campaign("gym-a", c.id) == moved);
      } else {
        try {
          svc->set_state("gym-a", c.id, to);
          FAIL("expected ConflictError");
        } catch (const ConflictError& e) {
          const std::string msg = e.what();
          CHECK(msg.find(to_string(from)) != std::string::npos);
          CHECK(msg.find(to_string(to)) != std::string::npos);
        }
        CHECK(svc->get_campaign("gym-a", c.id) == c);  // nothing written
      }
    }
  }
}

void Fixture::lifecycle_stamps() {
  Campaign c = create();
  clock->advance(1min);
  const Timestamp first = clock->now();
  c = svc->set_state("gym-a", c.id, CampaignState::Active);
  CHECK(c.activated_at == first);
  clock->advance(1min);
  c = svc->set_state("gym-a", c.id, CampaignState::Paused);
  clock->advance(1min);
  c = svc->set_state("gym-a", c.id, CampaignState::Active);
  CHECK(c.activated_at == first);
  CHECK_FALSE(c.ended_at);
  clock->advance(1min);
  c = svc->set_state("gym-a", c.id, CampaignState::Completed);
  CHECK(c.ended_at == clock->now());
  CHECK(c.activated_at == first);

  Campaign d = create();
  d = svc->set_state("gym-a", d.id, CampaignState::Cancelled);
  CHECK(d.ended_at == clock->now());
  CHECK_FALSE(d.activated_at);
}

void Fixture::activation_recheck() {
  CampaignInput in = valid();
  in.schedule.end_date = "2026-11-03";
  Campaign c = create(in);
  clock->advance(48h);  // 2026-11-04 in New York
  CHECK(field_of([&] { svc->set_state("gym-a", c.id, CampaignState::Active); }) == "schedule.end_date");
  CHECK(svc->get_campaign("gym-a", c.id).state == CampaignState::Draft);
  // Still cancellable.
  CHECK(svc->set_state("gym-a", c.id, CampaignState::Cancelled).state == CampaignState::Cancelled);
}

// ---- update and delete ------------------------------------------------------------------

void Fixture::update_rules() {
  Campaign c = create();
  clock->advance(1s);
  CampaignPatch p;
  p.name = " Spring ";
  p.pacing = CampaignPacing{2, 100, 0.5, 3, 60};
  Campaign u = svc->update_campaign("gym-a", c.id, p);
  CHECK(u.name == "Spring");
  CHECK(u.pacing.max_concurrent == 2);
  CHECK(u.description == c.description);
  CHECK(u.voice_provider == "sim");
  CHECK(u.version == c.version + 1);
  CHECK(u.updated_at == clock->now());
  CHECK(svc->get_campaign("gym-a", c.id) == u);

  // The same values again write nothing.
  CHECK(svc->update_campaign("gym-a", c.id, p).version == u.version);

  // Checked as on create; a refused patch writes nothing.
  CampaignPatch bad;
  bad.name = "ok";
  bad.budget = CampaignBudget{0.1, 0, 0.5};
  CHECK(field_of([&] { svc->update_campaign("gym-a", c.id, bad); }) == "budget.daily_usd");
  CHECK(svc->get_campaign("gym-a", c.id) == u);

  // Paused: allowed.
  svc->set_state("gym-a", c.id, CampaignState::Active);
  Campaign paused = svc->set_state("gym-a", c.id, CampaignState::Paused);
  CampaignPatch w;
  w.weight = 7;
  CHECK(svc->update_campaign("gym-a", c.id, w).weight == 7);
  (void)paused;

  for (auto s : {CampaignState::Active, CampaignState::Completed, CampaignState::Cancelled}) {
    CAPTURE(to_string(s));
    const Campaign x = in_state(s);
    CHECK_THROWS_AS(svc->update_campaign("gym-a", x.id, w), ConflictError);
    CHECK(svc->get_campaign("gym-a", x.id) == x);
  }
  CHECK_THROWS_AS(svc->update_campaign("gym-a", "cmp_nope", w), NotFoundError);
  CHECK_THROWS_AS(svc->update_campaign("gym-b", c.id, w), NotFoundError);
}

void Fixture::delete_rules() {
  for (auto s : kStates) {
    CAPTURE(to_string(s));
    const Campaign c = in_state(s);
    const bool deletable = s == CampaignState::Draft || s == CampaignState::Completed || s == CampaignState::Cancelled;
    if (deletable) {
      svc->delete_campaign("gym-a", c.id);
      CHECK_THROWS_AS(svc->get_campaign("gym-a", c.id), NotFoundError);
    } else {
      CHECK_THROWS_AS(svc->delete_campaign("gym-a", c.id), ConflictError);
      CHECK(svc->get_campaign("gym-a", c.id) == c);
    }
  }
  CHECK_THROWS_AS(svc->delete_campaign("gym-a", "cmp_nope"), NotFoundError);
}

// ---- enrolment ---------------------------------------------------------------------------

void Fixture::enrol_by_id() {
  const Lead a1 = add_lead("+12125550101");
  const Lead a2 = add_lead("+12125550102");
  const Lead b1 = add_lead("+12125550103", "gym-b");
  const Campaign c = create();

  try {
    svc->enrol_leads("gym-a", c.id, {a1.id, b1.id});
    FAIL("expected NotFoundError");
  } catch (const NotFoundError& e) {
    CHECK(e.field() == "lead_ids[1]");
  }
  CHECK_FALSE(svc->enrolment("gym-a", c.id, a1.id));
  CHECK(svc->performance("gym-a", c.id).enrolled == 0);

  auto r = svc->enrol_leads("gym-a", c.id, {a1.id, a2.id, a1.id});
  CHECK(r.enrolled == 2);
  CHECK(r.already_enrolled == 0);
  r = svc->enrol_leads("gym-a", c.id, {a1.id});
  CHECK(r.enrolled == 0);
  CHECK(r.already_enrolled == 1);
  auto e = svc->enrolment("gym-a", c.id, a1.id);
  REQUIRE(e);
  CHECK(e->lead_id == a1.id);
  CHECK(e->campaign_id == c.id);
  CHECK(e->attempts == 0);
  CHECK(e->enrolled_at == clock->now());

  CHECK(field_of([&] { svc->enrol_leads("gym-a", c.id, std::vector<std::string>(10001, a1.id)); }) == "lead_ids");
  CHECK(svc->enrol_leads("gym-a", c.id, std::vector<std::string>(10000, a1.id)).already_enrolled == 1);
  CHECK(field_of([&] { svc->enrol_leads("gym-a", c.id, {a1.id, ""}); }) == "lead_ids[1]");
  CHECK_THROWS_AS(svc->enrol_leads("gym-b", c.id, {b1.id}), NotFoundError);  // not gym-b's campaign

  // Only draft, active and paused campaigns take leads.
  for (auto s : kStates) {
    CAPTURE(to_string(s));
    const Campaign x = in_state(s);
    if (s == CampaignState::Completed || s == CampaignState::Cancelled)
      CHECK_THROWS_AS(svc->enrol_leads("gym-a", x.id, {a1.id}), ConflictError);
    else
      CHECK(svc->enrol_leads("gym-a", x.id, {a1.id}).enrolled == 1);
  }
}

void Fixture::enrol_by_filter_and_remove() {
  const Lead vip = add_lead("+12125550111", "gym-a", {"VIP"});
  const Lead plain = add_lead("+12125550112");
  const Lead vip_lost = add_lead("+12125550113", "gym-a", {"vip"}, LeadStatus::Lost);
  add_lead("+12125550114", "gym-b", {"vip"});

  CampaignInput in = valid();
  in.target.tags = {"vip"};
  in.target.statuses = {LeadStatus::New};
  const Campaign c = create(in);
  auto r = svc->enrol_by_filter("gym-a", c.id);  // the campaign's own target
  CHECK(r.enrolled == 1);
  CHECK(r.already_enrolled == 0);
  CHECK(svc->enrolment("gym-a", c.id, vip.id));
  CHECK_FALSE(svc->enrolment("gym-a", c.id, plain.id));
  CHECK_FALSE(svc->enrolment("gym-a", c.id, vip_lost.id));

  CampaignTarget everyone;
  r = svc->enrol_by_filter("gym-a", c.id, everyone);
  CHECK(r.enrolled == 2);
  CHECK(r.already_enrolled == 1);
  CHECK(svc->performance("gym-a", c.id).enrolled == 3);

  CampaignTarget bad;
  bad.statuses = {LeadStatus::Converted};
  CHECK(field_of([&] { svc->enrol_by_filter("gym-a", c.id, bad); }) == "filter.statuses[0]");

  CHECK(svc->remove_leads("gym-a", c.id, {vip.id, "ld_unknown", vip.id}) == 1);
  CHECK_FALSE(svc->enrolment("gym-a", c.id, vip.id));
  CHECK(svc->performance("gym-a", c.id).enrolled == 2);
  CHECK(field_of([&] { svc->remove_leads("gym-a", c.id, std::vector<std::string>(10001, "x")); }) == "lead_ids");
}

// ---- performance ---------------------------------------------------------------------------

void Fixture::performance_counters() {
  const Lead l1 = add_lead("+12125550121");
  const Lead l2 = add_lead("+12125550122");
  const Lead l3 = add_lead("+12125550123");
  CampaignInput in = valid();
  in.pacing.max_attempts = 2;
  const Campaign c = create(in);
  const Campaign other = create();
  svc->enrol_leads("gym-a", c.id, {l1.id, l2.id, l3.id});
  store->campaigns().record_attempt("gym-a", c.id, l1.id, clock->now());
  store->campaigns().record_attempt("gym-a", c.id, l1.id, clock->now());
  store->campaigns().record_attempt("gym-a", c.id, l2.id, clock->now());

  auto p = svc->performance("gym-a", c.id);
  CHECK(p.campaign_id == c.id);
  CHECK(p.state == CampaignState::Draft);
  CHECK(p.enrolled == 3);
  CHECK(p.never_called == 1);
  CHECK(p.exhausted == 1);
  CHECK(p.attempts == 3);
  CHECK(p.calls_today == 0);
  CHECK(p.cost_total_usd == 0);

  // Rollup rows: today (gym-local 2026-11-02), yesterday, and another campaign's.
  const std::int32_t today = static_cast<std::int32_t>(
      std::chrono::floor<std::chrono::days>(parse_timestamp("2026-11-02T00:00:00Z")).time_since_epoch().count());
  CallDayRollup t;
  t.gym_id = "gym-a";
  t.campaign_id = c.id;
  t.local_day = today;
  t.calls = 4;
  t.connected = 2;
  t.cost_micros = 1'500'000;
  t.outcomes[static_cast<std::size_t>(CallOutcome::TrialBooked)] = 1;
  CallDayRollup y = t;
  y.local_day = today - 1;
  y.calls = 1;
  y.connected = 1;
  y.cost_micros = 500'000;
  y.outcomes = {};
  y.outcomes[static_cast<std::size_t>(CallOutcome::MembershipSold)] = 1;
  CallDayRollup o = t;
  o.campaign_id = other.id;
  o.calls = 50;
  RollupDelta delta;
  delta.call_days = {t, y, o};
  store->analytics().apply(delta);

  p = svc->performance("gym-a", c.id);
  CHECK(p.attempts == 5);  // the rollups know more calls than the enrolments
  CHECK(p.calls_today == 4);
  CHECK(p.cost_today_usd == doctest::Approx(1.5));
  CHECK(p.cost_total_usd == doctest::Approx(2.0));
  CHECK(p.connected == 3);
  CHECK(p.trials_booked == 1);
  CHECK(p.memberships_sold == 1);

  // "Today" is the gym's date: at 03:00 UTC on the 3rd, New York is still on the 2nd.
  clock->set(parse_timestamp("2026-11-03T03:00:00Z"));
  CHECK(svc->performance("gym-a", c.id).calls_today == 4);
  clock->set(parse_timestamp("2026-11-03T06:00:00Z"));
  CHECK(svc->performance("gym-a", c.id).calls_today == 0);

  const auto json = boost::json::serialize(boost::json::value_from(p));
  CHECK(json.find("\"memberships_sold\":1") != std::string::npos);
}

// ---- JSON -------------------------------------------------------------------------------------

TEST_CASE("campaign JSON round trip") {
  Campaign c;
  c.id = "cmp_01";
  c.gym_id = "gym-a";
  c.name = "Winter";
  c.description = "push";
  c.state = CampaignState::Paused;
  c.target.qualifications = {Qualification::Hot, Qualification::Neutral};
  c.target.statuses = {LeadStatus::New, LeadStatus::TrialBooked};
  c.target.tags = {"student", "vip"};
  c.target.source = "facebook_ads";
  c.target.created_from = parse_timestamp("2026-10-01T00:00:00Z");
  c.target.created_to = parse_timestamp("2026-11-01T00:00:00.250Z");
  c.schedule.start_date = "2026-11-03";
  c.schedule.end_date = "2026-12-24";
  c.schedule.days = 0x41;  // mon, sun
  c.schedule.hours = {8 * 60 + 30, 20 * 60};
  c.pacing = CampaignPacing{3, 250, 0.25, 5, 90};
  c.budget = CampaignBudget{12.5, 100, 0.75};
  c.voice_provider = "retell";
  c.assistant_id = "asst_1";
  c.weight = 3;
  c.created_at = parse_timestamp("2026-10-30T10:00:00Z");
  c.updated_at = parse_timestamp("2026-10-31T10:00:00Z");
  c.activated_at = parse_timestamp("2026-10-30T11:00:00Z");
  c.version = 4;

  const auto text = to_json(c);
  CHECK(from_json<Campaign>(text) == c);
  const auto v = boost::json::parse(text);
  CHECK(v.at("state") == "paused");
  CHECK(v.at("schedule").at("hours").at("start") == "08:30");
  CHECK(v.at("schedule").at("days") == boost::json::array{"mon", "sun"});
  CHECK(v.at("schedule").at("start_date") == "2026-11-03");
  CHECK(v.at("ended_at").is_null());

  Campaign empty;
  CHECK(from_json<Campaign>(to_json(empty)) == empty);
  CHECK(boost::json::parse(to_json(empty)).at("schedule").at("end_date").is_null());

  CampaignLead lead{"cmp_01", "ld_1", parse_timestamp("2026-10-30T10:00:00Z"), 2, std::nullopt};
  CHECK(to_json(lead).find("\"last_attempt_at\":null") != std::string::npos);
  EnrolReport er{3, 1};
  CHECK(to_json(er) == R"({"enrolled":3,"already_enrolled":1})");
}

TEST_CASE("campaign JSON reading is strict and names the path") {
  const auto field = [](const std::function<void()>& fn) {
    try {
      fn();
    } catch (const InvalidArgumentError& e) {
      return e.field();
    }
    return std::string("<accepted>");
  };
  CHECK(field([] { from_json<CampaignInput>(R"({"name":"x","pacing":{"max_concurent":3}})"); }) ==
        "pacing.max_concurent");
  CHECK(field([] { from_json<CampaignInput>(R"({"nme":"x"})"); }) == "nme");
  CHECK(field([] { from_json<CampaignInput>(R"({"schedule":{"hours":{"start":"25:00"}}})"); }) ==
        "schedule.hours.start");
  CHECK(field([] { from_json<CampaignInput>(R"({"schedule":{"hours":{"begin":"09:00"}}})"); }) ==
        "schedule.hours.begin");
  CHECK(field([] { from_json<CampaignInput>(R"({"schedule":{"days":["mon","funday"]}})"); }) ==
        "schedule.days[1]");
  CHECK(field([] { from_json<CampaignInput>(R"({"schedule":{"start_date":"2026-02-30"}})"); }) ==
        "schedule.start_date");
  CHECK(field([] { from_json<CampaignInput>(R"({"target":{"statuses":["open"]}})"); }) == "target.statuses[0]");
  CHECK(field([] { from_json<CampaignInput>(R"({"target":{"tag":["x"]}})"); }) == "target.tag");
  CHECK(field([] { from_json<CampaignInput>(R"({"budget":{"daily_usd":"5"}})"); }) == "budget.daily_usd");
  CHECK(field([] { from_json<CampaignInput>(R"({"budget":{"daily":5}})"); }) == "budget.daily");
  CHECK(field([] { from_json<CampaignInput>(R"({"weight":1.5})"); }) == "weight");
  CHECK(field([] { from_json<CampaignInput>(R"({"weight":99999999999})"); }) == "weight");
  CHECK(field([] { from_json<CampaignInput>(R"({"pacing":[]})"); }) == "pacing");
  CHECK(field([] { from_json<Campaign>(R"({"state":"running"})"); }) == "state");
  CHECK(field([] { from_json<Campaign>(R"({"extra":1})"); }) == "extra");
  CHECK(field([] { from_json<CampaignPatch>(R"({"budget":{"total_usd":1,"x":2}})"); }) == "budget.x");
  CHECK(field([] { from_json<CampaignFilter>(R"({"states":["done"]})"); }) == "states[0]");
  CHECK(field([] { from_json<CampaignFilter>(R"({"page_size":0})"); }) == "page_size");
  CHECK(field([] { from_json<CampaignPacing>(R"({"max_attempts":"4"})"); }) == "pacing.max_attempts");

  // Partial objects keep the defaults of what they leave out.
  auto in = from_json<CampaignInput>(
      R"({"name":"x","voice_provider":"sim","pacing":{"max_concurrent":3},"schedule":{"hours":{"start":"10:00"}}})");
  CHECK(in.pacing.max_concurrent == 3);
  CHECK(in.pacing.calls_per_day == 500);
  CHECK(in.schedule.hours == LocalWindow{10 * 60, 19 * 60});
  CHECK(in.schedule.days == kWeekdays);

  auto patch = from_json<CampaignPatch>(R"({"weight":4,"budget":{"daily_usd":10}})");
  CHECK(patch.weight == 4);
  REQUIRE(patch.budget);
  CHECK(patch.budget->daily_usd == 10);
  CHECK_FALSE(patch.name);
  CHECK_FALSE(patch.pacing);
  CHECK(from_json<CampaignPatch>(to_json(patch)).budget == patch.budget);

  auto f = from_json<CampaignFilter>(R"({"states":["active","canceled"],"page":2})");
  CHECK(f.states == std::vector<CampaignState>{CampaignState::Active, CampaignState::Cancelled});
  CHECK(f.page == 2);
  CHECK(parse_campaign_state("cancelled") == CampaignState::Cancelled);
  CHECK_THROWS_AS(parse_campaign_state("Active"), InvalidArgumentError);
}

// ---- configuration ------------------------------------------------------------------------------

TEST_CASE("config: gym lines, daily budget and provider assistants") {
  auto c = parse_config(R"({
    "defaults": {"lines": 20, "daily_budget_usd": 150.5},
    "gyms": {"gym-a": {"lines": 1}},
    "voice_providers": {"r": {"kind": "retell", "api_key_env": "K", "assistants": ["a1", "a2"]}}
  })");
  CHECK(c.defaults.lines == 20);
  CHECK(c.defaults.daily_budget_usd == 150.5);
  CHECK(c.policy("gym-a").lines == 1);
  CHECK(c.policy("gym-a").daily_budget_usd == 150.5);
  CHECK(c.voice_providers.at("r").assistants == std::vector<std::string>{"a1", "a2"});
  CHECK(Config{}.defaults.lines == 10);
  CHECK(Config{}.defaults.daily_budget_usd == 0);
  // Printed and read back.
  auto again = parse_config(to_json(c));
  CHECK(again.defaults.lines == 20);
  CHECK(again.voice_providers.at("r").assistants == c.voice_providers.at("r").assistants);

  const auto field = [](const char* doc) {
    try {
      parse_config(doc);
    } catch (const InvalidArgumentError& e) {
      return e.field();
    }
    return std::string("<accepted>");
  };
  CHECK(field(R"({"defaults":{"lines":0}})") == "defaults.lines");
  CHECK(field(R"({"defaults":{"lines":1}})") == "<accepted>");
  CHECK(field(R"({"defaults":{"lines":10000}})") == "<accepted>");
  CHECK(field(R"({"defaults":{"lines":10001}})") == "defaults.lines");
  CHECK(field(R"({"defaults":{"daily_budget_usd":-0.01}})") == "defaults.daily_budget_usd");
  CHECK(field(R"({"defaults":{"daily_budget_usd":0}})") == "<accepted>");
  CHECK(field(R"({"defaults":{"daily_budget_usd":"10"}})") == "defaults.daily_budget_usd");
  CHECK(field(R"({"voice_providers":{"s":{"kind":"simulated","assistants":"a"}}})") ==
        "voice_providers.s.assistants");
  CHECK(field(R"({"voice_providers":{"s":{"kind":"simulated","assistants":["a",1]}}})") ==
        "voice_providers.s.assistants[1]");
}

// ---- the scenarios, over the memory and the SQLite backend ----------------------------------

TEST_CASE_FIXTURE(Fixture, "lifecycle: every move, allowed or ConflictError") { lifecycle_table(); }
TEST_CASE_FIXTURE(SqliteFixture, "sqlite: lifecycle: every move, allowed or ConflictError") { lifecycle_table(); }
TEST_CASE_FIXTURE(Fixture, "activated_at is the first activation, ended_at the end") { lifecycle_stamps(); }
TEST_CASE_FIXTURE(SqliteFixture, "sqlite: activated_at is the first activation, ended_at the end") { lifecycle_stamps(); }
TEST_CASE_FIXTURE(Fixture, "activation checks that the schedule still opens") { activation_recheck(); }
TEST_CASE_FIXTURE(SqliteFixture, "sqlite: activation checks that the schedule still opens") { activation_recheck(); }
TEST_CASE_FIXTURE(Fixture, "update changes only what the patch holds, in draft and paused") { update_rules(); }
TEST_CASE_FIXTURE(SqliteFixture, "sqlite: update changes only what the patch holds, in draft and paused") { update_rules(); }
TEST_CASE_FIXTURE(Fixture, "delete only draft, completed and cancelled campaigns") { delete_rules(); }
TEST_CASE_FIXTURE(SqliteFixture, "sqlite: delete only draft, completed and cancelled campaigns") { delete_rules(); }
TEST_CASE_FIXTURE(Fixture, "enrol by id: the gym's leads only, all or nothing") { enrol_by_id(); }
TEST_CASE_FIXTURE(SqliteFixture, "sqlite: enrol by id: the gym's leads only, all or nothing") { enrol_by_id(); }
TEST_CASE_FIXTURE(Fixture, "enrol by filter and remove") { enrol_by_filter_and_remove(); }
TEST_CASE_FIXTURE(SqliteFixture, "sqlite: enrol by filter and remove") { enrol_by_filter_and_remove(); }
TEST_CASE_FIXTURE(Fixture, "performance: enrolment counts and call rollups") { performance_counters(); }
TEST_CASE_FIXTURE(SqliteFixture, "sqlite: performance: enrolment counts and call rollups") { performance_counters(); }
TEST_CASE_FIXTURE(Fixture, "list pages newest first and filters by state") { list_paging(); }
TEST_CASE_FIXTURE(SqliteFixture, "sqlite: list pages newest first and filters by state") { list_paging(); }
