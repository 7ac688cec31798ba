// LeadRepository's default merge of several groups' call-order candidates.
#include "store/dial_order.hpp"

#include <algorithm>

namespace gymdash {

std::vector<Lead> LeadRepository::dial_candidates_in(std::string_view gym_id, const DialQuery& query,
                                                     const std::vector<std::pair<std::string, std::string>>& groups) {
  if (query.tier == DialQuery::Tier::Callback) return dial_candidates(gym_id, query);
  std::vector<Lead> all;
  DialQuery q = query;
  for (const auto& [zone, state] : groups) {
    q.local_zone = zone;
    q.local_state = state;
    for (auto& l : dial_candidates(gym_id, q)) all.push_back(std::move(l));
  }
  std::sort(all.begin(), all.end(), [&](const Lead& a, const Lead& b) { return dial_order::before(query.tier, a, b); });
  if (static_cast<int>(all.size()) > query.limit) all.resize(static_cast<std::size_t>(std::max(query.limit, 0)));
  return all;
}

}  // namespace gymdash
