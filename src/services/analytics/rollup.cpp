// What a call and a lead contribute to the rollups, and the write-path hooks.

#include "services/analytics/rollup.hpp"

#include "core/tz.hpp"

#include <gymdash/error.hpp>

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <mutex>

namespace gymdash::analytics {
namespace {

// Local days and minutes of `t` in `zone`.
std::chrono::milliseconds local_since_epoch(Timestamp t, std::string_view zone, std::string_view field) {
  return tz::local_since_epoch(t.time_since_epoch(), zone.empty() ? std::string_view("UTC") : zone, field);
}

}  // namespace

std::int32_t local_day(Timestamp t, std::string_view zone, std::string_view field) {
  return static_cast<std::int32_t>(std::chrono::floor<std::chrono::days>(local_since_epoch(t, zone, field)).count());
}


int reached_stage(LeadStatus status, int connects) noexcept {
  switch (status) {
    case LeadStatus::New: return 0;
    case LeadStatus::Contacted: return 1;
    case LeadStatus::Qualified: return 2;
    case LeadStatus::TrialBooked: return 3;
    case LeadStatus::Converted: return 4;
    case LeadStatus::Lost: return connects > 0 ? 1 : 0;
  }
  return 0;
}

std::int64_t speed_bucket_minutes(std::chrono::milliseconds delay) noexcept {
  const std::int64_t minutes = delay.count() <= 0 ? 0 : delay.count() / 60000;
  if (minutes < kSpeedExactMinutes) return minutes;  // to the minute below 6 hours
  if (minutes >= kSpeedCapMinutes) return kSpeedCapMinutes;  // 30 days or more
  // 64 buckets per doubling: 2^k ≤ minutes < 2^(k+1) falls on a grid of
  // 2^(k-6) minutes, so the lower edge is within 1/64 (1.6 %) of the delay.
  const int k = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(minutes))) - 1;
  const std::int64_t step = std::int64_t{1} << std::max(0, k - 6);
  return minutes / step * step;
}

LeadFacts facts_of(const Lead& lead, std::optional<Timestamp> first_call_at) {
  LeadFacts f;
  f.id = lead.id;
  f.gym_id = lead.gym_id;
  f.created_at = lead.created_at;
  f.source = lead.source;
  f.status = lead.status;
  f.qualification = lead.qualification;
  f.connects = lead.connects;
  f.local_zone = lead.local_zone;
  f.first_call_at = first_call_at;
  return f;
}

void RollupBuilder::add_call(const Call& c, std::string_view gym_zone, std::string_view lead_zone, int sign) {
  const std::int32_t day = local_day(c.started_at, gym_zone, "gym.timezone");
  const bool connected = c.status == CallStatus::Completed && c.answered_by == AnsweredBy::Human;
  auto& d = days_[{c.gym_id, day, c.campaign_id}];
  d.gym_id = c.gym_id;
  d.local_day = day;
  d.campaign_id = c.campaign_id;
  d.calls += sign;
  if (connected) {
    d.connected += sign;
    d.talk_s += sign * c.duration_s.value_or(0);
  }
  if (c.answered_by == AnsweredBy::Machine) d.voicemail += sign;
  if (c.cost_usd) d.cost_micros += sign * std::llround(*c.cost_usd * 1e6);
  if (c.outcome) d.outcomes[static_cast<std::size_t>(*c.outcome)] += sign;

  const auto local = local_since_epoch(c.started_at, lead_zone.empty() ? gym_zone : lead_zone, "local_zone");
  const auto days = std::chrono::floor<std::chrono::days>(local);
  const auto hour = static_cast<std::int32_t>(std::chrono::floor<std::chrono::hours>(local - days).count());
  // 1970-01-01 was a Thursday (weekday 3 when Monday is 0).
  const auto weekday = static_cast<std::int32_t>(((days.count() % 7) + 7 + 3) % 7);
  auto& h = hours_[{c.gym_id, day, c.campaign_id, hour, weekday}];
  h.gym_id = c.gym_id;
  h.local_day = day;
  h.campaign_id = c.campaign_id;
  h.lead_hour = hour;
  h.lead_weekday = weekday;
  h.calls += sign;
  if (connected) h.connected += sign;
}

void RollupBuilder::add_lead(const LeadFacts& f, std::string_view gym_zone, int sign) {
  const std::int32_t day = local_day(f.created_at, gym_zone, "gym.timezone");
  count_lead(f.gym_id, day, "source", f.source, sign);
  count_lead(f.gym_id, day, "status", to_string(f.status), sign);
  count_lead(f.gym_id, day, "qualification", to_string(f.qualification), sign);
  char stage[4];
  const auto written = std::to_chars(stage, stage + sizeof stage, reached_stage(f.status, f.connects));
  count_lead(f.gym_id, day, "reached", std::string_view(stage, static_cast<std::size_t>(written.ptr - stage)), sign);
  add_speed(f.gym_id, f.created_at, f.first_call_at, gym_zone, sign);
}

