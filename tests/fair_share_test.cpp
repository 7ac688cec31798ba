// The campaign dialer's fair division and calls-per-second bucket: hand-checked
// examples plus property tests over many fixed-seed random cases.
#include "services/campaign/fair_share.hpp"
#include "services/campaign/token_bucket.hpp"

#include <gymdash/error.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

using namespace gymdash;
using namespace gymdash::campaign;

namespace {

using Shares = std::vector<std::int64_t>;

std::int64_t sum(const Shares& x) { return std::accumulate(x.begin(), x.end(), std::int64_t{0}); }

// The definition, unit by unit: each unit to the claimant below its cap with
// the lowest level, ties to the larger weight, then the lower index.
Shares reference_share(std::int64_t total, const std::vector<ShareRequest>& r) {
  Shares x(r.size(), 0);
  for (std::int64_t u = 0; u < total; ++u) {
    std::size_t best = r.size();
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (x[i] >= r[i].cap) continue;
      if (best == r.size()) {
        best = i;
        continue;
      }
      const double li = static_cast<double>(x[i]) / r[i].weight;
      const double lb = static_cast<double>(x[best]) / r[best].weight;
      if (li < lb || (li == lb && r[i].weight > r[best].weight)) best = i;
    }
    if (best == r.size()) break;
    ++x[best];
  }
  return x;
}

// Checks every property of the header's contract; returns false (after
// reporting) on the first violation so a failing random case is printed.
bool check_properties(std::int64_t total, const std::vector<ShareRequest>& r, const Shares& x) {
  std::int64_t caps = 0;
  for (const auto& q : r) caps += q.cap;
  CHECK(x.size() == r.size());
  if (x.size() != r.size()) return false;
  bool ok = true;
  ok &= sum(x) == std::min(total, caps);
  for (std::size_t i = 0; i < r.size(); ++i) ok &= x[i] >= 0 && x[i] <= r[i].cap;
  if (sum(x) < total)  // no idle unit while someone could take it
    for (std::size_t i = 0; i < r.size(); ++i) ok &= x[i] == r[i].cap;
  // Weighted max-min fairness: x_j/w_j <= x_i/w_i + 1/w_j for every i below its cap.
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (x[i] >= r[i].cap) continue;
    const double li = static_cast<double>(x[i]) / r[i].weight;
    for (std::size_t j = 0; j < r.size(); ++j) {
      const double lhs = static_cast<double>(x[j]) / r[j].weight;
      const double rhs = li + 1.0 / r[j].weight;
      ok &= lhs <= rhs + 1e-9 * std::max(1.0, std::abs(rhs));
    }
  }
  return ok;
}

std::vector<ShareRequest> random_requests(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> count(0, 12);
  std::uniform_int_distribution<int> kind(0, 3);
  const int n = count(rng);
  std::vector<ShareRequest> r(static_cast<std::size_t>(n));
  // Weights from a small set (many exact ties of level) or continuous.
  const double grid[] = {0.5, 1, 1, 1.5, 2, 3, 7, 100};
  const bool continuous = kind(rng) == 0;
  const int cap_scale = std::array<int, 4>{3, 20, 200, 100000}[static_cast<std::size_t>(kind(rng))];
  for (auto& q : r) {
    q.weight = continuous ? std::uniform_real_distribution<double>(0.01, 50)(rng)
                          : grid[std::uniform_int_distribution<int>(0, 7)(rng)];
    q.cap = std::uniform_int_distribution<std::int64_t>(0, cap_scale)(rng);
  }
  return r;
}

}  // namespace

