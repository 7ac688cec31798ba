// The C ABI's operations functions: checking a configuration, routing a
// handle's log records to a host callback, and exporting its metrics. The
// rules are the C++ library's (config.hpp, log.hpp, metrics.hpp); this file
// only translates. See capi/include/gymdash.h for the promises.
#include <gymdash.h>

#include "c_util.hpp"

#include <gymdash/config.hpp>
#include <gymdash/log.hpp>
#include <gymdash/metrics.hpp>
#include <gymdash/runtime.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace {

using namespace gymdash::capi;
using gymdash::LogFormat;
using gymdash::LogLevel;
using gymdash::LogRecord;

static_assert(GYMDASH_LOG_TRACE == static_cast<int>(LogLevel::Trace) &&
                  GYMDASH_LOG_DEBUG == static_cast<int>(LogLevel::Debug) &&
                  GYMDASH_LOG_INFO == static_cast<int>(LogLevel::Info) &&
                  GYMDASH_LOG_WARN == static_cast<int>(LogLevel::Warn) &&
                  GYMDASH_LOG_ERROR == static_cast<int>(LogLevel::Error) &&
                  GYMDASH_LOG_OFF == static_cast<int>(LogLevel::Off),
              "the C ABI's log levels are gymdash::LogLevel's values");

LogLevel level_arg(const char* name, int level) {
  if (level < GYMDASH_LOG_TRACE || level > GYMDASH_LOG_OFF) {
    invalid(name, std::to_string(level) + " is not a log level (0 trace, 1 debug, 2 info, 3 warn, 4 error, 5 off)");
  }
  return static_cast<LogLevel>(level);
}

// The sink the handle was configured with (logging.sink), for when the host
// takes its callback away. `none` is no sink at all.
std::shared_ptr<gymdash::LogSink> configured_sink(const gymdash::LoggingConfig& logging) {
  if (logging.sink == "file") return gymdash::make_file_log_sink(logging.file, logging.format, "logging.file");
  if (logging.sink == "none") return nullptr;
  return gymdash::make_stderr_log_sink(logging.format);
}

// Calls the host for each record. The callback sink catches whatever this
// throws (out of memory while formatting), so the host never sees an
// exception and the operation being logged never fails because of its log.
std::shared_ptr<gymdash::LogSink> callback_sink(gymdash_log_fn fn, void* user, LogFormat format) {
  return gymdash::make_callback_log_sink(
      [fn, user, format](const LogRecord& record, std::string_view line) {
        const std::string text(line);  // NUL-terminated for C
        const std::string json = format == LogFormat::Json ? text : gymdash::format_log_record(record, LogFormat::Json);
        fn(user, static_cast<int>(record.level), text.c_str(), json.c_str());
      },
      format);
}

}  // namespace

extern "C" {

// ---- configuration -------------------------------------------------------------

GYMDASH_C_API int gymdash_config_check(char** out, const char* config_json) {
  try {
    clear_error();
    init_out(out);
    const auto text = text_arg("config_json", config_json);
    json_arg("config_json", config_json);  // a syntax error names the argument and the byte
    return emit_text(out, gymdash::to_json(gymdash::parse_config(text)));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_config_defaults(char** out) {
  try {
    clear_error();
    init_out(out);
    return emit_text(out, gymdash::default_config_json());
  } catch (...) {
    return fail_current();
  }
}

// ---- logging -------------------------------------------------------------------

GYMDASH_C_API int gymdash_set_log_callback(gymdash_t* db, gymdash_log_fn fn, void* user, int min_level) {
  try {
    clear_error();
    auto& rt = runtime_of(db);
    const bool keep_level = min_level == GYMDASH_LOG_UNCHANGED;
    const LogLevel level = keep_level ? rt.logger().level() : level_arg("min_level", min_level);
    const auto& logging = rt.config().logging;
    // Build the new sink first: if that fails, nothing has changed.
    auto sink = fn == nullptr ? configured_sink(logging) : callback_sink(fn, user, logging.format);
    rt.logger().set_sink(std::move(sink));
    if (!keep_level) rt.logger().set_level(level);
    return GYMDASH_OK;
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_set_log_level(gymdash_t* db, int level) {
  try {
    clear_error();
    auto& rt = runtime_of(db);
    rt.logger().set_level(level_arg("level", level));
    return GYMDASH_OK;
  } catch (...) {
    return fail_current();
  }
}

// ---- metrics -------------------------------------------------------------------

GYMDASH_C_API int gymdash_metrics(char** out, gymdash_t* db, const char* format) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const std::string_view f = format == nullptr ? std::string_view("prometheus") : text_arg("format", format);
    if (f == "prometheus") return emit_text(out, rt.metrics().to_prometheus());
    if (f == "json") return emit_text(out, rt.metrics().to_json());
    invalid("format", "\"" + std::string(f.substr(0, 32)) + "\" is not a metrics format (prometheus, json)");
  } catch (...) {
    return fail_current();
  }
}

}  // extern "C"
