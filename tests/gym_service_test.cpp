#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

#include <sstream>

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

// gyms.csv has no calling hours: a gym it creates gets the configuration's
// (`defaults`, or `gyms.<id>` where the document has one); a gym it updates
// keeps its own.
TEST_CASE("gyms.csv: new gyms get the configuration's calling hours and days, known gyms keep theirs") {
  Config config;
  config.storage = "memory:";
  config.worker_threads = 1;
  config.logging.sink = "none";
  config.defaults.call_hours = LocalWindow{10 * 60, 18 * 60};
  config.defaults.call_days = 0b0000011;  // the first two days of the mask
  GymPolicy weekend = config.defaults;
  weekend.call_days = 0b1000000;
  config.gyms["gym-b"] = weekend;
  auto rt = Runtime::open(config, std::make_shared<ManualClock>(parse_timestamp("2026-11-01T12:00:00Z")));
  Gym own;
  own.id = "gym-c";
  own.name = "C";
  own.timezone = "America/Chicago";
  own.call_hours = LocalWindow{8 * 60, 9 * 60};
  rt->gyms().create_gym(own);
  std::istringstream csv(
      "gym_id,name,timezone\n"
      "gym-a,A,America/New_York\n"
      "gym-b,B,America/Denver\n"
      "gym-c,C again,America/Chicago\n");
  const auto report = rt->gyms().import_gyms(csv);
  CHECK(report.created == 2);
  CHECK(report.updated == 1);
  const Gym a = rt->gyms().get_gym("gym-a");
  CHECK(a.call_hours.start_minute == 10 * 60);
  CHECK(a.call_hours.end_minute == 18 * 60);
  CHECK(a.call_days == 0b0000011);
  const Gym b = rt->gyms().get_gym("gym-b");
  CHECK(b.call_hours.start_minute == 10 * 60);
  CHECK(b.call_days == 0b1000000);
  const Gym c = rt->gyms().get_gym("gym-c");
  CHECK(c.name == "C again");
  CHECK(c.call_hours.start_minute == 8 * 60);
  CHECK(c.call_hours.end_minute == 9 * 60);
  CHECK(c.call_days == kAllDays);
}
