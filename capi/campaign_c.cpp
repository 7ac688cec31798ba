// The C ABI's calling campaigns, the runtime's dialer and campaign forecasts.
// The rules are CampaignService's, the Dialer's and forecast_campaign's
// (docs/campaigns.md); this file only translates JSON in and out. See
// capi/include/gymdash.h for the promises.
#include <gymdash.h>

#include "c_util.hpp"

#include <gymdash/campaign_model.hpp>
#include <gymdash/dialer.hpp>
#include <gymdash/error.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/campaign.hpp>

#include "core/json_reader.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace bj = boost::json;
using namespace gymdash::capi;

// ---- requests ------------------------------------------------------------------

// The request of gymdash_campaign_enrol: {"lead_ids":[…]} or {"filter":{…}} or {}.
struct EnrolRequest {
  std::optional<std::vector<std::string>> lead_ids;
  std::optional<gymdash::CampaignTarget> filter;
};

EnrolRequest enrol_request(const char* request_json) {
  const bj::value jv = json_arg("request_json", request_json);
  if (!jv.is_object()) invalid("request_json", std::string("expected a JSON object, got ") + kind_name(jv));
  EnrolRequest req;
  gymdash::json::ObjectReader r(jv, "");
  if (const auto* ids = r.value("lead_ids")) req.lead_ids = string_array("lead_ids", *ids);
  if (const auto* f = r.value("filter")) {
    if (!f->is_object()) invalid("filter", std::string("expected a JSON object, got ") + kind_name(*f));
    try {
      req.filter = bj::value_to<gymdash::CampaignTarget>(*f);
    } catch (const gymdash::InvalidArgumentError& e) {
      // The target's reader names its members "target.statuses[0]"; here they are the filter's.
      const std::string& field = e.field();
      const std::string what = e.what();
      if (field.empty() || what.rfind(field + ": ", 0) != 0) throw;
      std::string named = field.rfind("target", 0) == 0 ? "filter" + field.substr(6) : "filter." + field;
      gymdash::throw_invalid(named, what.substr(field.size() + 2));
    }
  }
  r.finish();
  if (req.lead_ids && req.filter) invalid("request_json", "give lead_ids or filter, not both");
  return req;
}

// A forecast's options: {"days":N,"provider_options":{…},"step_seconds":S}, every member optional.
gymdash::ForecastOptions forecast_options(const char* options_json) {
  gymdash::ForecastOptions options;
  if (options_json == nullptr) return options;
  const bj::value jv = json_arg("options_json", options_json);
  if (!jv.is_object()) invalid("options_json", std::string("expected a JSON object, got ") + kind_name(jv));
  gymdash::json::ObjectReader r(jv, "");
  if (const auto n = r.integer("days")) {
    if (*n < 1 || *n > 90) invalid("days", "must be between 1 and 90");
    options.days = static_cast<int>(*n);
  }
  if (const auto n = r.integer("step_seconds")) {
    if (*n < 1 || *n > 600) invalid("step_seconds", "must be between 1 and 600");
    options.step_seconds = static_cast<int>(*n);
  }
  if (const auto* po = r.value("provider_options")) {
    // Strings, numbers and booleans, as in the configuration's voice_providers.<name>.options.
    if (!po->is_object()) invalid("provider_options", std::string("expected a JSON object, got ") + kind_name(*po));
    for (const auto& kv : po->get_object()) {
      const std::string key = "provider_options." + std::string(kv.key());
      const bj::value& v = kv.value();
      std::string text;
      if (v.is_string()) text = std::string(v.get_string());
      else if (v.is_bool()) text = v.get_bool() ? "true" : "false";
      else if (v.is_int64() || v.is_uint64() || v.is_double()) text = bj::serialize(v);
      else invalid(key, std::string("expected a string, a number or a boolean, got ") + kind_name(v));
      options.provider_options.emplace(std::string(kv.key()), std::move(text));
    }
  }
  r.finish();
  return options;
}

// ---- the dialer's event callback --------------------------------------------------

void install_observer(gymdash::Runtime& rt, gymdash_dialer_event_fn fn, void* user) {
  if (fn == nullptr) {
    rt.dialer().set_observer({});
    return;
  }
  rt.dialer().set_observer([fn, user](const gymdash::DialerEvent& event) noexcept {
    // A C callback cannot throw, but serializing can (out of memory): nothing escapes into the dialer.
    try {
      const std::string text = bj::serialize(bj::value_from(event));
      fn(user, text.c_str());
    } catch (...) {
    }
  });
}

}  // namespace

extern "C" {

// ---- campaigns ---------------------------------------------------------------------

GYMDASH_C_API int gymdash_campaign_create(char** out, gymdash_t* db, const char* gym_id, const char* input_json) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto input = model_arg<gymdash::CampaignInput>("input_json", input_json);
    return emit_model(out, rt.campaigns().create_campaign(gid, input));
  });
}

GYMDASH_C_API int gymdash_campaign_get(char** out, gymdash_t* db, const char* gym_id, const char* campaign_id) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto cid = text_arg("campaign_id", campaign_id);
    return emit_model(out, rt.campaigns().get_campaign(gid, cid));
  });
}

