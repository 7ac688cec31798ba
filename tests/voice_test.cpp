// The HTTP voice providers (Retell, Vapi, Twilio) against local servers that
// behave like each API: request shapes, error mapping, retries, timeouts,
// refused connections and TLS.
#include <gymdash/voice.hpp>

#include "test_util.hpp"
#include "voice_test_server.hpp"

#include <gymdash/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

using namespace gymdash;
using gymdash::test::http_response;
using gymdash::test::SeenRequest;
using gymdash::test::TestServer;
namespace asio = boost::asio;
namespace bj = boost::json;

namespace {

// An io_context running on its own thread for the duration of a test.
struct IoThread {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~IoThread() {
    work.reset();
    thread.join();
  }
};

VoiceProviderConfig config_for(const std::string& kind, const std::string& base_url) {
  VoiceProviderConfig c;
  c.kind = kind;
  c.base_url = base_url;
  c.api_key = kind == "twilio" ? "token123" : "key_abc";
  c.timeout_ms = 2000;
  c.max_retries = 2;
  c.options["retry_backoff_ms"] = "5";
  c.options["retry_backoff_max_ms"] = "20";
  if (kind == "vapi") c.options["phone_number_id"] = "pn_1";
  if (kind == "twilio") {
    c.account_sid = "AC123";
    c.options["twiml_url"] = "https://example.test/twiml";
    c.options["status_callback"] = "https://example.test/status";
  }
  return c;
}

PlaceCallRequest sample_request() {
  PlaceCallRequest r;
  r.from = "+15550001111";
  r.to = "+15557654321";
  r.assistant_id = "agent_42";
  r.dynamic_variables = {{"first_name", "Dana"}, {"gym_name", "Iron Temple"}};
  r.metadata = {{"gym_id", "gym-1"}, {"lead_id", "lead-9"}, {"campaign_id", "camp-3"}};
  return r;
}

template <class Fn>
ErrorCode code_of(Fn&& fn, std::string* message = nullptr) {
  try {
    fn();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return ErrorCode::Ok;
}

}  // namespace

TEST_CASE("retell: create-phone-call carries the documented fields and the bearer key") {
  TestServer server([](const SeenRequest&, int) {
    return http_response(201, R"({"call_id":"call_abc","call_status":"registered","agent_id":"agent_42"})");
  });
  IoThread io;
  auto p = make_voice_provider(config_for("retell", server.base_url()), io.io.get_executor(), make_system_clock());
  const auto result = p->async_place_call(sample_request(), asio::use_future).get();
  CHECK(result.provider_call_id == "call_abc");
  CHECK(result.status == CallStatus::Queued);
  const auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/v2/create-phone-call");
  CHECK(seen[0].headers.at("authorization") == "Bearer key_abc");
  CHECK(seen[0].headers.at("content-type") == "application/json");
  const auto body = bj::parse(seen[0].body).as_object();
  CHECK(body.at("from_number") == "+15550001111");
  CHECK(body.at("to_number") == "+15557654321");
  CHECK(body.at("override_agent_id") == "agent_42");
  CHECK(body.at("retell_llm_dynamic_variables").at("first_name") == "Dana");
  CHECK(body.at("metadata").at("lead_id") == "lead-9");
}

TEST_CASE("retell: get-call and stop-call") {
  TestServer server([](const SeenRequest& r, int) -> std::optional<std::string> {
    if (r.target == "/v2/get-call/call_abc")
      return http_response(200, R"({"call_id":"call_abc","call_status":"not_connected","disconnection_reason":"dial_busy",
        "start_timestamp":1700000000000,"end_timestamp":1700000005000,"duration_ms":5000})");
    if (r.target == "/v2/get-call/call_ok")
      return http_response(200, R"({"call_id":"call_ok","call_status":"ended","disconnection_reason":"user_hangup",
        "start_timestamp":1700000000000,"end_timestamp":1700000090000,"duration_ms":90000,
        "call_analysis":{"call_summary":"Booked a trial.","in_voicemail":false},"call_cost":{"combined_cost":12.5}})");
    if (r.target == "/v2/stop-call/call_abc") return http_response(204, "");
    if (r.target == "/v2/stop-call/call_ok") return http_response(400, R"({"message":"Call is not ongoing"})");
    return http_response(404, R"({"status":"error","message":"Call not found"})");
  });
  IoThread io;
  auto p = make_voice_provider(config_for("retell", server.base_url()), io.io.get_executor(), make_system_clock());
  const auto busy = p->async_get_status("call_abc", asio::use_future).get();
  CHECK(busy.status == CallStatus::Busy);
  CHECK(busy.end_reason == "dial_busy");
  CHECK(busy.duration_s == 5);
  const auto ok = p->async_get_status("call_ok", asio::use_future).get();
  CHECK(ok.status == CallStatus::Completed);
  CHECK(ok.answered_by == AnsweredBy::Human);
  CHECK(ok.summary == "Booked a trial.");
  REQUIRE(ok.cost_usd);
  CHECK(*ok.cost_usd == doctest::Approx(0.125));
  REQUIRE(ok.started_at);
  CHECK(ok.started_at->time_since_epoch().count() == 1700000000000);
  p->async_hang_up("call_abc", asio::use_future).get();
  CHECK(server.requests().back().method == "POST");
  // Hanging up a call that has already ended succeeds (stop-call refuses; get-call shows it ended).
  p->async_hang_up("call_ok", asio::use_future).get();
  CHECK(server.requests().back().target == "/v2/get-call/call_ok");
  CHECK(code_of([&] { p->async_get_status("nope", asio::use_future).get(); }) == ErrorCode::NotFound);
}

