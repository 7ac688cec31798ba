#include "core/json_reader.hpp"

#include <gymdash/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gymdash::json {

namespace bj = boost::json;

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out.push_back('.');
  out.append(key);
  return out;
}

const char* kind_name(const bj::value& v) noexcept {
  switch (v.kind()) {
    case bj::kind::null: return "null";
    case bj::kind::bool_: return "a boolean";
    case bj::kind::int64:
    case bj::kind::uint64: return "an integer";
    case bj::kind::double_: return "a number";
    case bj::kind::string: return "a string";
    case bj::kind::array: return "an array";
    case bj::kind::object: return "an object";
  }
  return "a value";
}

namespace {
const bj::object& as_object(const bj::value& v, const std::string& path) {
  if (!v.is_object())
    throw_invalid(path.empty() ? "request" : path, fmt::format("expected an object, got {}", kind_name(v)));
  return v.get_object();
}
}  // namespace

ObjectReader::ObjectReader(const bj::value& v, std::string path) : obj_(as_object(v, path)), path_(std::move(path)) {}

const bj::value* ObjectReader::value(std::string_view key) {
  known_.push_back(key);
  const auto* v = obj_.if_contains(key);
  if (!v || v->is_null()) return nullptr;
  return v;
}

std::optional<std::string> ObjectReader::string(std::string_view key) {
  const auto* v = value(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw_invalid(path(key), fmt::format("expected a string, got {}", kind_name(*v)));
  return std::string(v->get_string());
}

std::optional<bool> ObjectReader::boolean(std::string_view key) {
  const auto* v = value(key);
  if (!v) return std::nullopt;
  if (!v->is_bool()) throw_invalid(path(key), fmt::format("expected a boolean, got {}", kind_name(*v)));
  return v->get_bool();
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key) {
  const auto* v = value(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) {
    if (v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(v->get_uint64());
    throw_invalid(path(key), "integer out of range (more than 9223372036854775807)");
  }
  if (v->is_double()) {
    // JSON has one number type: a whole number written with an exponent or a
    // fraction part ("1.2e2", "3.0"), or one past 64 bits, arrives as a double.
    // The range is checked before converting: converting a double outside
    // int64 is undefined behaviour. 2^63 is out of range; -2^63 is in it.
    const double d = v->get_double();
    if (d != std::trunc(d)) throw_invalid(path(key), "expected an integer, got a number with a fraction");
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
      throw_invalid(path(key), "integer out of range (beyond a signed 64-bit integer)");
    return static_cast<std::int64_t>(d);
  }
  throw_invalid(path(key), fmt::format("expected an integer, got {}", kind_name(*v)));
}

std::optional<Timestamp> ObjectReader::timestamp(std::string_view key) {
  const auto* v = value(key);
  if (!v) return std::nullopt;
  if (!v->is_string())
    throw_invalid(path(key), fmt::format("expected an ISO 8601 timestamp string, got {}", kind_name(*v)));
  return parse_timestamp(v->get_string(), path(key));
}

std::optional<std::vector<std::string>> ObjectReader::string_array(std::string_view key) {
  const auto* v = value(key);
  if (!v) return std::nullopt;
  if (!v->is_array()) throw_invalid(path(key), fmt::format("expected an array of strings, got {}", kind_name(*v)));
  std::vector<std::string> out;
  out.reserve(v->get_array().size());
  std::size_t i = 0;
  for (const auto& item : v->get_array()) {
    if (!item.is_string())
      throw_invalid(fmt::format("{}[{}]", path(key), i), fmt::format("expected a string, got {}", kind_name(item)));
    out.emplace_back(item.get_string());
    ++i;
  }
  return out;
}

std::optional<std::map<std::string, std::string>> ObjectReader::string_map(std::string_view key) {
  const auto* v = value(key);
  if (!v) return std::nullopt;
  if (!v->is_object()) throw_invalid(path(key), fmt::format("expected an object of strings, got {}", kind_name(*v)));
  std::map<std::string, std::string> out;
  for (const auto& kv : v->get_object()) {
    if (!kv.value().is_string())
      throw_invalid(join_path(path(key), kv.key()), fmt::format("expected a string, got {}", kind_name(kv.value())));
    out.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
  }
  return out;
}

void ObjectReader::finish() const {
  for (const auto& kv : obj_) {
    if (std::find(known_.begin(), known_.end(), std::string_view(kv.key())) == known_.end())
      throw_invalid(path(kv.key()), "unknown field");
  }
}

void read_paging(ObjectReader& r, int& page, int& page_size) {
  if (auto x = r.integer("page")) {
    if (*x < 1 || *x > 1'000'000'000) throw_invalid("page", "must be between 1 and 1000000000");
    page = static_cast<int>(*x);
  }
  if (auto x = r.integer("page_size")) {
    if (*x < 1 || *x > kMaxPageSize) throw_invalid("page_size", fmt::format("must be between 1 and {}", kMaxPageSize));
    page_size = static_cast<int>(*x);
  }
}

bj::value parse(std::string_view text) {
  boost::system::error_code ec;
  bj::parse_options opts;
  opts.max_depth = 32;
  bj::value v = bj::parse(text, ec, {}, opts);
  if (ec) throw_invalid("request", fmt::format("invalid JSON: {}", ec.message()));
  return v;
}

}  // namespace gymdash::json
