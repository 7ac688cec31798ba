// AnalyticsService: dashboards read from the daily rollups, and their rebuild
// from raw calls and leads. The definitions are docs/analytics.md's.

#include <gymdash/error.hpp>
#include <gymdash/services/analytics.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "core/tz.hpp"
#include "services/analytics/rollup.hpp"

#include <date/tz.h>

namespace gymdash {
namespace {

constexpr std::int32_t kDefaultDays = 90;
constexpr std::int32_t kMaxDays = 3660;
constexpr std::int32_t kTrailingDays = 28;     // the anomaly window
constexpr std::int32_t kMinTrailingActive = 7; // days with calls the window needs before it flags anything
constexpr std::array<const char*, 7> kOutcomeNames{"interested",       "not_interested", "callback_requested",
                                                   "trial_booked",     "membership_sold", "wrong_number",
                                                   "do_not_call"};
constexpr std::array<const char*, 5> kStages{"lead", "contacted", "qualified", "trial_booked", "member"};

// Running sums of one call scope; finish() turns them into CallMetrics.
struct CallSums {
  std::int64_t calls = 0, connected = 0, voicemail = 0, talk_s = 0, cost_micros = 0;
  std::array<std::int64_t, 7> outcomes{};
  void add(const CallDayRollup& r) {
    calls += r.calls;
    connected += r.connected;
    voicemail += r.voicemail;
    talk_s += r.talk_s;
    cost_micros += r.cost_micros;
    for (std::size_t i = 0; i < outcomes.size(); ++i) outcomes[i] += r.outcomes[i];
  }
  CallMetrics finish() const {
    CallMetrics m;
    m.calls = calls;
    m.connected = connected;
    m.voicemail = voicemail;
    m.connect_rate = calls ? double(connected) / double(calls) : 0.0;
    m.talk_s = talk_s;
    m.avg_talk_s = connected ? double(talk_s) / double(connected) : 0.0;
    m.cost_usd = double(cost_micros) / 1e6;
    for (std::size_t i = 0; i < outcomes.size(); ++i)
      if (outcomes[i] != 0) m.outcomes[kOutcomeNames[i]] = outcomes[i];
    return m;
  }
};

std::optional<double> ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return num / den;
}

// Nearest-rank percentile over (minutes → count) buckets.
std::optional<double> percentile(const std::map<std::int64_t, std::int64_t>& buckets, std::int64_t total, double p) {
  if (total <= 0) return std::nullopt;
  const auto rank = static_cast<std::int64_t>(std::ceil(p * double(total)));
  std::int64_t seen = 0;
  for (const auto& [minutes, n] : buckets) {
    seen += n;
    if (seen >= std::max<std::int64_t>(rank, 1)) return double(minutes);
  }
  return double(buckets.rbegin()->first);
}

class AnalyticsServiceImpl final : public AnalyticsService {
 public:
  AnalyticsServiceImpl(Store& store, std::shared_ptr<Clock> clock) : store_(store), clock_(std::move(clock)) {}

