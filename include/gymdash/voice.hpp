/**
 * @file voice.hpp
 * @brief VoiceProvider: places, watches and ends outbound AI calls through a
 *        voice platform (simulated, Retell, Vapi, Twilio), asynchronously on
 *        Asio.
 *
 * Each operation exists twice: a pure virtual function taking a type-erased
 * `asio::any_completion_handler` (what an implementation overrides), and a
 * non-virtual `async_x(..., token)` template in front of it that accepts any
 * Asio completion token: `asio::use_future`, `asio::use_awaitable`,
 * `asio::deferred` (the default) or a callback. The endpoints, the fields sent
 * and the retry policy of each provider are in docs/voice.md.
 *
 * Handler signatures: `void(std::exception_ptr, T)`, or `void(std::exception_ptr)`
 * for hang_up, as in <gymdash/async.hpp>. The exception is a gymdash::Error:
 *  - InvalidArgumentError naming the field of a bad request (`to`, `from`,
 *    `assistant_id`, `metadata.<key>`, `provider_call_id`), before anything
 *    is sent;
 *  - ProviderError: the provider refused the request (4xx, or a 5xx it says
 *    is its own fault); the message has the HTTP status and the provider's
 *    own message, with phone numbers masked;
 *  - NotFoundError: the provider does not know the call (404 on a call id);
 *  - RateLimitedError: still 429 after the configured retries;
 *  - UnavailableError: timeouts, refused connections, TLS failures, 502/503/504,
 *    after the retries the request allows.
 *
 * This header pulls in Boost.Asio (as <gymdash/async.hpp> does); the rest of the
 * public API does not, so include it only where you use it.
 */
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/config.hpp>
#include <gymdash/log.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/call.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/json/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gymdash {

/**
 * One outbound call to place. A plain value (copyable, not synchronized).
 * JSON (C ABI): the member names; `dynamic_variables` and `metadata` are
 * objects of strings; unknown members are refused naming them.
 */
struct PlaceCallRequest {
  std::string from;          ///< caller id, E.164 (`+15551230000`); required
  std::string to;            ///< number to dial, E.164; required
  std::string assistant_id;  ///< the provider's agent / assistant id; required except for twilio and simulated
  /** Values the assistant's prompt can use (`first_name`, `gym_name` …), sent as the provider's dynamic variables. */
  std::map<std::string, std::string> dynamic_variables;
  /** Our ids, sent as the provider's call metadata and copied into every CallEvent: `gym_id`, `lead_id`, `campaign_id`. */
  std::map<std::string, std::string> metadata;
  friend bool operator==(const PlaceCallRequest&, const PlaceCallRequest&) = default;
};

/** What the provider said when it accepted a call. A plain value (copyable, not synchronized). */
struct PlaceCallResult {
  std::string provider_call_id;             ///< the provider's id of the call (`call_id`, `id`, `sid`)
  CallStatus status = CallStatus::Queued;   ///< usually queued or ringing
  friend bool operator==(const PlaceCallResult&, const PlaceCallResult&) = default;
};

/** A call's state as the provider reports it now, in our terms. A plain value (copyable, not synchronized). */
struct CallStatusReport {
  std::string provider_call_id;
  CallStatus status = CallStatus::Queued;
  AnsweredBy answered_by = AnsweredBy::Unknown;
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> ended_at;
  std::optional<std::int64_t> duration_s;
  std::optional<double> cost_usd;
  std::string end_reason;  ///< the provider's own word for how the call ended (`dial_no_answer`, `customer-busy` …)
  std::string summary;     ///< the provider's call summary, when it has one
  friend bool operator==(const CallStatusReport&, const CallStatusReport&) = default;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const PlaceCallRequest& v);
PlaceCallRequest tag_invoke(const boost::json::value_to_tag<PlaceCallRequest>&, const boost::json::value& jv);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const PlaceCallResult& v);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const CallStatusReport& v);

/**
 * Checks a request before anything is sent: `to` and `from` in E.164 form,
 * `assistant_id` present when `require_assistant`, at most 100 entries in
 * each map with keys of 1–64 and values of at most 1000 bytes. Throws
 * InvalidArgumentError naming the field (`to`, `dynamic_variables.first_name`).
 */
void validate_place_call_request(const PlaceCallRequest& request, bool require_assistant);

/**
 * A voice platform account.
 *
 * Ownership: created by make_voice_provider (or the Runtime, which owns the
 * providers of its configuration: Runtime::voice). Destroying a provider
 * cancels its timers and connections; operations still in flight then
 * complete with UnavailableError. The executor it was given must outlive it,
 * and the provider must still exist when an operation is initiated (with
 * `asio::deferred` or `use_awaitable` that is when the result is awaited).
 * Thread safety: safe for concurrent access from multiple threads without
 * external synchronization. Handlers run on their associated executor (by
 * default the provider's executor), never inside the initiating call.
 */
class VoiceProvider {
 public:
  using PlaceCallHandler = boost::asio::any_completion_handler<void(std::exception_ptr, PlaceCallResult)>;
  using StatusHandler = boost::asio::any_completion_handler<void(std::exception_ptr, CallStatusReport)>;
  using HangUpHandler = boost::asio::any_completion_handler<void(std::exception_ptr)>;
  /**
   * Receives CallEvents the provider produces itself (the simulated provider;
   * the real platforms report through webhooks instead). Called on the
   * provider's executor, one event at a time, a call's events in order. Must
   * not throw.
   */
  using EventSink = std::function<void(const CallEvent&)>;

