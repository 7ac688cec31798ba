// The runtime's way to build services that share one gym cache.
#pragma once

#include <gymdash/services/call.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/services/lead.hpp>

#include "services/gym_cache.hpp"

namespace gymdash {

// `config` (may be null) gives gyms that gyms.csv creates their calling hours and days.
std::unique_ptr<GymService> make_gym_service(Store& store, std::shared_ptr<Clock> clock,
                                             std::shared_ptr<GymCache> cache, std::shared_ptr<const Config> config);
std::unique_ptr<LeadService> make_lead_service(Store& store, std::shared_ptr<Clock> clock,
                                               std::shared_ptr<const Config> config, std::shared_ptr<GymCache> cache);
std::unique_ptr<CallService> make_call_service(Store& store, std::shared_ptr<Clock> clock, LeadService& leads,
                                               std::shared_ptr<const Config> config, std::shared_ptr<Logger> logger,
                                               std::shared_ptr<GymCache> cache);

}  // namespace gymdash
