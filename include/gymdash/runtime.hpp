/**
 * @file runtime.hpp
 * @brief Runtime: one object that wires a store, a clock, a thread pool and
 *        the services together.
 */
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/config.hpp>
#include <gymdash/log.hpp>
#include <gymdash/metrics.hpp>
#include <gymdash/services/analytics.hpp>
#include <gymdash/services/call.hpp>
#include <gymdash/services/campaign.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/services/lead.hpp>
#include <gymdash/services/routing.hpp>
#include <gymdash/store.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace gymdash {

class VoiceProvider;  // <gymdash/voice.hpp>
class Dialer;         // <gymdash/dialer.hpp>

/** How to open a Runtime from code (a Config document says the same and more). */
struct RuntimeOptions {
  std::string storage = "memory:";  ///< storage URI for open_store (default `memory:`)
  std::shared_ptr<Clock> clock;     ///< default: the system clock
  unsigned worker_threads = 2;      ///< threads that run asynchronous operations (default 2)
  std::shared_ptr<LogSink> log_sink;  ///< default: stderr, JSON lines
  LogLevel log_level = LogLevel::Info;  ///< default `info`
};

/**
 * The library's entry point for a host: owns the store, the clock, the
 * executor that runs asynchronous operations, and the services.
 * Ownership: the host owns the Runtime; references it hands out are valid
 * until it is destroyed. Destruction waits for running asynchronous work.
 * Thread safety: safe for concurrent access from multiple threads.
 */
class Runtime {
 public:
  /** Opens the store named by `options.storage` and builds the services. */
  static std::unique_ptr<Runtime> open(const RuntimeOptions& options = {});
  /** Shorthand: open with a storage URI and default options. */
  static std::unique_ptr<Runtime> open(const std::string& storage_uri);
  /**
   * Opens from a configuration (see config.hpp): resolves the secrets it
   * names, opens the log sink and the store. Any failure throws before
   * anything is left half-open.
   */
  static std::unique_ptr<Runtime> open(Config config, std::shared_ptr<Clock> clock = {});

  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime();

  Store& store();
  Clock& clock();
  std::shared_ptr<Clock> shared_clock();
  GymService& gyms();
  LeadService& leads();
  CallService& calls();
  /** Caller id, assistant and dynamic variables of outbound calls; inbound calls to their lead (docs/routing.md). */
  Router& router();
  /** Dashboards and reports over the analytics rollups (docs/analytics.md). */
  AnalyticsService& analytics();
  /** Calling campaigns: configuration, lifecycle, enrolment (docs/campaigns.md). */
  CampaignService& campaigns();
  /**
   * The runtime's dialer (include <gymdash/dialer.hpp> to use it): made when
   * the runtime opens, not started; it runs on the runtime's thread pool with
   * the configured voice providers. Destroyed (stopped) before the providers
   * and services it uses.
   */
  Dialer& dialer();
  /**
   * The voice provider named `name` under `voice_providers` in the
   * configuration (include <gymdash/voice.hpp> to use it). Providers are made
   * when the runtime opens and run on its thread pool; each one's events go
   * to calls().process_event until the host sets its own sink. NotFoundError
   * naming `provider` for a name the configuration does not have.
   */
  VoiceProvider& voice(std::string_view name);
  /** The configuration the runtime was opened with (secrets resolved). */
  const Config& config() const;
  Logger& logger();
  std::shared_ptr<Logger> shared_logger();
  Metrics& metrics();

  class Impl;
  /** For the library's own use (the asynchronous wrappers, the C ABI). */
  Impl& impl() { return *impl_; }

 private:
  explicit Runtime(std::unique_ptr<Impl> impl);
  static std::unique_ptr<Runtime> open_with(Config config, std::shared_ptr<Clock> clock, std::shared_ptr<LogSink> sink);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gymdash
