// The C ABI's data functions: a handle around gymdash::Runtime, JSON in and
// out, exceptions turned into error codes plus a thread-local message. Nothing
// else lives here: every rule is the C++ library's. See capi/include/gymdash.h
// for the promises; configuration, logging and metrics are in operations_c.cpp.
#include <gymdash.h>

#include "c_util.hpp"

#include <gymdash/config.hpp>
#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/services/lead.hpp>
#include <gymdash/version.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace json = boost::json;
using gymdash::ErrorCode;
using namespace gymdash::capi;

// The tags argument: a JSON array of strings, or {"tags":[…],"actor":"…"}.
struct TagsArg {
  std::vector<std::string> tags;
  std::string actor;
};

TagsArg tags_arg(const char* name, const char* value) {
  const json::value jv = json_arg(name, value);
  TagsArg out;
  if (jv.is_array()) {
    out.tags = string_array(name, jv);
    return out;
  }
  const json::object* object = jv.if_object();
  if (object == nullptr) {
    invalid(name, std::string("expected a JSON array of strings or {\"tags\":[…],\"actor\":\"…\"}, got ") +
                      kind_name(jv));
  }
  const std::string base(name);
  bool have_tags = false;
  for (const auto& [key, v] : *object) {
    if (key == "tags") {
      out.tags = string_array(base + ".tags", v);
      have_tags = true;
    } else if (key == "actor") {
      if (v.is_null()) continue;
      const json::string* s = v.if_string();
      if (s == nullptr) invalid(base + ".actor", std::string("expected a string, got ") + kind_name(v));
      out.actor.assign(s->data(), s->size());
    } else {
      invalid(base + "." + std::string(key), "unknown field (expected tags, actor)");
    }
  }
  if (!have_tags) invalid(base + ".tags", "is required");
  return out;
}

// The handle for a configuration; any failure throws before anything is open.
int open_handle(gymdash_t** out, gymdash::Config config) {
  auto handle = std::make_unique<gymdash_t>();
  handle->runtime = gymdash::Runtime::open(std::move(config));
  if (!handle->runtime) throw gymdash::InternalError("gymdash_open: Runtime::open returned no runtime");
  *out = handle.release();
  return GYMDASH_OK;
}

}  // namespace

