// The C ABI's analytics: dashboards as JSON or CSV, and the rollups' rebuild.
// The rules are AnalyticsService's (docs/analytics.md); this file only
// translates. See capi/include/gymdash.h for the promises.
#include <gymdash.h>

#include "c_util.hpp"

#include <gymdash/error.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/analytics.hpp>

#include <string>

using namespace gymdash::capi;

GYMDASH_C_API int gymdash_analytics_report(char** out, gymdash_t* db, const char* query_json, const char* format) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto query =
        query_json == nullptr ? gymdash::AnalyticsQuery{} : model_arg<gymdash::AnalyticsQuery>("query_json", query_json);
    const std::string f = format == nullptr ? "json" : std::string(text_arg("format", format));
    if (f != "json" && f != "csv") gymdash::throw_invalid("format", "must be json or csv");
    const auto d = rt.analytics().dashboard(query);
    return emit_text(out, f == "csv" ? gymdash::dashboard_csv(d) : gymdash::dashboard_json(d));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_analytics_rebuild(char** out, gymdash_t* db, const char* gym_id) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const std::string gid = gym_id == nullptr ? std::string() : std::string(text_arg("gym_id", gym_id));
    return emit_model(out, rt.analytics().rebuild(gid));
  } catch (...) {
    return fail_current();
  }
}
