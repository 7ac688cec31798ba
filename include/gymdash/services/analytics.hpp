/**
 * @file services/analytics.hpp
 * @brief AnalyticsService: dashboards of calls and leads for a gym, a
 *        campaign or every gym over a period, as values, JSON and CSV.
 *
 * Every figure is defined in docs/analytics.md (one table). Call figures
 * follow the data contract's definitions, so a gym's figures over a period
 * covering all its calls equal the reference manifest's `per_gym` entry.
 * Figures are read from daily rollups kept as calls and leads are written,
 * so a dashboard costs O(days), not O(calls).
 */
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/model.hpp>
#include <gymdash/store.hpp>

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash {

/**
 * What to report on. Dates are calendar dates in each gym's own time zone
 * (`YYYY-MM-DD`, both ends inclusive).
 */
struct AnalyticsQuery {
  std::string gym_id;       ///< one gym; empty: every gym
  std::string campaign_id;  ///< one campaign's calls; empty: every call
  std::string from;         ///< first date; default `to` minus 89 days (90 days)
  std::string to;           ///< last date; default today in `timezone`
  std::string timezone;     ///< IANA zone whose "today" ends a default period; default the gym's (UTC for every gym)
};

/** Call figures of the data contract (docs/analytics.md). */
struct CallMetrics {
  std::int64_t calls = 0;
  std::int64_t connected = 0;        ///< status completed and answered by a human
  std::int64_t voicemail = 0;        ///< answered by a machine
  double connect_rate = 0;           ///< connected / calls; 0 without calls
  std::int64_t talk_s = 0;           ///< sum of connected calls' durations
  double avg_talk_s = 0;             ///< talk_s / connected; 0 without connected calls
  double cost_usd = 0;               ///< sum of costs (exact to the micro-dollar)
  std::map<std::string, std::int64_t> outcomes;  ///< calls per outcome; outcomes never seen are absent
};

/** One step of the funnel lead → contacted → qualified → trial booked → member. */
struct FunnelStep {
  std::string stage;                 ///< `lead`, `contacted`, `qualified`, `trial_booked`, `member`
  std::int64_t count = 0;            ///< leads created in the period that reached this stage or a later one
  double rate_from_previous = 0;     ///< count / previous step's count (1 for `lead`; 0 when the previous is 0)
  double rate_from_leads = 0;        ///< count / leads (0 without leads)
};

/** Speed to lead: from a lead's creation to its first call attempt. */
struct SpeedToLead {
  std::int64_t leads = 0;                 ///< leads created in the period
  std::int64_t called = 0;                ///< of which have had a call attempt
  std::optional<double> median_minutes;   ///< over the called leads; empty when none
  std::optional<double> p90_minutes;
  std::int64_t within_5_minutes = 0;      ///< first attempt less than 5 minutes after creation
  double share_within_5_minutes = 0;      ///< within_5_minutes / leads (0 without leads)
};

/** Connects by a slot of time (lead-local hour 0–23, or weekday 0 = Monday … 6 = Sunday). */
struct TimeSlot {
  int slot = 0;
  std::int64_t calls = 0;
  std::int64_t connected = 0;
  double connect_rate = 0;
};

/** One gym-local date of the daily series, with its trend figures (on calls). */
struct DayPoint {
  std::string date;                  ///< `YYYY-MM-DD`
  CallMetrics metrics;
  std::int64_t leads = 0;            ///< leads created that day
  std::optional<double> change_day;  ///< calls vs the day before, relative ((x − y) / y); empty when y = 0
  std::optional<double> change_week; ///< calls vs the same weekday a week before, relative
  std::optional<double> moving_avg_7;///< mean calls of this day and the 6 before (days before the period count too)
  bool anomaly = false;              ///< calls outside the trailing 28 days' mean ± 3σ
};

/** Trends over the period's daily calls. */
struct Trends {
  std::optional<double> day_over_day;   ///< last day vs the day before, relative
  std::optional<double> week_over_week; ///< last 7 days vs the 7 before, relative
  double slope_calls_per_day = 0;       ///< least-squares slope of calls against the day index
  std::vector<std::string> anomalies;   ///< dates flagged in the daily series
};

/** Everything a dashboard shows for one query. */
struct Dashboard {
  std::string gym_id;       ///< empty: every gym
  std::string campaign_id;
  std::string from;
  std::string to;
  CallMetrics calls;
  std::map<std::string, std::int64_t> by_local_date;  ///< calls per gym-local date (dates with calls)
  std::int64_t leads = 0;   ///< leads created in the period
  std::map<std::string, std::int64_t> leads_by_source;
  std::map<std::string, std::int64_t> leads_by_status;
  std::map<std::string, std::int64_t> leads_by_qualification;
  std::vector<FunnelStep> funnel;
  std::optional<double> cost_per_lead;     ///< cost / leads
  std::optional<double> cost_per_booking;  ///< cost / leads that reached trial_booked
  std::optional<double> cost_per_member;   ///< cost / leads that became members
  SpeedToLead speed_to_lead;
  std::vector<TimeSlot> by_hour;           ///< 24 slots, lead-local hour
  std::vector<TimeSlot> by_weekday;        ///< 7 slots, lead-local weekday
  std::optional<int> best_hour;            ///< highest connect rate among slots with calls
  std::optional<int> best_weekday;
  std::vector<DayPoint> daily;             ///< every date of the period; empty when the period has no data
  Trends trends;
  std::map<std::string, CallMetrics> per_gym;  ///< every gym's call figures (only when gym_id is empty)
};

/** What a rebuild did. */
struct RebuildReport {
  std::int64_t gyms = 0;
  std::int64_t leads = 0;
  std::int64_t calls = 0;
  double seconds = 0;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const AnalyticsQuery& v);
AnalyticsQuery tag_invoke(const boost::json::value_to_tag<AnalyticsQuery>&, const boost::json::value& jv);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const CallMetrics& v);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const Dashboard& v);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const RebuildReport& v);

