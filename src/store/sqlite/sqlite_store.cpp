// The SQLite backend: one database file in WAL mode, one connection guarded by
// a recursive mutex, prepared statements cached per SQL text.
//
// Error boundary: every public entry point runs its body through
// SqliteStore::run(), the one place where an SQLite::Exception becomes a
// StorageError carrying SQLite's text. Constraint failures that mean
// "duplicate" or "missing gym" are explained before that, right where the
// failing statement ran, by asking the database which rule was broken.

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <gymdash/error.hpp>
#include <gymdash/store.hpp>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/columns.hpp"
#include "store/dial_order.hpp"
#include "store/sqlite/bulk_lock.hpp"
#include "store/sqlite/checkpointer.hpp"
#include "store/sqlite/dial_sql.hpp"
#include "store/sqlite/lead_row.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/number_index.hpp"
#include "store/sqlite/sqlite_analytics.hpp"
#include "store/sqlite/sqlite_campaigns.hpp"
#include "store/sqlite/statement_use.hpp"
#include "store/sqlite/wal_vfs.hpp"

namespace gymdash {
namespace {

using sqlite_store::kApplicationId;
using sqlite_store::latest_schema_version;

// ---------------------------------------------------------------------------
// Value encodings
// ---------------------------------------------------------------------------

// The stored names of enums and the JSON of list-valued columns are the file
// format, shared with the PostgreSQL backend (store/columns.hpp).
using namespace store_columns;

bool is_constraint(const SQLite::Exception& e) {
  return (e.getErrorCode() & 0xff) == SQLITE_CONSTRAINT;
}

// ---------------------------------------------------------------------------
// SQL
// ---------------------------------------------------------------------------

constexpr std::string_view kInsertLead =
    "INSERT INTO leads (" GYMDASH_LEAD_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, "
    "?37, ?38, ?39, ?40, ?41, ?42)";
constexpr std::string_view kInsertLeadIfAbsent =
    "INSERT INTO leads (" GYMDASH_LEAD_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, "
    "?37, ?38, ?39, ?40, ?41, ?42) ON CONFLICT (gym_id, phone) DO NOTHING";
constexpr std::string_view kInsertTag =
    "INSERT OR IGNORE INTO lead_tags (lead_id, gym_id, tag) VALUES (?1, ?2, ?3)";
// A piece of a bulk load (SqliteLeads::insert_piece): the rows lent to the
// virtual table gymdash_lead_rows (store/sqlite/lead_row.hpp), in order.
constexpr std::string_view kInsertLeadRows =
    "INSERT INTO leads (" GYMDASH_LEAD_COLUMNS ") SELECT " GYMDASH_LEAD_COLUMNS " FROM gymdash_lead_rows";
// Their tag rows, from the same rows (gymdash_lead_tag_rows): what the
// trigger leads_tags_update makes of the tags column, without reading the
// new rows back and parsing their JSON.
constexpr std::string_view kInsertTagRows =
    "INSERT OR IGNORE INTO lead_tags (lead_id, gym_id, tag) SELECT lead_id, gym_id, tag FROM gymdash_lead_tag_rows";
constexpr std::string_view kLargestLeadRowid = "SELECT max(rowid) FROM leads";
// The tag rows of the leads at rowids ?1 … ?2, from their tags column (as
// the trigger leads_tags_update makes them on an update): one statement for
// a piece of an import instead of one a tag (insert_many_if_absent).
constexpr std::string_view kInsertTagsOfRows =
    "INSERT OR IGNORE INTO lead_tags (lead_id, gym_id, tag) "
    "SELECT l.id, l.gym_id, t.value FROM leads l, json_each(l.tags) t WHERE l.rowid BETWEEN ?1 AND ?2";
constexpr std::string_view kInsertZone =
    "INSERT OR IGNORE INTO lead_zones (gym_id, local_zone, local_state) VALUES (?1, ?2, ?3)";
// What an update writes: every column but the id, the gym and the active call.
#define GYMDASH_UPDATE_LEAD_SET \
    "UPDATE leads SET external_id = ?3, phone = ?4, first_name = ?5, last_name = ?6, email = ?7, " \
    "source = ?8, interest = ?9, timeline = ?10, notes = ?11, tags = ?12, consent_given = ?13, " \
    "consent_at = ?14, consent_method = ?15, consent_source = ?16, do_not_call = ?17, " \
    "phone_invalid = ?18, status = ?19, qualification = ?20, qualification_manual = ?21, " \
    "score = ?22, attempts = ?23, last_call_at = ?24, next_call_at = ?25, timezone = ?26, " \
    "custom_fields = ?27, created_at = ?28, updated_at = ?29, version = ?30, callback_at = ?31, " \
    "blocked_until = ?32, recent_calls = ?33, last_outcome = ?34, sentiment = ?35, connects = ?36, " \
    "local_zone = ?38, local_state = ?39, dnc_listed = ?40, base_status = ?41, " \
    "base_status_at = ?42 "
// (?37, the active call, is bound but not written: only set_active_call
// takes or releases a lead's call claim.)
constexpr std::string_view kUpdateLead =
    GYMDASH_UPDATE_LEAD_SET "WHERE id = ?1 AND gym_id = ?2 AND version = ?43";
// The same at the rowid the number index gives the lead's number: during a
// bulk load, the update of a lead that keeps its number (every merge of an
// import) finds the row without a lookup of its id, and without reading its
// stored number first (update()).
constexpr std::string_view kUpdateLeadAt =
    GYMDASH_UPDATE_LEAD_SET "WHERE rowid = ?44 AND id = ?1 AND gym_id = ?2 AND version = ?43";
#undef GYMDASH_UPDATE_LEAD_SET
// What calls change (LeadRepository::update_call_state): the indexes on the
// lead's other columns (phone, external id, created_at, zone) are left alone.
constexpr std::string_view kUpdateLeadCallState =
    "UPDATE leads SET do_not_call = ?3, phone_invalid = ?4, status = ?5, qualification = ?6, score = ?7, "
    "attempts = ?8, last_call_at = ?9, updated_at = ?10, version = ?11, callback_at = ?12, blocked_until = ?13, "
    "recent_calls = ?14, last_outcome = ?15, sentiment = ?16, connects = ?17, next_call_at = ?19 "
    "WHERE id = ?1 AND gym_id = ?2 AND version = ?18";
// The copies of a lead's analytics facts in its campaign enrolments (schema
// v7), after the lead's row changed. A read of campaign_leads_lead first:
// most leads are in no campaign, and the call ingest writes a call result
// and a lead per call, so it pays a read probe rather than a write
// statement that finds nothing.
constexpr std::string_view kHasEnrolments = "SELECT 1 FROM campaign_leads WHERE lead_id = ?1 LIMIT 1";
constexpr std::string_view kSyncEnrolments =
    "UPDATE campaign_leads SET lead_created_at = ?2, lead_source = ?3, lead_status = ?4, "
    "lead_qualification = ?5, lead_connects = ?6 WHERE lead_id = ?1";
constexpr std::string_view kSyncEnrolmentsCallState =
    "UPDATE campaign_leads SET lead_status = ?2, lead_qualification = ?3, lead_connects = ?4 WHERE lead_id = ?1";
constexpr std::string_view kSyncEnrolmentsFirstCall =
    "UPDATE campaign_leads SET lead_first_call_at = "
    "(SELECT MIN(started_at) FROM call_results WHERE call_results.lead_id = ?1) WHERE lead_id = ?1";
// The call claim, compare-and-set (LeadRepository::set_active_call); the
// only statement that writes active_call_id after the insert.
constexpr std::string_view kSetActiveCall =
    "UPDATE leads SET active_call_id = ?4 WHERE id = ?2 AND gym_id = ?1 AND active_call_id = ?3";
constexpr std::string_view kFindLead =
    "SELECT " GYMDASH_LEAD_COLUMNS " FROM leads WHERE id = ?1 AND gym_id = ?2";
constexpr std::string_view kFindLeadByPhone =
    "SELECT " GYMDASH_LEAD_COLUMNS " FROM leads WHERE gym_id = ?1 AND phone = ?2";
// No ORDER BY: with one, SQLite prefers walking leads_gym_created in order
// (a scan of the gym's leads) to the equality lookup in leads_gym_external.
// The few rows that share an external id are compared in C++.
constexpr std::string_view kFindLeadByExternalId =
    "SELECT " GYMDASH_LEAD_COLUMNS " FROM leads WHERE gym_id = ?1 AND external_id = ?2";
constexpr std::string_view kLeadVersion = "SELECT version FROM leads WHERE id = ?1 AND gym_id = ?2";
constexpr std::string_view kLeadIdExists = "SELECT 1 FROM leads WHERE id = ?1";
constexpr std::string_view kLeadWithPhone =
    "SELECT id FROM leads WHERE gym_id = ?1 AND phone = ?2 AND id <> ?3";
constexpr std::string_view kDeleteLead = "DELETE FROM leads WHERE id = ?1 AND gym_id = ?2";
constexpr std::string_view kAppendHistory =
    "INSERT INTO lead_history (lead_id, gym_id, at, kind, from_value, to_value, actor, reason) "
    "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 "
    "WHERE EXISTS (SELECT 1 FROM leads WHERE id = ?1 AND gym_id = ?2)";
// How many leads of the gym have a tag, counting no further than kRareTag.
constexpr std::int64_t kRareTag = 10000;
constexpr std::string_view kCountTagUpTo =
    "SELECT count(*) FROM (SELECT 1 FROM lead_tags WHERE gym_id = ?1 AND tag = ?2 LIMIT 10000)";
constexpr std::string_view kHistory =
    "SELECT seq, lead_id, at, kind, from_value, to_value, actor, reason FROM lead_history "
    "WHERE lead_id = ?1 AND gym_id = ?2 ORDER BY seq";

#define GYMDASH_GYM_COLUMNS                                                            \
  "id, name, timezone, region, state, call_start_minute, call_end_minute, call_days, " \
  "caller_ids, created_at, updated_at"
constexpr std::string_view kInsertGym = "INSERT INTO gyms (" GYMDASH_GYM_COLUMNS
                                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
constexpr std::string_view kUpdateGym =
    "UPDATE gyms SET name = ?2, timezone = ?3, region = ?4, state = ?5, call_start_minute = ?6, "
    "call_end_minute = ?7, call_days = ?8, caller_ids = ?9, created_at = ?10, updated_at = ?11 "
    "WHERE id = ?1";
constexpr std::string_view kFindGym = "SELECT " GYMDASH_GYM_COLUMNS " FROM gyms WHERE id = ?1";
constexpr std::string_view kListGyms = "SELECT " GYMDASH_GYM_COLUMNS " FROM gyms ORDER BY id";
constexpr std::string_view kGymExists = "SELECT 1 FROM gyms WHERE id = ?1";

// Transaction control goes through the statement cache like everything else.
// A nested level is a savepoint, so that a failing inner transact undoes only
// its own writes; the outer transaction decides about the rest.
constexpr std::string_view kBeginImmediate = "BEGIN IMMEDIATE";
constexpr std::string_view kBeginDeferred = "BEGIN";
constexpr std::string_view kCommit = "COMMIT";
constexpr std::string_view kSavepoint = "SAVEPOINT gymdash_nested";
constexpr std::string_view kRelease = "RELEASE gymdash_nested";

// Dynamic list queries are cached per distinct SQL text; the number of shapes
// is bounded but large (tag counts), so the cache is cleared past this size.
constexpr std::size_t kMaxDynamicStatements = 64;

void bind_optional(SQLite::Statement& s, int index, const std::optional<Timestamp>& t) {
  if (t)
    s.bind(index, to_millis(*t));
  else
    s.bind(index);
}

// Binds every column of `lead` to parameters 1 … 42. The text is not copied:
// `lead` and `row` must outlive the statement's run (a bulk import binds a
// row per lead, and copying every field showed in its profile).
void bind_lead(SQLite::Statement& s, const Lead& lead, sqlite_store::LeadRow& row) {
  row = sqlite_store::encode_lead_row(lead);
  sqlite_store::bind_lead_row(s, row);
}

std::optional<Timestamp> read_optional(const SQLite::Statement& s, int index) {
  auto column = s.getColumn(index);
  if (column.isNull()) return std::nullopt;
  return from_millis(column.getInt64());
}

Lead read_lead(const SQLite::Statement& s) {
  Lead lead;
  lead.id = s.getColumn(0).getString();
  const std::string owner = "lead " + lead.id;
  lead.gym_id = s.getColumn(1).getString();
  lead.external_id = s.getColumn(2).getString();
  lead.phone = s.getColumn(3).getString();
  lead.first_name = s.getColumn(4).getString();
  lead.last_name = s.getColumn(5).getString();
  lead.email = s.getColumn(6).getString();
  lead.source = s.getColumn(7).getString();
  lead.interest = s.getColumn(8).getString();
  lead.timeline = s.getColumn(9).getString();
  lead.notes = s.getColumn(10).getString();
  lead.tags = decode_strings(s.getColumn(11).getString(), owner, "tags");
  lead.consent.given = s.getColumn(12).getInt() != 0;
  lead.consent.at = read_optional(s, 13);
  lead.consent.method = s.getColumn(14).getString();
  lead.consent.source = s.getColumn(15).getString();
  lead.do_not_call = s.getColumn(16).getInt() != 0;
  lead.phone_invalid = s.getColumn(17).getInt() != 0;
  lead.status =
      parse_stored<LeadStatus>(kStatusNames, s.getColumn(18).getString(), owner, "status");
  lead.qualification = parse_stored<Qualification>(kQualificationNames, s.getColumn(19).getString(),
                                                   owner, "qualification");
  lead.qualification_manual = s.getColumn(20).getInt() != 0;
  lead.score = s.getColumn(21).getInt();
  lead.attempts = s.getColumn(22).getInt();
  lead.last_call_at = read_optional(s, 23);
  lead.next_call_at = read_optional(s, 24);
  lead.timezone = s.getColumn(25).getString();
  lead.custom_fields = decode_fields(s.getColumn(26).getString(), owner, "custom_fields");
  lead.created_at = from_millis(s.getColumn(27).getInt64());
  lead.updated_at = from_millis(s.getColumn(28).getInt64());
  lead.version = s.getColumn(29).getInt64();
  lead.callback_at = read_optional(s, 30);
  lead.blocked_until = read_optional(s, 31);
  lead.recent_calls = decode_times(s.getColumn(32).getString(), owner);
  lead.last_outcome = s.getColumn(33).getString();
  lead.sentiment = s.getColumn(34).getString();
  lead.connects = s.getColumn(35).getInt();
  lead.active_call_id = s.getColumn(36).getString();
  lead.local_zone = s.getColumn(37).getString();
  lead.local_state = s.getColumn(38).getString();
  lead.dnc_listed = s.getColumn(39).getInt() != 0;
  lead.base_status =
      parse_stored<LeadStatus>(kStatusNames, s.getColumn(40).getString(), owner, "base_status");
  lead.base_status_at = from_millis(s.getColumn(41).getInt64());
  return lead;
}

void bind_gym(SQLite::Statement& s, const Gym& gym) {
  s.bind(1, gym.id);
  s.bind(2, gym.name);
  s.bind(3, gym.timezone);
  s.bind(4, gym.region);
  s.bind(5, gym.state);
  s.bind(6, gym.call_hours.start_minute);
  s.bind(7, gym.call_hours.end_minute);
  s.bind(8, static_cast<int>(gym.call_days));
  s.bind(9, encode_strings(gym.caller_ids));
  s.bind(10, to_millis(gym.created_at));
  s.bind(11, to_millis(gym.updated_at));
}

Gym read_gym(const SQLite::Statement& s) {
  Gym gym;
  gym.id = s.getColumn(0).getString();
  gym.name = s.getColumn(1).getString();
  gym.timezone = s.getColumn(2).getString();
  gym.region = s.getColumn(3).getString();
  gym.state = s.getColumn(4).getString();
  gym.call_hours.start_minute = s.getColumn(5).getInt();
  gym.call_hours.end_minute = s.getColumn(6).getInt();
  gym.call_days = static_cast<DayMask>(s.getColumn(7).getInt());
  gym.caller_ids = decode_strings(s.getColumn(8).getString(), "gym " + gym.id, "caller_ids");
  gym.created_at = from_millis(s.getColumn(9).getInt64());
  gym.updated_at = from_millis(s.getColumn(10).getInt64());
  return gym;
}

// ---------------------------------------------------------------------------
// Statement checkout
// ---------------------------------------------------------------------------

using StatementUse = sqlite_store::Use;

// Looked up by string_view on every call: no allocation per lookup. The hash
// reads the length and the two ends of the text only: statements run once
// per row of a bulk load, and hashing all of a 700-character INSERT each time
// cost more than the lookup itself. Texts that share both ends only share a
// bucket (equality still compares them whole).
struct SqlHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view sql) const noexcept {
    constexpr std::size_t kEnd = 48;
    if (sql.size() <= 2 * kEnd) return std::hash<std::string_view>{}(sql);
    const std::size_t head = std::hash<std::string_view>{}(sql.substr(0, kEnd));
    const std::size_t tail = std::hash<std::string_view>{}(sql.substr(sql.size() - kEnd));
    return head ^ (tail * 0x9e3779b97f4a7c15ULL) ^ (sql.size() << 1);
  }
};
using StatementCache =
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>, SqlHash, std::equal_to<>>;

