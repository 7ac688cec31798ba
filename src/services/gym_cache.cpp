#include "services/gym_cache.hpp"

namespace gymdash {

std::optional<Gym> GymCache::get(Store& store, std::string_view gym_id) {
  if (ttl_.count() <= 0) return store.gyms().find(gym_id);
  const auto now = Clock::now();
  {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(std::string(gym_id));
    if (it != entries_.end() && now - it->second.loaded < ttl_) return it->second.gym;
  }
  auto gym = store.gyms().find(gym_id);
  if (gym) {
    std::unique_lock lock(mutex_);
    entries_[std::string(gym_id)] = Entry{*gym, now};
  }
  return gym;
}

void GymCache::invalidate(std::string_view gym_id) {
  std::unique_lock lock(mutex_);
  entries_.erase(std::string(gym_id));
}

void GymCache::clear() {
  std::unique_lock lock(mutex_);
  entries_.clear();
}

}  // namespace gymdash
