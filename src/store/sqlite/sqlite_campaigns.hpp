// The SQLite backend's campaign repository (tables campaigns and
// campaign_leads of schema v6), kept in its own file; the store lends it its
// connection as it does to the analytics repository.
#pragma once

#include <gymdash/store.hpp>

#include <memory>

#include "store/sqlite/sqlite_analytics.hpp"  // sqlite_store::Connection

namespace gymdash::sqlite_store {

/** The campaign repository over `connection`, which must outlive it. */
std::unique_ptr<CampaignRepository> make_sqlite_campaigns(Connection& connection);

}  // namespace gymdash::sqlite_store
