// Call event ingestion into SQLite, end to end.
//
//   ingest_bench DATABASE CALLS_JSONL [GYMS_CSV LEADS_CSV]
//
// With GYMS_CSV and LEADS_CSV the database is created afresh and loaded
// first (not timed); without them DATABASE must already hold the leads (its
// calls are ingested again: then every event is a duplicate). Prints one
// JSON object: events, duplicates, applied, rejected, seconds, events_per_s,
// peak_rss_mb.
#include <gymdash/gymdash.hpp>

#include <boost/json.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5) {
    std::fprintf(stderr, "usage: ingest_bench DATABASE CALLS_JSONL [GYMS_CSV LEADS_CSV]\n");
    return 2;
  }
  try {
    if (argc == 5)
      for (const char* suffix : {"", "-wal", "-shm", "-bulkload"}) std::filesystem::remove(std::string(argv[1]) + suffix);
    gymdash::RuntimeOptions options;
    options.storage = std::string("sqlite:") + argv[1];
    options.log_level = gymdash::LogLevel::Warn;
    auto rt = gymdash::Runtime::open(options);
    if (argc == 5) {
      std::ifstream gyms(argv[3], std::ios::binary);
      rt->gyms().import_gyms(gyms);
      std::ifstream leads(argv[4], std::ios::binary);
      rt->leads().import_leads(leads);
    }
    std::ifstream calls(argv[2], std::ios::binary);
    const auto start = std::chrono::steady_clock::now();
    const auto r = rt->calls().ingest_jsonl(calls);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    boost::json::object out{{"benchmark", "ingest"},
                            {"events", r.events},
                            {"duplicates", r.duplicates},
                            {"applied", r.applied},
                            {"rejected", r.rejected},
                            {"seconds", seconds},
                            {"events_per_s", static_cast<double>(r.events) / seconds},
                            {"peak_rss_mb", static_cast<double>(usage.ru_maxrss) / 1024.0}};
    std::cout << boost::json::serialize(out) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ingest_bench: %s\n", e.what());
    return 1;
  }
}
