// A lead as the SQLite backend stores it: its column values in the order of
// GYMDASH_LEAD_COLUMNS, for binding to a statement one lead at a time or for
// the virtual tables gymdash_lead_rows and gymdash_lead_tag_rows, which hand
// many leads and their tags to one INSERT … SELECT each (a lead bulk load's
// pieces, SqliteLeads::insert_many_if_absent).
//
// Ownership and threads: a LeadRow points at its Lead, which must outlive
// it; the rows given to a statement must outlive the statement's run. Plain
// values: use one from one thread at a time.
#pragma once

#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <gymdash/model.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "store/columns.hpp"

namespace gymdash::sqlite_store {

inline constexpr int kLeadColumnCount = 42;

/** A lead with its encoded columns (the JSON lists, the enum names). */
struct LeadRow {
  const Lead* lead = nullptr;
  std::string tags, custom_fields, recent_calls;
  std::string status, qualification, base_status;
};

/** Encodes `lead`; InvalidArgumentError naming the field for a status or qualification out of range. */
LeadRow encode_lead_row(const Lead& lead);

/**
 * Gives `sink` the value of column `column` (0-based, GYMDASH_LEAD_COLUMNS
 * order) of `row`: a const std::string& for text (the row's or its
 * lead's), a std::int64_t for integers, nullptr for NULL.
 */
template <class Sink>
void lead_value(const LeadRow& row, int column, Sink&& sink) {
  using store_columns::to_millis;
  const Lead& l = *row.lead;
  const auto optional_time = [&](const std::optional<Timestamp>& t) {
    if (t)
      sink(std::int64_t{to_millis(*t)});
    else
      sink(nullptr);
  };
  const auto flag = [&](bool b) { sink(std::int64_t{b ? 1 : 0}); };
  switch (column) {
    case 0: return sink(l.id);
    case 1: return sink(l.gym_id);
    case 2: return sink(l.external_id);
    case 3: return sink(l.phone);
    case 4: return sink(l.first_name);
    case 5: return sink(l.last_name);
    case 6: return sink(l.email);
    case 7: return sink(l.source);
    case 8: return sink(l.interest);
    case 9: return sink(l.timeline);
    case 10: return sink(l.notes);
    case 11: return sink(row.tags);
    case 12: return flag(l.consent.given);
    case 13: return optional_time(l.consent.at);
    case 14: return sink(l.consent.method);
    case 15: return sink(l.consent.source);
    case 16: return flag(l.do_not_call);
    case 17: return flag(l.phone_invalid);
    case 18: return sink(row.status);
    case 19: return sink(row.qualification);
    case 20: return flag(l.qualification_manual);
    case 21: return sink(std::int64_t{l.score});
    case 22: return sink(std::int64_t{l.attempts});
    case 23: return optional_time(l.last_call_at);
    case 24: return optional_time(l.next_call_at);
    case 25: return sink(l.timezone);
    case 26: return sink(row.custom_fields);
    case 27: return sink(std::int64_t{to_millis(l.created_at)});
    case 28: return sink(std::int64_t{to_millis(l.updated_at)});
    case 29: return sink(std::int64_t{l.version});
    case 30: return optional_time(l.callback_at);
    case 31: return optional_time(l.blocked_until);
    case 32: return sink(row.recent_calls);
    case 33: return sink(l.last_outcome);
    case 34: return sink(l.sentiment);
    case 35: return sink(std::int64_t{l.connects});
    case 36: return sink(l.active_call_id);
    case 37: return sink(l.local_zone);
    case 38: return sink(l.local_state);
    case 39: return flag(l.dnc_listed);
    case 40: return sink(row.base_status);
    case 41: return sink(std::int64_t{to_millis(l.base_status_at)});
    default: return sink(nullptr);
  }
}

/**
 * Binds every column of `row` to parameters 1 … 42 of `s`, without copying
 * text: `row` and its lead must outlive the statement's run.
 */
void bind_lead_row(SQLite::Statement& s, const LeadRow& row);

/**
 * The rows the virtual table gymdash_lead_rows gives: none, except while a
 * Lend is alive. Owned by the store whose connection has the table; use it
 * under that store's lock.
 */
class LeadRowsSource {
 public:
  /** Lends `rows` to the table for this object's lifetime. */
  class Lend {
   public:
    Lend(LeadRowsSource& source, const std::vector<LeadRow>& rows) : source_(source) { source_.rows_ = &rows; }
    ~Lend() { source_.rows_ = nullptr; }
    Lend(const Lend&) = delete;
    Lend& operator=(const Lend&) = delete;

   private:
    LeadRowsSource& source_;
  };
  const std::vector<LeadRow>* rows() const { return rows_; }

 private:
  const std::vector<LeadRow>* rows_ = nullptr;
};

/**
 * Registers two eponymous virtual tables on `db`, both over the rows
 * `source` lends, in order. gymdash_lead_rows: its columns are
 * GYMDASH_LEAD_COLUMNS, one row a lead:
 *   INSERT INTO leads (COLUMNS) SELECT COLUMNS FROM gymdash_lead_rows
 * gymdash_lead_tag_rows: columns (lead_id, gym_id, tag), one row for each tag
 * of each lead, in the order of its tags (the rows of lead_tags).
 * Neither may be used from triggers or views. `source` must outlive the
 * connection. Throws StorageError if SQLite refuses a module.
 */
void register_lead_rows(sqlite3* db, const LeadRowsSource& source);

}  // namespace gymdash::sqlite_store
