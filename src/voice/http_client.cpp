// The voice providers' HTTP client on Boost.Beast and OpenSSL. The only file
// of the library that includes Beast or OpenSSL's TLS headers (compile time).
#include "voice/http_client.hpp"

#include <gymdash/error.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <iomanip>
#include <optional>
#include <random>
#include <set>
#include <sstream>

namespace gymdash::voice {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;  // begins with '/'
};

// Parses `http[s]://host[:port][/path]`; returns nullopt when malformed.
std::optional<Url> parse_url(std::string_view text) {
  Url u;
  if (text.rfind("https://", 0) == 0) {
    u.tls = true;
    text.remove_prefix(8);
  } else if (text.rfind("http://", 0) == 0) {
    text.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  const auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  u.path = slash == std::string_view::npos ? "" : std::string(text.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  if (authority.front() == '[') {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return std::nullopt;
      u.port = std::string(authority.substr(1));
    }
  } else {
    const auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) return std::nullopt;
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  if (!std::all_of(u.port.begin(), u.port.end(), [](char c) { return c >= '0' && c <= '9'; }) || u.port.size() > 5)
    return std::nullopt;
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  return u;
}

std::string host_header(const Url& u) {
  const bool default_port = (u.tls && u.port == "443") || (!u.tls && u.port == "80");
  const std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  return default_port ? host : host + ":" + u.port;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

// Retry-After: delay-seconds or an HTTP-date (IMF-fixdate).
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return std::chrono::milliseconds::max();
    return std::chrono::seconds{std::stoll(value)};
  }
  std::tm tm{};
  std::istringstream in(value);
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S");
  if (in.fail()) return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  const auto now = std::chrono::system_clock::now();
  if (when <= now) return 0ms;
  return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
}

struct Connection {
  std::string key;  // scheme://host:port
  std::unique_ptr<beast::tcp_stream> tcp;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }
};

enum class AttemptKind { Response, NotConnected, Broken };

struct Attempt {
  AttemptKind kind = AttemptKind::Response;
  HttpResponse response;
  std::string error;  // what went wrong, for NotConnected / Broken
};

Attempt not_connected(std::string error) {
  Attempt a;
  a.kind = AttemptKind::NotConnected;
  a.error = std::move(error);
  return a;
}

}  // namespace

struct HttpClient::State {
  State(asio::any_io_executor ex, HttpClientOptions opts, std::shared_ptr<Logger> log)
      : executor(ex),
        strand(asio::make_strand(ex)),
        options(std::move(opts)),
        logger(std::move(log)),
        tls_context(ssl::context::tls_client),
        rng(std::random_device{}()) {}

  asio::any_io_executor executor;
  asio::strand<asio::any_io_executor> strand;
  HttpClientOptions options;
  Url base;
  std::shared_ptr<Logger> logger;
  ssl::context tls_context;
  // Everything below is touched only on the strand.
  bool closed = false;
  std::mt19937_64 rng;
  std::vector<std::unique_ptr<Connection>> idle;
  std::set<Connection*> active;
  std::set<asio::steady_timer*> timers;

  std::chrono::milliseconds backoff(int attempt) {
    auto delay = options.backoff_initial;
    for (int i = 0; i < attempt && delay < options.backoff_max; ++i) delay *= 2;
    delay = std::min(delay, options.backoff_max);
    if (delay.count() <= 1) return delay;
    // "Equal jitter": half fixed, half random, so retries of many calls spread out.
    std::uniform_int_distribution<std::int64_t> d(delay.count() / 2, delay.count());
    return std::chrono::milliseconds{d(rng)};
  }

  void close_all() {
    closed = true;
    for (auto* c : active) {
      boost::system::error_code ec;
      c->lowest().socket().cancel(ec);
      c->lowest().socket().close(ec);
    }
    for (auto* t : timers) t->cancel();
    idle.clear();
  }

  std::unique_ptr<Connection> take_idle(const std::string& key) {
    for (auto it = idle.begin(); it != idle.end(); ++it) {
      if ((*it)->key == key) {
        auto c = std::move(*it);
        idle.erase(it);
        return c;
      }
    }
    return nullptr;
  }

  void log_retry(const HttpRequest& req, int attempt, std::chrono::milliseconds delay, const std::string& why) {
    if (!logger || !logger->enabled(LogLevel::Warn)) return;
    LogRecord r;
    r.level = LogLevel::Warn;
    r.operation = req.operation;
    r.message = fmt::format("{}; retry {} of {} in {} ms", why, attempt + 1, options.max_retries, delay.count());
    r.fields = {{"delay_ms", std::to_string(delay.count())}, {"attempt", std::to_string(attempt + 1)}};
    logger->log(std::move(r));
  }