// ---------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------

class SqliteStore;

class SqliteGyms final : public GymRepository {
 public:
  explicit SqliteGyms(SqliteStore& store) : store_(store) {}
  void insert(const Gym& gym) override;
  std::optional<Gym> find(std::string_view gym_id) override;
  std::vector<Gym> list() override;
  void update(const Gym& gym) override;

 private:
  SqliteStore& store_;
};

class SqliteLeads final : public LeadRepository {
 public:
  explicit SqliteLeads(SqliteStore& store) : store_(store) {}
  void insert(const Lead& lead) override;
  bool insert_if_absent(const Lead& lead) override;
  std::vector<bool> insert_many_if_absent(std::span<const Lead> leads) override;
  // The rows that follow a new lead: its tags (unless `tags` is false) and its calling-window group.
  void insert_derived(const Lead& lead, bool tags = true);
  void insert_tags(const Lead& lead);
  std::optional<Lead> find(std::string_view gym_id, std::string_view lead_id) override;
  std::optional<Lead> find_by_phone(std::string_view gym_id, std::string_view e164) override;
  std::optional<Lead> find_by_external_id(std::string_view gym_id, std::string_view external_id) override;
  void update(const Lead& lead) override;
  void update_call_state(const Lead& lead) override;
  bool set_active_call(std::string_view gym_id, std::string_view lead_id, std::string_view expected,
                       std::string_view next) override;
  bool remove(std::string_view gym_id, std::string_view lead_id) override;
  std::optional<ErasedLeadRows> remove_counted(std::string_view gym_id, std::string_view lead_id) override;
  std::int64_t append_erasure(const LeadErasure& erasure) override;
  std::vector<LeadErasure> erasures(std::string_view gym_id, int limit, int offset) override;
  LeadPage list(std::string_view gym_id, const LeadFilter& filter) override;
  std::int64_t append_history(std::string_view gym_id, const LeadEvent& event) override;
  std::vector<LeadEvent> history(std::string_view gym_id, std::string_view lead_id) override;
  std::vector<Lead> dial_candidates(std::string_view gym_id, const DialQuery& query) override;
  std::vector<std::pair<std::string, std::string>> dial_groups(std::string_view gym_id) override;
  DueCounts count_due(std::string_view gym_id, Timestamp now, int max_attempts, Timestamp last_call_before) override;
  std::vector<Lead> callbacks_due_since(std::string_view gym_id, Timestamp after, Timestamp now, int max_attempts,
                                        int limit) override;
  std::vector<Lead> dial_candidates_in(std::string_view gym_id, const DialQuery& query,
                                       const std::vector<std::pair<std::string, std::string>>& groups) override;
  std::vector<Lead> find_by_phone_any_gym(std::string_view e164) override;
  void put_call_result(std::string_view gym_id, std::string_view lead_id, const CallResult& result) override;
  std::vector<CallResult> call_results(std::string_view gym_id, std::string_view lead_id) override;

 private:
  // A list query: FROM … WHERE … and the values of its numbered parameters.
  struct ListQuery {
    std::string from_where;
    std::vector<std::string> texts;     // ?2, ?3 …
    std::vector<std::int64_t> numbers;  // after the texts
  };
  ListQuery plan_list(std::string_view gym_id, const std::vector<std::string>& statuses,
                      const std::vector<std::string>& qualifications,
                      const std::vector<std::string>& tags, const LeadFilter& filter);
  // Throws the error that explains why writing `lead` broke a constraint, or
  // returns if none applies (the caller then rethrows SQLite's error).
  void explain_conflict(const Lead& lead, bool inserting);
  // Whether the lead is enrolled in any campaign (kHasEnrolments).
  bool has_enrolments(std::string_view lead_id);
  // During a bulk load that has the number index dropped (SqliteStore::numbers()):
  // the lead at `rowid` if it belongs to `gym_id`, and the id of that lead.
  std::optional<Lead> find_by_rowid(std::int64_t rowid, std::string_view gym_id);
  std::string id_at(std::int64_t rowid);
  // insert_if_absent() inside run() and a transaction; the rowid of the new
  // row, or 0 when the gym has the number already.
  std::int64_t insert_row_if_absent(const Lead& lead, bool tags);
  // insert_many_if_absent() during this store's bulk load: the new leads in
  // one statement (kInsertLeadRows). Nullopt, with nothing written, when
  // that statement fails on a constraint or cannot number the rows in order.
  std::optional<std::vector<bool>> insert_piece(std::span<const Lead> leads, sqlite_store::NumberIndex& numbers);
  // Throws the bulk guard's ConflictError when another connection's bulk
  // load has the number index dropped (kInsertLeadIfAbsent needs it).
  void guard_number_index(std::string_view lead_id);
  // The (rowid, number) of a stored lead, if there is one.
  std::optional<std::pair<std::int64_t, std::string>> stored_number(std::string_view gym_id, std::string_view lead_id);
  // kDeleteLead, keeping the number index current; whether a row went.
  bool delete_lead(std::string_view gym_id, std::string_view lead_id);

  SqliteStore& store_;
};

class SqliteDnc final : public DncRepository {
 public:
  explicit SqliteDnc(SqliteStore& store) : store_(store) {}
  bool add(const DncEntry& entry) override;
  bool remove(std::string_view scope, std::string_view e164) override;
  std::optional<DncEntry> find(std::string_view scope, std::string_view e164) override;
  std::vector<DncEntry> list(std::string_view scope, int limit, int offset) override;
  std::int64_t count(std::string_view scope) override;

 private:
  SqliteStore& store_;
};

class SqliteCalls final : public CallRepository {
 public:
  explicit SqliteCalls(SqliteStore& store) : store_(store) {}
  bool record_event(std::string_view gym_id, std::string_view event_id, std::string_view call_id,
                    Timestamp received_at) override;
  bool has_event(std::string_view gym_id, std::string_view event_id) override;
  void put(const Call& call) override;
  std::optional<Call> find(std::string_view gym_id, std::string_view call_id) override;
  std::optional<Call> find_by_provider_id(std::string_view gym_id, std::string_view provider_call_id) override;
  CallPage list(std::string_view gym_id, const CallFilter& filter) override;
  std::vector<Call> for_lead(std::string_view gym_id, std::string_view lead_id) override;
  ErasedCalls remove_for_lead(std::string_view gym_id, std::string_view lead_id) override;
  std::int64_t purge_recordings(std::string_view gym_id, Timestamp cutoff, Timestamp now) override;
  std::int64_t purge_lead_recordings(std::string_view gym_id, std::string_view lead_id, Timestamp now) override;
  std::vector<Call> open_calls(Timestamp started_before, int limit) override;

 private:
  SqliteStore& store_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const SqliteOptions& options);

  std::string_view backend() const override { return "sqlite"; }
  bool serializes_writers() const override { return true; }  // BEGIN IMMEDIATE
  int schema_version() const override { return schema_version_; }
  GymRepository& gyms() override { return gyms_; }
  LeadRepository& leads() override { return leads_; }
  DncRepository& dnc() override { return dnc_; }
  CallRepository& calls() override { return calls_; }
  AnalyticsRepository& analytics() override;  // analytics: in sqlite_analytics.cpp
  CampaignRepository& campaigns() override;   // campaigns: in sqlite_campaigns.cpp
  void begin_bulk_load(std::int64_t expected_new_rows, BulkLoad what) override;
  void end_bulk_load() override;
  void transact(const std::function<void()>& fn) override;
  void transact_joined(const std::function<void()>& fn) override;

  /**
   * Runs `body` holding the connection; the error boundary of the backend.
   * `kind` and `id` name the object in a StorageError ("lead", "ld_…").
   */
  template <class Body>
  decltype(auto) run(std::string_view kind, std::string_view id, Body&& body) {
    std::lock_guard lock(mutex_);
    try {
      return body();
    } catch (const SQLite::Exception& e) {
      throw StorageError(
          fmt::format("sqlite:{}: {}{}{}: {}", path_, kind, id.empty() ? "" : " ", id, e.what()));
    }
  }

  /**
   * Runs `body` as one atomic unit: its own transaction, or a savepoint when
   * one is already open. `read_only` bodies take a deferred (shared) lock.
   * Call inside run().
   */
  template <class Body>
  decltype(auto) atomically(Body&& body, bool read_only = false) {
    Level level(*this, read_only);
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      level.commit();
    } else {
      auto result = body();
      level.commit();
      return result;
    }
  }

  /**
   * Runs `body` in its own transaction when none is open; inside a caller's
   * transaction it runs as is, and a failure is undone when that transaction
   * rolls back (transact() always does when its function throws). This is
   * the bulk path: a savepoint per row would copy every page it touches.
   */
  template <class Body>
  decltype(auto) within_transaction(Body&& body) {
    if (depth_ > 0) return body();
    return atomically(std::forward<Body>(body));
  }

  /**
   * Whether the open transaction has written the calling-window group row
   * (lead_zones) already (zone_stored() tells it so). Always false outside
   * a transaction. A bulk import writes the same few groups for every lead;
   * this spares it an INSERT per lead. Groups are never deleted, and what is
   * remembered is forgotten when a transaction starts or rolls back. Call
   * under the store's lock.
   */
  bool zone_written(std::string_view gym_id, std::string_view zone, std::string_view state) const {
    if (depth_ == 0) return false;
    for (const auto& z : zones_written_)
      if (z[0] == gym_id && z[1] == zone && z[2] == state) return true;
    return false;
  }
  void zone_stored(std::string_view gym_id, std::string_view zone, std::string_view state) {
    if (depth_ > 0 && zones_written_.size() < kMaxZonesWritten)
      zones_written_.push_back({std::string(gym_id), std::string(zone), std::string(state)});
  }

  /**
   * The leads' numbers in memory while this store's lead bulk load has the
   * unique index leads_gym_phone dropped (begin_bulk_load), else null. Lead
   * writes that add a number check it and keep it up to date; lookups by
   * number use it. Call under the store's lock.
   */
  sqlite_store::NumberIndex* numbers() { return numbers_.get(); }

  /** What the virtual table gymdash_lead_rows reads (call under the store's lock). */
  sqlite_store::LeadRowsSource& lead_rows() { return lead_rows_; }

  /** Rowid of the last row this connection inserted (call under the store's lock). */
  std::int64_t last_insert_rowid() const { return db_->getLastInsertRowid(); }

  /** The cached statement for `sql`, reset and with its bindings cleared. */
  StatementUse statement(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end())
      it = statements_
               .emplace(std::string(sql),
                        std::make_unique<SQLite::Statement>(*db_, std::string(sql)))
               .first;
    return checkout(*it->second);
  }

  /** Like statement() for the list query, whose text depends on the filter. */
  StatementUse dynamic_statement(const std::string& sql) {
    auto it = dynamic_statements_.find(sql);
    if (it == dynamic_statements_.end())
      it = dynamic_statements_.emplace(sql, std::make_unique<SQLite::Statement>(*db_, sql)).first;
    return checkout(*it->second);
  }

  /** Drops cached list queries if there are too many; call when none is lent out. */
  void trim_dynamic_statements() {
    if (dynamic_statements_.size() >= kMaxDynamicStatements) dynamic_statements_.clear();
  }

 private:
  // One level of transaction; rolls back in its destructor unless committed,
  // and never throws there.
  class Level {
   public:
    Level(SqliteStore& store, bool read_only)
        : store_(store), numbers_mark_(store.numbers_ ? store.numbers_->mark() : 0) {
      if (store_.depth_ == 0) {
        store_.zones_written_.clear();
        store_.statement(read_only ? kBeginDeferred : kBeginImmediate)->exec();
      }
      else
        store_.statement(kSavepoint)->exec();
      ++store_.depth_;
    }
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;
    void commit() {
      store_.statement(store_.depth_ == 1 ? kCommit : kRelease)->exec();
      --store_.depth_;
      committed_ = true;
      if (store_.depth_ == 0 && store_.numbers_) store_.numbers_->forget();
    }
    ~Level() {
      if (committed_) return;
      --store_.depth_;
      store_.zones_written_.clear();
      if (store_.numbers_) store_.numbers_->undo_to(numbers_mark_);
      // A failed statement may already have ended the transaction (I/O
      // error, full disk); then these fail too, which is fine.
      if (store_.depth_ == 0) {
        store_.db_->tryExec("ROLLBACK");
      } else {
        store_.db_->tryExec("ROLLBACK TO gymdash_nested");
        store_.db_->tryExec("RELEASE gymdash_nested");
      }
    }

   private:
    SqliteStore& store_;
    std::size_t numbers_mark_;  // the number index's changes made before this level
    bool committed_ = false;
  };

  static StatementUse checkout(SQLite::Statement& s) {
    s.reset();
    s.clearBindings();
    return StatementUse(s);
  }

  struct Header {
    std::int64_t application_id = 0;
    int user_version = 0;
    std::int64_t objects = 0;  // rows of sqlite_schema (0 when only the bytes were read)
  };
  static Header read_header(SQLite::Database& db);
  void check_header(const Header& header) const;
  void probe_file() const;
  void migrate();
  void rebuild_dropped_indexes();
  // begin_bulk_load() of the first of the store's loads at once.
  void start_bulk_load(std::int64_t expected_new_rows, BulkLoad what);

  std::string path_;
  std::recursive_mutex mutex_;
  // Declared before the statements so that they are finalized first.
  sqlite_store::LeadRowsSource lead_rows_;  // before db_: the connection's virtual table reads it
  std::unique_ptr<SQLite::Database> db_;
  StatementCache statements_;
  StatementCache dynamic_statements_;
  int depth_ = 0;  // open transaction levels; guarded by mutex_
  // The thread of a lead bulk load (begin_bulk_load … end_bulk_load), whose
  // transactions run without foreign-key checks (transact()); guarded by mutex_.
  std::thread::id bulk_leads_thread_;
  // The store's bulk loads under way (begin_bulk_load … end_bulk_load); guarded by mutex_.
  int bulk_loads_ = 0;
  // Held while this store's bulk load has indexes dropped (bulk_lock.hpp); guarded by mutex_.
  sqlite_store::BulkLock bulk_lock_;
  // numbers(): set while this store's lead bulk load has leads_gym_phone dropped; guarded by mutex_.
  std::unique_ptr<sqlite_store::NumberIndex> numbers_;
  // zone_written(): the groups written in the open transaction; guarded by mutex_.
  static constexpr std::size_t kMaxZonesWritten = 64;
  std::vector<std::array<std::string, 3>> zones_written_;
  int schema_version_ = 0;
  SqliteDnc dnc_{*this};
  SqliteGyms gyms_{*this};
  SqliteLeads leads_{*this};
  SqliteCalls calls_{*this};
  // WAL checkpoints on a thread of their own; stopped before the connection closes.
  std::unique_ptr<sqlite_store::Checkpointer> checkpointer_;
  // analytics: made on first use; destroyed before the connection.
  std::once_flag analytics_once_;
  std::unique_ptr<sqlite_store::Connection> analytics_connection_;
  std::unique_ptr<AnalyticsRepository> analytics_;
  // campaigns: the same, over a connection of their own.
  std::once_flag campaigns_once_;
  std::unique_ptr<sqlite_store::Connection> campaigns_connection_;
  std::unique_ptr<CampaignRepository> campaigns_;
};

