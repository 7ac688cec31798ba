// Decorators that log and measure every service operation, so the services
// themselves hold only business rules.
#pragma once

#include <gymdash/log.hpp>
#include <gymdash/metrics.hpp>
#include <gymdash/services/analytics.hpp>
#include <gymdash/services/call.hpp>
#include <gymdash/services/campaign.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/services/lead.hpp>

#include <memory>

namespace gymdash {

/** Wraps `inner`: each call is timed, counted (with its error code) and logged once. */
std::unique_ptr<GymService> instrument(std::unique_ptr<GymService> inner, std::shared_ptr<Logger> logger,
                                       std::shared_ptr<Metrics> metrics);
std::unique_ptr<LeadService> instrument(std::unique_ptr<LeadService> inner, std::shared_ptr<Logger> logger,
                                        std::shared_ptr<Metrics> metrics);
std::unique_ptr<CallService> instrument(std::unique_ptr<CallService> inner, std::shared_ptr<Logger> logger,
                                        std::shared_ptr<Metrics> metrics);
std::unique_ptr<AnalyticsService> instrument(std::unique_ptr<AnalyticsService> inner, std::shared_ptr<Logger> logger,
                                             std::shared_ptr<Metrics> metrics);
std::unique_ptr<CampaignService> instrument(std::unique_ptr<CampaignService> inner, std::shared_ptr<Logger> logger,
                                            std::shared_ptr<Metrics> metrics);

}  // namespace gymdash
