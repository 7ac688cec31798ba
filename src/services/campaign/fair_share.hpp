// How the campaign dialer divides a shared budget (call slots, minutes,
// money) among campaigns: weighted max-min fair division ("water-filling").
//
// Every claimant i has a weight w_i > 0 and a cap c_i >= 0, the most it can
// use. Picture one vessel per claimant with a floor area of w_i and a height
// limit: pouring `total` in raises every unfilled vessel's level x_i / w_i
// together, and what a full vessel cannot hold goes to the others.
//
// Definition (weighted max-min fair). An allocation x, 0 <= x_i <= c_i, with
// sum(x) = min(total, sum(c)), is weighted max-min fair if for every claimant
// i below its cap (x_i < c_i) and every claimant j:
//
//     x_j / w_j  <=  x_i / w_i                 (divisible version)
//     x_j / w_j  <=  x_i / w_i + 1 / w_j       (integer version)
//
// i.e. nobody's level exceeds the level of a claimant that could still take
// more, except, with whole units, by j's last unit. Equivalently, in the
// integer version j's level before its last unit, (x_j - 1) / w_j, is at
// most the level of every claimant below its cap.
//
// That integer inequality is exactly what handing the units out one at a
// time to the claimant with the lowest level produces (Adams' apportionment).
// Rounding the divisible shares by largest remainder does NOT satisfy it:
// with weights 1 and 100 and 31 units the divisible shares are 0.31 and
// 30.69; largest remainder gives (0, 31), where 31/100 > 0/1 + 1/100, while
// the fair integer allocation is (1, 30). So the integer version is defined
// by that one-at-a-time order, not by rounding fair_share_real().
#pragma once

#include <cstdint>
#include <vector>

namespace gymdash::campaign {

/** One claimant of an integer quantity. */
struct ShareRequest {
  double weight = 1.0;    ///< > 0 and finite: its share relative to the others
  std::int64_t cap = 0;   ///< >= 0: the most it can use (its own limit, or its eligible work, whichever is smaller)
};

/**
 * Divides `total` whole units among `requests`, weighted max-min fair (see the
 * file comment for the definition).
 *
 * Result: one count per request, in request order, with 0 <= x_i <= cap_i and
 * sum(x) == min(total, sum(caps)); when total >= sum(caps) every claimant
 * gets its cap. The allocation is the one obtained by handing out units one at
 * a time, each to the claimant below its cap whose level x_i / w_i is lowest;
 * ties go to the larger weight (its level rises less), then to the lower
 * index. So it is deterministic. Example: total 20,
 * weights 1, 1, 2, caps 100, 3, 100 → 6, 3, 11 (the capped claimant gets 3;
 * the other 17 go 1:2, i.e. 5.67 and 11.33, rounded to 6 and 11).
 *
 * The fairness order is exact while the quantities are below 2^53 (levels are
 * compared as doubles). O(n log n).
 *
 * Throws InvalidArgumentError naming the field: "total" if total < 0,
 * "requests[i].weight" if a weight is not finite or <= 0, "requests[i].cap"
 * if a cap is < 0.
 */
std::vector<std::int64_t> fair_share(std::int64_t total, const std::vector<ShareRequest>& requests);

/** One claimant of a divisible quantity (money). */
struct RealShareRequest {
  double weight = 1.0;  ///< > 0 and finite
  double cap = 0.0;     ///< >= 0; +infinity means no limit
};

/**
 * Divides the divisible quantity `total` among `requests`, weighted max-min
 * fair: x_i = min(cap_i, λ·w_i) for the one water level λ that makes the sum
 * min(total, sum(caps)). Claimants that are capped get exactly their cap; the
 * sum matches up to floating-point rounding. O(n log n).
 *
 * Throws InvalidArgumentError naming the field: "total" if total is < 0 or not
 * finite, "requests[i].weight" if a weight is not finite or <= 0,
 * "requests[i].cap" if a cap is < 0 or NaN.
 */
std::vector<double> fair_share_real(double total, const std::vector<RealShareRequest>& requests);

}  // namespace gymdash::campaign
