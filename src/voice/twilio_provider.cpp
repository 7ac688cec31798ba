// Twilio Programmable Voice (https://www.twilio.com/docs/voice/api/call-resource):
// create, fetch and update (Status=completed) a Call resource. Endpoints and
// fields: docs/voice.md.
#include "voice/provider_util.hpp"

#include <gymdash/error.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <sstream>

namespace gymdash::voice {

namespace bj = boost::json;

namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// Twilio's dates: RFC 2822, "Tue, 10 Aug 2010 08:02:17 +0000".
std::optional<Timestamp> parse_rfc2822(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::tm tm{};
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S");
  if (in.fail()) return std::nullopt;
  std::string zone;
  in >> zone;
  long offset_min = 0;
  if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-')) {
    offset_min = std::stol(zone.substr(1, 2)) * 60 + std::stol(zone.substr(3, 2));
    if (zone[0] == '-') offset_min = -offset_min;
  }
  const auto t = std::chrono::system_clock::from_time_t(timegm(&tm)) - std::chrono::minutes{offset_min};
  return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
}

CallStatus map_status(const std::string& s) {
  if (s == "queued") return CallStatus::Queued;
  if (s == "ringing") return CallStatus::Ringing;
  if (s == "in-progress") return CallStatus::InProgress;
  if (s == "completed") return CallStatus::Completed;
  if (s == "busy") return CallStatus::Busy;
  if (s == "no-answer") return CallStatus::NoAnswer;
  if (s == "failed") return CallStatus::Failed;
  if (s == "canceled") return CallStatus::Canceled;
  return CallStatus::Queued;
}

AnsweredBy map_answered_by(const std::string& a) {
  if (a == "human") return AnsweredBy::Human;
  if (a.rfind("machine", 0) == 0 || a == "fax") return AnsweredBy::Machine;
  return AnsweredBy::Unknown;
}

