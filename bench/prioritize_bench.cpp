// get_prioritized_leads on a large SQLite database: latency of the call order.
//
//   prioritize_bench DATABASE [ITERATIONS]
//
// DATABASE must already hold gyms and leads (e.g. from import_bench on the
// reference data set). The benchmark first gives 2% of each gym's leads a call
// history (so the retry tier is not empty), then times get_prioritized_leads
// (count 50) at a fixed moment inside calling hours: without a filter, with a
// qualification filter, and with an exclude list of 100 ids. Prints one JSON
// object with p50/p99 in milliseconds per case.
#include <gymdash/gymdash.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

namespace gd = gymdash;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: prioritize_bench DATABASE [ITERATIONS]\n");
    return 2;
  }
  const int iterations = argc > 2 ? std::atoi(argv[2]) : 2000;
  try {
    gd::RuntimeOptions options;
    options.storage = std::string("sqlite:") + argv[1];
    options.log_level = gd::LogLevel::Warn;
    auto rt = gd::Runtime::open(options);
    const auto at = gd::parse_timestamp("2026-11-02T17:00:00Z");  // Monday: 12:00 New York, 09:00 Los Angeles
    auto gyms = rt->gyms().list_gyms();
    std::int64_t leads = 0;
    for (auto& g : gyms) {
      // Every gym calls 08:00-21:00 every day for the benchmark.
      g.call_hours = {8 * 60, 21 * 60};
      g.call_days = gd::kAllDays;
      rt->gyms().update_gym(g);
      leads += rt->leads().list_leads(g.id, gd::LeadFilter{{}, {}, {}, {}, {}, {}, {}, 1, 1}).total;
    }
    // A call history for some leads: the retry tier has candidates too.
    int called = 0;
    for (const auto& g : gyms) {
      gd::LeadFilter f;
      f.page_size = 1000;
      for (int page = 1; page <= 2; ++page) {
        f.page = page;
        for (const auto& l : rt->leads().list_leads(g.id, f).items) {
          if (l.attempts > 0 || !l.consent.given) continue;
          gd::CallResult r;
          r.call_id = "bench-" + l.id;
          r.started_at = at - std::chrono::hours{30};
          r.status = gd::CallStatus::NoAnswer;
          rt->leads().update_lead_after_call(g.id, l.id, r);
          ++called;
        }
      }
    }

    struct Case {
      const char* name;
      std::optional<gd::Qualification> q;
      bool exclude;
    };
    const Case cases[] = {{"no_filter", std::nullopt, false},
                          {"qualification_hot", gd::Qualification::Hot, false},
                          {"qualification_neutral", gd::Qualification::Neutral, false},
                          {"exclude_100", std::nullopt, true}};
    boost::json::object results;
    for (const auto& c : cases) {
      std::vector<double> ms;
      ms.reserve(static_cast<std::size_t>(iterations));
      std::size_t returned = 0;
      for (int i = 0; i < iterations; ++i) {
        const auto& g = gyms[static_cast<std::size_t>(i) % gyms.size()];
        std::vector<std::string> exclude;
        if (c.exclude) {
          for (const auto& l : rt->leads().get_prioritized_leads(g.id, 100, std::nullopt, {}, at)) exclude.push_back(l.id);
        }
        const auto t0 = std::chrono::steady_clock::now();
        const auto out = rt->leads().get_prioritized_leads(g.id, 50, c.q, exclude, at);
        const auto t1 = std::chrono::steady_clock::now();
        returned += out.size();
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      std::sort(ms.begin(), ms.end());
      const auto pct = [&](double p) { return ms[static_cast<std::size_t>(p * static_cast<double>(ms.size() - 1))]; };
      results[c.name] = boost::json::object{{"p50_ms", pct(0.50)},
                                            {"p99_ms", pct(0.99)},
                                            {"max_ms", ms.back()},
                                            {"avg_returned", static_cast<double>(returned) / iterations}};
    }
    std::cout << boost::json::serialize(boost::json::object{{"benchmark", "prioritize"},
                                                            {"gyms", gyms.size()},
                                                            {"leads", leads},
                                                            {"leads_given_calls", called},
                                                            {"iterations", iterations},
                                                            {"count", 50},
                                                            {"cases", std::move(results)}})
              << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prioritize_bench: %s\n", e.what());
    return 1;
  }
}
