// Reading one row of a lead import: the data contract's columns, checks and
// reject reasons (docs/import.md), before anything touches the store.
#pragma once

#include <gymdash/model.hpp>

#include "core/csv.hpp"

#include <map>
#include <optional>
#include <span>
#include <string>
#include <variant>

namespace gymdash::lead_import {

/** Where each known column is; absent columns are nullopt. */
struct Columns {
  std::optional<std::size_t> external_id, gym_id, first_name, last_name, phone, email, source, created_at, interest,
      timeline, consent, tags;
  std::size_t count = 0;  ///< fields every row must have
  static Columns from(const csv::Header& header);
};

/** A row that passed every check: the phone is E.164, the text trimmed. */
struct Row {
  std::int64_t line = 0;
  std::string gym_id;
  LeadInput input;
};

/** A row refused, with the first reason in the contract's order. */
struct Reject {
  std::int64_t line = 0;
  const char* reason = "";
  std::string detail;
};

using Parsed = std::variant<Row, Reject>;

/**
 * Checks one record in the contract's order: bad_encoding, bad_format,
 * too_long, unknown_gym, bad_phone, bad_created_at. `gyms` maps gym id to its
 * phone region. `now` stands in for a missing created_at column.
 */
Parsed parse_row(std::span<const std::string_view> fields, std::int64_t line, const Columns& columns,
                 const std::map<std::string, std::string, std::less<>>& gym_regions, Timestamp now,
                 const std::string& source);

}  // namespace gymdash::lead_import