// The analytics repository's view of the store (store/sqlite/sqlite_analytics.hpp).
class SqliteAnalyticsConnection final : public sqlite_store::Connection {
 public:
  explicit SqliteAnalyticsConnection(SqliteStore& store) : store_(store) {}
  void run(std::string_view what, const std::function<void()>& body) override { store_.run(what, "", body); }
  void within_transaction(const std::function<void()>& body) override { store_.within_transaction(body); }
  SQLite::Statement& statement(std::string_view sql) override {
    auto use = store_.statement(sql);
    return *use;  // reset again by the guard here; the repository resets it after use
  }

 private:
  SqliteStore& store_;
};

AnalyticsRepository& SqliteStore::analytics() {
  std::call_once(analytics_once_, [this] {
    analytics_connection_ = std::make_unique<SqliteAnalyticsConnection>(*this);
    analytics_ = sqlite_store::make_sqlite_analytics(*analytics_connection_);
  });
  return *analytics_;
}

CampaignRepository& SqliteStore::campaigns() {
  std::call_once(campaigns_once_, [this] {
    campaigns_connection_ = std::make_unique<SqliteAnalyticsConnection>(*this);
    campaigns_ = sqlite_store::make_sqlite_campaigns(*campaigns_connection_);
  });
  return *campaigns_;
}

// The page cache of the store's connection outside bulk loads (see the constructor).
constexpr const char* kCacheSize = "PRAGMA cache_size = -8192";
// The page cache of a lead import (begin_bulk_load). 64 MiB while the
// unique number index took random inserts (16.8–16.9 s against 18.2 s with
// 32 MiB); since that index waits for the end of the load too (NumberIndex),
// what the inserts touch is the ends of the tables, and 16 MiB imports the
// million rows as fast (32 MiB too) — the memory went to the number index.
constexpr const char* kBulkCacheSize = "PRAGMA cache_size = -16384";
// An index rebuild: each CREATE INDEX sorts the table's keys in pieces of
// the page cache's size, on this thread and two helper threads (SQLite's
// sorter workers). Small pieces that the processor's caches hold, sorted on
// both cores: the seven indexes of a million-lead import built in 4.1–4.4 s,
// against 7.1–7.4 s with the 32 MiB cache and no helpers (docs/import.md).
constexpr const char* kRebuildCacheSize = "PRAGMA cache_size = -4096";
constexpr const char* kSorterThreads = "PRAGMA threads = 2";

SqliteStore::SqliteStore(const SqliteOptions& options) : path_(options.path) {
  if (path_.empty())
    throw InvalidArgumentError("path: the SQLite database needs a file name", "path");
  try {
    probe_file();
    int flags = SQLite::OPEN_READWRITE | (options.create ? SQLite::OPEN_CREATE : 0);
    // The log's frames in few large writes (store/sqlite/wal_vfs.hpp).
    db_ = std::make_unique<SQLite::Database>(path_.c_str(), flags, std::max(options.busy_timeout_ms, 0),
                                             sqlite_store::coalescing_wal_vfs());
    db_->exec("PRAGMA foreign_keys = ON");
    sqlite_store::register_rollup_functions(db_->getHandle());
    sqlite_store::register_lead_rows(db_->getHandle(), lead_rows_);
    // Before anything prepares a write to leads: the guard triggers of a
    // bulk load (kBulkGuard) call it. Innocuous (it reads one flag), so that
    // triggers may call it even where the schema is not trusted (PRAGMA
    // trusted_schema = OFF).
    const int rc = sqlite3_create_function_v2(
        db_->getHandle(), "gymdash_bulk_loader", 0, SQLITE_UTF8 | SQLITE_INNOCUOUS, this,
        [](sqlite3_context* ctx, int, sqlite3_value**) {
          const auto* store = static_cast<const SqliteStore*>(sqlite3_user_data(ctx));
          sqlite3_result_int(ctx, store->numbers_ ? 1 : 0);
        },
        nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
      throw StorageError(fmt::format("sqlite:{}: cannot register gymdash_bulk_loader: {}", path_, sqlite3_errstr(rc)),
                         "path");
    // Again on this connection: another process may have migrated since the
    // probe, and nothing below may write to a file we refuse.
    check_header(read_header(*db_));
    bool wal_mode = false;
    {
      SQLite::Statement wal(*db_, "PRAGMA journal_mode = WAL");
      wal_mode = wal.executeStep() && wal.getColumn(0).getString() == "wal";
    }
    db_->exec("PRAGMA synchronous = NORMAL");
    // Statement journals (each lead write inside a transaction needs one, for
    // its trigger) and sorts stay in memory: in a bulk import in one
    // transaction, temp files made inserts about 1.8 times slower.
    db_->exec("PRAGMA temp_store = MEMORY");
    // 8 MiB of page cache, not more: every commit walks the cache's page table
    // (SQLite's pcache1 truncation at the end of a transaction), so a larger
    // cache makes each small transaction slower — one call event through the
    // C ABI cost 333 µs of CPU (p50; p99 993 µs) with 32 MiB, 266 µs (p99
    // 674 µs) with 8 MiB — while the reads it saves come from the operating
    // system's cache anyway (prioritization measured the same with both).
    // Bulk loads, which commit rarely, raise it (begin_bulk_load).
    db_->exec(kCacheSize);
    // When a writer starts the WAL over, a file grown past 64 MiB (a bulk
    // load's transactions) is cut back to it; below that, its blocks are
    // reused instead of allocated again.
    db_->exec("PRAGMA journal_size_limit = 67108864");
    migrate();
    // A bulk load that crashed left indexes to build again; one still
    // running (in another process, or another store of this one) holds its
    // lock and builds them itself when it ends. Without a lock file to ask
    // (a read-only directory), they are built. Asked only when a load left
    // indexes listed: an ordinary open makes no lock file.
    if (db_->execAndGet("SELECT EXISTS (SELECT 1 FROM bulk_dropped_indexes)").getInt() != 0) {
      sqlite_store::BulkLock opening;
      if (opening.try_lock(path_) != sqlite_store::BulkLock::Result::Held) rebuild_dropped_indexes();
    }
    if (wal_mode)
      checkpointer_ = std::make_unique<sqlite_store::Checkpointer>(db_->getHandle(), path_,
                                                                   std::max(options.busy_timeout_ms, 0), mutex_);
  } catch (const SQLite::Exception& e) {
    throw StorageError(fmt::format("sqlite:{}: cannot open: {}", path_, e.what()), "path");
  }
}

SqliteStore::Header SqliteStore::read_header(SQLite::Database& db) {
  Header header;
  header.application_id = db.execAndGet("PRAGMA application_id").getInt64();
  header.user_version = db.execAndGet("PRAGMA user_version").getInt();
  header.objects = db.execAndGet("SELECT count(*) FROM sqlite_schema").getInt64();
  return header;
}

void SqliteStore::check_header(const Header& header) const {
  if (header.application_id != 0 && header.application_id != kApplicationId)
    throw StorageError(fmt::format("sqlite:{}: not a gymdash database (application_id {:#x})",
                                   path_, header.application_id),
                       "path");
  if (header.user_version > latest_schema_version())
    throw StorageError(
        fmt::format("sqlite:{}: database schema version {} is newer than this library "
                    "supports ({}); upgrade gymdash",
                    path_, header.user_version, latest_schema_version()),
        "path");
  if (header.application_id == 0 && (header.user_version != 0 || header.objects != 0))
    throw StorageError(
        fmt::format("sqlite:{}: not a gymdash database (it holds tables of another application)",
                    path_),
        "path");
}

// Reads an existing file's header straight from its bytes before SQLite
// opens it: a file we refuse must come out exactly as it was, and even a
// read-only connection would leave -wal/-shm files beside a WAL database
// (and a read-write one could checkpoint a leftover WAL into it on close).
// The read-write connection checks again, WAL content included.
void SqliteStore::probe_file() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;  // missing, or unreadable: opening it will say why
  std::array<unsigned char, 100> bytes{};
  in.read(reinterpret_cast<char*>(bytes.data()), bytes.size());
  const auto size = in.gcount();
  if (size == 0) return;  // an empty file is an empty database to SQLite
  constexpr std::string_view kMagic{"SQLite format 3\0", 16};
  if (size < static_cast<std::streamsize>(bytes.size()) ||
      !std::equal(kMagic.begin(), kMagic.end(), bytes.begin()))
    throw StorageError(fmt::format("sqlite:{}: not an SQLite database", path_), "path");
  auto be32 = [&](std::size_t offset) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | bytes[offset + i];
    return static_cast<std::int32_t>(v);
  };
  Header header;
  header.user_version = be32(60);
  header.application_id = be32(68);
  check_header(header);
}

void SqliteStore::migrate() {
  int current = read_header(*db_).user_version;
  for (const auto& migration : sqlite_store::migrations()) {
    if (migration.version <= current) continue;
    Level level(*this, false);
    // Re-read under the write lock: another process may have got here first.
    Header header = read_header(*db_);
    check_header(header);
    if (header.user_version < migration.version) {
      db_->exec(std::string(migration.sql));
      db_->exec(fmt::format("PRAGMA user_version = {}", migration.version));
      if (header.application_id == 0)
        db_->exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
      current = migration.version;
    } else {
      current = header.user_version;
    }
    level.commit();
  }
  schema_version_ = current;
}

// While a lead bulk load has leads_gym_phone dropped, the store that runs it
// checks new numbers against its NumberIndex, and no other connection may
// add a lead or change a number (which the index would have checked).
// Another gymdash connection adds leads only with an INSERT whose ON CONFLICT
// names that index, which cannot run without it (SqliteLeads::insert); this
// trigger refuses its number changes: gymdash_bulk_loader() is 1 only on the
// loading connection, 0 on other gymdash connections, and unknown (so the
// statement cannot even be prepared) on any other program's. Dropped when
// the index is built again (rebuild_dropped_indexes, also on the next open
// after a crash). No trigger on INSERT: one made every row of a million-lead
// import pay for it (12.7–12.8 s with it, 11.7–12.0 s without).
constexpr const char* kBulkGuardMessage =
    "a bulk import is loading leads into this database: new leads and changed numbers wait until it ends";
// {0}: kBulkGuardMessage.
constexpr const char* kBulkGuard = R"sql(
CREATE TRIGGER IF NOT EXISTS leads_bulk_guard_number BEFORE UPDATE OF gym_id, phone ON leads
  WHEN (NEW.phone IS NOT OLD.phone OR NEW.gym_id IS NOT OLD.gym_id) AND gymdash_bulk_loader() = 0
BEGIN
  SELECT RAISE(ABORT, '{0}');
END;
)sql";
// (leads_bulk_guard_insert: left by a load of an earlier version that crashed.)
constexpr const char* kDropBulkGuard =
    "DROP TRIGGER IF EXISTS leads_bulk_guard_insert; DROP TRIGGER IF EXISTS leads_bulk_guard_number;";

// A bulk load below this size, or below half of what the table holds, keeps
// its indexes: rebuilding them would cost more than inserting at random.
constexpr std::int64_t kBulkLoadMinRows = 50000;

