/**
 * @file metrics.hpp
 * @brief In-process metrics: per-operation calls, errors by code and latency
 *        quantiles, plus gauges; exported as Prometheus text and as JSON.
 *
 * Recording costs a few relaxed atomic increments: an operation's counters
 * are resolved once (Metrics::operation) and kept by the caller.
 */
#pragma once

#include <gymdash/error.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash {

/**
 * Counters of one operation. Obtained from Metrics::operation; lives as long
 * as its Metrics. Thread safety: record() is lock-free and safe concurrently.
 */
class OperationMetrics {
 public:
  /// Latency buckets: bucket i holds latencies below kBucketBase * 2^(i/4) microseconds.
  static constexpr int kBuckets = 112;
  static constexpr double kBucketBase = 1.0;
  static constexpr int kErrorCodes = 11;  // 0..10 = -ErrorCode

  explicit OperationMetrics(std::string name) : name_(std::move(name)) {}

  /** Counts one call that took `latency` and ended with `code` (Ok for success). */
  void record(std::chrono::nanoseconds latency, ErrorCode code = ErrorCode::Ok) noexcept;

  const std::string& name() const noexcept { return name_; }
  std::uint64_t calls() const noexcept { return calls_.load(std::memory_order_relaxed); }
  std::uint64_t errors(ErrorCode code) const noexcept;
  std::uint64_t errors() const noexcept;
  /** Latency at quantile q (0–1), in milliseconds, from the buckets (±10%); 0 when no calls. */
  double quantile_ms(double q) const noexcept;
  double sum_ms() const noexcept { return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e6; }

  /** Upper bound of bucket i in microseconds. */
  static double bucket_upper_us(int i) noexcept;

 private:
  std::string name_;
  std::atomic<std::uint64_t> calls_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
  std::array<std::atomic<std::uint64_t>, kErrorCodes> errors_{};
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
};

/** A snapshot of one operation, for export. */
struct OperationSnapshot {
  std::string operation;
  std::uint64_t calls = 0;
  std::map<std::string, std::uint64_t> errors;  ///< by error code name (`not_found` …); only non-zero
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, sum_ms = 0;
};

/**
 * The metrics of one Runtime.
 * Ownership: shared by the runtime and its services (std::shared_ptr).
 * Thread safety: all members are safe to call concurrently.
 */
class Metrics {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  /** The counters of `name` (created on first use); the reference stays valid. */
  OperationMetrics& operation(std::string_view name);
  /** Sets a gauge (`dialer_lines_in_use`, `jobs_due` …). */
  void set_gauge(std::string_view name, double value);
  /** Adds to a gauge. */
  void add_gauge(std::string_view name, double delta);
  double gauge(std::string_view name) const;

  /**
   * Adds a collector: a function run by collect() (and so by to_prometheus()
   * and to_json()) that sets gauges cheaper to compute when asked than to
   * keep current, such as `jobs_due`. Collectors run in the order added, on
   * the exporting thread, without the metrics' lock held. A collector that
   * throws is skipped for that export; its gauges keep their last values.
   */
  void add_collector(std::function<void(Metrics&)> collector);
  /** Drops every collector (their owner is going away). */
  void clear_collectors();
  /** Runs the collectors. */
  void collect();

  std::vector<OperationSnapshot> snapshot() const;
  /** Prometheus text exposition format 0.0.4 (`gymdash_` prefix); runs the collectors first. */
  std::string to_prometheus();
  /** `{"operations":[{"operation","calls","errors":{…},"p50_ms","p90_ms","p99_ms","sum_ms"}…],"gauges":{…}}`; runs the collectors first. */
  std::string to_json();

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<OperationMetrics>, std::less<>> operations_;
  std::map<std::string, double, std::less<>> gauges_;
  std::vector<std::shared_ptr<const std::function<void(Metrics&)>>> collectors_;
};

}  // namespace gymdash
