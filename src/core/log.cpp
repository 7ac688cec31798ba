// Log records: formatting, redaction, sinks and the Logger.
#include <gymdash/clock.hpp>
#include <gymdash/log.hpp>

#include <fmt/format.h>

#include <cstdio>

namespace gymdash {

namespace {
constexpr const char* kLevelNames[] = {"trace", "debug", "info", "warn", "error", "off"};
}

const char* to_string(LogLevel level) noexcept {
  const auto i = static_cast<int>(level);
  return i >= 0 && i <= 5 ? kLevelNames[i] : "unknown";
}

LogLevel parse_log_level(std::string_view text, std::string_view field) {
  for (int i = 0; i <= 5; ++i)
    if (text == kLevelNames[i]) return static_cast<LogLevel>(i);
  if (text == "warning") return LogLevel::Warn;
  throw_invalid(field, fmt::format("\"{}\" is not a log level (trace, debug, info, warn, error, off)",
                                   text.substr(0, 32)));
}

const char* to_string(LogFormat format) noexcept { return format == LogFormat::Logfmt ? "logfmt" : "json"; }

LogFormat parse_log_format(std::string_view text, std::string_view field) {
  if (text == "json") return LogFormat::Json;
  if (text == "logfmt") return LogFormat::Logfmt;
  throw_invalid(field, fmt::format("\"{}\" is not a log format (json, logfmt)", text.substr(0, 32)));
}

// ---- redaction -----------------------------------------------------------------

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_phone_punct(char c) { return c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '+'; }
bool is_email_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' || c == '_' || c == '%' ||
         c == '+' || c == '-';
}
bool is_word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_'; }

// YYYY-MM-DD: eight digits that are a date, not a phone number.
bool is_date(std::string_view run) {
  return run.size() == 10 && run[4] == '-' && run[7] == '-' && is_digit(run[0]) && is_digit(run[3]) &&
         is_digit(run[5]) && is_digit(run[6]) && is_digit(run[8]) && is_digit(run[9]);
}

}  // namespace

namespace {

// A run of digits only (no '+', no punctuation) that an error text may keep:
// fewer than 10 digits (a count, a limit, a byte size), or a round number
// such as 2000000000 (a limit; no phone number is a digit and zeros).
bool plain_number(std::string_view run) {
  for (char c : run)
    if (!is_digit(c)) return false;
  if (run.size() < 10) return true;
  return run.find_first_not_of('0', 1) == std::string_view::npos;
}

std::string redact_text(std::string_view s, bool keep_plain_numbers) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    // Email: local@domain.tld → [email]
    if (c == '@' && i > 0 && is_email_char(s[i - 1])) {
      std::size_t end = i + 1;
      while (end < s.size() && (is_email_char(s[end]))) ++end;
      if (end > i + 1) {
        // Remove the local part already copied.
        std::size_t start = out.size();
        while (start > 0 && is_email_char(out[start - 1])) --start;
        out.resize(start);
        out += "[email]";
        i = end;
        continue;
      }
    }
    // Phone-like run: starts with a digit or '+' / '(' followed by digits, not inside a word.
    // Not inside a word or an id such as `E7-000000001`.
    const bool starts_token =
        i == 0 || !(is_word_char(s[i - 1]) || ((s[i - 1] == '-' || s[i - 1] == '.') && i >= 2 && is_word_char(s[i - 2])));
    if ((is_digit(c) || c == '+' || c == '(') && starts_token) {
      std::size_t end = i;
      std::size_t digits = 0;
      std::size_t last_digit_end = i;
      while (end < s.size() && (is_digit(s[end]) || is_phone_punct(s[end]))) {
        if (is_digit(s[end])) {
          ++digits;
          last_digit_end = end + 1;
        }
        ++end;
      }
      const bool followed_by_word = last_digit_end < s.size() && is_word_char(s[last_digit_end]);
      const std::string_view run = s.substr(i, last_digit_end - i);
      if (digits >= 7 && !followed_by_word && !is_date(run) && !(keep_plain_numbers && plain_number(run))) {
        std::string kept;
        for (std::size_t k = i; k < last_digit_end; ++k)
          if (is_digit(s[k])) kept.push_back(s[k]);
        out += "***";
        out += kept.substr(kept.size() - 4);
        i = last_digit_end;
        continue;
      }
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

}  // namespace

std::string redact(std::string_view s) { return redact_text(s, false); }

std::string redact_message(std::string_view s) {
  try {
    return redact_text(s, true);
  } catch (...) {
    return "(message unavailable)";
  }
}

// ---- formatting ----------------------------------------------------------------

namespace {

void json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void logfmt_value(std::string& out, std::string_view s) {
  bool quote = s.empty();
  for (unsigned char c : s)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) quote = true;
  if (!quote) {
    out.append(s);
    return;
  }
  json_string(out, s);  // JSON escaping is a valid logfmt quoted value
}

}  // namespace

