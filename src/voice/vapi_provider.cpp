// Vapi (https://docs.vapi.ai): POST /call, GET /call/{id}, and ending a live
// call through its monitor.controlUrl. Endpoints and fields: docs/voice.md.
#include "voice/provider_util.hpp"

#include <gymdash/error.hpp>
#include <gymdash/phone.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace gymdash::voice {

namespace bj = boost::json;

namespace {

const bj::value* member(const bj::value& v, std::string_view key) {
  return v.is_object() ? v.get_object().if_contains(key) : nullptr;
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// Vapi's status (scheduled, queued, ringing, in-progress, forwarding, ended) and endedReason.
void map_status(const bj::value& call, CallStatus& status, AnsweredBy& answered_by) {
  const auto s = str_member(call, "status");
  const auto reason = str_member(call, "endedReason");
  answered_by = AnsweredBy::Unknown;
  if (s == "scheduled" || s == "queued" || s.empty()) status = CallStatus::Queued;
  else if (s == "ringing") status = CallStatus::Ringing;
  else if (s == "in-progress" || s == "forwarding") status = CallStatus::InProgress;
  else if (s == "ended") {
    if (contains(reason, "customer-busy")) status = CallStatus::Busy;
    else if (contains(reason, "customer-did-not-answer") || contains(reason, "no-answer")) status = CallStatus::NoAnswer;
    else if (contains(reason, "voicemail")) {
      status = CallStatus::Completed;
      answered_by = AnsweredBy::Machine;
    } else if (contains(reason, "error") || contains(reason, "failed") || contains(reason, "did-not-give")) {
      status = CallStatus::Failed;
    } else {
      status = CallStatus::Completed;
      answered_by = str_member(call, "startedAt").empty() ? AnsweredBy::Unknown : AnsweredBy::Human;
    }
  } else {
    status = CallStatus::Queued;
  }
}

CallStatusReport report_of(const bj::value& jv, const std::string& id) {
  CallStatusReport out;
  out.provider_call_id = str_member(jv, "id");
  if (out.provider_call_id.empty()) out.provider_call_id = id;
  map_status(jv, out.status, out.answered_by);
  out.started_at = try_parse_timestamp(str_member(jv, "startedAt"));
  out.ended_at = try_parse_timestamp(str_member(jv, "endedAt"));
  if (out.started_at && out.ended_at)
    out.duration_s = std::chrono::duration_cast<std::chrono::seconds>(*out.ended_at - *out.started_at).count();
  out.end_reason = str_member(jv, "endedReason");
  if (const auto* c = member(jv, "cost"); c && c->is_number()) out.cost_usd = c->to_number<double>();
  if (const auto* a = member(jv, "analysis")) out.summary = str_member(*a, "summary");
  return out;
}

class VapiProvider final : public HttpProvider {
 public:
  VapiProvider(const VoiceProviderConfig& config, boost::asio::any_io_executor ex, std::shared_ptr<Logger> logger)
      : HttpProvider("vapi", std::move(ex), http_options(config, "https://api.vapi.ai", known_options(config)),
                     std::move(logger)) {
    if (config.api_key.empty()) throw_invalid("api_key_env", "the API key is empty");
    set_authorization("Bearer " + config.api_key);
    for (const auto& [k, v] : config.options) {
      if (k == "phone_number_id") default_number_id_ = v;
      else if (k.rfind("phone_number_id.", 0) == 0) {
        const auto number = k.substr(16);
        if (!is_e164(number)) throw_invalid("options." + k, "must end in an E.164 number");
        number_ids_[number] = v;
      }
    }
  }

  void place_call(PlaceCallRequest request, PlaceCallHandler handler) override {
    std::string number_id;
    try {
      validate_place_call_request(request, true);
      const auto it = number_ids_.find(request.from);
      number_id = it != number_ids_.end() ? it->second : default_number_id_;
      if (number_id.empty())
        throw_invalid("from", fmt::format("no Vapi phone number id for {} (set options.phone_number_id or "
                                          "options.phone_number_id.<number>)",
                                          mask_phone(request.from)));
    } catch (...) {
      return fail(std::move(handler), std::current_exception(), PlaceCallResult{});
    }
    bj::object body{{"phoneNumberId", number_id},
                    {"assistantId", request.assistant_id},
                    {"customer", bj::object{{"number", request.to}}}};
    if (!request.dynamic_variables.empty())
      body["assistantOverrides"] = bj::object{{"variableValues", bj::value_from(request.dynamic_variables)}};
    if (!request.metadata.empty()) body["metadata"] = bj::value_from(request.metadata);
    HttpRequest r = make("POST", "/call", "voice.vapi.place_call");
    r.content_type = "application/json";
    r.body = bj::serialize(body);
    r.retry = RetryPolicy::NotAfterSent;
    send<PlaceCallResult>(
        std::move(r), std::move(handler),
        [](const HttpResponse& res) {
          if (res.status < 200 || res.status > 299) throw_for_status(res, "place_call", "vapi", false);
          const auto jv = parse_body(res, "place_call");
          PlaceCallResult out;
          out.provider_call_id = str_member(jv, "id");
          if (out.provider_call_id.empty()) throw ProviderError("place_call: vapi's answer has no id");
          AnsweredBy ignored;
          map_status(jv, out.status, ignored);
          return out;
        },
        std::make_shared<const PlaceCallRequest>(std::move(request)));
  }

  // Vapi ends a live call through the call's control URL ({"type":"end-call"});
  // DELETE /call/{id} would delete the call's data instead. The URL is read
  // from the call first; a call that has already ended is left alone.
  void hang_up(std::string id, HangUpHandler handler) override {
    if (id.empty()) return fail(std::move(handler), invalid_id());
    HttpRequest r = make("GET", "/call/" + path_encode(id), "voice.vapi.hang_up");
    auto control_url = std::make_shared<std::string>();
    auto self_client = client();
    // Step 1: read the call; step 2 (inside the handler below): post end-call to its control URL.
    send<std::monostate>(
        std::move(r),
        [handler = std::move(handler), control_url, self_client,
         ex = get_executor()](std::exception_ptr e) mutable {
          if (e || control_url->empty()) return complete(std::move(handler), ex, e);
          HttpRequest end;
          end.method = "POST";
          end.url = *control_url;
          end.operation = "voice.vapi.hang_up";
          end.content_type = "application/json";
          end.body = R"({"type":"end-call"})";
          // No Authorization header: the control URL carries its own token, and the API key
          // is never sent to a host taken from a response.
          self_client->request(std::move(end), [handler = std::move(handler), ex](std::exception_ptr e2,
                                                                                  HttpResponse res) mutable {
            if (!e2 && (res.status < 200 || res.status > 299)) {
              try {
                throw_for_status(res, "hang_up", "vapi", true);
              } catch (...) {
                e2 = std::current_exception();
              }
            }
            complete(std::move(handler), ex, e2);
          });
        },
        [control_url](const HttpResponse& res) {
          if (res.status < 200 || res.status > 299) throw_for_status(res, "hang_up", "vapi", true);
          const auto jv = parse_body(res, "hang_up");
          if (str_member(jv, "status") == "ended") return std::monostate{};
          if (const auto* m = member(jv, "monitor")) *control_url = str_member(*m, "controlUrl");
          if (control_url->empty())
            throw ProviderError("hang_up: vapi's call has no monitor.controlUrl (live call control is off)");
          return std::monostate{};
        },
        {}, id);
  }

  void get_status(std::string id, StatusHandler handler) override {
    if (id.empty()) return fail(std::move(handler), invalid_id(), CallStatusReport{});
    HttpRequest r = make("GET", "/call/" + path_encode(id), "voice.vapi.get_status");
    send<CallStatusReport>(
        std::move(r), std::move(handler),
        [id](const HttpResponse& res) {
          if (res.status < 200 || res.status > 299) throw_for_status(res, "get_status", "vapi", true);
          return report_of(parse_body(res, "get_status"), id);
        },
        {}, id);
  }

 private:
  static std::set<std::string, std::less<>> known_options(const VoiceProviderConfig& config) {
    std::set<std::string, std::less<>> known{"phone_number_id"};
    for (const auto& [k, v] : config.options)
      if (k.rfind("phone_number_id.", 0) == 0) known.insert(k);
    return known;
  }

  std::string default_number_id_;
  std::map<std::string, std::string> number_ids_;
};

}  // namespace

std::unique_ptr<VoiceProvider> make_vapi_provider(const VoiceProviderConfig& config,
                                                  boost::asio::any_io_executor executor,
                                                  std::shared_ptr<Logger> logger) {
  return std::make_unique<VapiProvider>(config, std::move(executor), std::move(logger));
}

}  // namespace gymdash::voice
