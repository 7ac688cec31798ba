// The memory backend's analytics repository, kept in its own file.
#pragma once

#include <gymdash/store.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash::memory_store {

/**
 * The analytics rollups in maps. `mutex` is the store's (held by its
 * transactions); `on_rollback` records how to undo a change when a
 * transaction is open; `store` answers the narrow reads of leads and calls;
 * `enrolled` lists the ids of a campaign's enrolled leads (called with the
 * store's mutex held). All must outlive the repository.
 */
std::unique_ptr<AnalyticsRepository> make_memory_analytics(
    std::recursive_mutex& mutex, std::function<void(std::function<void()>)> on_rollback, Store& store,
    std::function<std::vector<std::string>(std::string_view campaign_id)> enrolled);

}  // namespace gymdash::memory_store
