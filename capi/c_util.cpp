// The thread's last error, argument readers and result strings of the C ABI.
#include "c_util.hpp"

#include <gymdash/error.hpp>

#include "core/json_reader.hpp"
#include "core/text.hpp"

#include <boost/system/system_error.hpp>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>

namespace gymdash::capi {

namespace json = boost::json;

// ---- the thread's last error ---------------------------------------------------

namespace {

thread_local int t_code = GYMDASH_OK;
thread_local std::string t_message;
thread_local std::string t_field;
// Set when even the message could not be stored; last_message then answers
// with a static text instead.
thread_local const char* t_static_message = nullptr;

int set_error(int code, const char* message, const std::string* field = nullptr) noexcept {
  t_code = code;
  t_static_message = nullptr;
  try {
    t_message.assign(message);
  } catch (...) {
    t_message.clear();
    t_static_message = "out of memory (while storing the error message)";
  }
  try {
    if (field != nullptr) t_field.assign(*field);
    else t_field.clear();
  } catch (...) {
    t_field.clear();
  }
  return code;
}

// The argument limits of the call in progress on this thread: the built-in
// ones (GYMDASH_MAX_ARG_BYTES, 32 levels of JSON) until runtime_of() finds
// the handle, then that handle's configured `limits.max_request_bytes` and
// `limits.max_json_depth`. Every call starts from the built-in ones
// (clear_error), so a handle's limits never leak into a call without it.
struct ArgLimits {
  std::size_t bytes = GYMDASH_MAX_ARG_BYTES;
  int json_depth = 32;
};
thread_local ArgLimits t_limits;

}  // namespace

void clear_error() noexcept {
  t_code = GYMDASH_OK;
  t_message.clear();  // keeps the capacity; never throws
  t_field.clear();
  t_static_message = nullptr;
  t_limits = ArgLimits{};
}

int fail_current() noexcept {
  try {
    throw;
  } catch (const gymdash::Error& e) {
    return set_error(static_cast<int>(e.code()), e.what(), &e.field());
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

int last_code() noexcept { return t_code; }

const char* last_message() noexcept { return t_static_message != nullptr ? t_static_message : t_message.c_str(); }

const char* last_field() noexcept { return t_field.c_str(); }

// ---- arguments -------------------------------------------------------------------

void invalid(std::string_view arg, std::string_view reason) { gymdash::throw_invalid(arg, reason); }

void init_out(char** out) {
  if (out == nullptr) invalid("out", "must not be NULL");
  *out = nullptr;
}

gymdash::Runtime& runtime_of(gymdash_t* db) {
  if (db == nullptr) invalid("db", "must not be NULL");
  const auto& limits = db->runtime->config().limits;
  t_limits.bytes = limits.max_request_bytes;
  t_limits.json_depth = limits.max_json_depth;
  return *db->runtime;
}

std::string_view text_arg(const char* name, const char* value) {
  const std::size_t max_bytes = t_limits.bytes;
  if (value == nullptr) invalid(name, "must not be NULL");
  const std::size_t n = ::strnlen(value, max_bytes + 1);
  if (n > max_bytes) invalid(name, "is longer than the limit of " + std::to_string(max_bytes) + " bytes");
  std::string_view s(value, n);
  if (!gymdash::text::is_valid_utf8(s)) invalid(name, "is not valid UTF-8");
  return s;
}

std::string_view optional_text(const char* name, const char* value) {
  return value == nullptr ? std::string_view{} : text_arg(name, value);
}

std::optional<gymdash::Timestamp> optional_time(const char* name, const char* value) {
  if (value == nullptr) return std::nullopt;
  return gymdash::parse_timestamp(text_arg(name, value), name);
}

json::value json_arg(const char* name, const char* value) {
  const std::string_view text = text_arg(name, value);
  json::parse_options options;
  options.max_depth = static_cast<std::size_t>(t_limits.json_depth);
  json::parser parser({}, options);
  boost::system::error_code ec;
  const std::size_t used = parser.write(text.data(), text.size(), ec);
  if (ec) invalid(name, "invalid JSON at byte " + std::to_string(used) + ": " + ec.message());
  return parser.release();
}

bool looks_like_json_object(std::string_view text) noexcept {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

const char* kind_name(const json::value& v) noexcept { return gymdash::json::kind_name(v); }

std::vector<std::string> string_array(const std::string& name, const json::value& jv) {
  const json::array* array = jv.if_array();
  if (array == nullptr) invalid(name, std::string("expected a JSON array of strings, got ") + kind_name(jv));
  std::vector<std::string> out;
  out.reserve(array->size());
  for (std::size_t i = 0; i < array->size(); ++i) {
    const json::string* s = (*array)[i].if_string();
    if (s == nullptr) {
      invalid(name + "[" + std::to_string(i) + "]",
              std::string("expected a string, got ") + kind_name((*array)[i]));
    }
    out.emplace_back(s->data(), s->size());
  }
  return out;
}

// ---- results ---------------------------------------------------------------------

int emit_text(char** out, std::string_view text) {
  char* p = static_cast<char*>(std::malloc(text.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, text.data(), text.size());
  p[text.size()] = '\0';
  *out = p;
  return GYMDASH_OK;
}

int emit(char** out, const json::value& jv) { return emit_text(out, json::serialize(jv)); }

}  // namespace gymdash::capi
