// Streaming RFC 4180 CSV reader for the bulk lead import.
//
// Reads any amount of input in bounded memory, one record at a time: a buffer
// of one chunk, grown only to hold the longest record (never past
// max_record_bytes), and a scratch area of the same size for unescaped fields.
// Fields that need no unescaping are views into the buffer, so a plain record
// costs no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash::csv {

/** What Reader::next() found. */
enum class ReadStatus {
  Record,     ///< a well-formed record; fields() holds it, line() is where it starts
  Malformed,  ///< broken quoting or an oversized record at line(); fields() is empty, error() says why
  End,        ///< no more input
};

/** Options of a Reader. */
struct ReaderOptions {
  /** Bytes requested from the source per read. Default 1 MiB. */
  std::size_t chunk_size = std::size_t{1} << 20;
  /**
   * Longest record held in memory. A longer one (e.g. an opening quote that is
   * never closed in a multi-GB file) is reported Malformed instead of growing
   * the buffer without bound. Default 16 MiB.
   */
  std::size_t max_record_bytes = std::size_t{16} << 20;
  /** Skip physical lines that are completely empty (LF or CRLF alone). Default true. */
  bool skip_empty_lines = true;
};

/**
 * A byte source: writes up to `capacity` bytes to `dst` and returns how many it
 * wrote; 0 means end of input. Throws on an I/O error.
 */
using Source = std::function<std::size_t(char* dst, std::size_t capacity)>;

/**
 * Pull reader over RFC 4180 CSV: comma separator; fields optionally enclosed in
 * double quotes; `""` inside quotes is one quote; records end with LF or CRLF;
 * quoted fields may hold commas, quotes, CR and LF. A UTF-8 BOM at the very start
 * is skipped. Nothing is trimmed and no encoding is checked: bytes come back as
 * written.
 *
 * Leniency, chosen so that one bad row never costs the rest of the file:
 * - a quote inside an unquoted field (`ab"c`) is data;
 * - a lone CR not followed by LF is data;
 * - text between a closing quote and the next separator (`"ab"c`), an opening
 *   quote never closed before end of input, or a record over max_record_bytes
 *   makes that record Malformed; reading resumes at the physical line after the
 *   one where the malformed record started.
 *
 * Ownership: the reader keeps a reference to the stream (or owns the Source);
 * the stream must outlive it. Thread safety: one reader, one thread.
 */
class Reader {
 public:
  /** Reads from `in` (opened in binary mode for files). A stream error (badbit) throws StorageError. */
  explicit Reader(std::istream& in, const ReaderOptions& options = {});
  explicit Reader(Source source, const ReaderOptions& options = {});
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  /** Advances to the next record. Views from the previous call become invalid. */
  ReadStatus next();

  /** The fields of the current record; valid until the next call to next(). */
  std::span<const std::string_view> fields() const noexcept { return fields_; }

  /** 1-based physical line where the current record starts (the header is line 1). */
  std::uint64_t line() const noexcept { return record_line_; }

  /** Why the current record is Malformed; empty otherwise. Static text. */
  std::string_view error() const noexcept { return error_; }

  /** Input bytes consumed so far (for progress reporting). */
  std::uint64_t bytes_consumed() const noexcept { return discarded_ + pos_; }

 private:
  enum class Parse { Done, NeedMore, Malformed };

  Parse parse_record();
  bool refill();
  void resync_after_malformed();
  void allocate(std::size_t capacity);

  Source source_;
  ReaderOptions options_;
  std::unique_ptr<char[]> buf_;      // input bytes [0, len_), next record at pos_
  std::unique_ptr<char[]> scratch_;  // unescaped quoted fields; as large as buf_
  std::size_t cap_ = 0;
  std::size_t len_ = 0;
  std::size_t pos_ = 0;
  std::size_t end_pos_ = 0;       // set by parse_record: where the parsed record ends
  std::uint64_t end_lines_ = 0;   // set by parse_record: line feeds the parsed record consumed
  std::uint64_t discarded_ = 0;   // bytes dropped from the front of buf_ so far
  std::uint64_t line_ = 1;        // physical line at pos_
  std::uint64_t record_line_ = 0;
  std::vector<std::string_view> fields_;
  std::string_view error_;
  bool eof_ = false;
  bool started_ = false;          // BOM check done
  bool skipping_line_ = false;    // dropping the rest of an oversized line
};

/**
 * Column positions by name, built from the header record. Names match after
 * trimming ASCII whitespace, ignoring ASCII case; a repeated name keeps its first
 * position and is listed in duplicates().
 */
class Header {
 public:
  Header() = default;
  explicit Header(std::span<const std::string_view> names);

  /** Position of column `name`, or nullopt. */
  std::optional<std::size_t> index(std::string_view name) const noexcept;

  /** Number of columns in the header (what every record must have). */
  std::size_t size() const noexcept { return names_.size(); }

  /** The names in `required` that the header lacks, in the order given. */
  std::vector<std::string> missing(std::span<const std::string_view> required) const;
  std::vector<std::string> missing(std::initializer_list<std::string_view> required) const {
    return missing(std::span<const std::string_view>(required.begin(), required.size()));
  }

  /** Names that appear more than once (as written the second time). */
  const std::vector<std::string>& duplicates() const noexcept { return duplicates_; }

 private:
  std::vector<std::string> names_;  // trimmed, lower-cased, in column order
  std::vector<std::string> duplicates_;
};

}  // namespace gymdash::csv
