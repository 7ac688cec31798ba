// Gym settings, read on every lead operation, kept in memory.
//
// Every change made through the library's GymService invalidates the entry at
// once. A change made by another process (another host on the same
// database) is seen when the entry's time to live runs out.
#pragma once

#include <gymdash/model.hpp>
#include <gymdash/store.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace gymdash {

/**
 * Ownership: shared by the services of one Runtime.
 * Thread safety: all members are safe to call concurrently.
 */
class GymCache {
 public:
  /** `ttl` of zero disables caching: every get() reads the store. */
  explicit GymCache(std::chrono::milliseconds ttl) : ttl_(ttl) {}

  /** The gym, from memory when fresh, else from `store` (nullopt if it does not exist). */
  std::optional<Gym> get(Store& store, std::string_view gym_id);
  /** Forgets one gym (after it changed). */
  void invalidate(std::string_view gym_id);
  /** Forgets every gym (after a rolled-back transaction that may have cached its writes). */
  void clear();

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Gym gym;
    Clock::time_point loaded;
  };
  std::chrono::milliseconds ttl_;
  std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace gymdash
