/**
 * @file campaign_model.hpp
 * @brief The value types of calling campaigns: target, schedule, pacing,
 *        budget, the campaign itself, its enrolments and counters.
 *
 * Included by model.hpp; the service is in <gymdash/services/campaign.hpp>
 * and the rules in docs/campaigns.md. Every type is a plain value (copyable,
 * movable, owning its data, not synchronized) with strict JSON conversions:
 * an unknown field, a wrong type or a bad value throws InvalidArgumentError
 * naming the field.
 */
#pragma once

#include <gymdash/model.hpp>

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash {

/** Lifecycle: draft → active ⇄ paused → completed | cancelled (docs/campaigns.md). */
enum class CampaignState : std::uint8_t { Draft, Active, Paused, Completed, Cancelled };

const char* to_string(CampaignState s) noexcept;
/** `draft`, `active`, `paused`, `completed`, `cancelled` (or `canceled`); InvalidArgumentError naming `field`. */
CampaignState parse_campaign_state(std::string_view text, std::string_view field = "state");

/** Which of the gym's leads a campaign is for; empty members do not filter. */
struct CampaignTarget {
  std::vector<Qualification> qualifications;  ///< any of these
  std::vector<LeadStatus> statuses;           ///< any of these (only dialable statuses may be named)
  std::vector<std::string> tags;              ///< all of these
  std::string source;                         ///< exactly this source
  std::optional<Timestamp> created_from;      ///< inclusive
  std::optional<Timestamp> created_to;        ///< exclusive
  friend bool operator==(const CampaignTarget&, const CampaignTarget&) = default;
};

/**
 * When a campaign calls. Dates and days are the gym's calendar; hours are
 * read in each lead's own time (and always inside the legal and the gym's
 * windows: the campaign can only narrow them).
 */
struct CampaignSchedule {
  std::string start_date;            ///< first gym-local date `YYYY-MM-DD`, or empty: from activation
  std::string end_date;              ///< last gym-local date (inclusive), or empty: no end
  DayMask days = kWeekdays;          ///< calling days; default Monday–Friday
  LocalWindow hours{9 * 60, 19 * 60};  ///< lead-local hours [start, end); default 09:00–19:00
  friend bool operator==(const CampaignSchedule&, const CampaignSchedule&) = default;
};

/** How fast a campaign calls. */
struct CampaignPacing {
  int max_concurrent = 5;         ///< lines at once (1–1000); 5
  int calls_per_day = 500;        ///< calls placed per gym-local day (1–1,000,000); 500
  double calls_per_second = 1.0;  ///< start rate, token bucket with a burst of max(1, rate) (0.01–100); 1
  int max_attempts = 4;           ///< attempts per lead in this campaign (1–20); 4
  int retry_gap_minutes = 240;    ///< least time between two attempts on a lead (1–43,200); 240
  friend bool operator==(const CampaignPacing&, const CampaignPacing&) = default;
};

/**
 * What a campaign may spend, in US dollars. Every call placed reserves
 * `reserve_per_call_usd` until its cost is known, so lines running at once
 * can never together overshoot a budget. A budget of 0 means no limit; any
 * other budget must cover at least one reservation.
 */
struct CampaignBudget {
  double daily_usd = 0;              ///< per gym-local day; 0 = none
  double total_usd = 0;              ///< over the campaign's life; 0 = none
  double reserve_per_call_usd = 0.5; ///< held per call until its cost is known (0.01–100); 0.50
  friend bool operator==(const CampaignBudget&, const CampaignBudget&) = default;
};

/** A calling campaign of one gym. */
struct Campaign {
  std::string id;                 ///< `cmp_…`, time-ordered
  std::string gym_id;
  std::string name;               ///< 1–200 characters
  std::string description;        ///< at most 10,000 characters
  CampaignState state = CampaignState::Draft;
  CampaignTarget target;
  CampaignSchedule schedule;
  CampaignPacing pacing;
  CampaignBudget budget;
  std::string voice_provider;     ///< a name under the configuration's `voice_providers`
  std::string assistant_id;       ///< the provider's assistant (required for retell and vapi)
  int weight = 1;                 ///< share of the gym's lines and budget against other active campaigns (1–1000); 1
  Timestamp created_at{};
  Timestamp updated_at{};
  std::optional<Timestamp> activated_at;  ///< first move to active
  std::optional<Timestamp> ended_at;      ///< move to completed or cancelled
  std::int64_t version = 0;       ///< increases with every stored change
  friend bool operator==(const Campaign&, const Campaign&) = default;
};

/** A request to create a campaign; `name` and `voice_provider` are required. */
struct CampaignInput {
  std::string name;
  std::string description;
  CampaignTarget target;
  CampaignSchedule schedule;
  CampaignPacing pacing;
  CampaignBudget budget;
  std::string voice_provider;
  std::string assistant_id;
  int weight = 1;
};

/** A partial update: only members that hold a value change. Allowed in draft and paused. */
struct CampaignPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<CampaignTarget> target;
  std::optional<CampaignSchedule> schedule;
  std::optional<CampaignPacing> pacing;
  std::optional<CampaignBudget> budget;
  std::optional<std::string> voice_provider;
  std::optional<std::string> assistant_id;
  std::optional<int> weight;
};

