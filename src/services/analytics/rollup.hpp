// The analytics rollups' rules: what one call and one lead contribute to the
// daily aggregates (docs/analytics.md), and the hooks the services that write
// calls and leads call so that the aggregates follow every change.
//
// Every change is a signed delta: when a record goes from `before` to
// `after`, the rollups get −contribution(before) + contribution(after). That
// makes them exact under duplicates (a duplicate changes nothing, so it is
// never recorded), late and out-of-order events (a call's contribution
// depends only on the call, not on the order it was built in) and replays.
#pragma once

#include <gymdash/model.hpp>
#include <gymdash/store.hpp>

#include "core/day.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace gymdash::analytics {

/** Days since 1970-01-01 of `t`'s calendar date in `zone`; throws InvalidArgumentError naming `field`. */
std::int32_t local_day(Timestamp t, std::string_view zone, std::string_view field = "timezone");
// `YYYY-MM-DD` of a day number, and back (src/core/day.hpp).
using ::gymdash::format_day;
using ::gymdash::parse_day;

/** The funnel stage a lead has reached: 0 lead, 1 contacted, 2 qualified, 3 trial booked, 4 member. */
int reached_stage(LeadStatus status, int connects) noexcept;

/** Speed to lead is exact to the minute below this many minutes (6 hours) … */
inline constexpr std::int64_t kSpeedExactMinutes = 6 * 60;
/** … and one bucket from this many (30 days) on. */
inline constexpr std::int64_t kSpeedCapMinutes = 30 * 1440;
/**
 * The speed-to-lead bucket of a delay: the bucket's lower edge in minutes —
 * the minute below 6 hours, then within 1/64 of the delay (64 buckets per
 * doubling), then 30 days for anything longer (docs/analytics.md).
 */
std::int64_t speed_bucket_minutes(std::chrono::milliseconds delay) noexcept;

/** The facts of a lead as written (first_call_at as given). */
LeadFacts facts_of(const Lead& lead, std::optional<Timestamp> first_call_at = std::nullopt);

/**
 * Accumulates contributions per rollup key, then hands them over as a
 * RollupDelta without the keys whose amounts cancelled out.
 * Not synchronized: one per thread (one per transaction).
 */
class RollupBuilder {
 public:
  /** Adds `sign` × the call's contribution. `lead_zone` (empty: the gym's) places the hour and weekday. */
  void add_call(const Call& call, std::string_view gym_zone, std::string_view lead_zone, int sign);
  /** Adds `sign` × the lead's counts (source, status, qualification, funnel stage, speed to lead). */
  void add_lead(const LeadFacts& lead, std::string_view gym_zone, int sign);
  /** Adds `sign` × one lead's speed-to-lead entry (nothing when `first_call_at` is empty). */
  void add_speed(const std::string& gym_id, Timestamp created_at, std::optional<Timestamp> first_call_at,
                 std::string_view gym_zone, int sign);
  /** Adds a delta taken from another builder. */
  void add(const RollupDelta& delta);
  /** Adds another builder's contributions, moving its entries over; `other` is empty afterwards. */
  void absorb(RollupBuilder&& other);
  bool empty() const noexcept { return days_.empty() && hours_.empty() && leads_.empty(); }
  /** The accumulated delta; the builder is empty afterwards. */
  RollupDelta take();

 private:
  std::map<std::tuple<std::string, std::int32_t, std::string>, CallDayRollup> days_;
  std::map<std::tuple<std::string, std::int32_t, std::string, std::int32_t, std::int32_t>, CallHourRollup> hours_;
  void count_lead(std::string_view gym_id, std::int32_t day, std::string_view dimension, std::string_view value,
                  int sign);

  // A lead count's key (gym, local day, dimension, value), looked up by
  // views: a hash table, since an import counts every lead four times into
  // thousands of rows (a map's string comparisons were a sixth of the
  // reading thread's time). Its rows leave take() in no particular order.
  using LeadKey = std::tuple<std::string, std::int32_t, std::string, std::string>;
  using LeadKeyView = std::tuple<std::string_view, std::int32_t, std::string_view, std::string_view>;
  struct LeadKeyHash {
    using is_transparent = void;
    std::size_t operator()(const LeadKeyView& k) const noexcept;
    std::size_t operator()(const LeadKey& k) const noexcept {
      return (*this)(LeadKeyView{std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k)});
    }
  };
  std::unordered_map<LeadKey, LeadDayRollup, LeadKeyHash, std::equal_to<>> leads_;
};

