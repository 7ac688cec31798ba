// What the gym cache saves: the same operations with the cache on and off,
// measured in the same run.
//
//   cache_bench [ITERATIONS]
//
// Builds a temporary SQLite database with one gym and 2,000 leads, then times
// get_lead, explain and get_prioritized_leads (count 50) with
// cache.gym_ttl_ms = 5000 and = 0. Prints one JSON object: mean microseconds
// per call for each, and the ratio off/on.
#include <gymdash/gymdash.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace gd = gymdash;

namespace {

std::unique_ptr<gd::Runtime> open(const std::string& path, int ttl) {
  gd::Config c;
  c.storage = "sqlite:" + path;
  c.logging.sink = "none";
  c.cache.gym_ttl_ms = ttl;
  return gd::Runtime::open(c);
}

template <class Fn>
double mean_us(int n, Fn fn) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) fn(i);
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  const auto path = (std::filesystem::temp_directory_path() / "gymdash-cache-bench.db").string();
  for (const char* s : {"", "-wal", "-shm", "-bulkload"}) std::filesystem::remove(path + s);
  std::vector<std::string> ids;
  {
    auto rt = open(path, 0);
    gd::Gym g;
    g.id = "gym-a";
    g.name = "A";
    g.timezone = "America/New_York";
    g.call_hours = {8 * 60, 21 * 60};
    rt->gyms().create_gym(g);
    for (int i = 0; i < 2000; ++i) {
      gd::LeadInput in;
      char phone[32];
      std::snprintf(phone, sizeof phone, "(212) 73%d-%04d", 6 + i / 10000, i % 10000);
      in.phone = phone;
      in.consent = gd::Consent{true, std::nullopt, "web_form", ""};
      ids.push_back(rt->leads().create_lead("gym-a", in).lead.id);
    }
  }
  const auto at = gd::parse_timestamp("2026-11-02T15:00:00Z");
  boost::json::object out{{"benchmark", "gym_cache"}, {"iterations", n}};
  for (const char* op : {"get_lead", "explain", "prioritize_50"}) {
    double us[2];
    for (int ttl_index = 0; ttl_index < 2; ++ttl_index) {
      auto rt = open(path, ttl_index == 0 ? 5000 : 0);
      const std::string which = op;
      const int reps = which == "prioritize_50" ? n / 10 : n;
      us[ttl_index] = mean_us(reps, [&](int i) {
        const auto& id = ids[static_cast<std::size_t>(i) % ids.size()];
        if (which == "get_lead") rt->leads().get_lead("gym-a", id);
        else if (which == "explain") rt->leads().explain("gym-a", id, at);
        else rt->leads().get_prioritized_leads("gym-a", 50, std::nullopt, {}, at);
      });
    }
    out[op] = boost::json::object{{"cached_us", us[0]}, {"uncached_us", us[1]}, {"ratio_uncached_to_cached", us[1] / us[0]}};
  }
  for (const char* s : {"", "-wal", "-shm", "-bulkload"}) std::filesystem::remove(path + s);
  std::cout << boost::json::serialize(out) << "\n";
}