  Dashboard dashboard(const AnalyticsQuery& q) override {
    // ---- the request -------------------------------------------------------
    std::vector<Gym> gyms;
    if (!q.gym_id.empty()) {
      auto gym = store_.gyms().find(q.gym_id);
      if (!gym) throw NotFoundError(fmt::format("gym_id: gym {} not found", q.gym_id.substr(0, 64)), "gym_id");
      gyms.push_back(std::move(*gym));
    }
    std::string zone = q.timezone;
    if (zone.empty()) zone = q.gym_id.empty() ? "UTC" : gyms.front().timezone;
    const std::int32_t today = analytics::local_day(clock_->now(), zone, "timezone");  // checks the zone too
    const std::int32_t to = q.to.empty() ? today : read_day(q.to, "to");
    const std::int32_t from = q.from.empty() ? to - (kDefaultDays - 1) : read_day(q.from, "from");
    if (to < from)
      throw_invalid("to", fmt::format("{} is before from {}", analytics::format_day(to), analytics::format_day(from)));
    if (to - from + 1 > kMaxDays)
      throw_invalid("to", fmt::format("the period is {} days long; the limit is {}", to - from + 1, kMaxDays));
    std::optional<std::string> campaign;
    std::vector<Gym> campaign_gyms;  // the gyms that hold the campaign (their enrolments count)
    if (!q.campaign_id.empty()) {
      if (q.gym_id.empty()) {
        for (auto& g : store_.gyms().list())
          if (store_.campaigns().find(g.id, q.campaign_id)) campaign_gyms.push_back(std::move(g));
      } else if (store_.campaigns().find(q.gym_id, q.campaign_id)) {
        campaign_gyms.push_back(gyms.front());
      }
      const auto known = store_.analytics().campaigns(q.gym_id);
      if (campaign_gyms.empty() && !std::binary_search(known.begin(), known.end(), q.campaign_id))
        throw NotFoundError(fmt::format("campaign_id: campaign {} not found{}", q.campaign_id.substr(0, 64),
                                        q.gym_id.empty() ? "" : fmt::format(" in gym {}", q.gym_id)),
                            "campaign_id");
      campaign = q.campaign_id;
    }

    // ---- the rows ------------------------------------------------------------
    const std::int32_t history = kTrailingDays + 7;  // what trends look back on before `from`
    RollupQuery rq;
    rq.gym_id = q.gym_id;
    rq.campaign_id = campaign;
    rq.from_day = from - history;
    rq.to_day = to;
    const auto call_rows = store_.analytics().call_days(rq);
    // The rest summed by the store.
    rq.from_day = from;
    rq.summed = true;
    const auto hour_rows = store_.analytics().call_hours(rq);
    std::vector<LeadDayRollup> lead_rows;     // per (dimension, value)
    std::vector<LeadDayRollup> lead_per_day;  // `status` rows per day
    if (campaign) {
      // A campaign's leads are its enrolled leads, read through its enrolments.
      for (const auto& gym : campaign_gyms) campaign_lead_rows(gym, *campaign, from, to, lead_rows, lead_per_day);
    } else {
      lead_rows = store_.analytics().lead_days(rq);
      rq.summed = false;
      rq.dimension = "status";
      lead_per_day = store_.analytics().lead_days(rq);
    }

    Dashboard d;
    d.gym_id = q.gym_id;
    d.campaign_id = q.campaign_id;
    d.from = analytics::format_day(from);
    d.to = analytics::format_day(to);

    // ---- calls -----------------------------------------------------------------
    const auto span = static_cast<std::size_t>(to - (from - history) + 1);
    std::vector<CallSums> per_day(span);
    CallSums total;
    std::map<std::string, CallSums> per_gym;
    bool any_data = false;
    for (const auto& r : call_rows) {
      per_day[static_cast<std::size_t>(r.local_day - (from - history))].add(r);
      if (r.local_day < from) continue;
      any_data = true;
      total.add(r);
      if (q.gym_id.empty()) per_gym[r.gym_id].add(r);
    }
    d.calls = total.finish();
    for (const auto& [gym, sums] : per_gym) d.per_gym[gym] = sums.finish();
    for (std::int32_t day = from; day <= to; ++day) {
      const auto n = per_day[static_cast<std::size_t>(day - (from - history))].calls;
      if (n != 0) d.by_local_date[analytics::format_day(day)] = n;
    }

    // ---- best times ----------------------------------------------------------
    d.by_hour.resize(24);
    d.by_weekday.resize(7);
    for (int i = 0; i < 24; ++i) d.by_hour[static_cast<std::size_t>(i)].slot = i;
    for (int i = 0; i < 7; ++i) d.by_weekday[static_cast<std::size_t>(i)].slot = i;
    for (const auto& r : hour_rows) {
      if (r.lead_hour < 0 || r.lead_hour > 23 || r.lead_weekday < 0 || r.lead_weekday > 6) continue;
      auto& h = d.by_hour[static_cast<std::size_t>(r.lead_hour)];
      h.calls += r.calls;
      h.connected += r.connected;
      auto& w = d.by_weekday[static_cast<std::size_t>(r.lead_weekday)];
      w.calls += r.calls;
      w.connected += r.connected;
    }
    d.best_hour = finish_slots(d.by_hour);
    d.best_weekday = finish_slots(d.by_weekday);

    // ---- leads -----------------------------------------------------------------
    std::map<std::int32_t, std::int64_t> leads_per_day;
    std::array<std::int64_t, 5> reached{};
    std::map<std::int64_t, std::int64_t> speed;
    std::int64_t called = 0;
    for (const auto& r : lead_per_day) leads_per_day[r.local_day] += r.count;
    for (const auto& r : lead_rows) {
      any_data = true;
      if (r.dimension == "status") {
        d.leads_by_status[r.value] += r.count;
        d.leads += r.count;
      } else if (r.dimension == "source") {
        d.leads_by_source[r.value.empty() ? "unknown" : r.value] += r.count;
      } else if (r.dimension == "qualification") {
        d.leads_by_qualification[r.value] += r.count;
      } else if (r.dimension == "reached") {
        const int stage = std::atoi(r.value.c_str());
        if (stage >= 0 && stage < 5) reached[static_cast<std::size_t>(stage)] += r.count;
      } else if (r.dimension == "speed") {
        speed[std::atoll(r.value.c_str())] += r.count;
        called += r.count;
      }
    }
    std::int64_t previous = 0;
    for (std::size_t k = 0; k < kStages.size(); ++k) {
      FunnelStep s;
      s.stage = kStages[k];
      for (std::size_t j = k; j < reached.size(); ++j) s.count += reached[j];
      s.rate_from_previous = k == 0 ? (s.count ? 1.0 : 0.0) : ratio(double(s.count), double(previous)).value_or(0);
      s.rate_from_leads = ratio(double(s.count), double(d.leads)).value_or(0);
      previous = s.count;
      d.funnel.push_back(std::move(s));
    }
    d.cost_per_lead = ratio(d.calls.cost_usd, double(d.leads));
    d.cost_per_booking = ratio(d.calls.cost_usd, double(d.funnel[3].count));
    d.cost_per_member = ratio(d.calls.cost_usd, double(d.funnel[4].count));

    auto& s = d.speed_to_lead;
    s.leads = d.leads;
    s.called = called;
    s.median_minutes = percentile(speed, called, 0.5);
    s.p90_minutes = percentile(speed, called, 0.9);
    for (const auto& [minutes, n] : speed)
      if (minutes < 5) s.within_5_minutes += n;
    s.share_within_5_minutes = ratio(double(s.within_5_minutes), double(d.leads)).value_or(0);

    // ---- the daily series and its trends ---------------------------------------
    if (any_data) daily_series(d, per_day, leads_per_day, from, to, history);
    return d;
  }

