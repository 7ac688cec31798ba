// Fuzz target: the voice providers' webhooks, read and checked without a
// store (verify_webhook, sign_webhook, normalize_webhook).
//
// Input: the first byte picks the provider (retell, vapi, twilio: byte % 3)
// and the mode (byte / 3 % 3); the rest is the request:
//  0  the body, normalized as ingest_webhook would after a valid signature;
//  1  the body, signed with a fixed secret and verified with it: that must
//     hold (a Twilio body that is not a form, or whose signed Timestamp is
//     stale, is the only allowed refusal), then normalized;
//  2  a signature header value, a line feed, then the body: verified with the
//     fixed secret (refused, almost always) and normalized when it holds.
// The URL carries gym_id, lead_id and campaign_id in its query, as the hosts
// are told to set it up (docs/webhooks.md).
//
// What must hold, else the target aborts: the functions return, or throw a
// gymdash::Error other than InternalError; a normalized webhook either holds
// events (each with an event_id and call_id, one started_at_estimated flag
// each) or says why it was ignored.
#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/webhook.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kSecret = "fuzz-secret";
constexpr const char* kUrl = "https://hooks.example.com/voice?gym_id=gym-a&lead_id=ld_1&campaign_id=camp-fall";
const char* const kProviders[] = {"retell", "vapi", "twilio"};
const char* const kSignatureHeaders[] = {"x-retell-signature", "x-vapi-secret", "X-Twilio-Signature"};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_webhook: %s\n", what.c_str());
  std::abort();
}

gymdash::Timestamp now() {
  static const gymdash::Timestamp t = gymdash::parse_timestamp("2026-11-02T15:00:00Z");
  return t;
}

gymdash::WebhookOptions options() {
  gymdash::WebhookOptions o;
  o.secrets = {std::string(kSecret)};
  return o;
}

void normalize(const gymdash::WebhookRequest& r) {
  const auto n = gymdash::normalize_webhook(r, now());
  if (n.started_at_estimated.size() != n.events.size()) fail("started_at_estimated is not one flag per event");
  if (n.events.empty() && n.ignored.empty()) fail("no event and no reason why it was ignored");
  for (const auto& e : n.events) {
    if (e.event_id.empty()) fail("an event without an event_id");
    if (e.call_id.empty()) fail("an event without a call_id");
  }
}

// Mode 1: what sign_webhook signed, verify_webhook accepts.
void round_trip(gymdash::WebhookRequest& r) {
  try {
    gymdash::sign_webhook(r, kSecret, now());
  } catch (const gymdash::InvalidArgumentError& e) {
    if (e.field() != "body") throw;
    return;  // a Twilio body that is not a form cannot be signed
  }
  try {
    gymdash::verify_webhook(r, options(), now());
  } catch (const gymdash::InvalidArgumentError& e) {
    const bool stale_twilio_timestamp = r.provider == "twilio" && e.field() == "signature" &&
                                        std::string_view(e.what()).find("Timestamp") != std::string_view::npos;
    if (!stale_twilio_timestamp) fail(std::string("a request signed by sign_webhook was refused: ") + e.what());
    return;
  }
  normalize(r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned provider = data[0] % 3;
  const unsigned mode = data[0] / 3 % 3;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

  gymdash::WebhookRequest r;
  r.provider = kProviders[provider];
  r.url = kUrl;
  try {
    if (mode == 0) {
      r.body = std::string(rest);
      normalize(r);
    } else if (mode == 1) {
      r.body = std::string(rest);
      round_trip(r);
    } else {
      const auto nl = rest.find('\n');
      r.headers[kSignatureHeaders[provider]] = std::string(rest.substr(0, nl));
      r.body = nl == std::string_view::npos ? std::string() : std::string(rest.substr(nl + 1));
      gymdash::verify_webhook(r, options(), now());
      normalize(r);
    }
  } catch (const gymdash::InternalError& e) {
    fail(std::string("internal error: ") + e.what());
  } catch (const gymdash::Error&) {
    // A refused or malformed request: the promised answer.
  } catch (const std::exception& e) {
    fail(std::string("an exception that is not a gymdash::Error: ") + e.what());
  }
  return 0;
}
