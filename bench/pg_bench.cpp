// PostgreSQL beside SQLite, same data, same run: lead import, call ingest,
// prioritization and the dashboard.
//
//   pg_bench DATASET_DIR PG_URI [ROWS [EVENTS]]
//
// DATASET_DIR holds gyms.csv, leads.csv and calls.jsonl (the reference data
// set). ROWS: the first ROWS rows of leads.csv (default: all); EVENTS: the
// first EVENTS lines of calls.jsonl that name one of those leads (default
// 200000; 0 skips the ingest). On each backend, in order: gyms.csv, then the
// leads (timed), the calls (timed), 200 get_prioritized_leads(count = 50)
// per gym (p50/p99), 20 90-day dashboards per gym and for every gym
// (p50/p99). SQLite writes a file in a fresh temporary directory; PostgreSQL
// a fresh schema (gdbench_PID) in PG_URI's database, left in place (the
// benchmark's server is a throw-away one). cpu_s is this process's user+sys
// CPU during the step (the server's own CPU is not in it); load_avg is
// /proc/loadavg's first figure before and after the run. Prints one JSON object.
#include <gymdash/gymdash.hpp>

#include <boost/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace gd = gymdash;
namespace fs = std::filesystem;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double v = -1;
  in >> v;
  return v;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

boost::json::object percentiles(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    if (ms.empty()) return 0.0;
    return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ms.size())))];
  };
  return {{"n", ms.size()}, {"p50_ms", at(0.50)}, {"p99_ms", at(0.99)}};
}

// The external ids' numbers ("L7-00000123" → 123) of leads.csv's first `rows` rows are below `rows`.
long long external_number(const std::string& line) {
  const std::string key = "\"lead_external_id\":\"";
  auto p = line.find(key);
  if (p == std::string::npos) return -1;
  p = line.find('-', p + key.size());
  if (p == std::string::npos) return -1;
  return std::atoll(line.c_str() + p + 1);
}

