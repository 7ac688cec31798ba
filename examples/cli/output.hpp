// How the `gymdash` tool prints: compact tables and field lists for people,
// the library's own JSON for --json. And how a library error about a JSON
// field is reworded to name the command-line option it came from.
#pragma once

#include <gymdash/error.hpp>

#include <boost/json/fwd.hpp>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gymdash::cli {

/** Columns under upper-case headers, each as wide as its widest cell (in code points). */
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

/** `name   value` lines, the names padded to one width; empty values are left out. */
void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

/** One compact JSON document and a newline. */
void print_json(std::ostream& out, const boost::json::value& value);

/**
 * The rejected part of an import or ingest summary: a line of counts by
 * reason, then a table of the first `limit` rejected rows (each with line,
 * reason, detail). Returns how many rows the table shows.
 */
template <class Row>
std::size_t print_rejects(std::ostream& out, const std::map<std::string, std::int64_t>& by_reason,
                          const std::vector<Row>& rows, std::size_t limit);

/** `2026-10-13T12:21:44Z` → `2026-10-13 12:21`; anything else unchanged. */
std::string short_time(std::string_view iso);

/**
 * Rethrows `e` with its field renamed after the option it came from: with
 * {"statuses": "status"}, `statuses[1]: "x" is not a status` becomes
 * `--status [1]: "x" is not a status`. Errors about other fields are
 * rethrown unchanged. Call only from the catch block that caught `e`.
 */
[[noreturn]] void rethrow_as_option(const Error& e, const std::map<std::string, std::string, std::less<>>& options);

template <class Row>
std::size_t print_rejects(std::ostream& out, const std::map<std::string, std::int64_t>& by_reason,
                          const std::vector<Row>& rows, std::size_t limit) {
  std::string reasons;
  for (const auto& [reason, n] : by_reason) reasons += (reasons.empty() ? "" : ", ") + reason + " " + std::to_string(n);
  out << "rejected: " << reasons << "\n";
  Table table({"line", "reason", "detail"});
  const std::size_t shown = std::min(rows.size(), limit);
  for (std::size_t i = 0; i < shown; ++i) table.add({std::to_string(rows[i].line), rows[i].reason, rows[i].detail});
  table.print(out);
  return shown;
}

}  // namespace gymdash::cli
