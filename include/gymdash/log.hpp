/**
 * @file log.hpp
 * @brief Structured, levelled logging with pluggable sinks.
 *
 * gymdash logs important operations once each (not once per row): what was
 * done, for which gym / lead / call, how long it took and how it ended. A
 * record is written as one JSON line or one logfmt line to a sink: stderr (the
 * default), a file, a C callback, or the Python package's bridge into the
 * standard `logging` module.
 *
 * Personal data: the message and extra fields of every record pass through
 * redact() before any sink sees them, so phone numbers appear only as their
 * last four digits and email addresses not at all.
 */
#pragma once

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gymdash {

/** Severity, lowest first. `Off` disables logging. */
enum class LogLevel : int { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Off = 5 };

/** How a record is written. */
enum class LogFormat : int { Json = 0, Logfmt = 1 };

const char* to_string(LogLevel level) noexcept;
/** Parses `trace`, `debug`, `info`, `warn`, `error`, `off`; throws InvalidArgumentError naming `field`. */
LogLevel parse_log_level(std::string_view text, std::string_view field = "level");
const char* to_string(LogFormat format) noexcept;
/** Parses `json`, `logfmt`; throws InvalidArgumentError naming `field`. */
LogFormat parse_log_format(std::string_view text, std::string_view field = "format");

/** One log record. Empty strings are left out of the written line. */
struct LogRecord {
  Timestamp time{};
  LogLevel level = LogLevel::Info;
  std::string operation;  ///< `lead.create`, `leads.import`, `runtime.open` …
  std::string gym_id;
  std::string lead_id;
  std::string call_id;
  ErrorCode code = ErrorCode::Ok;  ///< written as `error` (its name) when not Ok
  std::string message;
  double duration_ms = -1;         ///< written when ≥ 0
  std::vector<std::pair<std::string, std::string>> fields;  ///< extra key/values (counts, sizes)
};

/** Writes `record` as one line (no trailing newline) in `format`. */
std::string format_log_record(const LogRecord& record, LogFormat format);

/**
 * Masks personal data in free text: every run that reads as a phone number
 * (7 or more digits, possibly with spaces, dots, dashes, parentheses or a
 * leading +) becomes `***` plus its last four digits, every email address
 * becomes `[email]`.
 */
std::string redact(std::string_view text);

/**
 * Where records go.
 * Ownership: shared (std::shared_ptr) by the loggers that use it.
 * Thread safety: write() is called concurrently from many threads; an
 * implementation must be safe for that.
 */
class LogSink {
 public:
  LogSink() = default;
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;
  virtual ~LogSink() = default;
  /** Writes one record (already redacted). Must not throw. */
  virtual void write(const LogRecord& record) noexcept = 0;
};

/** Writes lines to stderr. */
std::shared_ptr<LogSink> make_stderr_log_sink(LogFormat format = LogFormat::Json);
/**
 * Appends lines to a file (created if missing). Throws InvalidArgumentError
 * naming `field` if the file cannot be opened for writing.
 */
std::shared_ptr<LogSink> make_file_log_sink(const std::string& path, LogFormat format = LogFormat::Json,
                                            std::string_view field = "logging.file");
/** Calls `fn(record, line)` for each record; `line` is the record formatted in `format`. */
std::shared_ptr<LogSink> make_callback_log_sink(std::function<void(const LogRecord&, std::string_view)> fn,
                                                LogFormat format = LogFormat::Json);
/** Keeps formatted lines in memory (for tests and diagnostics). */
class MemoryLogSink final : public LogSink {
 public:
  explicit MemoryLogSink(LogFormat format = LogFormat::Json) : format_(format) {}
  void write(const LogRecord& record) noexcept override;
  std::vector<std::string> lines() const;
  std::vector<LogRecord> records() const;

 private:
  LogFormat format_;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::vector<LogRecord> records_;
};

/**
 * Filters records by level, redacts them and hands them to a sink.
 * Ownership: shared by the runtime and its services.
 * Thread safety: all members are safe to call concurrently; set_sink and
 * set_level take effect for records logged after they return.
 */
class Logger {
 public:
  explicit Logger(std::shared_ptr<LogSink> sink = make_stderr_log_sink(), LogLevel level = LogLevel::Info);

  bool enabled(LogLevel level) const noexcept {
    return level != LogLevel::Off && static_cast<int>(level) >= level_.load(std::memory_order_relaxed);
  }
  /** Redacts and writes `record` if its level is enabled. Never throws. */
  void log(LogRecord record) noexcept;
  /** Shorthand for a record with an operation and a message. */
  void log(LogLevel level, std::string_view operation, std::string_view message) noexcept;

  void set_level(LogLevel level) noexcept { level_.store(static_cast<int>(level)); }
  LogLevel level() const noexcept { return static_cast<LogLevel>(level_.load()); }
  void set_sink(std::shared_ptr<LogSink> sink);
  /** Time source for records (default: the system clock). */
  void set_clock(std::shared_ptr<class Clock> clock);

 private:
  std::atomic<int> level_;
  mutable std::mutex mutex_;
  std::shared_ptr<LogSink> sink_;
  std::shared_ptr<class Clock> clock_;
};

}  // namespace gymdash
