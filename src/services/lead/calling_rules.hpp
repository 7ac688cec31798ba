// When a lead may be called: the federal window, the stricter state rules and
// the gym's own hours, evaluated in the right local times (DST included).
// The table of state rules is documented in docs/compliance.md; a change here
// changes that page.
#pragma once

#include <gymdash/model.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash::rules {

/** A daily window in local minutes [start, end); start == end means closed that day. */
struct DayWindow {
  int start_minute = 0;
  int end_minute = 0;
};

/** A state's telephone-solicitation rule. */
struct StateRule {
  std::string_view state;        ///< two-letter code
  DayWindow days[7];             ///< Monday … Sunday, lead-local
  int max_calls_24h = 0;         ///< at most this many calls per rolling 24 hours; 0 = no cap
  std::string_view citation;     ///< the law, for docs and explain()
};

/** Federal window (47 CFR 64.1200(c)(1)): 08:00–21:00 in the called party's local time. */
inline constexpr DayWindow kFederal{8 * 60, 21 * 60};

/** The state rule for `state`, or nullptr when only the federal rule applies. */
const StateRule* state_rule(std::string_view state) noexcept;
/** Every state rule, for docs and tests. */
const std::vector<StateRule>& state_rules() noexcept;

/** Local wall time of an instant in a zone. */
struct LocalTime {
  int minute = 0;   ///< minutes after local midnight
  int weekday = 0;  ///< 0 = Monday … 6 = Sunday
  std::string text; ///< `2026-11-02T08:15:00-05:00`
};

/** The local time of `at` in IANA zone `zone` (throws InvalidArgumentError naming `field` for an unknown zone). */
LocalTime local_time(Timestamp at, std::string_view zone, std::string_view field = "timezone");

/**
 * Reason codes of the window rules that block a call at `at` for a lead in
 * (`lead_zone`, `lead_state`) of `gym`; empty when the window is open.
 * Codes: outside_federal_hours, state_closed_day, outside_state_hours,
 * gym_closed_day, outside_gym_hours.
 */
std::vector<std::string> window_blocks(Timestamp at, std::string_view lead_zone, std::string_view lead_state,
                                       const Gym& gym);

}  // namespace gymdash::rules
