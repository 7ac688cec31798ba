// AnalyticsService: call figures, lead figures, funnel, speed to lead, best
// times, the daily series and its trends, errors, JSON and CSV, and the
// rollups against their recomputation, on every backend.
#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <random>
#include <sstream>

#include "services/analytics/rollup.hpp"
#include "test_util.hpp"
#ifdef GYMDASH_TEST_WITH_POSTGRES
#include "postgres_backend.hpp"
#endif

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

Timestamp T(const char* iso) { return parse_timestamp(iso); }

// The backends the cases below run on: memory, SQLite, and PostgreSQL when
// the tests are built with it and GYMDASH_TEST_POSTGRES_URI names a server.
std::vector<std::string> backends() {
  std::vector<std::string> out{"memory", "sqlite"};
#ifdef GYMDASH_TEST_WITH_POSTGRES
  if (!test::postgres_test_uri().empty()) out.push_back("postgres");
#endif
  return out;
}

// A backend's storage URI, and what must outlive the runtime opened on it.
struct Storage {
  test::TempPath db{"analytics"};
#ifdef GYMDASH_TEST_WITH_POSTGRES
  std::optional<test::PostgresBackend> pg;
#endif
  std::string uri(const std::string& backend) {
    if (backend == "memory") return "memory:";
#ifdef GYMDASH_TEST_WITH_POSTGRES
    if (backend == "postgres") {
      pg.emplace();
      return test::postgres_uri_in_schema(pg->uri, pg->schema);
    }
#endif
    return "sqlite:" + db.str();
  }
};

struct Fixture {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(T("2026-11-02T15:00:00Z"));
  std::unique_ptr<Runtime> rt;
  int line = 2000;

  explicit Fixture(std::string storage = "memory:") {
    RuntimeOptions o;
    o.storage = std::move(storage);
    o.clock = clock;
    o.worker_threads = 1;
    o.log_level = LogLevel::Warn;
    rt = Runtime::open(o);
    Gym g;
    g.id = "gym-a";
    g.name = "A";
    g.timezone = "America/New_York";
    rt->gyms().create_gym(g);
  }

  Lead add(std::string external_id, const char* created = "2026-10-01T12:00:00Z", std::string source = "web_form") {
    LeadInput in;
    in.external_id = std::move(external_id);
    in.phone = "(212) 736-" + std::to_string(line++);
    in.source = std::move(source);
    in.created_at = T(created);
    in.consent = Consent{true, clock->now(), "web_form", ""};
    return rt->leads().create_lead("gym-a", in).lead;
  }

  static std::string event(const std::string& event_id, const std::string& call_id, const std::string& lead_ext,
                           const std::string& started, const std::string& status, const std::string& answered_by,
                           const std::string& outcome, int duration = 60, double cost = 0.1) {
    const auto start = parse_timestamp(started);
    return "{\"event_id\":\"" + event_id + "\",\"call_id\":\"" + call_id +
           "\",\"gym_id\":\"gym-a\",\"lead_external_id\":\"" + lead_ext +
           "\",\"to\":\"+12127362000\",\"direction\":\"outbound\",\"started_at\":\"" + started +
           "\",\"ended_at\":\"" + format_timestamp(start + std::chrono::seconds(duration)) + "\",\"status\":\"" +
           status + "\",\"answered_by\":\"" + answered_by + "\",\"duration_s\":" + std::to_string(duration) +
           ",\"outcome\":" + (outcome.empty() ? "null" : "\"" + outcome + "\"") +
           ",\"cost_usd\":" + fmt_cost(cost) + ",\"recording_url\":null,\"summary\":null}";
  }
  static std::string fmt_cost(double c) {
    std::ostringstream s;
    s << c;
    return s.str();
  }

  IngestReport ingest(const std::string& text, int batch = 10000) {
    std::istringstream in(text);
    IngestOptions o;
    o.batch_size = batch;
    return rt->calls().ingest_jsonl(in, o);
  }

  Dashboard dash(std::string from = "2026-09-01", std::string to = "2026-11-30", std::string gym = "gym-a") {
    AnalyticsQuery q;
    q.gym_id = std::move(gym);
    q.from = std::move(from);
    q.to = std::move(to);
    return rt->analytics().dashboard(q);
  }
};

// Every rollup row of the store, for comparing maintained with rebuilt.
struct Snapshot {
  std::vector<CallDayRollup> days;
  std::vector<CallHourRollup> hours;
  std::vector<LeadDayRollup> leads;
  bool operator==(const Snapshot&) const = default;
};
Snapshot snapshot(Store& store) {
  RollupQuery q;
  q.from_day = -100000;
  q.to_day = 100000;
  return {store.analytics().call_days(q), store.analytics().call_hours(q), store.analytics().lead_days(q)};
}

}  // namespace