boost::json::object run(const std::string& storage, const fs::path& gyms_csv, const fs::path& leads_csv,
                        const fs::path& calls_jsonl, bool ingest) {
  gd::RuntimeOptions options;
  options.storage = storage;
  options.log_level = gd::LogLevel::Warn;
  options.worker_threads = 1;
  auto rt = gd::Runtime::open(options);
  boost::json::object out;
  {
    std::ifstream gyms(gyms_csv, std::ios::binary);
    rt->gyms().import_gyms(gyms);
  }
  {
    std::ifstream leads(leads_csv, std::ios::binary);
    const double cpu = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    const auto r = rt->leads().import_leads(leads);
    const double s = seconds_since(start);
    out["import"] = {{"rows", r.rows},          {"imported", r.imported},
                     {"merged_duplicates", r.merged_duplicates}, {"rejected", r.rejected},
                     {"seconds", s},            {"rows_per_s", static_cast<double>(r.rows) / s},
                     {"cpu_s", cpu_seconds() - cpu}};
  }
  if (ingest) {
    std::ifstream calls(calls_jsonl, std::ios::binary);
    const double cpu = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    const auto r = rt->calls().ingest_jsonl(calls);
    const double s = seconds_since(start);
    out["ingest"] = {{"events", r.events},   {"applied", r.applied},
                     {"duplicates", r.duplicates}, {"rejected", r.rejected},
                     {"seconds", s},         {"events_per_s", static_cast<double>(r.events) / s},
                     {"cpu_s", cpu_seconds() - cpu}};
  }
  auto gyms = rt->gyms().list_gyms();
  for (auto& g : gyms) {  // every gym calls 08:00-21:00 every day, as in prioritize_bench
    g.call_hours = {8 * 60, 21 * 60};
    g.call_days = gd::kAllDays;
    rt->gyms().update_gym(g);
  }
  {
    const auto at = gd::parse_timestamp("2026-11-02T17:00:00Z");  // a Monday, 12:00 in New York
    std::vector<double> ms;
    std::int64_t returned = 0;
    for (int i = 0; i < 200; ++i)
      for (const auto& g : gyms) {
        const auto start = std::chrono::steady_clock::now();
        returned += static_cast<std::int64_t>(rt->leads().get_prioritized_leads(g.id, 50, std::nullopt, {}, at).size());
        ms.push_back(seconds_since(start) * 1000);
      }
    auto p = percentiles(std::move(ms));
    p["leads_returned"] = returned;
    out["prioritize"] = std::move(p);
  }
  {
    std::vector<double> gym_ms, all_ms;
    for (int i = 0; i < 20; ++i) {
      for (const auto& g : gyms) {
        const auto start = std::chrono::steady_clock::now();
        rt->analytics().dashboard({g.id, "", "2026-09-01", "2026-11-29", ""});
        gym_ms.push_back(seconds_since(start) * 1000);
      }
      const auto start = std::chrono::steady_clock::now();
      rt->analytics().dashboard({"", "", "2026-09-01", "2026-11-29", ""});
      all_ms.push_back(seconds_since(start) * 1000);
    }
    out["dashboard_gym"] = percentiles(std::move(gym_ms));
    out["dashboard_all_gyms"] = percentiles(std::move(all_ms));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: pg_bench DATASET_DIR PG_URI [ROWS [EVENTS]]\n");
    return 2;
  }
  try {
    const fs::path data = argv[1];
    const std::string pg_uri = argv[2];
    const long long rows = argc > 3 ? std::atoll(argv[3]) : -1;
    const long long events = argc > 4 ? std::atoll(argv[4]) : 200000;
    const double load_before = load_average();

    const fs::path work = fs::temp_directory_path() / ("gdbench-" + std::to_string(::getpid()));
    fs::create_directories(work);
    // The workload: the first ROWS leads and the first EVENTS calls of those leads.
    fs::path leads_csv = data / "leads.csv";
    long long lead_rows = 0;
    {
      std::ifstream in(data / "leads.csv", std::ios::binary);
      std::ofstream out(work / "leads.csv", std::ios::binary);
      std::string line;
      std::getline(in, line);
      out << line << '\n';
      while ((rows < 0 || lead_rows < rows) && std::getline(in, line)) {
        out << line << '\n';
        ++lead_rows;
      }
      leads_csv = work / "leads.csv";
    }
    long long call_lines = 0;
    if (events > 0) {
      std::ifstream in(data / "calls.jsonl", std::ios::binary);
      std::ofstream out(work / "calls.jsonl", std::ios::binary);
      std::string line;
      while (call_lines < events && std::getline(in, line)) {
        const auto n = external_number(line);
        if (n < 0 || n >= lead_rows) continue;
        out << line << '\n';
        ++call_lines;
      }
    }

    boost::json::object result{{"benchmark", "postgres_vs_sqlite"}, {"lead_rows", lead_rows},
                               {"call_events", call_lines}};
    result["sqlite"] = run("sqlite:" + (work / "bench.db").string(), data / "gyms.csv", leads_csv,
                           work / "calls.jsonl", events > 0);
    const std::string schema = "gdbench_" + std::to_string(::getpid());
    {
      gd::PostgresOptions po;
      po.uri = pg_uri;
      po.schema = schema;
      gd::make_postgres_store(po);  // creates the schema and its tables
    }
    const std::string uri_in_schema =
        pg_uri + (pg_uri.find('?') == std::string::npos ? "?" : "&") + "options=-c%20search_path%3D" + schema;
    result["postgres"] = run(uri_in_schema, data / "gyms.csv", leads_csv, work / "calls.jsonl", events > 0);
    result["postgres_schema"] = schema;
    result["load_avg"] = {{"before", load_before}, {"after", load_average()}};
    fs::remove_all(work);
    std::cout << boost::json::serialize(result) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg_bench: %s\n", e.what());
    return 1;
  }
}
