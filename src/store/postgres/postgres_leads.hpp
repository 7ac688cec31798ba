// The PostgreSQL backend's lead repository (postgres_leads.cpp).
#pragma once

#include <gymdash/store.hpp>

#include <memory>

#include "store/postgres/postgres_store.hpp"

namespace gymdash::postgres_store {

/** Leads, their history and call results over `core`'s connections; `core` must outlive it. */
std::unique_ptr<LeadRepository> make_postgres_leads(Core& core);

}  // namespace gymdash::postgres_store