TEST_CASE("call figures follow the data contract's definitions, by the gym's local date") {
  Fixture f;
  f.add("L1");
  f.add("L2");
  std::string text;
  // 2026-10-02T02:30Z is 2026-10-01 22:30 in New York: the gym's day is the 1st.
  text += Fixture::event("e1", "c1", "L1", "2026-10-02T02:30:00Z", "completed", "human", "trial_booked", 120, 0.2) + "\n";
  text += Fixture::event("e2", "c2", "L1", "2026-10-02T14:00:00Z", "completed", "machine", "", 20, 0.04) + "\n";
  text += Fixture::event("e3", "c3", "L2", "2026-10-02T15:00:00Z", "no-answer", "unknown", "", 0, 0.01) + "\n";
  text += Fixture::event("e4", "c4", "L2", "2026-10-02T16:00:00Z", "completed", "human", "interested", 300, 0.46) + "\n";
  text += Fixture::event("e4", "c4", "L2", "2026-10-02T16:00:00Z", "completed", "human", "interested", 300, 0.46) + "\n";
  REQUIRE(f.ingest(text).applied == 4);

  const auto d = f.dash();
  CHECK(d.calls.calls == 4);
  CHECK(d.calls.connected == 2);
  CHECK(d.calls.voicemail == 1);
  CHECK(d.calls.connect_rate == doctest::Approx(0.5));
  CHECK(d.calls.talk_s == 420);
  CHECK(d.calls.avg_talk_s == doctest::Approx(210));
  CHECK(d.calls.cost_usd == doctest::Approx(0.71));
  CHECK(d.calls.outcomes == std::map<std::string, std::int64_t>{{"interested", 1}, {"trial_booked", 1}});
  CHECK(d.by_local_date == std::map<std::string, std::int64_t>{{"2026-10-01", 1}, {"2026-10-02", 3}});

  // The JSON carries the manifest's names at the top level.
  const auto j = boost::json::parse(dashboard_json(d)).as_object();
  for (const char* k : {"calls", "connected", "voicemail", "connect_rate", "talk_s", "avg_talk_s", "cost_usd",
                        "outcomes", "by_local_date"})
    CHECK_MESSAGE(j.contains(k), k);
  CHECK(j.at("cost_usd").as_double() == 0.71);
  CHECK(j.at("by_local_date").at("2026-10-01").as_int64() == 1);

  // A period that excludes the 1st.
  const auto later = f.dash("2026-10-02", "2026-10-02");
  CHECK(later.calls.calls == 3);
  CHECK(later.daily.size() == 1);
}

TEST_CASE("leads by source, status and qualification; the funnel; cost per lead, booking and member") {
  Fixture f;
  f.add("L1", "2026-10-01T12:00:00Z", "web_form");
  f.add("L2", "2026-10-01T12:00:00Z", "facebook_ads");
  f.add("L3", "2026-10-01T12:00:00Z", "facebook_ads");
  f.add("L4", "2026-10-01T12:00:00Z", "referral");
  std::string text;
  text += Fixture::event("e1", "c1", "L1", "2026-10-01T12:02:00Z", "completed", "human", "membership_sold", 60, 1.0) + "\n";
  text += Fixture::event("e2", "c2", "L2", "2026-10-01T12:30:00Z", "completed", "human", "trial_booked", 60, 0.5) + "\n";
  text += Fixture::event("e3", "c3", "L3", "2026-10-01T14:00:00Z", "completed", "human", "not_interested", 60, 0.5) + "\n";
  REQUIRE(f.ingest(text).applied == 3);

  const auto d = f.dash();
  CHECK(d.leads == 4);
  CHECK(d.leads_by_source == std::map<std::string, std::int64_t>{{"facebook_ads", 2}, {"referral", 1}, {"web_form", 1}});
  CHECK(d.leads_by_status ==
        std::map<std::string, std::int64_t>{{"converted", 1}, {"lost", 1}, {"new", 1}, {"trial_booked", 1}});
  std::int64_t by_q = 0;
  for (const auto& [q, n] : d.leads_by_qualification) by_q += n;
  CHECK(by_q == 4);
  REQUIRE(d.funnel.size() == 5);
  CHECK(d.funnel[0].count == 4);  // lead
  CHECK(d.funnel[1].count == 3);  // contacted (the lost lead was reached)
  CHECK(d.funnel[2].count == 2);  // qualified
  CHECK(d.funnel[3].count == 2);  // trial booked
  CHECK(d.funnel[4].count == 1);  // member
  CHECK(d.funnel[1].rate_from_previous == doctest::Approx(0.75));
  CHECK(d.funnel[4].rate_from_leads == doctest::Approx(0.25));
  CHECK(*d.cost_per_lead == doctest::Approx(0.5));
  CHECK(*d.cost_per_booking == doctest::Approx(1.0));
  CHECK(*d.cost_per_member == doctest::Approx(2.0));

  // Speed to lead: 2, 30 and 120 minutes; one lead never called.
  const auto& s = d.speed_to_lead;
  CHECK(s.leads == 4);
  CHECK(s.called == 3);
  CHECK(*s.median_minutes == doctest::Approx(30));
  CHECK(*s.p90_minutes == doctest::Approx(120));
  CHECK(s.within_5_minutes == 1);
  CHECK(s.share_within_5_minutes == doctest::Approx(0.25));

  // A status changed by hand moves the counts.
  auto leads = f.rt->leads().list_leads("gym-a", LeadFilter{});
  for (const auto& l : leads.items)
    if (l.external_id == "L4") f.rt->leads().change_status("gym-a", l.id, StatusChange{LeadStatus::Qualified, "me", "", false});
  const auto d2 = f.dash();
  CHECK(d2.leads_by_status.at("qualified") == 1);
  CHECK(d2.leads_by_status.count("new") == 0);
  CHECK(d2.funnel[2].count == 3);

  // A deleted lead leaves the counts.
  for (const auto& l : leads.items)
    if (l.external_id == "L4") f.rt->leads().delete_lead("gym-a", l.id);
  CHECK(f.dash().leads == 3);
}

