// The provider-neutral half of the voice layer: request checks, JSON forms,
// the factory that picks an implementation, and helpers the HTTP providers
// share (status → error, options, logging).
#include <gymdash/voice.hpp>

#include "core/json_reader.hpp"
#include "voice/provider_util.hpp"

#include <gymdash/error.hpp>
#include <gymdash/log.hpp>
#include <gymdash/phone.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>

namespace gymdash {

namespace bj = boost::json;

namespace {

void check_map(const std::map<std::string, std::string>& m, std::string_view name) {
  if (m.size() > 100) throw_invalid(name, fmt::format("has {} entries; at most 100", m.size()));
  for (const auto& [k, v] : m) {
    if (k.empty() || k.size() > 64) throw_invalid(name, fmt::format("key \"{}\" must have 1–64 bytes", k.substr(0, 64)));
    if (v.size() > 1000) throw_invalid(fmt::format("{}.{}", name, k), "is longer than 1000 bytes");
  }
}

void check_number(std::string_view value, std::string_view field) {
  if (value.empty()) throw_invalid(field, "is required");
  if (!voice::is_e164(value)) throw_invalid(field, fmt::format("\"{}\" is not an E.164 number (+ and 8–15 digits)", mask_phone(value)));
}

}  // namespace

void validate_place_call_request(const PlaceCallRequest& r, bool require_assistant) {
  check_number(r.to, "to");
  check_number(r.from, "from");
  if (require_assistant && r.assistant_id.empty()) throw_invalid("assistant_id", "is required");
  if (r.assistant_id.size() > 200) throw_invalid("assistant_id", "is longer than 200 bytes");
  check_map(r.dynamic_variables, "dynamic_variables");
  check_map(r.metadata, "metadata");
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const PlaceCallRequest& v) {
  jv = bj::object{{"from", v.from},
                  {"to", v.to},
                  {"assistant_id", v.assistant_id},
                  {"dynamic_variables", bj::value_from(v.dynamic_variables)},
                  {"metadata", bj::value_from(v.metadata)}};
}

PlaceCallRequest tag_invoke(const bj::value_to_tag<PlaceCallRequest>&, const bj::value& jv) {
  json::ObjectReader r(jv, "");
  PlaceCallRequest v;
  if (auto s = r.string("from")) v.from = *s;
  if (auto s = r.string("to")) v.to = *s;
  if (auto s = r.string("assistant_id")) v.assistant_id = *s;
  if (auto m = r.string_map("dynamic_variables")) v.dynamic_variables = *m;
  if (auto m = r.string_map("metadata")) v.metadata = *m;
  r.finish();
  return v;
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const PlaceCallResult& v) {
  jv = bj::object{{"provider_call_id", v.provider_call_id}, {"status", to_string(v.status)}};
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CallStatusReport& v) {
  bj::object o{{"provider_call_id", v.provider_call_id},
               {"status", to_string(v.status)},
               {"answered_by", to_string(v.answered_by)}};
  o["started_at"] = v.started_at ? bj::value(format_timestamp(*v.started_at)) : bj::value(nullptr);
  o["ended_at"] = v.ended_at ? bj::value(format_timestamp(*v.ended_at)) : bj::value(nullptr);
  o["duration_s"] = v.duration_s ? bj::value(*v.duration_s) : bj::value(nullptr);
  o["cost_usd"] = v.cost_usd ? bj::value(*v.cost_usd) : bj::value(nullptr);
  o["end_reason"] = v.end_reason;
  o["summary"] = v.summary;
  jv = std::move(o);
}

std::unique_ptr<VoiceProvider> make_voice_provider(const VoiceProviderConfig& config,
                                                   boost::asio::any_io_executor executor,
                                                   std::shared_ptr<Clock> clock, std::shared_ptr<Logger> logger) {
  if (!executor) throw_invalid("executor", "must be given");
  if (config.kind == "simulated")
    return make_simulated_voice_provider(simulated_settings(config), std::move(executor), std::move(clock),
                                         std::move(logger));
  if (config.timeout_ms < 1) throw_invalid("timeout_ms", "must be positive");
  if (config.max_retries < 0) throw_invalid("max_retries", "must not be negative");
  if (config.kind == "retell") return voice::make_retell_provider(config, std::move(executor), std::move(logger));
  if (config.kind == "vapi") return voice::make_vapi_provider(config, std::move(executor), std::move(logger));
  if (config.kind == "twilio") return voice::make_twilio_provider(config, std::move(executor), std::move(logger));
  throw_invalid("kind", fmt::format("\"{}\" is not a provider (simulated, retell, vapi, twilio)", config.kind.substr(0, 32)));
}

namespace voice {

bool is_e164(std::string_view t) noexcept {
  if (t.size() < 9 || t.size() > 16 || t[0] != '+' || t[1] == '0') return false;
  for (std::size_t i = 1; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') return false;
  return true;
}

namespace {

std::string message_of(const bj::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v.get_array()) {
      auto m = message_of(e);
      if (m.empty()) continue;
      if (!out.empty()) out += "; ";
      out += m;
    }
    return out;
  }
  if (v.is_object()) {
    for (const char* key : {"message", "error_message", "detail", "error"})
      if (const auto* m = v.get_object().if_contains(key)) {
        auto s = message_of(*m);
        if (!s.empty()) return s;
      }
  }
  return {};
}

}  // namespace

void throw_for_status(const HttpResponse& response, std::string_view operation, std::string_view provider,
                      bool not_found_means_unknown_call) {
  std::string text;
  boost::system::error_code ec;
  const auto jv = bj::parse(response.body, ec);
  if (!ec) text = message_of(jv);
  if (text.empty()) text = response.body.substr(0, 300);
  if (const auto code = ec ? std::string{} : (jv.is_object() && jv.get_object().contains("code")
                                                  ? bj::serialize(jv.get_object().at("code"))
                                                  : std::string{});
      !code.empty() && code != "null")
    text += fmt::format(" (code {})", code);
  if (text.size() > 500) text = text.substr(0, 500) + "…";
  const auto msg = fmt::format("{}: {} answered {}: {}", operation, provider, response.status, redact(text));
  const int s = response.status;
  if (s == 404 && not_found_means_unknown_call) throw NotFoundError(msg, "provider_call_id");
  if (s == 429) throw RateLimitedError(msg);
  if (s == 502 || s == 503 || s == 504) throw UnavailableError(msg);
  throw ProviderError(msg);
}

bj::value parse_body(const HttpResponse& response, std::string_view operation) {
  boost::system::error_code ec;
  auto jv = bj::parse(response.body, ec);
  if (ec) throw ProviderError(fmt::format("{}: the provider's answer is not JSON ({})", operation, ec.message()));
  return jv;
}

std::string str_member(const bj::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  const auto* m = v.get_object().if_contains(key);
  if (!m || !m->is_string()) return {};
  return std::string(m->get_string());
}

namespace {

int option_int(const VoiceProviderConfig& c, std::string_view key, int def, int min, int max) {
  const auto it = c.options.find(std::string(key));
  if (it == c.options.end()) return def;
  int v = 0;
  const auto& s = it->second;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size())
    throw_invalid(fmt::format("options.{}", key), fmt::format("\"{}\" is not an integer", s.substr(0, 32)));
  if (v < min || v > max) throw_invalid(fmt::format("options.{}", key), fmt::format("{} is out of range ({}–{})", v, min, max));
  return v;
}

}  // namespace

