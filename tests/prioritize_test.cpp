// Who may be dialed, in what order, and why not: get_prioritized_leads and explain.
#include <gymdash/gymdash.hpp>

#include "store/sqlite/dial_sql.hpp"
#include "postgres_backend.hpp"
#include "test_util.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <random>
#include <set>

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

Timestamp T(const char* iso) { return parse_timestamp(iso); }

struct Fixture {
  explicit Fixture(std::unique_ptr<Store> s) : store(std::move(s)) { init(); }
  Fixture() : Fixture(make_memory_store()) {}

  std::unique_ptr<Store> store;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(T("2026-11-02T15:00:00Z"));  // Mon 10:00 ET
  std::unique_ptr<GymService> gyms = make_gym_service(*store, clock);
  std::unique_ptr<LeadService> leads = make_lead_service(*store, clock);
  int next_line = 1000;

  void init() {
    Gym g;
    g.id = "gym-nyc";
    g.name = "NYC";
    g.timezone = "America/New_York";
    g.state = "NY";
    g.call_hours = {8 * 60, 21 * 60};
    gyms->create_gym(g);
    Gym b = g;
    b.id = "gym-b";
    gyms->create_gym(b);
  }

  Lead add(const std::string& area = "212", bool consent = true, std::string gym = "gym-nyc") {
    LeadInput in;
    in.phone = "(" + area + ") 736-" + std::to_string(next_line++);
    in.first_name = "L" + std::to_string(next_line);
    if (consent) in.consent = Consent{true, clock->now(), "web_form", "test"};
    auto l = leads->create_lead(gym, in).lead;
    clock->advance(1s);
    return l;
  }

  std::vector<std::string> next(int count = 50, std::optional<Qualification> q = std::nullopt,
                                std::vector<std::string> exclude = {}, std::optional<Timestamp> at = std::nullopt) {
    std::vector<std::string> ids;
    for (const auto& l : leads->get_prioritized_leads("gym-nyc", count, q, exclude, at)) ids.push_back(l.id);
    return ids;
  }

  std::vector<std::string> reasons(const Lead& l, std::optional<Timestamp> at = std::nullopt) {
    return leads->explain("gym-nyc", l.id, at).reasons;
  }

  static bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  }

  Lead call(const Lead& l, const std::string& id, Timestamp started, AnsweredBy by = AnsweredBy::Unknown,
            std::optional<CallOutcome> outcome = std::nullopt, CallStatus status = CallStatus::NoAnswer,
            std::optional<Timestamp> callback = std::nullopt) {
    CallResult r;
    r.call_id = id;
    r.started_at = started;
    r.ended_at = started + 30s;
    r.status = by == AnsweredBy::Human ? CallStatus::Completed : status;
    r.answered_by = by;
    r.outcome = outcome;
    r.callback_at = callback;
    return leads->update_lead_after_call("gym-nyc", l.id, r);
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "location comes from the area code, else the gym") {
  auto ny = add("212");
  CHECK(ny.local_zone == "America/New_York");
  CHECK(ny.local_state == "NY");
  auto la = add("310");
  CHECK(la.local_zone == "America/Los_Angeles");
  CHECK(la.local_state == "CA");
  auto mia = add("305");
  CHECK(mia.local_state == "FL");
  LeadInput own;
  own.phone = "(303) 736-0001";
  own.timezone = "America/Chicago";
  auto explicit_zone = leads->create_lead("gym-nyc", own).lead;
  CHECK(explicit_zone.local_zone == "America/Chicago");
  CHECK(explicit_zone.local_state == "CO");
}

