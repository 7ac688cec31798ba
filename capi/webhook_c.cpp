// The C ABI's webhooks: one provider request (JSON-wrapped) verified,
// normalized and applied. The rules are ingest_webhook's (docs/webhooks.md);
// this file only translates. See capi/include/gymdash.h for the promises.
#include <gymdash.h>

#include "c_util.hpp"

#include <gymdash/error.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/webhook.hpp>

#include "core/json_reader.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <string>

namespace {

namespace bj = boost::json;
using namespace gymdash::capi;

// {"provider","url","headers":{name:value} or [[name,value]…],"body"}.
gymdash::WebhookRequest webhook_request(const char* request_json) {
  const bj::value jv = json_arg("request_json", request_json);
  if (!jv.is_object()) invalid("request_json", std::string("expected a JSON object, got ") + kind_name(jv));
  gymdash::json::ObjectReader r(jv, "");
  gymdash::WebhookRequest req;
  req.provider = r.string("provider").value_or("");
  if (req.provider.empty()) invalid("provider", "is required (retell, vapi or twilio)");
  req.url = r.string("url").value_or("");
  req.body = r.string("body").value_or("");
  if (const bj::value* h = r.value("headers")) {
    if (h->is_object()) {
      for (const auto& kv : h->get_object()) {
        if (!kv.value().is_string())
          invalid("headers." + std::string(kv.key()), std::string("expected a string, got ") + kind_name(kv.value()));
        req.headers[std::string(kv.key())] = std::string(kv.value().get_string());
      }
    } else if (h->is_array()) {
      std::size_t i = 0;
      for (const auto& pair : h->get_array()) {
        const std::string at = "headers[" + std::to_string(i++) + "]";
        if (!pair.is_array() || pair.get_array().size() != 2 || !pair.get_array()[0].is_string() ||
            !pair.get_array()[1].is_string())
          invalid(at, "expected [name, value], two strings");
        req.headers[std::string(pair.get_array()[0].get_string())] = std::string(pair.get_array()[1].get_string());
      }
    } else {
      invalid("headers", std::string("expected an object or an array of [name, value], got ") + kind_name(*h));
    }
  }
  r.finish();
  return req;
}

// {"secret":"…","secrets":["…"],"tolerance_s":300}, every member optional.
gymdash::WebhookOptions webhook_options(const char* options_json, const gymdash::Runtime& rt,
                                        const std::string& provider) {
  gymdash::WebhookOptions options;
  bool given = false;
  if (options_json != nullptr) {
    const bj::value jv = json_arg("options_json", options_json);
    if (!jv.is_object()) invalid("options_json", std::string("expected a JSON object, got ") + kind_name(jv));
    gymdash::json::ObjectReader r(jv, "");
    if (const auto s = r.string("secret")) {
      options.secrets.push_back(*s);
      given = true;
    }
    if (const auto list = r.string_array("secrets")) {
      options.secrets.insert(options.secrets.end(), list->begin(), list->end());
      given = true;
    }
    if (const auto n = r.integer("tolerance_s")) {
      if (*n < 1 || *n > 86400) invalid("tolerance_s", "must be between 1 and 86400");
      options.tolerance = std::chrono::seconds{*n};
    }
    r.finish();
  }
  if (!given) options.secrets = gymdash::webhook_secrets(rt.config(), provider);
  return options;
}

}  // namespace

extern "C" {

GYMDASH_C_API int gymdash_webhook_ingest(char** out, gymdash_t* db, const char* request_json,
                                         const char* options_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto request = webhook_request(request_json);
    const auto options = webhook_options(options_json, rt, request.provider);
    return emit_model(out, gymdash::ingest_webhook(rt, request, options));
  } catch (...) {
    return fail_current();
  }
}

}  // extern "C"
