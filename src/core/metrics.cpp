// Per-operation counters, latency buckets, gauges and their export.
#include <gymdash/metrics.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cmath>

namespace gymdash {

namespace {

int bucket_of(std::chrono::nanoseconds latency) noexcept {
  const double us = static_cast<double>(latency.count()) / 1000.0;
  if (us < OperationMetrics::kBucketBase) return 0;
  // bucket i covers [2^((i-1)/4), 2^(i/4)) µs
  const int i = static_cast<int>(std::ceil(std::log2(us / OperationMetrics::kBucketBase) * 4.0));
  return std::min(std::max(i, 0), OperationMetrics::kBuckets - 1);
}

int error_index(ErrorCode code) noexcept {
  const int i = -static_cast<int>(code);
  return i >= 0 && i < OperationMetrics::kErrorCodes ? i : static_cast<int>(-static_cast<int>(ErrorCode::Internal));
}

}  // namespace

double OperationMetrics::bucket_upper_us(int i) noexcept { return kBucketBase * std::exp2(static_cast<double>(i) / 4.0); }

void OperationMetrics::record(std::chrono::nanoseconds latency, ErrorCode code) noexcept {
  calls_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count(), 0)), std::memory_order_relaxed);
  buckets_[static_cast<std::size_t>(bucket_of(latency))].fetch_add(1, std::memory_order_relaxed);
  if (code != ErrorCode::Ok) errors_[static_cast<std::size_t>(error_index(code))].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t OperationMetrics::errors(ErrorCode code) const noexcept {
  if (code == ErrorCode::Ok) return 0;
  return errors_[static_cast<std::size_t>(error_index(code))].load(std::memory_order_relaxed);
}

std::uint64_t OperationMetrics::errors() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 1; i < errors_.size(); ++i) n += errors_[i].load(std::memory_order_relaxed);
  return n;
}

double OperationMetrics::quantile_ms(double q) const noexcept {
  std::array<std::uint64_t, kBuckets> counts;
  std::uint64_t total = 0;
  for (int i = 0; i < kBuckets; ++i) total += counts[i] = buckets_[i].load(std::memory_order_relaxed);
  if (total == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      // The geometric middle of the bucket: within ±9% of any value in it.
      const double upper = bucket_upper_us(i);
      const double lower = i == 0 ? 0.0 : bucket_upper_us(i - 1);
      return (i == 0 ? upper / 2 : std::sqrt(lower * upper)) / 1000.0;
    }
  }
  return bucket_upper_us(kBuckets - 1) / 1000.0;
}

OperationMetrics& Metrics::operation(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = operations_.find(name);
  if (it == operations_.end())
    it = operations_.emplace(std::string(name), std::make_unique<OperationMetrics>(std::string(name))).first;
  return *it->second;
}

void Metrics::set_gauge(std::string_view name, double value) {
  std::lock_guard lock(mutex_);
  auto it = gauges_.find(name);
  if (it == gauges_.end()) gauges_.emplace(std::string(name), value);
  else it->second = value;
}

void Metrics::add_gauge(std::string_view name, double delta) {
  std::lock_guard lock(mutex_);
  auto it = gauges_.find(name);
  if (it == gauges_.end()) gauges_.emplace(std::string(name), delta);
  else it->second += delta;
}

double Metrics::gauge(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = gauges_.find(name);
  return it == gauges_.end() ? 0.0 : it->second;
}

void Metrics::add_collector(std::function<void(Metrics&)> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::make_shared<const std::function<void(Metrics&)>>(std::move(collector)));
}

void Metrics::clear_collectors() {
  std::lock_guard lock(mutex_);
  collectors_.clear();
}

void Metrics::collect() {
  decltype(collectors_) collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (const auto& c : collectors) {
    try {
      (*c)(*this);
    } catch (...) {
      // Skipped for this export; its gauges keep their last values.
    }
  }
}

