// Reading import files: opening one (binary mode; an unreadable path is an
// error naming the parameter, never quoting the file), and the do-not-call
// file format. Shared by the C ABI (import_c.cpp, calling_c.cpp) and the
// gymdash tool (examples/cli); uses only the library's public API. Not
// installed.
//
// The do-not-call import belongs in LeadService next to import_leads; it
// lives here until the C++ API has it.
#pragma once

#include <gymdash/runtime.hpp>

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <fstream>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gymdash::capi {

/** A file opened for an import. */
struct InputFile {
  std::ifstream stream;    ///< binary mode
  std::uint64_t size = 0;  ///< bytes, for progress; 0 when not a regular file (a pipe)
  std::string name;        ///< the file's name without its directory, for `source`
};

/**
 * Opens `path` for reading in binary mode. A path that does not exist, is a
 * directory or cannot be read throws InvalidArgumentError naming `field`:
 * `path: cannot read "/x/leads.csv": No such file or directory`.
 */
InputFile open_input_file(std::string_view field, const std::string& path);

/** After an import: throws InvalidArgumentError naming `field` if reading stopped on an I/O error. */
void check_read_to_end(std::string_view field, const InputFile& file);

/** What import_dnc did. */
struct DncImportReport {
  std::int64_t lines = 0;           ///< numbers read: added + already_listed + rejected
  std::int64_t added = 0;
  std::int64_t already_listed = 0;  ///< on the list before, or earlier in the file
  std::int64_t rejected = 0;
  std::vector<std::pair<std::int64_t, std::string>> rejected_lines;  ///< line and error (masked number)
  bool rejected_lines_truncated = false;
};

/**
 * {"lines","added","already_listed","rejected","rejected_lines":[{"line","error"}],
 * "rejected_lines_truncated"}.
 */
boost::json::value to_json_value(const DncImportReport& report);

/** Rejected lines listed in a DncImportReport (all are counted). */
inline constexpr std::size_t kMaxListedDncRejects = 1000;

/**
 * Adds every number of `in` to the list `scope` (a gym id or `*`) with
 * `source` (the file's name). The text is one number per line, or CSV with a
 * header naming a `phone` column (and optionally `reason`), one row per line.
 * Blank lines and lines starting with `#` are skipped in both. A line that
 * is not a number is counted and listed with its line number and the
 * library's message (which masks the number), and the import goes on.
 * Throws NotFoundError (unknown gym), InvalidArgumentError naming `scope`, or
 * StorageError; what was added before a StorageError stays.
 */
DncImportReport import_dnc(Runtime& runtime, std::string_view scope, std::istream& in, std::string_view source);

}  // namespace gymdash::capi