  RebuildReport rebuild(std::string_view gym_id) override {
    const auto started = std::chrono::steady_clock::now();
    std::vector<Gym> gyms;
    if (!gym_id.empty()) {
      auto gym = store_.gyms().find(gym_id);
      if (!gym) throw NotFoundError(fmt::format("gym_id: gym {} not found", gym_id.substr(0, 64)), "gym_id");
      gyms.push_back(std::move(*gym));
    } else {
      gyms = store_.gyms().list();
    }
    RebuildReport report;
    store_.transact([&] {
      report = RebuildReport{};
      store_.analytics().clear(gym_id);
      for (const auto& gym : gyms) {
        ++report.gyms;
        analytics::RollupBuilder builder;
        std::unordered_map<std::string, std::string> zones;  // lead id → its zone
        store_.analytics().scan_leads(gym.id, [&](const LeadFacts& f) {
          ++report.leads;
          builder.add_lead(f, gym.timezone, +1);
          zones.emplace(f.id, f.local_zone);
        });
        store_.analytics().scan_calls(gym.id, [&](const Call& c) {
          ++report.calls;
          auto it = zones.find(c.lead_id);
          builder.add_call(c, gym.timezone, it == zones.end() ? std::string_view{} : std::string_view(it->second),
                           +1);
        });
        store_.analytics().apply(builder.take());
      }
    });
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
  }

