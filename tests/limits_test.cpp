// Every limit of docs/hardening.md "Limits", at the limit (accepted) and just
// past it (refused, naming the field), for the limits no other test holds at
// both edges. Memory backend: the limits are the services', not the store's.
#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

const Timestamp kNow = parse_timestamp("2026-11-02T15:00:00Z");

struct Fixture {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(kNow);
  std::unique_ptr<Runtime> rt;
  int line = 5000;
  int events = 0;

  Fixture() {
    RuntimeOptions o;
    o.storage = "memory:";
    o.clock = clock;
    o.worker_threads = 1;
    o.log_level = LogLevel::Off;
    rt = Runtime::open(o);
    Gym g;
    g.id = "gym-a";
    g.name = "A";
    g.timezone = "America/New_York";
    rt->gyms().create_gym(g);
  }

  LeadInput input() {
    LeadInput in;
    in.phone = "(212) 736-" + std::to_string(line++);
    in.consent = Consent{true, kNow - 24h, "web_form", ""};
    return in;
  }
  Lead add() { return rt->leads().create_lead("gym-a", input()).lead; }

  CallEvent event(const Lead& lead) {
    CallEvent e;
    e.event_id = "ev-" + std::to_string(++events);
    e.call_id = "call-" + std::to_string(events);
    e.gym_id = "gym-a";
    e.lead_id = lead.id;
    e.started_at = kNow - 1h;
    e.status = CallStatus::Completed;
    e.answered_by = AnsweredBy::Human;
    return e;
  }
};

// "" when `fn` succeeds; the field of the InvalidArgumentError it throws otherwise.
template <class Fn>
std::string refused(Fn&& fn) {
  try {
    fn();
  } catch (const InvalidArgumentError& e) {
    return e.field().empty() ? std::string("<no field>") : e.field();
  }
  return "";
}

std::string email_of(std::size_t n) { return std::string(n - 6, 'a') + "@ex.co"; }

}  // namespace

TEST_CASE_FIXTURE(Fixture, "lead text fields: at the limit accepted, one past refused naming the field") {
  struct Case {
    const char* field;
    std::size_t limit;
    void (*set)(LeadInput&, std::string);
  };
  const Case cases[] = {
      {"external_id", 200, [](LeadInput& in, std::string v) { in.external_id = std::move(v); }},
      {"first_name", 200, [](LeadInput& in, std::string v) { in.first_name = std::move(v); }},
      {"last_name", 200, [](LeadInput& in, std::string v) { in.last_name = std::move(v); }},
      {"source", 200, [](LeadInput& in, std::string v) { in.source = std::move(v); }},
      {"timeline", 200, [](LeadInput& in, std::string v) { in.timeline = std::move(v); }},
      {"actor", 200, [](LeadInput& in, std::string v) { in.actor = std::move(v); }},
      {"interest", 10000, [](LeadInput& in, std::string v) { in.interest = std::move(v); }},
      {"notes", 10000, [](LeadInput& in, std::string v) { in.notes = std::move(v); }},
  };
  for (const auto& c : cases) {
    CAPTURE(c.field);
    auto at = input();
    c.set(at, std::string(c.limit, 'x'));
    CHECK(refused([&] { rt->leads().create_lead("gym-a", at); }) == "");
    auto past = input();
    c.set(past, std::string(c.limit + 1, 'x'));
    CHECK(refused([&] { rt->leads().create_lead("gym-a", past); }) == c.field);
  }
  // Characters, not bytes: 200 two-byte letters are within a 200-character limit.
  auto wide = input();
  std::string e_acute;
  for (int i = 0; i < 200; ++i) e_acute += "\xc3\xa9";
  wide.first_name = e_acute;
  CHECK(refused([&] { rt->leads().create_lead("gym-a", wide); }) == "");
  wide = input();
  wide.first_name = e_acute + "\xc3\xa9";
  CHECK(refused([&] { rt->leads().create_lead("gym-a", wide); }) == "first_name");

  auto mail = input();
  mail.email = email_of(320);
  CHECK(refused([&] { rt->leads().create_lead("gym-a", mail); }) == "");
  mail = input();
  mail.email = email_of(321);
  CHECK(refused([&] { rt->leads().create_lead("gym-a", mail); }) == "email");
}

