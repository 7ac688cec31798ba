// Weighted max-min fair division. The integer version is the one-unit-at-a-
// time water-filling of the header, computed without walking every unit: the
// divisible water level for (total - n) units gives a base that is a prefix of
// that one-at-a-time order and falls short by at most about n units, which a
// heap then hands out in the same order.

#include "services/campaign/fair_share.hpp"

#include <gymdash/error.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <queue>
#include <string>

namespace gymdash::campaign {
namespace {

std::string request_field(std::size_t i, const char* member) {
  return "requests[" + std::to_string(i) + "]." + member;
}

void check_weight(std::size_t i, double weight) {
  if (!std::isfinite(weight) || !(weight > 0)) throw_invalid(request_field(i, "weight"), "must be finite and > 0");
}

// a + b for a, b >= 0, or nullopt when that exceeds int64 (a sum of caps may:
// then it exceeds any total, which is all that matters).
std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) noexcept {
  if (a > std::numeric_limits<std::int64_t>::max() - b) return std::nullopt;
  return a + b;
}

// Claimants in the order they fill up under rising water: by cap / weight,
// ties by index so the result never depends on the sort's stability.
std::vector<std::size_t> fill_order(const std::vector<double>& weights, const std::vector<double>& caps) {
  std::vector<std::size_t> order(weights.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::vector<double> ceiling(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) ceiling[i] = caps[i] / weights[i];
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return ceiling[a] != ceiling[b] ? ceiling[a] < ceiling[b] : a < b;
  });
  return order;
}

struct Level {
  double lambda;          // the water level; +infinity when everybody is full
  std::size_t saturated;  // the first `saturated` claimants of the fill order are at their caps
};

// The divisible water level: the λ with sum(min(cap_i, λ·w_i)) == amount.
Level water_level(double amount, const std::vector<double>& weights, const std::vector<double>& caps,
                  const std::vector<std::size_t>& order) {
  const std::size_t n = order.size();
  // Weight still rising at each step, summed from the end rather than
  // subtracted as claimants fill, so it never drifts to zero or below.
  std::vector<double> rising(n + 1, 0.0);
  for (std::size_t k = n; k-- > 0;) rising[k] = rising[k + 1] + weights[order[k]];
  double remaining = amount;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    // Raising everyone still rising to i's ceiling fits in what is left: i fills up.
    if (caps[i] / weights[i] * rising[k] <= remaining) {
      remaining -= caps[i];
      continue;
    }
    return {std::max(0.0, remaining / rising[k]), k};
  }
  return {std::numeric_limits<double>::infinity(), n};
}

// The level of a claimant holding `units`, i.e. the position in the
// one-at-a-time order at which it receives unit number units + 1.
double level_of(std::int64_t units, double weight) noexcept { return static_cast<double>(units) / weight; }

// How many units a claimant gets before the water reaches `lambda`: the
// number of k in [0, cap) with level_of(k) < lambda. Computed with the same
// level_of as the heap below so the base is an exact prefix of its order.
std::int64_t units_below(double lambda, double weight, std::int64_t cap) noexcept {
  if (!(lambda > 0)) return 0;
  const double estimate = std::ceil(lambda * weight);
  std::int64_t k = estimate >= static_cast<double>(cap) ? cap : static_cast<std::int64_t>(estimate);
  while (k > 0 && level_of(k - 1, weight) >= lambda) --k;
  while (k < cap && level_of(k, weight) < lambda) ++k;
  return k;
}

// A claimant's place in the one-at-a-time order.
struct Turn {
  double level;
  double weight;
  std::size_t index;
};

// True if `a` receives its unit before `b`: lower level, then larger weight, then lower index.
bool before(const Turn& a, const Turn& b) noexcept {
  if (a.level != b.level) return a.level < b.level;
  if (a.weight != b.weight) return a.weight > b.weight;
  return a.index < b.index;
}

struct Earliest {  // priority_queue keeps the "largest" on top: make that the earliest turn
  bool operator()(const Turn& a, const Turn& b) const noexcept { return before(b, a); }
};
struct Latest {
  bool operator()(const Turn& a, const Turn& b) const noexcept { return before(a, b); }
};

}  // namespace