 private:
  // The lead rows of the gym's leads enrolled in `campaign` and created in
  // [from, to], as the lead rollups would hold them for those leads alone
  // (the same rules: RollupBuilder::add_lead), added to `summed` (one row per
  // dimension and value) and `status_per_day` (one `status` row per day).
  void campaign_lead_rows(const Gym& gym, const std::string& campaign, std::int32_t from, std::int32_t to,
                          std::vector<LeadDayRollup>& summed, std::vector<LeadDayRollup>& status_per_day) {
    const auto* zone = tz::zone(gym.timezone.empty() ? std::string_view("UTC") : std::string_view(gym.timezone),
                                "gym.timezone");
    // A zone's offset holds for long stretches: keep the current one and look
    // again only when an instant falls outside it.
    date::sys_info info{};
    bool have_info = false;
    auto day_of = [&](Timestamp t) {
      const auto secs = std::chrono::floor<std::chrono::seconds>(t);
      if (!have_info || secs < info.begin || secs >= info.end) {
        info = zone->get_info(date::sys_seconds{secs.time_since_epoch()});
        have_info = true;
      }
      const auto local = t.time_since_epoch() + std::chrono::duration_cast<std::chrono::milliseconds>(info.offset);
      return static_cast<std::int32_t>(std::chrono::floor<std::chrono::days>(local).count());
    };
    // Counted in arrays and small maps (no allocation per lead): a campaign
    // may hold tens of thousands of leads.
    std::array<std::int64_t, 6> status{};         // by LeadStatus
    std::array<std::int64_t, 3> qualification{};  // by Qualification
    std::array<std::int64_t, 5> reached{};         // by funnel stage
    std::map<std::string, std::int64_t, std::less<>> source;
    std::map<std::int64_t, std::int64_t> speed;    // bucket → leads
    std::vector<std::int64_t> per_day(static_cast<std::size_t>(to - from + 1));
    // UTC offsets stay within a day and a half: the store reads a slightly
    // wider UTC range, the gym-local date decides.
    const Timestamp lo{std::chrono::days{from - 2}};
    const Timestamp hi{std::chrono::days{to + 3}};
    store_.analytics().scan_campaign_leads(gym.id, campaign, lo, hi, [&](const LeadFacts& f) {
      const std::int32_t day = day_of(f.created_at);
      if (day < from || day > to) return;
      ++per_day[static_cast<std::size_t>(day - from)];
      if (auto it = source.find(f.source); it != source.end()) ++it->second;
      else source.emplace(f.source, 1);
      ++status[static_cast<std::size_t>(f.status) % status.size()];
      ++qualification[static_cast<std::size_t>(f.qualification) % qualification.size()];
      ++reached[static_cast<std::size_t>(analytics::reached_stage(f.status, f.connects)) % reached.size()];
      if (f.first_call_at) ++speed[analytics::speed_bucket_minutes(*f.first_call_at - f.created_at)];
    });
    auto add = [&](const char* dimension, std::string value, std::int64_t n) {
      if (n == 0) return;
      LeadDayRollup r;
      r.gym_id = gym.id;
      r.dimension = dimension;
      r.value = std::move(value);
      r.count = n;
      summed.push_back(std::move(r));
    };
    for (const auto& [value, n] : source) add("source", value, n);
    for (std::size_t i = 0; i < status.size(); ++i) add("status", to_string(static_cast<LeadStatus>(i)), status[i]);
    for (std::size_t i = 0; i < qualification.size(); ++i)
      add("qualification", to_string(static_cast<Qualification>(i)), qualification[i]);
    for (std::size_t i = 0; i < reached.size(); ++i) add("reached", std::to_string(i), reached[i]);
    for (const auto& [minutes, n] : speed) add("speed", std::to_string(minutes), n);
    for (std::int32_t day = from; day <= to; ++day) {
      const auto n = per_day[static_cast<std::size_t>(day - from)];
      if (n == 0) continue;
      LeadDayRollup r;
      r.gym_id = gym.id;
      r.local_day = day;
      r.dimension = "status";
      r.count = n;
      status_per_day.push_back(std::move(r));
    }
  }