void SqliteStore::begin_bulk_load(std::int64_t expected_new_rows, BulkLoad what) {
  run("bulk load", "", [&] {
    if (what == BulkLoad::Leads && bulk_leads_thread_ == std::thread::id{})
      bulk_leads_thread_ = std::this_thread::get_id();
    // Loads of one store at once (two imports, an import and an ingest)
    // share the first one's settings and dropped indexes (and its number
    // index, which every lead write of the store keeps up to date) until
    // the last one ends.
    if (bulk_loads_++ > 0) return;
    try {
      start_bulk_load(expected_new_rows, what);
    } catch (...) {
      --bulk_loads_;
      if (bulk_leads_thread_ == std::this_thread::get_id()) bulk_leads_thread_ = {};
      throw;
    }
  });
}

void SqliteStore::start_bulk_load(std::int64_t expected_new_rows, BulkLoad what) {
  {
    // A bulk load commits every few thousand rows: a larger cache keeps the
    // pages it writes hot. An import: 16 MiB (kBulkCacheSize). An ingest reads and
    // rewrites leads all over the table: 256 MiB instead of 32 halved its
    // system time (reads and WAL writes of evicted pages) and made the 200k
    // reference ingest 1.2 times faster. Only allocated as it fills.
    db_->exec(what == BulkLoad::CallEvents ? "PRAGMA cache_size = -262144" : kBulkCacheSize);
    if (expected_new_rows < kBulkLoadMinRows) return;
    // Large against what the database holds already: rebuilding the indexes
    // then costs less than keeping them up to date row by row.
    const auto held = what == BulkLoad::Leads
                          ? db_->execAndGet("SELECT coalesce(max(rowid), 0) FROM leads").getInt64()
                          : db_->execAndGet("SELECT count(*) FROM call_events").getInt64();
    if (expected_new_rows < held / 2) return;
    // An ingest drops (and rebuilds) lead indexes: worth it only for many
    // events per lead. Measured on 967,465 leads: 100,000 events 7,257/s
    // keeping them against 5,376/s rebuilding; 300,000 the same either way.
    if (what == BulkLoad::CallEvents &&
        expected_new_rows < db_->execAndGet("SELECT coalesce(max(rowid), 0) FROM leads").getInt64() / 3)
      return;
    // One bulk load at a time drops indexes: another one running (its lock
    // held) leaves this one to write with the indexes as they are.
    if (bulk_lock_.try_lock(path_) != sqlite_store::BulkLock::Result::Locked) return;
    std::unique_ptr<sqlite_store::NumberIndex> loaded_numbers;  // set once the drop has committed
    try {
    atomically([&] {
      std::string query = "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND ";
      if (what == BulkLoad::Leads) {
        // Every secondary index of the lead tables, the unique (gym_id,
        // phone) too: its duplicate check moves to memory (NumberIndex)
        // until it is built again. (Measured: keeping the indexes new rows
        // only append to made the load slower than building them again.)
        // Kept: the partial indexes of leads with a callback or a call
        // behind them, which no new lead enters (each rebuild would be a
        // scan of the whole table for the few merged leads in them).
        query += "tbl_name IN ('leads', 'lead_tags') AND name NOT IN ('leads_dial_callback', 'leads_dial_retry')";
      } else {
        // The indexes an ingest updates at random and never reads: a lead's
        // dialing and status indexes (each call rewrites their entries), the
        // history's lead index, the gym's call listing and a lead's calls
        // (the ingest reads a lead's earlier calls from call_results). Kept:
        // the lookups the ingest makes (calls by provider id, leads by
        // external id).
        query +=
            "name IN ('leads_dial_callback', 'leads_dial_fresh', 'leads_dial_retry', 'leads_gym_status', "
            "'lead_history_lead', 'calls_gym_started', 'calls_lead_started')";
      }
      SQLite::Statement list(*db_, query);
      std::vector<std::pair<std::string, std::string>> indexes;
      while (list.executeStep()) indexes.emplace_back(list.getColumn(0).getString(), list.getColumn(1).getString());
      bool numbers_dropped = false;
      for (const auto& [name, sql] : indexes) {
        SQLite::Statement keep(*db_, "INSERT OR REPLACE INTO bulk_dropped_indexes (name, sql) VALUES (?1, ?2)");
        keep.bind(1, name);
        keep.bind(2, sql);
        keep.exec();
        db_->exec("DROP INDEX " + name);
        numbers_dropped = numbers_dropped || name == "leads_gym_phone";
      }
      // Only the store that dropped the number index checks numbers in
      // memory: when another connection's bulk load has it dropped already,
      // this one's new leads meet that load's guard instead.
      if (numbers_dropped) {
        db_->exec(fmt::format(kBulkGuard, kBulkGuardMessage));
        const auto held_leads = db_->execAndGet("SELECT count(*) FROM leads").getInt64();
        auto numbers = std::make_unique<sqlite_store::NumberIndex>(
            static_cast<std::size_t>(std::max<std::int64_t>(held_leads + expected_new_rows, 0)));
        SQLite::Statement all(*db_, "SELECT gym_id, phone, rowid FROM leads");
        while (all.executeStep())
          numbers->load(all.getColumn(0).getText(), all.getColumn(1).getText(), all.getColumn(2).getInt64());
        loaded_numbers = std::move(numbers);
      }
    });
    } catch (...) {
      bulk_lock_.unlock();
      throw;
    }
    numbers_ = std::move(loaded_numbers);
    // A lead import's log grows larger before it starts over
    // (checkpointer.hpp): the loading thread no longer waits for a restart
    // every 32 MB (0.38–0.60 s of a million-row import). Not a call ingest:
    // its 50,000-event transactions rewrite pages all over the database, and
    // a log let grow made the first 400,000 events of the reference set
    // slower in one run (39.4 s, 8.4 s of system time, against 37.0 s and 4.6 s).
    if (checkpointer_ && what == BulkLoad::Leads) checkpointer_->set_bulk_load(true);
    // Statements prepared against the dropped indexes must be prepared again.
    statements_.clear();
    dynamic_statements_.clear();
  }
}

void SqliteStore::end_bulk_load() {
  run("bulk load", "", [&] {
    if (bulk_leads_thread_ == std::this_thread::get_id()) bulk_leads_thread_ = {};
    if (bulk_loads_ == 0 || --bulk_loads_ > 0) return;  // without a load, or not the last one
    db_->exec(kCacheSize);  // as opened
    // Only the store that dropped indexes builds them (another one's load may be running).
    if (!bulk_lock_.locked()) return;
    try {
      rebuild_dropped_indexes();
    } catch (...) {
      if (checkpointer_) checkpointer_->set_bulk_load(false);
      throw;
    }
    if (checkpointer_) checkpointer_->set_bulk_load(false);
    bulk_lock_.unlock();
  });
}

void SqliteStore::rebuild_dropped_indexes() {
  std::vector<std::pair<std::string, std::string>> indexes;
  {
    SQLite::Statement list(*db_, "SELECT name, sql FROM bulk_dropped_indexes ORDER BY name");
    while (list.executeStep()) indexes.emplace_back(list.getColumn(0).getString(), list.getColumn(1).getString());
  }
  if (indexes.empty()) return;
  // Building an index sorts the whole table: let that sort spill to temporary
  // files instead of memory, so a million-lead import stays small. Its sorts
  // work in pieces of the cache's size, with helper threads (kRebuildCacheSize),
  // also when the next open rebuilds what a crashed bulk load dropped.
  db_->exec("PRAGMA temp_store = FILE");
  db_->exec(kRebuildCacheSize);
  db_->exec(kSorterThreads);
  const auto as_opened = [&] {
    db_->exec("PRAGMA temp_store = MEMORY");
    db_->exec("PRAGMA threads = 0");
    db_->exec(kCacheSize);
  };
  try {
    for (const auto& index : indexes) {
      // Plain references, not a structured binding: clang before 16 cannot capture bindings in a lambda.
      const std::string& name = index.first;
      const std::string& sql = index.second;
      const bool numbers = name == "leads_gym_phone";
      atomically([&] {
        try {
          db_->exec(sql);
        } catch (const SQLite::Exception& e) {
          // Cannot happen while every number went through the guard; if it
          // does, say which number is held twice instead of only failing.
          if (!numbers) throw;
          SQLite::Statement twice(*db_,
                                  "SELECT gym_id, phone FROM leads GROUP BY gym_id, phone HAVING count(*) > 1 LIMIT 1");
          if (!twice.executeStep()) throw;
          throw StorageError(fmt::format("sqlite:{}: cannot rebuild the index of lead numbers: gym {} has two "
                                         "leads with number {}; merge or delete one, then open the store again",
                                         path_, twice.getColumn(0).getString(),
                                         twice.getColumn(1).getString()),
                             "phone");
        }
        SQLite::Statement done(*db_, "DELETE FROM bulk_dropped_indexes WHERE name = ?1");
        done.bind(1, name);
        done.exec();
        // The index checks numbers again: the guard and the index in memory go.
        if (numbers) db_->exec(kDropBulkGuard);
      });
      if (numbers) numbers_.reset();
    }
  } catch (...) {
    as_opened();
    throw;
  }
  as_opened();
  statements_.clear();
  dynamic_statements_.clear();
}

void SqliteStore::transact_joined(const std::function<void()>& fn) {
  // Inside this thread's transaction the lock is held from its run() already.
  run("transaction", "", [&] { within_transaction(fn); });
}

void SqliteStore::transact(const std::function<void()>& fn) {
  // The lock is held for the whole transaction: other threads' calls wait for
  // it instead of seeing (or failing on) half of it.
  run("transaction", "", [&] {
    // A lead bulk load's own transactions skip SQLite's foreign-key checks
    // (two index lookups a lead: its gym, and its tag rows' lead): the import
    // takes each row's gym from the gyms it read (gyms are never deleted)
    // and writes a lead's tag rows right after the lead. 0.7 s of the
    // million-row import (docs/import.md). Only outside a transaction (the
    // pragma is a no-op inside one), and back on before anyone else runs.
    const bool unchecked = depth_ == 0 && bulk_leads_thread_ == std::this_thread::get_id();
    if (!unchecked) return atomically(fn);
    db_->exec("PRAGMA foreign_keys = OFF");
    try {
      atomically(fn);
    } catch (...) {
      db_->tryExec("PRAGMA foreign_keys = ON");
      throw;
    }
    db_->exec("PRAGMA foreign_keys = ON");
  });
}

// ---------------------------------------------------------------------------
// Gyms
// ---------------------------------------------------------------------------

void SqliteGyms::insert(const Gym& gym) {
  store_.run("gym", gym.id, [&] {
    auto s = store_.statement(kInsertGym);
    bind_gym(*s, gym);
    try {
      s->exec();
    } catch (const SQLite::Exception& e) {
      if (!is_constraint(e)) throw;
      auto exists = store_.statement(kGymExists);
      exists->bind(1, gym.id);
      if (exists->executeStep())
        throw AlreadyExistsError(fmt::format("gym {}: already exists", gym.id), "id");
      throw;
    }
  });
}

std::optional<Gym> SqliteGyms::find(std::string_view gym_id) {
  return store_.run("gym", gym_id, [&]() -> std::optional<Gym> {
    auto s = store_.statement(kFindGym);
    s->bind(1, std::string(gym_id));
    if (!s->executeStep()) return std::nullopt;
    return read_gym(*s);
  });
}

std::vector<Gym> SqliteGyms::list() {
  return store_.run("gyms", "", [&] {
    auto s = store_.statement(kListGyms);
    std::vector<Gym> gyms;
    while (s->executeStep()) gyms.push_back(read_gym(*s));
    return gyms;
  });
}

void SqliteGyms::update(const Gym& gym) {
  store_.run("gym", gym.id, [&] {
    auto s = store_.statement(kUpdateGym);
    bind_gym(*s, gym);
    if (s->exec() == 0) throw NotFoundError(fmt::format("gym {}: not found", gym.id), "id");
  });
}

// ---------------------------------------------------------------------------
// Leads
// ---------------------------------------------------------------------------

// Another connection's bulk load refuses the write (kBulkGuard): a conflict
// to retry once that load ends, not a broken store.
[[noreturn]] void throw_bulk_guard(std::string_view lead_id) {
  throw ConflictError(fmt::format("lead {}: {}", lead_id, kBulkGuardMessage), "phone");
}

// The guard's error, when `e` is it.
void throw_if_bulk_guard(const SQLite::Exception& e, std::string_view lead_id) {
  if (std::string_view(e.what()).find(kBulkGuardMessage) != std::string_view::npos) throw_bulk_guard(lead_id);
}

void SqliteLeads::explain_conflict(const Lead& lead, bool inserting) {
  if (inserting) {
    auto gym = store_.statement(kGymExists);
    gym->bind(1, lead.gym_id);
    if (!gym->executeStep())
      throw NotFoundError(fmt::format("gym {}: not found (storing lead {})", lead.gym_id, lead.id),
                          "gym_id");
    auto id = store_.statement(kLeadIdExists);
    id->bind(1, lead.id);
    if (id->executeStep())
      throw AlreadyExistsError(fmt::format("lead {}: already exists", lead.id), "id");
  }
  if (auto* numbers = store_.numbers()) {
    const auto rowid = numbers->find(lead.gym_id, lead.phone);
    if (!rowid) return;
    const std::string holder = id_at(*rowid);
    if (holder == lead.id) return;
    throw AlreadyExistsError(fmt::format("lead {}: phone {} already belongs to lead {} in gym {}", lead.id,
                                         lead.phone, holder, lead.gym_id),
                             "phone");
  }
  auto phone = store_.statement(kLeadWithPhone);
  phone->bind(1, lead.gym_id);
  phone->bind(2, lead.phone);
  phone->bind(3, lead.id);
  if (phone->executeStep())
    throw AlreadyExistsError(
        fmt::format("lead {}: phone {} already belongs to lead {} in gym {}", lead.id, lead.phone,
                    phone->getColumn(0).getString(), lead.gym_id),
        "phone");
}

// Every lead write is one statement (lead_tags follows by trigger), so each
// is atomic on its own, inside a caller's transaction or not.

// The rows that follow a new lead: one per tag, and its calling-window group
// (once per transaction). Bound without copies: `lead` outlives each statement.
void SqliteLeads::insert_tags(const Lead& lead) {
  for (const auto& tag : lead.tags) {
    auto t = store_.statement(kInsertTag);
    t->bindNoCopy(1, lead.id);
    t->bindNoCopy(2, lead.gym_id);
    t->bindNoCopy(3, tag);
    t->exec();
  }
}