std::string format_log_record(const LogRecord& r, LogFormat format) {
  std::string out;
  out.reserve(160 + r.message.size());
  std::vector<std::pair<std::string_view, std::string>> kv;
  kv.emplace_back("time", format_timestamp(r.time));
  kv.emplace_back("level", to_string(r.level));
  if (!r.operation.empty()) kv.emplace_back("op", r.operation);
  if (!r.gym_id.empty()) kv.emplace_back("gym", r.gym_id);
  if (!r.lead_id.empty()) kv.emplace_back("lead", r.lead_id);
  if (!r.call_id.empty()) kv.emplace_back("call", r.call_id);
  if (r.code != ErrorCode::Ok) kv.emplace_back("error", error_code_name(r.code));
  if (r.duration_ms >= 0) kv.emplace_back("ms", fmt::format("{:.3f}", r.duration_ms));
  kv.emplace_back("msg", r.message);
  for (const auto& [k, v] : r.fields) kv.emplace_back(k, v);

  if (format == LogFormat::Json) {
    out.push_back('{');
    bool first = true;
    for (const auto& [k, v] : kv) {
      if (!first) out.push_back(',');
      first = false;
      json_string(out, k);
      out.push_back(':');
      if (k == "ms") out += v;
      else json_string(out, v);
    }
    out.push_back('}');
  } else {
    bool first = true;
    for (const auto& [k, v] : kv) {
      if (!first) out.push_back(' ');
      first = false;
      out.append(k);
      out.push_back('=');
      logfmt_value(out, v);
    }
  }
  return out;
}

// ---- sinks ---------------------------------------------------------------------

namespace {

class FileSink final : public LogSink {
 public:
  FileSink(std::FILE* f, bool owned, LogFormat format) : file_(f), owned_(owned), format_(format) {}
  ~FileSink() override {
    if (owned_) std::fclose(file_);
  }
  void write(const LogRecord& record) noexcept override {
    try {
      auto line = format_log_record(record, format_);
      line.push_back('\n');
      std::lock_guard lock(mutex_);
      std::fwrite(line.data(), 1, line.size(), file_);
      std::fflush(file_);
    } catch (...) {
      // A log line that cannot be written must not take the host down.
    }
  }

 private:
  std::FILE* file_;
  bool owned_;
  LogFormat format_;
  std::mutex mutex_;
};

class CallbackSink final : public LogSink {
 public:
  CallbackSink(std::function<void(const LogRecord&, std::string_view)> fn, LogFormat format)
      : fn_(std::move(fn)), format_(format) {}
  void write(const LogRecord& record) noexcept override {
    try {
      const auto line = format_log_record(record, format_);
      fn_(record, line);
    } catch (...) {
    }
  }

 private:
  std::function<void(const LogRecord&, std::string_view)> fn_;
  LogFormat format_;
};

}  // namespace

std::shared_ptr<LogSink> make_stderr_log_sink(LogFormat format) {
  return std::make_shared<FileSink>(stderr, false, format);
}

std::shared_ptr<LogSink> make_file_log_sink(const std::string& path, LogFormat format, std::string_view field) {
  if (path.empty()) throw_invalid(field, "is empty");
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (!f) throw_invalid(field, fmt::format("cannot open \"{}\" for writing", path));
  return std::make_shared<FileSink>(f, true, format);
}

std::shared_ptr<LogSink> make_callback_log_sink(std::function<void(const LogRecord&, std::string_view)> fn,
                                                LogFormat format) {
  if (!fn) throw_invalid("callback", "is empty");
  return std::make_shared<CallbackSink>(std::move(fn), format);
}

void MemoryLogSink::write(const LogRecord& record) noexcept {
  try {
    auto line = format_log_record(record, format_);
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
    records_.push_back(record);
  } catch (...) {
  }
}

std::vector<std::string> MemoryLogSink::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::vector<LogRecord> MemoryLogSink::records() const {
  std::lock_guard lock(mutex_);
  return records_;
}

// ---- Logger --------------------------------------------------------------------

Logger::Logger(std::shared_ptr<LogSink> sink, LogLevel level)
    : level_(static_cast<int>(level)), sink_(std::move(sink)), clock_(make_system_clock()) {}

void Logger::set_sink(std::shared_ptr<LogSink> sink) {
  std::lock_guard lock(mutex_);
  sink_ = std::move(sink);
}

void Logger::set_clock(std::shared_ptr<Clock> clock) {
  std::lock_guard lock(mutex_);
  clock_ = std::move(clock);
}

void Logger::log(LogRecord record) noexcept {
  if (!enabled(record.level)) return;
  try {
    std::shared_ptr<LogSink> sink;
    std::shared_ptr<Clock> clock;
    {
      std::lock_guard lock(mutex_);
      sink = sink_;
      clock = clock_;
    }
    if (!sink) return;
    if (record.time == Timestamp{} && clock) record.time = clock->now();
    record.message = redact(record.message);
    // Ids come from callers too, and a caller may pass a phone number or an email as one.
    record.gym_id = redact(record.gym_id);
    record.lead_id = redact(record.lead_id);
    record.call_id = redact(record.call_id);
    for (auto& [k, v] : record.fields) v = redact(v);
    sink->write(record);
  } catch (...) {
  }
}

void Logger::log(LogLevel level, std::string_view operation, std::string_view message) noexcept {
  if (!enabled(level)) return;
  try {
    LogRecord r;
    r.level = level;
    r.operation = std::string(operation);
    r.message = std::string(message);
    log(std::move(r));
  } catch (...) {
  }
}

}  // namespace gymdash