GYMDASH_C_API int gymdash_campaign_list(char** out, gymdash_t* db, const char* gym_id, const char* filter_json) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto filter = filter_json == nullptr ? gymdash::CampaignFilter{}
                                               : model_arg<gymdash::CampaignFilter>("filter_json", filter_json);
    return emit_model(out, rt.campaigns().list_campaigns(gid, filter));
  });
}

GYMDASH_C_API int gymdash_campaign_update(char** out, gymdash_t* db, const char* gym_id, const char* campaign_id,
                                          const char* patch_json) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto cid = text_arg("campaign_id", campaign_id);
    const auto patch = model_arg<gymdash::CampaignPatch>("patch_json", patch_json);
    return emit_model(out, rt.campaigns().update_campaign(gid, cid, patch));
  });
}

GYMDASH_C_API int gymdash_campaign_delete(gymdash_t* db, const char* gym_id, const char* campaign_id) {
  return guarded([&] {
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto cid = text_arg("campaign_id", campaign_id);
    rt.campaigns().delete_campaign(gid, cid);
    return GYMDASH_OK;
  });
}

GYMDASH_C_API int gymdash_campaign_set_state(char** out, gymdash_t* db, const char* gym_id, const char* campaign_id,
                                             const char* state) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto cid = text_arg("campaign_id", campaign_id);
    const auto to = gymdash::parse_campaign_state(text_arg("state", state), "state");
    return emit_model(out, rt.campaigns().set_state(gid, cid, to));
  });
}

GYMDASH_C_API int gymdash_campaign_enrol(char** out, gymdash_t* db, const char* gym_id, const char* campaign_id,
                                         const char* request_json) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto cid = text_arg("campaign_id", campaign_id);
    const EnrolRequest req = enrol_request(request_json);
    if (req.lead_ids) return emit_model(out, rt.campaigns().enrol_leads(gid, cid, *req.lead_ids));
    return emit_model(out, rt.campaigns().enrol_by_filter(gid, cid, req.filter));
  });
}

GYMDASH_C_API int gymdash_campaign_remove_leads(char** out, gymdash_t* db, const char* gym_id,
                                                const char* campaign_id, const char* lead_ids_json) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto cid = text_arg("campaign_id", campaign_id);
    const auto ids = string_array("lead_ids_json", json_arg("lead_ids_json", lead_ids_json));
    const std::int64_t removed = rt.campaigns().remove_leads(gid, cid, ids);
    return emit(out, bj::object{{"removed", removed}});
  });
}

GYMDASH_C_API int gymdash_campaign_performance(char** out, gymdash_t* db, const char* gym_id,
                                               const char* campaign_id) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto cid = text_arg("campaign_id", campaign_id);
    return emit_model(out, rt.campaigns().performance(gid, cid));
  });
}

GYMDASH_C_API int gymdash_campaign_simulate(char** out, gymdash_t* db, const char* gym_id, const char* campaign_id,
                                            const char* options_json) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto cid = text_arg("campaign_id", campaign_id);
    const auto options = forecast_options(options_json);
    return emit_model(out, gymdash::forecast_campaign(rt.store(), rt.config(), gid, cid, rt.clock().now(), options));
  });
}

GYMDASH_C_API int gymdash_campaign_simulate_ex(char** out, gymdash_t* db, const char* gym_id,
                                               const char* campaign_id, const char* options_json,
                                               gymdash_progress_fn progress, void* user) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto cid = text_arg("campaign_id", campaign_id);
    auto options = forecast_options(options_json);
    if (progress != nullptr)
      options.progress = [progress, user](const gymdash::ForecastProgress& p) {
        const std::string text = boost::json::serialize(boost::json::value_from(p));
        if (progress(user, text.c_str()) != 0)
          throw gymdash::ConflictError(
              "progress: forecast cancelled by the progress callback after day " + std::to_string(p.day), "progress");
      };
    return emit_model(out, gymdash::forecast_campaign(rt.store(), rt.config(), gid, cid, rt.clock().now(), options));
  });
}

// ---- the dialer ----------------------------------------------------------------------

GYMDASH_C_API int gymdash_dialer_start(gymdash_t* db) {
  return guarded([&] {
    runtime_of(db).dialer().start();
    return GYMDASH_OK;
  });
}

GYMDASH_C_API int gymdash_dialer_stop(gymdash_t* db) {
  return guarded([&] {
    runtime_of(db).dialer().stop();
    return GYMDASH_OK;
  });
}

GYMDASH_C_API int gymdash_dialer_tick(char** out, gymdash_t* db) {
  return guarded([&] {
    init_out(out);
    return emit_model(out, runtime_of(db).dialer().tick());
  });
}

GYMDASH_C_API int gymdash_dialer_refill(char** out, gymdash_t* db) {
  return guarded([&] {
    init_out(out);
    return emit_model(out, runtime_of(db).dialer().refill());
  });
}

GYMDASH_C_API int gymdash_dialer_status(char** out, gymdash_t* db) {
  return guarded([&] {
    init_out(out);
    return emit_model(out, runtime_of(db).dialer().status());
  });
}

GYMDASH_C_API int gymdash_dialer_set_event_callback(gymdash_t* db, gymdash_dialer_event_fn fn, void* user) {
  return guarded([&] {
    install_observer(runtime_of(db), fn, user);
    return GYMDASH_OK;
  });
}

}  // extern "C"