TEST_CASE("retell: get-call times and durations outside 1970–9999 read as absent") {
  TestServer server([](const SeenRequest& r, int) -> std::optional<std::string> {
    if (r.target == "/v2/get-call/call_huge")
      return http_response(200, R"({"call_id":"call_huge","call_status":"ended","disconnection_reason":"user_hangup",
        "start_timestamp":5.55556e+25,"end_timestamp":18446744073709551615,"duration_ms":9.2e18})");
    if (r.target == "/v2/get-call/call_neg")
      return http_response(200, R"({"call_id":"call_neg","call_status":"ended","disconnection_reason":"user_hangup",
        "start_timestamp":-1e300,"end_timestamp":1700000090000,"duration_ms":-5})");
    return http_response(404, R"({"status":"error","message":"Call not found"})");
  });
  IoThread io;
  auto p = make_voice_provider(config_for("retell", server.base_url()), io.io.get_executor(), make_system_clock());
  const auto huge = p->async_get_status("call_huge", asio::use_future).get();
  CHECK(huge.status == CallStatus::Completed);
  CHECK_FALSE(huge.started_at);
  CHECK_FALSE(huge.ended_at);
  CHECK_FALSE(huge.duration_s);
  const auto neg = p->async_get_status("call_neg", asio::use_future).get();
  CHECK_FALSE(neg.started_at);
  REQUIRE(neg.ended_at);
  CHECK(neg.ended_at->time_since_epoch().count() == 1700000090000);
  CHECK_FALSE(neg.duration_s);
}

TEST_CASE("a 4xx is ProviderError with the provider's message, phone numbers masked") {
  TestServer server([](const SeenRequest&, int) {
    return http_response(400, R"({"status":"error","message":"to_number +15557654321 is not a valid number"})");
  });
  IoThread io;
  auto p = make_voice_provider(config_for("retell", server.base_url()), io.io.get_executor(), make_system_clock());
  std::string message;
  CHECK(code_of([&] { p->async_place_call(sample_request(), asio::use_future).get(); }, &message) ==
        ErrorCode::ProviderError);
  CHECK(message.find("400") != std::string::npos);
  CHECK(message.find("is not a valid number") != std::string::npos);
  CHECK(message.find("+15557654321") == std::string::npos);
  CHECK(message.find("4321") != std::string::npos);
  CHECK(server.requests().size() == 1);  // never retried
}

TEST_CASE("429 with Retry-After is retried (Retry-After honoured, capped), then succeeds") {
  TestServer server([](const SeenRequest&, int i) {
    if (i == 0) return http_response(429, R"({"message":"slow down"})", "Retry-After: 2\r\n");
    return http_response(201, R"({"call_id":"call_after_429","call_status":"registered"})");
  });
  IoThread io;
  auto sink = std::make_shared<MemoryLogSink>();
  auto logger = std::make_shared<Logger>(sink, LogLevel::Debug);
  auto cfg = config_for("retell", server.base_url());
  cfg.options["retry_after_max_ms"] = "60";  // 2 s asked, capped to 60 ms; backoff alone would be ≤ 5 ms
  auto p = make_voice_provider(cfg, io.io.get_executor(), make_system_clock(), logger);
  // A create-call is retried on 429: the provider did not take it.
  CHECK(p->async_place_call(sample_request(), asio::use_future).get().provider_call_id == "call_after_429");
  CHECK(server.requests().size() == 2);
  bool saw_retry = false;
  for (const auto& r : sink->records())
    for (const auto& [k, v] : r.fields)
      if (k == "delay_ms" && v == "60") saw_retry = true;
  CHECK(saw_retry);
  // Nothing in the logs shows the full number.
  for (const auto& line : sink->lines()) CHECK(line.find("+15557654321") == std::string::npos);
}