TEST_CASE("fair_share: hand-checked examples") {
  // The capped claimant gets its 3; the other 17 go 1:2 = 5.67 / 11.33 → 6 / 11.
  CHECK(fair_share(20, {{1, 100}, {1, 3}, {2, 100}}) == Shares{6, 3, 11});
  // Enough for everyone: everyone gets its cap, the rest stays idle.
  CHECK(fair_share(1000, {{1, 5}, {3, 7}}) == Shares{5, 7});
  // Equal claimants: the remainder goes to the lower indices.
  CHECK(fair_share(10, {{1, 100}, {1, 100}, {1, 100}}) == Shares{4, 3, 3});
  // Equal levels: the larger weight goes first (its level rises less).
  CHECK(fair_share(1, {{1, 10}, {2, 10}}) == Shares{0, 1});
  CHECK(fair_share(2, {{1, 10}, {2, 10}}) == Shares{1, 1});
  CHECK(fair_share(3, {{1, 10}, {2, 10}}) == Shares{1, 2});
  CHECK(fair_share(4, {{1, 10}, {2, 10}}) == Shares{1, 3});
  // Largest-remainder rounding of 0.31 / 30.69 would give (0, 31), which the
  // fairness inequality forbids (31/100 > 0/1 + 1/100).
  CHECK(fair_share(31, {{1, 100}, {100, 100}}) == Shares{1, 30});
  // Zero caps, zero total, no claimants.
  CHECK(fair_share(5, {{1, 0}, {1, 0}}) == Shares{0, 0});
  CHECK(fair_share(0, {{1, 4}, {2, 4}}) == Shares{0, 0});
  CHECK(fair_share(7, {}).empty());
  // Caps whose sum overflows int64 still divide the total.
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  CHECK(fair_share(10, {{1, big}, {1, big}}) == Shares{5, 5});
  CHECK(fair_share(big, {{1, big}, {1, 3}}) == Shares{big - 3, 3});
  // Near the top of int64 (beyond exact double levels) the sum and caps still hold.
  std::vector<ShareRequest> many;
  for (int i = 0; i < 300; ++i) many.push_back({0.5 + i % 7, big / 100 + i});
  const Shares x = fair_share(big - 12345, many);
  CHECK(std::accumulate(x.begin(), x.end(), std::uint64_t{0}) == static_cast<std::uint64_t>(big - 12345));
  for (std::size_t i = 0; i < many.size(); ++i) CHECK((x[i] >= 0 && x[i] <= many[i].cap));
}

TEST_CASE("fair_share: properties over random cases") {
  std::mt19937_64 rng(20261126);
  for (int round = 0; round < 3000; ++round) {
    const auto r = random_requests(rng);
    std::int64_t caps = 0;
    for (const auto& q : r) caps += q.cap;
    const std::int64_t total = std::uniform_int_distribution<std::int64_t>(0, caps + caps / 4 + 3)(rng);
    const Shares x = fair_share(total, r);
    INFO("round " << round << " total " << total << " n " << r.size());
    CHECK(check_properties(total, r, x));
    CHECK(fair_share(total, r) == x);  // deterministic
    if (total <= 3000) CHECK(x == reference_share(total, r));
  }
}

TEST_CASE("fair_share: large quantities keep the properties") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 500; ++round) {
    const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 200)(rng);
    std::vector<ShareRequest> r(n);
    std::int64_t caps = 0;
    for (auto& q : r) {
      q.weight = std::uniform_real_distribution<double>(0.001, 1000)(rng);
      q.cap = std::uniform_int_distribution<std::int64_t>(0, std::int64_t{1} << 40)(rng);
      caps += q.cap;
    }
    const std::int64_t total = std::uniform_int_distribution<std::int64_t>(0, caps)(rng);
    INFO("round " << round);
    CHECK(check_properties(total, r, fair_share(total, r)));
  }
}

TEST_CASE("fair_share: equal weights and caps differ by at most one") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 2000; ++round) {
    const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 30)(rng);
    const double w = std::uniform_real_distribution<double>(0.1, 10)(rng);
    const std::int64_t cap = std::uniform_int_distribution<std::int64_t>(0, 1000)(rng);
    const std::int64_t total = std::uniform_int_distribution<std::int64_t>(0, cap * static_cast<std::int64_t>(n) + 10)(rng);
    const Shares x = fair_share(total, std::vector<ShareRequest>(n, {w, cap}));
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    CHECK(*hi - *lo <= 1);
    // and the larger ones come first (ties by lower index)
    CHECK(std::is_sorted(x.rbegin(), x.rend()));
  }
}

