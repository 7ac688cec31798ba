#include "services/lead/calling_rules.hpp"

#include "core/tz.hpp"

#include <gymdash/error.hpp>

#include <date/tz.h>
#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <map>
#include <mutex>

namespace gymdash::rules {

namespace {

constexpr DayWindow h(int start_hour, int end_hour) { return {start_hour * 60, end_hour * 60}; }
constexpr DayWindow kClosed{0, 0};

std::vector<StateRule> make_rules() {
  std::vector<StateRule> r;
  const auto all = [](DayWindow w) { return std::array<DayWindow, 7>{{w, w, w, w, w, w, w}}; };
  const auto add = [&](std::string_view state, std::array<DayWindow, 7> days, int cap, std::string_view citation) {
    StateRule rule;
    rule.state = state;
    for (int i = 0; i < 7; ++i) rule.days[i] = days[i];
    rule.max_calls_24h = cap;
    rule.citation = citation;
    r.push_back(rule);
  };
  auto no_sunday = [&](DayWindow w) {
    auto d = all(w);
    d[6] = kClosed;
    return d;
  };
  add("AL", no_sunday(h(8, 20)), 0, "Ala. Code 8-19C-4: 8 a.m.-8 p.m., not on Sunday");
  add("FL", all(h(8, 20)), 3, "Fla. Stat. 501.059(8): 8 a.m.-8 p.m., at most 3 calls in 24 hours");
  add("LA", no_sunday(h(8, 20)), 0, "La. R.S. 45:844.14: 8 a.m.-8 p.m., not on Sunday");
  add("MD", all(h(8, 20)), 3, "Md. Com. Law 14-4503: 8 a.m.-8 p.m., at most 3 calls in 24 hours");
  add("MS", no_sunday(h(8, 20)), 0, "Miss. Code 77-3-725: 8 a.m.-8 p.m., not on Sunday");
  add("OK", all(h(8, 20)), 3, "15 Okla. Stat. 775C.4: 8 a.m.-8 p.m., at most 3 calls in 24 hours");
  {
    auto d = all(h(9, 21));
    d[6] = h(12, 21);
    add("TX", d, 0, "Tex. Bus. & Com. Code 301.051: 9 a.m.-9 p.m., Sunday noon-9 p.m.");
  }
  add("WA", all(h(8, 20)), 0, "RCW 80.36.390: 8 a.m.-8 p.m.");
  return r;
}

bool inside(const DayWindow& w, int minute) { return w.start_minute < w.end_minute && minute >= w.start_minute && minute < w.end_minute; }

}  // namespace

const std::vector<StateRule>& state_rules() noexcept {
  static const std::vector<StateRule> rules = make_rules();
  return rules;
}

const StateRule* state_rule(std::string_view state) noexcept {
  for (const auto& r : state_rules())
    if (r.state == state) return &r;
  return nullptr;
}

LocalTime local_time(Timestamp at, std::string_view zone, std::string_view field) {
  const auto local = tz::local_since_epoch(at.time_since_epoch(), zone, field);
  const auto days = std::chrono::floor<std::chrono::days>(local);
  const auto in_day = local - days;
  LocalTime out;
  out.minute = static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(in_day).count());
  // 1970-01-01 was a Thursday (weekday 3 when Monday is 0).
  out.weekday = static_cast<int>(((days.count() % 7) + 7 + 3) % 7);
  const std::chrono::year_month_day ymd{std::chrono::sys_days{days}};
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(in_day).count();
  const auto off = std::chrono::duration_cast<std::chrono::minutes>(local - at.time_since_epoch()).count();
  out.text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}", int(ymd.year()), unsigned(ymd.month()),
                         unsigned(ymd.day()), secs / 3600, secs / 60 % 60, secs % 60, off < 0 ? '-' : '+',
                         std::abs(off) / 60, std::abs(off) % 60);
  return out;
}

std::vector<std::string> window_blocks(Timestamp at, std::string_view lead_zone, std::string_view lead_state,
                                       const Gym& gym) {
  std::vector<std::string> reasons;
  const auto lead_local = local_time(at, lead_zone, "local_zone");
  if (!inside(kFederal, lead_local.minute)) reasons.emplace_back("outside_federal_hours");
  if (const auto* rule = state_rule(lead_state)) {
    const auto& w = rule->days[lead_local.weekday];
    if (w.start_minute >= w.end_minute) reasons.emplace_back("state_closed_day");
    else if (!inside(w, lead_local.minute)) reasons.emplace_back("outside_state_hours");
  }
  const auto gym_local = local_time(at, gym.timezone, "gym.timezone");
  if (!(gym.call_days & (1u << gym_local.weekday))) reasons.emplace_back("gym_closed_day");
  else if (!inside({gym.call_hours.start_minute, gym.call_hours.end_minute}, gym_local.minute))
    reasons.emplace_back("outside_gym_hours");
  return reasons;
}

}  // namespace gymdash::rules