TEST_CASE_FIXTURE(Fixture, "tags and custom fields: count and length at and past their limits") {
  auto tags = input();
  for (int i = 0; i < 100; ++i) tags.tags.push_back("t" + std::to_string(i));
  CHECK(refused([&] { rt->leads().create_lead("gym-a", tags); }) == "");
  tags = input();
  for (int i = 0; i < 101; ++i) tags.tags.push_back("t" + std::to_string(i));
  CHECK(refused([&] { rt->leads().create_lead("gym-a", tags); }) == "tags");

  auto tag = input();
  tag.tags = {std::string(100, 'a')};
  CHECK(refused([&] { rt->leads().create_lead("gym-a", tag); }) == "");
  tag = input();
  tag.tags = {"ok", std::string(101, 'a')};
  CHECK(refused([&] { rt->leads().create_lead("gym-a", tag); }) == "tags[1]");

  auto custom = input();
  for (int i = 0; i < 100; ++i) custom.custom_fields["k" + std::to_string(i)] = "v";
  CHECK(refused([&] { rt->leads().create_lead("gym-a", custom); }) == "");
  custom = input();
  for (int i = 0; i < 101; ++i) custom.custom_fields["k" + std::to_string(i)] = "v";
  CHECK(refused([&] { rt->leads().create_lead("gym-a", custom); }) == "custom_fields");

  custom = input();
  custom.custom_fields[std::string(200, 'k')] = std::string(10000, 'v');
  CHECK(refused([&] { rt->leads().create_lead("gym-a", custom); }) == "");
  custom = input();
  custom.custom_fields[std::string(201, 'k')] = "v";
  CHECK(refused([&] { rt->leads().create_lead("gym-a", custom); }) == "custom_fields");
  custom = input();
  custom.custom_fields["k"] = std::string(10001, 'v');
  CHECK(refused([&] { rt->leads().create_lead("gym-a", custom); }) == "custom_fields.k");
}

TEST_CASE_FIXTURE(Fixture, "notes, status reasons, erasure texts at and past their limits") {
  const auto l = add();
  CHECK(refused([&] { rt->leads().add_note("gym-a", l.id, std::string(10000, 'n')); }) == "");
  CHECK(refused([&] { rt->leads().add_note("gym-a", l.id, std::string(10001, 'n')); }) == "text");
  CHECK(refused([&] { rt->leads().add_note("gym-a", l.id, "n", std::string(200, 'a')); }) == "");
  CHECK(refused([&] { rt->leads().add_note("gym-a", l.id, "n", std::string(201, 'a')); }) == "actor");
  CHECK(refused([&] {
          rt->leads().change_status("gym-a", l.id, StatusChange{LeadStatus::Contacted, "me", std::string(10000, 'r')});
        }) == "");
  CHECK(refused([&] {
          rt->leads().change_status("gym-a", l.id, StatusChange{LeadStatus::Qualified, "me", std::string(10001, 'r')});
        }) == "reason");
  const auto e = add();
  CHECK(refused([&] { rt->leads().erase_lead("gym-a", e.id, "", std::string(201, 'r')); }) == "reason");
  CHECK(refused([&] { rt->leads().erase_lead("gym-a", e.id, std::string(201, 'a'), ""); }) == "actor");
  CHECK(refused([&] { rt->leads().erase_lead("gym-a", e.id, std::string(200, 'a'), std::string(200, 'r')); }) == "");
}

TEST_CASE_FIXTURE(Fixture, "page sizes: 1000 accepted, 1001 and 0 refused, on every list") {
  add();
  LeadFilter lf;
  lf.page_size = 1000;
  CHECK(refused([&] { rt->leads().list_leads("gym-a", lf); }) == "");
  lf.page_size = 1001;
  CHECK(refused([&] { rt->leads().list_leads("gym-a", lf); }) == "page_size");
  lf.page_size = 0;
  CHECK(refused([&] { rt->leads().list_leads("gym-a", lf); }) == "page_size");

  CallFilter cf;
  cf.page_size = 1000;
  CHECK(refused([&] { rt->calls().list_calls("gym-a", cf); }) == "");
  cf.page_size = 1001;
  CHECK(refused([&] { rt->calls().list_calls("gym-a", cf); }) == "page_size");

  CampaignFilter kf;
  kf.page_size = 1000;
  CHECK(refused([&] { rt->campaigns().list_campaigns("gym-a", kf); }) == "");
  kf.page_size = 1001;
  CHECK(refused([&] { rt->campaigns().list_campaigns("gym-a", kf); }) == "page_size");

  CHECK(refused([&] { rt->leads().list_dnc("gym-a", 1000, 0); }) == "");
  CHECK(refused([&] { rt->leads().list_dnc("gym-a", 1001, 0); }) == "limit");
  CHECK(refused([&] { rt->leads().list_erasures("gym-a", 1000, 0); }) == "");
  CHECK(refused([&] { rt->leads().list_erasures("gym-a", 1001, 0); }) == "limit");
}