TEST_CASE("speed to lead: exact minutes below 6 hours, then within 1/64 of the delay") {
  using std::chrono::minutes;
  auto bucket = [](std::int64_t m) { return analytics::speed_bucket_minutes(minutes(m)); };
  CHECK(analytics::speed_bucket_minutes(std::chrono::milliseconds(-5000)) == 0);
  CHECK(analytics::speed_bucket_minutes(std::chrono::seconds(299)) == 4);  // 4 min 59 s: within 5 minutes
  bool exact = true;
  for (std::int64_t m = 0; m < 360; ++m) exact = exact && bucket(m) == m;
  CHECK(exact);
  CHECK(bucket(361) == 360);
  CHECK(bucket(512) == 512);
  CHECK(bucket(1007) == 1000);  // 512–1023 on a grid of 8 minutes
  std::int64_t previous = 0;
  int distinct = 0;
  for (std::int64_t m = 360; m < 30 * 1440; ++m) {
    const auto b = bucket(m);
    if (b > m || double(m - b) >= double(m) / 64 || b < previous) {
      FAIL_CHECK("bucket " << b << " of " << m << " minutes: above it, off by 1/64 or more, or below the last");
      break;
    }
    if (b != previous) ++distinct;
    previous = b;
  }
  CHECK(distinct < 500);  // a day's packed row stays small
  CHECK(bucket(30 * 1440) == 30 * 1440);
  CHECK(bucket(90 * 1440) == 30 * 1440);

  // In a dashboard: first calls after 7, 47 and 200 minutes give those very figures.
  Fixture f;
  f.add("L1", "2026-10-01T12:00:00Z");
  f.add("L2", "2026-10-01T12:00:00Z");
  f.add("L3", "2026-10-01T12:00:00Z");
  std::string text;
  text += Fixture::event("e1", "c1", "L1", "2026-10-01T12:07:30Z", "no-answer", "unknown", "") + "\n";
  text += Fixture::event("e2", "c2", "L2", "2026-10-01T12:47:00Z", "no-answer", "unknown", "") + "\n";
  text += Fixture::event("e3", "c3", "L3", "2026-10-01T15:20:00Z", "no-answer", "unknown", "") + "\n";
  REQUIRE(f.ingest(text).applied == 3);
  const auto d = f.dash();
  CHECK(*d.speed_to_lead.median_minutes == doctest::Approx(47));
  CHECK(*d.speed_to_lead.p90_minutes == doctest::Approx(200));
  CHECK(d.speed_to_lead.within_5_minutes == 0);
}

TEST_CASE("best times: connect rate by lead-local hour and weekday") {
  Fixture f;
  f.add("L1");
  std::string text;
  // 14:00Z on Thursday 2026-10-01 is 10:00 in New York.
  text += Fixture::event("e1", "c1", "L1", "2026-10-01T14:00:00Z", "completed", "human", "interested") + "\n";
  text += Fixture::event("e2", "c2", "L1", "2026-10-01T14:30:00Z", "no-answer", "unknown", "") + "\n";
  text += Fixture::event("e3", "c3", "L1", "2026-10-02T20:00:00Z", "no-answer", "unknown", "") + "\n";
  REQUIRE(f.ingest(text).applied == 3);
  const auto d = f.dash();
  REQUIRE(d.by_hour.size() == 24);
  REQUIRE(d.by_weekday.size() == 7);
  CHECK(d.by_hour[10].calls == 2);
  CHECK(d.by_hour[10].connected == 1);
  CHECK(d.by_hour[10].connect_rate == doctest::Approx(0.5));
  CHECK(d.by_hour[16].calls == 1);
  CHECK(d.by_weekday[3].calls == 2);  // Thursday
  CHECK(d.by_weekday[4].calls == 1);  // Friday
  CHECK(d.best_hour == 10);
  CHECK(d.best_weekday == 3);
}

