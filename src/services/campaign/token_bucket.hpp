// The dialer's calls-per-second limiter: a token bucket on integer
// arithmetic.
//
// The level is kept in nano-tokens and the rate in nano-tokens per
// millisecond (= micro-tokens per second), both integers, so a refill is an
// exact multiplication and no rounding accumulates over a long run: in any
// window of T seconds at most burst + rate·T tokens are taken. The rate is
// rounded down to a whole micro-token per second, which only makes the bucket
// (negligibly) stricter.
#pragma once

#include <gymdash/error.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

namespace gymdash::campaign {

/**
 * A token bucket: `burst` tokens at most, refilled at `rate_per_s` tokens per
 * second, starting full. Time is given by the caller in milliseconds on any
 * monotone clock; a time earlier than one seen before refills nothing (and
 * does not move the bucket's clock back), so a clock that steps backwards can
 * never hand out extra tokens.
 *
 * Not synchronized: one owner.
 */
class TokenBucket {
 public:
  /** Nano-tokens per token. */
  static constexpr std::int64_t kUnitsPerToken = 1'000'000'000;
  /** Bounds of the constructor's arguments (they keep the integer arithmetic in range). */
  static constexpr double kMinRate = 1e-6;
  static constexpr double kMaxRate = 1e9;
  static constexpr double kMaxBurst = 1e9;

  /**
   * `rate_per_s` in [1e-6, 1e9], `burst` in [1, 1e9] (a fractional burst is
   * kept: 2.5 holds two whole tokens and refills to 2.5). Throws
   * InvalidArgumentError naming "rate_per_s" or "burst".
   */
  TokenBucket(double rate_per_s, double burst) {
    if (!std::isfinite(rate_per_s) || !(rate_per_s >= kMinRate) || rate_per_s > kMaxRate)
      throw_invalid("rate_per_s", "must be between 1e-6 and 1e9");
    if (!std::isfinite(burst) || !(burst >= 1) || burst > kMaxBurst)
      throw_invalid("burst", "must be between 1 and 1e9");
    rate_ = static_cast<std::int64_t>(std::floor(rate_per_s * 1e6));
    if (rate_ < 1) rate_ = 1;  // 1e-6 itself may round just below 1
    capacity_ = static_cast<std::int64_t>(std::floor(burst * 1e9));
    if (capacity_ < kUnitsPerToken) capacity_ = kUnitsPerToken;
    level_ = capacity_;
  }

  /**
   * Refills for the time elapsed since the latest time seen and returns how
   * many whole tokens are available at `now_ms`.
   */
  std::int64_t available(std::int64_t now_ms) {
    refill(now_ms);
    return level_ / kUnitsPerToken;
  }

  /**
   * Takes `n` tokens at `now_ms` if that many are available; otherwise takes
   * nothing and returns false. n == 0 always succeeds. Throws
   * InvalidArgumentError naming "n" if n < 0.
   */
  bool take(std::int64_t now_ms, std::int64_t n = 1) {
    check_count(n);
    refill(now_ms);
    if (n > capacity_ / kUnitsPerToken || level_ < n * kUnitsPerToken) return false;
    level_ -= n * kUnitsPerToken;
    return true;
  }

  /**
   * The earliest time (ms) at which `n` tokens are available: `now_ms` if they
   * already are, else the first millisecond at which available() reaches n
   * (if nothing is taken meanwhile). INT64_MAX if n exceeds the burst, i.e.
   * never. Throws InvalidArgumentError naming "n" if n < 0.
   */
  std::int64_t ready_at(std::int64_t now_ms, std::int64_t n = 1) {
    check_count(n);
    refill(now_ms);
    constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
    if (n > capacity_ / kUnitsPerToken) return kNever;
    const std::int64_t missing = n * kUnitsPerToken - level_;
    if (missing <= 0) return now_ms;
    // The bucket's clock is last_ms_ (>= now_ms when time went backwards).
    const std::int64_t wait = (missing + rate_ - 1) / rate_;
    return wait > kNever - last_ms_ ? kNever : last_ms_ + wait;
  }

  /** The effective rate (tokens per second) and capacity after rounding to the integer units. */
  double rate_per_s() const noexcept { return static_cast<double>(rate_) / 1e6; }
  double burst() const noexcept { return static_cast<double>(capacity_) / 1e9; }

 private:
  static void check_count(std::int64_t n) {
    if (n < 0) throw_invalid("n", "must be >= 0");
  }

  void refill(std::int64_t now_ms) {
    if (!started_) {  // the first call starts the clock; the bucket is full already
      started_ = true;
      last_ms_ = now_ms;
      return;
    }
    if (now_ms <= last_ms_) return;
    // Unsigned: the difference of two int64 can exceed INT64_MAX.
    const std::uint64_t elapsed = static_cast<std::uint64_t>(now_ms) - static_cast<std::uint64_t>(last_ms_);
    const std::int64_t missing = capacity_ - level_;
    const auto to_full = static_cast<std::uint64_t>((missing + rate_ - 1) / rate_);
    // Below to_full, elapsed·rate_ < missing + rate_ <= ~1e18: no overflow.
    level_ = elapsed >= to_full ? capacity_ : level_ + static_cast<std::int64_t>(elapsed) * rate_;
    last_ms_ = now_ms;
  }

  std::int64_t rate_ = 1;        // nano-tokens per millisecond
  std::int64_t capacity_ = 0;    // nano-tokens
  std::int64_t level_ = 0;       // nano-tokens
  std::int64_t last_ms_ = 0;     // the latest time seen
  bool started_ = false;
};

}  // namespace gymdash::campaign
