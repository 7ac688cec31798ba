// The PostgreSQL backend's repositories that live in files of their own.
#pragma once

#include <gymdash/store.hpp>

#include <memory>

#include "store/postgres/postgres_store.hpp"

namespace gymdash::postgres_store {

/** Leads, their history and call results over `core`'s connections; `core` must outlive it. */
std::unique_ptr<LeadRepository> make_postgres_leads(Core& core);

/** Campaigns and their enrolments (postgres_campaigns.cpp); `core` must outlive it. */
std::unique_ptr<CampaignRepository> make_postgres_campaigns(Core& core);

/** The analytics rollups and narrow reads (postgres_analytics.cpp); `core` must outlive it. */
std::unique_ptr<AnalyticsRepository> make_postgres_analytics(Core& core);

}  // namespace gymdash::postgres_store