class TwilioProvider final : public HttpProvider {
 public:
  TwilioProvider(const VoiceProviderConfig& config, boost::asio::any_io_executor ex, std::shared_ptr<Logger> logger)
      : HttpProvider("twilio", std::move(ex),
                     http_options(config, "https://api.twilio.com",
                                  {"twiml_url", "stream_url", "status_callback", "status_callback_event",
                                   "machine_detection"}),
                     std::move(logger)) {
    if (config.account_sid.empty()) throw_invalid("account_sid", "is required for a twilio provider");
    if (config.account_sid.size() > 64 ||
        !std::all_of(config.account_sid.begin(), config.account_sid.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
      throw_invalid("account_sid", "must be letters and digits (AC…)");
    if (config.api_key.empty()) throw_invalid("api_key_env", "the auth token is empty");
    set_authorization("Basic " + base64(config.account_sid + ":" + config.api_key));
    calls_path_ = "/2010-04-01/Accounts/" + config.account_sid + "/Calls";
    const auto opt = [&](const char* k) {
      const auto it = config.options.find(k);
      return it == config.options.end() ? std::string{} : it->second;
    };
    twiml_url_ = opt("twiml_url");
    stream_url_ = opt("stream_url");
    status_callback_ = opt("status_callback");
    machine_detection_ = config.options.contains("machine_detection") ? opt("machine_detection") : "Enable";
    const auto events = config.options.contains("status_callback_event") ? opt("status_callback_event")
                                                                          : "initiated ringing answered completed";
    std::istringstream in(events);
    for (std::string e; in >> e;) {
      if (e != "initiated" && e != "ringing" && e != "answered" && e != "completed")
        throw_invalid("options.status_callback_event", fmt::format("\"{}\" is not initiated, ringing, answered or completed", e));
      events_.push_back(e);
    }
    if (twiml_url_.empty() == stream_url_.empty())
      throw_invalid("options.twiml_url", "a twilio provider needs exactly one of options.twiml_url (the call's TwiML) "
                                         "or options.stream_url (the assistant's media stream)");
    for (const auto* u : {&twiml_url_, &stream_url_, &status_callback_})
      if (!u->empty() && u->rfind("https://", 0) != 0 && u->rfind("http://", 0) != 0 && u->rfind("wss://", 0) != 0)
        throw_invalid("options", fmt::format("\"{}\" is not a URL", u->substr(0, 100)));
    if (machine_detection_ != "" && machine_detection_ != "Enable" && machine_detection_ != "DetectMessageEnd")
      throw_invalid("options.machine_detection", "must be Enable, DetectMessageEnd or \"\" (off)");
  }

  void place_call(PlaceCallRequest request, PlaceCallHandler handler) override {
    try {
      validate_place_call_request(request, false);
    } catch (...) {
      return fail(std::move(handler), std::current_exception(), PlaceCallResult{});
    }
    std::string form = "To=" + form_encode(request.to) + "&From=" + form_encode(request.from);
    if (!twiml_url_.empty()) {
      form += "&Url=" + form_encode(twiml_url_);
    } else {
      // The assistant gets our ids and variables as <Stream> custom parameters.
      std::string twiml = "<Response><Connect><Stream url=\"" + xml_escape(stream_url_) + "\">";
      const auto param = [&](std::string_view name, std::string_view value) {
        twiml += "<Parameter name=\"" + xml_escape(name) + "\" value=\"" + xml_escape(value) + "\"/>";
      };
      if (!request.assistant_id.empty()) param("assistant_id", request.assistant_id);
      for (const auto& [k, v] : request.dynamic_variables) param(k, v);
      for (const auto& [k, v] : request.metadata) param(k, v);
      twiml += "</Stream></Connect></Response>";
      form += "&Twiml=" + form_encode(twiml);
    }
    if (!status_callback_.empty()) {
      form += "&StatusCallback=" + form_encode(status_callback_);
      for (const auto& e : events_) form += "&StatusCallbackEvent=" + e;
    }
    if (!machine_detection_.empty()) form += "&MachineDetection=" + machine_detection_;
    HttpRequest r = make("POST", calls_path_ + ".json", "voice.twilio.place_call");
    r.content_type = "application/x-www-form-urlencoded";
    r.body = std::move(form);
    r.retry = RetryPolicy::NotAfterSent;
    send<PlaceCallResult>(
        std::move(r), std::move(handler),
        [](const HttpResponse& res) {
          if (res.status < 200 || res.status > 299) throw_for_status(res, "place_call", "twilio", false);
          const auto jv = parse_body(res, "place_call");
          PlaceCallResult out;
          out.provider_call_id = str_member(jv, "sid");
          if (out.provider_call_id.empty()) throw ProviderError("place_call: twilio's answer has no sid");
          out.status = map_status(str_member(jv, "status"));
          return out;
        },
        std::make_shared<const PlaceCallRequest>(std::move(request)));
  }

  // Updating a Call with Status=completed hangs it up; Twilio answers with the
  // call, also when it had already ended, so this is safe to repeat.
  void hang_up(std::string id, HangUpHandler handler) override {
    if (id.empty()) return fail(std::move(handler), invalid_id());
    HttpRequest r = make("POST", calls_path_ + "/" + path_encode(id) + ".json", "voice.twilio.hang_up");
    r.content_type = "application/x-www-form-urlencoded";
    r.body = "Status=completed";
    send<std::monostate>(
        std::move(r), std::move(handler),
        [](const HttpResponse& res) {
          if (res.status < 200 || res.status > 299) throw_for_status(res, "hang_up", "twilio", true);
          return std::monostate{};
        },
        {}, id);
  }

  void get_status(std::string id, StatusHandler handler) override {
    if (id.empty()) return fail(std::move(handler), invalid_id(), CallStatusReport{});
    HttpRequest r = make("GET", calls_path_ + "/" + path_encode(id) + ".json", "voice.twilio.get_status");
    send<CallStatusReport>(
        std::move(r), std::move(handler),
        [id](const HttpResponse& res) {
          if (res.status < 200 || res.status > 299) throw_for_status(res, "get_status", "twilio", true);
          const auto jv = parse_body(res, "get_status");
          CallStatusReport out;
          out.provider_call_id = str_member(jv, "sid");
          if (out.provider_call_id.empty()) out.provider_call_id = id;
          out.status = map_status(str_member(jv, "status"));
          out.answered_by = map_answered_by(str_member(jv, "answered_by"));
          out.started_at = parse_rfc2822(str_member(jv, "start_time"));
          out.ended_at = parse_rfc2822(str_member(jv, "end_time"));
          const auto duration = str_member(jv, "duration");
          if (!duration.empty() && std::all_of(duration.begin(), duration.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
              duration.size() < 10)
            out.duration_s = std::stoll(duration);
          const auto price = str_member(jv, "price");
          if (!price.empty() && str_member(jv, "price_unit") == "USD") {
            try {
              out.cost_usd = std::abs(std::stod(price));  // Twilio reports charges as negative amounts
            } catch (...) {
            }
          }
          out.end_reason = str_member(jv, "status");
          return out;
        },
        {}, id);
  }

 private:
  std::string calls_path_;
  std::string twiml_url_, stream_url_, status_callback_, machine_detection_;
  std::vector<std::string> events_;
};

}  // namespace

std::unique_ptr<VoiceProvider> make_twilio_provider(const VoiceProviderConfig& config,
                                                    boost::asio::any_io_executor executor,
                                                    std::shared_ptr<Logger> logger) {
  return std::make_unique<TwilioProvider>(config, std::move(executor), std::move(logger));
}

}  // namespace gymdash::voice
