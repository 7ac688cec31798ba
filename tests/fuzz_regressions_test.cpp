// The fuzz targets' inputs in the normal build (docs/hardening.md).
//
// The libFuzzer targets (fuzz/) build only with clang. Here the committed seed
// corpora of the C++ targets, and every input a fuzzer ever found a fault
// with, go through the same paths with the same checks, so that every build
// and every sanitizer run of the tests keeps them passing. An input that made
// a target fail gets a case of its own below, named after what went wrong.
#include "core/phone_fast.hpp"

#include <gymdash/config.hpp>
#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/phone.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/call.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/services/lead.hpp>
#include <gymdash/webhook.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

using namespace gymdash;
namespace fs = std::filesystem;

namespace {

// fuzz/corpus/, found from this file's place in the source tree (CMake
// compiles it by its absolute path), else above the working directory.
fs::path corpus_root() {
  const fs::path from_source = fs::path(__FILE__).parent_path().parent_path() / "fuzz" / "corpus";
  if (fs::is_directory(from_source)) return from_source;
  for (fs::path dir = fs::current_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::is_directory(dir / "fuzz" / "corpus")) return dir / "fuzz" / "corpus";
    if (dir == dir.root_path()) break;
  }
  return from_source;
}

std::vector<std::string> seeds(const char* target) {
  const fs::path dir = corpus_root() / target;
  std::vector<fs::path> files;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

// ---- fuzz_phone: the fast path and libphonenumber agree --------------------------

void check_phone(const std::string& input) {
  static const char* const regions[] = {"US", "GB", "CA"};
  if (input.empty()) return;
  const char* region = regions[static_cast<unsigned char>(input[0]) % 3];
  const std::string raw = input.substr(1);
  CAPTURE(raw);
  CAPTURE(region);
  std::string ref_error, got_error;
  const auto ref = phone_detail::normalize_reference(raw, region, &ref_error);
  const auto got = phone_detail::normalize(raw, region, &got_error);
  CHECK(got == ref);
  CHECK(got_error == ref_error);
  CHECK(ref.empty() != ref_error.empty());
  CHECK(try_normalize_phone(raw, region).value_or("") == ref);
}

// ---- fuzz_webhook: read, signed and verified without a store ----------------------

Timestamp webhook_now() { return parse_timestamp("2026-11-02T15:00:00Z"); }

WebhookOptions webhook_options() {
  WebhookOptions o;
  o.secrets = {"fuzz-secret"};
  return o;
}

void check_normalized(const WebhookRequest& r) {
  const auto n = normalize_webhook(r, webhook_now());
  CHECK(n.started_at_estimated.size() == n.events.size());
  CHECK((!n.events.empty() || !n.ignored.empty()));
  for (const auto& e : n.events) {
    CHECK_FALSE(e.event_id.empty());
    CHECK_FALSE(e.call_id.empty());
  }
}

// The modes of fuzz/fuzz_webhook.cpp: 0 normalize, 1 sign + verify + normalize,
// 2 a signature header line, then the body, verified.
void check_webhook(const std::string& input) {
  static const char* const providers[] = {"retell", "vapi", "twilio"};
  static const char* const headers[] = {"x-retell-signature", "x-vapi-secret", "X-Twilio-Signature"};
  if (input.empty()) return;
  const unsigned selector = static_cast<unsigned char>(input[0]);
  const unsigned provider = selector % 3, mode = selector / 3 % 3;
  const std::string_view rest = std::string_view(input).substr(1);
  WebhookRequest r;
  r.provider = providers[provider];
  r.url = "https://hooks.example.com/voice?gym_id=gym-a&lead_id=ld_1&campaign_id=camp-fall";
  CAPTURE(r.provider);
  CAPTURE(mode);
  try {
    if (mode == 0) {
      r.body = std::string(rest);
      check_normalized(r);
    } else if (mode == 1) {
      r.body = std::string(rest);
      sign_webhook(r, "fuzz-secret", webhook_now());
      CHECK_NOTHROW(verify_webhook(r, webhook_options(), webhook_now()));
      check_normalized(r);
    } else {
      const auto nl = rest.find('\n');
      r.headers[headers[provider]] = std::string(rest.substr(0, nl));
      r.body = nl == std::string_view::npos ? std::string() : std::string(rest.substr(nl + 1));
      verify_webhook(r, webhook_options(), webhook_now());
      check_normalized(r);
    }
  } catch (const InternalError& e) {
    FAIL("internal error: ", e.what());
  } catch (const Error&) {
    // refused or malformed: the promised answer
  } catch (const std::exception& e) {
    FAIL("not a gymdash::Error: ", e.what());
  }
}

// ---- fuzz_import_csv: the lead import -------------------------------------------

std::unique_ptr<Runtime> import_runtime() {
  auto rt = Runtime::open(parse_config(R"({"storage":"memory:","worker_threads":1,"logging":{"sink":"none"}})"));
  Gym us;
  us.id = "gym-nyc";
  us.name = "Iron Temple";
  us.timezone = "America/New_York";
  us.region = "US";
  us.state = "NY";
  rt->gyms().create_gym(us);
  Gym gb;
  gb.id = "gym-ldn";
  gb.name = "Camden Lifts";
  gb.timezone = "Europe/London";
  gb.region = "GB";
  rt->gyms().create_gym(gb);
  return rt;
}

void check_import(Runtime& rt, const std::string& input) {
  std::istringstream csv(input);
  ImportOptions options;
  options.batch_size = 4;
  options.bytes_total = input.size();
  options.source = "fuzz.csv";
  options.max_rejected_rows = 50;
  try {
    const auto report = rt.leads().import_leads(csv, options);
    CHECK(report.rows == report.imported + report.merged_duplicates + report.rejected);
    std::int64_t by_reason = 0;
    for (const auto& [reason, n] : report.rejected_by_reason) by_reason += n;
    CHECK(by_reason == report.rejected);
  } catch (const InternalError& e) {
    FAIL("internal error: ", e.what());
  } catch (const Error&) {
    // a header without the required columns
  } catch (const std::exception& e) {
    FAIL("not a gymdash::Error: ", e.what());
  }
}

}  // namespace

