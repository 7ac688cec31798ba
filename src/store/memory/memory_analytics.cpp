// The analytics rollups in memory: ordered maps with the SQLite tables' keys,
// changed only through add(), which records its own inverse for rollbacks.

#include "store/memory/memory_analytics.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

namespace gymdash::memory_store {
namespace {

using DayKey = std::tuple<std::string, std::int32_t, std::string>;  // gym, day, campaign
using HourKey = std::tuple<std::string, std::int32_t, std::string, std::int32_t, std::int32_t>;
using LeadKey = std::tuple<std::string, std::string, std::int32_t, std::string>;  // gym, dimension, day, value

void add_counts(CallDayRollup& to, const CallDayRollup& d, int sign) {
  to.calls += sign * d.calls;
  to.connected += sign * d.connected;
  to.voicemail += sign * d.voicemail;
  to.talk_s += sign * d.talk_s;
  to.cost_micros += sign * d.cost_micros;
  for (std::size_t i = 0; i < to.outcomes.size(); ++i) to.outcomes[i] += sign * d.outcomes[i];
}
void add_counts(CallHourRollup& to, const CallHourRollup& d, int sign) {
  to.calls += sign * d.calls;
  to.connected += sign * d.connected;
}
void add_counts(LeadDayRollup& to, const LeadDayRollup& d, int sign) { to.count += sign * d.count; }

std::int64_t weight(const CallDayRollup& r) { return r.calls; }
std::int64_t weight(const CallHourRollup& r) { return r.calls; }
std::int64_t weight(const LeadDayRollup& r) { return r.count; }

DayKey key_of(const CallDayRollup& r) { return {r.gym_id, r.local_day, r.campaign_id}; }
HourKey key_of(const CallHourRollup& r) {
  return {r.gym_id, r.local_day, r.campaign_id, r.lead_hour, r.lead_weekday};
}
LeadKey key_of(const LeadDayRollup& r) { return {r.gym_id, r.dimension, r.local_day, r.value}; }

class MemoryAnalytics final : public AnalyticsRepository {
 public:
  MemoryAnalytics(std::recursive_mutex& mutex, std::function<void(std::function<void()>)> on_rollback, Store& store,
                  std::function<std::vector<std::string>(std::string_view)> enrolled)
      : mutex_(mutex), on_rollback_(std::move(on_rollback)), store_(store), enrolled_(std::move(enrolled)) {}

  void apply(const RollupDelta& delta) override {
    std::lock_guard lock(mutex_);
    for (const auto& r : delta.call_days) add(days_, r, 1);
    for (const auto& r : delta.call_hours) add(hours_, r, 1);
    for (const auto& r : delta.lead_days) add(leads_, r, 1);
  }

  void clear(std::string_view gym_id) override {
    std::lock_guard lock(mutex_);
    drop(days_, gym_id);
    drop(hours_, gym_id);
    drop(leads_, gym_id);
  }

  std::vector<CallDayRollup> call_days(const RollupQuery& q) override {
    std::lock_guard lock(mutex_);
    return select(days_, q);
  }
  std::vector<CallHourRollup> call_hours(const RollupQuery& q) override {
    std::lock_guard lock(mutex_);
    auto rows = select(hours_, q);
    if (!q.summed) return rows;
    std::map<std::pair<std::int32_t, std::int32_t>, CallHourRollup> sums;
    for (const auto& r : rows) {
      auto& t = sums[{r.lead_hour, r.lead_weekday}];
      t.lead_hour = r.lead_hour;
      t.lead_weekday = r.lead_weekday;
      t.calls += r.calls;
      t.connected += r.connected;
    }
    std::vector<CallHourRollup> out;
    for (auto& [k, t] : sums) out.push_back(std::move(t));
    return out;
  }
  std::vector<LeadDayRollup> lead_days(const RollupQuery& q) override {
    std::lock_guard lock(mutex_);
    std::vector<LeadDayRollup> out;
    std::map<std::pair<std::string, std::string>, LeadDayRollup> sums;
    for (const auto& [k, r] : leads_) {
      if ((!q.gym_id.empty() && r.gym_id != q.gym_id) || r.local_day < q.from_day || r.local_day > q.to_day ||
          (!q.dimension.empty() && r.dimension != q.dimension))
        continue;
      if (!q.summed) {
        out.push_back(r);
        continue;
      }
      auto& t = sums[{r.dimension, r.value}];
      t.dimension = r.dimension;
      t.value = r.value;
      t.count += r.count;
    }
    for (auto& [k, t] : sums) out.push_back(std::move(t));
    return out;
  }

  std::vector<std::string> campaigns(std::string_view gym_id) override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [k, r] : days_)
      if (gym_id.empty() || r.gym_id == gym_id) out.push_back(r.campaign_id);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  std::optional<LeadFacts> lead_facts(std::string_view gym_id, std::string_view lead_id) override {
    std::lock_guard lock(mutex_);
    auto lead = store_.leads().find(gym_id, lead_id);
    if (!lead) return std::nullopt;
    return facts_of(*lead);
  }