TEST_CASE("bad input names the field; an empty period gives zeros and empty series") {
  Fixture f;
  auto error_field = [&](AnalyticsQuery q) -> std::string {
    try {
      f.rt->analytics().dashboard(q);
    } catch (const Error& e) {
      return std::string(e.field()) + ":" + std::to_string(static_cast<int>(e.code()));
    }
    return "no error";
  };
  const auto invalid = std::to_string(static_cast<int>(ErrorCode::InvalidArgument));
  const auto not_found = std::to_string(static_cast<int>(ErrorCode::NotFound));
  CHECK(error_field({"gym-a", "", "2026-10-02", "2026-10-01", ""}) == "to:" + invalid);
  CHECK(error_field({"gym-x", "", "", "", ""}) == "gym_id:" + not_found);
  CHECK(error_field({"gym-a", "camp-1", "", "", ""}) == "campaign_id:" + not_found);
  CHECK(error_field({"gym-a", "", "", "", "Mars/Olympus"}) == "timezone:" + invalid);
  CHECK(error_field({"", "", "", "", "Nowhere/City"}) == "timezone:" + invalid);
  CHECK(error_field({"gym-a", "", "2026-02-30", "2026-03-01", ""}) == "from:" + invalid);
  CHECK(error_field({"gym-a", "", "2000-01-01", "2026-03-01", ""}) == "to:" + invalid);
  try {
    f.rt->analytics().dashboard({"gym-a", "", "2026-10-02", "2026-10-01", ""});
  } catch (const InvalidArgumentError& e) {
    CHECK(std::string(e.what()).find("2026-10-01") != std::string::npos);
  }

  const auto d = f.dash("2026-10-01", "2026-10-31");
  CHECK(d.calls.calls == 0);
  CHECK(d.calls.connect_rate == 0);
  CHECK(d.calls.avg_talk_s == 0);
  CHECK(d.by_local_date.empty());
  CHECK(d.daily.empty());
  CHECK(d.trends.anomalies.empty());
  CHECK(!d.trends.day_over_day);
  CHECK(!d.cost_per_lead);
  CHECK(!d.speed_to_lead.median_minutes);
  CHECK(d.speed_to_lead.share_within_5_minutes == 0);
  const auto json = dashboard_json(d);
  CHECK(json.find("nan") == std::string::npos);
  CHECK(json.find("inf") == std::string::npos);

  // The default period: the 90 days ending today in the gym's zone.
  const auto def = f.rt->analytics().dashboard({"gym-a", "", "", "", ""});
  CHECK(def.to == "2026-11-02");
  CHECK(def.from == "2026-08-05");
  // Every gym.
  CHECK(f.rt->analytics().dashboard({"", "", "", "", "Europe/London"}).calls.calls == 0);
}

TEST_CASE("trends: moving average, day and week changes, slope, anomalies") {
  Fixture f;
  // Synthetic daily rows straight into the rollups: 100 calls a day with a
  // small weekly wobble, and one day of 400.
  RollupDelta delta;
  const auto first = *analytics::parse_day("2026-08-01");
  const auto spike = *analytics::parse_day("2026-10-15");
  for (auto day = first; day <= *analytics::parse_day("2026-10-31"); ++day) {
    CallDayRollup r;
    r.gym_id = "gym-a";
    r.local_day = day;
    r.calls = day == spike ? 400 : 100 + (day % 7);
    r.connected = r.calls / 2;
    delta.call_days.push_back(r);
  }
  f.rt->store().analytics().apply(delta);
  const auto d = f.dash("2026-10-01", "2026-10-31");
  REQUIRE(d.daily.size() == 31);
  CHECK(d.trends.anomalies == std::vector<std::string>{"2026-10-15"});
  const auto& p15 = d.daily[14];
  CHECK(p15.date == "2026-10-15");
  CHECK(p15.anomaly);
  CHECK(*p15.change_day == doctest::Approx((400.0 - (100 + (spike - 1) % 7)) / (100 + (spike - 1) % 7)));
  CHECK(*p15.change_week == doctest::Approx((400.0 - (100 + (spike - 7) % 7)) / (100 + (spike - 7) % 7)));
  double week = 0;
  for (int k = 0; k < 7; ++k) week += (spike - k) == spike ? 400 : 100 + (spike - k) % 7;
  CHECK(*p15.moving_avg_7 == doctest::Approx(week / 7));
  CHECK(!d.daily[15].anomaly);
  // Week over week: the period's last 7 days against the 7 before (the spike is in neither).
  CHECK(*d.trends.week_over_week == doctest::Approx(0.0));

  // A steady rise has the slope it rises by.
  Fixture g;
  RollupDelta rise;
  for (int i = 0; i < 10; ++i) {
    CallDayRollup r;
    r.gym_id = "gym-a";
    r.local_day = first + i;
    r.calls = 10 + 3 * i;
    rise.call_days.push_back(r);
  }
  g.rt->store().analytics().apply(rise);
  const auto up = g.dash("2026-08-01", "2026-08-10");
  CHECK(up.trends.slope_calls_per_day == doctest::Approx(3.0));
  CHECK(*up.trends.day_over_day == doctest::Approx(3.0 / 34.0));
}