TEST_CASE("fuzz_phone's seeds: the fast path agrees with libphonenumber") {
  const auto inputs = seeds("fuzz_phone");
  REQUIRE_FALSE(inputs.empty());
  for (const auto& input : inputs) check_phone(input);
}

TEST_CASE("fuzz_webhook's seeds: normalized, signed and verified, or refused as InvalidArgumentError") {
  const auto inputs = seeds("fuzz_webhook");
  REQUIRE_FALSE(inputs.empty());
  for (const auto& input : inputs) check_webhook(input);
}

TEST_CASE("fuzz_import_csv's seeds: every import's counts add up") {
  const auto inputs = seeds("fuzz_import_csv");
  REQUIRE_FALSE(inputs.empty());
  auto rt = import_runtime();
  for (const auto& input : inputs) check_import(*rt, input);
}

// fuzz_webhook, mode 0 (Vapi): "timestamp":179363E450000 parses as infinity,
// and millis_at converted it to an integer: undefined behaviour (UBSan:
// float-cast-overflow in src/webhook/normalize.cpp). A millisecond time past
// the year 9999 is now refused naming its field; the largest one is read.
TEST_CASE("fuzz regression: a webhook's millisecond time too large for an integer is refused") {
  const auto normalize = [](const char* provider, std::string body) {
    WebhookRequest r;
    r.provider = provider;
    r.url = "https://hooks.example.com/voice?gym_id=gym-a&lead_id=ld_1";
    r.body = std::move(body);
    return normalize_webhook(r, webhook_now());
  };
  const auto field_of = [&](const char* provider, const std::string& body) -> std::string {
    try {
      normalize(provider, body);
    } catch (const InvalidArgumentError& e) {
      return e.field();
    }
    return "(accepted)";
  };
  const std::string vapi_head = R"({"message":{"type":"end-of-call-report","call":{"id":"c1"},"timestamp":)";
  for (const char* n : {"179363E450000", "1e999", "1e300", "9.3e18", "253402300800000"}) {
    CAPTURE(n);
    CHECK(field_of("vapi", vapi_head + n + "}}") == "message.timestamp");
    CHECK(field_of("retell", std::string(R"({"event":"call_ended","call":{"call_id":"c1","start_timestamp":)") + n +
                                 "}}") == "call.start_timestamp");
    CHECK(field_of("retell", std::string(R"({"event":"call_ended","call":{"call_id":"c1","end_timestamp":)") + n +
                                 "}}") == "call.end_timestamp");
  }
  const auto last = normalize("vapi", vapi_head + "253402300799999}}");
  REQUIRE(last.events.size() == 1);
  CHECK(last.events[0].started_at == parse_timestamp("9999-12-31T23:59:59.999Z"));
}

