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
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: import_bench DATABASE GYMS_CSV LEADS_CSV [BATCH_SIZE]\n");
    return 2;
  }
  try {
    for (const char* suffix : {"", "-wal", "-shm", "-bulkload"}) std::filesystem::remove(std::string(argv[1]) + suffix);
    gymdash::RuntimeOptions options;
    options.storage = std::string("sqlite:") + argv[1];
    options.log_level = gymdash::LogLevel::Warn;
    auto rt = gymdash::Runtime::open(options);
    std::ifstream gyms(argv[2], std::ios::binary);
    rt->gyms().import_gyms(gyms);
    std::ifstream leads(argv[3], std::ios::binary);
    const auto start = std::chrono::steady_clock::now();
    gymdash::ImportOptions import_options;
    if (argc == 5) import_options.batch_size = std::stoi(argv[4]);
    const auto r = rt->leads().import_leads(leads, import_options);
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
