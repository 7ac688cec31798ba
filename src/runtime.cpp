#include "runtime_impl.hpp"

#include "services/factories.hpp"
#include "services/instrumented.hpp"

#include <gymdash/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>

namespace gymdash {

namespace {

std::shared_ptr<LogSink> sink_for(const LoggingConfig& logging) {
  if (logging.sink == "file") return make_file_log_sink(logging.file, logging.format, "logging.file");
  if (logging.sink == "none") return nullptr;
  return make_stderr_log_sink(logging.format);
}

}  // namespace

Runtime::Impl::Impl(Config cfg, std::shared_ptr<Clock> clk, std::shared_ptr<LogSink> sink)
    : config(std::make_shared<const Config>(std::move(cfg))),
      clock(clk ? std::move(clk) : make_system_clock()),
      logger(std::make_shared<Logger>(sink ? std::move(sink) : sink_for(config->logging), config->logging.level)),
      metrics(std::make_shared<Metrics>()),
      store(open_store(config->storage)),
      pool(config->worker_threads) {
  logger->set_clock(clock);
  auto cache = std::make_shared<GymCache>(std::chrono::milliseconds{config->cache.gym_ttl_ms});
  gyms = instrument(make_gym_service(*store, clock, cache, config), logger, config->metrics.enabled ? metrics : nullptr);
  leads = instrument(make_lead_service(*store, clock, config, cache), logger, config->metrics.enabled ? metrics : nullptr);
  calls = instrument(make_call_service(*store, clock, *leads, config, logger, cache), logger, config->metrics.enabled ? metrics : nullptr);
  router = make_router(*store, clock, *leads);
  analytics = instrument(make_analytics_service(*store, clock), logger, config->metrics.enabled ? metrics : nullptr);
  campaigns = instrument(make_campaign_service(*store, clock, config), logger, config->metrics.enabled ? metrics : nullptr);
  for (const auto& [name, provider_config] : config->voice_providers) {
    std::unique_ptr<VoiceProvider> provider;
    try {
      provider = make_voice_provider(provider_config, pool.get_executor(), clock, logger);
    } catch (const InvalidArgumentError& e) {
      // Name the key path of the configuration: voice_providers.<name>.<field>.
      throw InvalidArgumentError(fmt::format("voice_providers.{}.{}", name, e.what()),
                                 fmt::format("voice_providers.{}.{}", name, e.field()));
    }
    provider->set_event_sink([calls = calls.get(), logger = logger](const CallEvent& event) {
      try {
        calls->process_event(event);
      } catch (const std::exception& e) {
        logger->log(LogLevel::Warn, "voice.event", e.what());
      }
    });
    voice.emplace(name, std::move(provider));
  }
  DialerContext dc;
  dc.store = store.get();
  dc.leads = leads.get();
  dc.calls = calls.get();
  dc.campaigns = campaigns.get();
  dc.clock = clock;
  dc.config = config;
  dc.logger = logger;
  dc.metrics = metrics;
  dc.provider = [this](std::string_view name) -> VoiceProvider* {
    const auto it = voice.find(name);
    return it == voice.end() ? nullptr : it->second.get();
  };
  dc.executor = pool.get_executor();
  dialer = make_dialer(std::move(dc));
  if (config->metrics.enabled)
    metrics->add_collector([store = store.get(), leads = leads.get(), clock = clock,
                            last = std::make_shared<std::optional<Timestamp>>()](Metrics& m) {
      // Due retries and callbacks over every gym, counted when metrics are exported, at most
      // once per 10 s of the runtime's clock (about 35 ms a gym of 100,000 leads on SQLite).
      // The gyms are read from the store: an export is not a gym.list call.
      const Timestamp now = clock->now();
      if (*last && now - **last < std::chrono::seconds{10}) return;
      DueCounts total;
      for (const auto& gym : store->gyms().list()) {
        const auto due = leads->due_jobs(gym.id, now);
        total.callbacks += due.callbacks;
        total.retries += due.retries;
      }
      *last = now;
      m.set_gauge("jobs_due", static_cast<double>(total.callbacks + total.retries));
      m.set_gauge("jobs_due_callbacks", static_cast<double>(total.callbacks));
      m.set_gauge("jobs_due_retries", static_cast<double>(total.retries));
    });
}

Runtime::Impl::~Impl() {
  metrics->clear_collectors();  // they use the services below; the metrics may outlive them
  // Finish queued asynchronous work before the services it uses go away.
  dialer.reset();  // stops it and hands the providers' events straight to the call service
  voice.clear();  // cancels the providers' timers and connections, so the join below does not wait for them
  pool.join();
  logger->log(LogLevel::Info, "runtime.close", "closed");
}

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Runtime::~Runtime() = default;

std::unique_ptr<Runtime> Runtime::open(Config config, std::shared_ptr<Clock> clock) {
  return open_with(std::move(config), std::move(clock), nullptr);
}

std::unique_ptr<Runtime> Runtime::open_with(Config config, std::shared_ptr<Clock> clock,
                                            std::shared_ptr<LogSink> sink) {
  if (config.worker_threads == 0 || config.worker_threads > 64)
    throw_invalid("worker_threads", "must be between 1 and 64");
  resolve_secrets(config);
  const auto start = std::chrono::steady_clock::now();
  auto impl = std::make_unique<Impl>(std::move(config), std::move(clock), std::move(sink));
  LogRecord r;
  r.level = LogLevel::Info;
  r.operation = "runtime.open";
  r.message = fmt::format("opened {} storage (schema {})", impl->store->backend(), impl->store->schema_version());
  r.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  impl->logger->log(std::move(r));
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

std::unique_ptr<Runtime> Runtime::open(const RuntimeOptions& options) {
  Config config;
  config.storage = options.storage;
  config.worker_threads = options.worker_threads;
  config.logging.level = options.log_level;
  return open_with(std::move(config), options.clock, options.log_sink);
}

std::unique_ptr<Runtime> Runtime::open(const std::string& storage_uri) {
  RuntimeOptions options;
  options.storage = storage_uri;
  return open(options);
}

Store& Runtime::store() { return *impl_->store; }
Clock& Runtime::clock() { return *impl_->clock; }
std::shared_ptr<Clock> Runtime::shared_clock() { return impl_->clock; }
GymService& Runtime::gyms() { return *impl_->gyms; }
LeadService& Runtime::leads() { return *impl_->leads; }
CallService& Runtime::calls() { return *impl_->calls; }
Router& Runtime::router() { return *impl_->router; }
AnalyticsService& Runtime::analytics() { return *impl_->analytics; }
CampaignService& Runtime::campaigns() { return *impl_->campaigns; }
Dialer& Runtime::dialer() { return *impl_->dialer; }
VoiceProvider& Runtime::voice(std::string_view name) {
  const auto it = impl_->voice.find(name);
  if (it == impl_->voice.end())
    throw NotFoundError(fmt::format("provider: no voice provider \"{}\" in the configuration", name.substr(0, 100)),
                        "provider");
  return *it->second;
}
const Config& Runtime::config() const { return *impl_->config; }
Logger& Runtime::logger() { return *impl_->logger; }
std::shared_ptr<Logger> Runtime::shared_logger() { return impl_->logger; }
Metrics& Runtime::metrics() { return *impl_->metrics; }

}  // namespace gymdash
