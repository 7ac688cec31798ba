// The part of the campaign model that is logic rather than data: the target filter.
#include <gymdash/campaign_model.hpp>

#include <algorithm>

namespace gymdash {

bool matches_target(const Lead& lead, const CampaignTarget& target) {
  if (!target.qualifications.empty() &&
      std::find(target.qualifications.begin(), target.qualifications.end(), lead.qualification) ==
          target.qualifications.end())
    return false;
  if (!target.statuses.empty() &&
      std::find(target.statuses.begin(), target.statuses.end(), lead.status) == target.statuses.end())
    return false;
  // Lead tags are sorted and unique; every target tag must be among them.
  for (const auto& t : target.tags)
    if (!std::binary_search(lead.tags.begin(), lead.tags.end(), t)) return false;
  if (!target.source.empty() && lead.source != target.source) return false;
  if (target.created_from && lead.created_at < *target.created_from) return false;
  if (target.created_to && lead.created_at >= *target.created_to) return false;
  return true;
}

}  // namespace gymdash