TEST_CASE("fair_share_real: examples and properties") {
  auto near = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (std::abs(a[i] - b[i]) > 1e-9 * std::max(1.0, std::abs(b[i]))) return false;
    return true;
  };
  CHECK(near(fair_share_real(20, {{1, 100}, {1, 3}, {2, 100}}), {17.0 / 3, 3, 34.0 / 3}));
  CHECK(near(fair_share_real(50, {{1, 10}, {1, 20}}), {10, 20}));
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(near(fair_share_real(9, {{1, inf}, {2, inf}}), {3, 6}));
  CHECK(near(fair_share_real(9, {{1, 1}, {2, inf}}), {1, 8}));

  std::mt19937_64 rng(99);
  for (int round = 0; round < 2000; ++round) {
    const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 15)(rng);
    std::vector<RealShareRequest> r(n);
    double caps = 0;
    for (auto& q : r) {
      q.weight = std::uniform_real_distribution<double>(0.01, 20)(rng);
      q.cap = std::uniform_real_distribution<double>(0, 1000)(rng);
      if (std::uniform_int_distribution<int>(0, 5)(rng) == 0) q.cap = 0;
      caps += q.cap;
    }
    const double total = std::uniform_real_distribution<double>(0, caps * 1.2 + 1)(rng);
    const auto x = fair_share_real(total, r);
    INFO("round " << round);
    REQUIRE(x.size() == n);
    const double s = std::accumulate(x.begin(), x.end(), 0.0);
    CHECK(std::abs(s - std::min(total, caps)) <= 1e-9 * std::max(1.0, caps));
    const double tol = 1e-9;
    for (std::size_t i = 0; i < n; ++i) {
      CHECK(x[i] >= 0);
      CHECK(x[i] <= r[i].cap);
      if (x[i] >= r[i].cap * (1 - tol)) continue;
      for (std::size_t j = 0; j < n; ++j) CHECK(x[j] / r[j].weight <= x[i] / r[i].weight * (1 + tol) + tol);
    }
    CHECK(fair_share_real(total, r) == x);
  }
}

TEST_CASE("fair_share: bad input throws naming the field") {
  auto field_of = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const InvalidArgumentError& e) {
      return e.field();
    }
    return "<no throw>";
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(field_of([] { fair_share(-1, {}); }) == "total");
  CHECK(field_of([] { fair_share(5, {{1, 1}, {1, 1}, {1, 1}, {0, 1}}); }) == "requests[3].weight");
  CHECK(field_of([] { fair_share(5, {{-2, 1}}); }) == "requests[0].weight");
  CHECK(field_of([&] { fair_share(5, {{1, 1}, {nan, 1}}); }) == "requests[1].weight");
  CHECK(field_of([&] { fair_share(5, {{inf, 1}}); }) == "requests[0].weight");
  CHECK(field_of([] { fair_share(5, {{1, 1}, {1, -1}}); }) == "requests[1].cap");
  CHECK(field_of([] { fair_share_real(-0.5, {}); }) == "total");
  CHECK(field_of([&] { fair_share_real(nan, {}); }) == "total");
  CHECK(field_of([&] { fair_share_real(inf, {}); }) == "total");
  CHECK(field_of([] { fair_share_real(1, {{1, 1}, {0, 1}}); }) == "requests[1].weight");
  CHECK(field_of([] { fair_share_real(1, {{1, -1}}); }) == "requests[0].cap");
  CHECK(field_of([&] { fair_share_real(1, {{1, nan}}); }) == "requests[0].cap");
  try {
    fair_share(5, {{1, 1}, {1, -1}});
  } catch (const InvalidArgumentError& e) {
    CHECK(std::string(e.what()).find("requests[1].cap") != std::string::npos);
  }
}

// ---- token bucket ------------------------------------------------------------