/** Which campaigns to list; empty members do not filter. Ordered newest first. */
struct CampaignFilter {
  std::vector<CampaignState> states;  ///< any of these
  int page = 1;                       ///< 1-based
  int page_size = 50;                 ///< 1–1000
};

struct CampaignPage {
  std::vector<Campaign> items;
  int page = 1;
  int page_size = 50;
  std::int64_t total = 0;
};

/** What an enrolment did. */
struct EnrolReport {
  std::int64_t enrolled = 0;          ///< leads newly enrolled
  std::int64_t already_enrolled = 0;  ///< leads that were enrolled before
};

/** A campaign's live state and figures (CampaignService::performance). */
struct CampaignPerformance {
  std::string campaign_id;
  CampaignState state = CampaignState::Draft;
  std::int64_t enrolled = 0;          ///< leads enrolled
  std::int64_t never_called = 0;      ///< enrolled leads the campaign has not called yet
  std::int64_t exhausted = 0;         ///< enrolled leads with max_attempts reached in this campaign
  std::int64_t attempts = 0;          ///< calls the campaign placed (all time)
  std::int64_t calls_today = 0;       ///< calls placed today (gym-local date)
  double cost_today_usd = 0;          ///< known cost of today's calls
  double cost_total_usd = 0;          ///< known cost of all its calls
  std::int64_t connected = 0;         ///< calls that reached a person (all time)
  std::int64_t trials_booked = 0;     ///< calls with outcome trial_booked (all time)
  std::int64_t memberships_sold = 0;  ///< calls with outcome membership_sold (all time)
};

/** One lead's enrolment in a campaign. */
struct CampaignLead {
  std::string campaign_id;
  std::string lead_id;
  Timestamp enrolled_at{};
  int attempts = 0;                         ///< calls this campaign placed to the lead
  std::optional<Timestamp> last_attempt_at;  ///< when the latest of them was placed
  friend bool operator==(const CampaignLead&, const CampaignLead&) = default;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const CampaignState& v);
CampaignState tag_invoke(const boost::json::value_to_tag<CampaignState>&, const boost::json::value& jv);
#define GYMDASH_CAMPAIGN_JSON(T)                                                                  \
  void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const T& v);       \
  T tag_invoke(const boost::json::value_to_tag<T>&, const boost::json::value& jv);
GYMDASH_CAMPAIGN_JSON(CampaignTarget)
GYMDASH_CAMPAIGN_JSON(CampaignSchedule)
GYMDASH_CAMPAIGN_JSON(CampaignPacing)
GYMDASH_CAMPAIGN_JSON(CampaignBudget)
GYMDASH_CAMPAIGN_JSON(Campaign)
GYMDASH_CAMPAIGN_JSON(CampaignInput)
GYMDASH_CAMPAIGN_JSON(CampaignPatch)
GYMDASH_CAMPAIGN_JSON(CampaignFilter)
#undef GYMDASH_CAMPAIGN_JSON
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const CampaignPage& v);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const EnrolReport& v);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const CampaignPerformance& v);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const CampaignLead& v);

/**
 * Whether a lead is inside a target (the filter part of enrolment by filter).
 * Pure; used by the service and by the memory store.
 */
bool matches_target(const Lead& lead, const CampaignTarget& target);

}  // namespace gymdash
