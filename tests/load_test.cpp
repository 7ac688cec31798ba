// A short run of the load workload (bench/load_workload.hpp; the figures come
// from bench/load_bench.cpp): 8 threads of imports, creates, notes, reads,
// prioritization, call events and reports on one SQLite database. No error
// but the documented ones, and afterwards the database holds exactly what was
// acknowledged. Nothing here depends on how fast it runs: each thread does
// every kind of operation at least twice, however slow the build.
#include "../bench/load_workload.hpp"

#include <doctest/doctest.h>

#include "test_util.hpp"

using namespace gymdash;

TEST_CASE("8 threads of mixed operations on one SQLite database reconcile with what they acknowledged") {
  test::TempPath db("load");
  load::Options o;
  o.storage = "sqlite:" + db.str();
  o.seconds = 2;
  o.threads = 8;
  o.seed = 7;
  o.preload_leads = 400;
  o.min_ops_per_thread = 2 * load::kKinds;
  const auto r = load::run(o);
  INFO(load::to_json(r));
  for (const auto& f : r.failures) MESSAGE(f);
  for (const auto& m : r.mismatches) MESSAGE(m);
  CHECK(r.failures_total == 0);
  CHECK(r.reconciled);
  CHECK(r.preloaded == 400);
  for (int k = 0; k < load::kKinds; ++k) {
    CAPTURE(load::kind_name(k));
    CHECK(r.kinds[static_cast<std::size_t>(k)].ops >= 2 * o.threads);
  }
  // Every kind wrote what it says.
  CHECK(r.leads_created > 0);
  CHECK(r.leads_imported == 18 * r.kinds[load::kImport].ops);
  CHECK(r.rows_merged == r.kinds[load::kImport].ops);
  CHECK(r.rows_rejected == r.kinds[load::kImport].ops);
  CHECK(r.events_applied + r.events_duplicate == r.kinds[load::kCallEvent].ops);
  CHECK(r.db_leads == 400 + r.leads_created + r.leads_imported);
  // The reads found something to return: the call order is not empty.
  CHECK(r.kinds[load::kPrioritize].items > 0);
  CHECK(r.kinds[load::kList].items > 0);
}