extern "C" {

// ---- version, errors, memory -------------------------------------------------

GYMDASH_C_API const char* gymdash_version(void) {
  try {
    return gymdash::version();
  } catch (...) {
    return GYMDASH_VERSION_STRING;
  }
}

GYMDASH_C_API int gymdash_version_major(void) { return GYMDASH_VERSION_MAJOR; }
GYMDASH_C_API int gymdash_version_minor(void) { return GYMDASH_VERSION_MINOR; }
GYMDASH_C_API int gymdash_version_patch(void) { return GYMDASH_VERSION_PATCH; }

GYMDASH_C_API int gymdash_last_error_code(void) { return last_code(); }

GYMDASH_C_API const char* gymdash_last_error_message(void) { return last_message(); }

GYMDASH_C_API const char* gymdash_last_error_field(void) { return last_field(); }

GYMDASH_C_API const char* gymdash_error_name(int code) {
  try {
    if (code > 0 || code < GYMDASH_E_INTERNAL) return "unknown";
    return gymdash::error_code_name(static_cast<ErrorCode>(code));
  } catch (...) {
    return "unknown";
  }
}

GYMDASH_C_API void gymdash_string_free(char* s) { std::free(s); }

// ---- open and close ----------------------------------------------------------

GYMDASH_C_API int gymdash_open(gymdash_t** out, const char* storage) {
  try {
    clear_error();
    if (out == nullptr) invalid("out", "must not be NULL");
    *out = nullptr;
    gymdash::Config config;
    if (storage == nullptr) {
      config.storage = "memory:";
    } else {
      const std::string_view text = text_arg("storage", storage);
      if (looks_like_json_object(text)) {
        json_arg("storage", storage);  // a syntax error names the argument and the byte
        config = gymdash::parse_config(text);
      } else {
        config.storage = std::string(text);
      }
    }
    return open_handle(out, std::move(config));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_open_config_file(gymdash_t** out, const char* path) {
  try {
    clear_error();
    if (out == nullptr) invalid("out", "must not be NULL");
    *out = nullptr;
    const std::string file(text_arg("path", path));
    return open_handle(out, gymdash::load_config_file(file));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API void gymdash_close(gymdash_t* db) {
  try {
    delete db;
  } catch (...) {
    // A destructor that throws is a bug in the library; the host must not see it.
  }
}

// ---- gyms --------------------------------------------------------------------

GYMDASH_C_API int gymdash_gym_create(char** out, gymdash_t* db, const char* gym_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const json::value request = json_arg("gym_json", gym_json);
    auto gym = model_of<gymdash::Gym>("gym_json", request);
    // Hours and days the request leaves out are the configuration's for this gym.
    const auto& policy = rt.config().policy(gym.id);
    if (!request.as_object().contains("call_hours")) gym.call_hours = policy.call_hours;
    if (!request.as_object().contains("call_days")) gym.call_days = policy.call_days;
    return emit_model(out, rt.gyms().create_gym(gym));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_gym_get(char** out, gymdash_t* db, const char* gym_id) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto id = text_arg("gym_id", gym_id);
    return emit_model(out, rt.gyms().get_gym(id));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_gym_list(char** out, gymdash_t* db) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    return emit_model(out, rt.gyms().list_gyms());
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_gym_update(char** out, gymdash_t* db, const char* gym_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gym = model_arg<gymdash::Gym>("gym_json", gym_json);
    return emit_model(out, rt.gyms().update_gym(gym));
  } catch (...) {
    return fail_current();
  }
}

// ---- leads -------------------------------------------------------------------

GYMDASH_C_API int gymdash_lead_create(char** out, gymdash_t* db, const char* gym_id, const char* lead_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto input = model_arg<gymdash::LeadInput>("lead_json", lead_json);
    return emit_model(out, rt.leads().create_lead(gid, input));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_get(char** out, gymdash_t* db, const char* gym_id, const char* lead_id) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    return emit_model(out, rt.leads().get_lead(gid, lid));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_update(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                      const char* patch_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    const auto patch = model_arg<gymdash::LeadPatch>("patch_json", patch_json);
    return emit_model(out, rt.leads().update_lead(gid, lid, patch));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_delete(gymdash_t* db, const char* gym_id, const char* lead_id) {
  try {
    clear_error();
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    rt.leads().delete_lead(gid, lid);
    return GYMDASH_OK;
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_erase(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                     const char* actor, const char* reason) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    return emit_model(out, rt.leads().erase_lead(gid, lid, optional_text("actor", actor),
                                                 optional_text("reason", reason)));
  });
}

GYMDASH_C_API int gymdash_lead_erasures(char** out, gymdash_t* db, const char* gym_id, int limit, int offset) {
  return guarded([&] {
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    return emit_model(out, rt.leads().list_erasures(gid, limit, offset));
  });
}

GYMDASH_C_API int gymdash_lead_list(char** out, gymdash_t* db, const char* gym_id, const char* filter_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto filter = filter_json == nullptr ? gymdash::LeadFilter{}
                                               : model_arg<gymdash::LeadFilter>("filter_json", filter_json);
    return emit_model(out, rt.leads().list_leads(gid, filter));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_add_tags(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                        const char* tags_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    const auto tags = tags_arg("tags_json", tags_json);
    return emit_model(out, rt.leads().add_tags(gid, lid, tags.tags, tags.actor));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_remove_tags(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                           const char* tags_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    const auto tags = tags_arg("tags_json", tags_json);
    return emit_model(out, rt.leads().remove_tags(gid, lid, tags.tags, tags.actor));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_add_note(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                        const char* text) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    const auto note = text_arg("text", text);
    return emit_model(out, rt.leads().add_note(gid, lid, note));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_add_note_by(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                           const char* text, const char* actor) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    const auto note = text_arg("text", text);
    const auto who = optional_text("actor", actor);
    return emit_model(out, rt.leads().add_note(gid, lid, note, who));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_change_status(char** out, gymdash_t* db, const char* gym_id, const char* lead_id,
                                             const char* change_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    const auto change = model_arg<gymdash::StatusChange>("change_json", change_json);
    return emit_model(out, rt.leads().change_status(gid, lid, change));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_history(char** out, gymdash_t* db, const char* gym_id, const char* lead_id) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    return emit_model(out, rt.leads().get_history(gid, lid));
  } catch (...) {
    return fail_current();
  }
}

}  // extern "C"