// ---- hooks for the services that write calls and leads -----------------------
// Each must run inside the transaction that writes the record, after the
// write, so that the rollups commit (or roll back) with it.

/**
 * The call ingest path: call right after `CallRepository::put(after)`.
 * `before` is the call as it was stored before this event (nullopt for a new
 * call); `lead` is the call's lead. Updates the call rollups and, when the
 * lead's first call attempt moved, its speed-to-lead entry. The lead's
 * other calls are known from its stored call results (LeadRepository::
 * put_call_result), which the ingest keeps in the same transaction.
 */
void record_call(Store& store, const std::optional<Call>& before, const Call& after, const Lead& lead);
/**
 * Same, for a batch: adds to `builder` (apply it with
 * `store.analytics().apply(builder.take())`). `starts` holds the start of each
 * of the lead's calls as recorded before (call id → started_at, from
 * AnalyticsRepository::call_starts) and is updated with `after`.
 */
void record_call(RollupBuilder& builder, const Gym& gym, const std::optional<Call>& before, const Call& after,
                 const Lead& lead, std::map<std::string, Timestamp>& starts);

/**
 * The rollup changes of one call-ingest transaction. Call stored() right
 * after each `CallRepository::put(after)` (`before`: the call as stored before
 * this transaction, nullopt for a new one), then flush() once before the
 * transaction commits. Reads each gym's zone and each lead's facts once.
 * Not synchronized: one per transaction.
 */
class CallRollupRecorder {
 public:
  explicit CallRollupRecorder(Store& store) : store_(store) {}
  void stored(const std::optional<Call>& before, const Call& after);
  /** Tells the gym as the caller has it (saves reading it). */
  void know_gym(const Gym& gym);
  /** Tells the facts of a lead the caller has read in this transaction (saves reading them). */
  void know_lead(const Lead& lead);
  /** Tells the starts of a lead's stored call results (call id → started_at), read in this transaction. */
  void know_starts(const std::string& lead_id, std::map<std::string, Timestamp> starts);
  /** Applies what was collected, in the caller's transaction. */
  void flush();

 private:
  Store& store_;
  RollupBuilder builder_;
  std::map<std::string, std::optional<Gym>, std::less<>> gyms_;
  std::map<std::string, std::optional<LeadFacts>, std::less<>> leads_;
  std::map<std::string, std::map<std::string, Timestamp>, std::less<>> starts_;  // lead → call → start
};

/** The lead save path: call before `LeadRepository::update(lead)`; returns what the rollups hold for it. */
std::optional<LeadFacts> lead_before_update(Store& store, const Lead& lead);
/**
 * Call after the write: moves the lead's counts from `before` (nullopt for
 * a new lead) to `after` (nullopt for a deleted one).
 */
void record_lead(Store& store, std::string_view gym_zone, const std::optional<LeadFacts>& before,
                 const std::optional<LeadFacts>& after);
/**
 * Same, adding the move to `into` instead of applying it at once (a bulk
 * writer applies its builder once, inside the same transaction).
 * `first_call_known`: `before->first_call_at` is the lead's first call as
 * stored (empty: it has none), so a change of `created_at` does not look it
 * up (a bulk writer reads those of its leads together).
 */
void record_lead(Store& store, std::string_view gym_zone, const std::optional<LeadFacts>& before,
                 const std::optional<LeadFacts>& after, RollupBuilder& into, bool first_call_known = false);
/** Same, reading the gym's zone from the store. */
void record_lead(Store& store, const std::optional<LeadFacts>& before, const std::optional<LeadFacts>& after);
/**
 * Call after a lead's write that changed its own zone (`local_zone`, empty
 * for the gym's): its calls' lead-local hour and weekday entries move from
 * the old zone to the new one (their daily rows, by the gym's date, stay).
 */
void record_lead_zone(Store& store, std::string_view gym_id, std::string_view lead_id, std::string_view before,
                      std::string_view after);

}  // namespace gymdash::analytics
