#include "core/csv.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

using namespace gymdash;
using csv::ReadStatus;

namespace {

struct Row {
  ReadStatus status;
  std::uint64_t line;
  std::vector<std::string> fields;
  bool operator==(const Row&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Row& r) {
  os << (r.status == ReadStatus::Record ? "Record" : r.status == ReadStatus::Malformed ? "Malformed" : "End") << "@"
     << r.line << "[";
  for (const auto& f : r.fields) os << "<" << f << ">";
  return os << "]";
}

Row rec(std::uint64_t line, std::vector<std::string> fields) { return {ReadStatus::Record, line, std::move(fields)}; }
Row bad(std::uint64_t line) { return {ReadStatus::Malformed, line, {}}; }

std::vector<Row> read_all(csv::Reader& reader) {
  std::vector<Row> rows;
  for (;;) {
    const auto status = reader.next();
    if (status == ReadStatus::End) break;
    Row row{status, reader.line(), {}};
    for (auto f : reader.fields()) row.fields.emplace_back(f);
    if (status == ReadStatus::Malformed) CHECK_FALSE(reader.error().empty());
    rows.push_back(std::move(row));
  }
  CHECK(reader.next() == ReadStatus::End);  // stays at the end
  return rows;
}

std::vector<Row> parse(const std::string& input, csv::ReaderOptions options = {}) {
  std::istringstream in(input);
  csv::Reader reader(in, options);
  auto rows = read_all(reader);
  CHECK(reader.bytes_consumed() == input.size());
  return rows;
}

// Every case must come out the same whatever the buffer size, so record and
// escape boundaries land at every possible offset of a read.
void check(const std::string& input, const std::vector<Row>& expected, csv::ReaderOptions options = {}) {
  CAPTURE(input);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5}, std::size_t{64},
                            std::size_t{1} << 20}) {
    CAPTURE(chunk);
    options.chunk_size = chunk;
    CHECK(parse(input, options) == expected);
  }
}

// A stream that hands out at most `piece` bytes per underflow, like a pipe.
class TrickleBuf : public std::streambuf {
 public:
  TrickleBuf(const std::string& data, std::size_t piece) : data_(data), piece_(piece) {}

 protected:
  int_type underflow() override {
    if (at_ >= data_.size()) return traits_type::eof();
    const auto n = std::min(piece_, data_.size() - at_);
    char* p = const_cast<char*>(data_.data()) + at_;
    setg(p, p, p + n);
    at_ += n;
    return traits_type::to_int_type(*p);
  }

 private:
  const std::string& data_;
  std::size_t piece_;
  std::size_t at_ = 0;
};

}  // namespace

TEST_CASE("plain records, LF or CRLF, with or without a final line ending") {
  const std::vector<Row> expected = {rec(1, {"a", "b", "c"}), rec(2, {"1", "2", "3"})};
  check("a,b,c\n1,2,3\n", expected);
  check("a,b,c\n1,2,3", expected);
  check("a,b,c\r\n1,2,3\r\n", expected);
  check("a,b,c\r\n1,2,3", expected);
  check("a,b,c\n1,2,3\r\n", expected);
  check("", {});
  check("\n", {});
  check("x", {rec(1, {"x"})});
}

TEST_CASE("quoted fields: commas, doubled quotes, empty quotes") {
  check("\"a,b\",c\n", {rec(1, {"a,b", "c"})});
  check("\"He said \"\"hi\"\"\",x\n", {rec(1, {"He said \"hi\"", "x"})});
  check("\"\"\"\",\"\"\"\"\"\"\n", {rec(1, {"\"", "\"\""})});
  check("\"\",x,\"\"\n", {rec(1, {"", "x", ""})});
  check("\"Anne \"\"Annie\"\"\",\"Lee, Jr.\"\r\n", {rec(1, {"Anne \"Annie\"", "Lee, Jr."})});
  check("\"a\"\r\n\"b\"", {rec(1, {"a"}), rec(2, {"b"})});
  check("\"ends with CR at EOF\"\r", {rec(1, {"ends with CR at EOF"})});
}

TEST_CASE("empty fields") {
  check(",,\n", {rec(1, {"", "", ""})});
  check("a,\n", {rec(1, {"a", ""})});
  check("a,", {rec(1, {"a", ""})});
  check(",a", {rec(1, {"", "a"})});
  check("a,,b\r\n", {rec(1, {"a", "", "b"})});
}

