// An asynchronous HTTP/1.1 client for the voice providers' REST APIs: TLS with
// certificate verification, a per-attempt timeout, optional keep-alive and
// retries with exponential backoff and jitter. The implementation (Boost.Beast
// and OpenSSL) stays in http_client.cpp; this header includes neither.
#pragma once

#include <gymdash/log.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gymdash::voice {

/**
 * Which failures a request may be retried after.
 *  - Idempotent: sending it twice does no harm (reads, hang-ups): retried on
 *    connection failures, timeouts, 429 and 5xx.
 *  - NotAfterSent: it creates something (a call): retried only when it
 *    certainly did not take effect — the connection could not be opened, or
 *    the provider answered 429. Never after a timeout or a broken connection
 *    once the request may have been delivered, and never on 5xx.
 */
enum class RetryPolicy { Idempotent, NotAfterSent };

struct HttpRequest {
  std::string method = "GET";
  /** A path (and query) below the client's base URL, or an absolute http(s) URL. */
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  ///< besides Host, User-Agent, Content-Length
  std::string content_type;  ///< with a body
  std::string body;
  RetryPolicy retry = RetryPolicy::Idempotent;
  std::string operation;  ///< for logs and messages: `voice.retell.place_call`
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /** The first header of that name (case-insensitive), or "". */
  std::string header(std::string_view name) const;
};

struct HttpClientOptions {
  std::string base_url;                                ///< `https://host[:port][/prefix]`; required
  std::chrono::milliseconds timeout{10000};            ///< one attempt: connect, TLS, send and receive
  int max_retries = 3;                                 ///< attempts = 1 + max_retries
  std::chrono::milliseconds backoff_initial{250};      ///< first retry delay before jitter
  std::chrono::milliseconds backoff_max{8000};         ///< cap of the exponential delay
  std::chrono::milliseconds retry_after_max{30000};    ///< longest Retry-After honoured
  bool keep_alive = true;                              ///< reuse idle connections for idempotent requests
  std::string ca_file;                                 ///< extra trusted CA certificates (PEM), besides the system store
  std::size_t max_response_bytes = 8u << 20;           ///< a larger body fails the attempt
};

/**
 * Ownership: held by a provider through shared ownership of its state;
 * destroying the client (or shutdown()) closes its connections and cancels
 * its timers, and requests in flight complete with UnavailableError.
 * Thread safety: request() and shutdown() may be called from any thread; the
 * client's I/O runs serialized on a strand of the executor.
 */
class HttpClient {
 public:
  using Handler = boost::asio::any_completion_handler<void(std::exception_ptr, HttpResponse)>;

  /** Throws InvalidArgumentError naming `base_url` or `options.ca_file`. */
  HttpClient(boost::asio::any_io_executor executor, HttpClientOptions options, std::shared_ptr<Logger> logger);
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  /**
   * Sends `request`, retrying per its policy, and completes with the last
   * response whatever its status (after retries of 429/5xx are used up), or
   * with UnavailableError when no response came (connection refused,
   * timeout, TLS failure, closed). The handler runs on its associated
   * executor (default: the client's).
   */
  void request(HttpRequest request, Handler handler);

  /** Closes connections, cancels timers; later requests fail with UnavailableError. */
  void shutdown();

  const HttpClientOptions& options() const noexcept;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

/** `application/x-www-form-urlencoded` encoding of one key or value. */
std::string form_encode(std::string_view text);
/** Percent-encodes a path segment (call ids in URLs). */
std::string path_encode(std::string_view text);

}  // namespace gymdash::voice