TEST_CASE_FIXTURE(Fixture, "fresh leads newest first, then retries by qualification and attempts") {
  auto old_lead = add();
  auto mid = add();
  auto newest = add();
  CHECK(next() == std::vector<std::string>{newest.id, mid.id, old_lead.id});

  // Called once without an answer: they drop behind never-called leads and wait out the retry gap.
  call(old_lead, "c1", clock->now() - 5h);
  call(mid, "c2", clock->now() - 6h);
  auto fresh = add();
  CHECK(next() == std::vector<std::string>{fresh.id, newest.id, mid.id, old_lead.id});
  // Longest since the last call first among equal attempts; a hot lead before both.
  LeadPatch hot;
  hot.qualification = Qualification::Hot;
  leads->update_lead("gym-nyc", old_lead.id, hot);
  CHECK(next() == std::vector<std::string>{fresh.id, newest.id, old_lead.id, mid.id});
  CHECK(next(10, Qualification::Hot) == std::vector<std::string>{old_lead.id});
  CHECK(next(2) == std::vector<std::string>{fresh.id, newest.id});

  // Inside the retry gap (4 h by default): not yet.
  call(fresh, "c3", clock->now() - 1h);
  CHECK_FALSE(has(next(), fresh.id));
  CHECK(has(reasons(fresh), "retry_gap"));
}

TEST_CASE_FIXTURE(Fixture, "due callbacks come first; a pending one blocks") {
  auto a = add();
  auto b = add();
  call(a, "c1", clock->now() - 1h, AnsweredBy::Human, CallOutcome::CallbackRequested, CallStatus::Completed,
       clock->now() + 30min);
  CHECK(next() == std::vector<std::string>{b.id});
  CHECK(has(reasons(a), "callback_pending"));
  clock->advance(31min);
  CHECK(next() == std::vector<std::string>{a.id, b.id});
  CHECK(leads->explain("gym-nyc", a.id).dialable);
}

TEST_CASE_FIXTURE(Fixture, "hard rules each have a reason") {
  auto ok = add();
  auto no_consent = add("212", false);
  auto dnc = add();
  LeadPatch p;
  auto converted = add();
  leads->change_status("gym-nyc", converted.id, {LeadStatus::Converted, "", "", false});
  auto lost = add();
  leads->change_status("gym-nyc", lost.id, {LeadStatus::Lost, "", "", false});
  call(dnc, "c-dnc", clock->now() - 5h, AnsweredBy::Human, CallOutcome::DoNotCall);
  auto listed = add();
  leads->add_to_dnc("gym-nyc", listed.phone, "asked by email");

  CHECK(next() == std::vector<std::string>{ok.id});
  CHECK(reasons(ok).empty());
  CHECK(reasons(no_consent) == std::vector<std::string>{"no_consent"});
  CHECK(has(reasons(dnc), "do_not_call"));
  CHECK(has(reasons(dnc), "status_closed"));
  CHECK(reasons(converted) == std::vector<std::string>{"status_closed"});
  CHECK(reasons(lost) == std::vector<std::string>{"status_closed"});
  CHECK(reasons(listed) == std::vector<std::string>{"dnc_list"});

  // Attempts at the maximum (6 by default).
  auto tired = add();
  for (int i = 0; i < 6; ++i) call(tired, "t" + std::to_string(i), clock->now() - std::chrono::hours{40 - 5 * i});
  CHECK(has(reasons(tired), "max_attempts"));
  CHECK_FALSE(has(next(), tired.id));
}

TEST_CASE_FIXTURE(Fixture, "calling windows in lead-local time") {
  auto ny = add("212");
  auto la = add("310");
  auto mia = add("305");
  // 07:00 in Los Angeles: too early there, fine in New York and Miami.
  auto ids = next(50, std::nullopt, {}, T("2026-11-02T15:00:00Z"));
  CHECK(has(ids, ny.id));
  CHECK(has(ids, mia.id));
  CHECK_FALSE(has(ids, la.id));
  CHECK(reasons(la, T("2026-11-02T15:00:00Z")) == std::vector<std::string>{"outside_federal_hours"});
  CHECK(has(next(50, std::nullopt, {}, T("2026-11-02T17:00:00Z")), la.id));
  // 20:30 in New York: the federal window is open, Florida's (until 20:00) is not.
  const auto evening = T("2026-11-03T01:30:00Z");
  CHECK(reasons(ny, evening).empty());
  CHECK(reasons(mia, evening) == std::vector<std::string>{"outside_state_hours"});
  ids = next(50, std::nullopt, {}, evening);
  CHECK(has(ids, ny.id));
  CHECK_FALSE(has(ids, mia.id));
  // 07:00 in New York: nobody (and the gym's hours start at 08:00).
  CHECK(next(50, std::nullopt, {}, T("2026-11-02T12:00:00Z")).empty());
  const auto early = reasons(ny, T("2026-11-02T12:00:00Z"));
  CHECK(early == std::vector<std::string>{"outside_federal_hours", "outside_gym_hours"});
}