  template <class Stream>
  asio::awaitable<Attempt> exchange(Stream& stream, Connection& c, const http::request<http::string_body>& req,
                                    std::chrono::steady_clock::time_point deadline, bool reused) {
    Attempt a;
    boost::system::error_code ec;
    c.lowest().expires_at(deadline);
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      a.kind = reused ? AttemptKind::NotConnected : AttemptKind::Broken;
      a.error = ec == beast::error::timeout ? "timed out sending the request" : "sending failed: " + ec.message();
      co_return a;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_response_bytes);
    parser.header_limit(64 * 1024);
    c.lowest().expires_at(deadline);
    co_await http::async_read(stream, c.buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      // A kept-alive connection the server had already closed: nothing was read, so nothing was processed.
      const bool stale = reused && !parser.got_some() &&
                         (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                          ec == asio::error::eof || ec == ssl::error::stream_truncated);
      a.kind = stale ? AttemptKind::NotConnected : AttemptKind::Broken;
      a.error = ec == beast::error::timeout ? fmt::format("no response within {} ms", options.timeout.count())
                                            : "receiving failed: " + ec.message();
      co_return a;
    }
    auto res = parser.release();
    a.response.status = static_cast<int>(res.result_int());
    for (const auto& f : res) a.response.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    a.response.body = std::move(res.body());
    if (!res.keep_alive()) a.error = "close";
    co_return a;
  }

  asio::awaitable<Attempt> attempt_once(const Url& url, const HttpRequest& request, const std::string& target) {
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    const std::string key = (url.tls ? "https://" : "http://") + url.host + ":" + url.port;
    const bool may_reuse = options.keep_alive && request.retry == RetryPolicy::Idempotent;

    http::request<http::string_body> req;
    req.method_string(request.method);
    req.target(target.empty() ? "/" : target);
    req.version(11);
    req.set(http::field::host, host_header(url));
    req.set(http::field::user_agent, "gymdash-voice");
    req.set(http::field::accept, "application/json");
    for (const auto& [k, v] : request.headers) req.set(k, v);
    if (!request.body.empty() || request.method == "POST" || request.method == "PATCH" || request.method == "PUT") {
      if (!request.content_type.empty()) req.set(http::field::content_type, request.content_type);
      req.body() = request.body;
    }
    req.keep_alive(options.keep_alive);
    req.prepare_payload();

    for (int fresh_tries = 0;; ++fresh_tries) {
      std::unique_ptr<Connection> c = may_reuse && fresh_tries == 0 ? take_idle(key) : nullptr;
      const bool reused = c != nullptr;
      if (!c) {
        c = std::make_unique<Connection>();
        c->key = key;
        c->tcp = std::make_unique<beast::tcp_stream>(strand);
      }
      active.insert(c.get());
      struct Unregister {
        State* s;
        Connection* c;
        ~Unregister() { s->active.erase(c); }
      } unregister{this, c.get()};

      if (!reused) {
        boost::system::error_code ec;
        tcp::resolver resolver(strand);
        tcp::resolver::results_type endpoints;
        endpoints = co_await resolver.async_resolve(url.host, url.port, asio::redirect_error(asio::use_awaitable, ec));
        if (closed) co_return not_connected("client closed");
        if (ec) co_return not_connected(fmt::format("cannot resolve {}: {}", url.host, ec.message()));
        c->tcp->expires_at(deadline);
        co_await c->tcp->async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
        if (closed) co_return not_connected("client closed");
        if (ec)
          co_return not_connected(ec == beast::error::timeout
                                ? fmt::format("connecting to {}:{} timed out", url.host, url.port)
                                : fmt::format("cannot connect to {}:{}: {}", url.host, url.port, ec.message()));
        if (url.tls) {
          c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*c->tcp), tls_context);
          c->tcp.reset();
          if (!is_ip_literal(url.host)) SSL_set_tlsext_host_name(c->tls->native_handle(), url.host.c_str());
          c->tls->set_verify_mode(ssl::verify_peer);
          c->tls->set_verify_callback(ssl::host_name_verification(url.host));
          beast::get_lowest_layer(*c->tls).expires_at(deadline);
          co_await c->tls->async_handshake(ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
          if (closed) co_return not_connected("client closed");
          if (ec) co_return not_connected(fmt::format("TLS handshake with {} failed: {}", url.host, ec.message()));
        }
      }

      // (No co_await inside ?: or an initializer: GCC 12 miscompiles those in coroutines.)
      Attempt a;
      if (c->tls) a = co_await exchange(*c->tls, *c, req, deadline, reused);
      else a = co_await exchange(*c->tcp, *c, req, deadline, reused);
      if (closed) co_return not_connected("client closed");
      if (a.kind == AttemptKind::NotConnected && reused) continue;  // stale idle connection: once more, fresh
      if (a.kind == AttemptKind::Response) {
        const bool keep = options.keep_alive && a.error != "close";
        a.error.clear();
        if (keep && idle.size() < 8) {
          active.erase(c.get());
          c->lowest().expires_never();
          idle.push_back(std::move(c));
        }
      }
      co_return a;
    }
  }

  // `self` keeps the state alive for as long as the coroutine lives.
  asio::awaitable<HttpResponse> run(std::shared_ptr<State> /*self*/, HttpRequest request) {
    std::optional<Url> url;
    std::string target;
    if (request.url.rfind("http://", 0) == 0 || request.url.rfind("https://", 0) == 0) {
      url = parse_url(request.url);
      if (!url) throw ProviderError(fmt::format("{}: the provider gave a malformed URL", request.operation));
      target = url->path.empty() ? "/" : url->path;
    } else {
      url = base;
      target = base.path + request.url;
    }
    const int attempts = 1 + std::max(0, options.max_retries);
    HttpResponse result;
    bool done = false;
    for (int attempt = 0; !done; ++attempt) {
      if (closed) throw UnavailableError(fmt::format("{}: the voice provider was closed", request.operation));
      Attempt a;
      a = co_await attempt_once(*url, request, target);
      const bool last = attempt + 1 >= attempts;
      std::chrono::milliseconds delay{0};
      std::string why;
      switch (a.kind) {
        case AttemptKind::NotConnected:
          if (closed || last)
            throw UnavailableError(fmt::format("{}: {} {}: {}{}", request.operation, request.method,
                                               host_header(*url), a.error,
                                               attempts > 1 ? fmt::format(" (after {} attempts)", attempt + 1) : ""));
          delay = backoff(attempt);
          why = a.error;
          break;
        case AttemptKind::Broken:
          if (request.retry == RetryPolicy::NotAfterSent)
            throw UnavailableError(fmt::format(
                "{}: {} {}: {}; not retried because the provider may have received the request", request.operation,
                request.method, host_header(*url), a.error));
          if (last)
            throw UnavailableError(fmt::format("{}: {} {}: {} (after {} attempts)", request.operation, request.method,
                                               host_header(*url), a.error, attempt + 1));
          delay = backoff(attempt);
          why = a.error;
          break;
        case AttemptKind::Response: {
          const int s = a.response.status;
          if (s == 429 && !last) {
            const auto ra = parse_retry_after(a.response.header("Retry-After"));
            delay = ra ? std::min(*ra, options.retry_after_max) : backoff(attempt);
            why = ra ? "rate limited (429, Retry-After)" : "rate limited (429)";
          } else if (s >= 500 && s <= 599 && request.retry == RetryPolicy::Idempotent && !last) {
            delay = backoff(attempt);
            why = fmt::format("HTTP {}", s);
          } else {
            result = std::move(a.response);
            done = true;
          }
          break;
        }
      }
      if (done) break;
      log_retry(request, attempt, delay, why);
      asio::steady_timer timer(strand, delay);
      timers.insert(&timer);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      timers.erase(&timer);
    }
    co_return result;
  }
};

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}

