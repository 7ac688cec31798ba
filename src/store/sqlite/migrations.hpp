// The SQLite backend's schema, as an ordered list of versioned migrations.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace gymdash::sqlite_store {

/**
 * `PRAGMA application_id` of a gymdash database ("GYMD" in ASCII), so that a
 * gymdash file is recognised as one and a foreign SQLite file is not written to.
 */
inline constexpr std::int32_t kApplicationId = 0x47594D44;

/**
 * One step of the schema. `version` is what `PRAGMA user_version` reads once
 * the step is applied; steps are applied in order, each in its own
 * transaction, and a step is never edited once released (add a new one).
 */
struct Migration {
  int version;
  std::string_view sql;
};

/** Every migration, ordered by version (1, 2, 3 … without gaps). */
std::span<const Migration> migrations();

/** The newest schema version this library knows: the last migration's. */
int latest_schema_version();

}  // namespace gymdash::sqlite_store