void SqliteLeads::insert_derived(const Lead& lead, bool tags) {
  if (tags) insert_tags(lead);
  if (store_.zone_written(lead.gym_id, lead.local_zone, lead.local_state)) return;
  auto z = store_.statement(kInsertZone);
  z->bindNoCopy(1, lead.gym_id);
  z->bindNoCopy(2, lead.local_zone);
  z->bindNoCopy(3, lead.local_state);
  z->exec();
  store_.zone_stored(lead.gym_id, lead.local_zone, lead.local_state);
}

void SqliteLeads::insert(const Lead& lead) {
  store_.run("lead", lead.id, [&] {
    store_.within_transaction([&] {
      // The row as insert_if_absent writes it (the INSERT naming the number
      // index in its ON CONFLICT, so that another connection's bulk load
      // refuses it); a number already held is an error here.
      if (insert_row_if_absent(lead, true) != 0) return;
      explain_conflict(lead, true);
      throw AlreadyExistsError(fmt::format("lead {}: phone {} already belongs to another lead in gym {}", lead.id,
                                           lead.phone, lead.gym_id),
                               "phone");
    });
  });
}

bool SqliteLeads::insert_if_absent(const Lead& lead) {
  return store_.run("lead", lead.id, [&] {
    // One statement for the common case (a new number): the unique index on
    // (gym_id, phone) answers the duplicate question without a lookup first.
    // During a bulk load without that index, the number index in memory
    // answers it, and the row goes in with a plain INSERT.
    return store_.within_transaction([&] { return insert_row_if_absent(lead, true) != 0; });
  });
}

std::int64_t SqliteLeads::insert_row_if_absent(const Lead& lead, bool tags) {
  auto* numbers = store_.numbers();
  if (numbers && numbers->find(lead.gym_id, lead.phone)) return 0;
  sqlite_store::LeadRow row;
  try {
    auto s = store_.statement(numbers ? kInsertLead : kInsertLeadIfAbsent);
    bind_lead(*s, lead, row);
    if (s->exec() == 0) return 0;
  } catch (const SQLite::Exception& e) {
    // Another connection's bulk load dropped the index ON CONFLICT names.
    if (!numbers) guard_number_index(lead.id);
    if (!is_constraint(e)) throw;
    throw_if_bulk_guard(e, lead.id);
    explain_conflict(lead, true);
    throw;
  }
  const std::int64_t rowid = store_.last_insert_rowid();
  if (numbers) numbers->add(lead.gym_id, lead.phone, rowid);
  insert_derived(lead, tags);
  return rowid;
}

// The import's pieces. During this store's bulk load the new leads go in
// with one statement (insert_piece), their tag rows with another. Otherwise,
// or when that statement fails, one statement each, which explains a failure
// as insert() does; then their tag rows in one statement over the rowids the
// new leads took. Each new row takes the largest rowid plus one, and nothing
// else writes while the store's lock is held, so those rowids run without a
// gap; if they do not (a table that reached the largest rowid picks them at
// random), each lead's tags are written one by one instead. 1.2 s of the
// million-row import went to a statement per tag row.
std::vector<bool> SqliteLeads::insert_many_if_absent(std::span<const Lead> leads) {
  return store_.run("leads", "", [&] {
    return store_.within_transaction([&] {
      if (auto* numbers = store_.numbers())
        if (auto stored = insert_piece(leads, *numbers)) return std::move(*stored);
      std::vector<bool> stored(leads.size(), false);
      std::int64_t first = 0, last = 0, count = 0;
      bool consecutive = true;
      for (std::size_t i = 0; i < leads.size(); ++i) {
        const std::int64_t rowid = insert_row_if_absent(leads[i], false);
        if (rowid == 0) continue;
        stored[i] = true;
        if (count > 0 && rowid != last + 1) consecutive = false;
        if (count++ == 0) first = rowid;
        last = rowid;
      }
      if (count == 0) return stored;
      if (consecutive) {
        auto t = store_.statement(kInsertTagsOfRows);
        t->bind(1, first);
        t->bind(2, last);
        t->exec();
      } else {
        for (std::size_t i = 0; i < leads.size(); ++i)
          if (stored[i]) insert_tags(leads[i]);
      }
      return stored;
    });
  });
}

// The rows are numbered before they are written: the number index in
// memory learns each new lead's rowid (the largest rowid plus its place),
// which also refuses a number an earlier lead of the piece took. A
// constraint (an id already stored, an unknown gym) fails the statement,
// which SQLite undoes whole; the number index is put back too.
std::optional<std::vector<bool>> SqliteLeads::insert_piece(std::span<const Lead> leads,
                                                           sqlite_store::NumberIndex& numbers) {
  std::int64_t largest = 0;
  {
    auto m = store_.statement(kLargestLeadRowid);
    if (m->executeStep()) largest = m->getColumn(0).getInt64();  // NULL (no rows) reads as 0
  }
  if (largest < 0 || largest > std::numeric_limits<std::int64_t>::max() - static_cast<std::int64_t>(leads.size()))
    return std::nullopt;
  const std::size_t mark = numbers.mark();
  std::vector<bool> stored(leads.size(), false);
  std::vector<sqlite_store::LeadRow> rows;
  rows.reserve(leads.size());
  try {
    constexpr std::size_t kAhead = 8;  // slots asked for this many leads ahead
    const auto prefetch = [&](std::size_t i) {
      if (i < leads.size()) numbers.prefetch(leads[i].gym_id, leads[i].phone);
    };
    for (std::size_t i = 0; i < kAhead; ++i) prefetch(i);
    for (std::size_t i = 0; i < leads.size(); ++i) {
      prefetch(i + kAhead);
      const Lead& lead = leads[i];
      if (numbers.find(lead.gym_id, lead.phone)) continue;
      rows.push_back(sqlite_store::encode_lead_row(lead));
      numbers.add(lead.gym_id, lead.phone, largest + static_cast<std::int64_t>(rows.size()));
      stored[i] = true;
    }
    if (rows.empty()) return stored;
    const sqlite_store::LeadRowsSource::Lend lend(store_.lead_rows(), rows);
    store_.statement(kInsertLeadRows)->exec();
  } catch (const SQLite::Exception& e) {
    numbers.undo_to(mark);
    if (is_constraint(e)) return std::nullopt;
    throw;
  } catch (...) {
    numbers.undo_to(mark);
    throw;
  }
  const auto last = largest + static_cast<std::int64_t>(rows.size());
  if (store_.last_insert_rowid() != last)
    throw InternalError(fmt::format("leads: a piece's rows took rowids up to {}, not {} as numbered",
                                    store_.last_insert_rowid(), last));
  for (std::size_t i = 0; i < leads.size(); ++i)
    if (stored[i]) insert_derived(leads[i], false);
  // The tag rows from the leads themselves (0.60 → 0.47 s of the million-row
  // import against reading the rows back with kInsertTagsOfRows).
  const sqlite_store::LeadRowsSource::Lend lend(store_.lead_rows(), rows);
  store_.statement(kInsertTagRows)->exec();
  return stored;
}

std::optional<Lead> SqliteLeads::find(std::string_view gym_id, std::string_view lead_id) {
  return store_.run("lead", lead_id, [&]() -> std::optional<Lead> {
    auto s = store_.statement(kFindLead);
    s->bind(1, std::string(lead_id));
    s->bind(2, std::string(gym_id));
    if (!s->executeStep()) return std::nullopt;
    return read_lead(*s);
  });
}

std::optional<Lead> SqliteLeads::find_by_phone(std::string_view gym_id, std::string_view e164) {
  return store_.run("lead with phone", e164, [&]() -> std::optional<Lead> {
    if (auto* numbers = store_.numbers()) {
      const auto rowid = numbers->find(gym_id, e164);
      if (!rowid) return std::nullopt;
      return find_by_rowid(*rowid, gym_id);
    }
    auto s = store_.statement(kFindLeadByPhone);
    s->bind(1, std::string(gym_id));
    s->bind(2, std::string(e164));
    if (!s->executeStep()) return std::nullopt;
    return read_lead(*s);
  });
}

bool SqliteLeads::has_enrolments(std::string_view lead_id) {
  auto s = store_.statement(kHasEnrolments);
  s->bind(1, std::string(lead_id));
  return s->executeStep();
}

std::optional<Lead> SqliteLeads::find_by_rowid(std::int64_t rowid, std::string_view gym_id) {
  auto s = store_.statement("SELECT " GYMDASH_LEAD_COLUMNS " FROM leads WHERE rowid = ?1 AND gym_id = ?2");
  s->bind(1, rowid);
  s->bind(2, std::string(gym_id));
  if (!s->executeStep()) return std::nullopt;
  return read_lead(*s);
}

void SqliteLeads::guard_number_index(std::string_view lead_id) {
  auto s = store_.statement("SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND name = 'leads_bulk_guard_number'");
  if (s->executeStep()) throw_bulk_guard(lead_id);
}

std::string SqliteLeads::id_at(std::int64_t rowid) {
  auto s = store_.statement("SELECT id FROM leads WHERE rowid = ?1");
  s->bind(1, rowid);
  return s->executeStep() ? s->getColumn(0).getString() : std::string();
}

std::optional<std::pair<std::int64_t, std::string>> SqliteLeads::stored_number(std::string_view gym_id,
                                                                                std::string_view lead_id) {
  auto s = store_.statement("SELECT rowid, phone FROM leads WHERE id = ?1 AND gym_id = ?2");
  s->bind(1, std::string(lead_id));
  s->bind(2, std::string(gym_id));
  if (!s->executeStep()) return std::nullopt;
  return std::pair{s->getColumn(0).getInt64(), s->getColumn(1).getString()};
}

bool SqliteLeads::delete_lead(std::string_view gym_id, std::string_view lead_id) {
  auto* numbers = store_.numbers();
  const auto number = numbers ? stored_number(gym_id, lead_id) : std::nullopt;
  auto s = store_.statement(kDeleteLead);
  s->bind(1, std::string(lead_id));
  s->bind(2, std::string(gym_id));
  if (s->exec() == 0) return false;
  if (number) numbers->remove(gym_id, number->second);
  return true;
}

void SqliteLeads::update_call_state(const Lead& lead) {
  store_.run("lead", lead.id, [&] {
    auto s = store_.statement(kUpdateLeadCallState);
    s->bind(1, lead.id);
    s->bind(2, lead.gym_id);
    s->bind(3, lead.do_not_call ? 1 : 0);
    s->bind(4, lead.phone_invalid ? 1 : 0);
    const auto status = status_name(lead.status);
    const auto qualification = qualification_name(lead.qualification);
    if (status.empty()) throw InvalidArgumentError(fmt::format("lead {}: status: not a lead status", lead.id), "status");
    if (qualification.empty())
      throw InvalidArgumentError(fmt::format("lead {}: qualification: not a qualification", lead.id), "qualification");
    s->bind(5, std::string(status));
    s->bind(6, std::string(qualification));
    s->bind(7, lead.score);
    s->bind(8, lead.attempts);
    bind_optional(*s, 9, lead.last_call_at);
    s->bind(10, to_millis(lead.updated_at));
    s->bind(11, lead.version);
    bind_optional(*s, 12, lead.callback_at);
    bind_optional(*s, 13, lead.blocked_until);
    s->bind(14, encode_times(lead.recent_calls));
    s->bind(15, lead.last_outcome);
    s->bind(16, lead.sentiment);
    s->bind(17, lead.connects);
    s->bind(18, lead.version - 1);
    bind_optional(*s, 19, lead.next_call_at);
    if (s->exec() > 0) {
      if (!has_enrolments(lead.id)) return;
      auto e = store_.statement(kSyncEnrolmentsCallState);
      e->bind(1, lead.id);
      e->bind(2, std::string(status));
      e->bind(3, std::string(qualification));
      e->bind(4, lead.connects);
      e->exec();
      return;
    }
    auto v = store_.statement(kLeadVersion);
    v->bind(1, lead.id);
    v->bind(2, lead.gym_id);
    if (!v->executeStep())
      throw NotFoundError(fmt::format("lead {}: not found in gym {}", lead.id, lead.gym_id), "id");
    throw ConflictError(fmt::format("lead {}: version conflict: stored version is {}, the update expects {}", lead.id,
                                    v->getColumn(0).getInt64(), lead.version - 1),
                        "version");
  });
}

void SqliteLeads::update(const Lead& lead) {
  store_.run("lead", lead.id, [&] {
    // Guarded by the version in the statement itself, so that a writer in
    // another process cannot slip in between a check and the write.
    const bool expectable = lead.version != std::numeric_limits<std::int64_t>::min();
    if (expectable) {
      const auto sync_enrolments = [&] {
        if (!has_enrolments(lead.id)) return;
        auto e = store_.statement(kSyncEnrolments);
        e->bind(1, lead.id);
        e->bind(2, to_millis(lead.created_at));
        e->bind(3, lead.source);
        e->bind(4, std::string(status_name(lead.status)));
        e->bind(5, std::string(qualification_name(lead.qualification)));
        e->bind(6, lead.connects);
        e->exec();
      };
      auto* numbers = store_.numbers();
      // Either write's constraint failure is explained the same way.
      try {
        // During a bulk load the number index says which row holds the
        // lead's number: when that row is this lead (the statement matches
        // its id), the number stays, and the index with it. Otherwise (a new
        // number, another lead's row, a version that moved on) the general
        // path below finds out which.
        if (const auto at = numbers ? numbers->find(lead.gym_id, lead.phone) : std::nullopt) {
          sqlite_store::LeadRow row;
          auto s = store_.statement(kUpdateLeadAt);
          bind_lead(*s, lead, row);
          s->bind(43, lead.version - 1);
          s->bind(44, *at);
          if (s->exec() > 0) return sync_enrolments();
        }
        // A new number, during a bulk load without the number index: checked
        // against the index in memory, which then moves the lead to it.
        std::optional<std::pair<std::int64_t, std::string>> renumbered;
        if (numbers) {
          renumbered = stored_number(lead.gym_id, lead.id);
          if (renumbered && renumbered->second == lead.phone) renumbered.reset();
          if (renumbered) explain_conflict(lead, false);
        }
        sqlite_store::LeadRow row;
        auto s = store_.statement(kUpdateLead);
        bind_lead(*s, lead, row);
        s->bind(43, lead.version - 1);
        if (s->exec() > 0) {
          if (renumbered) {
            numbers->remove(lead.gym_id, renumbered->second);
            numbers->add(lead.gym_id, lead.phone, renumbered->first);
          }
          return sync_enrolments();
        }
      } catch (const SQLite::Exception& e) {
        if (!is_constraint(e)) throw;
        throw_if_bulk_guard(e, lead.id);
        explain_conflict(lead, false);
        throw;
      }
    }
    // Nothing matched: say whether the lead is missing or has moved on.
    auto s = store_.statement(kLeadVersion);
    s->bind(1, lead.id);
    s->bind(2, lead.gym_id);
    if (!s->executeStep())
      throw NotFoundError(fmt::format("lead {}: not found in gym {}", lead.id, lead.gym_id), "id");
    throw ConflictError(
        fmt::format("lead {}: version conflict: stored version is {}, the update expects {}",
                    lead.id, s->getColumn(0).getInt64(),
                    expectable ? fmt::format("{}", lead.version - 1) : std::string("none")),
        "version");
  });
}

