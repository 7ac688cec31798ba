// Fuzz target: the C ABI's JSON entry points, as a host calls them.
//
// Input: the first byte picks an entry point (kEntries below), the rest is
// its JSON or text argument, NUL-terminated; "@LEAD@" in it stands for the id
// of the first lead made at setup (ids are generated, seeds cannot know them). Every call runs on one "memory:"
// handle set up once (two gyms, a few leads, a simulated voice provider in
// virtual time: nothing leaves the process) and reopened every kReopenEvery
// inputs so that what the inputs create does not slow the run down.
//
// What must hold, else the target aborts: every call returns 0 or a known
// negative code; on success `*out` is set (and is JSON where the function
// promises JSON), on failure it is NULL and the thread's last error says why;
// GYMDASH_E_INTERNAL ("a bug in gymdash") never comes back. Crashes, leaks and
// undefined behaviour are the sanitizers' to report. Every out string is freed.
#include <gymdash.h>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

// A simulated provider in virtual time: place_call validates, draws the call
// and hands its events to the handle's calls at once; no timer, no network.
constexpr const char* kConfig =
    R"({"storage":"memory:","worker_threads":1,"logging":{"sink":"none"},)"
    R"("voice_providers":{"sim":{"kind":"simulated","options":{"time":"virtual","seed":7}}}})";

constexpr const char* kGymUs = "gym-fuzz";
constexpr const char* kGymGb = "gym-ldn";
constexpr const char* kSecret = R"({"secret":"fuzz-secret"})";
constexpr unsigned kReopenEvery = 20000;
constexpr std::string_view kLeadMarker = "@LEAD@";

[[noreturn]] void fail(const char* what, const char* entry, int rc) {
  std::fprintf(stderr, "fuzz_capi: %s in %s (rc %d %s): %s [field %s]\n", what, entry, rc, gymdash_error_name(rc),
               gymdash_last_error_message(), gymdash_last_error_field());
  std::abort();
}

enum class Out { None, Json, Text };

// Checks one call's contract and frees its result.
void check(const char* entry, int rc, char* out, Out kind) {
  if (rc > 0 || rc < GYMDASH_E_INTERNAL) fail("an unknown return code", entry, rc);
  if (rc == GYMDASH_E_INTERNAL) fail("an internal error", entry, rc);
  if (gymdash_last_error_code() != rc) fail("a last error code that is not the return code", entry, rc);
  if (rc == GYMDASH_OK) {
    if (kind != Out::None && out == nullptr) fail("success without a result", entry, rc);
    if (kind == Out::Json) {
      boost::system::error_code ec;
      boost::json::parse(out, ec);
      if (ec) fail("a result that is not JSON", entry, rc);
    }
  } else {
    if (out != nullptr) fail("a failure that left *out set", entry, rc);
    if (gymdash_last_error_message()[0] == '\0') fail("a failure without a message", entry, rc);
  }
  gymdash_string_free(out);
}

struct Handle {
  gymdash_t* db = nullptr;
  std::vector<std::string> leads;  // ids of the leads made at setup, of kGymUs
};

std::string created_lead_id(const char* result) {
  const auto jv = boost::json::parse(result);
  return std::string(jv.at("lead").at("id").as_string());
}

// Opens the handle and makes the fixture; aborts if that fails (the harness is broken).
void open_handle(Handle& h) {
  if (gymdash_open(&h.db, kConfig) != GYMDASH_OK) fail("gymdash_open failed", "setup", gymdash_last_error_code());
  const char* gyms[] = {
      R"({"id":"gym-fuzz","name":"Iron Temple","timezone":"America/New_York","region":"US","state":"NY",)"
      R"("caller_ids":["+12125550100","+13055550100"]})",
      R"({"id":"gym-ldn","name":"Camden Lifts","timezone":"Europe/London","region":"GB"})",
  };
  for (const char* g : gyms) {
    char* out = nullptr;
    if (gymdash_gym_create(&out, h.db, g) != GYMDASH_OK) fail("gym_create failed", "setup", gymdash_last_error_code());
    gymdash_string_free(out);
  }
  const char* leads[] = {
      R"({"external_id":"ext-1","phone":"(212) 736-5000","first_name":"Ana","last_name":"Diaz",)"
      R"("email":"ana@example.com","source":"web_form","tags":["vip"],)"
      R"("consent":{"given":true,"at":"2026-10-01T10:00:00Z","method":"web_form","source":"site"}})",
      R"({"external_id":"ext-2","phone":"+1 305 555 0142","first_name":"Bo","interest":"trial"})",
      R"({"external_id":"ext-3","phone":"646-555-0199","do_not_call":true})",
  };
  h.leads.clear();
  for (const char* l : leads) {
    char* out = nullptr;
    if (gymdash_lead_create(&out, h.db, kGymUs, l) != GYMDASH_OK)
      fail("lead_create failed", "setup", gymdash_last_error_code());
    h.leads.push_back(created_lead_id(out));
    gymdash_string_free(out);
  }
  char* out = nullptr;
  if (gymdash_lead_create(&out, h.db, kGymGb, R"({"external_id":"uk-1","phone":"020 7946 0958"})") != GYMDASH_OK)
    fail("lead_create failed", "setup", gymdash_last_error_code());
  gymdash_string_free(out);
}