TEST_CASE("429 on every attempt is RateLimited after max_retries") {
  TestServer server([](const SeenRequest&, int) { return http_response(429, R"({"message":"rate limit"})"); });
  IoThread io;
  auto p = make_voice_provider(config_for("retell", server.base_url()), io.io.get_executor(), make_system_clock());
  CHECK(code_of([&] { p->async_get_status("call_x", asio::use_future).get(); }) == ErrorCode::RateLimited);
  CHECK(server.requests().size() == 3);  // 1 + max_retries
}

TEST_CASE("5xx: reads are retried, a create-call is not") {
  TestServer server([](const SeenRequest& r, int i) {
    if (r.method == "GET" && i < 2) return http_response(503, R"({"message":"busy"})");
    if (r.method == "GET") return http_response(200, R"({"call_id":"c1","call_status":"ongoing"})");
    return http_response(500, R"({"message":"internal"})");
  });
  IoThread io;
  auto p = make_voice_provider(config_for("retell", server.base_url()), io.io.get_executor(), make_system_clock());
  CHECK(p->async_get_status("c1", asio::use_future).get().status == CallStatus::InProgress);
  CHECK(server.requests().size() == 3);
  CHECK(code_of([&] { p->async_place_call(sample_request(), asio::use_future).get(); }) == ErrorCode::ProviderError);
  CHECK(server.requests().size() == 4);  // one POST, not retried
}

TEST_CASE("a server that never answers: Unavailable; a create-call is not sent twice") {
  TestServer server([](const SeenRequest&, int) -> std::optional<std::string> { return std::nullopt; });
  IoThread io;
  auto cfg = config_for("retell", server.base_url());
  cfg.timeout_ms = 200;
  cfg.max_retries = 1;
  auto p = make_voice_provider(cfg, io.io.get_executor(), make_system_clock());
  std::string message;
  CHECK(code_of([&] { p->async_place_call(sample_request(), asio::use_future).get(); }, &message) ==
        ErrorCode::Unavailable);
  CHECK(message.find("may have received") != std::string::npos);
  CHECK(server.requests().size() == 1);
  CHECK(code_of([&] { p->async_get_status("c1", asio::use_future).get(); }) == ErrorCode::Unavailable);
  CHECK(server.requests().size() == 3);  // the read was tried twice
}

