#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

using namespace gymdash;

namespace {
struct Fixture {
  std::unique_ptr<Store> store = make_memory_store();
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(parse_timestamp("2026-11-01T12:00:00Z"));
  std::unique_ptr<GymService> gyms = make_gym_service(*store, clock);

  static Gym nyc() {
    Gym g;
    g.id = "gym-nyc-01";
    g.name = "Iron Temple Manhattan";
    g.timezone = "America/New_York";
    g.caller_ids = {"(212) 736-5000"};
    return g;
  }
};

std::string field_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InvalidArgumentError& e) {
    return e.field();
  }
  return "<accepted>";
}
}  // namespace

TEST_CASE_FIXTURE(Fixture, "create, get, list, update") {
  auto g = gyms->create_gym(nyc());
  CHECK(g.region == "US");
  CHECK(g.caller_ids == std::vector<std::string>{"+12127365000"});
  CHECK(g.created_at == clock->now());
  CHECK(gyms->get_gym("gym-nyc-01") == g);
  CHECK_THROWS_AS(gyms->create_gym(nyc()), AlreadyExistsError);
  CHECK_THROWS_AS(gyms->get_gym("gym-nope"), NotFoundError);

  Gym other = nyc();
  other.id.clear();
  auto generated = gyms->create_gym(other);
  CHECK(generated.id.rfind("gym_", 0) == 0);
  CHECK(gyms->list_gyms().size() == 2);

  clock->advance(std::chrono::hours{1});
  g.call_hours = {10 * 60, 18 * 60};
  g.state = "NY";
  auto updated = gyms->update_gym(g);
  CHECK(updated.call_hours.start_minute == 600);
  CHECK(updated.created_at == g.created_at);
  CHECK(updated.updated_at == clock->now());
  CHECK(gyms->get_gym(g.id).state == "NY");
  Gym ghost = nyc();
  ghost.id = "gym-ghost";
  CHECK_THROWS_AS(gyms->update_gym(ghost), NotFoundError);
}

TEST_CASE_FIXTURE(Fixture, "validation names the field and writes nothing") {
  auto with = [&](auto change) {
    Gym g = nyc();
    change(g);
    return field_of([&] { gyms->create_gym(g); });
  };
  CHECK(with([](Gym& g) { g.timezone = "Mars/Olympus"; }) == "timezone");
  CHECK(with([](Gym& g) { g.timezone = ""; }) == "timezone");
  CHECK(with([](Gym& g) { g.region = "XX"; }) == "region");
  CHECK(with([](Gym& g) { g.name = ""; }) == "name");
  CHECK(with([](Gym& g) { g.name = std::string(201, 'a'); }) == "name");
  CHECK(with([](Gym& g) { g.name = "bad \xff utf8"; }) == "name");
  CHECK(with([](Gym& g) { g.id = "has space"; }) == "id");
  CHECK(with([](Gym& g) { g.state = "Florida"; }) == "state");
  CHECK(with([](Gym& g) { g.call_hours = {20 * 60, 9 * 60}; }) == "call_hours");
  CHECK(with([](Gym& g) { g.call_days = 0; }) == "call_days");
  CHECK(with([](Gym& g) { g.caller_ids = {"+12127365000", "nope"}; }) == "caller_ids[1]");
  CHECK(gyms->list_gyms().empty());
  CHECK(with([](Gym& g) { g.name = std::string(200, 'a'); }) == "<accepted>");
}
