// The batched ingest path: the same events give the same calls, leads and
// history whatever the batch size and backend; opt-out phrases; the call
// record's recording and provider fields.
#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <random>
#include <sstream>
#include <atomic>
#include <mutex>
#include <thread>

#include "services/call/opt_out.hpp"
#include "test_util.hpp"
#ifdef GYMDASH_TEST_WITH_POSTGRES
#include "postgres_backend.hpp"
#endif

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

Timestamp T(const char* iso) { return parse_timestamp(iso); }

std::unique_ptr<Runtime> open_runtime(const std::string& storage, std::shared_ptr<ManualClock> clock) {
  RuntimeOptions o;
  o.storage = storage;
  o.clock = std::move(clock);
  o.worker_threads = 1;
  o.log_level = LogLevel::Warn;
  auto rt = Runtime::open(o);
  Gym g;
  g.id = "gym-a";
  g.name = "A";
  g.timezone = "America/New_York";
  rt->gyms().create_gym(g);
  for (int i = 0; i < 40; ++i) {
    LeadInput in;
    in.external_id = "L" + std::to_string(i);
    in.phone = "(212) 736-" + std::to_string(3000 + i);
    in.consent = Consent{true, T("2026-10-01T12:00:00Z"), "web_form", ""};
    rt->leads().create_lead("gym-a", in);
  }
  return rt;
}

// A reproducible stream of events: calls of 40 leads, each call reported as
// started and ended (sometimes analyzed), shuffled locally, with repeats and a
// few bad lines.
std::vector<std::string> make_events(unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> lines;
  const char* outcomes[] = {"interested", "not_interested", "callback_requested", "trial_booked",
                            "membership_sold", "wrong_number", "do_not_call"};
  Timestamp t = T("2026-11-01T13:00:00Z");
  int ev = 0;
  for (int call = 0; call < 300; ++call) {
    t += std::chrono::minutes(1 + rng() % 30);
    const std::string lead = "L" + std::to_string(rng() % 40);
    const std::string id = "C" + std::to_string(call);
    const std::string started = format_timestamp(t);
    const std::string ended = format_timestamp(t + std::chrono::seconds(20 + rng() % 300));
    const int kind = static_cast<int>(rng() % 10);
    const bool human = kind < 6;
    const std::string status = kind < 7 ? "completed" : (kind == 7 ? "no-answer" : "busy");
    const std::string answered = human && kind < 7 ? "human" : (kind == 6 ? "machine" : "unknown");
    std::string outcome = "null";
    if (answered == "human" && rng() % 3 != 0) outcome = std::string("\"") + outcomes[rng() % 7] + "\"";
    auto head = [&](int n) {
      return "{\"event_id\":\"E" + std::to_string(n) + "\",\"call_id\":\"" + id +
             "\",\"gym_id\":\"gym-a\",\"lead_external_id\":\"" + lead + "\",\"started_at\":\"" + started + "\"";
    };
    lines.push_back(head(ev++) + ",\"status\":\"in_progress\"}");
    lines.push_back(head(ev++) + ",\"ended_at\":\"" + ended + "\",\"status\":\"" + status + "\",\"answered_by\":\"" +
                    answered + "\",\"duration_s\":" + std::to_string(rng() % 300) + ",\"outcome\":" + outcome +
                    ",\"cost_usd\":0.05}");
    if (rng() % 4 == 0)
      lines.push_back(head(ev++) + ",\"sentiment\":\"positive\",\"summary\":\"talked about a trial\"}");
  }
  // Local disorder: swap neighbours now and then.
  for (std::size_t i = 1; i < lines.size(); ++i)
    if (rng() % 5 == 0) std::swap(lines[i - 1], lines[i]);
  // Repeats (a webhook delivered twice) and bad lines.
  std::vector<std::string> out;
  for (const auto& l : lines) {
    out.push_back(l);
    if (rng() % 25 == 0) out.push_back(l);
    if (rng() % 60 == 0) out.push_back("{\"event_id\":\"bad\",");
  }
  return out;
}

