// Binding a lead, and the virtual tables gymdash_lead_rows and gymdash_lead_tag_rows (store/sqlite/lead_row.hpp).
//
// Why a virtual table: a bulk load inserted its leads one statement each —
// 42 bindings, a step and a reset a row, each step opening the table's and
// its key index's cursors again from the root. One INSERT … SELECT over the
// piece's rows keeps those cursors at the end of the B-trees and runs the
// statement's program once per piece (docs/import.md, "One statement a
// piece, and United Kingdom numbers without libphonenumber's parse").

#include "store/sqlite/lead_row.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <gymdash/error.hpp>
#include <new>

namespace gymdash::sqlite_store {

LeadRow encode_lead_row(const Lead& lead) {
  using namespace store_columns;
  LeadRow row;
  row.lead = &lead;
  row.status = status_name(lead.status);
  if (row.status.empty())
    throw InvalidArgumentError(fmt::format("lead {}: status: not a lead status", lead.id), "status");
  row.qualification = qualification_name(lead.qualification);
  if (row.qualification.empty())
    throw InvalidArgumentError(fmt::format("lead {}: qualification: not a qualification", lead.id),
                               "qualification");
  row.base_status = status_name(lead.base_status);
  row.tags = encode_strings(lead.tags);
  row.custom_fields = encode_fields(lead.custom_fields);
  row.recent_calls = encode_times(lead.recent_calls);
  return row;
}

namespace {

struct Binder {
  SQLite::Statement& s;
  int index;
  void operator()(const std::string& text) { s.bindNoCopy(index, text); }
  void operator()(std::int64_t value) { s.bind(index, value); }
  void operator()(std::nullptr_t) { s.bind(index); }
};

struct Result {
  sqlite3_context* ctx;
  void operator()(const std::string& text) {
    // SQLite refuses texts of 2^31 bytes and more anyway (SQLITE_MAX_LENGTH).
    if (text.size() > static_cast<std::size_t>(INT32_MAX))
      sqlite3_result_error_toobig(ctx);
    else
      sqlite3_result_text(ctx, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void operator()(std::int64_t value) { sqlite3_result_int64(ctx, value); }
  void operator()(std::nullptr_t) { sqlite3_result_null(ctx); }
};

struct Table : sqlite3_vtab {
  const LeadRowsSource* source = nullptr;
};

struct Cursor : sqlite3_vtab_cursor {
  const std::vector<LeadRow>* rows = nullptr;
  std::size_t at = 0;   // the row
  std::size_t tag = 0;  // gymdash_lead_tag_rows: the tag of that row's lead
};

template <const char* Schema>
int connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char**) {
  const int rc = sqlite3_declare_vtab(db, Schema);
  if (rc != SQLITE_OK) return rc;
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  auto* table = new (std::nothrow) Table;
  if (!table) return SQLITE_NOMEM;
  table->source = static_cast<const LeadRowsSource*>(aux);
  *out = table;
  return SQLITE_OK;
}

int disconnect(sqlite3_vtab* table) {
  delete static_cast<Table*>(table);
  return SQLITE_OK;
}

// One plan: every row, in order.
int best_index(sqlite3_vtab*, sqlite3_index_info* info) {
  info->estimatedCost = 1000;
  return SQLITE_OK;
}

int open_cursor(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* cursor = new (std::nothrow) Cursor;
  if (!cursor) return SQLITE_NOMEM;
  *out = cursor;
  return SQLITE_OK;
}

int close_cursor(sqlite3_vtab_cursor* cursor) {
  delete static_cast<Cursor*>(cursor);
  return SQLITE_OK;
}

int filter(sqlite3_vtab_cursor* base, int, const char*, int, sqlite3_value**) {
  auto* cursor = static_cast<Cursor*>(base);
  cursor->rows = static_cast<const Table*>(cursor->pVtab)->source->rows();
  cursor->at = 0;
  cursor->tag = 0;
  return SQLITE_OK;
}

// gymdash_lead_tag_rows: past the rows whose leads have no tag left.
void skip_untagged(Cursor& cursor) {
  while (cursor.rows && cursor.at < cursor.rows->size() &&
         cursor.tag >= (*cursor.rows)[cursor.at].lead->tags.size()) {
    ++cursor.at;
    cursor.tag = 0;
  }
}

int filter_tags(sqlite3_vtab_cursor* base, int argc, const char* name, int n, sqlite3_value** argv) {
  filter(base, argc, name, n, argv);
  skip_untagged(*static_cast<Cursor*>(base));
  return SQLITE_OK;
}

int next_tag(sqlite3_vtab_cursor* base) {
  auto* cursor = static_cast<Cursor*>(base);
  ++cursor->tag;
  skip_untagged(*cursor);
  return SQLITE_OK;
}

int tag_column(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int index) {
  const auto* cursor = static_cast<const Cursor*>(base);
  const Lead& lead = *(*cursor->rows)[cursor->at].lead;
  Result result{ctx};
  switch (index) {
    case 0: result(lead.id); break;
    case 1: result(lead.gym_id); break;
    case 2: result(lead.tags[cursor->tag]); break;
    default: result(nullptr);
  }
  return SQLITE_OK;
}

int next(sqlite3_vtab_cursor* base) {
  ++static_cast<Cursor*>(base)->at;
  return SQLITE_OK;
}

int eof(sqlite3_vtab_cursor* base) {
  const auto* cursor = static_cast<const Cursor*>(base);
  return !cursor->rows || cursor->at >= cursor->rows->size();
}

int column(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int index) {
  const auto* cursor = static_cast<const Cursor*>(base);
  lead_value((*cursor->rows)[cursor->at], index, Result{ctx});
  return SQLITE_OK;
}

int rowid(sqlite3_vtab_cursor* base, sqlite3_int64* out) {
  *out = static_cast<sqlite3_int64>(static_cast<const Cursor*>(base)->at) + 1;
  return SQLITE_OK;
}

constexpr char kRowsSchema[] = "CREATE TABLE x(" GYMDASH_LEAD_COLUMNS ")";
constexpr char kTagRowsSchema[] = "CREATE TABLE x(lead_id, gym_id, tag)";

sqlite3_module make_module() {
  sqlite3_module m{};
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous only: no CREATE VIRTUAL TABLE
  m.xConnect = connect<kRowsSchema>;
  m.xBestIndex = best_index;
  m.xDisconnect = disconnect;
  m.xDestroy = disconnect;
  m.xOpen = open_cursor;
  m.xClose = close_cursor;
  m.xFilter = filter;
  m.xNext = next;
  m.xEof = eof;
  m.xColumn = column;
  m.xRowid = rowid;
  return m;
}

const sqlite3_module kModule = make_module();

// The same rows, one per tag of their leads (a lead without tags has none).
sqlite3_module make_tags_module() {
  sqlite3_module m = make_module();
  m.xConnect = connect<kTagRowsSchema>;
  m.xFilter = filter_tags;
  m.xNext = next_tag;
  m.xColumn = tag_column;
  return m;
}

const sqlite3_module kTagsModule = make_tags_module();

void register_module(sqlite3* db, const char* name, const sqlite3_module& module, const LeadRowsSource& source) {
  const int rc = sqlite3_create_module_v2(db, name, &module, const_cast<LeadRowsSource*>(&source), nullptr);
  if (rc != SQLITE_OK)
    throw StorageError(fmt::format("cannot register the virtual table {}: {}", name, sqlite3_errstr(rc)));
}

}  // namespace

void bind_lead_row(SQLite::Statement& s, const LeadRow& row) {
  for (int c = 0; c < kLeadColumnCount; ++c) lead_value(row, c, Binder{s, c + 1});
}

void register_lead_rows(sqlite3* db, const LeadRowsSource& source) {
  register_module(db, "gymdash_lead_rows", kModule, source);
  register_module(db, "gymdash_lead_tag_rows", kTagsModule, source);
}

}  // namespace gymdash::sqlite_store
