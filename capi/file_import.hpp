// Opening import files (binary mode; an unreadable path is an error naming
// the parameter, never quoting the file). Shared by the C ABI (import_c.cpp,
// calling_c.cpp) and the gymdash tool (examples/cli); uses only the library's
// public API. Not installed.
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

}  // namespace gymdash::capi
