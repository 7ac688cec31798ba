// What the voice providers share: completing handlers on their executors,
// HTTP status → gymdash errors, the options every HTTP provider reads, and
// small JSON helpers. Internal; no Beast here.
#pragma once

#include "voice/http_client.hpp"

#include <gymdash/error.hpp>
#include <gymdash/voice.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <type_traits>
#include <variant>
#include <set>
#include <string>
#include <string_view>

namespace gymdash::voice {

/**
 * Calls `handler(args...)` on its associated executor (default `ex`), never
 * inside the caller: posted to `ex` first, then dispatched to the handler's
 * executor, whose work is tracked meanwhile.
 */
template <class Handler, class... Args>
void complete(Handler handler, const boost::asio::any_io_executor& ex, Args... args) {
  auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler, ex));
  boost::asio::post(ex, [handler = std::move(handler), work = std::move(work), ... args = std::move(args)]() mutable {
    auto hex = work.get_executor();
    boost::asio::dispatch(hex, [handler = std::move(handler), ... args = std::move(args)]() mutable {
      std::move(handler)(std::move(args)...);
    });
    work.reset();
  });
}

/**
 * Turns a non-2xx response into the matching gymdash error: 404 NotFound
 * (when `not_found_means_unknown_call`), 429 RateLimited, 502/503/504
 * Unavailable, any other ProviderError. The message is
 * "<operation>: <provider> answered <status>: <provider's message>", with
 * phone numbers and emails masked.
 */
[[noreturn]] void throw_for_status(const HttpResponse& response, std::string_view operation, std::string_view provider,
                                   bool not_found_means_unknown_call);

/** Parses a JSON body; a body that is not JSON is ProviderError naming the operation. */
boost::json::value parse_body(const HttpResponse& response, std::string_view operation);

/** A string member of an object, or "" (also when `v` is not an object). */
std::string str_member(const boost::json::value& v, std::string_view key);

/**
 * The HTTP client settings of a provider account: base URL (or `default_base`),
 * timeout, retries, and the options `ca_file`, `keep_alive`, `retry_backoff_ms`,
 * `retry_backoff_max_ms`, `retry_after_max_ms`. Throws InvalidArgumentError
 * naming `options.<key>` for a bad value, or for a key not in `known` and not
 * one of those.
 */
HttpClientOptions http_options(const VoiceProviderConfig& config, std::string_view default_base,
                               const std::set<std::string, std::less<>>& known);

/** `+` and 8–15 digits, the first not 0. */
bool is_e164(std::string_view text) noexcept;

/** Standard base64 (for HTTP basic authentication). */
std::string base64(std::string_view bytes);

/** Logs one finished provider operation (info, or warn when it failed); `logger` may be null. */
void log_operation(Logger* logger, std::string_view operation, const PlaceCallRequest* request,
                   std::string_view call_id, std::exception_ptr error, double duration_ms);

/** Per-provider factories (the files of src/voice/). */
std::unique_ptr<VoiceProvider> make_retell_provider(const VoiceProviderConfig& config,
                                                    boost::asio::any_io_executor executor,
                                                    std::shared_ptr<Logger> logger);
std::unique_ptr<VoiceProvider> make_vapi_provider(const VoiceProviderConfig& config,
                                                  boost::asio::any_io_executor executor,
                                                  std::shared_ptr<Logger> logger);
std::unique_ptr<VoiceProvider> make_twilio_provider(const VoiceProviderConfig& config,
                                                    boost::asio::any_io_executor executor,
                                                    std::shared_ptr<Logger> logger);

}  // namespace gymdash::voice

namespace gymdash::voice {

/**
 * The shell every HTTP provider shares: the executor, the client, the logger.
 * send() runs one request and hands the response to `parse` (which returns
 * the result or throws), then completes `handler` on its executor.
 */
class HttpProvider : public VoiceProvider {
 public:
  HttpProvider(std::string_view kind, boost::asio::any_io_executor executor, HttpClientOptions options,
               std::shared_ptr<Logger> logger)
      : kind_(kind),
        executor_(std::move(executor)),
        logger_(std::move(logger)),
        client_(std::make_shared<HttpClient>(executor_, std::move(options), logger_)) {}
  ~HttpProvider() override { client_->shutdown(); }

  std::string_view kind() const noexcept override { return kind_; }
  boost::asio::any_io_executor get_executor() const noexcept override { return executor_; }
  void set_event_sink(EventSink) override {}  // real platforms report events through webhooks

 protected:
  template <class R, class Handler, class Parse>
  void send(HttpRequest request, Handler handler, Parse parse, std::shared_ptr<const PlaceCallRequest> logged = {},
            std::string call_id = {}) {
    auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler, executor_));
    const auto start = std::chrono::steady_clock::now();
    std::string op = request.operation;
    client_->request(
        std::move(request),
        [handler = std::move(handler), parse = std::move(parse), work = std::move(work), logger = logger_, op,
         logged = std::move(logged), call_id = std::move(call_id), start](std::exception_ptr e,
                                                                           HttpResponse r) mutable {
          R result{};
          if (!e) {
            try {
              result = parse(r);
            } catch (...) {
              e = std::current_exception();
            }
          }
          std::string id = call_id;
          if constexpr (std::is_same_v<R, PlaceCallResult>) id = result.provider_call_id;
          log_operation(logger.get(), op, logged.get(), id, e,
                        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
          // Already on the client's executor (never inside the initiating call): dispatch is enough.
          auto ex = work.get_executor();
          boost::asio::dispatch(ex, [handler = std::move(handler), e, result = std::move(result)]() mutable {
            if constexpr (std::is_same_v<R, std::monostate>) std::move(handler)(e);
            else std::move(handler)(e, std::move(result));
          });
          work.reset();
        });
  }

  /** Completes `handler` with an error without sending anything (bad input). */
  template <class Handler, class... Values>
  void fail(Handler handler, std::exception_ptr e, Values... values) {
    complete(std::move(handler), executor_, e, std::move(values)...);
  }

  const std::shared_ptr<HttpClient>& client() const noexcept { return client_; }
  const std::shared_ptr<Logger>& logger() const noexcept { return logger_; }

  /** The Authorization header value every request carries (`Bearer …`, `Basic …`); set by the constructor. */
  void set_authorization(std::string value) { authorization_ = std::move(value); }

  /** A request to the provider's API, with its Authorization header. */
  HttpRequest make(std::string method, std::string url, std::string op) const {
    HttpRequest r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.operation = std::move(op);
    r.headers.emplace_back("Authorization", authorization_);
    return r;
  }

  /** The error of a call id left empty. */
  static std::exception_ptr invalid_id() {
    return std::make_exception_ptr(InvalidArgumentError("provider_call_id: is required", "provider_call_id"));
  }

 private:
  std::string kind_;
  std::string authorization_;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<Logger> logger_;
  std::shared_ptr<HttpClient> client_;
};

}  // namespace gymdash::voice
