// One call event at a time through the C ABI (gymdash_call_process_event):
// the latency a host sees per webhook, on SQLite.
//
//   capi_event_bench DATABASE CALLS_JSONL [EVENTS] [GYMS_CSV LEADS_CSV]
//
// With GYMS_CSV and LEADS_CSV the database is created afresh and loaded first
// (not timed). Then the first EVENTS lines (default 20000) of CALLS_JSONL are
// applied one by one, each in its own transaction, as webhooks arrive. A
// baseline measured in the same run: gymdash_version() through the same
// library, i.e. the cost of crossing the ABI alone. Prints one JSON object
// with the per-event percentiles in microseconds: wall-clock (p50_us …) and
// the calling thread's CPU time (cpu_p50_us …), which a busy machine's
// scheduling does not inflate (work on the library's own threads, such as
// WAL checkpoints, is not in it).
#include <gymdash.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <ctime>
#include <vector>

namespace {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

int fail(gymdash_t* db, const char* what) {
  std::fprintf(stderr, "capi_event_bench: %s: %s\n", what, gymdash_last_error_message());
  gymdash_close(db);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4 && argc != 6) {
    std::fprintf(stderr, "usage: capi_event_bench DATABASE CALLS_JSONL [EVENTS] [GYMS_CSV LEADS_CSV]\n");
    return 2;
  }
  const long wanted = argc >= 4 ? std::stol(argv[3]) : 20000;
  if (argc == 6)
    for (const char* suffix : {"", "-wal", "-shm", "-bulkload"}) std::filesystem::remove(std::string(argv[1]) + suffix);
  gymdash_t* db = nullptr;
  if (gymdash_open(&db, (std::string("sqlite:") + argv[1]).c_str()) != GYMDASH_OK) return fail(db, "open");
  char* out = nullptr;
  if (argc == 6) {
    if (gymdash_gyms_import_file(&out, db, argv[4]) != GYMDASH_OK) return fail(db, "gyms");
    gymdash_string_free(out);
    if (gymdash_leads_import_file(&out, db, argv[5], nullptr, nullptr, nullptr) != GYMDASH_OK)
      return fail(db, "leads");
    gymdash_string_free(out);
  }
  std::ifstream in(argv[2]);
  std::vector<std::string> lines;
  for (std::string line; static_cast<long>(lines.size()) < wanted && std::getline(in, line);)
    if (!line.empty()) lines.push_back(std::move(line));

  using clock = std::chrono::steady_clock;
  std::vector<double> base;
  base.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto t0 = clock::now();
    const char* v = gymdash_version();
    const auto t1 = clock::now();
    if (!v) return 1;
    base.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::vector<double> lat, cpu;
  lat.reserve(lines.size());
  cpu.reserve(lines.size());
  long applied = 0, other = 0;
  const auto start = clock::now();
  for (const auto& line : lines) {
    const double c0 = thread_cpu_us();
    const auto t0 = clock::now();
    const int rc = gymdash_call_process_event(&out, db, line.c_str());
    const auto t1 = clock::now();
    const double c1 = thread_cpu_us();
    if (rc == GYMDASH_OK) {
      ++applied;
      gymdash_string_free(out);
      out = nullptr;
    } else {
      ++other;  // rejected lines of the data set (unknown lead …): timed all the same
    }
    lat.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    cpu.push_back(c1 - c0);
  }
  const double seconds = std::chrono::duration<double>(clock::now() - start).count();
  gymdash_close(db);
  std::printf(
      "{\"benchmark\":\"capi_event\",\"events\":%zu,\"ok\":%ld,\"errors\":%ld,\"seconds\":%.3f,"
      "\"events_per_s\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
      "\"cpu_p50_us\":%.1f,\"cpu_p90_us\":%.1f,\"cpu_p99_us\":%.1f,\"baseline_abi_p99_us\":%.3f}\n",
      lat.size(), applied, other, seconds, static_cast<double>(lat.size()) / seconds, percentile(lat, 0.50),
      percentile(lat, 0.90), percentile(lat, 0.99), percentile(lat, 1.0), percentile(cpu, 0.50), percentile(cpu, 0.90),
      percentile(cpu, 0.99), percentile(base, 0.99));
  return 0;
}
