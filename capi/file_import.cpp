// Opening import files.
#include "file_import.hpp"

#include <gymdash/error.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gymdash::capi {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void cannot_read(std::string_view field, const std::string& path, std::string_view why) {
  throw_invalid(field, "cannot read \"" + path + "\": " + std::string(why));
}

}  // namespace

InputFile open_input_file(std::string_view field, const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    cannot_read(field, path, ec && ec != std::errc::no_such_file_or_directory ? ec.message()
                                                                                : std::strerror(ENOENT));
  }
  if (fs::is_directory(status)) cannot_read(field, path, "is a directory");
  InputFile file;
  errno = 0;
  file.stream.open(path, std::ios::in | std::ios::binary);
  if (!file.stream.is_open()) cannot_read(field, path, errno != 0 ? std::strerror(errno) : "cannot be opened");
  if (fs::is_regular_file(status)) {
    const auto size = fs::file_size(path, ec);
    if (!ec) file.size = static_cast<std::uint64_t>(size);
  }
  file.name = fs::path(path).filename().string();
  if (file.name.empty()) file.name = path;
  return file;
}

void check_read_to_end(std::string_view field, const InputFile& file) {
  if (file.stream.bad()) throw_invalid(field, "a read error stopped the import; what was committed before it stays");
}

}  // namespace gymdash::capi