TEST_CASE("CSV is one RFC 4180 table") {
  Fixture f;
  f.add("L1", "2026-10-01T12:00:00Z", "a \"quoted\", source");
  const auto csv = dashboard_csv(f.dash("2026-10-01", "2026-10-02"));
  CHECK(csv.rfind("section,key,metric,value\r\n", 0) == 0);
  CHECK(csv.find("leads_by_source,\"a \"\"quoted\"\", source\",leads,1\r\n") != std::string::npos);
  CHECK(csv.find("summary,,calls,0\r\n") != std::string::npos);
  CHECK(csv.find("daily,2026-10-02,calls,0\r\n") != std::string::npos);
  // Every line ends in CRLF and has four fields outside quotes.
  std::size_t lines = 0;
  bool quoted = false;
  int commas = 0;
  for (std::size_t i = 0; i < csv.size(); ++i) {
    const char c = csv[i];
    if (c == '"') quoted = !quoted;
    else if (!quoted && c == ',') ++commas;
    else if (!quoted && c == '\n') {
      CHECK(csv[i - 1] == '\r');
      CHECK(commas == 3);
      commas = 0;
      ++lines;
    }
  }
  CHECK(lines > 50);
}

TEST_CASE("a campaign's calls only") {
  Fixture f;
  const auto lead = f.add("L1");
  // Calls placed by a campaign carry its id: store two straight through the repository.
  for (const char* camp : {"camp-1", ""}) {
    Call c;
    c.id = make_id("call_");
    c.provider_call_id = c.id;
    c.gym_id = "gym-a";
    c.lead_id = lead.id;
    c.campaign_id = camp;
    c.status = CallStatus::Completed;
    c.answered_by = AnsweredBy::Human;
    c.started_at = T("2026-10-03T15:00:00Z");
    c.duration_s = 30;
    f.rt->store().transact([&] {
      f.rt->store().calls().put(c);
      analytics::record_call(f.rt->store(), std::nullopt, c, lead);
    });
  }
  CHECK(f.dash().calls.calls == 2);
  AnalyticsQuery q{"gym-a", "camp-1", "2026-09-01", "2026-11-30", ""};
  const auto d = f.rt->analytics().dashboard(q);
  CHECK(d.calls.calls == 1);
  CHECK(d.calls.talk_s == 30);
  CHECK(f.rt->analytics().dashboard({"", "camp-1", "2026-09-01", "2026-11-30", ""}).calls.calls == 1);
}

