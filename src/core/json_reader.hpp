// Strict reading of JSON objects: every key must be known, every value of the
// expected type; errors name the field by its path ("consent.at").
#pragma once

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash::json {

/** Joins a parent path and a key: ("", "a") → "a", ("a", "b") → "a.b". */
std::string join_path(std::string_view parent, std::string_view key);

/** The JSON type name of a value, for messages ("a string", "an array" …). */
const char* kind_name(const boost::json::value& v) noexcept;

/**
 * Reads one JSON object field by field. Each accessor marks its key as known;
 * finish() throws InvalidArgumentError for the first key nobody asked for.
 * A JSON null counts as absent for optional accessors.
 */
class ObjectReader {
 public:
  /** Throws InvalidArgumentError naming `path` (or `request`) if `v` is not an object. */
  ObjectReader(const boost::json::value& v, std::string path);

  std::optional<std::string> string(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key);
  std::optional<Timestamp> timestamp(std::string_view key);
  std::optional<std::vector<std::string>> string_array(std::string_view key);
  std::optional<std::map<std::string, std::string>> string_map(std::string_view key);
  /** The raw value (nullptr if absent or null). */
  const boost::json::value* value(std::string_view key);

  /** Path of a key inside this object, for nested readers and messages. */
  std::string path(std::string_view key) const { return join_path(path_, key); }

  /** Throws for unknown keys. */
  void finish() const;

 private:
  const boost::json::object& obj_;
  std::string path_;
  std::vector<std::string_view> known_;
};

/** Reads a filter's `page` (1 or more) and `page_size` (1–kMaxPageSize) when present. */
void read_paging(ObjectReader& r, int& page, int& page_size);

/** `{"items":[…],"page","page_size","total"}` of a page type (LeadPage, CallPage). */
template <class Page>
boost::json::value page_to_json(const Page& p) {
  boost::json::array items;
  items.reserve(p.items.size());
  for (const auto& item : p.items) items.push_back(boost::json::value_from(item));
  return boost::json::object{{"items", std::move(items)}, {"page", p.page}, {"page_size", p.page_size}, {"total", p.total}};
}

/** The page that page_to_json wrote. */
template <class Page>
Page page_from_json(const boost::json::value& jv) {
  using Item = typename decltype(Page::items)::value_type;
  ObjectReader r(jv, "");
  Page p;
  if (const auto* v = r.value("items")) {
    if (!v->is_array()) throw_invalid("items", "expected an array");
    for (const auto& item : v->get_array()) p.items.push_back(boost::json::value_to<Item>(item));
  }
  if (auto x = r.integer("page")) p.page = static_cast<int>(*x);
  if (auto x = r.integer("page_size")) p.page_size = static_cast<int>(*x);
  if (auto x = r.integer("total")) p.total = *x;
  r.finish();
  return p;
}

/** Parses text into a JSON value; malformed text is InvalidArgumentError naming `request`. */
boost::json::value parse(std::string_view text);

}  // namespace gymdash::json