Handle& handle() {
  static Handle h;
  static unsigned runs = 0;
  if (h.db != nullptr && ++runs % kReopenEvery == 0) {
    gymdash_close(h.db);
    h.db = nullptr;
  }
  if (h.db == nullptr) open_handle(h);
  return h;
}

// One entry point per selector value: its name and how to call it with `arg`.
struct Entry {
  const char* name;
  void (*call)(Handle&, const char* arg);
};

#define GYMDASH_FUZZ_ENTRY(label, kind, expr)          \
  Entry {                                              \
    label, [](Handle& h, const char* arg) {            \
      (void)h;                                         \
      char* out = nullptr;                             \
      const int rc = (expr);                           \
      check(label, rc, out, kind);                     \
    }                                                  \
  }

const Entry kEntries[] = {
    GYMDASH_FUZZ_ENTRY("lead_create US", Out::Json, gymdash_lead_create(&out, h.db, kGymUs, arg)),
    GYMDASH_FUZZ_ENTRY("lead_create GB", Out::Json, gymdash_lead_create(&out, h.db, kGymGb, arg)),
    GYMDASH_FUZZ_ENTRY("lead_update", Out::Json, gymdash_lead_update(&out, h.db, kGymUs, h.leads[0].c_str(), arg)),
    GYMDASH_FUZZ_ENTRY("lead_list", Out::Json, gymdash_lead_list(&out, h.db, kGymUs, arg)),
    GYMDASH_FUZZ_ENTRY("call_process_event", Out::Json, gymdash_call_process_event(&out, h.db, arg)),
    GYMDASH_FUZZ_ENTRY("config_check", Out::Json, gymdash_config_check(&out, arg)),
    GYMDASH_FUZZ_ENTRY("analytics_report json", Out::Json, gymdash_analytics_report(&out, h.db, arg, "json")),
    GYMDASH_FUZZ_ENTRY("analytics_report csv", Out::Text, gymdash_analytics_report(&out, h.db, arg, "csv")),
    GYMDASH_FUZZ_ENTRY("webhook_ingest", Out::Json, gymdash_webhook_ingest(&out, h.db, arg, kSecret)),
    GYMDASH_FUZZ_ENTRY("webhook_ingest options", Out::Json,
                       gymdash_webhook_ingest(&out, h.db,
                                              R"({"provider":"vapi","headers":{"x-vapi-secret":"fuzz-secret"},)"
                                              R"("body":"{\"message\":{\"type\":\"transcript\"}}"})",
                                              arg)),
    GYMDASH_FUZZ_ENTRY("voice_place_call", Out::Json, gymdash_voice_place_call(&out, h.db, "sim", arg)),
    GYMDASH_FUZZ_ENTRY("lead_add_tags", Out::Json, gymdash_lead_add_tags(&out, h.db, kGymUs, h.leads[1].c_str(), arg)),
    GYMDASH_FUZZ_ENTRY("lead_change_status", Out::Json,
                       gymdash_lead_change_status(&out, h.db, kGymUs, h.leads[1].c_str(), arg)),
    GYMDASH_FUZZ_ENTRY("calls_list", Out::Json, gymdash_calls_list(&out, h.db, kGymUs, arg)),
    GYMDASH_FUZZ_ENTRY("leads_next", Out::Json, gymdash_leads_next(&out, h.db, kGymUs, arg)),
    GYMDASH_FUZZ_ENTRY("lead_after_call", Out::Json,
                       gymdash_lead_after_call(&out, h.db, kGymUs, h.leads[1].c_str(), arg)),
    GYMDASH_FUZZ_ENTRY("route_outbound", Out::Json, gymdash_route_outbound(&out, h.db, arg)),
    GYMDASH_FUZZ_ENTRY("gym_update", Out::Json, gymdash_gym_update(&out, h.db, arg)),
    GYMDASH_FUZZ_ENTRY("dnc_check", Out::Json, gymdash_dnc_check(&out, h.db, kGymUs, arg)),
    GYMDASH_FUZZ_ENTRY("route_inbound", Out::Json, gymdash_route_inbound(&out, h.db, kGymGb, arg, nullptr)),
};

#undef GYMDASH_FUZZ_ENTRY

constexpr std::size_t kEntryCount = sizeof kEntries / sizeof kEntries[0];

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Entry& entry = kEntries[data[0] % kEntryCount];
  Handle& h = handle();
  // The argument as a C host passes it: NUL-terminated (an embedded NUL ends it early).
  std::string arg(reinterpret_cast<const char*>(data + 1), size - 1);
  // Lead ids are generated when the handle opens; seeds name the first lead as @LEAD@.
  for (std::size_t at = arg.find(kLeadMarker); at != std::string::npos; at = arg.find(kLeadMarker, at))
    arg.replace(at, kLeadMarker.size(), h.leads[0]);
  entry.call(h, arg.c_str());
  return 0;
}