/**
 * The dashboard as JSON: the manifest's per-gym field names (calls,
 * connected, voicemail, connect_rate to 6 decimals, talk_s, avg_talk_s to 3,
 * cost_usd to 4, outcomes, by_local_date) at the top level, then everything else.
 */
std::string dashboard_json(const Dashboard& d);

/**
 * The dashboard as one RFC 4180 CSV table (CRLF line ends, fields quoted
 * when needed) with the columns `section,key,metric,value`: one row per
 * figure, e.g. `daily,2026-09-02,calls,1513`.
 */
std::string dashboard_csv(const Dashboard& d);

/**
 * Dashboards over the analytics rollups.
 *
 * Errors: InvalidArgumentError naming the field (`from`, `to` — a malformed
 * date, or a period that ends before it starts or is longer than 3660 days;
 * `timezone` — not an IANA zone), NotFoundError naming `gym_id` or
 * `campaign_id`, StorageError.
 *
 * Ownership: created by make_analytics_service; holds references to the
 * Store and Clock it was given, which must outlive it.
 * Thread safety: safe for concurrent access from multiple threads without
 * external synchronization.
 */
class AnalyticsService {
 public:
  AnalyticsService() = default;
  AnalyticsService(const AnalyticsService&) = delete;
  AnalyticsService& operator=(const AnalyticsService&) = delete;
  virtual ~AnalyticsService() = default;

  /** The dashboard of a gym, a campaign or every gym over a period. */
  virtual Dashboard dashboard(const AnalyticsQuery& query) = 0;

  /**
   * Recomputes the rollups of a gym (every gym when empty) from its calls
   * and leads, in one transaction. Needed only after a gym's time zone
   * changed, or to repair a database written without them.
   */
  virtual RebuildReport rebuild(std::string_view gym_id) = 0;
};

/** Makes the analytics service over `store`; `clock` says what "today" is. */
std::unique_ptr<AnalyticsService> make_analytics_service(Store& store, std::shared_ptr<Clock> clock);

}  // namespace gymdash
