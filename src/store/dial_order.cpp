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

std::vector<Lead> LeadRepository::callbacks_due_since(std::string_view gym_id, Timestamp after, Timestamp now,
                                                     int max_attempts, int limit) {
  std::vector<Lead> out;
  if (limit <= 0 || now <= after) return out;
  DialQuery q;
  q.tier = DialQuery::Tier::Callback;
  q.now = now;
  q.max_attempts = max_attempts;
  // Oldest first: the ones due after `after` come last, so read until the tier ends.
  for (int n = std::max(limit, 64);; n = n > 25'000 ? 100'000 : n * 4) {
    q.limit = n;
    auto got = dial_candidates(gym_id, q);
    if (static_cast<int>(got.size()) < n || n >= 100'000) {
      for (auto& l : got)
        if (l.callback_at && *l.callback_at > after && static_cast<int>(out.size()) < limit) out.push_back(std::move(l));
      return out;
    }
  }
}

}  // namespace gymdash