TEST_CASE("connection refused: Unavailable after the retries, for creates too") {
  unsigned short port;
  {
    asio::io_context tmp;
    asio::ip::tcp::acceptor a(tmp, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  IoThread io;
  auto sink = std::make_shared<MemoryLogSink>();
  auto cfg = config_for("vapi", "http://127.0.0.1:" + std::to_string(port));
  auto p = make_voice_provider(cfg, io.io.get_executor(), make_system_clock(), std::make_shared<Logger>(sink, LogLevel::Debug));
  std::string message;
  CHECK(code_of([&] { p->async_place_call(sample_request(), asio::use_future).get(); }, &message) ==
        ErrorCode::Unavailable);
  CHECK(message.find("cannot connect") != std::string::npos);
  int retries = 0;
  for (const auto& r : sink->records())
    for (const auto& [k, v] : r.fields)
      if (r.operation == "voice.vapi.place_call" && k == "delay_ms") ++retries;
  CHECK(retries == 2);
}

TEST_CASE("vapi: POST /call, GET /call/{id}, hang-up through the control URL") {
  std::string control;
  TestServer* self = nullptr;
  TestServer server([&](const SeenRequest& r, int) -> std::optional<std::string> {
    if (r.method == "POST" && r.target == "/call")
      return http_response(201, R"({"id":"vc_1","status":"queued"})");
    if (r.target == "/call/vc_1")
      return http_response(200, R"({"id":"vc_1","status":"in-progress","startedAt":"2026-01-05T15:00:00.000Z",
        "monitor":{"controlUrl":")" + self->base_url() + R"(/control/vc_1"}})");
    if (r.target == "/call/vc_2")
      return http_response(200, R"({"id":"vc_2","status":"ended","endedReason":"customer-busy","cost":0.02})");
    if (r.target == "/control/vc_1") return http_response(200, "{}");
    return http_response(404, R"({"message":"Not Found","statusCode":404})");
  });
  self = &server;
  IoThread io;
  auto p = make_voice_provider(config_for("vapi", server.base_url()), io.io.get_executor(), make_system_clock());
  CHECK(p->async_place_call(sample_request(), asio::use_future).get().provider_call_id == "vc_1");
  auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].headers.at("authorization") == "Bearer key_abc");
  const auto body = bj::parse(seen[0].body).as_object();
  CHECK(body.at("phoneNumberId") == "pn_1");
  CHECK(body.at("assistantId") == "agent_42");
  CHECK(body.at("customer").at("number") == "+15557654321");
  CHECK(body.at("assistantOverrides").at("variableValues").at("gym_name") == "Iron Temple");
  CHECK(body.at("metadata").at("gym_id") == "gym-1");

  const auto s = p->async_get_status("vc_2", asio::use_future).get();
  CHECK(s.status == CallStatus::Busy);
  CHECK(s.end_reason == "customer-busy");
  p->async_hang_up("vc_1", asio::use_future).get();
  seen = server.requests();
  CHECK(seen.back().target == "/control/vc_1");
  CHECK(seen.back().method == "POST");
  CHECK(bj::parse(seen.back().body).at("type") == "end-call");
  CHECK(seen.back().headers.count("authorization") == 0);  // the API key stays with the API

  // A request without an assistant is refused before anything is sent.
  auto bad = sample_request();
  bad.assistant_id.clear();
  std::string message;
  CHECK(code_of([&] { p->async_place_call(bad, asio::use_future).get(); }, &message) == ErrorCode::InvalidArgument);
  CHECK(message.rfind("assistant_id", 0) == 0);
}

TEST_CASE("twilio: form-encoded Calls.json with basic auth; fetch; hang up with Status=completed") {
  TestServer server([](const SeenRequest& r, int) -> std::optional<std::string> {
    if (r.method == "POST" && r.target == "/2010-04-01/Accounts/AC123/Calls.json")
      return http_response(201, R"({"sid":"CA9","status":"queued"})");
    if (r.method == "GET" && r.target == "/2010-04-01/Accounts/AC123/Calls/CA9.json")
      return http_response(200, R"({"sid":"CA9","status":"completed","answered_by":"machine_start","duration":"42",
        "start_time":"Mon, 05 Jan 2026 15:00:00 +0000","end_time":"Mon, 05 Jan 2026 15:00:42 +0000",
        "price":"-0.01300","price_unit":"USD"})");
    if (r.method == "POST" && r.target == "/2010-04-01/Accounts/AC123/Calls/CA9.json")
      return http_response(200, R"({"sid":"CA9","status":"completed"})");
    return http_response(404, R"({"code":20404,"message":"The requested resource was not found","status":404})");
  });
  IoThread io;
  auto p = make_voice_provider(config_for("twilio", server.base_url()), io.io.get_executor(), make_system_clock());
  CHECK(p->async_place_call(sample_request(), asio::use_future).get().provider_call_id == "CA9");
  auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].headers.at("authorization") == "Basic QUMxMjM6dG9rZW4xMjM=");  // AC123:token123
  CHECK(seen[0].headers.at("content-type") == "application/x-www-form-urlencoded");
  const auto& b = seen[0].body;
  CHECK(b.find("To=%2B15557654321") != std::string::npos);
  CHECK(b.find("From=%2B15550001111") != std::string::npos);
  CHECK(b.find("Url=https%3A%2F%2Fexample.test%2Ftwiml") != std::string::npos);
  CHECK(b.find("StatusCallback=https%3A%2F%2Fexample.test%2Fstatus") != std::string::npos);
  CHECK(b.find("StatusCallbackEvent=answered") != std::string::npos);
  CHECK(b.find("MachineDetection=Enable") != std::string::npos);

  const auto s = p->async_get_status("CA9", asio::use_future).get();
  CHECK(s.status == CallStatus::Completed);
  CHECK(s.answered_by == AnsweredBy::Machine);
  CHECK(s.duration_s == 42);
  REQUIRE(s.cost_usd);
  CHECK(*s.cost_usd == doctest::Approx(0.013));
  REQUIRE(s.ended_at);
  CHECK(*s.ended_at - *s.started_at == std::chrono::seconds{42});

  p->async_hang_up("CA9", asio::use_future).get();
  CHECK(server.requests().back().body == "Status=completed");
  std::string message;
  CHECK(code_of([&] { p->async_get_status("CA404", asio::use_future).get(); }, &message) == ErrorCode::NotFound);
  CHECK(message.find("20404") != std::string::npos);
}