bool SqliteLeads::set_active_call(std::string_view gym_id, std::string_view lead_id, std::string_view expected,
                                  std::string_view next) {
  return store_.run("lead", lead_id, [&] {
    auto s = store_.statement(kSetActiveCall);
    s->bind(1, std::string(gym_id));
    s->bind(2, std::string(lead_id));
    s->bind(3, std::string(expected));
    s->bind(4, std::string(next));
    return s->exec() > 0;
  });
}

bool SqliteLeads::remove(std::string_view gym_id, std::string_view lead_id) {
  // History and tags go with the lead by ON DELETE CASCADE, in this statement.
  return store_.run("lead", lead_id, [&] {
    return delete_lead(gym_id, lead_id);
  });
}

// The erasure of a lead (docs/hardening.md, "Erasing a lead"): what goes with
// it is counted first (primary-key or lead_id index reads), then removed by
// the lead's ON DELETE CASCADE.
constexpr std::string_view kCountLeadHistory =
    "SELECT count(*) FROM lead_history WHERE lead_id = ?1 AND gym_id = ?2";
constexpr std::string_view kCountLeadCallResults =
    "SELECT count(*) FROM call_results WHERE lead_id = ?1 AND gym_id = ?2";
constexpr std::string_view kCountLeadEnrolments =
    "SELECT count(*) FROM campaign_leads WHERE lead_id = ?1 AND gym_id = ?2";
constexpr std::string_view kAppendErasure =
    "INSERT INTO lead_erasures (gym_id, lead_id, at, actor, reason, history_entries, calls, recordings, "
    "transcripts, call_results, enrolments) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
constexpr std::string_view kErasures =
    "SELECT seq, gym_id, lead_id, at, actor, reason, history_entries, calls, recordings, transcripts, "
    "call_results, enrolments FROM lead_erasures WHERE gym_id = ?1 ORDER BY seq DESC LIMIT ?2 OFFSET ?3";

std::optional<ErasedLeadRows> SqliteLeads::remove_counted(std::string_view gym_id, std::string_view lead_id) {
  return store_.run("lead", lead_id, [&]() -> std::optional<ErasedLeadRows> {
    auto count = [&](std::string_view sql) -> std::int64_t {
      auto s = store_.statement(sql);
      s->bind(1, std::string(lead_id));
      s->bind(2, std::string(gym_id));
      return s->executeStep() ? s->getColumn(0).getInt64() : 0;
    };
    ErasedLeadRows rows;
    rows.history_entries = count(kCountLeadHistory);
    rows.call_results = count(kCountLeadCallResults);
    rows.enrolments = count(kCountLeadEnrolments);
    if (!delete_lead(gym_id, lead_id)) return std::nullopt;
    return rows;
  });
}

std::int64_t SqliteLeads::append_erasure(const LeadErasure& e) {
  return store_.run("lead", e.lead_id, [&] {
    auto s = store_.statement(kAppendErasure);
    s->bind(1, e.gym_id);
    s->bind(2, e.lead_id);
    s->bind(3, to_millis(e.at));
    s->bind(4, e.actor);
    s->bind(5, e.reason);
    s->bind(6, e.history_entries);
    s->bind(7, e.calls);
    s->bind(8, e.recordings);
    s->bind(9, e.transcripts);
    s->bind(10, e.call_results);
    s->bind(11, e.enrolments);
    s->exec();
    return store_.last_insert_rowid();
  });
}

std::vector<LeadErasure> SqliteLeads::erasures(std::string_view gym_id, int limit, int offset) {
  return store_.run("gym", gym_id, [&] {
    auto s = store_.statement(kErasures);
    s->bind(1, std::string(gym_id));
    s->bind(2, limit);
    s->bind(3, offset);
    std::vector<LeadErasure> out;
    while (s->executeStep()) {
      LeadErasure e;
      e.seq = s->getColumn(0).getInt64();
      e.gym_id = s->getColumn(1).getString();
      e.lead_id = s->getColumn(2).getString();
      e.at = from_millis(s->getColumn(3).getInt64());
      e.actor = s->getColumn(4).getString();
      e.reason = s->getColumn(5).getString();
      e.history_entries = s->getColumn(6).getInt64();
      e.calls = s->getColumn(7).getInt64();
      e.recordings = s->getColumn(8).getInt64();
      e.transcripts = s->getColumn(9).getInt64();
      e.call_results = s->getColumn(10).getInt64();
      e.enrolments = s->getColumn(11).getInt64();
      out.push_back(std::move(e));
    }
    return out;
  });
}

LeadPage SqliteLeads::list(std::string_view gym_id, const LeadFilter& filter) {
  // Duplicates in the filter change neither its meaning nor (after this) the SQL.
  auto unique_names = [](const auto& values, auto name) {
    std::vector<std::string> names;
    for (auto v : values) names.emplace_back(name(v));
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
  };
  const auto statuses = unique_names(filter.statuses, status_name);
  const auto qualifications = unique_names(filter.qualifications, qualification_name);
  auto tags = filter.tags;
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());

  const std::int64_t page = std::max(filter.page, 1);
  const std::int64_t page_size = std::max(filter.page_size, 0);

  return store_.run("leads of gym", gym_id, [&] {
    store_.trim_dynamic_statements();
    // One snapshot for the probes, the count and the page, so that they agree.
    return store_.atomically(
        [&] {
          const ListQuery query = plan_list(gym_id, statuses, qualifications, tags, filter);
          auto bind_where = [&](SQLite::Statement& s) {
            s.bind(1, std::string(gym_id));
            int index = 2;
            for (const auto& t : query.texts) s.bind(index++, t);
            for (auto n : query.numbers) s.bind(index++, n);
          };
          const int next_param = static_cast<int>(query.texts.size() + query.numbers.size()) + 2;

          LeadPage result;
          result.page = filter.page;
          result.page_size = filter.page_size;
          {
            auto s = store_.dynamic_statement("SELECT count(*) FROM " + query.from_where);
            bind_where(*s);
            s->executeStep();
            result.total = s->getColumn(0).getInt64();
          }
          const std::int64_t offset = (page - 1) * page_size;
          if (page_size == 0 || offset >= result.total) return result;
          auto s = store_.dynamic_statement(
              "SELECT " GYMDASH_LEAD_COLUMNS " FROM " + query.from_where +
              fmt::format(" ORDER BY created_at DESC, id DESC LIMIT ?{} OFFSET ?{}", next_param,
                          next_param + 1));
          bind_where(*s);
          s->bind(next_param, page_size);
          s->bind(next_param + 1, offset);
          result.items.reserve(static_cast<std::size_t>(std::min(page_size, result.total)));
          while (s->executeStep()) result.items.push_back(read_lead(*s));
          return result;
        },
        true);
  });
}

SqliteLeads::ListQuery SqliteLeads::plan_list(std::string_view gym_id,
                                              const std::vector<std::string>& statuses,
                                              const std::vector<std::string>& qualifications,
                                              const std::vector<std::string>& tags,
                                              const LeadFilter& filter) {
  ListQuery q;
  // Numbered parameters: ?1 is the gym, then every text, then every number.
  auto text_param = [&](std::string value) {
    q.texts.push_back(std::move(value));
    return fmt::format("?{}", q.texts.size() + 1);
  };
  auto in_list = [&](std::string_view column, const std::vector<std::string>& values) {
    std::string sql = fmt::format(" AND {} IN (", column);
    for (std::size_t i = 0; i < values.size(); ++i) sql += (i ? ", " : "") + text_param(values[i]);
    return sql + ")";
  };

  // Tagged leads are found from the rarest tag's index entries when that tag
  // is rare (cost follows the matches, not the gym), else by probing each of
  // the gym's leads in listing order (which stops early for a page). How rare
  // is measured by counting at most kRareTag entries of each tag.
  std::optional<std::size_t> driver;
  std::int64_t fewest = kRareTag;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    auto s = store_.statement(kCountTagUpTo);
    s->bind(1, std::string(gym_id));
    s->bind(2, tags[i]);
    s->executeStep();
    if (auto n = s->getColumn(0).getInt64(); n < fewest) {
      fewest = n;
      driver = i;
    }
  }

  std::string where = "leads.gym_id = ?1";
  if (driver)
    q.from_where =
        "(SELECT lead_id FROM lead_tags WHERE gym_id = ?1 AND tag = " + text_param(tags[*driver]) +
        ") AS d CROSS JOIN leads ON leads.id = d.lead_id WHERE ";
  else
    q.from_where = "leads WHERE ";
  for (std::size_t i = 0; i < tags.size(); ++i)
    if (i != driver)
      where += " AND EXISTS (SELECT 1 FROM lead_tags t WHERE t.lead_id = leads.id AND t.tag = " +
               text_param(tags[i]) + ")";
  if (!statuses.empty()) where += in_list("status", statuses);
  if (!qualifications.empty()) where += in_list("qualification", qualifications);
  if (!filter.source.empty()) where += " AND source = " + text_param(filter.source);
  if (!filter.search.empty()) {
    // lower() and the needle fold ASCII only, like the memory backend; instr
    // keeps LIKE's wildcards in user text literal.
    auto p = text_param(ascii_lower(filter.search));
    where += fmt::format(
        " AND (instr(lower(first_name || ' ' || last_name), {0}) > 0"
        " OR instr(lower(phone), {0}) > 0 OR instr(lower(email), {0}) > 0)",
        p);
  }
  // Numbers come after every text in the numbering, so they are added last.
  auto number_param = [&](std::int64_t value) {
    q.numbers.push_back(value);
    return fmt::format("?{}", q.texts.size() + q.numbers.size() + 1);
  };
  if (filter.created_from)
    where += " AND created_at >= " + number_param(to_millis(*filter.created_from));
  if (filter.created_to)
    where += " AND created_at < " + number_param(to_millis(*filter.created_to));
  q.from_where += where;
  return q;
}

std::int64_t SqliteLeads::append_history(std::string_view gym_id, const LeadEvent& event) {
  return store_.run("lead", event.lead_id, [&] {
    auto s = store_.statement(kAppendHistory);
    s->bind(1, event.lead_id);
    s->bind(2, std::string(gym_id));
    s->bind(3, to_millis(event.at));
    s->bind(4, event.kind);
    s->bind(5, event.from);
    s->bind(6, event.to);
    s->bind(7, event.actor);
    s->bind(8, event.reason);
    if (s->exec() == 0)
      throw NotFoundError(fmt::format("lead {}: not found in gym {}", event.lead_id, gym_id),
                          "lead_id");
    return store_.last_insert_rowid();
  });
}

std::vector<LeadEvent> SqliteLeads::history(std::string_view gym_id, std::string_view lead_id) {
  return store_.run("lead", lead_id, [&] {
    auto s = store_.statement(kHistory);
    s->bind(1, std::string(lead_id));
    s->bind(2, std::string(gym_id));
    std::vector<LeadEvent> events;
    while (s->executeStep()) {
      LeadEvent e;
      e.seq = s->getColumn(0).getInt64();
      e.lead_id = s->getColumn(1).getString();
      e.at = from_millis(s->getColumn(2).getInt64());
      e.kind = s->getColumn(3).getString();
      e.from = s->getColumn(4).getString();
      e.to = s->getColumn(5).getString();
      e.actor = s->getColumn(6).getString();
      e.reason = s->getColumn(7).getString();
      events.push_back(std::move(e));
    }
    return events;
  });
}

// ---- the call order ------------------------------------------------------------

std::vector<Lead> SqliteLeads::dial_candidates(std::string_view gym_id, const DialQuery& q) {
  using Tier = DialQuery::Tier;
  const bool with_qualification = q.qualification.has_value() || q.tier == Tier::Retry;
  if (q.tier == Tier::Retry && !q.qualification)
    throw InvalidArgumentError("dial query: the retry tier needs a qualification", "qualification");
  return store_.run("dial candidates of gym", gym_id, [&] {
    const bool with_campaign = !q.campaign_id.empty();
    auto s = store_.statement(sqlite_store::dial_sql(q.tier, with_qualification, !q.exclude.empty(), with_campaign));
    s->bind(1, std::string(gym_id));
    s->bind(2, to_millis(q.now));
    s->bind(3, q.max_attempts);
    s->bind(4, std::max(q.limit, 0));
    int next = 5;
    if (q.tier != Tier::Callback) {
      s->bind(5, q.local_zone);
      s->bind(6, q.local_state);
      next = 7;
      if (q.tier == Tier::Retry) {
        s->bind(7, to_millis(q.last_call_before));
        next = 8;
      }
    }
    if (with_qualification) s->bind(next, std::string(qualification_name(*q.qualification)));
    if (!q.exclude.empty()) s->bind(9, encode_strings(q.exclude));
    if (with_campaign) {
      s->bind(10, q.campaign_id);
      s->bind(11, q.campaign_max_attempts);
      s->bind(12, to_millis(q.campaign_last_attempt_before));
    }
    std::vector<Lead> out;
    while (s->executeStep()) out.push_back(read_lead(*s));
    return out;
  });
}

