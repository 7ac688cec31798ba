// The storage conformance cases of calls and call events, instantiated for
// every backend (the same pattern as store_conformance_test.cpp).

#include <doctest/doctest.h>

#include <gymdash/error.hpp>
#include <gymdash/store.hpp>

#include <memory>
#include <string>

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

}  // namespace
}  // namespace gymdash
