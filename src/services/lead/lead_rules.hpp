// The lead's rules that are pure functions of its data: where it is (zone and
// state), its score, and its state as the fold of its calls. Documented in
// docs/domain.md (status after a call) and docs/scoring.md.
#pragma once

#include <gymdash/config.hpp>
#include <gymdash/model.hpp>

#include <vector>

namespace gymdash::lead_rules {

/** Position in new → contacted → qualified → trial_booked → converted; lost is -1 (off the line). */
int rank(LeadStatus status);

/** Sets local_zone and local_state: the lead's own zone, else its area code's, else the gym's. */
void derive_location(Lead& lead, const Gym& gym);

/** The 0–100 score of docs/scoring.md. */
int compute_score(const Lead& lead);

/** hot / neutral / cold from a score and the gym's thresholds. */
Qualification qualify(int score, const GymPolicy& policy);

/**
 * Recomputes everything calls decide about a lead from its base state
 * (base_status at base_status_at, do_not_call and phone_invalid already set)
 * and its call results in started_at order: status, attempts, connects, last
 * call, callback, outcome, sentiment, recent calls, the state cap's
 * blocked_until, next_call_at, do_not_call and phone_invalid. The result does
 * not depend on the order the results arrived in.
 */
void fold_calls(Lead& lead, const std::vector<CallResult>& calls, const GymPolicy& policy);

}  // namespace gymdash::lead_rules
