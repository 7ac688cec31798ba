/**
 * @file clock.hpp
 * @brief Where services read the time: the system clock or a manual clock.
 *
 * Every service reads "now" only through a Clock, so tests and simulations can
 * run days of calling in milliseconds on a ManualClock.
 */
#pragma once

#include <gymdash/model.hpp>

#include <atomic>
#include <memory>

namespace gymdash {

/**
 * Source of the current time.
 * Ownership: shared (std::shared_ptr) by the runtime and the services.
 * Thread safety: now() may be called from any thread concurrently.
 */
class Clock {
 public:
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  virtual ~Clock() = default;

  /** The current time, UTC. */
  virtual Timestamp now() const = 0;
};

/** The operating system's wall clock. */
std::shared_ptr<Clock> make_system_clock();

/**
 * A clock that moves only when told. Thread safety: all members are safe to
 * call concurrently; a reader sees either the old or the new time.
 */
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : now_(start.time_since_epoch().count()) {}
  Timestamp now() const override { return Timestamp{std::chrono::milliseconds{now_.load()}}; }
  /** Sets the time (may move backwards; services must cope). */
  void set(Timestamp t) { now_.store(t.time_since_epoch().count()); }
  /** Moves the time forward by `d`. */
  void advance(std::chrono::milliseconds d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace gymdash