// A campaign's lead figures count the leads enrolled in it (created in the
// period), read through its enrolments; its call figures its own calls.
TEST_CASE("a campaign's lead figures count its enrolled leads") {
  for (const auto& backend : backends()) {
    CAPTURE(backend);
    Storage storage;
    Fixture f(storage.uri(backend));
    auto& store = f.rt->store();
    std::vector<Lead> leads;
    leads.push_back(f.add("L0", "2026-10-01T12:00:00Z", "web_form"));
    leads.push_back(f.add("L1", "2026-10-01T12:00:00Z", "facebook_ads"));
    leads.push_back(f.add("L2", "2026-10-02T03:30:00Z", "facebook_ads"));  // 2026-10-01 in New York
    leads.push_back(f.add("L3", "2026-10-05T12:00:00Z", "referral"));
    leads.push_back(f.add("L4", "2026-07-01T12:00:00Z", "referral"));  // before the period
    leads.push_back(f.add("L5", "2026-10-06T12:00:00Z", "web_form"));   // never enrolled
    Campaign c;
    c.id = "cmp-spring";
    c.gym_id = "gym-a";
    c.name = "Spring";
    c.voice_provider = "sim";
    store.campaigns().insert(c);
    auto dash = [&](std::string gym = "gym-a") {
      return f.rt->analytics().dashboard({std::move(gym), "cmp-spring", "2026-09-01", "2026-11-30", ""});
    };

    // A campaign that exists but has neither enrolments nor calls: zeros, not an unknown campaign.
    auto empty = dash();
    CHECK(empty.leads == 0);
    CHECK(empty.calls.calls == 0);
    CHECK_FALSE(empty.cost_per_lead);
    CHECK(empty.daily.empty());

    store.transact([&] {
      store.campaigns().enrol("gym-a", c.id, {leads[0].id, leads[1].id, leads[2].id, leads[3].id, leads[4].id},
                              f.clock->now());
    });
    std::string text;
    auto camp = [](std::string e) { return e.insert(1, "\"campaign_id\":\"cmp-spring\","); };
    text += camp(Fixture::event("e1", "c1", "L0", "2026-10-01T12:02:00Z", "completed", "human", "membership_sold", 60, 1.0)) + "\n";
    text += camp(Fixture::event("e2", "c2", "L1", "2026-10-01T12:30:00Z", "completed", "human", "trial_booked", 60, 0.5)) + "\n";
    // Outside the campaign: counts for the gym, and for L3's speed to lead (its first attempt, whoever placed it).
    text += Fixture::event("e3", "c3", "L3", "2026-10-05T13:00:00Z", "completed", "human", "not_interested", 60, 0.5) + "\n";
    text += Fixture::event("e4", "c4", "L5", "2026-10-06T12:01:00Z", "completed", "human", "interested", 60, 0.5) + "\n";
    REQUIRE(f.ingest(text).applied == 4);

    auto d = dash();
    CHECK(d.calls.calls == 2);
    CHECK(d.calls.cost_usd == doctest::Approx(1.5));
    CHECK(d.leads == 4);  // L0–L3; L4 was created before the period, L5 is not enrolled
    CHECK(d.leads_by_source == std::map<std::string, std::int64_t>{{"facebook_ads", 2}, {"referral", 1}, {"web_form", 1}});
    CHECK(d.leads_by_status ==
          std::map<std::string, std::int64_t>{{"converted", 1}, {"lost", 1}, {"new", 1}, {"trial_booked", 1}});
    REQUIRE(d.funnel.size() == 5);
    CHECK(d.funnel[0].count == 4);
    CHECK(d.funnel[1].count == 3);
    CHECK(d.funnel[3].count == 2);
    CHECK(d.funnel[4].count == 1);
    CHECK(*d.cost_per_lead == doctest::Approx(1.5 / 4));
    CHECK(*d.cost_per_booking == doctest::Approx(0.75));
    CHECK(*d.cost_per_member == doctest::Approx(1.5));
    CHECK(d.speed_to_lead.called == 3);
    CHECK(d.speed_to_lead.within_5_minutes == 1);
    CHECK(*d.speed_to_lead.median_minutes == doctest::Approx(30));
    CHECK(*d.speed_to_lead.p90_minutes == doctest::Approx(60));
    // The daily series counts them on their gym-local creation date.
    std::map<std::string, std::int64_t> daily;
    for (const auto& p : d.daily)
      if (p.leads) daily[p.date] = p.leads;
    CHECK(daily == std::map<std::string, std::int64_t>{{"2026-10-01", 3}, {"2026-10-05", 1}});
    // Every gym at once: the same leads.
    CHECK(dash("").leads == 4);

    // Leads leave with their enrolment, and a status change moves them.
    store.transact([&] { store.campaigns().unenrol("gym-a", c.id, {leads[1].id}); });
    f.rt->leads().change_status("gym-a", leads[2].id, StatusChange{LeadStatus::Qualified, "me", "", false});
    d = dash();
    CHECK(d.leads == 3);
    CHECK(d.leads_by_status == std::map<std::string, std::int64_t>{{"converted", 1}, {"lost", 1}, {"qualified", 1}});
    CHECK(*d.cost_per_lead == doctest::Approx(0.5));

    // Every lead of the gym enrolled: the campaign's lead figures are the gym's.
    store.transact([&] {
      std::vector<std::string> ids;
      for (const auto& l : leads) ids.push_back(l.id);
      store.campaigns().enrol("gym-a", c.id, ids, f.clock->now());
    });
    d = dash();
    const auto g = f.dash();
    CHECK(d.leads == g.leads);
    CHECK(d.leads_by_source == g.leads_by_source);
    CHECK(d.leads_by_status == g.leads_by_status);
    CHECK(d.leads_by_qualification == g.leads_by_qualification);
    for (std::size_t i = 0; i < g.funnel.size(); ++i) CHECK(d.funnel[i].count == g.funnel[i].count);
    CHECK(d.speed_to_lead.called == g.speed_to_lead.called);
    CHECK(d.speed_to_lead.median_minutes == g.speed_to_lead.median_minutes);
    CHECK(d.speed_to_lead.p90_minutes == g.speed_to_lead.p90_minutes);
    CHECK(d.speed_to_lead.within_5_minutes == g.speed_to_lead.within_5_minutes);
    REQUIRE(d.daily.size() == g.daily.size());
    for (std::size_t i = 0; i < g.daily.size(); ++i) CHECK(d.daily[i].leads == g.daily[i].leads);

    // A deleted campaign is unknown again once it has no calls either.
    store.transact([&] { store.campaigns().remove("gym-a", "cmp-spring"); });
    CHECK(dash().leads == 0);  // its calls still name it
  }
}

