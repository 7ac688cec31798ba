// What every C ABI function body needs: the handle type, the thread's last
// error, argument readers that name the argument they reject, and the
// malloc'd result strings. Shared by gymdash_c.cpp (data), import_c.cpp
// (imports), calling_c.cpp (who to call, do-not-call lists) and
// operations_c.cpp (configuration, logging, metrics); not installed.
#pragma once

#include <gymdash.h>

#include <gymdash/model.hpp>
#include <gymdash/runtime.hpp>

#include <boost/json.hpp>
#include <boost/system/system_error.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct gymdash_t {
  std::unique_ptr<gymdash::Runtime> runtime;
};

namespace gymdash::capi {

// ---- the thread's last error (convention 4) ----------------------------------

/** Called first in every int-returning function: code 0, message and field "". */
void clear_error() noexcept;
/** Translates the exception in flight; call only from a catch (...) block. Returns the code. */
int fail_current() noexcept;

/**
 * The body of an extern "C" function: clears the thread's error, then runs
 * `fn` (which returns the code) and turns any exception into its code.
 * Nothing escapes.
 */
template <class Fn>
int guarded(Fn&& fn) noexcept {
  try {
    clear_error();
    return fn();
  } catch (...) {
    return fail_current();
  }
}

int last_code() noexcept;
const char* last_message() noexcept;
const char* last_field() noexcept;

// ---- arguments -----------------------------------------------------------------

/** Throws InvalidArgumentError "<arg>: <reason>" (field() is `arg`). */
[[noreturn]] void invalid(std::string_view arg, std::string_view reason);

/** `out` must be given; `*out` is NULL until the call succeeds. */
void init_out(char** out);

/**
 * The runtime behind a handle; NULL is InvalidArgumentError naming `db`.
 * From here on, the call's text and JSON arguments are held to the handle's
 * configured limits (`limits.max_request_bytes`, `limits.max_json_depth`):
 * call it before reading them.
 */
gymdash::Runtime& runtime_of(gymdash_t* db);

/**
 * A NUL-terminated UTF-8 argument of at most GYMDASH_MAX_ARG_BYTES, or of the
 * handle's `limits.max_request_bytes` once runtime_of() ran (convention 8).
 */
std::string_view text_arg(const char* name, const char* value);

/** An optional text argument: NULL is empty, anything else as text_arg(). */
std::string_view optional_text(const char* name, const char* value);

/**
 * An optional ISO 8601 timestamp argument: NULL is nullopt, anything else is
 * read as text_arg() and must parse (a bad timestamp is InvalidArgumentError
 * naming `name`).
 */
std::optional<gymdash::Timestamp> optional_time(const char* name, const char* value);

/** A JSON argument; malformed text is InvalidArgumentError naming `name` and the byte. */
boost::json::value json_arg(const char* name, const char* value);

/** True if the text, after leading white space, starts a JSON object. */
bool looks_like_json_object(std::string_view text) noexcept;

/** The JSON type name of a value, for messages ("a string", "an array" …). */
const char* kind_name(const boost::json::value& v) noexcept;

/** A model type read strictly from the JSON object `jv`, the argument `name` (already parsed). */
template <class T>
T model_of(const char* name, const boost::json::value& jv) {
  if (!jv.is_object()) invalid(name, std::string("expected a JSON object, got ") + kind_name(jv));
  try {
    return boost::json::value_to<T>(jv);
  } catch (const boost::system::system_error& e) {
    // A Boost.JSON conversion error escaping the model's readers is still bad input.
    invalid(name, e.what());
  }
}

/** A model type read strictly from a JSON object argument. */
template <class T>
T model_arg(const char* name, const char* value) {
  return model_of<T>(name, json_arg(name, value));
}

/** A JSON array of strings; an element of another type is named `name[i]`. */
std::vector<std::string> string_array(const std::string& name, const boost::json::value& jv);

// ---- results -------------------------------------------------------------------

/** Copies `text` into a malloc'd string owned by the caller (freed with gymdash_string_free). */
int emit_text(char** out, std::string_view text);
/** Serializes `jv` compactly into `*out`. */
int emit(char** out, const boost::json::value& jv);

template <class T>
int emit_model(char** out, const T& v) {
  return emit(out, boost::json::value_from(v));
}

}  // namespace gymdash::capi