TEST_CASE_FIXTURE(Fixture, "batch sizes of imports and ingests: 1 and 1,000,000 accepted, 0 and 1,000,001 refused") {
  const std::string csv = "gym_id,phone\ngym-a,(212) 736-4999\n";
  for (int batch : {1, 1'000'000}) {
    CAPTURE(batch);
    std::istringstream in(csv);
    ImportOptions o;
    o.batch_size = batch;
    CHECK(refused([&] { rt->leads().import_leads(in, o); }) == "");
    std::istringstream events("");
    IngestOptions io;
    io.batch_size = batch;
    CHECK(refused([&] { rt->calls().ingest_jsonl(events, io); }) == "");
  }
  for (int batch : {0, 1'000'001}) {
    CAPTURE(batch);
    std::istringstream in(csv);
    ImportOptions o;
    o.batch_size = batch;
    CHECK(refused([&] { rt->leads().import_leads(in, o); }) == "batch_size");
    std::istringstream events("");
    IngestOptions io;
    io.batch_size = batch;
    CHECK(refused([&] { rt->calls().ingest_jsonl(events, io); }) == "batch_size");
  }
}

TEST_CASE_FIXTURE(Fixture, "call events: ids, texts, transcript, cost and duration at and past their limits") {
  const auto l = add();
  struct Case {
    const char* field;
    std::size_t limit;
    void (*set)(CallEvent&, std::string);
  };
  const Case cases[] = {
      {"call_id", 200, [](CallEvent& e, std::string v) { e.call_id = std::move(v); }},
      {"campaign_id", 200, [](CallEvent& e, std::string v) { e.campaign_id = std::move(v); }},
      {"summary", 10000, [](CallEvent& e, std::string v) { e.summary = std::move(v); }},
      {"end_reason", 10000, [](CallEvent& e, std::string v) { e.end_reason = std::move(v); }},
      {"transcript", std::size_t{1} << 20, [](CallEvent& e, std::string v) { e.transcript = std::move(v); }},
  };
  int n = 0;
  for (const auto& c : cases) {
    CAPTURE(c.field);
    auto at = event(l);
    std::string value(c.limit, 'x');
    value.replace(0, std::min<std::size_t>(8, value.size()), "id" + std::to_string(++n) + "-");  // unique ids
    c.set(at, value);
    CHECK(refused([&] { rt->calls().process_event(at); }) == "");
    auto past = event(l);
    c.set(past, std::string(c.limit + 1, 'y'));
    CHECK(refused([&] { rt->calls().process_event(past); }) == c.field);
  }
  auto cost = event(l);
  cost.cost_usd = 10000;
  CHECK(refused([&] { rt->calls().process_event(cost); }) == "");
  cost = event(l);
  cost.cost_usd = 10000.01;
  CHECK(refused([&] { rt->calls().process_event(cost); }) == "cost_usd");
  auto duration = event(l);
  duration.duration_s = 86400;
  duration.started_at = kNow - 25h;
  duration.ended_at = *duration.started_at + 24h;
  CHECK(refused([&] { rt->calls().process_event(duration); }) == "");
  duration = event(l);
  duration.duration_s = 86401;
  CHECK(refused([&] { rt->calls().process_event(duration); }) == "duration_s");
}

TEST_CASE_FIXTURE(Fixture, "dashboards: a period of 3660 days accepted, 3661 refused") {
  AnalyticsQuery q;
  q.gym_id = "gym-a";
  q.to = "2026-11-02";
  q.from = "2016-10-26";  // 3660 days, both ends included
  CHECK(refused([&] { rt->analytics().dashboard(q); }) == "");
  q.from = "2016-10-25";
  CHECK(refused([&] { rt->analytics().dashboard(q); }) == "to");
}

TEST_CASE_FIXTURE(Fixture, "JSON requests: nesting 32 deep is read, 33 is refused for its depth") {
  auto nested = [](int depth) {
    std::string inner = "\"vip\"";
    for (int i = 1; i < depth; ++i) inner = "[" + inner + "]";
    return "{\"tags\":" + inner + "}";
  };
  // 32 levels (the object and 31 arrays): parsed, then refused for the shape of `tags`.
  try {
    from_json<LeadFilter>(nested(32));
    FAIL("accepted nested tags");
  } catch (const InvalidArgumentError& e) {
    CHECK(std::string(e.what()).find("deep") == std::string::npos);
  }
  try {
    from_json<LeadFilter>(nested(33));
    FAIL("accepted JSON 33 levels deep");
  } catch (const InvalidArgumentError& e) {
    CHECK(std::string(e.what()).find("deep") != std::string::npos);
  }
}

