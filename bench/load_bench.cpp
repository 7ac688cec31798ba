// Mixed operations from many threads against one SQLite database for a
// bounded time (bench/load_workload.hpp; docs/hardening.md, "Load"):
// operations per second and p50/p99 latency per kind, errors by code, and the
// reconciliation of what was acknowledged with what the database holds.
//
//   load_bench DATABASE [SECONDS] [THREADS] [SEED] [PRELOAD_LEADS]
//
// DATABASE must not exist (it is created). Defaults: 30 s, 8 threads, seed 1,
// 20,000 preloaded leads. Prints one JSON object; exits 1 if an undocumented
// error occurred or the counts do not reconcile.
#include "load_workload.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: load_bench DATABASE [SECONDS] [THREADS] [SEED] [PRELOAD_LEADS]\n");
    return 2;
  }
  if (std::filesystem::exists(argv[1])) {
    std::fprintf(stderr, "load_bench: %s exists; give a new file\n", argv[1]);
    return 2;
  }
  gymdash::load::Options o;
  o.storage = std::string("sqlite:") + argv[1];
  o.seconds = argc > 2 ? std::atof(argv[2]) : 30;
  o.threads = argc > 3 ? std::atoi(argv[3]) : 8;
  o.seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1;
  o.preload_leads = argc > 5 ? std::atoi(argv[5]) : 20000;
  if (o.seconds <= 0 || o.threads < 1 || o.preload_leads < 1) {
    std::fprintf(stderr, "load_bench: SECONDS, THREADS and PRELOAD_LEADS must be positive\n");
    return 2;
  }
  try {
    const auto r = gymdash::load::run(o);
    std::printf("%s\n", gymdash::load::to_json(r).c_str());
    return r.ok() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "load_bench: %s\n", e.what());
    return 1;
  }
}