// Found with fuzz_webhook: a Twilio status callback's CallDuration of about
// 1.8e17 seconds overflowed the subtraction that works out the call's start.
// The start is now the callback's time for such a duration, and the call
// service refuses the event for its duration_s.
TEST_CASE("fuzz regression: a Twilio CallDuration too large for the time arithmetic keeps the callback's time") {
  for (const char* d : {"176666666666666600", "9223372036854775807"}) {
    CAPTURE(d);
    WebhookRequest r;
    r.provider = "twilio";
    r.url = "https://hooks.example.com/voice?gym_id=gym-a&lead_id=ld_1";
    r.body = std::string("CallSid=CA1&CallStatus=completed&Timestamp=Mon%2C+02+Nov+2026+14%3A58%3A05+%2B0000&CallDuration=") + d;
    const auto n = normalize_webhook(r, webhook_now());
    REQUIRE(n.events.size() == 1);
    REQUIRE(n.events[0].duration_s);
    CHECK(*n.events[0].duration_s == std::stoll(d));
    CHECK(n.events[0].started_at == parse_timestamp("2026-11-02T14:58:05Z"));
    CHECK(n.events[0].ended_at == n.events[0].started_at);
  }
}

// Found with fuzz_capi (gymdash_call_process_event): process_event accepted
// any cost_usd >= 0 and any duration_s >= 0, and the analytics rollup of the
// call overflowed (cost_usd 1e300 became llround(1e306), not representable;
// two calls of duration_s 9e18 overflowed talk_s). Now bounded: cost_usd at
// most 10,000, durations at most 86,400 s (docs/calls.md).
TEST_CASE("fuzz regression: a call cost or duration too large for the rollups is refused") {
  auto rt = Runtime::open(parse_config(R"({"storage":"memory:","worker_threads":1,"logging":{"sink":"none"}})"));
  Gym gym;
  gym.id = "gym-fuzz";
  gym.name = "Iron Temple";
  gym.timezone = "America/New_York";
  rt->gyms().create_gym(gym);
  LeadInput in;
  in.external_id = "ext-1";
  in.phone = "(212) 736-5000";
  rt->leads().create_lead("gym-fuzz", in);

  CallEvent e;
  e.event_id = "ev-big1";
  e.call_id = "big1";
  e.gym_id = "gym-fuzz";
  e.lead_external_id = "ext-1";
  e.to = "+12127365000";
  e.started_at = parse_timestamp("2026-11-02T14:55:00Z");
  e.status = CallStatus::Completed;
  e.answered_by = AnsweredBy::Human;
  e.cost_usd = 1e300;
  CHECK_THROWS_AS(rt->calls().process_event(e), InvalidArgumentError);
  e.event_id = "ev-big2";
  e.cost_usd = 1.0;
  e.duration_s = 9'000'000'000'000'000'000;
  CHECK_THROWS_AS(rt->calls().process_event(e), InvalidArgumentError);
  e.duration_s = 86400;  // the largest accepted
  e.cost_usd = 10000;
  CHECK(rt->calls().process_event(e).kind == ProcessResult::Kind::Applied);
}

// Found with fuzz_capi (gymdash_call_process_event): an integer field written
// as a number with an exponent ("duration_s":5.55556e+25) was converted to an
// integer before its range was checked (UBSan: float-cast-overflow in
// src/core/json_reader.cpp). A whole number outside int64 is now refused
// naming its field, like a fraction; one inside the range is read.
TEST_CASE("fuzz regression: a JSON integer field written as a huge double is refused") {
  const auto field_of = [](const std::string& value) -> std::string {
    const std::string json = R"({"event_id":"ev-1","call_id":"c1","gym_id":"gym-a","lead_external_id":"ext-1",)"
                             R"("started_at":"2026-11-02T14:55:00Z","status":"completed","duration_s":)" +
                             value + "}";
    try {
      (void)from_json<CallEvent>(json);
    } catch (const InvalidArgumentError& e) {
      return e.field();
    }
    return "(accepted)";
  };
  for (const char* n : {"5.55556e+25", "-1e19", "9223372036854775808.0", "1e300", "1.5"}) {
    CAPTURE(n);
    CHECK(field_of(n) == "duration_s");
  }
  CHECK(field_of("120") == "(accepted)");
  CHECK(field_of("1.2e2") == "(accepted)");
  CHECK(field_of("-9223372036854775808.0") == "(accepted)");  // -2^63, the smallest int64: read, then bounded by the service
  // The input fuzz_capi found: gymdash_calls_list with a 26-digit page.
  const auto page_field = [](const char* json) -> std::string {
    try {
      (void)from_json<CallFilter>(json);
    } catch (const InvalidArgumentError& e) {
      return e.field();
    }
    return "(accepted)";
  };
  CHECK(page_field(R"({"status":"completed","page":55555555555555555555555551,"page_size":20})") == "page");
  CHECK(page_field(R"({"page":1000000001})") == "page");
  CHECK(page_field(R"({"page":3e0,"page_size":20})") == "(accepted)");
  CHECK(from_json<CallEvent>(R"({"event_id":"ev-1","call_id":"c1","started_at":"2026-11-02T14:55:00Z",)"
                             R"("status":"completed","duration_s":1.2e2})")
            .duration_s == 120);
}
