/**
 * @file services/campaign.hpp
 * @brief CampaignService: calling campaigns of a gym — who to call (target
 *        and enrolment), when (schedule), how fast (pacing), with what (voice
 *        provider and assistant) and for how much (budget) — and their
 *        lifecycle. The dialer (<gymdash/dialer.hpp>) runs the active ones.
 *
 * Rules: docs/campaigns.md. The value types are in <gymdash/campaign_model.hpp>.
 */
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/config.hpp>
#include <gymdash/model.hpp>
#include <gymdash/store.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash {

/**
 * Calling campaigns of the gyms of one store.
 *
 * Errors: InvalidArgumentError naming the field (`pacing.max_concurrent`,
 * `schedule.hours`, `budget.daily_usd`, `voice_provider`, `lead_ids[3]` …;
 * every rule is in docs/campaigns.md), NotFoundError (unknown gym or
 * campaign; a lead id of another gym), ConflictError (an illegal lifecycle
 * move, an update of an active or ended campaign, a concurrent change),
 * StorageError. Nothing is written when an error is thrown.
 *
 * Ownership: created by make_campaign_service; holds references to the Store
 * it was given, which must outlive it.
 * Thread safety: safe for concurrent access from multiple threads without
 * external synchronization.
 */
class CampaignService {
 public:
  CampaignService() = default;
  CampaignService(const CampaignService&) = delete;
  CampaignService& operator=(const CampaignService&) = delete;
  virtual ~CampaignService() = default;

  /** Creates a campaign in `draft` after checking every field. */
  virtual Campaign create_campaign(std::string_view gym_id, const CampaignInput& input) = 0;
  /** The campaign; NotFoundError naming `campaign_id`. */
  virtual Campaign get_campaign(std::string_view gym_id, std::string_view campaign_id) = 0;
  /** One page of the gym's campaigns, newest first. */
  virtual CampaignPage list_campaigns(std::string_view gym_id, const CampaignFilter& filter = {}) = 0;
  /** Changes the members present in `patch` (draft or paused only; else ConflictError), checked as on create. */
  virtual Campaign update_campaign(std::string_view gym_id, std::string_view campaign_id, const CampaignPatch& patch) = 0;
  /** Deletes a draft, completed or cancelled campaign and its enrolments; an active or paused one is ConflictError. */
  virtual void delete_campaign(std::string_view gym_id, std::string_view campaign_id) = 0;

  /**
   * Moves the campaign through its lifecycle: `active` (from draft or
   * paused; the schedule must still open in the future), `paused` (from
   * active), `completed` and `cancelled` (from active or paused; cancelled
   * also from draft). Any other move is ConflictError naming both states.
   */
  virtual Campaign set_state(std::string_view gym_id, std::string_view campaign_id, CampaignState to) = 0;

  /** Enrols the gym's leads that match `filter` (the campaign's own target when empty). */
  virtual EnrolReport enrol_by_filter(std::string_view gym_id, std::string_view campaign_id,
                                      const std::optional<CampaignTarget>& filter = std::nullopt) = 0;
  /** Enrols leads by id (at most 10,000); any id that is not the gym's lead is NotFoundError naming it, and none is enrolled. */
  virtual EnrolReport enrol_leads(std::string_view gym_id, std::string_view campaign_id,
                                  const std::vector<std::string>& lead_ids) = 0;
  /** Takes leads out of the campaign; returns how many were enrolled. */
  virtual std::int64_t remove_leads(std::string_view gym_id, std::string_view campaign_id,
                                    const std::vector<std::string>& lead_ids) = 0;
  /** A lead's enrolment, or nullopt. */
  virtual std::optional<CampaignLead> enrolment(std::string_view gym_id, std::string_view campaign_id,
                                                std::string_view lead_id) = 0;

  /** Counters of the campaign (enrolment, attempts, today's calls and cost, outcomes). */
  virtual CampaignPerformance performance(std::string_view gym_id, std::string_view campaign_id) = 0;
};

/**
 * Makes the campaign service over `store`; `config` names the voice
 * providers a campaign may use (null: any name is refused) and `clock` stamps
 * changes and says what "today" is.
 */
std::unique_ptr<CampaignService> make_campaign_service(Store& store, std::shared_ptr<Clock> clock,
                                                       std::shared_ptr<const Config> config);

}  // namespace gymdash
