// What dialer_hosts_test and its child program dialer_host share: the
// simulation's clock, scale and configuration, so that every process sees the
// same time and the same gym policy.
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/config.hpp>
#include <gymdash/model.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace gymdash::test::hosts {

// Virtual time runs this many times faster than the steady clock: a second
// of the run is half an hour of calling.
constexpr std::int64_t kScale = 1800;

// 10:00 in New York on a Monday: every gym's window is open for hours.
inline Timestamp start_time() { return parse_timestamp("2026-03-02T15:00:00Z"); }

/**
 * The time of every process of the run: start_time() plus the steady time
 * since `epoch_ns` (CLOCK_MONOTONIC, one clock for the whole machine), times
 * kScale. The simulated provider's timers (steady time divided by the same
 * scale) then end each call when this clock reaches its end.
 * Thread safety: now() is safe concurrently.
 */
class ScaledClock final : public Clock {
 public:
  explicit ScaledClock(std::int64_t epoch_ns) : epoch_ns_(epoch_ns) {}
  Timestamp now() const override {
    const auto steady = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    const std::int64_t virtual_ms = (steady - epoch_ns_) / 1000 * kScale / 1000;
    return start_time() + std::chrono::milliseconds{virtual_ms};
  }

 private:
  std::int64_t epoch_ns_;
};

/** The steady clock now, in nanoseconds, for ScaledClock's epoch. */
inline std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/** The configuration of every process: gym policy and the simulated provider `sim` (its seed per host). */
inline std::shared_ptr<Config> config(int seed) {
  auto c = std::make_shared<Config>();
  VoiceProviderConfig sim;
  sim.kind = "simulated";
  sim.options = {{"seed", std::to_string(seed)},
                 {"answer_rate", "0.5"},
                 {"voicemail_rate", "0.2"},
                 {"busy_rate", "0.1"},
                 {"time", "real"},
                 {"time_scale", std::to_string(kScale)},
                 {"talk_max_s", "600"}};
  c->voice_providers["sim"] = sim;
  c->defaults.lines = 6;
  c->defaults.max_attempts = 6;
  c->defaults.call_hours = LocalWindow{8 * 60, 21 * 60};
  return c;
}

}  // namespace gymdash::test::hosts