void RollupBuilder::add_speed(const std::string& gym_id, Timestamp created_at, std::optional<Timestamp> first,
                              std::string_view gym_zone, int sign) {
  if (!first) return;
  const std::int32_t day = local_day(created_at, gym_zone, "gym.timezone");
  count_lead(gym_id, day, "speed", std::to_string(speed_bucket_minutes(*first - created_at)), sign);
}

std::size_t RollupBuilder::LeadKeyHash::operator()(const LeadKeyView& k) const noexcept {
  const std::hash<std::string_view> text;
  std::size_t h = text(std::get<0>(k));
  const auto mix = [&h](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  mix(static_cast<std::size_t>(static_cast<std::uint32_t>(std::get<1>(k))));
  mix(text(std::get<2>(k)));
  mix(text(std::get<3>(k)));
  return h;
}

// Looked up by views (an import counts every lead four times), copied into
// a key only for a row the builder does not hold yet.
void RollupBuilder::count_lead(std::string_view gym_id, std::int32_t day, std::string_view dimension,
                               std::string_view value, int sign) {
  auto it = leads_.find(LeadKeyView{gym_id, day, dimension, value});
  if (it == leads_.end()) {
    LeadDayRollup r;
    r.gym_id = gym_id;
    r.local_day = day;
    r.dimension = dimension;
    r.value = value;
    it = leads_.emplace(LeadKey{r.gym_id, day, r.dimension, r.value}, std::move(r)).first;
  }
  it->second.count += sign;
}

namespace {

void add_amounts(CallDayRollup& d, const CallDayRollup& r) {
  d.calls += r.calls;
  d.connected += r.connected;
  d.voicemail += r.voicemail;
  d.talk_s += r.talk_s;
  d.cost_micros += r.cost_micros;
  for (std::size_t i = 0; i < d.outcomes.size(); ++i) d.outcomes[i] += r.outcomes[i];
}

void add_amounts(CallHourRollup& d, const CallHourRollup& r) {
  d.calls += r.calls;
  d.connected += r.connected;
}

void add_amounts(LeadDayRollup& d, const LeadDayRollup& r) { d.count += r.count; }

// Moves every entry of `from` into `into` (a node at a time, nothing copied);
// where `into` has the key already, the amounts add.
template <class Map>
void absorb_map(Map& into, Map& from) {
  while (!from.empty()) {
    auto moved = into.insert(from.extract(from.begin()));
    if (!moved.inserted) add_amounts(moved.position->second, moved.node.mapped());
  }
}

}  // namespace

void RollupBuilder::add(const RollupDelta& delta) {
  for (const auto& r : delta.call_days) {
    auto [it, fresh] = days_.try_emplace({r.gym_id, r.local_day, r.campaign_id}, r);
    if (!fresh) add_amounts(it->second, r);
  }
  for (const auto& r : delta.call_hours) {
    auto [it, fresh] = hours_.try_emplace({r.gym_id, r.local_day, r.campaign_id, r.lead_hour, r.lead_weekday}, r);
    if (!fresh) add_amounts(it->second, r);
  }
  for (const auto& r : delta.lead_days) {
    auto [it, fresh] = leads_.try_emplace({r.gym_id, r.local_day, r.dimension, r.value}, r);
    if (!fresh) add_amounts(it->second, r);
  }
}

void RollupBuilder::absorb(RollupBuilder&& other) {
  if (&other == this) return;
  absorb_map(days_, other.days_);
  absorb_map(hours_, other.hours_);
  absorb_map(leads_, other.leads_);
}

RollupDelta RollupBuilder::take() {
  RollupDelta out;
  for (auto& [k, r] : days_) {
    bool zero = r.calls == 0 && r.connected == 0 && r.voicemail == 0 && r.talk_s == 0 && r.cost_micros == 0;
    for (auto o : r.outcomes) zero = zero && o == 0;
    if (!zero) out.call_days.push_back(std::move(r));
  }
  for (auto& [k, r] : hours_)
    if (r.calls != 0 || r.connected != 0) out.call_hours.push_back(std::move(r));
  for (auto& [k, r] : leads_)
    if (r.count != 0) out.lead_days.push_back(std::move(r));
  days_.clear();
  hours_.clear();
  leads_.clear();
  return out;
}

void record_call(RollupBuilder& builder, const Gym& gym, const std::optional<Call>& before, const Call& after,
                 const Lead& lead, std::map<std::string, Timestamp>& starts) {
  if (before) builder.add_call(*before, gym.timezone, lead.local_zone, -1);
  builder.add_call(after, gym.timezone, lead.local_zone, +1);
  // The lead's first attempt: the earliest start of its calls, before and after this one.
  auto earliest = [&]() -> std::optional<Timestamp> {
    std::optional<Timestamp> first;
    for (const auto& [id, t] : starts)
      if (!first || t < *first) first = t;
    return first;
  };
  // The lead's calls as stored before this change: the others as recorded, and this one as it was.
  if (before) starts[before->id] = before->started_at;
  else starts.erase(after.id);
  const auto first_before = earliest();
  starts[after.id] = after.started_at;
  const auto first_after = earliest();
  if (first_before == first_after) return;
  builder.add_speed(lead.gym_id, lead.created_at, first_before, gym.timezone, -1);
  builder.add_speed(lead.gym_id, lead.created_at, first_after, gym.timezone, +1);
}

namespace {
std::map<std::string, Timestamp> starts_of(Store& store, std::string_view gym_id, std::string_view lead_id) {
  std::map<std::string, Timestamp> out;
  for (auto& [id, t] : store.analytics().call_starts(gym_id, lead_id)) out[id] = t;
  return out;
}
}  // namespace

void record_call(Store& store, const std::optional<Call>& before, const Call& after, const Lead& lead) {
  auto gym = store.gyms().find(after.gym_id);
  if (!gym) return;
  RollupBuilder builder;
  auto starts = starts_of(store, after.gym_id, after.lead_id);
  record_call(builder, *gym, before, after, lead, starts);
  store.analytics().apply(builder.take());
}

void CallRollupRecorder::stored(const std::optional<Call>& before, const Call& after) {
  auto g = gyms_.find(after.gym_id);
  if (g == gyms_.end()) g = gyms_.emplace(after.gym_id, store_.gyms().find(after.gym_id)).first;
  if (!g->second) return;
  auto l = leads_.find(after.lead_id);
  if (l == leads_.end()) l = leads_.emplace(after.lead_id, store_.analytics().lead_facts(after.gym_id, after.lead_id)).first;
  Lead lead;  // what record_call reads of the lead
  lead.id = after.lead_id;
  lead.gym_id = after.gym_id;
  if (l->second) {
    lead.created_at = l->second->created_at;
    lead.local_zone = l->second->local_zone;
  }
  auto s = starts_.find(after.lead_id);
  if (s == starts_.end()) s = starts_.emplace(after.lead_id, starts_of(store_, after.gym_id, after.lead_id)).first;
  record_call(builder_, *g->second, before, after, lead, s->second);
}

void CallRollupRecorder::know_gym(const Gym& gym) {
  gyms_.try_emplace(gym.id, gym);
}

void CallRollupRecorder::know_lead(const Lead& lead) {
  leads_.try_emplace(lead.id, facts_of(lead));
}

void CallRollupRecorder::know_starts(const std::string& lead_id, std::map<std::string, Timestamp> starts) {
  starts_.try_emplace(lead_id, std::move(starts));
}

void CallRollupRecorder::flush() {
  if (!builder_.empty()) store_.analytics().apply(builder_.take());
}

std::optional<LeadFacts> lead_before_update(Store& store, const Lead& lead) {
  return store.analytics().lead_facts(lead.gym_id, lead.id);
}

void record_lead(Store& store, std::string_view gym_zone, const std::optional<LeadFacts>& before,
                 const std::optional<LeadFacts>& after, RollupBuilder& into, bool first_call_known) {
  std::optional<LeadFacts> b = before, a = after;
  // A lead write never changes its calls, so its speed-to-lead entry moves
  // only when created_at does; then it needs the first attempt's time.
  if (b && a && !first_call_known && b->created_at != a->created_at && !b->first_call_at && !a->first_call_at)
    if (auto stored = store.analytics().lead_facts(a->gym_id, a->id)) b->first_call_at = stored->first_call_at;
  if (b && a && !a->first_call_at) a->first_call_at = b->first_call_at;
  if (b) into.add_lead(*b, gym_zone, -1);
  if (a) into.add_lead(*a, gym_zone, +1);
}

void record_lead(Store& store, std::string_view gym_zone, const std::optional<LeadFacts>& before,
                 const std::optional<LeadFacts>& after) {
  RollupBuilder builder;
  record_lead(store, gym_zone, before, after, builder);
  if (!builder.empty()) store.analytics().apply(builder.take());
}

void record_lead(Store& store, const std::optional<LeadFacts>& before, const std::optional<LeadFacts>& after) {
  const auto& any = after ? after : before;
  if (!any) return;
  auto gym = store.gyms().find(any->gym_id);
  if (!gym) return;
  record_lead(store, gym->timezone, before, after);
}

void record_lead_zone(Store& store, std::string_view gym_id, std::string_view lead_id, std::string_view before,
                      std::string_view after) {
  if (before == after) return;
  auto gym = store.gyms().find(gym_id);
  if (!gym) return;
  RollupBuilder builder;
  for (const auto& c : store.calls().for_lead(gym_id, lead_id)) {
    builder.add_call(c, gym->timezone, before, -1);
    builder.add_call(c, gym->timezone, after, +1);
  }
  if (!builder.empty()) store.analytics().apply(builder.take());
}

}  // namespace gymdash::analytics