HttpClient::HttpClient(asio::any_io_executor executor, HttpClientOptions options, std::shared_ptr<Logger> logger)
    : state_(std::make_shared<State>(std::move(executor), std::move(options), std::move(logger))) {
  const auto base = parse_url(state_->options.base_url);
  if (!base) throw_invalid("base_url", fmt::format("\"{}\" is not an http(s) URL", state_->options.base_url.substr(0, 200)));
  if (base->path.find('?') != std::string::npos) throw_invalid("base_url", "must not have a query");
  state_->base = *base;
  boost::system::error_code ec;
  state_->tls_context.set_default_verify_paths(ec);
  if (!state_->options.ca_file.empty()) {
    state_->tls_context.load_verify_file(state_->options.ca_file, ec);
    if (ec)
      throw_invalid("options.ca_file",
                    fmt::format("cannot read CA certificates from \"{}\": {}", state_->options.ca_file, ec.message()));
  }
  state_->tls_context.set_verify_mode(ssl::verify_peer);
}

HttpClient::~HttpClient() { shutdown(); }

const HttpClientOptions& HttpClient::options() const noexcept { return state_->options; }

void HttpClient::shutdown() {
  asio::dispatch(state_->strand, [s = state_] { s->close_all(); });
}

void HttpClient::request(HttpRequest request, Handler handler) {
  auto work = asio::make_work_guard(asio::get_associated_executor(handler, state_->executor));
  auto s = state_;
  asio::co_spawn(state_->strand, s->run(s, std::move(request)),
                 [handler = std::move(handler), work = std::move(work), ex = state_->executor](std::exception_ptr e,
                                                                                             HttpResponse r) mutable {
                   // Off the strand first, then onto the handler's own executor.
                   asio::post(ex, [handler = std::move(handler), work = std::move(work), e, r = std::move(r)]() mutable {
                     auto hex = work.get_executor();
                     asio::dispatch(hex, [handler = std::move(handler), e, r = std::move(r)]() mutable {
                       std::move(handler)(e, std::move(r));
                     });
                     work.reset();
                   });
                 });
}

std::string form_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 2);
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*') out += static_cast<char>(c);
    else if (c == ' ') out += '+';
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string path_encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace gymdash::voice