  std::vector<std::pair<std::string, Timestamp>> call_starts(std::string_view gym_id,
                                                             std::string_view lead_id) override {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, Timestamp>> out;
    for (const auto& r : store_.leads().call_results(gym_id, lead_id)) out.emplace_back(r.call_id, r.started_at);
    return out;
  }

  void scan_leads(std::string_view gym_id, const std::function<void(const LeadFacts&)>& fn) override {
    std::lock_guard lock(mutex_);
    for (const auto& gym : gyms(gym_id)) {
      LeadFilter filter;
      filter.page_size = kMaxPageSize;
      for (filter.page = 1;; ++filter.page) {
        auto page = store_.leads().list(gym, filter);
        for (const auto& lead : page.items) fn(facts_of(lead));
        if (static_cast<std::int64_t>(filter.page) * filter.page_size >= page.total) break;
      }
    }
  }

  void scan_campaign_leads(std::string_view gym_id, std::string_view campaign_id, Timestamp created_from,
                           Timestamp created_to, const std::function<void(const LeadFacts&)>& fn) override {
    std::lock_guard lock(mutex_);
    if (!store_.campaigns().find(gym_id, campaign_id)) return;
    for (const auto& id : enrolled_(campaign_id)) {
      auto lead = store_.leads().find(gym_id, id);
      if (lead && lead->created_at >= created_from && lead->created_at < created_to) fn(facts_of(*lead));
    }
  }

  void scan_calls(std::string_view gym_id, const std::function<void(const Call&)>& fn) override {
    std::lock_guard lock(mutex_);
    for (const auto& gym : gyms(gym_id)) {
      CallFilter filter;
      filter.page_size = kMaxPageSize;
      for (filter.page = 1;; ++filter.page) {
        auto page = store_.calls().list(gym, filter);
        for (const auto& call : page.items) fn(call);
        if (static_cast<std::int64_t>(filter.page) * filter.page_size >= page.total) break;
      }
    }
  }

 private:
  std::vector<std::string> gyms(std::string_view gym_id) {
    if (!gym_id.empty()) return {std::string(gym_id)};
    std::vector<std::string> out;
    for (const auto& g : store_.gyms().list()) out.push_back(g.id);
    return out;
  }

  LeadFacts facts_of(const Lead& lead) {
    LeadFacts f;
    f.id = lead.id;
    f.gym_id = lead.gym_id;
    f.created_at = lead.created_at;
    f.source = lead.source;
    f.status = lead.status;
    f.qualification = lead.qualification;
    f.connects = lead.connects;
    f.local_zone = lead.local_zone;
    for (const auto& r : store_.leads().call_results(lead.gym_id, lead.id))
      if (!f.first_call_at || r.started_at < *f.first_call_at) f.first_call_at = r.started_at;
    return f;
  }

  template <class Map, class Row>
  void add(Map& map, const Row& delta, int sign, bool record = true) {
    auto key = key_of(delta);
    auto it = map.find(key);
    if (it == map.end()) {
      Row zero = delta;
      add_counts(zero, delta, -1);  // same key, counts zero
      it = map.emplace(key, zero).first;
    }
    add_counts(it->second, delta, sign);
    if (weight(it->second) == 0) map.erase(it);
    if (record) on_rollback_([this, &map, delta, sign] { add(map, delta, -sign, false); });
  }

  template <class Map>
  void drop(Map& map, std::string_view gym_id) {
    for (auto it = map.begin(); it != map.end();) {
      if (!gym_id.empty() && std::get<0>(it->first) != gym_id) {
        ++it;
        continue;
      }
      auto row = it->second;
      it = map.erase(it);
      on_rollback_([this, &map, row] { add(map, row, 1, false); });
    }
  }

  template <class Map>
  std::vector<typename Map::mapped_type> select(const Map& map, const RollupQuery& q) {
    std::vector<typename Map::mapped_type> out;
    for (const auto& [k, r] : map)
      if ((q.gym_id.empty() || r.gym_id == q.gym_id) && r.local_day >= q.from_day && r.local_day <= q.to_day &&
          (!q.campaign_id || r.campaign_id == *q.campaign_id))
        out.push_back(r);
    return out;
  }

  std::recursive_mutex& mutex_;
  std::function<void(std::function<void()>)> on_rollback_;
  Store& store_;
  std::function<std::vector<std::string>(std::string_view)> enrolled_;
  std::map<DayKey, CallDayRollup> days_;
  std::map<HourKey, CallHourRollup> hours_;
  std::map<LeadKey, LeadDayRollup> leads_;
};

}  // namespace

std::unique_ptr<AnalyticsRepository> make_memory_analytics(
    std::recursive_mutex& mutex, std::function<void(std::function<void()>)> on_rollback, Store& store,
    std::function<std::vector<std::string>(std::string_view campaign_id)> enrolled) {
  return std::make_unique<MemoryAnalytics>(mutex, std::move(on_rollback), store, std::move(enrolled));
}

}  // namespace gymdash::memory_store
