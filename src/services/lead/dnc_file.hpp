// The do-not-call file format: one number per line, or CSV with a header
// naming a `phone` column (and optionally `reason`), one row per line. Blank
// lines and lines starting with `#` are skipped in both. Documented in
// docs/compliance.md.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace gymdash::dnc_file {

/** One line that holds a number, or the reason it cannot be read. */
struct Line {
  std::int64_t number = 0;  ///< physical line, 1-based
  std::string_view phone;   ///< as written, trimmed
  std::string_view reason;  ///< the `reason` column, or empty
  std::string error;        ///< set when the line is broken (the number fields are then empty)
};

/** Calls `fn` for every line that is not blank, a comment or the header. */
void read(std::istream& in, const std::function<void(const Line&)>& fn);

/** `message` with `raw` masked wherever it appears (never a full number in a report). */
std::string masked(std::string message, std::string_view raw);

}  // namespace gymdash::dnc_file