TEST_CASE("embedded line breaks keep the line where each record starts") {
  const std::string input =
      "id,first,last\r\n"
      "1,\"Line\nBreak\",\"Multi\r\nLine\"\r\n"
      "2,plain,row\r\n"
      "3,\"a\n\nb\",\"\"\"\n\"\"\"\r\n"
      "4,x,y";
  check(input, {rec(1, {"id", "first", "last"}), rec(2, {"1", "Line\nBreak", "Multi\r\nLine"}),
                rec(5, {"2", "plain", "row"}), rec(6, {"3", "a\n\nb", "\"\n\""}), rec(10, {"4", "x", "y"})});
}

TEST_CASE("a UTF-8 BOM at the start is skipped, elsewhere it is data") {
  check("\xEF\xBB\xBFgym_id,name\ng1,x\n", {rec(1, {"gym_id", "name"}), rec(2, {"g1", "x"})});
  check("\xEF\xBB\xBF", {});
  check("\xEF\xBB", {rec(1, {"\xEF\xBB"})});
  check("a\n\xEF\xBB\xBF" "b\n", {rec(1, {"a"}), rec(2, {"\xEF\xBB\xBF" "b"})});
}

TEST_CASE("text is kept verbatim: emoji, SQL, format strings, spaces, stray quotes, lone CR") {
  check("\xF0\x9F\x98\x80 Emoji,\xC3\x9Cn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9\n",
        {rec(1, {"\xF0\x9F\x98\x80 Emoji", "\xC3\x9Cn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9"})});
  check("\"Robert'); DROP TABLE leads;--\",Tables\n", {rec(1, {"Robert'); DROP TABLE leads;--", "Tables"})});
  check("%s%s%n,{}{0}\n", {rec(1, {"%s%s%n", "{}{0}"})});
  check("   padded   ,\ttabbed\t\n", {rec(1, {"   padded   ", "\ttabbed\t"})});
  check("ab\"c,d\"\n", {rec(1, {"ab\"c", "d\""})});
  check(" \"x\" ,y\n", {rec(1, {" \"x\" ", "y"})});
  check("a\rb,c\r\n", {rec(1, {"a\rb", "c"})});
  check("bad \xFF\xFE bytes,ok\n", {rec(1, {"bad \xFF\xFE bytes", "ok"})});  // encoding is the importer's job
}

TEST_CASE("empty lines are skipped but still counted, unless asked otherwise") {
  check("a\n\nb\r\n\r\n\nc\n\n", {rec(1, {"a"}), rec(3, {"b"}), rec(6, {"c"})});
  csv::ReaderOptions keep;
  keep.skip_empty_lines = false;
  check("a\n\nb\r\n", {rec(1, {"a"}), rec(2, {""}), rec(3, {"b"})}, keep);
  check("\"\"\n", {rec(1, {""})});  // an empty quoted field is a record, not an empty line
}

TEST_CASE("malformed quoting: that record is reported, the next line parses") {
  // Text after a closing quote.
  check("h1,h2,h3\n1,\"ab\"c,3\n2,ok,ok\n", {rec(1, {"h1", "h2", "h3"}), bad(2), rec(3, {"2", "ok", "ok"})});
  check("\"a\" ,b\n\"c\"\rd\nz\n", {bad(1), bad(2), rec(3, {"z"})});
  // An opening quote never closed: without resynchronization it would swallow the file.
  check("h\n1,\"abc\n2,def\n3,ghi", {rec(1, {"h"}), bad(2), rec(3, {"2", "def"}), rec(4, {"3", "ghi"})});
  check("\"", {bad(1)});
  check("a\n\"", {rec(1, {"a"}), bad(2)});
  // A stray quote opening a field swallows the rows after it until a later quote
  // closes it; the next line after the bad record's start is read again.
  check("1,\"John,Smith\n2,Jane,Doe\n3,\"Bob\",x\n",
        {bad(1), rec(2, {"2", "Jane", "Doe"}), rec(3, {"3", "Bob", "x"})});
  // Bad record spanning lines whose closing quote is followed by junk: resume at its second line.
  check("1,\"a\nb\"junk\n2,c\n", {bad(1), rec(2, {"b\"junk"}), rec(3, {"2", "c"})});
}