TEST_CASE_FIXTURE(Fixture, "daylight saving: the same UTC hour is 07:30 before and 08:30 after") {
  auto ny = add("212");
  // US clocks move forward on Sunday 2026-03-08.
  CHECK(has(reasons(ny, T("2026-03-06T12:30:00Z")), "outside_federal_hours"));  // 07:30 EST
  CHECK(reasons(ny, T("2026-03-09T12:30:00Z")).empty());                        // 08:30 EDT
  const auto d = leads->explain("gym-nyc", ny.id, T("2026-03-09T12:30:00Z"));
  CHECK(d.local_time == "2026-03-09T08:30:00-04:00");
  // And back on Sunday 2026-11-01: 13:30Z is 08:30 EDT on Oct 30, 08:30 EST is 13:30Z on Nov 2.
  CHECK(reasons(ny, T("2026-10-30T12:30:00Z")).empty());
  CHECK(has(reasons(ny, T("2026-11-02T12:30:00Z")), "outside_federal_hours"));
}

TEST_CASE_FIXTURE(Fixture, "Florida: at most 3 calls in 24 hours") {
  auto mia = add("305");
  const auto t0 = clock->now();
  call(mia, "f1", t0 - 20h);
  call(mia, "f2", t0 - 12h);
  auto after = call(mia, "f3", t0 - 5h);
  REQUIRE(after.blocked_until);
  CHECK(*after.blocked_until == t0 - 20h + 24h);
  CHECK(has(reasons(mia), "state_call_cap"));
  CHECK_FALSE(has(next(), mia.id));
  clock->set(t0 + 4h + 1min);  // the first call is now a day old
  CHECK_FALSE(has(reasons(mia), "state_call_cap"));
  CHECK(has(next(), mia.id));
}

TEST_CASE_FIXTURE(Fixture, "gym hours and days") {
  auto ny = add();
  Gym g = gyms->get_gym("gym-nyc");
  g.call_days = kWeekdays;
  g.call_hours = {10 * 60, 18 * 60};
  gyms->update_gym(g);
  CHECK(reasons(ny) == std::vector<std::string>{});  // Mon 10:00
  CHECK(reasons(ny, T("2026-11-02T14:30:00Z")) == std::vector<std::string>{"outside_gym_hours"});
  CHECK(reasons(ny, T("2026-11-01T16:00:00Z")) == std::vector<std::string>{"gym_closed_day"});  // Sunday
}

TEST_CASE_FIXTURE(Fixture, "exclusions, counts and bad input") {
  auto a = add();
  auto b = add();
  auto other = add("212", true, "gym-b");
  CHECK(next(50, std::nullopt, {b.id, other.id, "ld_unknown"}) == std::vector<std::string>{a.id});
  CHECK_THROWS_AS(leads->get_prioritized_leads("gym-nyc", 0), InvalidArgumentError);
  CHECK_THROWS_AS(leads->get_prioritized_leads("gym-nyc", 1001), InvalidArgumentError);
  CHECK_THROWS_AS(leads->get_prioritized_leads("gym-nope", 5), NotFoundError);
  CHECK_THROWS_AS(leads->explain("gym-b", a.id), NotFoundError);  // another gym's lead
}