TEST_CASE("TokenBucket: starts full and refills at the rate") {
  TokenBucket b(2.0, 5);  // 2 per second, burst 5
  CHECK(b.available(1000) == 5);
  CHECK(b.take(1000, 5));
  CHECK_FALSE(b.take(1000));
  CHECK(b.available(1499) == 0);
  CHECK(b.available(1500) == 1);
  CHECK(b.ready_at(1500, 3) == 2500);
  CHECK(b.available(100000) == 5);  // never above the burst
  CHECK(b.ready_at(100000, 5) == 100000);
  CHECK(b.ready_at(100000, 6) == std::numeric_limits<std::int64_t>::max());
  CHECK_FALSE(b.take(100000, 6));
  CHECK(b.take(100000, 0));
  CHECK(b.available(100000) == 5);
}

TEST_CASE("TokenBucket: time going backwards refills nothing") {
  TokenBucket b(1.0, 3);
  CHECK(b.take(10'000, 3));
  CHECK(b.available(5'000) == 0);      // backwards: nothing
  CHECK(b.available(10'999) == 0);
  CHECK(b.available(11'000) == 1);
  CHECK(b.available(0) == 1);          // back again: still 1, no extra
  CHECK(b.ready_at(0, 2) == 12'000);   // measured from the latest time seen
  CHECK(b.available(12'000) == 2);     // refilled once for 11'000 → 12'000, not from 0
  CHECK(b.take(3'000, 2));             // tokens present may be taken at any time
  CHECK(b.available(12'999) == 0);
  CHECK(b.available(13'000) == 1);
}

TEST_CASE("TokenBucket: a long random run never exceeds burst + rate*T in any window") {
  std::mt19937_64 rng(31337);
  for (int config = 0; config < 12; ++config) {
    const double rate = std::uniform_real_distribution<double>(0.1, 40)(rng) * (config == 0 ? 1.0 / 3.0 : 1.0);
    const double burst = std::uniform_real_distribution<double>(1, 12)(rng);
    TokenBucket b(rate, burst);
    // (time, tokens) of every successful take
    std::vector<std::pair<std::int64_t, std::int64_t>> takes;
    std::int64_t now = std::uniform_int_distribution<std::int64_t>(-1'000'000, 1'000'000)(rng);
    const std::int64_t start = now;
    const std::int64_t horizon = 600'000;  // 10 simulated minutes
    // Requests come faster than tokens on average (mean gap: half a token's time).
    std::uniform_int_distribution<std::int64_t> gap(0, std::max<std::int64_t>(1, static_cast<std::int64_t>(1000 / rate)));
    std::uniform_int_distribution<std::int64_t> want(1, std::min<std::int64_t>(3, static_cast<std::int64_t>(burst)));
    std::int64_t taken = 0;
    while (now - start < horizon) {
      now += gap(rng);
      const std::int64_t n = want(rng);
      const std::int64_t avail = b.available(now);
      const bool ok = b.take(now, n);
      CHECK(ok == (n <= avail));
      if (ok) {
        takes.emplace_back(now, n);
        taken += n;
      }
      // Greedy too: drain whatever is there, so the bound is actually reached.
      const std::int64_t rest = b.available(now);
      if (rest > 0 && std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
        REQUIRE(b.take(now, rest));
        takes.emplace_back(now, rest);
        taken += rest;
      }
    }
    INFO("rate " << rate << " burst " << burst << " takes " << takes.size());
    // Every window [t_a, t_b]: the takes inside it at most burst + rate·(t_b - t_a).
    std::vector<std::int64_t> prefix(takes.size() + 1, 0);
    for (std::size_t k = 0; k < takes.size(); ++k) prefix[k + 1] = prefix[k] + takes[k].second;
    // taken(a..c) - rate·(t_c - t_a) = g(c) - h(a) with g(c) = P[c+1] - rate·t_c and
    // h(a) = P[a] - rate·t_a: the worst window ending at c starts at the a <= c
    // with the smallest h(a), so one pass checks all O(m²) windows.
    auto drift = [&](std::size_t k) { return rate * static_cast<double>(takes[k].first - start) / 1000.0; };
    double worst = -std::numeric_limits<double>::infinity();
    double min_h = std::numeric_limits<double>::infinity();
    for (std::size_t c = 0; c < takes.size(); ++c) {
      min_h = std::min(min_h, static_cast<double>(prefix[c]) - drift(c));
      worst = std::max(worst, static_cast<double>(prefix[c + 1]) - drift(c) - min_h);
    }
    CHECK(worst <= burst + 1e-6);
    // And it is not stingy: over the run it delivers most of what the rate
    // allows (some is lost while the bucket sits full between requests).
    CHECK(static_cast<double>(taken) >= rate * static_cast<double>(now - start) / 1000.0 * 0.8);
  }
}

TEST_CASE("TokenBucket: exact over a very long run with a non-decimal rate") {
  // 1/3 token per second for 30 days, taking whenever possible: exactly
  // burst + floor(rate_eff · T) tokens, with no drift from rounding.
  TokenBucket b(1.0 / 3.0, 2);
  const std::int64_t day = 86'400'000;
  std::int64_t taken = 0;
  for (std::int64_t t = 0; t <= 30 * day; t += 997) taken += b.take(t) ? 1 : 0;
  const std::int64_t last = 30 * day / 997 * 997;
  const double allowed = 2 + b.rate_per_s() * static_cast<double>(last) / 1000.0;
  CHECK(static_cast<double>(taken) <= allowed);
  CHECK(static_cast<double>(taken) >= allowed - 1);
  CHECK(b.rate_per_s() <= 1.0 / 3.0);
}

TEST_CASE("TokenBucket: ready_at is exact") {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 2000; ++round) {
    const double rate = std::uniform_real_distribution<double>(0.05, 100)(rng);
    const double burst = std::uniform_real_distribution<double>(1, 10)(rng);
    TokenBucket b(rate, burst);
    std::int64_t now = 0;
    // Random history.
    for (int k = std::uniform_int_distribution<int>(0, 20)(rng); k > 0; --k) {
      now += std::uniform_int_distribution<std::int64_t>(0, 3000)(rng);
      b.take(now, std::uniform_int_distribution<std::int64_t>(1, 3)(rng));
    }
    const std::int64_t n = std::uniform_int_distribution<std::int64_t>(0, 11)(rng);
    TokenBucket probe = b;
    const std::int64_t at = probe.ready_at(now, n);
    INFO("round " << round << " rate " << rate << " burst " << burst << " n " << n);
    if (n > static_cast<std::int64_t>(std::floor(burst))) {
      CHECK(at == std::numeric_limits<std::int64_t>::max());
      continue;
    }
    CHECK(at >= now);
    TokenBucket at_time = b;
    CHECK(at_time.available(at) >= n);
    CHECK(at_time.take(at, n));
    if (at > now) {
      TokenBucket just_before = b;
      CHECK(just_before.available(at - 1) < n);
    }
  }
}

TEST_CASE("TokenBucket: bad arguments throw naming the field") {
  auto field_of = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const InvalidArgumentError& e) {
      return e.field();
    }
    return "<no throw>";
  };
  CHECK(field_of([] { TokenBucket(0, 1); }) == "rate_per_s");
  CHECK(field_of([] { TokenBucket(-1, 1); }) == "rate_per_s");
  CHECK(field_of([] { TokenBucket(std::numeric_limits<double>::quiet_NaN(), 1); }) == "rate_per_s");
  CHECK(field_of([] { TokenBucket(1, 0.5); }) == "burst");
  CHECK(field_of([] { TokenBucket(1, std::numeric_limits<double>::infinity()); }) == "burst");
  TokenBucket b(1, 1);
  CHECK(field_of([&] { b.take(0, -1); }) == "n");
  CHECK(field_of([&] { b.ready_at(0, -1); }) == "n");
}
