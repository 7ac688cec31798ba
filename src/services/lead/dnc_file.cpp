#include "services/lead/dnc_file.hpp"

#include <gymdash/phone.hpp>

#include <istream>
#include <optional>
#include <vector>

namespace gymdash::dnc_file {

namespace {

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

}  // namespace

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


void read(std::istream& in, const std::function<void(const Line&)>& fn) {
  std::string line;
  bool too_long = false;
  std::int64_t line_no = 0;
  bool header_seen = false;  // the first line that is not blank or a comment decides the format
  bool csv = false;
  std::size_t columns = 0, phone_col = 0;
  std::optional<std::size_t> reason_col;
  const auto broken = [&](std::string error) {
    Line l;
    l.number = line_no;
    l.error = std::move(error);
    fn(l);
  };
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
      broken("line: is longer than 4096 bytes");
      continue;
    }
    if (!csv) {
      fn(Line{line_no, text, {}, {}});
      continue;
    }
    const auto fields = split_csv(text);
    if (!fields) {
      broken("line: is not valid CSV (broken quoting)");
      continue;
    }
    if (fields->size() != columns) {
      broken("line: has " + std::to_string(fields->size()) + " fields where the header has " +
             std::to_string(columns));
      continue;
    }
    fn(Line{line_no, trim((*fields)[phone_col]), reason_col ? trim((*fields)[*reason_col]) : std::string_view{}, {}});
  }
}

}  // namespace gymdash::dnc_file