HttpClientOptions http_options(const VoiceProviderConfig& c, std::string_view default_base,
                               const std::set<std::string, std::less<>>& known) {
  static const std::set<std::string, std::less<>> common = {"ca_file", "keep_alive", "retry_backoff_ms",
                                                           "retry_backoff_max_ms", "retry_after_max_ms"};
  for (const auto& [k, v] : c.options)
    if (!common.contains(k) && !known.contains(k)) {
      std::string list;
      for (const auto& set : {&common, &known})
        for (const auto& n : *set) list += (list.empty() ? "" : ", ") + n;
      throw_invalid(fmt::format("options.{}", k), fmt::format("is not an option of a {} provider ({})", c.kind, list));
    }
  HttpClientOptions o;
  o.base_url = c.base_url.empty() ? std::string(default_base) : c.base_url;
  o.timeout = std::chrono::milliseconds{c.timeout_ms};
  o.max_retries = c.max_retries;
  o.backoff_initial = std::chrono::milliseconds{option_int(c, "retry_backoff_ms", 250, 1, 60000)};
  o.backoff_max = std::chrono::milliseconds{option_int(c, "retry_backoff_max_ms", 8000, 1, 600000)};
  o.retry_after_max = std::chrono::milliseconds{option_int(c, "retry_after_max_ms", 30000, 0, 600000)};
  if (const auto it = c.options.find("keep_alive"); it != c.options.end()) {
    if (it->second == "true") o.keep_alive = true;
    else if (it->second == "false") o.keep_alive = false;
    else throw_invalid("options.keep_alive", "must be true or false");
  }
  if (const auto it = c.options.find("ca_file"); it != c.options.end()) o.ca_file = it->second;
  return o;
}

std::string base64(std::string_view in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += table[n & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned n = static_cast<unsigned char>(in[i]) << 16;
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

void log_operation(Logger* logger, std::string_view operation, const PlaceCallRequest* request,
                   std::string_view call_id, std::exception_ptr error, double duration_ms) {
  if (!logger) return;
  LogRecord r;
  r.level = error ? LogLevel::Warn : LogLevel::Info;
  if (!logger->enabled(r.level)) return;
  r.operation = std::string(operation);
  r.call_id = std::string(call_id);
  r.duration_ms = duration_ms;
  if (request) {
    if (auto it = request->metadata.find("gym_id"); it != request->metadata.end()) r.gym_id = it->second;
    if (auto it = request->metadata.find("lead_id"); it != request->metadata.end()) r.lead_id = it->second;
    r.fields.emplace_back("to", mask_phone(request->to));
  }
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      r.code = e.code();
      r.message = e.what();
    } catch (const std::exception& e) {
      r.code = ErrorCode::Internal;
      r.message = e.what();
    } catch (...) {
      r.code = ErrorCode::Internal;
      r.message = "unknown error";
    }
  } else {
    r.message = request ? "call placed" : "done";
  }
  logger->log(std::move(r));
}

}  // namespace voice
}  // namespace gymdash
