// The PostgreSQL server restarts while a host writes (docs/operations.md,
// "Running several hosts"): leads are created one by one, each acknowledged
// when create_lead returns, while the test cluster is stopped, left down for
// a moment and started again (scripts/pg-cluster.sh restart). Every write
// during the outage fails with UnavailableError and nothing else, the pool
// connects again by itself, the writes go on, and every acknowledged lead is
// stored afterwards. Runs only with the test cluster of scripts/test.sh
// (GYMDASH_TEST_POSTGRES_URI and GYMDASH_TEST_POSTGRES_DIR), alone (ctest
// RUN_SERIAL: the other tests share that server).

#include <doctest/doctest.h>

#include <gymdash/gymdash.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#ifdef GYMDASH_TEST_WITH_POSTGRES

#include "postgres_backend.hpp"

using namespace gymdash;

TEST_CASE("postgres: a server restart during writes: unavailable meanwhile, then resumed, nothing acknowledged lost") {
  const std::string uri = test::postgres_test_uri();
  const char* dir = std::getenv("GYMDASH_TEST_POSTGRES_DIR");
  const char* script = std::getenv("GYMDASH_PG_CLUSTER");
  if (uri.empty() || !dir || !*dir || !script || !*script) {
    MESSAGE("GYMDASH_TEST_POSTGRES_URI, GYMDASH_TEST_POSTGRES_DIR or GYMDASH_PG_CLUSTER is not set (scripts/test.sh "
            "sets them for its own cluster): skipped");
    return;
  }
  test::PostgresBackend backend;
  PostgresOptions options;
  options.uri = uri;
  options.schema = backend.schema;
  options.pool_size = 3;
  options.pool_wait_ms = 2000;
  auto store = make_postgres_store(options);
  auto clock = std::make_shared<ManualClock>(parse_timestamp("2026-03-02T15:00:00Z"));
  auto gyms = make_gym_service(*store, clock);
  auto leads = make_lead_service(*store, clock);
  Gym g;
  g.id = "gym-1";
  g.name = "Gym";
  g.timezone = "America/New_York";
  gyms->create_gym(g);

  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::atomic<int> unavailable{0};
  std::mutex mutex;
  std::vector<std::string> acked_ids;  // guarded by mutex
  std::vector<std::string> other_errors;  // guarded by mutex
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      LeadInput in;
      char number[32];
      std::snprintf(number, sizeof number, "+1212555%04d", i % 10000);
      in.phone = number;
      in.first_name = "Lead";
      in.source = "web_form";
      in.consent = Consent{true, clock->now(), "web_form", "form"};
      try {
        const auto r = leads->create_lead(g.id, in);
        std::lock_guard lock(mutex);
        if (!r.merged) acked_ids.push_back(r.lead.id);
        ++acked;
      } catch (const UnavailableError&) {
        ++unavailable;
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        other_errors.push_back(e.what());
      }
    }
  });
  const auto wait_for_acks = [&](int n) {
    for (int k = 0; k < 3000 && acked.load() < n; ++k) std::this_thread::sleep_for(std::chrono::milliseconds{5});
    return acked.load() >= n;
  };
  const bool before = wait_for_acks(20);
  // Stopped (fast: open sessions are ended), down for half a second, started on the same port.
  const std::string command = std::string("bash '") + script + "' restart '" + dir + "' 0.5";
  const int restarted = std::system(command.c_str());
  const int acked_at_restart = acked.load();
  const bool after = wait_for_acks(acked_at_restart + 20);
  stop = true;
  writer.join();

  CHECK(before);
  REQUIRE(restarted == 0);
  CHECK_MESSAGE(after, "the writes did not resume after the restart");
  {
    std::lock_guard lock(mutex);
    for (const auto& e : other_errors) FAIL_CHECK("not an UnavailableError: " << e);
  }
  CHECK_MESSAGE(unavailable.load() > 0, "no write saw the outage");
  MESSAGE("acknowledged " << acked.load() << ", unavailable " << unavailable.load());
  // Every acknowledged lead is there, through a store opened afresh.
  auto reopened = make_postgres_store(options);
  int missing = 0;
  for (const auto& id : acked_ids)
    if (!reopened->leads().find(g.id, id)) ++missing;
  CHECK(missing == 0);
}

#else

TEST_CASE("postgres: a server restart during writes (built without PostgreSQL: skipped)") {
  MESSAGE("built without the PostgreSQL backend: skipped");
}

#endif
