// The storage conformance cases of calls and call events, instantiated for
// every backend (the same pattern as store_conformance_test.cpp).

#include <doctest/doctest.h>

#include <gymdash/error.hpp>
#include <gymdash/store.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.hpp"
#ifdef GYMDASH_TEST_WITH_POSTGRES
#include "postgres_backend.hpp"
#endif

namespace gymdash {
namespace {

struct MemoryBackend {
  std::unique_ptr<Store> open() { return make_memory_store(); }
};

struct SqliteBackend {
  test::TempPath path{"call-store-conformance"};
  std::unique_ptr<Store> open() {
    SqliteOptions options;
    options.path = path.str();
    return make_sqlite_store(options);
  }
};

// Every backend, PostgreSQL included when the tests are built with it
// (tests/postgres_backend.hpp).
#ifdef GYMDASH_TEST_WITH_POSTGRES
using test::PostgresBackend;
#define GYMDASH_ALL_BACKENDS MemoryBackend, SqliteBackend, PostgresBackend
#else
#define GYMDASH_ALL_BACKENDS MemoryBackend, SqliteBackend
#endif

Timestamp at_ms(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }
constexpr std::int64_t kT0 = 1'760'000'000'000;

template <class Backend>
struct Fixture {
  Backend backend;
  std::unique_ptr<Store> store = backend.open();
  CallRepository& calls() { return store->calls(); }
  Fixture() {
    for (const char* id : {"gym-a", "gym-b"}) {
      Gym g;
      g.id = id;
      g.timezone = "America/New_York";
      store->gyms().insert(g);
    }
  }
};

Call make_call(std::string id, std::string gym, std::string lead, std::int64_t started_ms) {
  Call c;
  c.id = id;
  c.provider_call_id = "P-" + id;
  c.gym_id = std::move(gym);
  c.lead_id = std::move(lead);
  c.started_at = at_ms(started_ms);
  c.status = CallStatus::Completed;
  c.answered_by = AnsweredBy::Human;
  c.created_at = at_ms(kT0);
  c.updated_at = at_ms(kT0);
  return c;
}

TEST_CASE_TEMPLATE("calls: every field round-trips", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  Call c = make_call("call_1", "gym-a", "ld_1", kT0);
  c.direction = CallDirection::Inbound;
  c.to_number = "+12125550123";
  c.from_number = "+12125550100";
  c.ended_at = at_ms(kT0 + 61'000);
  c.duration_s = 61;
  c.outcome = CallOutcome::CallbackRequested;
  c.callback_at = at_ms(kT0 + 86'400'000);
  c.sentiment = "positive";
  c.summary = "said 'call me' — \"tomorrow\" 💪";
  c.transcript = "t";
  c.recording_url = "https://r/1.wav";
  c.cost_usd = 0.0265;
  c.campaign_id = "cmp_1";
  f.calls().put(c);
  CHECK(f.calls().find("gym-a", "call_1") == c);
  CHECK(f.calls().find_by_provider_id("gym-a", "P-call_1") == c);
  // Scoped to the gym.
  CHECK_FALSE(f.calls().find("gym-b", "call_1"));
  CHECK_FALSE(f.calls().find_by_provider_id("gym-b", "P-call_1"));
  // Optional fields come back absent.
  Call bare = make_call("call_2", "gym-a", "ld_1", kT0);
  f.calls().put(bare);
  CHECK(f.calls().find("gym-a", "call_2") == bare);
}

TEST_CASE_TEMPLATE("calls: put replaces; a provider id is unique per gym", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  Call c = make_call("call_1", "gym-a", "ld_1", kT0);
  f.calls().put(c);
  c.status = CallStatus::Busy;
  c.outcome.reset();
  f.calls().put(c);
  CHECK(f.calls().find("gym-a", "call_1")->status == CallStatus::Busy);
  Call other = make_call("call_2", "gym-a", "ld_1", kT0);
  other.provider_call_id = c.provider_call_id;
  CHECK_THROWS_AS(f.calls().put(other), AlreadyExistsError);
  other.gym_id = "gym-b";
  f.calls().put(other);  // another gym may reuse it
  CHECK(f.calls().find_by_provider_id("gym-b", c.provider_call_id)->id == "call_2");
}

TEST_CASE_TEMPLATE("call events: recorded once per gym; a failed transaction forgets them", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  CHECK(f.calls().record_event("gym-a", "E1", "call_1", at_ms(kT0)));
  CHECK_FALSE(f.calls().record_event("gym-a", "E1", "call_1", at_ms(kT0)));
  CHECK(f.calls().has_event("gym-a", "E1"));
  CHECK_FALSE(f.calls().has_event("gym-a", "E2"));
  // Another gym's event ids are its own.
  CHECK_FALSE(f.calls().has_event("gym-b", "E1"));
  CHECK(f.calls().record_event("gym-b", "E1", "call_9", at_ms(kT0)));
  CHECK(f.calls().has_event("gym-b", "E1"));
  CHECK_FALSE(f.calls().record_event("gym-b", "E1", "call_9", at_ms(kT0)));
  CHECK_THROWS_AS(f.store->transact([&] {
    f.calls().record_event("gym-a", "E2", "call_2", at_ms(kT0));
    f.calls().put(make_call("call_2", "gym-a", "ld_1", kT0));
    throw std::runtime_error("abort");
  }),
                  std::runtime_error);
  CHECK_FALSE(f.calls().has_event("gym-a", "E2"));
  CHECK_FALSE(f.calls().find("gym-a", "call_2"));
}

TEST_CASE_TEMPLATE("calls: list filters, newest first, pages; for_lead oldest first", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  for (int i = 0; i < 7; ++i) {
    Call c = make_call("call_" + std::to_string(i), "gym-a", i % 2 ? "ld_odd" : "ld_even", kT0 + i * 1000);
    if (i == 3) {
      c.status = CallStatus::NoAnswer;
      c.answered_by = AnsweredBy::Unknown;
    }
    if (i == 4) c.outcome = CallOutcome::TrialBooked;
    if (i == 5) c.direction = CallDirection::Inbound;
    if (i == 6) c.campaign_id = "cmp";
    f.calls().put(c);
  }
  f.calls().put(make_call("call_b", "gym-b", "ld_even", kT0));
  auto all = f.calls().list("gym-a", CallFilter{});
  CHECK(all.total == 7);
  REQUIRE(all.items.size() == 7);
  CHECK(all.items.front().id == "call_6");
  CHECK(all.items.back().id == "call_0");
  CallFilter page;
  page.page = 2;
  page.page_size = 3;
  auto p2 = f.calls().list("gym-a", page);
  CHECK(p2.total == 7);
  REQUIRE(p2.items.size() == 3);
  CHECK(p2.items[0].id == "call_3");
  page.page = 3;
  CHECK(f.calls().list("gym-a", page).items.size() == 1);
  page.page = 4;
  CHECK(f.calls().list("gym-a", page).items.empty());

  auto count = [&](CallFilter filter) { return f.calls().list("gym-a", filter).total; };
  CallFilter by;
  by.lead_id = "ld_odd";
  CHECK(count(by) == 3);
  by = {};
  by.status = CallStatus::NoAnswer;
  CHECK(count(by) == 1);
  by = {};
  by.outcome = CallOutcome::TrialBooked;
  CHECK(count(by) == 1);
  by = {};
  by.direction = CallDirection::Inbound;
  CHECK(count(by) == 1);
  by = {};
  by.campaign_id = "cmp";
  CHECK(count(by) == 1);
  by = {};
  by.started_from = at_ms(kT0 + 2000);
  by.started_to = at_ms(kT0 + 5000);
  CHECK(count(by) == 3);  // 2, 3, 4: from inclusive, to exclusive
  by.lead_id = "ld_even";
  CHECK(count(by) == 2);

  auto history = f.calls().for_lead("gym-a", "ld_even");
  REQUIRE(history.size() == 4);
  CHECK(history.front().id == "call_0");
  CHECK(history.back().id == "call_6");
  CHECK(f.calls().for_lead("gym-b", "ld_even").size() == 1);
}

TEST_CASE_TEMPLATE("leads: find_by_external_id", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  auto lead = [](std::string id, std::string phone, std::string ext, std::int64_t created) {
    Lead l;
    l.id = std::move(id);
    l.gym_id = "gym-a";
    l.phone = std::move(phone);
    l.external_id = std::move(ext);
    l.created_at = at_ms(created);
    return l;
  };
  f.store->leads().insert(lead("ld_2", "+12125550102", "X-1", kT0 + 10));
  f.store->leads().insert(lead("ld_1", "+12125550101", "X-1", kT0));
  f.store->leads().insert(lead("ld_3", "+12125550103", "", kT0));
  CHECK(f.store->leads().find_by_external_id("gym-a", "X-1")->id == "ld_1");  // the oldest
  CHECK_FALSE(f.store->leads().find_by_external_id("gym-b", "X-1"));
  CHECK_FALSE(f.store->leads().find_by_external_id("gym-a", ""));
  CHECK_FALSE(f.store->leads().find_by_external_id("gym-a", "X-2"));
}

// The batch methods answer what their single-row methods would, including
// for ids with quotes, backslashes, commas and braces (PostgreSQL sends them
// as array literals).
TEST_CASE_TEMPLATE("call events and calls: the batch methods answer as the single-row ones", B,
                   GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  const std::vector<std::string> odd{"E\"1", "E\\2", "E,3", "{E4}", "E 5", "E6"};
  CHECK(f.calls().record_event("gym-a", odd[0], "call_1", at_ms(kT0)));
  std::vector<CallEventRecord> batch;
  for (const auto& id : odd) batch.push_back(CallEventRecord{"gym-a", id, "call_1", at_ms(kT0)});
  batch.push_back(CallEventRecord{"gym-a", odd[1], "call_1", at_ms(kT0)});  // twice in the batch
  batch.push_back(CallEventRecord{"gym-b", odd[0], "call_9", at_ms(kT0)});  // another gym's
  const auto fresh = f.calls().record_events(batch);
  CHECK((fresh == std::vector<bool>{false, true, true, true, true, true, false, true}));
  CHECK(f.calls().record_events({}).empty());
  for (const auto& id : odd) CHECK(f.calls().has_event("gym-a", id));
  std::vector<std::string> asked = odd;
  asked.push_back("E7");
  asked.push_back(odd[2]);
  auto recorded = f.calls().recorded_events("gym-a", asked);
  std::sort(recorded.begin(), recorded.end());
  auto sorted = odd;
  std::sort(sorted.begin(), sorted.end());
  CHECK(recorded == sorted);
  CHECK(f.calls().recorded_events("gym-b", asked) == std::vector<std::string>{odd[0]});
  CHECK(f.calls().recorded_events("gym-a", {}).empty());
  // A batch that fails with its transaction is forgotten.
  CHECK_THROWS_AS(f.store->transact([&] {
    f.calls().record_events(std::vector<CallEventRecord>{{"gym-a", "E8", "call_1", at_ms(kT0)}});
    throw std::runtime_error("abort");
  }),
                  std::runtime_error);
  CHECK_FALSE(f.calls().has_event("gym-a", "E8"));

  // Calls: stored and replaced together, found by provider ids.
  std::vector<Call> calls;
  for (int i = 0; i < 4; ++i) calls.push_back(make_call("call_" + std::to_string(i), "gym-a", "ld_1", kT0 + i));
  calls[1].provider_call_id = "P-\"{a,b}\\";
  calls[2].cost_usd = 0.0265;
  calls[2].summary = "tab\there, line\nthere";
  calls[3].recording_consent = false;
  calls[3].duration_s = 7;
  f.calls().put(calls[0]);
  calls[0].status = CallStatus::Busy;
  f.store->transact([&] { f.calls().put_many(calls); });
  f.calls().put_many({});
  for (const auto& c : calls) CHECK(f.calls().find("gym-a", c.id) == c);
  std::vector<std::string> providers{calls[1].provider_call_id, calls[3].provider_call_id, "P-none"};
  auto found = f.calls().find_by_provider_ids("gym-a", providers);
  std::sort(found.begin(), found.end(), [](const Call& a, const Call& b) { return a.id < b.id; });
  REQUIRE(found.size() == 2);
  CHECK(found[0] == calls[1]);
  CHECK(found[1] == calls[3]);
  CHECK(f.calls().find_by_provider_ids("gym-b", providers).empty());
  // A provider id another call of the gym holds: put()'s error.
  Call clash = make_call("call_9", "gym-a", "ld_1", kT0);
  clash.provider_call_id = calls[2].provider_call_id;
  std::vector<Call> bad{make_call("call_8", "gym-a", "ld_1", kT0), clash};
  CHECK_THROWS_AS(f.store->transact([&] { f.calls().put_many(bad); }), AlreadyExistsError);
  CHECK_FALSE(f.calls().find("gym-a", "call_8"));
}

TEST_CASE_TEMPLATE("leads: the batch reads answer as the single-row ones", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  auto lead = [](std::string id, std::string gym, std::string phone, std::string ext, std::int64_t created) {
    Lead l;
    l.id = std::move(id);
    l.gym_id = std::move(gym);
    l.phone = std::move(phone);
    l.external_id = std::move(ext);
    l.created_at = at_ms(created);
    return l;
  };
  f.store->leads().insert(lead("ld_2", "gym-a", "+12125550102", "X-1", kT0 + 10));
  f.store->leads().insert(lead("ld_1", "gym-a", "+12125550101", "X-1", kT0));
  f.store->leads().insert(lead("ld_3", "gym-a", "+12125550103", "", kT0));
  f.store->leads().insert(lead("ld_4", "gym-a", "+12125550104", "X\"2\\", kT0));
  f.store->leads().insert(lead("ld_5", "gym-b", "+12125550105", "X-1", kT0));
  const std::vector<std::string> ext{"X-1", "", "X\"2\\", "X-3", "X-1"};
  auto by_ext = f.store->leads().find_by_external_ids("gym-a", ext);
  std::sort(by_ext.begin(), by_ext.end(), [](const Lead& a, const Lead& b) { return a.id < b.id; });
  REQUIRE(by_ext.size() == 2);
  CHECK(by_ext[0] == *f.store->leads().find("gym-a", "ld_1"));  // the oldest with X-1
  CHECK(by_ext[1].id == "ld_4");
  const auto in_b = f.store->leads().find_by_external_ids("gym-b", ext);
  REQUIRE(in_b.size() == 1);
  CHECK(in_b[0].id == "ld_5");
  const std::vector<std::string> ids{"ld_3", "ld_5", "ld_1", "ld_9", "ld_3"};
  auto by_id = f.store->leads().find_many("gym-a", ids);
  std::sort(by_id.begin(), by_id.end(), [](const Lead& a, const Lead& b) { return a.id < b.id; });
  REQUIRE(by_id.size() == 2);
  CHECK(by_id[0] == *f.store->leads().find("gym-a", "ld_1"));
  CHECK(by_id[1].id == "ld_3");
  CHECK(f.store->leads().find_many("gym-a", {}).empty());
  const std::vector<std::string> phones{"+12125550103", "+12125550105", "+12125550101", "+12125550199",
                                        "+12125550103"};
  auto by_phone = f.store->leads().find_by_phones("gym-a", phones);
  std::sort(by_phone.begin(), by_phone.end(), [](const Lead& a, const Lead& b) { return a.id < b.id; });
  REQUIRE(by_phone.size() == 2);  // gym-b's number is not gym-a's; each lead once
  CHECK(by_phone[0] == *f.store->leads().find("gym-a", "ld_1"));
  CHECK(by_phone[1] == *f.store->leads().find_by_phone("gym-a", "+12125550103"));
  CHECK(f.store->leads().find_by_phones("gym-b", phones).size() == 1);
  CHECK(f.store->leads().find_by_phones("gym-a", {}).empty());

  CallResult r1;
  r1.call_id = "call_2";
  r1.started_at = at_ms(kT0 + 5);
  r1.status = CallStatus::Completed;
  r1.answered_by = AnsweredBy::Human;
  r1.outcome = CallOutcome::Interested;
  CallResult r2 = r1;
  r2.call_id = "call_1";
  r2.started_at = at_ms(kT0 + 9);
  r2.outcome.reset();
  r2.opted_out = true;
  f.store->leads().put_call_result("gym-a", "ld_1", r2);
  f.store->leads().put_call_result("gym-a", "ld_1", r1);
  f.store->leads().put_call_result("gym-a", "ld_3", r1);
  const std::vector<std::string> of{"ld_3", "ld_2", "ld_1", "ld_5"};
  const auto results = f.store->leads().call_results_many("gym-a", of);
  REQUIRE(results.size() == 4);
  for (std::size_t i = 0; i < of.size(); ++i) {
    CAPTURE(of[i]);
    CHECK(results[i] == f.store->leads().call_results("gym-a", of[i]));
  }
  CHECK(results[2].size() == 2);
  CHECK(results[3].empty());  // another gym's lead
}

TEST_CASE_TEMPLATE("leads: the batch writes store what the single-row ones would", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  auto& leads = f.store->leads();
  for (int i = 1; i <= 3; ++i) {
    Lead l;
    l.id = "ld_" + std::to_string(i);
    l.gym_id = "gym-a";
    l.phone = "+1212555010" + std::to_string(i);
    l.created_at = at_ms(kT0);
    leads.insert(l);
  }
  // Call results: new ones and a replaced one, NULLs among them.
  CallResult a;
  a.call_id = "call_a";
  a.started_at = at_ms(kT0 + 50);
  a.status = CallStatus::InProgress;
  leads.put_call_result("gym-a", "ld_1", a);
  CallResult a2 = a;
  a2.status = CallStatus::Completed;
  a2.answered_by = AnsweredBy::Human;
  a2.ended_at = at_ms(kT0 + 90);
  a2.outcome = CallOutcome::CallbackRequested;
  a2.callback_at = at_ms(kT0 + 86'400'000);
  a2.sentiment = "it's \"fine\"";
  a2.opted_out = true;
  CallResult b;
  b.call_id = "call_b";
  b.started_at = at_ms(kT0 + 10);
  b.status = CallStatus::NoAnswer;
  CallResult c = b;
  c.call_id = "call_c";
  const std::vector<LeadCallResult> results{{"ld_1", a2}, {"ld_1", b}, {"ld_2", c}};
  f.store->transact([&] { leads.put_call_results("gym-a", results); });
  CHECK(leads.call_results("gym-a", "ld_1") == std::vector<CallResult>{b, a2});
  CHECK(leads.call_results("gym-a", "ld_2") == std::vector<CallResult>{c});
  leads.put_call_results("gym-a", {});
  // Another gym's lead: NotFoundError, and nothing of the batch stays.
  const std::vector<LeadCallResult> stray{{"ld_3", a}, {"ld_9", b}};
  CHECK_THROWS_AS(f.store->transact([&] { leads.put_call_results("gym-b", stray); }), NotFoundError);
  CHECK(leads.call_results("gym-a", "ld_3").empty());

  // History: in order, seqs increasing in that order.
  std::vector<LeadEvent> entries;
  for (int i = 0; i < 5; ++i) {
    LeadEvent e;
    e.lead_id = i % 2 == 0 ? "ld_1" : "ld_2";
    e.at = at_ms(kT0 + 100 - i);  // the order is the batch's, not the times'
    e.kind = "status";
    e.from = "f" + std::to_string(i);
    e.to = "t\\" + std::to_string(i);
    e.actor = "call";
    e.reason = "call \"" + std::to_string(i) + "\"";
    entries.push_back(e);
  }
  f.store->transact([&] { leads.append_history_many("gym-a", entries); });
  const auto h1 = leads.history("gym-a", "ld_1");
  const auto h2 = leads.history("gym-a", "ld_2");
  REQUIRE(h1.size() == 3);
  REQUIRE(h2.size() == 2);
  CHECK(h1[0].from == "f0");
  CHECK(h1[1].from == "f2");
  CHECK(h1[2].from == "f4");
  CHECK(h1[2].to == "t\\4");
  CHECK(h1[1].reason == "call \"2\"");
  CHECK(h1[0].at == at_ms(kT0 + 100));
  CHECK(h1[0].seq < h2[0].seq);
  CHECK(h2[0].seq < h1[1].seq);
  CHECK(h2[1].seq < h1[2].seq);
  std::vector<LeadEvent> stray_entries{entries[0], entries[1]};
  stray_entries[1].lead_id = "ld_9";
  CHECK_THROWS_AS(f.store->transact([&] { leads.append_history_many("gym-a", stray_entries); }), NotFoundError);
  CHECK(leads.history("gym-a", "ld_1").size() == 3);

  // Call state: written with the version rule of update_call_state.
  std::vector<Lead> states;
  for (const char* id : {"ld_1", "ld_2", "ld_3"}) {
    Lead l = *leads.find("gym-a", id);
    l.status = LeadStatus::Contacted;
    l.attempts = 2;
    l.connects = 1;
    l.last_call_at = at_ms(kT0 + 90);
    l.callback_at = at_ms(kT0 + 86'400'000);
    l.last_outcome = "callback_requested";
    l.do_not_call = std::string(id) == "ld_2";
    l.recent_calls = {at_ms(kT0 + 50), at_ms(kT0 + 90)};
    l.updated_at = at_ms(kT0 + 1000);
    l.version += 1;
    states.push_back(l);
  }
  f.store->transact([&] { leads.update_call_state_many(states); });
  for (const auto& l : states) CHECK(*leads.find("gym-a", l.id) == l);
  leads.update_call_state_many({});
  // A stale version: ConflictError, and nothing of the batch stays.
  std::vector<Lead> stale = states;
  for (auto& l : stale) {
    l.attempts = 3;
    l.version += 1;
  }
  stale[2].version += 5;
  CHECK_THROWS_AS(f.store->transact([&] { leads.update_call_state_many(stale); }), ConflictError);
  CHECK(leads.find("gym-a", "ld_1")->attempts == 2);
}

}  // namespace
}  // namespace gymdash