// Rollups kept by the write paths equal a recomputation from the raw calls
// and leads, after a random mix of events: several per call (non-terminal
// then terminal), duplicates, arrivals out of order, batches of random size,
// single events, manual status changes, merges and a deletion.
TEST_CASE("rollups equal their rebuild after randomized ingests") {
  for (const auto& backend : backends()) {
    CAPTURE(backend);
    Storage storage;
    Fixture f(storage.uri(backend));
    std::mt19937 rng(42);
    std::vector<std::string> ext, ids;
    for (int i = 0; i < 40; ++i) {
      ext.push_back("L" + std::to_string(i));
      const std::string created = "2026-10-0" + std::to_string(1 + i % 9) + "T0" + std::to_string(i % 10) + ":15:00Z";
      ids.push_back(f.add(ext.back(), created.c_str(), i % 3 ? "web_form" : "referral").id);
    }
    // A campaign holding a random half of the leads; enrolments change midway.
    auto& store = f.rt->store();
    Campaign campaign;
    campaign.id = "cmp-r";
    campaign.gym_id = "gym-a";
    campaign.name = "r";
    campaign.voice_provider = "sim";
    store.campaigns().insert(campaign);
    auto random_ids = [&](std::size_t n) {
      std::vector<std::string> out;
      for (std::size_t k = 0; k < n; ++k) out.push_back(ids[rng() % ids.size()]);
      return out;
    };
    store.transact([&] { store.campaigns().enrol("gym-a", "cmp-r", random_ids(25), f.clock->now()); });
    const char* statuses[] = {"completed", "no-answer", "busy", "failed"};
    const char* outcomes[] = {"interested", "not_interested", "callback_requested", "trial_booked",
                              "membership_sold", "wrong_number", "do_not_call"};
    std::vector<std::string> events;
    for (int c = 0; c < 200; ++c) {
      const auto& lead = ext[rng() % ext.size()];
      const std::string call = "c" + std::to_string(c);
      char started[32];
      std::snprintf(started, sizeof started, "2026-10-%02dT%02d:%02d:00Z", 2 + int(rng() % 20), int(rng() % 24),
                    int(rng() % 60));
      const std::string status = statuses[rng() % 4];
      const bool human = status == "completed" && rng() % 3 != 0;
      const std::string answered = status == "completed" ? (human ? "human" : "machine") : "unknown";
      const std::string outcome = human && rng() % 2 ? outcomes[rng() % 7] : "";
      // A first event still ringing, sometimes; the terminal one.
      if (rng() % 3 == 0)
        events.push_back(Fixture::event("e" + call + "a", call, lead, started, "ringing", "unknown", "", 0, 0));
      events.push_back(Fixture::event("e" + call + "b", call, lead, started, status, answered, outcome,
                                      int(rng() % 500), double(rng() % 1000) / 1000));
      if (rng() % 10 == 0) events.push_back(events.back());  // a duplicate delivery
    }
    std::shuffle(events.begin(), events.end(), rng);
    std::size_t at = 0;
    while (at < events.size()) {
      const std::size_t n = std::min<std::size_t>(events.size() - at, 1 + rng() % 40);
      if (n == 1) {
        try {
          f.rt->calls().process_event(from_json<CallEvent>(events[at]));
        } catch (const Error&) {
        }
      } else {
        std::string text;
        for (std::size_t k = 0; k < n; ++k) text += events[at + k] + "\n";
        f.ingest(text, 1 + int(rng() % 10));
      }
      at += n;
      if (rng() % 8 == 0)
        store.transact([&] {
          if (rng() % 2) store.campaigns().unenrol("gym-a", "cmp-r", random_ids(3));
          else store.campaigns().enrol("gym-a", "cmp-r", random_ids(3), f.clock->now());
        });
    }
    // Lead-side writes: a manual move, a merge that moves created_at earlier, a deletion.
    LeadFilter all;
    all.page_size = 100;
    auto page = f.rt->leads().list_leads("gym-a", all);
    REQUIRE(page.items.size() == 40);
    f.rt->leads().change_status("gym-a", page.items[0].id, StatusChange{LeadStatus::Converted, "me", "", false});
    LeadInput again;
    again.phone = page.items[1].phone;
    again.created_at = T("2026-09-20T10:00:00Z");
    again.source = "instagram";
    CHECK(f.rt->leads().create_lead("gym-a", again).merged);
    f.rt->leads().delete_lead("gym-a", page.items[2].id);
    // An import whose rows merge into known leads, most dated before them
    // (their speed to lead moves with created_at, from their first call),
    // two rows into the same lead.
    {
      std::string csv = "gym_id,phone,created_at,source\n";
      for (std::size_t k = 3; k < 23; ++k) {
        const char* created = k % 4 == 0 ? "2026-10-25T10:00:00Z" : k % 2 ? "2026-09-15T08:30:00Z" : "2026-09-28T17:45:00Z";
        csv += "gym-a," + page.items[k].phone + "," + created + ",import\n";
      }
      csv += "gym-a," + page.items[5].phone + ",2026-09-01T00:00:00Z,import\n";
      std::istringstream in(csv);
      ImportOptions options;
      options.batch_size = 7;
      const auto imported = f.rt->leads().import_leads(in, options);
      CHECK(imported.merged_duplicates == 21);
      CHECK(imported.imported == 0);
    }

    const auto kept = snapshot(f.rt->store());
    CHECK(!kept.days.empty());
    CHECK(!kept.hours.empty());
    CHECK(!kept.leads.empty());
    const auto before = f.dash();
    const auto report = f.rt->analytics().rebuild("gym-a");
    CHECK(report.leads == 39);
    const auto rebuilt = snapshot(f.rt->store());
    CHECK(kept.days == rebuilt.days);
    CHECK(kept.hours == rebuilt.hours);
    CHECK(kept.leads == rebuilt.leads);
    CHECK(dashboard_json(before) == dashboard_json(f.dash()));
    CHECK(before.calls.calls == 200);

    // The campaign's leads as its dashboard reads them equal the enrolled
    // leads' facts read from the leads themselves.
    std::map<std::string, LeadFacts> truth, read;
    store.analytics().scan_leads("gym-a", [&](const LeadFacts& l) {
      if (store.campaigns().enrolment("gym-a", "cmp-r", l.id)) truth[l.id] = l;
    });
    store.analytics().scan_campaign_leads("gym-a", "cmp-r", Timestamp{}, T("2030-01-01T00:00:00Z"),
                                          [&](const LeadFacts& l) { read[l.id] = l; });
    for (auto* m : {&truth, &read})
      for (auto& [id, l] : *m) l.local_zone.clear();  // not needed for a campaign's figures
    CHECK(truth.size() > 5);
    CHECK(read == truth);
  }
}

