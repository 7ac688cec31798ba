// AnalyticsService::dashboard on a large SQLite database: latency of the full
// 90-day dashboard for one gym and for every gym.
//
//   analytics_bench DATABASE [ITERATIONS] [--rebuild] [--campaign SOURCE]
//
// DATABASE must already hold gyms, leads and ingested call events (e.g. the
// 1,000,000-row reference data set, imported and ingested with the CLI). When
// its rollups are empty (a file written before they existed), or with
// --rebuild, they are rebuilt first and the rebuild is timed. The period is
// the 90 days ending on the last date with calls. Prints one JSON object with
// p50/p99 in milliseconds per case. With --campaign, the first gym gets a
// campaign (made once, `bench-SOURCE`) enrolling every lead of that source,
// and the campaign's 90-day dashboard is timed too: its lead figures read
// the enrolled leads (docs/analytics.md), so give the benchmark a copy.
#include <gymdash/gymdash.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>

namespace gd = gymdash;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
  double p50 = 0, p99 = 0, max = 0;
};

Stats stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  Stats s;
  if (ms.empty()) return s;
  s.p50 = ms[ms.size() / 2];
  s.p99 = ms[std::min(ms.size() - 1, static_cast<std::size_t>(ms.size() * 0.99))];
  s.max = ms.back();
  return s;
}

boost::json::object to_json(const Stats& s) { return {{"p50_ms", s.p50}, {"p99_ms", s.p99}, {"max_ms", s.max}}; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: analytics_bench DATABASE [ITERATIONS] [--rebuild]\n");
    return 2;
  }
  int iterations = 200;
  bool rebuild = false;
  std::string campaign_source;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rebuild") == 0) rebuild = true;
    else if (std::strcmp(argv[i], "--campaign") == 0 && i + 1 < argc) campaign_source = argv[++i];
    else iterations = std::max(1, std::atoi(argv[i]));
  }
  try {
    gd::RuntimeOptions options;
    options.storage = std::string("sqlite:") + argv[1];
    options.log_level = gd::LogLevel::Warn;
    auto rt = gd::Runtime::open(options);
    auto& analytics = rt->analytics();
    const auto gyms = rt->gyms().list_gyms();

    // The last date with calls, over every gym (the rollups of the last 10 years).
    auto last_day = [&] {
      const auto d = analytics.dashboard({"", "", "2020-01-01", "2029-12-31", ""});
      return d.by_local_date.empty() ? std::string() : d.by_local_date.rbegin()->first;
    };
    boost::json::object out{{"benchmark", "analytics_dashboard"}, {"database", argv[1]},
                            {"iterations", iterations}, {"gyms", gyms.size()}};
    std::string to = last_day();
    if (rebuild || to.empty()) {
      const auto r = analytics.rebuild("");
      out["rebuild"] = boost::json::value_from(r);
      to = last_day();
    }
    if (to.empty()) throw std::runtime_error("the database holds no calls");
    // 90 days ending `to`: the service's default length.
    gd::AnalyticsQuery probe{gyms.front().id, "", "", to, ""};
    const auto from = analytics.dashboard(probe).from;
    out["from"] = from;
    out["to"] = to;

    std::vector<double> one, all;
    std::int64_t calls = 0, leads = 0;
    for (int i = 0; i < iterations; ++i) {
      const auto& gym = gyms[static_cast<std::size_t>(i) % gyms.size()];
      auto t0 = Clock::now();
      const auto d = analytics.dashboard({gym.id, "", from, to, ""});
      one.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (i < static_cast<int>(gyms.size())) {
        calls += d.calls.calls;
        leads += d.leads;
      }
    }
    const int all_iterations = std::max(1, iterations / 4);
    std::int64_t all_calls = 0;
    for (int i = 0; i < all_iterations; ++i) {
      auto t0 = Clock::now();
      const auto d = analytics.dashboard({"", "", from, to, ""});
      all.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      all_calls = d.calls.calls;
    }
    if (!campaign_source.empty()) {
      // A campaign of the first gym enrolling every lead of one source.
      const auto& gym = gyms.front();
      const std::string id = "bench-" + campaign_source;
      auto& store = rt->store();
      if (!store.campaigns().find(gym.id, id)) {
        gd::Campaign c;
        c.id = id;
        c.gym_id = gym.id;
        c.name = id;
        c.voice_provider = "bench";
        c.target.source = campaign_source;
        store.transact([&] {
          store.campaigns().insert(c);
          store.campaigns().enrol_matching(gym.id, id, c.target, gd::Timestamp{});
        });
      }
      const auto counts = store.campaigns().enrolment_counts(gym.id, id, 1);
      std::vector<double> ms;
      std::int64_t campaign_leads = 0;
      for (int i = 0; i < iterations; ++i) {
        auto t0 = Clock::now();
        const auto d = analytics.dashboard({gym.id, id, from, to, ""});
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        campaign_leads = d.leads;
      }
      out["campaign"] = {{"gym", gym.id},           {"source", campaign_source},
                         {"enrolled", counts.enrolled}, {"leads_in_period", campaign_leads},
                         {"dashboard", to_json(stats(ms))}};
    }
    out["one_gym"] = to_json(stats(one));
    out["all_gyms"] = to_json(stats(all));
    out["all_gyms_iterations"] = all_iterations;
    out["calls_in_period"] = all_calls;
    out["calls_per_gym_sum"] = calls;
    out["leads_per_gym_sum"] = leads;
    // JSON serialization of a dashboard, on top of computing it.
    auto t0 = Clock::now();
    const auto text = gd::dashboard_json(analytics.dashboard({gyms.front().id, "", from, to, ""}));
    out["one_gym_with_json_ms"] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    out["json_bytes"] = text.size();
    std::cout << boost::json::serialize(out) << "\n";
  } catch (const std::exception& e) {
    std::fprintf(stderr, "analytics_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
