// Ground truth: reference data sets generated with two seeds are imported and
// ingested, and every per-gym figure of their manifest.json must come out of
// the analytics dashboard exactly. The generator lives outside the project
// (../shared/datagen next to the source tree, or GYMDASH_DATAGEN); without it
// the test says so and passes: the project builds and tests on its own.
#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_util.hpp"

using namespace gymdash;

namespace {

std::filesystem::path find_datagen() {
  if (const char* env = std::getenv("GYMDASH_DATAGEN"); env && *env && std::filesystem::exists(env)) return env;
  // This file is <source>/tests/analytics_manifest_test.cpp; the generator <source>/../shared/datagen/gen.py.
  const auto here = std::filesystem::path(__FILE__).parent_path();
  const auto candidate = here / ".." / ".." / "shared" / "datagen" / "gen.py";
  std::error_code ec;
  if (std::filesystem::exists(candidate, ec)) return std::filesystem::weakly_canonical(candidate, ec);
  return {};
}

boost::json::value read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str());
}

void check_seed(const std::filesystem::path& script, int seed, const std::string& backend) {
  CAPTURE(seed);
  CAPTURE(backend);
  test::TempPath dir("datagen-analytics");
  const auto out = dir.str() + ".d";
  const auto cmd = "python3 " + script.string() + " --leads 3000 --seed " + std::to_string(seed) + " --out " + out +
                   " > /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  test::TempPath db("analytics-manifest");
  RuntimeOptions o;
  o.storage = backend == "sqlite" ? "sqlite:" + db.str() : "memory:";
  o.worker_threads = 1;
  o.log_level = LogLevel::Warn;
  auto rt = Runtime::open(o);
  std::ifstream gyms(out + "/gyms.csv", std::ios::binary);
  REQUIRE(rt->gyms().import_gyms(gyms).rejected == 0);
  std::ifstream leads(out + "/leads.csv", std::ios::binary);
  rt->leads().import_leads(leads);
  std::ifstream calls(out + "/calls.jsonl", std::ios::binary);
  REQUIRE(rt->calls().ingest_jsonl(calls).rejected == 0);

  const auto manifest = read_json(out + "/manifest.json");
  const auto& per_gym = manifest.at("per_gym").as_object();
  REQUIRE(!per_gym.empty());
  std::int64_t all_calls = 0;
  for (const auto& [gym_id, expected] : per_gym) {
    CAPTURE(std::string(gym_id));
    AnalyticsQuery q;
    q.gym_id = gym_id;
    q.from = "2020-01-01";
    q.to = "2029-12-31";
    const auto d = rt->analytics().dashboard(q);
    // The report's JSON, as a host reads it: the manifest's names and roundings.
    const auto got = boost::json::parse(dashboard_json(d)).as_object();
    for (const auto& [field, value] : expected.as_object()) {
      CAPTURE(std::string(field));
      REQUIRE(got.contains(field));
      if (value.is_object()) {
        const bool same = boost::json::serialize(got.at(field)) == boost::json::serialize(value);
        CHECK(same);
      } else if (value.is_double()) {
        CHECK(got.at(field).to_number<double>() == value.as_double());
      } else {
        CHECK(got.at(field).to_number<std::int64_t>() == value.to_number<std::int64_t>());
      }
    }
    all_calls += d.calls.calls;
  }
  // Every gym at once adds up to the same, with each gym's figures inside.
  AnalyticsQuery every;
  every.from = "2020-01-01";
  every.to = "2029-12-31";
  const auto d = rt->analytics().dashboard(every);
  CHECK(d.calls.calls == all_calls);
  CHECK(d.calls.calls == manifest.at("calls").at("unique_calls").to_number<std::int64_t>());
  CHECK(d.per_gym.size() == per_gym.size());
  CHECK(d.leads == manifest.at("import").at("imported").to_number<std::int64_t>());

  // The rollups kept while importing and ingesting equal their rebuild.
  const auto before = dashboard_json(d);
  rt->analytics().rebuild("");
  const bool same = dashboard_json(rt->analytics().dashboard(every)) == before;
  CHECK(same);
  std::filesystem::remove_all(out);
}

}  // namespace

TEST_CASE("reference data sets: every per-gym manifest figure, two seeds") {
  const auto script = find_datagen();
  if (script.empty()) {
    MESSAGE("the reference data generator (../shared/datagen/gen.py) is not there; skipped");
    return;
  }
  check_seed(script, 11, "sqlite");
  check_seed(script, 23, "memory");
}
