// Fuzz target: the CSV lead import (LeadService::import_leads), the path of
// gymdash_leads_import_csv and gymdash_leads_import_file.
//
// Input: CSV text, as a file holds it. The runtime ("memory:", two gyms: one
// in the US, one in Great Britain) is opened once and reopened every
// kReopenEvery inputs so that imported leads do not pile up. Batches are small
// (kBatchSize rows) so that a few lines already cross batch boundaries and the
// read-ahead thread.
//
// What must hold, else the target aborts: the import returns a report whose
// counts add up (rows = imported + merged_duplicates + rejected, each
// rejected_by_reason sums to rejected), or throws a gymdash::Error that is not
// InternalError (a header without the required columns). Anything else that
// escapes is a bug.
#include <gymdash/config.hpp>
#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/services/lead.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <sstream>
#include <string>

namespace {

constexpr unsigned kReopenEvery = 5000;
constexpr int kBatchSize = 4;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_import_csv: %s\n", what.c_str());
  std::abort();
}

std::unique_ptr<gymdash::Runtime> open_runtime() {
  auto rt = gymdash::Runtime::open(
      gymdash::parse_config(R"({"storage":"memory:","worker_threads":1,"logging":{"sink":"none"}})"));
  gymdash::Gym us;
  us.id = "gym-nyc";
  us.name = "Iron Temple";
  us.timezone = "America/New_York";
  us.region = "US";
  us.state = "NY";
  rt->gyms().create_gym(us);
  gymdash::Gym gb;
  gb.id = "gym-ldn";
  gb.name = "Camden Lifts";
  gb.timezone = "Europe/London";
  gb.region = "GB";
  rt->gyms().create_gym(gb);
  return rt;
}

gymdash::Runtime& runtime() {
  static std::unique_ptr<gymdash::Runtime> rt;
  static unsigned runs = 0;
  if (rt && ++runs % kReopenEvery == 0) rt.reset();
  if (!rt) rt = open_runtime();
  return *rt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& rt = runtime();
  std::istringstream csv(std::string(reinterpret_cast<const char*>(data), size));
  gymdash::ImportOptions options;
  options.batch_size = kBatchSize;
  options.bytes_total = size;
  options.source = "fuzz.csv";
  options.max_rejected_rows = 50;
  try {
    const auto report = rt.leads().import_leads(csv, options);
    if (report.rows != report.imported + report.merged_duplicates + report.rejected)
      fail("rows != imported + merged_duplicates + rejected");
    std::int64_t by_reason = 0;
    for (const auto& [reason, n] : report.rejected_by_reason) by_reason += n;
    if (by_reason != report.rejected) fail("rejected_by_reason does not add up to rejected");
  } catch (const gymdash::InternalError& e) {
    fail(std::string("internal error: ") + e.what());
  } catch (const gymdash::Error&) {
    // A caller's mistake (a header without gym_id or phone): the promised answer.
  } catch (const std::exception& e) {
    fail(std::string("an exception that is not a gymdash::Error: ") + e.what());
  }
  return 0;
}