std::vector<Lead> SqliteLeads::dial_candidates_in(std::string_view gym_id, const DialQuery& q,
                                                  const std::vector<std::pair<std::string, std::string>>& groups) {
  using Tier = DialQuery::Tier;
  if (q.tier == Tier::Callback || groups.size() <= 1) return LeadRepository::dial_candidates_in(gym_id, q, groups);
  if (q.tier == Tier::Retry && !q.qualification)
    throw InvalidArgumentError("dial query: the retry tier needs a qualification", "qualification");
  return store_.run("dial candidates of gym", gym_id, [&] {
    // One cursor per group over its index range, stepped only when its head
    // is taken: a k-way merge reads limit + groups leads, not limit per group.
    // Each cursor needs its own prepared statement: the same SQL with a
    // numbered comment is a separate cache entry.
    const bool with_qualification = q.qualification.has_value() || q.tier == Tier::Retry;
    const bool with_campaign = !q.campaign_id.empty();
    const std::string& sql = sqlite_store::dial_sql(q.tier, with_qualification, !q.exclude.empty(), with_campaign);
    const std::string exclude = q.exclude.empty() ? std::string() : encode_strings(q.exclude);
    std::vector<StatementUse> cursors;
    cursors.reserve(groups.size());
    struct Head {
      Lead lead;
      std::size_t cursor;
    };
    std::vector<Head> heads;
    // std::*_heap keep the greatest first: "greater" is "comes earlier".
    const auto later = [&](const Head& a, const Head& b) { return dial_order::before(q.tier, b.lead, a.lead); };
    for (std::size_t k = 0; k < groups.size(); ++k) {
      cursors.push_back(store_.statement(sql + " /* cursor " + std::to_string(k) + " */"));
      auto& s = cursors.back();
      s->bind(1, std::string(gym_id));
      s->bind(2, to_millis(q.now));
      s->bind(3, q.max_attempts);
      s->bind(4, std::max(q.limit, 0));
      s->bind(5, groups[k].first);
      s->bind(6, groups[k].second);
      int next = 7;
      if (q.tier == Tier::Retry) {
        s->bind(7, to_millis(q.last_call_before));
        next = 8;
      }
      if (with_qualification) s->bind(next, std::string(qualification_name(*q.qualification)));
      if (!q.exclude.empty()) s->bind(9, exclude);
      if (with_campaign) {
        s->bind(10, q.campaign_id);
        s->bind(11, q.campaign_max_attempts);
        s->bind(12, to_millis(q.campaign_last_attempt_before));
      }
      if (s->executeStep()) heads.push_back(Head{read_lead(*s), k});
    }
    std::make_heap(heads.begin(), heads.end(), later);
    std::vector<Lead> out;
    while (!heads.empty() && static_cast<int>(out.size()) < q.limit) {
      std::pop_heap(heads.begin(), heads.end(), later);
      Head head = std::move(heads.back());
      heads.pop_back();
      out.push_back(std::move(head.lead));
      auto& s = cursors[head.cursor];
      if (s->executeStep()) {
        heads.push_back(Head{read_lead(*s), head.cursor});
        std::push_heap(heads.begin(), heads.end(), later);
      }
    }
    return out;
  });
}

DueCounts SqliteLeads::count_due(std::string_view gym_id, Timestamp now, int max_attempts,
                                 Timestamp last_call_before) {
  return store_.run("due jobs of gym", gym_id, [&] {
    DueCounts out;
    for (auto tier : {DialQuery::Tier::Callback, DialQuery::Tier::Retry}) {
      auto s = store_.statement(sqlite_store::count_due_sql(tier));
      s->bind(1, std::string(gym_id));
      s->bind(2, to_millis(now));
      s->bind(3, max_attempts);
      if (tier == DialQuery::Tier::Retry) s->bind(4, to_millis(last_call_before));
      s->executeStep();
      (tier == DialQuery::Tier::Callback ? out.callbacks : out.retries) = s->getColumn(0).getInt64();
    }
    return out;
  });
}

std::vector<Lead> SqliteLeads::callbacks_due_since(std::string_view gym_id, Timestamp after, Timestamp now,
                                                  int max_attempts, int limit) {
  if (limit <= 0 || now <= after) return {};
  return store_.run("callbacks due of gym", gym_id, [&] {
    auto s = store_.statement(sqlite_store::callbacks_since_sql());
    s->bind(1, std::string(gym_id));
    s->bind(2, to_millis(now));
    s->bind(3, max_attempts);
    s->bind(4, limit);
    s->bind(5, to_millis(after));
    std::vector<Lead> out;
    while (s->executeStep()) out.push_back(read_lead(*s));
    return out;
  });
}

std::vector<std::pair<std::string, std::string>> SqliteLeads::dial_groups(std::string_view gym_id) {
  return store_.run("zones of gym", gym_id, [&] {
    auto s = store_.statement(
        "SELECT local_zone, local_state FROM lead_zones WHERE gym_id = ?1 ORDER BY local_zone, local_state");
    s->bind(1, std::string(gym_id));
    std::vector<std::pair<std::string, std::string>> out;
    while (s->executeStep()) out.emplace_back(s->getColumn(0).getString(), s->getColumn(1).getString());
    return out;
  });
}

std::vector<Lead> SqliteLeads::find_by_phone_any_gym(std::string_view e164) {
  return store_.run("leads with phone", e164, [&] {
    if (auto* numbers = store_.numbers()) {
      std::vector<Lead> out;
      for (const auto& [gym_id, rowid] : numbers->find_any_gym(e164))
        if (auto l = find_by_rowid(rowid, gym_id)) out.push_back(std::move(*l));
      return out;
    }
    // One probe of (gym_id, phone) per gym: no index on the number alone to keep up during imports.
    auto s = store_.statement("SELECT " GYMDASH_LEAD_COLUMNS
                              " FROM leads WHERE gym_id IN (SELECT id FROM gyms) AND phone = ?1 ORDER BY gym_id");
    s->bind(1, std::string(e164));
    std::vector<Lead> out;
    while (s->executeStep()) out.push_back(read_lead(*s));
    return out;
  });
}

void SqliteLeads::put_call_result(std::string_view gym_id, std::string_view lead_id, const CallResult& c) {
  store_.run("lead", lead_id, [&] {
    auto s = store_.statement(
        "INSERT OR REPLACE INTO call_results (lead_id, gym_id, call_id, started_at, ended_at, status, "
        "answered_by, outcome, callback_at, sentiment, opted_out) "
        "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 "
        "WHERE EXISTS (SELECT 1 FROM leads WHERE id = ?1 AND gym_id = ?2)");
    s->bind(1, std::string(lead_id));
    s->bind(2, std::string(gym_id));
    s->bind(3, c.call_id);
    s->bind(4, to_millis(c.started_at));
    bind_optional(*s, 5, c.ended_at);
    s->bind(6, std::string(to_string(c.status)));
    s->bind(7, std::string(to_string(c.answered_by)));
    if (c.outcome) s->bind(8, std::string(to_string(*c.outcome)));
    else s->bind(8);
    bind_optional(*s, 9, c.callback_at);
    s->bind(10, c.sentiment);
    s->bind(11, c.opted_out ? 1 : 0);
    if (s->exec() == 0)
      throw NotFoundError(fmt::format("lead {}: not found in gym {}", lead_id, gym_id), "lead_id");
    if (!has_enrolments(lead_id)) return;
    auto e = store_.statement(kSyncEnrolmentsFirstCall);
    e->bind(1, std::string(lead_id));
    e->exec();
  });
}

std::vector<CallResult> SqliteLeads::call_results(std::string_view gym_id, std::string_view lead_id) {
  return store_.run("lead", lead_id, [&] {
    auto s = store_.statement(
        "SELECT call_id, started_at, ended_at, status, answered_by, outcome, callback_at, sentiment, opted_out "
        "FROM call_results WHERE lead_id = ?1 AND gym_id = ?2 ORDER BY started_at, call_id");
    s->bind(1, std::string(lead_id));
    s->bind(2, std::string(gym_id));
    std::vector<CallResult> out;
    while (s->executeStep()) {
      CallResult c;
      c.call_id = s->getColumn(0).getString();
      c.started_at = from_millis(s->getColumn(1).getInt64());
      c.ended_at = read_optional(*s, 2);
      c.status = parse_call_status(s->getColumn(3).getString());
      c.answered_by = parse_answered_by(s->getColumn(4).getString());
      if (!s->getColumn(5).isNull()) c.outcome = parse_call_outcome(s->getColumn(5).getString());
      c.callback_at = read_optional(*s, 6);
      c.sentiment = s->getColumn(7).getString();
      c.opted_out = s->getColumn(8).getInt() != 0;
      out.push_back(std::move(c));
    }
    return out;
  });
}


std::optional<Lead> SqliteLeads::find_by_external_id(std::string_view gym_id, std::string_view external_id) {
  if (external_id.empty()) return std::nullopt;
  return store_.run("lead", external_id, [&]() -> std::optional<Lead> {
    auto s = store_.statement(kFindLeadByExternalId);
    s->bind(1, std::string(gym_id));
    s->bind(2, std::string(external_id));
    std::optional<Lead> best;
    while (s->executeStep()) {
      Lead l = read_lead(*s);
      if (!best || l.created_at < best->created_at || (l.created_at == best->created_at && l.id < best->id))
        best = std::move(l);
    }
    return best;
  });
}

// ---- calls ---------------------------------------------------------------------

namespace {

constexpr std::string_view kPutCall =
    "INSERT INTO calls (" GYMDASH_CALL_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
    "?23, ?24, ?25, ?26, ?27, ?28) "
    GYMDASH_CALL_UPSERT;
constexpr std::string_view kFindCall = "SELECT " GYMDASH_CALL_COLUMNS " FROM calls WHERE id = ?1 AND gym_id = ?2";
constexpr std::string_view kFindCallByProvider =
    "SELECT " GYMDASH_CALL_COLUMNS " FROM calls WHERE gym_id = ?1 AND provider_call_id = ?2";
constexpr std::string_view kLeadCalls =
    "SELECT " GYMDASH_CALL_COLUMNS " FROM calls WHERE lead_id = ?1 AND gym_id = ?2 ORDER BY started_at, id";
constexpr std::string_view kRecordEvent =
    "INSERT OR IGNORE INTO call_events (gym_id, event_id, call_id, received_at) VALUES (?1, ?2, ?3, ?4)";
constexpr std::string_view kHasEvent = "SELECT 1 FROM call_events WHERE gym_id = ?1 AND event_id = ?2";

void bind_call(SQLite::Statement& s, const Call& c) {
  s.bind(1, c.id);
  s.bind(2, c.provider_call_id);
  s.bind(3, c.gym_id);
  s.bind(4, c.lead_id);
  s.bind(5, to_string(c.direction));
  s.bind(6, c.to_number);
  s.bind(7, c.from_number);
  s.bind(8, to_string(c.status));
  s.bind(9, to_string(c.answered_by));
  s.bind(10, to_millis(c.started_at));
  bind_optional(s, 11, c.ended_at);
  if (c.duration_s) s.bind(12, *c.duration_s);
  else s.bind(12);
  if (c.outcome) s.bind(13, to_string(*c.outcome));
  else s.bind(13);
  bind_optional(s, 14, c.callback_at);
  s.bind(15, c.sentiment);
  s.bind(16, c.summary);
  s.bind(17, c.transcript);
  s.bind(18, c.recording_url);
  if (c.cost_usd) s.bind(19, *c.cost_usd);
  else s.bind(19);
  s.bind(20, c.campaign_id);
  s.bind(21, to_millis(c.created_at));
  s.bind(22, to_millis(c.updated_at));
  s.bind(23, c.provider);
  s.bind(24, c.end_reason);
  if (c.recording_duration_s) s.bind(25, *c.recording_duration_s);
  else s.bind(25);
  if (c.recording_channels) s.bind(26, *c.recording_channels);
  else s.bind(26);
  if (c.recording_consent) s.bind(27, *c.recording_consent ? 1 : 0);
  else s.bind(27);
  bind_optional(s, 28, c.purged_at);
}

Call read_call(const SQLite::Statement& s) {
  Call c;
  c.id = s.getColumn(0).getString();
  c.provider_call_id = s.getColumn(1).getString();
  c.gym_id = s.getColumn(2).getString();
  c.lead_id = s.getColumn(3).getString();
  c.direction = parse_call_direction(s.getColumn(4).getString());
  c.to_number = s.getColumn(5).getString();
  c.from_number = s.getColumn(6).getString();
  c.status = parse_call_status(s.getColumn(7).getString());
  c.answered_by = parse_answered_by(s.getColumn(8).getString());
  c.started_at = from_millis(s.getColumn(9).getInt64());
  c.ended_at = read_optional(s, 10);
  if (!s.getColumn(11).isNull()) c.duration_s = s.getColumn(11).getInt64();
  if (!s.getColumn(12).isNull()) c.outcome = parse_call_outcome(s.getColumn(12).getString());
  c.callback_at = read_optional(s, 13);
  c.sentiment = s.getColumn(14).getString();
  c.summary = s.getColumn(15).getString();
  c.transcript = s.getColumn(16).getString();
  c.recording_url = s.getColumn(17).getString();
  if (!s.getColumn(18).isNull()) c.cost_usd = s.getColumn(18).getDouble();
  c.campaign_id = s.getColumn(19).getString();
  c.created_at = from_millis(s.getColumn(20).getInt64());
  c.updated_at = from_millis(s.getColumn(21).getInt64());
  c.provider = s.getColumn(22).getString();
  c.end_reason = s.getColumn(23).getString();
  if (!s.getColumn(24).isNull()) c.recording_duration_s = s.getColumn(24).getInt64();
  if (!s.getColumn(25).isNull()) c.recording_channels = s.getColumn(25).getInt();
  if (!s.getColumn(26).isNull()) c.recording_consent = s.getColumn(26).getInt() != 0;
  c.purged_at = read_optional(s, 27);
  return c;
}

}  // namespace

bool SqliteCalls::record_event(std::string_view gym_id, std::string_view event_id, std::string_view call_id,
                               Timestamp received_at) {
  return store_.run("call event", event_id, [&] {
    auto s = store_.statement(kRecordEvent);
    s->bind(1, std::string(gym_id));
    s->bind(2, std::string(event_id));
    s->bind(3, std::string(call_id));
    s->bind(4, to_millis(received_at));
    return s->exec() > 0;
  });
}

bool SqliteCalls::has_event(std::string_view gym_id, std::string_view event_id) {
  return store_.run("call event", event_id, [&] {
    auto s = store_.statement(kHasEvent);
    s->bind(1, std::string(gym_id));
    s->bind(2, std::string(event_id));
    return s->executeStep();
  });
}

void SqliteCalls::put(const Call& call) {
  store_.run("call", call.id, [&] {
    auto s = store_.statement(kPutCall);
    bind_call(*s, call);
    try {
      s->exec();
    } catch (const SQLite::Exception& e) {
      if (!is_constraint(e)) throw;
      throw AlreadyExistsError(fmt::format("call {}: provider call id {} already belongs to another call of gym {}",
                                           call.id, call.provider_call_id, call.gym_id),
                               "provider_call_id");
    }
  });
}

std::optional<Call> SqliteCalls::find(std::string_view gym_id, std::string_view call_id) {
  return store_.run("call", call_id, [&]() -> std::optional<Call> {
    auto s = store_.statement(kFindCall);
    s->bind(1, std::string(call_id));
    s->bind(2, std::string(gym_id));
    if (!s->executeStep()) return std::nullopt;
    return read_call(*s);
  });
}

