// Runtime's private parts, shared with the asynchronous wrappers and the C ABI.
#pragma once

#include <gymdash/runtime.hpp>

#include <boost/asio/thread_pool.hpp>

#include <gymdash/dialer.hpp>
#include <gymdash/voice.hpp>

#include <map>
#include <memory>
#include <string>

namespace gymdash {

class Runtime::Impl {
 public:
  Impl(Config config, std::shared_ptr<Clock> clock, std::shared_ptr<LogSink> sink);
  ~Impl();

  std::shared_ptr<const Config> config;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<Logger> logger;
  std::shared_ptr<Metrics> metrics;
  std::unique_ptr<Store> store;
  std::unique_ptr<GymService> gyms;
  std::unique_ptr<LeadService> leads;
  std::unique_ptr<CallService> calls;
  std::unique_ptr<Router> router;
  std::unique_ptr<AnalyticsService> analytics;
  std::unique_ptr<CampaignService> campaigns;
  boost::asio::thread_pool pool;
  /** The configured voice providers by name, on `pool` (declared after it: destroyed before it). */
  std::map<std::string, std::unique_ptr<VoiceProvider>, std::less<>> voice;
  /** Declared last: destroyed first, before the providers and services it uses. */
  std::unique_ptr<Dialer> dialer;
};

}  // namespace gymdash