void check_prioritized_equals_dialable(Fixture& f) {
  auto& leads = f.leads;
  auto& clock = f.clock;
  auto add = [&](const std::string& area, bool consent) { return f.add(area, consent); };
  auto call = [&](auto&&... args) { return f.call(args...); };
  std::mt19937 rng(7);
  const char* areas[] = {"212", "305", "310", "312", "808", "602"};
  std::vector<Lead> all;
  for (int i = 0; i < 120; ++i) {
    auto l = add(areas[rng() % 6], rng() % 5 != 0);
    const int calls = static_cast<int>(rng() % 4);
    for (int c = 0; c < calls; ++c) {
      const bool human = rng() % 3 == 0;
      std::optional<CallOutcome> outcome;
      if (human) outcome = static_cast<CallOutcome>(rng() % 7);
      std::optional<Timestamp> cb;
      if (outcome == CallOutcome::CallbackRequested) cb = clock->now() + std::chrono::minutes{rng() % 600};
      l = call(l, "c" + std::to_string(i) + "-" + std::to_string(c), clock->now() - std::chrono::minutes{rng() % 2000},
               human ? AnsweredBy::Human : AnsweredBy::Machine, outcome, CallStatus::Completed, cb);
    }
    all.push_back(l);
  }
  for (const char* at : {"2026-11-02T15:00:00Z", "2026-11-02T18:00:00Z", "2026-11-03T01:30:00Z",
                         "2026-11-03T04:00:00Z", "2026-11-02T12:00:00Z"}) {
    CAPTURE(at);
    const auto ids = f.next(1000, std::nullopt, std::vector<std::string>{}, T(at));
    const std::set<std::string> got(ids.begin(), ids.end());
    CHECK(got.size() == ids.size());
    std::set<std::string> want;
    for (const auto& l : all)
      if (leads->explain("gym-nyc", l.id, T(at)).dialable) want.insert(l.id);
    CHECK(got == want);

    // Due jobs: called leads or callbacks whose only blocks, if any, are calling windows.
    const std::set<std::string> windows = {"outside_federal_hours", "state_closed_day", "outside_state_hours",
                                           "gym_closed_day", "outside_gym_hours"};
    DueCounts expected;
    for (const auto& l : all) {
      if (l.attempts == 0 && !l.callback_at) continue;
      bool blocked = false;
      for (const auto& r : leads->explain("gym-nyc", l.id, T(at)).reasons) blocked |= windows.count(r) == 0;
      if (blocked) continue;
      ++(l.callback_at ? expected.callbacks : expected.retries);
    }
    const auto due = leads->due_jobs("gym-nyc", T(at));
    CHECK(due.callbacks == expected.callbacks);
    CHECK(due.retries == expected.retries);
    CHECK(expected.callbacks + expected.retries > 0);  // the data set has due jobs to count
  }
  CHECK(leads->due_jobs("gym-b").retries == 0);
  CHECK_THROWS_AS(leads->due_jobs("gym-nope"), NotFoundError);
}

TEST_CASE_FIXTURE(Fixture, "prioritized leads are exactly the dialable ones (memory)") {
  check_prioritized_equals_dialable(*this);
}

TEST_CASE("prioritized leads are exactly the dialable ones (sqlite)") {
  test::TempPath path("prioritize");
  Fixture f(make_sqlite_store({path.str()}));
  check_prioritized_equals_dialable(f);
}

