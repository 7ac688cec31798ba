// The gym cache: a change through the library is used by the very next decision.
#include <gymdash/gymdash.hpp>

#include "test_util.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace gymdash;

namespace {
std::unique_ptr<Runtime> open_runtime(const std::string& db, int ttl_ms) {
  Config c;
  c.storage = "sqlite:" + db;
  c.logging.sink = "none";
  c.cache.gym_ttl_ms = ttl_ms;
  return Runtime::open(c);
}
}  // namespace

TEST_CASE("changing a gym's hours changes the next decision") {
  test::TempPath db("cache");
  auto rt = open_runtime(db.str(), 60'000);
  Gym g;
  g.id = "gym-a";
  g.name = "A";
  g.timezone = "America/New_York";
  g.call_hours = {8 * 60, 21 * 60};
  rt->gyms().create_gym(g);
  LeadInput in;
  in.phone = "(212) 736-5000";
  in.consent = Consent{true, std::nullopt, "web_form", ""};
  const auto lead = rt->leads().create_lead("gym-a", in).lead;
  const auto at = parse_timestamp("2026-11-02T15:00:00Z");  // 10:00 in New York
  CHECK(rt->leads().explain("gym-a", lead.id, at).dialable);
  CHECK(rt->leads().get_prioritized_leads("gym-a", 10, std::nullopt, {}, at).size() == 1);

  g = rt->gyms().get_gym("gym-a");
  g.call_hours = {12 * 60, 18 * 60};
  rt->gyms().update_gym(g);
  CHECK(rt->leads().explain("gym-a", lead.id, at).reasons == std::vector<std::string>{"outside_gym_hours"});
  CHECK(rt->leads().get_prioritized_leads("gym-a", 10, std::nullopt, {}, at).empty());

  g.call_hours = {8 * 60, 21 * 60};
  g.call_days = 0x7e;  // not Monday
  rt->gyms().update_gym(g);
  CHECK(rt->leads().explain("gym-a", lead.id, at).reasons == std::vector<std::string>{"gym_closed_day"});

  // A failed update changes nothing the next decision sees.
  g.timezone = "Nowhere/Else";
  CHECK_THROWS_AS(rt->gyms().update_gym(g), InvalidArgumentError);
  CHECK(rt->gyms().get_gym("gym-a").timezone == "America/New_York");
}

TEST_CASE("another process's change is seen once the entry expires") {
  test::TempPath db("cache-ttl");
  auto first = open_runtime(db.str(), 20);
  Gym g;
  g.id = "gym-a";
  g.name = "A";
  g.timezone = "America/New_York";
  first->gyms().create_gym(g);
  CHECK(first->gyms().get_gym("gym-a").name == "A");
  auto second = open_runtime(db.str(), 20);
  g.name = "Renamed elsewhere";
  second->gyms().update_gym(g);
  std::this_thread::sleep_for(std::chrono::milliseconds{40});
  CHECK(first->gyms().get_gym("gym-a").name == "Renamed elsewhere");
  auto uncached = open_runtime(db.str(), 0);
  g.name = "Again";
  second->gyms().update_gym(g);
  CHECK(uncached->gyms().get_gym("gym-a").name == "Again");
}
