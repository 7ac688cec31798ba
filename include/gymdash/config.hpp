/**
 * @file config.hpp
 * @brief One JSON document that configures a Runtime.
 *
 * Every key, its type and its default are listed in docs/operations.md.
 * Reading is strict and complete: every error in the document is reported,
 * each by its key path (`gyms.gym-nyc-01.call_hours.start: "25:00" is not a
 * time`), and an unknown key comes with the nearest known key. Secrets are
 * never in the document: it names the environment variable that holds each
 * one, and the value is read when the runtime opens.
 *
 * All types here are plain values (copyable, not synchronized).
 */
#pragma once

#include <gymdash/log.hpp>
#include <gymdash/model.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash {

/** Per-gym calling and scoring policy. */
struct GymPolicy {
  LocalWindow call_hours{9 * 60, 20 * 60};  ///< gym-local calling hours for gyms created without their own; 09:00–20:00
  DayMask call_days = kAllDays;             ///< calling days for gyms created without their own; every day
  int hot_threshold = 70;                   ///< score ≥ this is hot (0–100); 70
  int cold_threshold = 40;                  ///< score < this is cold (0–100); 40
  int max_attempts = 6;                     ///< call attempts per lead before it rests; 6
  int retry_gap_minutes = 240;              ///< minimum gap between attempts; 240
  int recording_retention_days = 90;        ///< recordings and transcripts older than this are purged; 90
  int lines = 10;                           ///< concurrent lines the gym's active campaigns share (1–10,000); 10
  double daily_budget_usd = 0;              ///< spend per gym-local day across its campaigns; 0 = no gym-wide cap
  friend bool operator==(const GymPolicy&, const GymPolicy&) = default;
};

/** One voice provider account. */
struct VoiceProviderConfig {
  std::string kind;                ///< `simulated`, `retell`, `vapi` or `twilio`
  std::string base_url;            ///< API base URL; empty = the provider's public API
  std::string api_key_env;         ///< name of the environment variable holding the API key (not the key)
  std::string webhook_secret_env;  ///< name of the environment variable holding the webhook secret
  std::string account_sid;         ///< Twilio account SID (not a secret)
  int timeout_ms = 10000;          ///< per request; 10000
  int max_retries = 3;             ///< on timeouts and rate limits; 3
  /**
   * Provider-specific settings (docs/voice.md): the simulated provider's
   * outcome mix and timing, Vapi's `phone_number_id`, Twilio's `twiml_url`,
   * `ca_file`, retry backoff … Numbers and booleans in the document are kept
   * as their text. Empty by default.
   */
  std::map<std::string, std::string> options;
  /** Assistant ids campaigns may use with this provider; empty = any. */
  std::vector<std::string> assistants;
  std::string api_key;             ///< resolved from api_key_env when the runtime opens; never logged
  std::string webhook_secret;      ///< resolved from webhook_secret_env when the runtime opens; never logged
};

/** Limits on what the library accepts. */
struct Limits {
  std::size_t max_request_bytes = 1 << 20;  ///< one JSON request or string argument; 1 MiB
  int max_json_depth = 32;                  ///< nesting of a JSON request; 32
  int max_page_size = 1000;                 ///< largest page a list returns; 1000
  int max_batch_size = 100000;              ///< most rows or events in one committed batch of an import or ingest (a larger batch_size is lowered to it); 100000
  std::size_t max_transcript_bytes = 1 << 20;  ///< one call transcript; 1 MiB
};

/** Where and how logs are written. */
struct LoggingConfig {
  LogLevel level = LogLevel::Info;     ///< `info`
  LogFormat format = LogFormat::Json;  ///< `json` or `logfmt`
  std::string sink = "stderr";         ///< `stderr`, `file` or `none` (a host may set a callback later)
  std::string file;                    ///< path, when sink is `file`
};

/** What the runtime keeps in memory. */
struct CacheConfig {
  /**
   * How long gym settings are kept in memory, in milliseconds; 5000. A change
   * through this runtime is seen at once; a change by another process on the
   * same database within this time. 0 turns the cache off.
   */
  int gym_ttl_ms = 5000;
};

/** In-process metrics. */
struct MetricsConfig {
  bool enabled = true;  ///< record per-operation metrics; true
};

/** The whole configuration of a Runtime. */
struct Config {
  std::string storage = "sqlite:gymdash.db";  ///< storage URI (`memory:`, `sqlite:PATH`, `postgresql://…`)
  unsigned worker_threads = 2;                ///< threads for asynchronous operations; 2
  GymPolicy defaults;                         ///< policy of every gym …
  std::map<std::string, GymPolicy> gyms;      ///< … unless overridden here (by gym id; keys not given inherit `defaults`)
  std::map<std::string, VoiceProviderConfig> voice_providers;  ///< by name
  Limits limits;
  LoggingConfig logging;
  MetricsConfig metrics;
  CacheConfig cache;

  /** The policy of one gym: its override if any, else the defaults. */
  const GymPolicy& policy(std::string_view gym_id) const;
};

/**
 * Reads a configuration document. Missing keys take their defaults. Throws
 * InvalidArgumentError whose message lists every error, one per line, each
 * starting with its key path; field() is the first error's path. Environment
 * variables are not read here (see resolve_secrets).
 */
Config parse_config(std::string_view json);

/** Reads a configuration file; an unreadable file is InvalidArgumentError naming its path. */
Config load_config_file(const std::string& path);

/**
 * Fills each provider's api_key / webhook_secret from the environment
 * variables it names. A named variable that is unset or empty is
 * InvalidArgumentError naming the key path (`voice_providers.main.api_key_env`)
 * and the variable, never a value.
 */
void resolve_secrets(Config& config);

/** The default configuration as a JSON document (pretty-printed). */
std::string default_config_json();

/** The configuration as JSON (secrets left out; only the variable names appear). */
std::string to_json(const Config& config);

}  // namespace gymdash