TEST_CASE("configuration errors name the option") {
  IoThread io;
  auto cfg = config_for("twilio", "https://api.twilio.test");
  cfg.options.erase("twiml_url");
  std::string message;
  CHECK(code_of([&] { make_voice_provider(cfg, io.io.get_executor(), make_system_clock()); }, &message) ==
        ErrorCode::InvalidArgument);
  CHECK(message.rfind("options.twiml_url", 0) == 0);
  cfg = config_for("retell", "ftp://x");
  CHECK(code_of([&] { make_voice_provider(cfg, io.io.get_executor(), make_system_clock()); }, &message) ==
        ErrorCode::InvalidArgument);
  CHECK(message.rfind("base_url", 0) == 0);
  cfg = config_for("retell", "https://api.retellai.test");
  cfg.options["colour"] = "blue";
  CHECK(code_of([&] { make_voice_provider(cfg, io.io.get_executor(), make_system_clock()); }, &message) ==
        ErrorCode::InvalidArgument);
  CHECK(message.rfind("options.colour", 0) == 0);
}

TEST_CASE("HTTPS: verified against a CA given in options.ca_file; refused without it") {
  const auto cert = gymdash::test::TestCertificate::make();
  TestServer server([](const SeenRequest&, int) { return http_response(201, R"({"call_id":"tls_1"})"); }, &cert);
  gymdash::test::TempPath ca("voice-ca");
  {
    std::ofstream out(ca.str());
    out << cert.cert_pem;
  }
  IoThread io;
  auto cfg = config_for("retell", server.base_url());
  cfg.max_retries = 0;
  auto untrusted = make_voice_provider(cfg, io.io.get_executor(), make_system_clock());
  std::string message;
  CHECK(code_of([&] { untrusted->async_place_call(sample_request(), asio::use_future).get(); }, &message) ==
        ErrorCode::Unavailable);
  CHECK(message.find("TLS") != std::string::npos);
  CHECK(server.requests().empty());

  cfg.options["ca_file"] = ca.str();
  auto trusted = make_voice_provider(cfg, io.io.get_executor(), make_system_clock());
  CHECK(trusted->async_place_call(sample_request(), asio::use_future).get().provider_call_id == "tls_1");
  CHECK(server.requests().size() == 1);
}

TEST_CASE("keep-alive: idempotent requests reuse one connection") {
  TestServer server([](const SeenRequest&, int) {
    return http_response(200, R"({"call_id":"c1","call_status":"ongoing"})");
  });
  IoThread io;
  auto p = make_voice_provider(config_for("retell", server.base_url()), io.io.get_executor(), make_system_clock());
  for (int i = 0; i < 3; ++i) p->async_get_status("c1", asio::use_future).get();
  CHECK(server.requests().size() == 3);
  CHECK(server.connections() == 1);
}

TEST_CASE("completion tokens: a callback and use_awaitable") {
  TestServer server([](const SeenRequest&, int) {
    return http_response(200, R"({"call_id":"c1","call_status":"ongoing"})");
  });
  IoThread io;
  auto p = make_voice_provider(config_for("retell", server.base_url()), io.io.get_executor(), make_system_clock());
  std::promise<CallStatus> cb;
  p->async_get_status("c1", [&](std::exception_ptr e, CallStatusReport r) {
    CHECK(!e);
    cb.set_value(r.status);
  });
  CHECK(cb.get_future().get() == CallStatus::InProgress);
  auto f = asio::co_spawn(
      io.io,
      [&]() -> asio::awaitable<CallStatus> {
        auto r = co_await p->async_get_status("c1", asio::use_awaitable);
        co_return r.status;
      },
      asio::use_future);
  CHECK(f.get() == CallStatus::InProgress);
}
