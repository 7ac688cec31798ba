// Retell AI (https://docs.retellai.com): create-phone-call, get-call,
// stop-call. Endpoints and fields: docs/voice.md.
#include "voice/provider_util.hpp"

#include <gymdash/error.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace gymdash::voice {

namespace bj = boost::json;

namespace {

std::optional<std::int64_t> int_member(const bj::value& v, std::string_view key) {
  if (!v.is_object()) return std::nullopt;
  const auto* m = v.get_object().if_contains(key);
  if (!m) return std::nullopt;
  if (m->is_int64()) return m->get_int64();
  if (m->is_uint64() && m->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(m->get_uint64());
  // A double outside int64 must not be converted (undefined behaviour): such a
  // value reads as absent, like any other member of the wrong type.
  if (m->is_double() && m->get_double() >= -9223372036854775808.0 && m->get_double() < 9223372036854775808.0)
    return static_cast<std::int64_t>(m->get_double());
  return std::nullopt;
}

// Retell's call_status (registered, ongoing, ended, not_connected, error) and
// disconnection_reason, in our terms.
void map_status(const bj::value& call, CallStatus& status, AnsweredBy& answered_by) {
  const auto s = str_member(call, "call_status");
  const auto reason = str_member(call, "disconnection_reason");
  bool voicemail = reason == "voicemail_reached" || reason == "machine_detected";
  if (const auto* a = call.is_object() ? call.get_object().if_contains("call_analysis") : nullptr)
    if (a->is_object())
      if (const auto* iv = a->get_object().if_contains("in_voicemail"); iv && iv->is_bool() && iv->get_bool())
        voicemail = true;
  answered_by = AnsweredBy::Unknown;
  if (s == "registered") {
    status = CallStatus::Queued;
  } else if (s == "ongoing") {
    status = CallStatus::InProgress;
  } else if (s == "ended") {
    status = CallStatus::Completed;
    answered_by = voicemail ? AnsweredBy::Machine : AnsweredBy::Human;
  } else if (s == "not_connected") {
    status = reason == "dial_busy" ? CallStatus::Busy : reason == "dial_no_answer" ? CallStatus::NoAnswer : CallStatus::Failed;
  } else if (s == "error") {
    status = CallStatus::Failed;
  } else {
    status = CallStatus::Queued;  // a state Retell may add later: not final
  }
}

class RetellProvider final : public HttpProvider {
 public:
  RetellProvider(const VoiceProviderConfig& config, boost::asio::any_io_executor ex, std::shared_ptr<Logger> logger)
      : HttpProvider("retell", std::move(ex), http_options(config, "https://api.retellai.com", {}), std::move(logger)) {
    if (config.api_key.empty()) throw_invalid("api_key_env", "the API key is empty");
    set_authorization("Bearer " + config.api_key);
  }

  void place_call(PlaceCallRequest request, PlaceCallHandler handler) override {
    try {
      validate_place_call_request(request, false);
    } catch (...) {
      return fail(std::move(handler), std::current_exception(), PlaceCallResult{});
    }
    bj::object body{{"from_number", request.from}, {"to_number", request.to}};
    if (!request.assistant_id.empty()) body["override_agent_id"] = request.assistant_id;
    if (!request.dynamic_variables.empty()) body["retell_llm_dynamic_variables"] = bj::value_from(request.dynamic_variables);
    if (!request.metadata.empty()) body["metadata"] = bj::value_from(request.metadata);
    HttpRequest r = make("POST", "/v2/create-phone-call", "voice.retell.place_call");
    r.content_type = "application/json";
    r.body = bj::serialize(body);
    r.retry = RetryPolicy::NotAfterSent;
    send<PlaceCallResult>(
        std::move(r), std::move(handler),
        [](const HttpResponse& res) {
          if (res.status < 200 || res.status > 299) throw_for_status(res, "place_call", "retell", false);
          const auto jv = parse_body(res, "place_call");
          PlaceCallResult out;
          out.provider_call_id = str_member(jv, "call_id");
          if (out.provider_call_id.empty()) throw ProviderError("place_call: retell's answer has no call_id");
          AnsweredBy ignored;
          map_status(jv, out.status, ignored);
          return out;
        },
        std::make_shared<const PlaceCallRequest>(std::move(request)));
  }

  // stop-call refuses a call that is no longer ongoing; then get-call tells
  // whether it has ended anyway (success) or the refusal stands.
  void hang_up(std::string id, HangUpHandler handler) override {
    if (id.empty()) return fail(std::move(handler), invalid_id());
    HttpRequest r = make("POST", "/v2/stop-call/" + path_encode(id), "voice.retell.hang_up");
    auto refusal = std::make_shared<std::optional<HttpResponse>>();
    send<std::monostate>(
        std::move(r),
        [handler = std::move(handler), refusal, client = client(), check = make("GET", "/v2/get-call/" + path_encode(id), "voice.retell.hang_up"),
         ex = get_executor()](std::exception_ptr e) mutable {
          if (e || !*refusal) return complete(std::move(handler), ex, e);
          client->request(std::move(check), [handler = std::move(handler), refusal, ex](std::exception_ptr e2,
                                                                                      HttpResponse res) mutable {
            if (!e2) {
              CallStatus status = CallStatus::Queued;
              AnsweredBy ignored;
              boost::system::error_code ec;
              const auto jv = bj::parse(res.body, ec);
              if (res.status >= 200 && res.status <= 299 && !ec) map_status(jv, status, ignored);
              if (!is_terminal(status)) {
                try {
                  throw_for_status(**refusal, "hang_up", "retell", true);
                } catch (...) {
                  e2 = std::current_exception();
                }
              }
            }
            complete(std::move(handler), ex, e2);
          });
        },
        [refusal](const HttpResponse& res) {
          if (res.status == 400 || res.status == 409 || res.status == 422) *refusal = res;
          else if (res.status < 200 || res.status > 299) throw_for_status(res, "hang_up", "retell", true);
          return std::monostate{};
        },
        {}, id);
  }

  void get_status(std::string id, StatusHandler handler) override {
    if (id.empty()) return fail(std::move(handler), invalid_id(), CallStatusReport{});
    HttpRequest r = make("GET", "/v2/get-call/" + path_encode(id), "voice.retell.get_status");
    send<CallStatusReport>(
        std::move(r), std::move(handler),
        [id](const HttpResponse& res) {
          if (res.status < 200 || res.status > 299) throw_for_status(res, "get_status", "retell", true);
          const auto jv = parse_body(res, "get_status");
          CallStatusReport out;
          out.provider_call_id = str_member(jv, "call_id");
          if (out.provider_call_id.empty()) out.provider_call_id = id;
          map_status(jv, out.status, out.answered_by);
          // Milliseconds since 1970 up to 9999-12-31 (what timestamps print);
          // a time or a duration outside that reads as absent.
          constexpr std::int64_t kLastMillis = 253'402'300'799'999;
          const auto millis = [&jv](std::string_view key) -> std::optional<std::int64_t> {
            auto t = int_member(jv, key);
            if (t && (*t < 0 || *t > kLastMillis)) t.reset();
            return t;
          };
          if (auto t = millis("start_timestamp")) out.started_at = Timestamp{std::chrono::milliseconds{*t}};
          if (auto t = millis("end_timestamp")) out.ended_at = Timestamp{std::chrono::milliseconds{*t}};
          if (auto d = millis("duration_ms")) out.duration_s = (*d + 500) / 1000;
          else if (out.started_at && out.ended_at)
            out.duration_s = std::chrono::duration_cast<std::chrono::seconds>(*out.ended_at - *out.started_at).count();
          out.end_reason = str_member(jv, "disconnection_reason");
          if (jv.is_object()) {
            const auto& o = jv.get_object();
            if (const auto* a = o.if_contains("call_analysis")) out.summary = str_member(*a, "call_summary");
            if (const auto* c = o.if_contains("call_cost"))
              if (auto cents = c->is_object() ? c->get_object().if_contains("combined_cost") : nullptr;
                  cents && cents->is_number())
                out.cost_usd = cents->to_number<double>() / 100.0;  // Retell reports cents
          }
          return out;
        },
        {}, id);
  }
};

}  // namespace

std::unique_ptr<VoiceProvider> make_retell_provider(const VoiceProviderConfig& config,
                                                    boost::asio::any_io_executor executor,
                                                    std::shared_ptr<Logger> logger) {
  return std::make_unique<RetellProvider>(config, std::move(executor), std::move(logger));
}

}  // namespace gymdash::voice
