// The C ABI's call routing: caller id, assistant and dynamic variables of an
// outbound call; an inbound call's lead. The rules are the Router's
// (docs/routing.md); this file only translates. See capi/include/gymdash.h.
#include <gymdash.h>

#include "c_util.hpp"

#include <gymdash/model.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/routing.hpp>


using namespace gymdash::capi;

extern "C" {

GYMDASH_C_API int gymdash_route_outbound(char** out, gymdash_t* db, const char* request_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto request = model_arg<gymdash::OutboundRequest>("request_json", request_json);
    return emit_model(out, rt.router().route_outbound(request));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_route_inbound(char** out, gymdash_t* db, const char* gym_id, const char* from_number,
                                        const char* at) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto from = text_arg("from_number", from_number);
    const auto when = optional_time("at", at);
    return emit_model(out, rt.router().route_inbound(gid, from, when));
  } catch (...) {
    return fail_current();
  }
}

}  // extern "C"
