/**
 * @file webhook.hpp
 * @brief Webhooks of the voice providers (Retell, Vapi, Twilio): checked for
 *        authenticity, normalized into CallEvents, applied through CallService.
 *
 * A host's HTTP server hands each request over as a WebhookRequest (the raw
 * body, the headers, the full URL the provider called). ingest_webhook checks
 * its signature or secret before anything is read or written, turns it into
 * call events with deterministic ids (a re-delivery is a duplicate, applied
 * once) and feeds them to CallService::process_event. Formats, signature
 * schemes, mapping tables and replay rules: docs/webhooks.md.
 *
 * Nothing here does network I/O; the functions are synchronous and
 * thread-safe. All types are plain values (copyable, not synchronized).
 */
#pragma once

#include <gymdash/config.hpp>
#include <gymdash/model.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/call.hpp>

#include <boost/json/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash {

/** Orders header names without regard to ASCII case, so `X-Retell-Signature` finds `x-retell-signature`. */
struct HeaderNameLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

/** HTTP headers by name, looked up case-insensitively. */
using WebhookHeaders = std::map<std::string, std::string, HeaderNameLess>;

/** One webhook request as the host's HTTP server received it. */
struct WebhookRequest {
  std::string provider;    ///< `retell`, `vapi` or `twilio`
  /**
   * The full URL the provider called, scheme and query included
   * (`https://hooks.example.com/twilio?gym_id=g1&lead_id=l1`). Twilio signs it;
   * for every provider its query may carry `gym_id`, `lead_id`, `campaign_id`.
   */
  std::string url;
  WebhookHeaders headers;  ///< as received; names in any case
  std::string body;        ///< the raw body, byte for byte (signatures cover these bytes)
};

/** How to check a webhook. */
struct WebhookOptions {
  /**
   * The provider's secrets; a request signed with any one of them is
   * accepted (two during a key rotation). Retell: the API key with the
   * webhook badge; Vapi: the server secret (`x-vapi-secret`) or HMAC key;
   * Twilio: the account's auth token. Empty: every request is refused.
   */
  std::vector<std::string> secrets;
  /** A signed timestamp further than this from now (either way) is refused as a replay; 300 s. */
  std::chrono::seconds tolerance{300};
};

/** What happened to one call event of a webhook. */
struct WebhookEventResult {
  std::string event_id;  ///< `retell:<call_id>:call_ended`, … (docs/webhooks.md)
  ProcessResult::Kind kind = ProcessResult::Kind::Applied;
  Call call;             ///< the call after the event (for a duplicate: as stored)
};

/** What ingest_webhook did. events = applied + duplicates. */
struct WebhookResult {
  std::string provider;
  std::string kind;                   ///< the provider's event or message type (`call_ended`, `end-of-call-report`, `completed` …)
  std::int64_t events = 0;            ///< call events the request held (0 when ignored)
  std::int64_t applied = 0;
  std::int64_t duplicates = 0;
  std::string ignored;                ///< why a verified request held no call event (`vapi message type transcript`), else empty
  std::vector<std::string> warnings;  ///< provider values we could not map and left out (field: value)
  std::vector<WebhookEventResult> results;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const WebhookResult& v);

/**
 * Checks that `request` comes from its provider: Retell's
 * `x-retell-signature` (`v=<ms>,d=<hex HMAC-SHA256(body + ms)>`), Vapi's
 * `x-vapi-secret` (or its HMAC headers), Twilio's `X-Twilio-Signature`
 * (base64 HMAC-SHA1 of the URL and the sorted POST parameters). Signatures
 * are compared in constant time.
 *
 * Throws InvalidArgumentError: field `provider` (unknown provider), `secret`
 * (no secret given), `url` (Twilio without one), `body` (a Twilio body that
 * is not a form), `signature` (header missing, malformed, not matching, or its
 * timestamp outside `options.tolerance` of `now`).
 */
void verify_webhook(const WebhookRequest& request, const WebhookOptions& options, Timestamp now);

/**
 * Signs `request` as its provider would with `secret`, replacing its
 * signature header: Retell `x-retell-signature` at time `at`, Vapi
 * `x-vapi-secret`, Twilio `X-Twilio-Signature` over `url` and the body's
 * form parameters. For tests, the simulated provider and replaying saved
 * requests against a test secret; never needed to receive webhooks.
 */
void sign_webhook(WebhookRequest& request, std::string_view secret, Timestamp at);

/** A webhook turned into call events, before the gym and lead are resolved. */
struct NormalizedWebhook {
  std::string kind;                   ///< as WebhookResult::kind
  std::vector<CallEvent> events;      ///< in the order to apply; empty when ignored
  std::string ignored;                ///< as WebhookResult::ignored
  std::vector<std::string> warnings;  ///< as WebhookResult::warnings
  /**
   * Per event: true when its started_at is a guess (Twilio reports callback
   * times, not the call's start; a call that never connected has no start).
   * ingest_webhook then keeps the stored call's start.
   */
  std::vector<bool> started_at_estimated;
};

/**
 * Reads a request's body (JSON for Retell and Vapi, a form for Twilio) into
 * call events, with the mapping tables of docs/webhooks.md. `gym_id`,
 * `lead_id`, `campaign_id` come from the call's metadata or the URL's query
 * and may be empty. Does not verify: call verify_webhook first. `now` stands
 * in for a start time the request does not carry.
 *
 * Throws InvalidArgumentError naming the field (`body`, `call.call_id`,
 * `CallSid`, …) for a malformed body or a missing required value.
 */
NormalizedWebhook normalize_webhook(const WebhookRequest& request, Timestamp now);

/**
 * Verifies, normalizes and applies a webhook: nothing is written unless the
 * signature holds. Each event's gym comes from the metadata or URL (required:
 * InvalidArgumentError `gym_id` without it); a missing lead is taken from the
 * call already stored with that provider call id. An event id seen before is
 * a duplicate and changes nothing.
 *
 * Throws what verify_webhook and normalize_webhook throw, and what
 * CallService::process_event throws (NotFoundError for an unknown gym or
 * lead, InvalidArgumentError naming the field). Events of one request are
 * applied in order, each in its own transaction; the providers send one.
 */
WebhookResult ingest_webhook(CallService& calls, const WebhookRequest& request, const WebhookOptions& options,
                             Timestamp now);

/**
 * ingest_webhook with a runtime's call service and clock. Without secrets in
 * `options`, the runtime configuration's (webhook_secrets). Logs one record
 * per request (`webhook.ingest`: provider, kind, counts, or the error code,
 * field and message; never the body or the headers): at info, as every
 * caller mistake (a refused signature: `error=invalid_argument`,
 * `field=signature`); at error for storage and internal failures.
 * Throws as ingest_webhook.
 */
WebhookResult ingest_webhook(Runtime& runtime, const WebhookRequest& request, const WebhookOptions& options = {});

/**
 * The secrets a configuration holds for `provider`: for every
 * `voice_providers` entry of that kind, its `webhook_secret`, and for Retell
 * and Twilio also its `api_key` (Retell signs with the API key, Twilio with
 * the auth token). Empty when there is none.
 */
std::vector<std::string> webhook_secrets(const Config& config, std::string_view provider);

}  // namespace gymdash
