// The C ABI's voice providers: place, watch and end calls through the
// providers a handle's configuration names (Runtime::voice). Each function
// blocks until the provider has answered; the rules and retries are the
// providers' (docs/voice.md). See capi/include/gymdash.h for the promises.
#include <gymdash.h>

#include "c_util.hpp"

#include <gymdash/error.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/voice.hpp>

#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <string>

namespace {

using namespace gymdash::capi;

gymdash::VoiceProvider& provider_of(gymdash::Runtime& rt, const char* provider) {
  return rt.voice(text_arg("provider", provider));
}

}  // namespace

extern "C" {

GYMDASH_C_API int gymdash_voice_place_call(char** out, gymdash_t* db, const char* provider, const char* request_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    auto& p = provider_of(rt, provider);
    auto request = model_arg<gymdash::PlaceCallRequest>("request_json", request_json);
    const auto result = p.async_place_call(std::move(request), boost::asio::use_future).get();
    return emit_model(out, result);
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_voice_get_status(char** out, gymdash_t* db, const char* provider,
                                           const char* provider_call_id) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    auto& p = provider_of(rt, provider);
    const std::string id(text_arg("provider_call_id", provider_call_id));
    return emit_model(out, p.async_get_status(id, boost::asio::use_future).get());
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_voice_hang_up(gymdash_t* db, const char* provider, const char* provider_call_id) {
  try {
    clear_error();
    auto& rt = runtime_of(db);
    auto& p = provider_of(rt, provider);
    const std::string id(text_arg("provider_call_id", provider_call_id));
    p.async_hang_up(id, boost::asio::use_future).get();
    return GYMDASH_OK;
  } catch (...) {
    return fail_current();
  }
}

}  // extern "C"
