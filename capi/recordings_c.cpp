// The C ABI's recordings: retention and purges on request. The rules are
// CallService's (docs/calls.md, "Recordings and retention"); this file only
// translates. See capi/include/gymdash.h for the promises.
#include <gymdash.h>

#include "c_util.hpp"

#include <gymdash/model.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/call.hpp>

#include <string_view>

using namespace gymdash::capi;

extern "C" {

GYMDASH_C_API int gymdash_calls_purge_expired(char** out, gymdash_t* db, const char* now) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    return emit_model(out, rt.calls().purge_expired_recordings(optional_time("now", now)));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_purge_recordings(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                                const char* actor, const char* reason) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    return emit_model(out, rt.calls().purge_lead_recordings(gid, lid, optional_text("actor", actor),
                                                            optional_text("reason", reason)));
  });
}

}  // extern "C"