std::optional<Call> SqliteCalls::find_by_provider_id(std::string_view gym_id, std::string_view provider_call_id) {
  return store_.run("call", provider_call_id, [&]() -> std::optional<Call> {
    auto s = store_.statement(kFindCallByProvider);
    s->bind(1, std::string(gym_id));
    s->bind(2, std::string(provider_call_id));
    if (!s->executeStep()) return std::nullopt;
    return read_call(*s);
  });
}

CallPage SqliteCalls::list(std::string_view gym_id, const CallFilter& f) {
  return store_.run("calls", gym_id, [&] {
    // Only the filters that are set appear in the SQL; each is a numbered parameter.
    std::string where = " FROM calls WHERE gym_id = ?1";
    std::vector<std::string> texts;
    auto text = [&](std::string_view column, std::string value) {
      texts.push_back(std::move(value));
      where += fmt::format(" AND {} = ?{}", column, texts.size() + 1);
    };
    if (!f.lead_id.empty()) text("lead_id", f.lead_id);
    if (!f.campaign_id.empty()) text("campaign_id", f.campaign_id);
    if (f.status) text("status", to_string(*f.status));
    if (f.outcome) text("outcome", to_string(*f.outcome));
    if (f.direction) text("direction", to_string(*f.direction));
    std::vector<std::int64_t> numbers;
    auto number = [&](std::string_view op, std::int64_t value) {
      numbers.push_back(value);
      where += fmt::format(" AND started_at {} ?{}", op, texts.size() + numbers.size() + 1);
    };
    if (f.started_from) number(">=", to_millis(*f.started_from));
    if (f.started_to) number("<", to_millis(*f.started_to));
    auto bind_all = [&](SQLite::Statement& s) {
      s.bind(1, std::string(gym_id));
      int i = 2;
      for (const auto& t : texts) s.bind(i++, t);
      for (auto n : numbers) s.bind(i++, n);
    };
    store_.trim_dynamic_statements();
    CallPage page;
    page.page = std::max(f.page, 1);
    page.page_size = std::clamp(f.page_size, 1, kMaxPageSize);
    {
      auto count = store_.dynamic_statement("SELECT count(*)" + where);
      bind_all(*count);
      count->executeStep();
      page.total = count->getColumn(0).getInt64();
    }
    const auto n = static_cast<int>(texts.size() + numbers.size()) + 1;
    auto s = store_.dynamic_statement("SELECT " GYMDASH_CALL_COLUMNS + where +
                                      fmt::format(" ORDER BY started_at DESC, id DESC LIMIT ?{} OFFSET ?{}", n + 1, n + 2));
    bind_all(*s);
    s->bind(n + 1, page.page_size);
    s->bind(n + 2, static_cast<std::int64_t>(page.page - 1) * page.page_size);
    while (s->executeStep()) page.items.push_back(read_call(*s));
    return page;
  });
}

std::vector<Call> SqliteCalls::for_lead(std::string_view gym_id, std::string_view lead_id) {
  return store_.run("lead", lead_id, [&] {
    auto s = store_.statement(kLeadCalls);
    s->bind(1, std::string(lead_id));
    s->bind(2, std::string(gym_id));
    std::vector<Call> out;
    while (s->executeStep()) out.push_back(read_call(*s));
    return out;
  });
}

// Retention and purges on request: one UPDATE each, over the (gym_id,
// started_at, id) and (lead_id, started_at, id) indexes.
constexpr std::string_view kPurgeRecordings =
    "UPDATE calls SET recording_url = '', transcript = '', summary = '', purged_at = ?3, updated_at = ?3 "
    "WHERE gym_id = ?1 AND started_at < ?2 AND purged_at IS NULL "
    "AND (recording_url <> '' OR transcript <> '' OR summary <> '')";
constexpr std::string_view kPurgeLeadRecordings =
    "UPDATE calls SET recording_url = '', transcript = '', summary = '', purged_at = ?3, updated_at = ?3 "
    "WHERE lead_id = ?1 AND gym_id = ?2 AND (recording_url <> '' OR transcript <> '' OR summary <> '')";

std::int64_t SqliteCalls::purge_recordings(std::string_view gym_id, Timestamp cutoff, Timestamp now) {
  return store_.run("gym", gym_id, [&]() -> std::int64_t {
    auto s = store_.statement(kPurgeRecordings);
    s->bind(1, std::string(gym_id));
    s->bind(2, to_millis(cutoff));
    s->bind(3, to_millis(now));
    return s->exec();
  });
}

std::int64_t SqliteCalls::purge_lead_recordings(std::string_view gym_id, std::string_view lead_id, Timestamp now) {
  return store_.run("lead", lead_id, [&]() -> std::int64_t {
    auto s = store_.statement(kPurgeLeadRecordings);
    s->bind(1, std::string(lead_id));
    s->bind(2, std::string(gym_id));
    s->bind(3, to_millis(now));
    return s->exec();
  });
}

// The erasure of a lead's calls, over the (lead_id, started_at, id) index.
constexpr std::string_view kCountLeadCalls =
    "SELECT count(*), coalesce(sum(recording_url <> ''), 0), coalesce(sum(transcript <> '' OR summary <> ''), 0) "
    "FROM calls WHERE lead_id = ?1 AND gym_id = ?2";
constexpr std::string_view kDeleteLeadCalls = "DELETE FROM calls WHERE lead_id = ?1 AND gym_id = ?2";

ErasedCalls SqliteCalls::remove_for_lead(std::string_view gym_id, std::string_view lead_id) {
  return store_.run("lead", lead_id, [&] {
    ErasedCalls erased;
    {
      auto s = store_.statement(kCountLeadCalls);
      s->bind(1, std::string(lead_id));
      s->bind(2, std::string(gym_id));
      if (s->executeStep()) {
        erased.calls = s->getColumn(0).getInt64();
        erased.recordings = s->getColumn(1).getInt64();
        erased.transcripts = s->getColumn(2).getInt64();
      }
    }
    auto s = store_.statement(kDeleteLeadCalls);
    s->bind(1, std::string(lead_id));
    s->bind(2, std::string(gym_id));
    s->exec();
    return erased;
  });
}

// Calls not yet ended, over the partial index calls_open (migration v6).
constexpr std::string_view kOpenCalls =
    "SELECT " GYMDASH_CALL_COLUMNS " FROM calls WHERE status IN ('queued', 'ringing', 'in_progress') "
    "AND started_at < ?1 ORDER BY started_at, id LIMIT ?2";

std::vector<Call> SqliteCalls::open_calls(Timestamp started_before, int limit) {
  return store_.run("open calls", "", [&] {
    auto s = store_.statement(kOpenCalls);
    s->bind(1, to_millis(started_before));
    s->bind(2, std::max(limit, 0));
    std::vector<Call> out;
    while (s->executeStep()) out.push_back(read_call(*s));
    return out;
  });
}


// ---- do-not-call lists ---------------------------------------------------------

namespace {
DncEntry read_dnc(const SQLite::Statement& s) {
  DncEntry e;
  e.scope = s.getColumn(0).getString();
  e.phone = s.getColumn(1).getString();
  e.reason = s.getColumn(2).getString();
  e.source = s.getColumn(3).getString();
  e.added_at = from_millis(s.getColumn(4).getInt64());
  return e;
}
}  // namespace

bool SqliteDnc::add(const DncEntry& e) {
  return store_.run("do-not-call number", e.phone, [&] {
    auto s = store_.statement(
        "INSERT OR IGNORE INTO dnc_numbers (scope, phone, reason, source, added_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    s->bind(1, e.scope);
    s->bind(2, e.phone);
    s->bind(3, e.reason);
    s->bind(4, e.source);
    s->bind(5, to_millis(e.added_at));
    return s->exec() > 0;
  });
}

bool SqliteDnc::remove(std::string_view scope, std::string_view e164) {
  return store_.run("do-not-call number", e164, [&] {
    auto s = store_.statement("DELETE FROM dnc_numbers WHERE scope = ?1 AND phone = ?2");
    s->bind(1, std::string(scope));
    s->bind(2, std::string(e164));
    return s->exec() > 0;
  });
}

std::optional<DncEntry> SqliteDnc::find(std::string_view scope, std::string_view e164) {
  return store_.run("do-not-call number", e164, [&]() -> std::optional<DncEntry> {
    auto s = store_.statement(
        "SELECT scope, phone, reason, source, added_at FROM dnc_numbers WHERE scope = ?1 AND phone = ?2");
    s->bind(1, std::string(scope));
    s->bind(2, std::string(e164));
    if (!s->executeStep()) return std::nullopt;
    return read_dnc(*s);
  });
}

std::vector<DncEntry> SqliteDnc::list(std::string_view scope, int limit, int offset) {
  return store_.run("do-not-call list", scope, [&] {
    auto s = store_.statement(
        "SELECT scope, phone, reason, source, added_at FROM dnc_numbers WHERE scope = ?1 ORDER BY phone "
        "LIMIT ?2 OFFSET ?3");
    s->bind(1, std::string(scope));
    s->bind(2, std::max(limit, 0));
    s->bind(3, std::max(offset, 0));
    std::vector<DncEntry> out;
    while (s->executeStep()) out.push_back(read_dnc(*s));
    return out;
  });
}

std::int64_t SqliteDnc::count(std::string_view scope) {
  return store_.run("do-not-call list", scope, [&] {
    auto s = store_.statement("SELECT count(*) FROM dnc_numbers WHERE scope = ?1");
    s->bind(1, std::string(scope));
    s->executeStep();
    return s->getColumn(0).getInt64();
  });
}

}  // namespace

std::unique_ptr<Store> make_sqlite_store(const SqliteOptions& options) {
  return std::make_unique<SqliteStore>(options);
}

}  // namespace gymdash

namespace gymdash::sqlite_store {

namespace {
// The dialable set, word for word as in the partial indexes of migration v2.
#define GYMDASH_DIALABLE                                                                  \
  "consent_given = 1 AND do_not_call = 0 AND dnc_listed = 0 AND phone_invalid = 0 AND " \
  "active_call_id = '' AND status IN ('new', 'contacted', 'qualified', 'trial_booked') " \
  "AND attempts < ?3 AND (blocked_until IS NULL OR blocked_until <= ?2)"

std::string build(DialQuery::Tier tier, bool with_qualification, bool with_exclude, bool with_campaign) {
  using Tier = DialQuery::Tier;
  std::string sql = "SELECT " GYMDASH_LEAD_COLUMNS " FROM leads WHERE gym_id = ?1 AND ";
  // Excluded ids (a JSON array in ?9) are skipped in SQL, so the limit counts only leads returned.
  if (with_exclude) sql += "id NOT IN (SELECT value FROM json_each(?9)) AND ";
  // A campaign's leads: a primary-key probe of campaign_leads per lead the tier's index yields.
  if (with_campaign)
    sql +=
        "EXISTS (SELECT 1 FROM campaign_leads cl WHERE cl.campaign_id = ?10 AND cl.lead_id = leads.id "
        "AND cl.gym_id = ?1 AND cl.attempts < ?11 AND (cl.last_attempt_at IS NULL OR cl.last_attempt_at <= ?12)) "
        "AND ";
  switch (tier) {
    case Tier::Callback:
      sql += "callback_at IS NOT NULL AND callback_at <= ?2 AND " GYMDASH_DIALABLE;
      if (with_qualification) sql += " AND qualification = ?5";
      sql += " ORDER BY callback_at, id LIMIT ?4";
      break;
    case Tier::Fresh:
      sql += "local_zone = ?5 AND local_state = ?6 AND attempts = 0 AND callback_at IS NULL AND " GYMDASH_DIALABLE;
      if (with_qualification) sql += " AND qualification = ?7";
      sql += " ORDER BY created_at DESC, id DESC LIMIT ?4";
      break;
    case Tier::Retry:
      sql += "local_zone = ?5 AND local_state = ?6 AND qualification = ?8 AND attempts > 0 AND callback_at IS NULL "
             "AND " GYMDASH_DIALABLE " AND last_call_at <= ?7";
      sql += " ORDER BY attempts, last_call_at, id LIMIT ?4";
      break;
  }
  return sql;
}
std::string build_count(DialQuery::Tier tier) {
  // Named: on a small or unanalyzed table the planner may prefer (gym_id, status), which reads every lead.
  std::string sql = tier == DialQuery::Tier::Callback ? "SELECT COUNT(*) FROM leads INDEXED BY leads_dial_callback "
                                                      : "SELECT COUNT(*) FROM leads INDEXED BY leads_dial_retry ";
  sql += "WHERE gym_id = ?1 AND ";
  if (tier == DialQuery::Tier::Callback)
    sql += "callback_at IS NOT NULL AND callback_at <= ?2 AND " GYMDASH_DIALABLE;
  else
    sql += "attempts > 0 AND callback_at IS NULL AND " GYMDASH_DIALABLE " AND last_call_at <= ?4";
  return sql;
}
std::string build_callbacks_since() {
  // Named, as for the counts: the range of the callback index is all it reads.
  return "SELECT " GYMDASH_LEAD_COLUMNS " FROM leads INDEXED BY leads_dial_callback WHERE gym_id = ?1 AND "
         "callback_at IS NOT NULL AND callback_at > ?5 AND callback_at <= ?2 AND " GYMDASH_DIALABLE
         " ORDER BY callback_at, id LIMIT ?4";
}
#undef GYMDASH_DIALABLE
}  // namespace

const std::string& callbacks_since_sql() {
  static const std::string sql = build_callbacks_since();
  return sql;
}

const std::string& count_due_sql(DialQuery::Tier tier) {
  static const std::string callback = build_count(DialQuery::Tier::Callback);
  static const std::string retry = build_count(DialQuery::Tier::Retry);
  return tier == DialQuery::Tier::Callback ? callback : retry;
}

const std::string& dial_sql(DialQuery::Tier tier, bool with_qualification, bool with_exclude, bool with_campaign) {
  using T = DialQuery::Tier;
  // [tier][qualification][exclude][campaign]; Retry always has a qualification.
  static const auto table = [] {
    std::array<std::array<std::array<std::array<std::string, 2>, 2>, 2>, 3> t;
    for (int tier_index = 0; tier_index < 3; ++tier_index)
      for (int q = 0; q < 2; ++q)
        for (int e = 0; e < 2; ++e)
          for (int c = 0; c < 2; ++c) {
            const auto tr = static_cast<T>(tier_index);
            t[tier_index][q][e][c] = build(tr, q == 1 || tr == T::Retry, e == 1, c == 1);
          }
    return t;
  }();
  return table[static_cast<std::size_t>(tier)][with_qualification ? 1 : 0][with_exclude ? 1 : 0][with_campaign ? 1 : 0];
}

}  // namespace gymdash::sqlite_store