TEST_CASE("an oversized record is malformed and does not grow memory without bound") {
  csv::ReaderOptions options;
  options.chunk_size = 16;
  options.max_record_bytes = 64;
  // An opening quote whose close is too far away, then a line too long by itself.
  const std::string input = "a\n\"short\nline\n" + std::string(200, 'x') + "\",y\nb\n";
  CHECK(parse(input, options) ==
        std::vector<Row>{rec(1, {"a"}), bad(2), rec(3, {"line"}), bad(4), rec(5, {"b"})});
  const std::string long_line(500, 'z');
  CHECK(parse("a\n" + long_line + "\nb\n", options) == std::vector<Row>{rec(1, {"a"}), bad(2), rec(3, {"b"})});
  CHECK(parse("a\n" + long_line, options) == std::vector<Row>{rec(1, {"a"}), bad(2)});
  // Records up to the limit are fine.
  const std::string fits(60, 'f');
  CHECK(parse(fits + "\n" + fits, options) == std::vector<Row>{rec(1, {fits}), rec(2, {fits})});
}

TEST_CASE("a custom source") {
  const std::string data = "x,y\n\"1\",2\n";
  std::size_t at = 0;
  csv::Reader reader([&](char* dst, std::size_t cap) {
    const auto n = std::min<std::size_t>({cap, 3, data.size() - at});
    data.copy(dst, n, at);
    at += n;
    return n;
  });
  CHECK(read_all(reader) == std::vector<Row>{rec(1, {"x", "y"}), rec(2, {"1", "2"})});
}

TEST_CASE("multi-MB input through a trickling stream: records cross every buffer boundary") {
  // Generate rows with the awkward content the importer sees, remembering what
  // each should read back as.
  std::mt19937_64 rng(20240611);
  const std::vector<std::string> pieces = {
      "plain", "", " spaced ", "comma,inside", "quote\"inside", "line\nbreak", "crlf\r\nbreak", "\"\"",
      "\xF0\x9F\x98\x80", "Robert'); DROP TABLE leads;--", "%s%n{}", "lone\rcr", "tail\r"};
  std::string input = "\xEF\xBB\xBF" "c0,c1,c2,c3\r\n";
  std::vector<Row> expected = {rec(1, {"c0", "c1", "c2", "c3"})};
  std::uint64_t line = 2;
  std::size_t malformed = 0;
  while (input.size() < std::size_t{6} << 20) {
    if (rng() % 1000 == 0) {
      input += "1,\"broken\"x,3,4\r\n";
      expected.push_back(bad(line++));
      ++malformed;
      continue;
    }
    Row row{ReadStatus::Record, line, {}};
    std::string text;
    for (int c = 0; c < 4; ++c) {
      std::string value = pieces[rng() % pieces.size()];
      if (rng() % 4 == 0) value += std::to_string(rng());
      const bool needs_quotes = value.find_first_of(",\"\r\n") != std::string::npos;
      if (c > 0) text += ',';
      if (needs_quotes || rng() % 8 == 0) {
        text += '"';
        for (char ch : value) text += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        text += '"';
      } else {
        text += value;
      }
      for (char ch : value) line += ch == '\n';
      row.fields.push_back(std::move(value));
    }
    input += text;
    input += rng() % 2 ? "\r\n" : "\n";
    ++line;
    expected.push_back(std::move(row));
  }
  REQUIRE(malformed > 0);

  for (std::size_t chunk : {std::size_t{7}, std::size_t{4096}, std::size_t{1} << 20}) {
    CAPTURE(chunk);
    TrickleBuf buf(input, 1000);
    std::istream in(&buf);
    csv::ReaderOptions options;
    options.chunk_size = chunk;
    csv::Reader reader(in, options);
    const auto rows = read_all(reader);
    CHECK(reader.bytes_consumed() == input.size());
    REQUIRE(rows.size() == expected.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i] == expected[i]) continue;
      if (++mismatches <= 3) CHECK(rows[i] == expected[i]);
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("header: positions by name, missing and repeated columns") {
  const std::vector<std::string_view> names = {"external_id", " Gym_ID ", "phone", "email", "phone"};
  const csv::Header header(names);
  CHECK(header.size() == 5);
  CHECK(header.index("external_id") == 0);
  CHECK(header.index("gym_id") == 1);
  CHECK(header.index("GYM_ID") == 1);
  CHECK(header.index("phone") == 2);  // the first of two
  CHECK_FALSE(header.index("created_at").has_value());
  CHECK(header.missing({"gym_id", "created_at", "phone", "consent"}) ==
        std::vector<std::string>{"created_at", "consent"});
  CHECK(header.missing({"gym_id"}).empty());
  CHECK(header.duplicates() == std::vector<std::string>{"phone"});
}
