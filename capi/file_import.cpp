// Opening import files, and importing a do-not-call list from one.
#include "file_import.hpp"

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/phone.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/services/lead.hpp>
#include <gymdash/store.hpp>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <istream>
#include <optional>
#include <set>

namespace gymdash::capi {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void cannot_read(std::string_view field, const std::string& path, std::string_view why) {
  throw_invalid(field, "cannot read \"" + path + "\": " + std::string(why));
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The longest line kept: a phone number with a reason fits many times over.
// Longer lines are read to their end but not kept, so a binary file cannot
// make the import hold more than this.
constexpr std::size_t kMaxLineBytes = 4096;

// One physical line without its line break (LF or CRLF). Returns false at the
// end of the input.
bool read_line(std::istream& in, std::string& line, bool& too_long) {
  line.clear();
  too_long = false;
  std::streambuf* buf = in.rdbuf();
  bool any = false;
  for (;;) {
    const int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      break;
    }
    any = true;
    if (c == '\n') break;
    if (line.size() < kMaxLineBytes) line.push_back(static_cast<char>(c));
    else too_long = true;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return any;
}

// The fields of one CSV line (RFC 4180 quoting, no line breaks inside
// quotes), or nullopt when the quoting is broken.
std::optional<std::vector<std::string>> split_csv(std::string_view line) {
  std::vector<std::string> fields;
  std::string field;
  std::size_t i = 0;
  for (;;) {
    field.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return std::nullopt;  // no closing quote
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(line[i++]);
      }
      if (i < line.size() && line[i] != ',') return std::nullopt;  // text after the closing quote
    } else {
      const auto comma = line.find(',', i);
      const auto end = comma == std::string_view::npos ? line.size() : comma;
      field.assign(line.substr(i, end - i));
      if (field.find('"') != std::string::npos) return std::nullopt;  // a quote inside a bare field
      i = end;
    }
    fields.push_back(field);
    if (i >= line.size()) break;
    ++i;  // the comma
    if (i == line.size()) {
      fields.emplace_back();  // a trailing comma ends with an empty field
      break;
    }
  }
  return fields;
}

// The library's message, with the raw text masked should it ever appear.
std::string masked(std::string message, std::string_view raw) {
  if (raw.size() >= 4) {
    for (auto at = message.find(raw); at != std::string::npos; at = message.find(raw, at)) {
      const std::string mask = mask_phone(raw);
      message.replace(at, raw.size(), mask);
      at += mask.size();
    }
  }
  return message;
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

boost::json::value to_json_value(const DncImportReport& report) {
  boost::json::array rejected;
  for (const auto& [line, error] : report.rejected_lines)
    rejected.push_back(boost::json::object{{"line", line}, {"error", error}});
  return boost::json::object{{"lines", report.lines},
                             {"added", report.added},
                             {"already_listed", report.already_listed},
                             {"rejected", report.rejected},
                             {"rejected_lines", std::move(rejected)},
                             {"rejected_lines_truncated", report.rejected_lines_truncated}};
}

DncImportReport import_dnc(Runtime& runtime, std::string_view scope, std::istream& in, std::string_view source) {
  auto& leads = runtime.leads();
  // The scope first: an unknown gym or an empty scope fails before any line.
  leads.list_dnc(scope, 1, 0);
  // The list reads numbers as add_to_dnc does (docs/compliance.md): in the
  // gym's region; the global list expects E.164, else US.
  const std::string region = scope == "*" ? std::string("US") : runtime.gyms().get_gym(scope).region;

  DncImportReport report;
  std::set<std::string, std::less<>> seen;  // numbers this import added or found listed
  const auto reject = [&](std::int64_t line, std::string error) {
    ++report.rejected;
    if (report.rejected_lines.size() < kMaxListedDncRejects) report.rejected_lines.emplace_back(line, std::move(error));
    else report.rejected_lines_truncated = true;
  };
  const auto add = [&](std::int64_t line_no, std::string_view raw, std::string_view reason) {
    ++report.lines;
    if (raw.empty()) return reject(line_no, "phone: is empty");
    if (raw.size() > 100) return reject(line_no, "phone: is too long to be a phone number");
    if (const auto e164 = try_normalize_phone(raw, region)) {
      if (seen.count(*e164) != 0 || runtime.store().dnc().find(scope, *e164)) {
        seen.insert(*e164);
        ++report.already_listed;
        return;
      }
    }
    try {
      const DncEntry entry = leads.add_to_dnc(scope, raw, reason, source);
      seen.insert(entry.phone);
      ++report.added;
    } catch (const InvalidArgumentError& e) {
      reject(line_no, masked(e.what(), raw));
    }
  };

  std::string line;
  bool too_long = false;
  std::int64_t line_no = 0;
  bool header_seen = false;  // the first line that is not blank or a comment decides the format
  bool csv = false;
  std::size_t columns = 0, phone_col = 0;
  std::optional<std::size_t> reason_col;
  while (read_line(in, line, too_long)) {
    ++line_no;
    std::string_view text = line;
    if (line_no == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 BOM
    text = trim(text);
    if (text.empty() || text.front() == '#') continue;
    if (!header_seen) {
      header_seen = true;
      if (!too_long) {
        if (const auto fields = split_csv(text)) {
          for (std::size_t i = 0; i < fields->size(); ++i) {
            const std::string name = lower(trim((*fields)[i]));
            if (name == "phone" && !csv) {
              csv = true;
              phone_col = i;
            } else if (name == "reason" && !reason_col) {
              reason_col = i;
            }
          }
          if (csv) {
            columns = fields->size();
            continue;
          }
          reason_col.reset();
        }
      }
    }
    if (too_long) {
      ++report.lines;
      reject(line_no, "line: is longer than 4096 bytes");
      continue;
    }
    if (!csv) {
      add(line_no, text, {});
      continue;
    }
    const auto fields = split_csv(text);
    if (!fields) {
      ++report.lines;
      reject(line_no, "line: is not valid CSV (broken quoting)");
      continue;
    }
    if (fields->size() != columns) {
      ++report.lines;
      reject(line_no, "line: has " + std::to_string(fields->size()) + " fields where the header has " +
                          std::to_string(columns));
      continue;
    }
    add(line_no, trim((*fields)[phone_col]), reason_col ? trim((*fields)[*reason_col]) : std::string_view{});
  }
  return report;
}

}  // namespace gymdash::capi
