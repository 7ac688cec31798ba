#include "output.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <ostream>

namespace gymdash::cli {

namespace {

// Display width of UTF-8 text, counted in code points (good enough for names).
std::size_t width(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

void pad(std::ostream& out, std::string_view s, std::size_t to) {
  out << s;
  for (std::size_t n = width(s); n < to; ++n) out << ' ';
}

std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

}  // namespace

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths(headers_.size());
  for (std::size_t i = 0; i < headers_.size(); ++i) widths[i] = width(headers_[i]);
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
  const auto line = [&](const std::vector<std::string>& cells, bool header) {
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < cells.size() ? (header ? upper(cells[i]) : cells[i]) : std::string();
      if (i + 1 == widths.size()) out << cell;  // no trailing blanks
      else pad(out, cell, widths[i] + 2);
    }
    out << '\n';
  };
  line(headers_, true);
  for (const auto& row : rows_) line(row, false);
}

void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t w = 0;
  for (const auto& [name, value] : fields)
    if (!value.empty()) w = std::max(w, width(name));
  for (const auto& [name, value] : fields) {
    if (value.empty()) continue;
    pad(out, name, w + 2);
    out << value << '\n';
  }
}

void print_json(std::ostream& out, const boost::json::value& value) { out << boost::json::serialize(value) << '\n'; }

std::string short_time(std::string_view iso) {
  if (iso.size() < 16 || iso[10] != 'T') return std::string(iso);
  std::string s(iso.substr(0, 16));
  s[10] = ' ';
  return s;
}

void rethrow_as_option(const Error& e, const std::map<std::string, std::string, std::less<>>& options) {
  const std::string& field = e.field();
  const auto end = field.find_first_of(".[");
  const std::string_view top = std::string_view(field).substr(0, end);
  const auto it = options.find(top);
  const std::string_view message = e.what();
  if (field.empty() || it == options.end() || message.substr(0, field.size() + 2) != field + ": ") throw;
  std::string rest = end == std::string::npos ? std::string() : field.substr(end);
  if (!rest.empty() && rest[0] == '.') rest.erase(0, 1);
  const std::string option = "--" + it->second;
  throw_error(e.code(), option + (rest.empty() ? "" : " " + rest) + std::string(message.substr(field.size())),
              option);
}

}  // namespace gymdash::cli