TEST_CASE("a rollup builder absorbed into another adds up as its delta would") {
  const auto day = [](const char* gym, std::int32_t d, std::int64_t calls, std::int64_t outcome0) {
    CallDayRollup r;
    r.gym_id = gym;
    r.local_day = d;
    r.calls = calls;
    r.connected = calls / 2;
    r.talk_s = calls * 60;
    r.outcomes[0] = outcome0;
    return r;
  };
  const auto hour = [](const char* gym, std::int32_t h, std::int64_t calls) {
    CallHourRollup r;
    r.gym_id = gym;
    r.local_day = 20'000;
    r.lead_hour = h;
    r.calls = calls;
    return r;
  };
  const auto lead = [](const char* gym, const char* dimension, const char* value, std::int64_t count) {
    return LeadDayRollup{gym, 20'000, dimension, value, count};
  };
  RollupDelta first, second;
  first.call_days = {day("gym-a", 20'000, 3, 1), day("gym-b", 20'000, 2, 0)};
  first.call_hours = {hour("gym-a", 9, 2), hour("gym-a", 10, 1)};
  first.lead_days = {lead("gym-a", "source", "web_form", 5), lead("gym-a", "status", "new", 5),
                     lead("gym-b", "source", "referral", 1)};
  second.call_days = {day("gym-a", 20'000, 4, 2), day("gym-a", 20'001, 1, 1)};   // one key shared
  second.call_hours = {hour("gym-a", 9, -2), hour("gym-b", 9, 1)};               // one cancels out
  second.lead_days = {lead("gym-a", "source", "web_form", 2), lead("gym-b", "source", "referral", -1),
                      lead("gym-c", "status", "new", 1)};

  analytics::RollupBuilder added, absorbed, piece_added, piece_absorbed;
  added.add(first);
  absorbed.add(first);
  piece_added.add(second);
  piece_absorbed.add(second);
  added.add(piece_added.take());
  absorbed.absorb(std::move(piece_absorbed));
  CHECK(piece_absorbed.empty());

  auto a = added.take(), b = absorbed.take();
  const auto by_key = [](auto& rows, auto key) {
    std::sort(rows.begin(), rows.end(), [&](const auto& x, const auto& y) { return key(x) < key(y); });
  };
  for (auto* d : {&a, &b}) {
    by_key(d->call_days, [](const CallDayRollup& r) { return std::tie(r.gym_id, r.local_day, r.campaign_id); });
    by_key(d->call_hours, [](const CallHourRollup& r) { return std::tie(r.gym_id, r.local_day, r.lead_hour); });
    by_key(d->lead_days, [](const LeadDayRollup& r) { return std::tie(r.gym_id, r.dimension, r.value); });
  }
  CHECK(b.call_days == a.call_days);
  CHECK(b.call_hours == a.call_hours);
  CHECK(b.lead_days == a.lead_days);
  REQUIRE(b.call_days.size() == 3);
  CHECK(b.call_days[0].calls == 7);          // gym-a, day 20,000: 3 + 4
  CHECK(b.call_days[0].outcomes[0] == 3);
  CHECK(b.call_hours.size() == 2);           // gym-a 9 h cancelled out
  REQUIRE(b.lead_days.size() == 3);          // gym-b referral cancelled out
  CHECK(b.lead_days[0] == lead("gym-a", "source", "web_form", 7));
  CHECK(absorbed.empty());
}
