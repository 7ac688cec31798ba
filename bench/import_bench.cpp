// Bulk import into SQLite, end to end: gyms.csv then leads.csv.
//
//   import_bench DATABASE GYMS_CSV LEADS_CSV
//
// Prints one JSON object: rows, imported, merged_duplicates, rejected,
// seconds, rows_per_s, peak_rss_mb (from getrusage).
#include <gymdash/gymdash.hpp>

#include <boost/json.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: import_bench DATABASE GYMS_CSV LEADS_CSV\n");
    return 2;
  }
  try {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(std::string(argv[1]) + suffix);
    gymdash::RuntimeOptions options;
    options.storage = std::string("sqlite:") + argv[1];
    options.log_level = gymdash::LogLevel::Warn;
    auto rt = gymdash::Runtime::open(options);
    std::ifstream gyms(argv[2], std::ios::binary);
    rt->gyms().import_gyms(gyms);
    std::ifstream leads(argv[3], std::ios::binary);
    const auto start = std::chrono::steady_clock::now();
    const auto r = rt->leads().import_leads(leads);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    boost::json::object out{{"benchmark", "import"},
                            {"rows", r.rows},
                            {"imported", r.imported},
                            {"merged_duplicates", r.merged_duplicates},
                            {"rejected", r.rejected},
                            {"seconds", seconds},
                            {"rows_per_s", static_cast<double>(r.rows) / seconds},
                            {"peak_rss_mb", static_cast<double>(usage.ru_maxrss) / 1024.0}};
    std::cout << boost::json::serialize(out) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "import_bench: %s\n", e.what());
    return 1;
  }
}
