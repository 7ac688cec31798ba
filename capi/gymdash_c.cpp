// The C ABI: a handle around gymdash::Runtime, JSON in and out, exceptions
// turned into error codes plus a thread-local message. Nothing else lives here:
// every rule is the C++ library's. See capi/include/gymdash.h for the promises.
#include <gymdash.h>

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/services/lead.hpp>
#include <gymdash/version.hpp>

#include "core/json_reader.hpp"
#include "core/text.hpp"

#include <boost/json.hpp>
#include <boost/system/system_error.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct gymdash_t {
  std::unique_ptr<gymdash::Runtime> runtime;
};

namespace {

namespace json = boost::json;
using gymdash::ErrorCode;

// ---- the thread's last error ------------------------------------------------

thread_local int t_code = GYMDASH_OK;
thread_local std::string t_message;
// Set when even the message could not be stored; last_error_message then
// answers with a static text instead.
thread_local const char* t_static_message = nullptr;

void clear_error() noexcept {
  t_code = GYMDASH_OK;
  t_message.clear();  // keeps the capacity; never throws
  t_static_message = nullptr;
}

int set_error(int code, const char* message) noexcept {
  t_code = code;
  t_static_message = nullptr;
  try {
    t_message.assign(message);
  } catch (...) {
    t_message.clear();
    t_static_message = "out of memory (while storing the error message)";
  }
  return code;
}

// Translates the exception in flight; called only from a catch (...) block.
int fail_current() noexcept {
  try {
    throw;
  } catch (const gymdash::Error& e) {
    return set_error(static_cast<int>(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    return set_error(GYMDASH_E_INTERNAL, "out of memory");
  } catch (const boost::system::system_error& e) {
    return set_error(GYMDASH_E_INTERNAL, e.what());
  } catch (const std::exception& e) {
    return set_error(GYMDASH_E_INTERNAL, e.what());
  } catch (...) {
    return set_error(GYMDASH_E_INTERNAL, "unknown exception");
  }
}

// ---- arguments ---------------------------------------------------------------

constexpr std::size_t kMaxArgBytes = GYMDASH_MAX_ARG_BYTES;

[[noreturn]] void invalid(std::string_view arg, std::string_view reason) {
  gymdash::throw_invalid(arg, reason);
}

// Every call that returns a string starts here: out must be given, and it is
// NULL until the call succeeds.
void init_out(char** out) {
  if (out == nullptr) invalid("out", "must not be NULL");
  *out = nullptr;
}

gymdash::Runtime& runtime_of(gymdash_t* db) {
  if (db == nullptr) invalid("db", "must not be NULL");
  return *db->runtime;
}

// A NUL-terminated UTF-8 argument of at most 1 MiB.
std::string_view text_arg(const char* name, const char* value) {
  if (value == nullptr) invalid(name, "must not be NULL");
  const std::size_t n = ::strnlen(value, kMaxArgBytes + 1);
  if (n > kMaxArgBytes) invalid(name, "is longer than the limit of 1048576 bytes");
  std::string_view s(value, n);
  if (!gymdash::text::is_valid_utf8(s)) invalid(name, "is not valid UTF-8");
  return s;
}

json::value json_arg(const char* name, const char* value) {
  const std::string_view text = text_arg(name, value);
  json::parser parser;
  boost::system::error_code ec;
  const std::size_t used = parser.write(text.data(), text.size(), ec);
  if (ec) {
    invalid(name, "invalid JSON at byte " + std::to_string(used) + ": " + ec.message());
  }
  return parser.release();
}

// Reads a model type. The conversions throw InvalidArgumentError naming the
// field; a Boost.JSON conversion error escaping them is still bad input, so it
// is reported as such, naming the argument.
template <class T>
T model_arg(const char* name, const char* value) {
  const json::value jv = json_arg(name, value);
  // The conversions call the top level "request"; here it has a name.
  if (!jv.is_object()) invalid(name, std::string("expected a JSON object, got ") + gymdash::json::kind_name(jv));
  try {
    return json::value_to<T>(jv);
  } catch (const boost::system::system_error& e) {
    invalid(name, e.what());
  }
}

std::vector<std::string> string_array_arg(const char* name, const char* value) {
  const json::value jv = json_arg(name, value);
  const json::array* array = jv.if_array();
  if (array == nullptr) invalid(name, std::string("expected a JSON array of strings, got ") + gymdash::json::kind_name(jv));
  std::vector<std::string> out;
  out.reserve(array->size());
  for (std::size_t i = 0; i < array->size(); ++i) {
    const json::string* s = (*array)[i].if_string();
    if (s == nullptr) {
      invalid(std::string(name) + "[" + std::to_string(i) + "]",
              std::string("expected a string, got ") + gymdash::json::kind_name((*array)[i]));
    }
    out.emplace_back(s->data(), s->size());
  }
  return out;
}

// The storage argument of gymdash_open: a URI, or a JSON object of options.
gymdash::RuntimeOptions open_options(const char* storage) {
  gymdash::RuntimeOptions options;
  if (storage == nullptr) return options;
  const std::string_view text = text_arg("storage", storage);
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') {
    options.storage = std::string(text);
    return options;
  }
  const json::value jv = json_arg("storage", storage);
  if (!jv.is_object()) invalid("storage", "expected a storage URI or a JSON object of options");
  for (const auto& [key, value] : jv.get_object()) {
    if (key == "storage") {
      if (!value.is_string()) invalid("storage.storage", "expected a string");
      options.storage = std::string(value.get_string());
    } else if (key == "worker_threads") {
      // Every integer too large for int64 is out of range anyway.
      std::int64_t n = 0;
      if (value.is_int64()) n = value.get_int64();
      else if (value.is_uint64()) n = INT64_MAX;
      else invalid("storage.worker_threads", "expected an integer");
      if (n < 1 || n > 1024) invalid("storage.worker_threads", "must be between 1 and 1024");
      options.worker_threads = static_cast<unsigned>(n);
    } else {
      invalid("storage." + std::string(key), "unknown option (expected storage, worker_threads)");
    }
  }
  return options;
}

// ---- results -----------------------------------------------------------------

int emit(char** out, const json::value& jv) {
  const std::string text = json::serialize(jv);
  char* p = static_cast<char*>(std::malloc(text.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, text.c_str(), text.size() + 1);
  *out = p;
  return GYMDASH_OK;
}

template <class T>
int emit_model(char** out, const T& v) {
  return emit(out, json::value_from(v));
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

GYMDASH_C_API int gymdash_last_error_code(void) { return t_code; }

GYMDASH_C_API const char* gymdash_last_error_message(void) {
  try {
    return t_static_message != nullptr ? t_static_message : t_message.c_str();
  } catch (...) {
    return "";
  }
}

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
    const gymdash::RuntimeOptions options = open_options(storage);
    auto handle = std::make_unique<gymdash_t>();
    handle->runtime = gymdash::Runtime::open(options);
    if (!handle->runtime) throw gymdash::InternalError("gymdash_open: Runtime::open returned no runtime");
    *out = handle.release();
    return GYMDASH_OK;
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
    const auto gym = model_arg<gymdash::Gym>("gym_json", gym_json);
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
    const auto tags = string_array_arg("tags_json", tags_json);
    return emit_model(out, rt.leads().add_tags(gid, lid, tags));
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
    const auto tags = string_array_arg("tags_json", tags_json);
    return emit_model(out, rt.leads().remove_tags(gid, lid, tags));
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