TEST_CASE_FIXTURE(Fixture, "rejected rows and lines listed: all counted, the first max_rejected_* listed") {
  std::string csv = "gym_id,phone\n";
  for (int i = 0; i < 3; ++i) csv += "gym-a,12\n";
  for (std::size_t max : {std::size_t{3}, std::size_t{2}}) {
    CAPTURE(max);
    std::istringstream in(csv);
    ImportOptions o;
    o.max_rejected_rows = max;
    const auto r = rt->leads().import_leads(in, o);
    CHECK(r.rejected == 3);
    CHECK(r.rejected_rows.size() == std::min<std::size_t>(max, 3));
    CHECK(r.rejected_rows_truncated == (max < 3));
    std::istringstream events("{}\n{}\n{}\n");
    IngestOptions io;
    io.max_rejected_lines = max;
    const auto e = rt->calls().ingest_jsonl(events, io);
    CHECK(e.rejected == 3);
    CHECK(e.rejected_lines.size() == std::min<std::size_t>(max, 3));
    CHECK(e.rejected_lines_truncated == (max < 3));
  }
}

TEST_CASE_FIXTURE(Fixture, "a calls.jsonl line of 4 MiB is read, one byte more is rejected and the next line goes on") {
  const std::size_t limit = std::size_t{4} << 20;
  const Lead lead = add();
  // A valid event padded with JSON whitespace to exactly `bytes`.
  auto line = [&](const std::string& id, std::size_t bytes) {
    std::string text = "{\"event_id\":\"" + id + "\",\"call_id\":\"" + id + "\",\"gym_id\":\"gym-a\",\"lead_id\":\"" +
                       lead.id + "\",\"started_at\":\"2026-11-02T14:00:00Z\",\"status\":\"no-answer\"}";
    REQUIRE(text.size() < bytes);
    text.insert(text.size() - 1, bytes - text.size(), ' ');
    return text;
  };
  std::istringstream events(line("lim-1", limit) + "\n" + line("lim-2", limit + 1) + "\n" + line("lim-3", 200) + "\n");
  const auto r = rt->calls().ingest_jsonl(events, IngestOptions{});
  CHECK(r.applied == 2);
  CHECK(r.rejected == 1);
  REQUIRE(r.rejected_lines.size() == 1);
  CHECK(r.rejected_lines[0].line == 2);
  CHECK(r.rejected_lines[0].reason == "too_long");
  CHECK(r.rejected_lines[0].detail.find("line") != std::string::npos);
  CHECK(rt->calls().get_call("gym-a", "lim-1").provider_call_id == "lim-1");
  CHECK(rt->calls().get_call("gym-a", "lim-3").provider_call_id == "lim-3");
}

TEST_CASE_FIXTURE(Fixture, "a do-not-call file line of 4096 bytes is read, 4097 is rejected") {
  const std::string number = "+12127364001";
  std::istringstream at(number + std::string(4096 - number.size(), ' ') + "\n");
  const auto ok = rt->leads().import_dnc("gym-a", at, "file.txt");
  CHECK(ok.added == 1);
  CHECK(ok.rejected == 0);
  std::istringstream past("+12127364002" + std::string(4097 - number.size(), ' ') + "\n");
  const auto refused_line = rt->leads().import_dnc("gym-a", past, "file.txt");
  CHECK(refused_line.added == 0);
  REQUIRE(refused_line.rejected_lines.size() == 1);
  CHECK(refused_line.rejected_lines[0].second.find("4096") != std::string::npos);
}

TEST_CASE("configuration limits: each range's ends accepted, one past refused naming the key") {
  struct Case {
    const char* key;
    long long low, high;
  };
  const Case cases[] = {{"max_request_bytes", 1024, 67108864}, {"max_json_depth", 2, 256},
                        {"max_page_size", 1, 1000},           {"max_batch_size", 1, 1000000},
                        {"max_transcript_bytes", 1024, 67108864}};
  auto doc = [](const char* key, long long v) {
    return std::string("{\"limits\":{\"") + key + "\":" + std::to_string(v) + "}}";
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    CHECK_NOTHROW(parse_config(doc(c.key, c.low)));
    CHECK_NOTHROW(parse_config(doc(c.key, c.high)));
    for (long long bad : {c.low - 1, c.high + 1}) {
      CAPTURE(bad);
      try {
        parse_config(doc(c.key, bad));
        FAIL("accepted an out-of-range limit");
      } catch (const InvalidArgumentError& e) {
        CHECK(std::string(e.what()).find(std::string("limits.") + c.key) != std::string::npos);
      }
    }
  }
}

