// The PostgreSQL backend's schema, as an ordered list of versioned migrations.
#pragma once

#include <span>
#include <string_view>

namespace gymdash::postgres_store {

/**
 * One step of the schema. Steps are applied in order, each in its own
 * transaction together with the row of gymdash_schema that records it (DDL
 * is transactional in PostgreSQL: a step that fails leaves nothing behind).
 * A step is never edited once released (add a new one).
 */
struct Migration {
  int version;
  std::string_view sql;
};

/** Every migration, ordered by version (1, 2, 3 … without gaps). */
std::span<const Migration> migrations();

/** The newest schema version this library knows: the last migration's. */
int latest_schema_version();

}  // namespace gymdash::postgres_store
