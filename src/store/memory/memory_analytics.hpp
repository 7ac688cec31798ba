// The memory backend's analytics repository, kept in its own file.
#pragma once

#include <gymdash/store.hpp>

#include <functional>
#include <memory>
#include <mutex>

namespace gymdash::memory_store {

/**
 * The analytics rollups in maps. `mutex` is the store's (held by its
 * transactions); `on_rollback` records how to undo a change when a
 * transaction is open; `store` answers the narrow reads of leads and calls.
 * All three must outlive the repository.
 */
std::unique_ptr<AnalyticsRepository> make_memory_analytics(std::recursive_mutex& mutex,
                                                           std::function<void(std::function<void()>)> on_rollback,
                                                           Store& store);

}  // namespace gymdash::memory_store