std::vector<OperationSnapshot> Metrics::snapshot() const {
  std::vector<OperationSnapshot> out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, op] : operations_) {
    OperationSnapshot s;
    s.operation = name;
    s.calls = op->calls();
    for (int i = 1; i < OperationMetrics::kErrorCodes; ++i) {
      const auto code = static_cast<ErrorCode>(-i);
      if (auto n = op->errors(code)) s.errors[error_code_name(code)] = n;
    }
    s.p50_ms = op->quantile_ms(0.50);
    s.p90_ms = op->quantile_ms(0.90);
    s.p99_ms = op->quantile_ms(0.99);
    s.sum_ms = op->sum_ms();
    out.push_back(std::move(s));
  }
  return out;
}

namespace {
std::string prom_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string prom_name(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_');
  return out;
}
}  // namespace

std::string Metrics::to_prometheus() {
  collect();
  const auto ops = snapshot();
  std::string out;
  out += "# HELP gymdash_operation_calls_total Calls of each service operation.\n";
  out += "# TYPE gymdash_operation_calls_total counter\n";
  for (const auto& s : ops)
    out += fmt::format("gymdash_operation_calls_total{{operation=\"{}\"}} {}\n", prom_escape(s.operation), s.calls);
  out += "# HELP gymdash_operation_errors_total Failed calls of each service operation, by error code.\n";
  out += "# TYPE gymdash_operation_errors_total counter\n";
  for (const auto& s : ops)
    for (const auto& [code, n] : s.errors)
      out += fmt::format("gymdash_operation_errors_total{{operation=\"{}\",code=\"{}\"}} {}\n",
                         prom_escape(s.operation), code, n);
  out += "# HELP gymdash_operation_latency_seconds Latency of each service operation.\n";
  out += "# TYPE gymdash_operation_latency_seconds summary\n";
  for (const auto& s : ops) {
    const auto op = prom_escape(s.operation);
    out += fmt::format("gymdash_operation_latency_seconds{{operation=\"{}\",quantile=\"0.5\"}} {:.9f}\n", op,
                       s.p50_ms / 1000);
    out += fmt::format("gymdash_operation_latency_seconds{{operation=\"{}\",quantile=\"0.9\"}} {:.9f}\n", op,
                       s.p90_ms / 1000);
    out += fmt::format("gymdash_operation_latency_seconds{{operation=\"{}\",quantile=\"0.99\"}} {:.9f}\n", op,
                       s.p99_ms / 1000);
    out += fmt::format("gymdash_operation_latency_seconds_sum{{operation=\"{}\"}} {:.9f}\n", op, s.sum_ms / 1000);
    out += fmt::format("gymdash_operation_latency_seconds_count{{operation=\"{}\"}} {}\n", op, s.calls);
  }
  std::map<std::string, double, std::less<>> gauges;
  {
    std::lock_guard lock(mutex_);
    gauges = gauges_;
  }
  for (const auto& [name, value] : gauges) {
    const auto n = prom_name(name);
    out += fmt::format("# TYPE gymdash_{} gauge\ngymdash_{} {}\n", n, n, value);
  }
  return out;
}

std::string Metrics::to_json() {
  collect();
  namespace bj = boost::json;
  bj::array ops;
  for (const auto& s : snapshot()) {
    bj::object errors;
    for (const auto& [code, n] : s.errors) errors[code] = n;
    ops.push_back(bj::object{{"operation", s.operation},
                             {"calls", s.calls},
                             {"errors", std::move(errors)},
                             {"p50_ms", s.p50_ms},
                             {"p90_ms", s.p90_ms},
                             {"p99_ms", s.p99_ms},
                             {"sum_ms", s.sum_ms}});
  }
  bj::object gauges;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, value] : gauges_) gauges[name] = value;
  }
  return bj::serialize(bj::object{{"operations", std::move(ops)}, {"gauges", std::move(gauges)}});
}

}  // namespace gymdash
