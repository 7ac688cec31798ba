#include "core/csv.hpp"

#include "core/text.hpp"

#include <gymdash/error.hpp>

#include <algorithm>
#include <cstring>
#include <istream>

namespace gymdash::csv {

namespace {

// Small enough that a tiny chunk_size still exercises refills, large enough for the BOM.
constexpr std::size_t kMinCapacity = 64;

// First ',' or '\n' in [p, end), or end. Most fields are short, so a plain loop
// that the compiler keeps in registers beats setting up wider scans.
inline const char* find_separator(const char* p, const char* end) noexcept {
  while (p != end && *p != ',' && *p != '\n') ++p;
  return p;
}

inline char* append(const char* from, const char* to, char* out) noexcept {
  const auto n = static_cast<std::size_t>(to - from);
  std::memcpy(out, from, n);
  return out + n;
}

}  // namespace

Reader::Reader(std::istream& in, const ReaderOptions& options)
    : Reader(Source([&in](char* dst, std::size_t capacity) -> std::size_t {
               in.read(dst, static_cast<std::streamsize>(capacity));
               if (in.bad()) throw StorageError("csv: reading the input failed");
               return static_cast<std::size_t>(in.gcount());
             }),
             options) {}

Reader::Reader(Source source, const ReaderOptions& options) : source_(std::move(source)), options_(options) {
  options_.chunk_size = std::max<std::size_t>(options_.chunk_size, 1);
  options_.max_record_bytes = std::max(options_.max_record_bytes, options_.chunk_size);
  allocate(std::max(options_.chunk_size, kMinCapacity));
}

Reader::~Reader() = default;

void Reader::allocate(std::size_t capacity) {
  auto buf = std::make_unique_for_overwrite<char[]>(capacity);
  if (len_ > 0) std::memcpy(buf.get(), buf_.get(), len_);
  buf_ = std::move(buf);
  // Unescaped text is never longer than its quoted source, and a record never
  // outgrows the buffer, so a scratch area as large as the buffer never overflows.
  scratch_ = std::make_unique_for_overwrite<char[]>(capacity);
  cap_ = capacity;
}

// Makes room and reads one chunk. Returns false when the unfinished record
// already fills the largest buffer allowed.
bool Reader::refill() {
  if (pos_ > 0) {
    std::memmove(buf_.get(), buf_.get() + pos_, len_ - pos_);
    discarded_ += pos_;
    len_ -= pos_;
    pos_ = 0;
  }
  if (len_ == cap_) {
    const auto limit = options_.max_record_bytes + options_.chunk_size;
    if (cap_ >= limit) return false;
    allocate(std::min(cap_ * 2, limit));
  }
  const auto n = source_(buf_.get() + len_, std::min(options_.chunk_size, cap_ - len_));
  if (n == 0) eof_ = true;
  len_ += n;
  return true;
}

ReadStatus Reader::next() {
  fields_.clear();
  error_ = {};
  if (!started_) {
    while (len_ < 3 && !eof_) refill();
    if (len_ >= 3 && std::memcmp(buf_.get(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
    started_ = true;
  }
  for (;;) {
    if (skipping_line_) {
      const auto* base = buf_.get();
      const auto* lf = static_cast<const char*>(std::memchr(base + pos_, '\n', len_ - pos_));
      if (lf != nullptr) {
        pos_ = static_cast<std::size_t>(lf - base) + 1;
        ++line_;
        skipping_line_ = false;
      } else {
        pos_ = len_;
        if (eof_) return ReadStatus::End;
        refill();
        continue;
      }
    }
    switch (parse_record()) {
      case Parse::Done:
        pos_ = end_pos_;
        line_ += end_lines_;
        if (fields_.empty()) return ReadStatus::End;
        return ReadStatus::Record;
      case Parse::Malformed:
        resync_after_malformed();
        return ReadStatus::Malformed;
      case Parse::NeedMore:
        if (!refill()) {
          error_ = "record longer than the reader's max_record_bytes";
          resync_after_malformed();
          return ReadStatus::Malformed;
        }
        break;
    }
  }
}

// Resumes at the physical line after the one where the bad record starts: a
// stray opening quote then swallows at most that one line, not the file.
void Reader::resync_after_malformed() {
  fields_.clear();
  const auto* base = buf_.get();
  const auto* lf = static_cast<const char*>(std::memchr(base + pos_, '\n', len_ - pos_));
  if (lf != nullptr) {
    pos_ = static_cast<std::size_t>(lf - base) + 1;
    ++line_;
  } else {
    pos_ = len_;
    skipping_line_ = !eof_;
  }
}

// Parses one record starting at pos_ without consuming it: on Done, the record
// ends at end_pos_ after end_lines_ line feeds; on NeedMore the caller reads more
// and the record is parsed again from its start (cheap next to a 1 MiB read, and
// it keeps the buffer untouched for resynchronization). Never returns NeedMore
// once the source is exhausted. An empty fields_ with Done means end of input.
Reader::Parse Reader::parse_record() {
  const char* const base = buf_.get();
  const char* const end = base + len_;
  fields_.clear();

  if (options_.skip_empty_lines) {
    for (;;) {
      const char* p = base + pos_;
      if (p == end) break;
      if (*p == '\n') {
        ++pos_;
        ++line_;
        continue;
      }
      if (*p != '\r') break;
      if (p + 1 == end) {
        if (!eof_) return Parse::NeedMore;
        ++pos_;  // a lone CR ending the input is an empty last line
        continue;
      }
      if (p[1] != '\n') break;
      pos_ += 2;
      ++line_;
    }
  }
  record_line_ = line_;
  const char* p = base + pos_;
  if (p == end) {
    if (!eof_) return Parse::NeedMore;
    end_pos_ = len_;
    end_lines_ = 0;
    return Parse::Done;  // with no fields: end of input
  }

  char* out = scratch_.get();
  std::uint64_t lines = 0;
  const auto finish = [&](const char* after, std::uint64_t line_feeds) {
    end_pos_ = static_cast<std::size_t>(after - base);
    end_lines_ = lines + line_feeds;
    return Parse::Done;
  };

  for (;;) {
    if (p != end && *p == '"') {
      const char* seg = ++p;
      char* unescaped = nullptr;  // where this field starts in scratch_, once it has an escape
      for (;;) {
        const auto* q = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
        if (q == nullptr) {
          if (!eof_) return Parse::NeedMore;
          error_ = "quoted field not closed before the end of input";
          return Parse::Malformed;
        }
        lines += static_cast<std::uint64_t>(std::count(p, q, '\n'));
        if (q + 1 == end && !eof_) return Parse::NeedMore;  // "" split by the buffer end?
        if (q + 1 != end && q[1] == '"') {
          if (unescaped == nullptr) unescaped = out;
          out = append(seg, q + 1, out);  // keeps one of the two quotes
          p = seg = q + 2;
          continue;
        }
        if (unescaped != nullptr) {
          out = append(seg, q, out);
          fields_.emplace_back(unescaped, static_cast<std::size_t>(out - unescaped));
        } else {
          fields_.emplace_back(seg, static_cast<std::size_t>(q - seg));
        }
        p = q + 1;
        break;
      }
      if (p == end) return finish(p, 0);  // the source is exhausted (checked above)
      if (*p == ',') {
        ++p;
        continue;
      }
      if (*p == '\n') return finish(p + 1, 1);
      if (*p == '\r') {
        if (p + 1 == end) {
          if (!eof_) return Parse::NeedMore;
          return finish(p + 1, 0);
        }
        if (p[1] == '\n') return finish(p + 2, 1);
      }
      error_ = "text between a closing quote and the next comma";
      return Parse::Malformed;
    }

    const char* q = find_separator(p, end);
    if (q != end && *q == ',') {
      fields_.emplace_back(p, static_cast<std::size_t>(q - p));
      p = q + 1;
      continue;
    }
    if (q == end && !eof_) return Parse::NeedMore;
    // The field ends the record (at LF or at the end of input); a CR just before is
    // part of the line ending.
    const char* field_end = (q != p && q[-1] == '\r') ? q - 1 : q;
    fields_.emplace_back(p, static_cast<std::size_t>(field_end - p));
    return q == end ? finish(q, 0) : finish(q + 1, 1);
  }
}

Header::Header(std::span<const std::string_view> names) {
  names_.reserve(names.size());
  for (const auto raw : names) {
    auto name = text::ascii_lower(text::trim(raw));
    if (std::find(names_.begin(), names_.end(), name) != names_.end())
      duplicates_.emplace_back(text::trim(raw));
    names_.push_back(std::move(name));
  }
}

std::optional<std::size_t> Header::index(std::string_view name) const noexcept {
  name = text::trim(name);
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const auto& n = names_[i];
    if (n.size() != name.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < n.size() && same; ++k) {
      char c = name[k];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      same = n[k] == c;
    }
    if (same) return i;
  }
  return std::nullopt;
}

std::vector<std::string> Header::missing(std::span<const std::string_view> required) const {
  std::vector<std::string> out;
  for (const auto name : required)
    if (!index(name)) out.emplace_back(name);
  return out;
}

}  // namespace gymdash::csv