// The first entry that differs, for the failure message.
std::string first_difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (a[i] != b[i]) return a[i] + "\n---- expected ----\n" + b[i];
  return a.size() == b.size() ? std::string() : "sizes differ";
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// What must not depend on how events were batched: per lead, its call state
// and its calls (ids aside: ours are generated), and the history kinds.
std::vector<std::string> snapshot(Runtime& rt) {
  std::vector<std::string> out;
  LeadFilter f;
  f.page_size = 1000;
  for (const auto& l : rt.leads().list_leads("gym-a", f).items) {
    std::string s = l.external_id + " " + to_string(l.status) + " " + to_string(l.qualification) + " a" +
                    std::to_string(l.attempts) + " c" + std::to_string(l.connects) + " " + l.last_outcome + " " +
                    l.sentiment + (l.do_not_call ? " dnc" : "") + (l.phone_invalid ? " invalid" : "") +
                    (l.callback_at ? " cb" + format_timestamp(*l.callback_at) : "");
    for (const auto& c : rt.calls().lead_calls("gym-a", l.id)) {
      Call x = c;
      x.id.clear();
      x.lead_id.clear();  // each runtime makes its own ids
      x.created_at = x.updated_at = Timestamp{};
      s += "\n  " + to_json(x);
    }
    for (const auto& h : rt.leads().get_history("gym-a", l.id)) s += "\n  h " + h.kind + " " + h.to;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("batch size and backend do not change what an ingest leaves behind") {
  const auto lines = make_events(11);
  const auto text = join(lines);
  auto clock = std::make_shared<ManualClock>(T("2026-11-26T12:00:00Z"));

  auto reference = open_runtime("memory:", clock);
  IngestOptions one;
  one.batch_size = 1;
  std::istringstream in1(text);
  const auto r1 = reference->calls().ingest_jsonl(in1, one);
  CHECK(r1.applied > 600);
  CHECK(r1.duplicates > 0);
  CHECK(r1.rejected > 0);
  const auto expected = snapshot(*reference);

  // The same events one by one through process_event.
  {
    auto rt = open_runtime("memory:", clock);
    std::int64_t applied = 0;
    for (const auto& l : lines) {
      CallEvent e;
      try {
        e = from_json<CallEvent>(l);
      } catch (const Error&) {
        continue;
      }
      if (rt->calls().process_event(e).kind == ProcessResult::Kind::Applied) ++applied;
    }
    CHECK(applied == r1.applied);
    const auto got = snapshot(*rt);
    INFO(first_difference(got, expected));
    CHECK(got == expected);
  }

  // 300 and 10000 span several of the reader's 256-line pieces in one transaction.
  for (int batch : {7, 100, 300, 10000}) {
    for (const std::string storage : {"memory:", "sqlite"}) {
      CAPTURE(batch);
      CAPTURE(storage);
      std::string uri = storage;
      test::TempPath path("batch");
      if (storage == "sqlite") uri = "sqlite:" + path.str();
      auto rt = open_runtime(uri, clock);
      IngestOptions o;
      o.batch_size = batch;
      std::istringstream in(text);
      const auto r = rt->calls().ingest_jsonl(in, o);
      CHECK(r.events == r1.events);
      CHECK(r.applied == r1.applied);
      CHECK(r.duplicates == r1.duplicates);
      CHECK(r.rejected == r1.rejected);
      const auto got = snapshot(*rt);
      INFO(first_difference(got, expected));
      CHECK(got == expected);
      // Again: nothing new.
      std::istringstream again(text);
      const auto r2 = rt->calls().ingest_jsonl(again, o);
      CHECK(r2.applied == 0);
      CHECK(r2.duplicates == r1.applied + r1.duplicates);
      CHECK(snapshot(*rt) == expected);
    }
  }
}

namespace {

// An ingest's report without its time: counts, reasons and the rejected lines.
std::string report_text(const IngestReport& r) {
  std::string s = "events " + std::to_string(r.events) + " duplicates " + std::to_string(r.duplicates) +
                  " applied " + std::to_string(r.applied) + " rejected " + std::to_string(r.rejected) +
                  (r.rejected_lines_truncated ? " truncated" : "") + "\n";
  for (const auto& [reason, n] : r.rejected_by_reason) s += "  " + reason + " " + std::to_string(n) + "\n";
  for (const auto& l : r.rejected_lines) s += "  line " + std::to_string(l.line) + " " + l.reason + "\n";
  return s;
}

std::string dashboard_of(Runtime& rt) {
  AnalyticsQuery q;
  q.gym_id = "gym-a";
  q.from = "2026-10-01";
  q.to = "2026-11-30";
  return dashboard_json(rt.analytics().dashboard(q));
}

}  // namespace

// The ingest reads and writes a window of events in a few statements (one
// per kind of read or write on PostgreSQL, loops on the other backends):
// every backend must end with the same report, calls, leads, history and
// dashboard, whatever splits the batches.
TEST_CASE("the same calls file ingests alike on every backend") {
  auto lines = make_events(23);
  // Unknown leads, an unknown gym, a call claimed by a second lead, an
  // outcome without a person, and a do-not-call request whose events come
  // ended first, then started, then the started event again.
  auto head = [](const std::string& event, const std::string& call, const std::string& lead) {
    return "{\"event_id\":\"" + event + "\",\"call_id\":\"" + call + "\",\"gym_id\":\"gym-a\",\"lead_external_id\":\"" +
           lead + "\",\"started_at\":\"2026-11-20T15:00:00Z\"";
  };
  lines.insert(lines.begin() + 5, head("X1", "CX1", "L999") + ",\"status\":\"in_progress\"}");
  lines.insert(lines.begin() + 9, head("X2", "CX1", "L998") + ",\"status\":\"completed\"}");
  lines.insert(lines.begin() + 13,
               "{\"event_id\":\"X3\",\"call_id\":\"CX3\",\"gym_id\":\"gym-zz\",\"lead_external_id\":\"L1\","
               "\"started_at\":\"2026-11-20T15:00:00Z\"}");
  lines.push_back(head("X4", "C0", "L39") + ",\"status\":\"completed\"}");
  lines.push_back(head("X5", "CX5", "L7") +
                  ",\"ended_at\":\"2026-11-20T15:02:00Z\",\"status\":\"completed\",\"answered_by\":\"machine\"}");
  lines.push_back(head("X6", "CX5", "L7") + ",\"outcome\":\"interested\"}");
  lines.push_back(head("X7", "CX7", "L3") +
                  ",\"ended_at\":\"2026-11-20T15:03:00Z\",\"status\":\"completed\",\"answered_by\":\"human\","
                  "\"outcome\":\"do_not_call\"}");
  lines.push_back(head("X8", "CX7", "L3") + ",\"status\":\"in_progress\"}");
  lines.push_back(head("X8", "CX7", "L3") + ",\"status\":\"in_progress\"}");
  lines.push_back(head("X9", "CX7", "L3") + ",\"status\":\"ringing\"}");
  lines.push_back("not json");
  // Events naming their lead by its id (each runtime's own: {{L…}} is replaced below).
  for (int i : {4, 11, 26}) {
    const std::string lead = "L" + std::to_string(i);
    const std::string call = "CY" + std::to_string(i);
    auto by_id = [&](const std::string& event) {
      return "{\"event_id\":\"" + event + "\",\"call_id\":\"" + call +
             "\",\"gym_id\":\"gym-a\",\"lead_id\":\"{{" + lead + "}}\",\"started_at\":\"2026-11-21T15:00:00Z\"";
    };
    const auto at = static_cast<std::ptrdiff_t>(lines.size() * static_cast<std::size_t>(i) / 30);
    lines.insert(lines.begin() + at, by_id("Y" + std::to_string(i)) + ",\"status\":\"ringing\"}");
    lines.push_back(by_id("Z" + std::to_string(i)) +
                    ",\"ended_at\":\"2026-11-21T15:04:00Z\",\"status\":\"completed\",\"answered_by\":\"human\","
                    "\"outcome\":\"interested\"}");
  }
  lines.push_back("{\"event_id\":\"Y99\",\"call_id\":\"CY99\",\"gym_id\":\"gym-a\",\"lead_id\":\"ld_none\","
                  "\"started_at\":\"2026-11-21T15:00:00Z\"}");
  const auto file = join(lines);
  // The file with each {{L…}} replaced by the id of the runtime's lead with that external id.
  auto text_for = [&](Runtime& rt) {
    std::string text = file;
    for (std::size_t at = text.find("{{"); at != std::string::npos; at = text.find("{{", at)) {
      const auto end = text.find("}}", at);
      LeadFilter f;
      f.page_size = 100;
      std::string id;
      for (const auto& l : rt.leads().list_leads("gym-a", f).items)
        if (l.external_id == text.substr(at + 2, end - at - 2)) id = l.id;
      REQUIRE(!id.empty());
      text.replace(at, end + 2 - at, id);
    }
    return text;
  };
  auto clock = std::make_shared<ManualClock>(T("2026-11-26T12:00:00Z"));

  std::vector<std::string> backends{"memory", "sqlite"};
#ifdef GYMDASH_TEST_WITH_POSTGRES
  if (!test::postgres_test_uri().empty()) backends.push_back("postgres");
#endif
  for (int batch : {7, 300}) {
    std::string expected_report, expected_again, expected_dashboard;
    std::vector<std::string> expected;
    for (const auto& backend : backends) {
      CAPTURE(batch);
      CAPTURE(backend);
      test::TempPath path("alike");
      std::string uri = "memory:";
      if (backend == "sqlite") uri = "sqlite:" + path.str();
#ifdef GYMDASH_TEST_WITH_POSTGRES
      std::optional<test::PostgresBackend> pg;
      if (backend == "postgres") {
        pg.emplace();
        uri = test::postgres_uri_in_schema(pg->uri, pg->schema);
      }
#endif
      auto rt = open_runtime(uri, clock);
      IngestOptions o;
      o.batch_size = batch;
      const auto text = text_for(*rt);
      std::istringstream in(text);
      const auto r = rt->calls().ingest_jsonl(in, o);
      CHECK(r.applied > 600);
      CHECK(r.duplicates > 10);
      CHECK(r.rejected_by_reason.at("unknown_lead") == 3);
      CHECK(r.rejected_by_reason.at("unknown_gym") == 1);
      CHECK(r.rejected_by_reason.at("outcome_without_person") == 1);
      CHECK(r.rejected_by_reason.count("bad_json") == 1);
      const auto l3 = rt->leads().list_leads("gym-a", [] {
        LeadFilter f;
        f.page_size = 100;
        return f;
      }());
      const auto dnc = std::count_if(l3.items.begin(), l3.items.end(), [](const Lead& l) { return l.do_not_call; });
      CHECK(dnc >= 1);
      const auto got = snapshot(*rt);
      const auto dashboard = dashboard_of(*rt);
      // Again: every event a duplicate or a rejection, nothing changes.
      std::istringstream again(text);
      const auto r2 = rt->calls().ingest_jsonl(again, o);
      CHECK(r2.applied == 0);
      CHECK(r2.duplicates == r.applied + r.duplicates);
      CHECK(snapshot(*rt) == got);
      if (expected.empty()) {
        expected = got;
        expected_report = report_text(r);
        expected_again = report_text(r2);
        expected_dashboard = dashboard;
        continue;
      }
      CHECK(report_text(r) == expected_report);
      CHECK(report_text(r2) == expected_again);
      INFO(first_difference(got, expected));
      CHECK(got == expected);
      CHECK(dashboard == expected_dashboard);
    }
  }
}

TEST_CASE("update_leads_after_calls equals one update_lead_after_call per result") {
  auto clock = std::make_shared<ManualClock>(T("2026-11-26T12:00:00Z"));
  auto a = open_runtime("memory:", clock);
  auto b = open_runtime("memory:", clock);
  LeadFilter f;
  f.page_size = 100;
  const auto leads_a = a->leads().list_leads("gym-a", f).items;
  const auto leads_b = b->leads().list_leads("gym-a", f).items;
  std::vector<LeadCallResults> batch;
  for (std::size_t i = 0; i < 5; ++i) {
    LeadCallResults item;
    item.lead_id = leads_b[i].id;
    for (int k = 0; k < 3; ++k) {
      CallResult r;
      r.call_id = "call-" + std::to_string(i) + "-" + std::to_string(k);
      r.started_at = T("2026-11-20T15:00:00Z") + std::chrono::hours(3 - k);  // newest first
      r.status = CallStatus::Completed;
      r.answered_by = AnsweredBy::Human;
      if (k == 0) r.outcome = CallOutcome::TrialBooked;
      item.results.push_back(r);
      a->leads().update_lead_after_call("gym-a", leads_a[i].id, r);
    }
    batch.push_back(item);
  }
  const auto after = b->leads().update_leads_after_calls("gym-a", batch);
  REQUIRE(after.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    const auto x = a->leads().get_lead("gym-a", leads_a[i].id);
    CHECK(after[i].status == LeadStatus::TrialBooked);
    CHECK(after[i].status == x.status);
    CHECK(after[i].attempts == 3);
    CHECK(after[i].last_call_at == x.last_call_at);
    CHECK(b->leads().get_lead("gym-a", after[i].id) == after[i]);
    // Each result a step of its own: the same history as one call at a time.
    const auto entries = [](const std::vector<LeadEvent>& history) {
      std::vector<std::string> out;
      for (const auto& e : history) out.push_back(e.kind + "|" + e.from + "|" + e.to + "|" + e.actor + "|" + e.reason);
      return out;
    };
    CHECK(entries(b->leads().get_history("gym-a", after[i].id)) ==
          entries(a->leads().get_history("gym-a", leads_a[i].id)));
  }
  // A bad result anywhere: nothing written.
  auto bad = batch;
  bad.back().results.back().ended_at = bad.back().results.back().started_at - 1s;
  const auto before = b->leads().get_lead("gym-a", batch.front().lead_id);
  CHECK_THROWS_AS(b->leads().update_leads_after_calls("gym-a", bad), InvalidArgumentError);
  bad = batch;
  bad.back().lead_id = "ld_missing";
  CHECK_THROWS_AS(b->leads().update_leads_after_calls("gym-a", bad), NotFoundError);
  CHECK(b->leads().get_lead("gym-a", batch.front().lead_id) == before);
}

TEST_CASE("opt-out phrases: the lead's words count, the agent's do not") {
  using opt_out::asks_not_to_be_called;
  CHECK(asks_not_to_be_called("Please stop calling me."));
  CHECK(asks_not_to_be_called("User: hi\nUser: Take me OFF your list, thanks"));
  CHECK(asks_not_to_be_called("Agent: Hello!\nUser: Don\xE2\x80\x99t call me again."));
  CHECK(asks_not_to_be_called("Customer: ok\n  i said never call me again\nAgent: sorry"));
  CHECK_FALSE(asks_not_to_be_called("Agent: If you want, I can stop calling you. Say stop calling me.\nUser: no thanks"));
  CHECK_FALSE(asks_not_to_be_called("User: I'll stop calling my gym, it's bad"));
  CHECK_FALSE(asks_not_to_be_called(""));
  CHECK(asks_not_to_be_called("I said: remove my number"));
  // Literal on purpose (docs/calls.md): a phrase inside a question still counts.
  CHECK(asks_not_to_be_called("User: do not call again before five?"));
  CHECK(opt_out::phrases().size() >= 3);
}

TEST_CASE("a transcript with an opt-out phrase marks the lead do-not-call") {
  auto clock = std::make_shared<ManualClock>(T("2026-11-26T12:00:00Z"));
  auto rt = open_runtime("memory:", clock);
  const auto json = [](const std::string& ev, const std::string& call, const std::string& lead,
                       const std::string& transcript) {
    boost::json::object o{{"event_id", ev},          {"call_id", call},
                          {"gym_id", "gym-a"},       {"lead_external_id", lead},
                          {"started_at", "2026-11-20T15:00:00Z"},
                          {"ended_at", "2026-11-20T15:02:00Z"},
                          {"status", "completed"},   {"answered_by", "human"},
                          {"outcome", "not_interested"},
                          {"transcript", transcript}};
    return from_json<CallEvent>(boost::json::serialize(o));
  };
  rt->calls().process_event(json("E1", "C1", "L1", "Agent: Hi!\nUser: Please take me off your list."));
  rt->calls().process_event(json("E2", "C2", "L2", "Agent: Shall I stop calling you?\nUser: no, it's fine"));
  const auto l1 = rt->store().leads().find_by_external_id("gym-a", "L1");
  const auto l2 = rt->store().leads().find_by_external_id("gym-a", "L2");
  REQUIRE(l1);
  REQUIRE(l2);
  CHECK(l1->do_not_call);
  CHECK_FALSE(l2->do_not_call);
  const auto decision = rt->leads().explain("gym-a", l1->id, T("2026-11-23T16:00:00Z"));
  CHECK_FALSE(decision.dialable);
  // The history says why.
  bool recorded = false;
  for (const auto& h : rt->leads().get_history("gym-a", l1->id)) recorded |= h.kind == "dnc";
  CHECK(recorded);
}

TEST_CASE("sqlite keeps a call's provider, end reason, recording and transcript; limits are enforced") {
  auto clock = std::make_shared<ManualClock>(T("2026-11-26T12:00:00Z"));
  test::TempPath path("call-fields");
  auto rt = open_runtime("sqlite:" + path.str(), clock);
  boost::json::object o{{"event_id", "E1"},
                        {"call_id", "C1"},
                        {"gym_id", "gym-a"},
                        {"lead_external_id", "L3"},
                        {"started_at", "2026-11-20T15:00:00Z"},
                        {"ended_at", "2026-11-20T15:02:00Z"},
                        {"status", "completed"},
                        {"answered_by", "human"},
                        {"provider", "retell"},
                        {"end_reason", "user_hangup"},
                        {"campaign_id", "cmp-1"},
                        {"recording_url", "https://example.test/r/C1.wav"},
                        {"recording_duration_s", 118},
                        {"recording_channels", 2},
                        {"recording_consent", true},
                        {"transcript", "Agent: Hello\nUser: Hi"}};
  const auto stored = rt->calls().process_event(from_json<CallEvent>(boost::json::serialize(o))).call;
  const auto back = rt->calls().get_call("gym-a", "C1");
  CHECK(back == stored);
  CHECK(back.provider == "retell");
  CHECK(back.end_reason == "user_hangup");
  CHECK(back.campaign_id == "cmp-1");
  CHECK(back.recording_duration_s == 118);
  CHECK(back.recording_channels == 2);
  CHECK(back.recording_consent == true);
  CHECK(back.transcript == "Agent: Hello\nUser: Hi");
  CHECK(from_json<Call>(to_json(back)) == back);

  // Over the transcript limit: rejected, nothing written.
  o["event_id"] = "E2";
  o["call_id"] = "C2";
  o["transcript"] = std::string((1 << 20) + 1, 'a');
  std::istringstream in(boost::json::serialize(o) + "\n");
  const auto r = rt->calls().ingest_jsonl(in);
  CHECK(r.rejected == 1);
  CHECK(r.rejected_by_reason.at("too_long") == 1);
  CHECK_THROWS_AS(rt->calls().get_call("gym-a", "C2"), NotFoundError);
  o["transcript"] = "";
  o["recording_channels"] = 3;
  CHECK_THROWS_AS(from_json<CallEvent>(boost::json::serialize(o)), InvalidArgumentError);
}

#ifdef GYMDASH_TEST_WITH_POSTGRES
// On PostgreSQL a window's event ids are recorded in a savepoint: an id
// another host recorded after the window read them makes that event a
// duplicate, the window's merges are undone and it is applied again without
// it. Here a trigger plays the other host: when the ingest records event E5,
// the trigger first has another connection record and commit it (for a call
// of its own, through dblink), so that the ingest's insert finds it taken.
// The ingest must then leave exactly what the file without E5 leaves, count
// E5 a duplicate, and leave the other host's record of it as it was.
TEST_CASE("postgres: an event id another host records meanwhile makes its event a duplicate, the window applied again") {
  if (test::postgres_test_uri().empty()) return;
  const auto lines = make_events(31);
  std::vector<std::string> without;
  for (const auto& l : lines)
    if (l.find("\"event_id\":\"E5\"") == std::string::npos) without.push_back(l);
  REQUIRE(without.size() + 1 == lines.size());
  auto clock = std::make_shared<ManualClock>(T("2026-11-26T12:00:00Z"));
  IngestOptions o;
  o.batch_size = 300;

  auto reference = open_runtime("memory:", clock);
  std::istringstream ref_in(join(without));
  const auto ref = reference->calls().ingest_jsonl(ref_in, o);

  test::PostgresBackend pg;
  auto rt = open_runtime(test::postgres_uri_in_schema(pg.uri, pg.schema), clock);
  const std::string s = "\"" + pg.schema + "\"";
  test::postgres_exec(pg.uri,
                      "CREATE EXTENSION dblink SCHEMA " + s + "; "
                      "CREATE FUNCTION " + s + ".other_host() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                      "IF NEW.event_id = 'E5' AND NEW.call_id <> 'call-of-the-other-host' AND NOT EXISTS (SELECT 1 FROM " + s + ".call_events c WHERE "
                      "c.gym_id = NEW.gym_id AND c.event_id = NEW.event_id) THEN PERFORM " + s + ".dblink_exec('" +
                      pg.uri + "', format('INSERT INTO " + pg.schema + ".call_events (gym_id, event_id, call_id, "
                      "received_at) VALUES (%L, %L, ''call-of-the-other-host'', 0)', NEW.gym_id, NEW.event_id)); "
                      "END IF; RETURN NEW; END $$; "
                      "CREATE TRIGGER other_host BEFORE INSERT ON " + s +
                      ".call_events FOR EACH ROW EXECUTE FUNCTION " + s + ".other_host()");
  std::istringstream in(join(lines));
  const auto r = rt->calls().ingest_jsonl(in, o);
  CHECK(r.events == ref.events + 1);
  CHECK(r.duplicates == ref.duplicates + 1);
  CHECK(r.applied == ref.applied);
  CHECK(r.rejected == ref.rejected);
  CHECK(test::postgres_value(pg.uri, "SELECT call_id FROM " + s + ".call_events WHERE event_id = 'E5'") ==
        "call-of-the-other-host");
  const auto got = snapshot(*rt);
  const auto expected = snapshot(*reference);
  INFO(first_difference(got, expected));
  CHECK(got == expected);
}
#endif

#ifdef GYMDASH_TEST_WITH_POSTGRES
namespace {
// `calls` calls, each reported started then ended (two lines), ten minutes
// apart from 2 Nov 2026 14:00; call k is of the lead with external id
// lead_of(k).
std::vector<std::string> started_and_ended(int calls, std::string (*lead_of)(int)) {
  std::vector<std::string> lines;
  for (int call = 0; call < calls; ++call) {
    const std::string started = format_timestamp(T("2026-11-02T14:00:00Z") + std::chrono::minutes(10 * call));
    const std::string ended = format_timestamp(T("2026-11-02T14:01:00Z") + std::chrono::minutes(10 * call));
    const std::string head = "{\"call_id\":\"K" + std::to_string(call) +
                             "\",\"gym_id\":\"gym-a\",\"lead_external_id\":\"" + lead_of(call) +
                             "\",\"started_at\":\"" + started + "\"";
    lines.push_back(head + ",\"event_id\":\"S" + std::to_string(call) + "\",\"status\":\"in_progress\"}");
    lines.push_back(head + ",\"event_id\":\"F" + std::to_string(call) + "\",\"ended_at\":\"" + ended +
                    "\",\"status\":\"no-answer\",\"answered_by\":\"unknown\"}");
  }
  return lines;
}

// Another host on the same database, whose gym and leads the first one made.
std::unique_ptr<Runtime> second_host(const std::string& uri, std::shared_ptr<ManualClock> clock) {
  RuntimeOptions o;
  o.storage = uri;
  o.clock = std::move(clock);
  o.worker_threads = 1;
  o.log_level = LogLevel::Warn;
  return Runtime::open(o);
}

// The events applied one by one in memory (what the hosts must end with),
// and two hosts on one fresh PostgreSQL schema, its gym and leads made by `a`.
struct TwoHosts {
  test::PostgresBackend pg;  // first: dropped after the hosts are closed
  std::unique_ptr<Runtime> reference, a, b;
  TwoHosts(const std::vector<std::string>& lines, const std::shared_ptr<ManualClock>& clock) {
    reference = open_runtime("memory:", clock);
    for (const auto& l : lines) reference->calls().process_event(from_json<CallEvent>(l));
    const std::string uri = test::postgres_uri_in_schema(pg.uri, pg.schema);
    a = open_runtime(uri, clock);
    b = second_host(uri, clock);
  }
};
}  // namespace
#endif

#ifdef GYMDASH_TEST_WITH_POSTGRES
// Two hosts process the events of one lead's calls at the same moment
// (process_event, as their webhooks arrive): a host whose lead write finds
// the lead changed by the other runs its transaction again, so every event
// is applied and the lead ends as if the events had come one by one.
TEST_CASE("postgres: two hosts processing one lead's events at once both succeed, the lead as if one by one") {
  if (test::postgres_test_uri().empty()) return;
  auto clock = std::make_shared<ManualClock>(T("2026-11-26T12:00:00Z"));
  // 40 calls of lead L1; host A takes the even calls, host B the odd ones.
  const auto lines = started_and_ended(40, [](int) { return std::string("L1"); });
  TwoHosts hosts(lines, clock);
  auto& a = hosts.a;
  auto& b = hosts.b;
  std::atomic<int> failures{0};
  std::string failure;
  std::mutex failure_mutex;
  auto host = [&](Runtime& rt, int parity) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (static_cast<int>(i / 2) % 2 != parity) continue;
      try {
        rt.calls().process_event(from_json<CallEvent>(lines[i]));
      } catch (const std::exception& e) {
        ++failures;
        std::lock_guard lock(failure_mutex);
        failure = e.what();
      }
    }
  };
  std::thread host_a(host, std::ref(*a), 0);
  std::thread host_b(host, std::ref(*b), 1);
  host_a.join();
  host_b.join();
  INFO(failure);
  CHECK(failures.load() == 0);
  const auto got = snapshot(*a);
  const auto expected = snapshot(*hosts.reference);
  INFO(first_difference(got, expected));
  CHECK(got == expected);
}
#endif

#ifdef GYMDASH_TEST_WITH_POSTGRES
// An ingest on one host while another host applies events of the same leads:
// an ingest transaction whose lead write finds a lead changed meanwhile is
// run again from its first line, so the ingest completes and the leads end
// as if every event had come one by one.
TEST_CASE("postgres: an ingest whose leads another host changes meanwhile runs its transactions again") {
  if (test::postgres_test_uri().empty()) return;
  auto clock = std::make_shared<ManualClock>(T("2026-11-26T12:00:00Z"));
  // 60 calls of leads L1 and L2; the ingest takes the even calls, in
  // transactions of 4 events, while another host applies the odd ones one by one.
  const auto lines = started_and_ended(60, [](int call) { return "L" + std::to_string(1 + (call / 2) % 2); });
  TwoHosts hosts(lines, clock);
  auto& a = hosts.a;
  auto& b = hosts.b;
  std::string ingested, failure;
  std::int64_t mine = 0;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if ((i / 2) % 2 == 0) {
      ingested += lines[i] + "\n";
      ++mine;
    }
  std::atomic<int> failures{0};
  std::optional<IngestReport> report;
  std::thread ingest([&] {
    try {
      std::istringstream in(ingested);
      IngestOptions options;
      options.batch_size = 4;
      report = a->calls().ingest_jsonl(in, options);
    } catch (const std::exception& e) {
      ++failures;
      failure = std::string("ingest: ") + e.what();
    }
  });
  std::thread other([&] {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if ((i / 2) % 2 == 0) continue;
      try {
        b->calls().process_event(from_json<CallEvent>(lines[i]));
      } catch (const std::exception&) {
        ++failures;
      }
    }
  });
  ingest.join();
  other.join();
  INFO(failure);
  CHECK(failures.load() == 0);
  REQUIRE(report);
  CHECK(report->events == mine);
  CHECK(report->applied == mine);
  CHECK(report->rejected == 0);
  const auto got = snapshot(*a);
  const auto expected = snapshot(*hosts.reference);
  INFO(first_difference(got, expected));
  CHECK(got == expected);
}
#endif