// The configuration's limits.* that the services enforce: lower values act.
// A memory runtime with these limits and one gym, gym-a.
std::unique_ptr<Runtime> open_limited(const Limits& limits) {
  Config config;
  config.storage = "memory:";
  config.worker_threads = 1;
  config.logging.sink = "none";
  config.limits = limits;
  auto rt = Runtime::open(config, std::make_shared<ManualClock>(kNow));
  Gym g;
  g.id = "gym-a";
  g.name = "A";
  g.timezone = "America/New_York";
  rt->gyms().create_gym(g);
  return rt;
}

TEST_CASE("configured limits: transcript size and page sizes act as the configuration says") {
  Limits limits;
  limits.max_transcript_bytes = 2048;
  limits.max_page_size = 10;
  auto rt = open_limited(limits);
  LeadInput in;
  in.phone = "(212) 736-5000";
  in.consent = Consent{true, kNow - 24h, "web_form", ""};
  const Lead lead = rt->leads().create_lead("gym-a", in).lead;

  CallEvent e;
  e.event_id = "ev-1";
  e.call_id = "call-1";
  e.gym_id = "gym-a";
  e.lead_id = lead.id;
  e.started_at = kNow - 1h;
  e.status = CallStatus::Completed;
  e.answered_by = AnsweredBy::Human;
  e.transcript = std::string(2049, 'y');
  CHECK(refused([&] { rt->calls().process_event(e); }) == "transcript");
  e.transcript = std::string(2048, 'x');
  CHECK(refused([&] { rt->calls().process_event(e); }) == "");
  // The same limit in a calls.jsonl ingest: the line is read, the event refused.
  std::istringstream jsonl(R"({"event_id":"ev-2","call_id":"call-2","gym_id":"gym-a","lead_id":")" + lead.id +
                           R"(","started_at":"2026-11-02T14:00:00Z","status":"completed","answered_by":"human",)"
                           R"("transcript":")" + std::string(3000, 'z') + "\"}\n");
  const auto report = rt->calls().ingest_jsonl(jsonl);
  CHECK(report.rejected == 1);
  CHECK(report.rejected_by_reason.count("too_long") == 1);

  LeadFilter lf;
  lf.page_size = 10;
  CHECK(refused([&] { rt->leads().list_leads("gym-a", lf); }) == "");
  lf.page_size = 11;
  CHECK(refused([&] { rt->leads().list_leads("gym-a", lf); }) == "page_size");
  CallFilter cf;
  cf.page_size = 10;
  CHECK(refused([&] { rt->calls().list_calls("gym-a", cf); }) == "");
  cf.page_size = 11;
  CHECK(refused([&] { rt->calls().list_calls("gym-a", cf); }) == "page_size");
}

TEST_CASE("configured limits: max_batch_size bounds the batches of imports and ingests") {
  Limits limits;
  limits.max_batch_size = 2;
  auto rt = open_limited(limits);

  // Five rows with a batch_size of 1000 asked: committed two at a time.
  std::string csv = "gym_id,phone,consent\n";
  for (int i = 0; i < 5; ++i) csv += "gym-a,(212) 736-" + std::to_string(5000 + i) + ",true\n";
  std::istringstream in(csv);
  ImportOptions o;
  o.batch_size = 1000;
  std::vector<std::int64_t> rows_seen;
  o.progress = [&](const ImportProgress& p) { rows_seen.push_back(p.rows); };
  const auto imported = rt->leads().import_leads(in, o);
  CHECK(imported.imported == 5);
  CHECK(rows_seen == std::vector<std::int64_t>{2, 4, 5});

  // The same for call events.
  const auto lead = rt->leads().list_leads("gym-a", LeadFilter{}).items.at(0);
  std::string jsonl;
  for (int i = 1; i <= 3; ++i)
    jsonl += R"({"event_id":"ev-)" + std::to_string(i) + R"(","call_id":"call-)" + std::to_string(i) +
             R"(","gym_id":"gym-a","lead_id":")" + lead.id +
             R"(","started_at":"2026-11-02T14:0)" + std::to_string(i) + R"(:00Z","status":"no_answer"})" + "\n";
  std::istringstream events(jsonl);
  IngestOptions io;
  io.batch_size = 1000;
  std::vector<std::int64_t> events_seen;
  io.progress = [&](const IngestProgress& p) { events_seen.push_back(p.events); };
  const auto ingested = rt->calls().ingest_jsonl(events, io);
  CHECK(ingested.applied == 3);
  CHECK(events_seen == std::vector<std::int64_t>{2, 3});
}
