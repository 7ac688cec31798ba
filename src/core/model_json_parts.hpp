// Pieces of the model's JSON form shared by the files that convert model
// types (model_json.cpp, campaign_json.cpp): times of day, day sets, string
// arrays, enum arrays, and the to_json / from_json templates (defined here so
// each file instantiates them for its own types).
#pragma once

#include <gymdash/model.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_reader.hpp"

namespace gymdash::json_parts {

/** `HH:MM` of minutes after midnight. */
std::string format_local_time(int minute);
/** `HH:MM`, 00:00–24:00, as minutes; InvalidArgumentError naming `field` otherwise. */
int parse_local_time(std::string_view text, const std::string& field);
/** The timestamp as ISO 8601, or null. */
boost::json::value optional_time(const std::optional<Timestamp>& t);
boost::json::array string_array(const std::vector<std::string>& v);
/** `mon` … `sun` names to a DayMask; an unknown name is InvalidArgumentError naming `field[i]`. */
DayMask parse_days(const std::vector<std::string>& names, const std::string& field);
boost::json::array format_days(DayMask mask);

/** An optional array of enum names at `key`, each read by `parse(name, "key[i]")`. */
template <class E, class Parse>
std::vector<E> enum_array(json::ObjectReader& r, std::string_view key, Parse parse) {
  std::vector<E> out;
  if (auto names = r.string_array(key)) {
    for (std::size_t i = 0; i < names->size(); ++i)
      out.push_back(parse((*names)[i], fmt::format("{}[{}]", r.path(key), i)));
  }
  return out;
}

}  // namespace gymdash::json_parts

namespace gymdash {

template <class T>
std::string to_json(const T& v) {
  return boost::json::serialize(boost::json::value_from(v));
}

template <class T>
T from_json(std::string_view text) {
  return boost::json::value_to<T>(json::parse(text));
}

}  // namespace gymdash
