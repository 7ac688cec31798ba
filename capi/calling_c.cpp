// The C ABI's calling functions: who to call next, why a lead may not be
// called, a call's result, and the do-not-call lists. The rules are
// LeadService's (docs/compliance.md); this file only translates. See
// capi/include/gymdash.h for the promises.
#include <gymdash.h>

#include "c_util.hpp"
#include "file_import.hpp"

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/dialer.hpp>
#include <gymdash/services/campaign.hpp>
#include <gymdash/services/lead.hpp>

#include "core/json_reader.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace bj = boost::json;
using namespace gymdash::capi;

// {"count":N,"qualification":"hot"|null,"campaign_id":"cmp_…"|null,"exclude":["ld_…"],"at":ISO|null}
struct NextRequest {
  int count = 0;
  std::optional<gymdash::Qualification> qualification;
  std::string campaign_id;
  std::vector<std::string> exclude;
  std::optional<gymdash::Timestamp> at;
};

NextRequest next_request(const char* request_json) {
  const bj::value jv = json_arg("request_json", request_json);
  if (!jv.is_object()) invalid("request_json", std::string("expected a JSON object, got ") + kind_name(jv));
  gymdash::json::ObjectReader r(jv, "");
  NextRequest req;
  const auto count = r.integer("count");
  if (!count) invalid("count", "is required (1–1000)");
  if (*count < 1 || *count > gymdash::kMaxPageSize) invalid("count", "must be between 1 and 1000");
  req.count = static_cast<int>(*count);
  if (const auto q = r.string("qualification")) req.qualification = gymdash::parse_qualification(*q, "qualification");
  if (auto c = r.string("campaign_id")) req.campaign_id = std::move(*c);
  if (!req.campaign_id.empty() && req.qualification)
    invalid("qualification", "is the campaign's target when campaign_id is given; leave it out");
  if (auto ids = r.string_array("exclude")) req.exclude = std::move(*ids);
  if (req.exclude.size() > 1000) invalid("exclude", "holds more than 1000 ids");
  req.at = r.timestamp("at");
  r.finish();
  return req;
}

// The rules that campaign's dialer asks and checks its leads under.
gymdash::DialScope campaign_scope(gymdash::Runtime& rt, std::string_view gym_id, std::string_view campaign_id) {
  return gymdash::dial_scope_of(rt.campaigns().get_campaign(gym_id, campaign_id));
}

}  // namespace

extern "C" {

// ---- who to call -------------------------------------------------------------

GYMDASH_C_API int gymdash_leads_next(char** out, gymdash_t* db, const char* gym_id, const char* request_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto req = next_request(request_json);
    if (!req.campaign_id.empty()) {
      const auto scope = campaign_scope(rt, gid, req.campaign_id);
      return emit_model(out, rt.leads().get_prioritized_leads(gid, req.count, scope, req.exclude, req.at));
    }
    return emit_model(out, rt.leads().get_prioritized_leads(gid, req.count, req.qualification, req.exclude, req.at));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_explain(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                       const char* at) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    const auto when = optional_time("at", at);
    return emit_model(out, rt.leads().explain(gid, lid, when));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_explain_for_campaign(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                                    const char* campaign_id, const char* at) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    const auto cid = text_arg("campaign_id", campaign_id);
    const auto when = optional_time("at", at);
    const auto scope = campaign_scope(rt, gid, cid);
    return emit_model(out, rt.leads().explain(gid, lid, scope, when));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_after_call(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                          const char* call_result_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    const auto result = model_arg<gymdash::CallResult>("call_result_json", call_result_json);
    return emit_model(out, rt.leads().update_lead_after_call(gid, lid, result));
  } catch (...) {
    return fail_current();
  }
}

// ---- do-not-call lists ---------------------------------------------------------

GYMDASH_C_API int gymdash_dnc_add(char** out, gymdash_t* db, const char* scope, const char* phone,
                                  const char* reason, const char* source) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto s = text_arg("scope", scope);
    const auto p = text_arg("phone", phone);
    const auto why = optional_text("reason", reason);
    const auto from = optional_text("source", source);
    return emit_model(out, rt.leads().add_to_dnc(s, p, why, from));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_dnc_remove(int* out, gymdash_t* db, const char* scope, const char* phone,
                                     const char* actor, const char* reason) {
  try {
    clear_error();
    if (out == nullptr) invalid("out", "must not be NULL");
    *out = 0;
    auto& rt = runtime_of(db);
    const auto s = text_arg("scope", scope);
    const auto p = text_arg("phone", phone);
    const auto who = optional_text("actor", actor);
    const auto why = optional_text("reason", reason);
    *out = rt.leads().remove_from_dnc(s, p, who, why) ? 1 : 0;
    return GYMDASH_OK;
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_dnc_check(char** out, gymdash_t* db, const char* gym_id, const char* phone) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto p = text_arg("phone", phone);
    return emit_model(out, rt.leads().check_dnc(gid, p));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_dnc_list(char** out, gymdash_t* db, const char* scope, int limit, int offset) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto s = text_arg("scope", scope);
    return emit_model(out, rt.leads().list_dnc(s, limit, offset));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_dnc_import_file(char** out, gymdash_t* db, const char* scope, const char* path) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto s = text_arg("scope", scope);
    const std::string file(text_arg("path", path));
    InputFile input = open_input_file("path", file);
    const auto report = rt.leads().import_dnc(s, input.stream, input.name);
    check_read_to_end("path", input);
    return emit(out, boost::json::value_from(report));
  } catch (...) {
    return fail_current();
  }
}

}  // extern "C"