TEST_CASE("the call-order queries search their partial indexes, never the whole table") {
  test::TempPath path("plan");
  {
    Fixture f(make_sqlite_store({path.str()}));
    for (int i = 0; i < 300; ++i) f.add(i % 3 ? "212" : "305", i % 7 != 0);
  }
  SQLite::Database db(path.str(), SQLite::OPEN_READWRITE);
  db.exec("ANALYZE");
  using Tier = DialQuery::Tier;
  const std::pair<Tier, bool> shapes[] = {{Tier::Callback, false}, {Tier::Callback, true}, {Tier::Fresh, false},
                                          {Tier::Fresh, true},     {Tier::Retry, true}};
  const char* expected_index[] = {"leads_dial_callback", "leads_dial_callback", "leads_dial_fresh", "leads_dial_fresh",
                                  "leads_dial_retry"};
  for (auto tier : {Tier::Callback, Tier::Retry}) {
    const auto& sql = sqlite_store::count_due_sql(tier);
    SQLite::Statement plan(db, "EXPLAIN QUERY PLAN " + sql);
    plan.bind(1, "gym-nyc");
    plan.bind(2, static_cast<std::int64_t>(1'800'000'000'000));
    plan.bind(3, 6);
    if (tier == Tier::Retry) plan.bind(4, static_cast<std::int64_t>(1'800'000'000'000));
    std::string details;
    while (plan.executeStep()) details += plan.getColumn(3).getString() + "\n";
    CAPTURE(details);
    CHECK(details.find(tier == Tier::Callback ? "leads_dial_callback" : "leads_dial_retry") !=
          std::string::npos);
    CHECK(details.find("SCAN leads") == std::string::npos);
  }
  for (int k = 0; k < 10; ++k) {
    const int i = k % 5;
    const bool with_exclude = k >= 5;
    const auto& sql = sqlite_store::dial_sql(shapes[i].first, shapes[i].second, with_exclude);
    SQLite::Statement plan(db, "EXPLAIN QUERY PLAN " + sql);
    plan.bind(1, "gym-nyc");
    plan.bind(2, static_cast<std::int64_t>(1'800'000'000'000));
    plan.bind(3, 6);
    plan.bind(4, 50);
    std::string details;
    while (plan.executeStep()) details += plan.getColumn(3).getString() + "\n";
    CAPTURE(sql);
    CAPTURE(details);
    CHECK(details.find(std::string("SEARCH leads USING INDEX ") + expected_index[i]) != std::string::npos);
    CHECK(details.find("SCAN leads") == std::string::npos);
  }
}

// A backend's own dial_candidates_in (SQLite: a k-way merge of cursors;
// PostgreSQL: one UNION ALL query) against the default, which asks each group
// and sorts.
void check_merged_groups(Fixture& f) {
  std::mt19937 rng(11);
  const char* areas[] = {"212", "305", "310", "312", "808", "602", "415"};
  std::vector<std::string> ids;
  for (int i = 0; i < 150; ++i) {
    auto l = f.add(areas[rng() % 7]);
    ids.push_back(l.id);
    if (rng() % 2) f.call(l, "m" + std::to_string(i), f.clock->now() - std::chrono::minutes{300 + rng() % 3000});
    if (rng() % 3 == 0) f.call(l, "n" + std::to_string(i), f.clock->now() - std::chrono::minutes{300 + rng() % 3000});
  }
  auto& repo = f.store->leads();
  const auto groups = repo.dial_groups("gym-nyc");
  REQUIRE(groups.size() >= 5);
  int compared = 0;
  for (auto tier : {DialQuery::Tier::Fresh, DialQuery::Tier::Retry})
    for (int limit : {1, 3, 17, 50, 1000})
      for (int variant = 0; variant < 4; ++variant) {
        DialQuery q;
        q.tier = tier;
        q.now = f.clock->now();
        q.limit = limit;
        q.last_call_before = f.clock->now() - std::chrono::minutes{240};
        if (tier == DialQuery::Tier::Retry || variant & 1) q.qualification = static_cast<Qualification>(variant % 3);
        if (variant & 2)
          for (std::size_t i = 0; i < ids.size(); i += 5) q.exclude.push_back(ids[i]);
        auto some = groups;
        if (variant == 3) some.resize(groups.size() / 2);
        const auto merged = repo.dial_candidates_in("gym-nyc", q, some);
        const auto plain = repo.LeadRepository::dial_candidates_in("gym-nyc", q, some);
        std::vector<std::string> a, b;
        for (const auto& l : merged) a.push_back(l.id);
        for (const auto& l : plain) b.push_back(l.id);
        CAPTURE(limit);
        CAPTURE(variant);
        CHECK(a == b);
        compared += static_cast<int>(a.size());
      }
  CHECK(compared > 200);  // the tiers were not empty
}

TEST_CASE("a merge of several groups' cursors returns what asking each group and sorting returns (sqlite)") {
  test::TempPath path("merge");
  Fixture f(make_sqlite_store({path.str()}));
  check_merged_groups(f);
}

TEST_CASE("one query over several groups returns what asking each group and sorting returns (postgres)") {
  test::PostgresBackend backend;
  if (backend.uri.empty()) {
    MESSAGE("GYMDASH_TEST_POSTGRES_URI is not set: skipped");
    return;
  }
  Fixture f(backend.open());
  check_merged_groups(f);
}