  static std::int32_t read_day(const std::string& text, std::string_view field) {
    auto day = analytics::parse_day(text);
    if (!day) throw_invalid(field, fmt::format("\"{}\" is not a date (YYYY-MM-DD)", text.substr(0, 64)));
    return *day;
  }

  // Rates, and the best slot: the highest connect rate among slots with calls (the earliest on a tie).
  static std::optional<int> finish_slots(std::vector<TimeSlot>& slots) {
    std::optional<int> best;
    double best_rate = -1;
    for (auto& t : slots) {
      t.connect_rate = t.calls ? double(t.connected) / double(t.calls) : 0.0;
      if (t.calls > 0 && t.connect_rate > best_rate) {
        best_rate = t.connect_rate;
        best = t.slot;
      }
    }
    return best;
  }

  static void daily_series(Dashboard& d, const std::vector<CallSums>& per_day,
                           const std::map<std::int32_t, std::int64_t>& leads_per_day, std::int32_t from,
                           std::int32_t to, std::int32_t history) {
    auto calls_on = [&](std::int32_t day) -> double {
      const auto i = day - (from - history);
      return i < 0 ? 0.0 : double(per_day[static_cast<std::size_t>(i)].calls);
    };
    const auto n = static_cast<std::size_t>(to - from + 1);
    d.daily.reserve(n);
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::int32_t day = from; day <= to; ++day) {
      DayPoint p;
      p.date = analytics::format_day(day);
      p.metrics = per_day[static_cast<std::size_t>(day - (from - history))].finish();
      if (auto it = leads_per_day.find(day); it != leads_per_day.end()) p.leads = it->second;
      const double x = calls_on(day);
      if (auto r = ratio(x - calls_on(day - 1), calls_on(day - 1))) p.change_day = *r;
      if (auto r = ratio(x - calls_on(day - 7), calls_on(day - 7))) p.change_week = *r;
      double week = 0;
      for (int k = 0; k < 7; ++k) week += calls_on(day - k);
      p.moving_avg_7 = week / 7.0;
      // The trailing 28 days' mean ± 3σ (population σ), once the window has enough active days.
      double sum = 0, sum2 = 0;
      int active = 0;
      for (int k = 1; k <= kTrailingDays; ++k) {
        const double v = calls_on(day - k);
        sum += v;
        sum2 += v * v;
        if (v > 0) ++active;
      }
      if (active >= kMinTrailingActive) {
        const double mean = sum / kTrailingDays;
        const double sigma = std::sqrt(std::max(0.0, sum2 / kTrailingDays - mean * mean));
        p.anomaly = std::abs(x - mean) > 3 * sigma + 1e-9 * std::max(1.0, mean);
      }
      if (p.anomaly) d.trends.anomalies.push_back(p.date);
      const double i = double(day - from);
      sx += i;
      sy += x;
      sxx += i * i;
      sxy += i * x;
      d.daily.push_back(std::move(p));
    }
    const double count = double(n);
    const double den = count * sxx - sx * sx;
    d.trends.slope_calls_per_day = den != 0 ? (count * sxy - sx * sy) / den : 0.0;
    if (auto r = ratio(calls_on(to) - calls_on(to - 1), calls_on(to - 1))) d.trends.day_over_day = *r;
    double last = 0, before = 0;
    for (int k = 0; k < 7; ++k) {
      last += calls_on(to - k);
      before += calls_on(to - 7 - k);
    }
    if (auto r = ratio(last - before, before)) d.trends.week_over_week = *r;
  }

  Store& store_;
  std::shared_ptr<Clock> clock_;
};

}  // namespace

std::unique_ptr<AnalyticsService> make_analytics_service(Store& store, std::shared_ptr<Clock> clock) {
  if (!clock) clock = make_system_clock();
  return std::make_unique<AnalyticsServiceImpl>(store, std::move(clock));
}

}  // namespace gymdash