  VoiceProvider() = default;
  VoiceProvider(const VoiceProvider&) = delete;
  VoiceProvider& operator=(const VoiceProvider&) = delete;
  virtual ~VoiceProvider() = default;

  /** `simulated`, `retell`, `vapi` or `twilio`. */
  virtual std::string_view kind() const noexcept = 0;
  /** The executor the provider's I/O and timers run on. */
  virtual boost::asio::any_io_executor get_executor() const noexcept = 0;

  /** Places an outbound call; completes when the provider has accepted (or refused) it. */
  virtual void place_call(PlaceCallRequest request, PlaceCallHandler handler) = 0;
  /** Ends a call (a ringing or a live one). Ending a call that has already ended succeeds. */
  virtual void hang_up(std::string provider_call_id, HangUpHandler handler) = 0;
  /** The call's state now. */
  virtual void get_status(std::string provider_call_id, StatusHandler handler) = 0;
  /** Replaces the event sink (empty: events are dropped). Takes effect for events produced after it returns. */
  virtual void set_event_sink(EventSink sink) = 0;

  /** place_call with any completion token; handler `void(std::exception_ptr, PlaceCallResult)`. */
  template <class Token = boost::asio::deferred_t>
  auto async_place_call(PlaceCallRequest request, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr, PlaceCallResult)>(
        [this](auto handler, PlaceCallRequest r) { place_call(std::move(r), PlaceCallHandler(std::move(handler))); },
        token, std::move(request));
  }

  /** hang_up with any completion token; handler `void(std::exception_ptr)`. */
  template <class Token = boost::asio::deferred_t>
  auto async_hang_up(std::string provider_call_id, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        [this](auto handler, std::string id) { hang_up(std::move(id), HangUpHandler(std::move(handler))); }, token,
        std::move(provider_call_id));
  }

  /** get_status with any completion token; handler `void(std::exception_ptr, CallStatusReport)`. */
  template <class Token = boost::asio::deferred_t>
  auto async_get_status(std::string provider_call_id, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr, CallStatusReport)>(
        [this](auto handler, std::string id) { get_status(std::move(id), StatusHandler(std::move(handler))); }, token,
        std::move(provider_call_id));
  }
};

/**
 * How the simulated provider behaves. Read from a VoiceProviderConfig's
 * `options` by simulated_settings(); the keys are the member names.
 * Rates are probabilities of a dial's first result; what is left after
 * answer, voicemail, busy and failed is no_answer. A plain value (copyable,
 * not synchronized); docs/voice.md describes the model.
 */
struct SimulatedSettings {
  std::uint64_t seed = 1;         ///< every random draw derives from it and the call's sequence number; 1
  double answer_rate = 0.45;      ///< a person answers; 0.45
  double voicemail_rate = 0.25;   ///< a machine answers; 0.25
  double busy_rate = 0.05;        ///< busy; 0.05
  double failed_rate = 0.02;      ///< the dial fails; 0.02
  /**
   * Relative weights of the outcomes of answered calls, by outcome name;
   * default interested 30, not_interested 30, callback_requested 15,
   * trial_booked 12, membership_sold 3, wrong_number 5, do_not_call 5.
   */
  std::map<std::string, double> outcome_weights;
  int ring_min_s = 3;             ///< ringing before an answer, uniform between min and max; 3
  int ring_max_s = 20;            ///< 20
  int no_answer_after_s = 30;     ///< ringing before an unanswered call gives up; 30
  double talk_median_s = 90;      ///< talk time of an answered call: log-normal with this median; 90
  double talk_sigma = 0.6;        ///< … and this shape; 0.6
  int talk_max_s = 900;           ///< … capped; 900
  int voicemail_s = 25;           ///< length of a voicemail message; 25
  double cost_per_minute_usd = 0.10;  ///< cost of connected time, per started minute; 0.10
  /**
   * `real`: events are emitted on Asio timers as the call unfolds (durations
   * divided by time_scale). `virtual`: no waiting; every event of a call is
   * emitted right after it is placed, stamped with the time it will happen
   * (the clock's now() + offsets), and get_status answers as of the clock's
   * now(), so a ManualClock drives the calls. `auto` (default): virtual when
   * the clock is a ManualClock, else real.
   */
  std::string time = "auto";
  double time_scale = 1.0;        ///< real mode only: 10 plays a call ten times faster; 1
};

/**
 * Reads SimulatedSettings from `config.options`. Throws InvalidArgumentError
 * naming `options.<key>` for an unknown key, a value that does not parse, or
 * one out of range (rates 0–1 summing to at most 1, times ≥ 0 …).
 */
SimulatedSettings simulated_settings(const VoiceProviderConfig& config);

/**
 * Makes the provider `config.kind` names. Its I/O and timers run on
 * `executor`; `clock` stamps simulated events; `logger` (may be null) gets
 * one record per operation and per retry, phone numbers masked. Throws
 * InvalidArgumentError naming the key (`kind`, `base_url`, `account_sid`,
 * `options.phone_number_id`, `options.ca_file` …) when the configuration
 * cannot work.
 */
std::unique_ptr<VoiceProvider> make_voice_provider(const VoiceProviderConfig& config,
                                                   boost::asio::any_io_executor executor,
                                                   std::shared_ptr<Clock> clock,
                                                   std::shared_ptr<Logger> logger = {});

/** The simulated provider from explicit settings (see SimulatedSettings). */
std::unique_ptr<VoiceProvider> make_simulated_voice_provider(const SimulatedSettings& settings,
                                                             boost::asio::any_io_executor executor,
                                                             std::shared_ptr<Clock> clock,
                                                             std::shared_ptr<Logger> logger = {});

}  // namespace gymdash