std::vector<std::int64_t> fair_share(std::int64_t total, const std::vector<ShareRequest>& requests) {
  if (total < 0) throw_invalid("total", "must be >= 0");
  const std::size_t n = requests.size();
  std::optional<std::int64_t> cap_sum = 0;  // nullopt: beyond int64
  for (std::size_t i = 0; i < n; ++i) {
    check_weight(i, requests[i].weight);
    if (requests[i].cap < 0) throw_invalid(request_field(i, "cap"), "must be >= 0");
    if (cap_sum) cap_sum = checked_add(*cap_sum, requests[i].cap);
  }
  std::vector<std::int64_t> x(n, 0);
  if (cap_sum && total >= *cap_sum) {
    for (std::size_t i = 0; i < n; ++i) x[i] = requests[i].cap;
    return x;
  }
  const std::int64_t target = total;  // < sum(caps)

  std::vector<double> weights(n), caps(n);
  for (std::size_t i = 0; i < n; ++i) {
    weights[i] = requests[i].weight;
    caps[i] = static_cast<double>(requests[i].cap);
  }
  // Base: every unit whose turn comes strictly before the divisible level of
  // target - n. Each unsaturated claimant then holds ceil(λ·w_i) >= λ·w_i, so
  // the base sums to at least target - n; and it holds less than λ·w_i + 1, so
  // at most target. The few units left go out one at a time. The extra margin
  // covers the rounding of λ, which only matters beyond 2^50 (and costs at
  // most about n·2^13 more heap steps at the very top of int64).
  const double dn = static_cast<double>(n);
  const double dtarget = static_cast<double>(target);
  const double base_amount = dtarget - dn - dn * std::ldexp(dtarget, -50);
  const double lambda = base_amount > 0 ? water_level(base_amount, weights, caps, fill_order(weights, caps)).lambda : 0.0;
  std::int64_t given = 0;
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = units_below(lambda, weights[i], requests[i].cap);
    // Rounding can push the base past int64 only when the total is near the
    // top of its range (far beyond the exact 2^53): keep the sum exact by
    // holding that claimant back; the loops below settle the difference.
    if (!checked_add(given, x[i])) x[i] = std::numeric_limits<std::int64_t>::max() - given;
    given += x[i];
  }

  if (given < target) {
    std::priority_queue<Turn, std::vector<Turn>, Earliest> next;
    for (std::size_t i = 0; i < n; ++i)
      if (x[i] < requests[i].cap) next.push({level_of(x[i], weights[i]), weights[i], i});
    for (; given < target; ++given) {
      const std::size_t i = next.top().index;
      next.pop();
      if (++x[i] < requests[i].cap) next.push({level_of(x[i], weights[i]), weights[i], i});
    }
  } else if (given > target) {
    // Only floating-point rounding of λ gets here: give back the units that
    // came last in the order, which keeps the result a prefix of it.
    std::priority_queue<Turn, std::vector<Turn>, Latest> last;
    for (std::size_t i = 0; i < n; ++i)
      if (x[i] > 0) last.push({level_of(x[i] - 1, weights[i]), weights[i], i});
    for (; given > target; --given) {
      const std::size_t i = last.top().index;
      last.pop();
      if (--x[i] > 0) last.push({level_of(x[i] - 1, weights[i]), weights[i], i});
    }
  }
  return x;
}

std::vector<double> fair_share_real(double total, const std::vector<RealShareRequest>& requests) {
  if (!std::isfinite(total) || total < 0) throw_invalid("total", "must be finite and >= 0");
  const std::size_t n = requests.size();
  std::vector<double> weights(n), caps(n);
  double cap_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    check_weight(i, requests[i].weight);
    if (!(requests[i].cap >= 0)) throw_invalid(request_field(i, "cap"), "must be >= 0");
    weights[i] = requests[i].weight;
    caps[i] = requests[i].cap;
    cap_sum += caps[i];
  }
  if (total >= cap_sum) return caps;

  const std::vector<std::size_t> order = fill_order(weights, caps);
  const Level level = water_level(total, weights, caps, order);
  std::vector<double> x(n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    x[i] = k < level.saturated ? caps[i] : std::min(caps[i], level.lambda * weights[i]);
  }
  return x;
}

}  // namespace gymdash::campaign
