// Leads in PostgreSQL: the SQLite backend's statements (sqlite_store.cpp),
// with what PostgreSQL does differently:
// - a lead write and the rows that follow it (its tags in lead_tags, its
//   calling-window group in lead_zones, the copies of its facts in its
//   campaign enrolments) are one statement with data-modifying CTEs: atomic
//   on its own and one round trip, where SQLite uses triggers;
// - expected refusals (duplicate id or phone, missing gym, stale version)
//   are conditions of the statement (WHERE EXISTS / NOT EXISTS, ON CONFLICT
//   DO NOTHING), never a server error, which would abort the caller's
//   transaction; a statement that wrote nothing is then explained by reads;
// - INSERT … SELECT casts its parameters ($n::bigint): unlike VALUES it does
//   not take their types from the columns.

#include <fmt/format.h>

#include <algorithm>
#include <gymdash/error.hpp>
#include <gymdash/store.hpp>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/columns.hpp"
#include "store/postgres/postgres_leads.hpp"
#include "store/postgres/postgres_store.hpp"

namespace gymdash::postgres_store {
namespace {

using namespace store_columns;

// The 42 columns' parameters, cast to the columns' types.
#define GYMDASH_LEAD_PARAMS                                                                                  \
  "$1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::text, "  \
  "$11::text, $12::text, $13::integer, $14::bigint, $15::text, $16::text, $17::integer, $18::integer, "     \
  "$19::text, $20::text, $21::integer, $22::integer, $23::integer, $24::bigint, $25::bigint, $26::text, "   \
  "$27::text, $28::bigint, $29::bigint, $30::bigint, $31::bigint, $32::bigint, $33::text, $34::text, "      \
  "$35::text, $36::integer, $37::text, $38::text, $39::text, $40::integer, $41::text, $42::bigint"

// The lead's tags as JSON; tags that are not valid UTF-8 are stored escaped
// (pg.hpp, Params::text), are no JSON then, and are not searchable by tag.
#define GYMDASH_TAGS_JSON "(CASE WHEN left(lead.tags, 1) = '[' THEN lead.tags ELSE '[]' END)::json"

// A new lead with its tags and its group; `conflict` is the ON CONFLICT
// clause: any unique key (insert) or only the gym's phone (insert_if_absent,
// where a taken id is still an error to explain). Returns one row per lead written.
#define GYMDASH_INSERT_LEAD(conflict)                                                                        \
  "WITH lead AS (INSERT INTO leads (" GYMDASH_LEAD_COLUMNS ") SELECT " GYMDASH_LEAD_PARAMS                   \
  " WHERE EXISTS (SELECT 1 FROM gyms WHERE id = $2::text) "                                                  \
  "AND NOT EXISTS (SELECT 1 FROM leads WHERE id = $1::text) " conflict                                        \
  " RETURNING id, gym_id, tags, local_zone, local_state), "                                                 \
  "tags AS (INSERT INTO lead_tags (lead_id, gym_id, tag) SELECT lead.id, lead.gym_id, t "                    \
  "FROM lead, json_array_elements_text(" GYMDASH_TAGS_JSON ") AS t ON CONFLICT DO NOTHING), "                \
  "zone AS (INSERT INTO lead_zones (gym_id, local_zone, local_state) SELECT gym_id, local_zone, local_state " \
  "FROM lead ON CONFLICT DO NOTHING) "                                                                       \
  "SELECT count(*) FROM lead"

constexpr std::string_view kInsertLead = GYMDASH_INSERT_LEAD("ON CONFLICT DO NOTHING");
constexpr std::string_view kInsertLeadIfAbsent = GYMDASH_INSERT_LEAD("ON CONFLICT (gym_id, phone) DO NOTHING");

// insert_many_if_absent: the batch is copied into a temporary table of the
// leads' shape (one per connection, emptied at commit), then stored by one
// statement with its tags and groups; a lead whose id or phone is taken is
// skipped there (ON CONFLICT DO NOTHING) and explained afterwards.
constexpr std::string_view kPrepareLeadBatch =
    "CREATE TEMP TABLE IF NOT EXISTS gymdash_lead_batch (LIKE leads) ON COMMIT DELETE ROWS; "
    "DELETE FROM gymdash_lead_batch";
constexpr std::string_view kCopyLeadBatch =
    "COPY gymdash_lead_batch (" GYMDASH_LEAD_COLUMNS ") FROM STDIN";
constexpr std::string_view kInsertLeadBatch =
    "WITH lead AS (INSERT INTO leads (" GYMDASH_LEAD_COLUMNS ") SELECT " GYMDASH_LEAD_COLUMNS
    " FROM gymdash_lead_batch b WHERE EXISTS (SELECT 1 FROM gyms WHERE gyms.id = b.gym_id) "
    "ON CONFLICT DO NOTHING RETURNING id, gym_id, tags, local_zone, local_state), "
    "tags AS (INSERT INTO lead_tags (lead_id, gym_id, tag) SELECT lead.id, lead.gym_id, t "
    "FROM lead, json_array_elements_text(" GYMDASH_TAGS_JSON ") AS t ON CONFLICT DO NOTHING), "
    "zone AS (INSERT INTO lead_zones (gym_id, local_zone, local_state) SELECT DISTINCT gym_id, local_zone, "
    "local_state FROM lead ON CONFLICT DO NOTHING) "
    "SELECT id FROM lead";
// A batch of at least kCopyLeadsMin new leads goes straight into the tables
// by COPY (leads, then lead_tags), after one question for the numbers its
// gyms have already; the groups by one INSERT of arrays. COPY has no ON
// CONFLICT: a number or id another writer stored meanwhile, or an unknown
// gym, fails it — then it is undone (a savepoint) and the batch goes the
// way above. Measured in docs/operations.md ("Bulk lead imports on PostgreSQL").
constexpr std::size_t kCopyLeadsMin = 1000;
constexpr std::string_view kLeadBatchTakenNumbers =
    "SELECT u.i FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(gym_id, phone, i) "
    "WHERE EXISTS (SELECT 1 FROM leads l WHERE l.gym_id = u.gym_id AND l.phone = u.phone)";
constexpr std::string_view kCountGyms = "SELECT count(*) FROM gyms WHERE id = ANY($1::text[])";
constexpr std::string_view kCopyLeads = "COPY leads (" GYMDASH_LEAD_COLUMNS ") FROM STDIN";
constexpr std::string_view kCopyLeadTags = "COPY lead_tags (lead_id, gym_id, tag) FROM STDIN";
constexpr std::string_view kInsertLeadZones =
    "INSERT INTO lead_zones (gym_id, local_zone, local_state) "
    "SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING";

// Of the batch's leads not stored (ids, gyms, phones as arrays), those whose
// gym has their phone. Asked of those few only: the same question of the
// whole temporary table (no statistics, so a poor plan) took 85 ms a batch of
// 10,000 on a million leads.
constexpr std::string_view kLeadBatchPhoneTaken =
    "SELECT u.id FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, gym_id, phone) WHERE EXISTS "
    "(SELECT 1 FROM leads l WHERE l.gym_id = u.gym_id AND l.phone = u.phone AND l.id <> u.id)";

// What follows a lead update (the CTE `lead`, the written rows with their
// id, gym_id, tags, local_zone, local_state, created_at, source, status,
// qualification and connects): the tags that went are deleted and the new
// ones added (never the same row twice in one statement), the groups added,
// the enrolments given the leads' facts.
#define GYMDASH_AFTER_LEAD_UPDATE                                                                              \
  "gone AS (DELETE FROM lead_tags USING lead WHERE lead_tags.lead_id = lead.id "                             \
  "AND lead_tags.tag NOT IN (SELECT json_array_elements_text(" GYMDASH_TAGS_JSON "))), "                     \
  "tags AS (INSERT INTO lead_tags (lead_id, gym_id, tag) SELECT lead.id, lead.gym_id, t "                    \
  "FROM lead, json_array_elements_text(" GYMDASH_TAGS_JSON ") AS t ON CONFLICT DO NOTHING), "                \
  "zone AS (INSERT INTO lead_zones (gym_id, local_zone, local_state) SELECT DISTINCT gym_id, local_zone, "   \
  "local_state FROM lead ON CONFLICT DO NOTHING), "                                                          \
  "enrolments AS (UPDATE campaign_leads SET lead_created_at = lead.created_at, lead_source = lead.source, "  \
  "lead_status = lead.status, lead_qualification = lead.qualification, lead_connects = lead.connects "       \
  "FROM lead WHERE campaign_leads.lead_id = lead.id) "

// The whole lead but its claim (active_call_id, $37, bound and not written),
// guarded by the version and by the phone being free in the gym, then its
// tags, group and enrolments (GYMDASH_AFTER_LEAD_UPDATE).
constexpr std::string_view kUpdateLead =
    "WITH lead AS (UPDATE leads SET external_id = $3, phone = $4, first_name = $5, last_name = $6, email = $7, "
    "source = $8, interest = $9, timeline = $10, notes = $11, tags = $12, consent_given = $13, "
    "consent_at = $14, consent_method = $15, consent_source = $16, do_not_call = $17, "
    "phone_invalid = $18, status = $19, qualification = $20, qualification_manual = $21, "
    "score = $22, attempts = $23, last_call_at = $24, next_call_at = $25, timezone = $26, "
    "custom_fields = $27, created_at = $28, updated_at = $29, version = $30, callback_at = $31, "
    "blocked_until = $32, recent_calls = $33, last_outcome = $34, sentiment = $35, connects = $36, "
    "local_zone = $38, local_state = $39, dnc_listed = $40, base_status = $41, base_status_at = $42 "
    "WHERE id = $1 AND gym_id = $2 AND version = $43 AND $37::text IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM leads o WHERE o.gym_id = $2 AND o.phone = $4 AND o.id <> $1) "
    "RETURNING id, gym_id, tags, local_zone, local_state, created_at, source, status, qualification, connects), "
    GYMDASH_AFTER_LEAD_UPDATE "SELECT count(*) FROM lead";

// What calls change (LeadRepository::update_call_state), with the enrolments' copies.
constexpr std::string_view kUpdateLeadCallState =
    "WITH lead AS (UPDATE leads SET do_not_call = $3, phone_invalid = $4, status = $5, qualification = $6, "
    "score = $7, attempts = $8, last_call_at = $9, updated_at = $10, version = $11, callback_at = $12, "
    "blocked_until = $13, recent_calls = $14, last_outcome = $15, sentiment = $16, connects = $17, "
    "next_call_at = $19 WHERE id = $1 AND gym_id = $2 AND version = $18 "
    "RETURNING id, status, qualification, connects), "
    "enrolments AS (UPDATE campaign_leads SET lead_status = lead.status, lead_qualification = lead.qualification, "
    "lead_connects = lead.connects FROM lead WHERE campaign_leads.lead_id = lead.id) "
    "SELECT count(*) FROM lead";

constexpr std::string_view kSetActiveCall =
    "UPDATE leads SET active_call_id = $4 WHERE id = $2 AND gym_id = $1 AND active_call_id = $3";
// The claim's row lock (lock_for_claim): a row another transaction holds is skipped, not waited for.
constexpr std::string_view kLockForClaim =
    "SELECT 1 FROM leads WHERE id = $2 AND gym_id = $1 FOR UPDATE SKIP LOCKED";
constexpr std::string_view kFindLead = "SELECT " GYMDASH_LEAD_COLUMNS " FROM leads WHERE id = $1 AND gym_id = $2";
constexpr std::string_view kFindLeadByPhone =
    "SELECT " GYMDASH_LEAD_COLUMNS " FROM leads WHERE gym_id = $1 AND phone = $2";
constexpr std::string_view kFindLeadByExternalId =
    "SELECT " GYMDASH_LEAD_COLUMNS
    " FROM leads WHERE gym_id = $1 AND external_id = $2 ORDER BY created_at, id LIMIT 1";
// The batch reads of a call ingest: one statement for many ids.
constexpr std::string_view kFindLeads =
    "SELECT " GYMDASH_LEAD_COLUMNS " FROM leads WHERE gym_id = $1 AND id = ANY($2::text[])";
constexpr std::string_view kFindLeadsByPhone =
    "SELECT " GYMDASH_LEAD_COLUMNS " FROM leads WHERE gym_id = $1 AND phone = ANY($2::text[])";
constexpr std::string_view kFindLeadsByExternalId =
    "SELECT DISTINCT ON (external_id) " GYMDASH_LEAD_COLUMNS
    " FROM leads WHERE gym_id = $1 AND external_id = ANY($2::text[]) ORDER BY external_id, created_at, id";
constexpr std::string_view kCallResultsMany =
    "SELECT call_id, started_at, ended_at, status, answered_by, outcome, callback_at, sentiment, opted_out, lead_id "
    "FROM call_results WHERE gym_id = $1 AND lead_id = ANY($2::text[]) ORDER BY lead_id, started_at, call_id";
// The batch writes of a call ingest. Results and history entries travel as
// arrays (unnest); the leads' call state is copied into the import's
// temporary table and written by one UPDATE … FROM it.
constexpr std::string_view kPutCallResults =
    "WITH input AS (SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], "
    "$7::text[], $8::text[], $9::bigint[], $10::text[], $11::integer[]) AS u(lead_id, call_id, started_at, "
    "ended_at, status, answered_by, outcome, callback_at, sentiment, opted_out)), "
    "result AS (INSERT INTO call_results (lead_id, gym_id, call_id, started_at, ended_at, status, "
    "answered_by, outcome, callback_at, sentiment, opted_out) "
    "SELECT i.lead_id, $1::text, i.call_id, i.started_at, i.ended_at, i.status, i.answered_by, i.outcome, "
    "i.callback_at, i.sentiment, i.opted_out FROM input i "
    "WHERE EXISTS (SELECT 1 FROM leads WHERE id = i.lead_id AND gym_id = $1::text) "
    "ON CONFLICT (lead_id, call_id) DO UPDATE SET gym_id = excluded.gym_id, started_at = excluded.started_at, "
    "ended_at = excluded.ended_at, status = excluded.status, answered_by = excluded.answered_by, "
    "outcome = excluded.outcome, callback_at = excluded.callback_at, sentiment = excluded.sentiment, "
    "opted_out = excluded.opted_out RETURNING lead_id, call_id, started_at), "
    "enrolments AS (UPDATE campaign_leads cl SET lead_first_call_at = LEAST("
    "(SELECT min(c.started_at) FROM call_results c WHERE c.lead_id = cl.lead_id AND NOT EXISTS "
    "(SELECT 1 FROM result r WHERE r.lead_id = c.lead_id AND r.call_id = c.call_id)), "
    "(SELECT min(r.started_at) FROM result r WHERE r.lead_id = cl.lead_id)) "
    "WHERE cl.lead_id IN (SELECT lead_id FROM result)) "
    "SELECT count(*) FROM result";
constexpr std::string_view kAppendHistoryMany =
    "INSERT INTO lead_history (lead_id, gym_id, at, kind, from_value, to_value, actor, reason) "
    "SELECT u.lead_id, $1::text, u.at, u.kind, u.from_value, u.to_value, u.actor, u.reason "
    "FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) "
    "WITH ORDINALITY AS u(lead_id, at, kind, from_value, to_value, actor, reason, n) "
    "WHERE EXISTS (SELECT 1 FROM leads WHERE id = u.lead_id AND gym_id = $1::text) ORDER BY u.n";
constexpr std::string_view kUpdateLeadCallStates =
    "WITH lead AS (UPDATE leads l SET do_not_call = b.do_not_call, phone_invalid = b.phone_invalid, "
    "status = b.status, qualification = b.qualification, score = b.score, attempts = b.attempts, "
    "last_call_at = b.last_call_at, updated_at = b.updated_at, version = b.version, callback_at = b.callback_at, "
    "blocked_until = b.blocked_until, recent_calls = b.recent_calls, last_outcome = b.last_outcome, "
    "sentiment = b.sentiment, connects = b.connects, next_call_at = b.next_call_at "
    "FROM gymdash_lead_batch b WHERE l.id = b.id AND l.gym_id = b.gym_id AND l.version = b.version - 1 "
    "RETURNING l.id, l.status, l.qualification, l.connects), "
    "enrolments AS (UPDATE campaign_leads SET lead_status = lead.status, lead_qualification = lead.qualification, "
    "lead_connects = lead.connects FROM lead WHERE campaign_leads.lead_id = lead.id) "
    "SELECT id FROM lead";
// update_many: kUpdateLead for a batch copied into the temporary table, the
// claim kept, each lead over the stored version given with its id ($1, $2);
// a lead whose version moved on, or whose number another lead has, is not
// written and not returned (the single-lead path explains it).
constexpr std::string_view kUpdateLeads =
    "WITH lead AS (UPDATE leads l SET external_id = b.external_id, phone = b.phone, first_name = b.first_name, "
    "last_name = b.last_name, email = b.email, source = b.source, interest = b.interest, timeline = b.timeline, "
    "notes = b.notes, tags = b.tags, consent_given = b.consent_given, consent_at = b.consent_at, "
    "consent_method = b.consent_method, consent_source = b.consent_source, do_not_call = b.do_not_call, "
    "phone_invalid = b.phone_invalid, status = b.status, qualification = b.qualification, "
    "qualification_manual = b.qualification_manual, score = b.score, attempts = b.attempts, "
    "last_call_at = b.last_call_at, next_call_at = b.next_call_at, timezone = b.timezone, "
    "custom_fields = b.custom_fields, created_at = b.created_at, updated_at = b.updated_at, version = b.version, "
    "callback_at = b.callback_at, blocked_until = b.blocked_until, recent_calls = b.recent_calls, "
    "last_outcome = b.last_outcome, sentiment = b.sentiment, connects = b.connects, local_zone = b.local_zone, "
    "local_state = b.local_state, dnc_listed = b.dnc_listed, base_status = b.base_status, "
    "base_status_at = b.base_status_at "
    "FROM gymdash_lead_batch b JOIN unnest($1::text[], $2::bigint[]) AS s(id, version) ON s.id = b.id "
    "WHERE l.id = b.id AND l.gym_id = b.gym_id AND l.version = s.version "
    "AND NOT EXISTS (SELECT 1 FROM leads o WHERE o.gym_id = b.gym_id AND o.phone = b.phone AND o.id <> b.id) "
    "RETURNING l.id, l.gym_id, l.tags, l.local_zone, l.local_state, l.created_at, l.source, l.status, "
    "l.qualification, l.connects), "
    GYMDASH_AFTER_LEAD_UPDATE "SELECT id FROM lead";
constexpr std::string_view kLeadVersion = "SELECT version FROM leads WHERE id = $1 AND gym_id = $2";
constexpr std::string_view kGymExists = "SELECT 1 FROM gyms WHERE id = $1";
constexpr std::string_view kLeadIdExists = "SELECT 1 FROM leads WHERE id = $1";
constexpr std::string_view kLeadWithPhone = "SELECT id FROM leads WHERE gym_id = $1 AND phone = $2 AND id <> $3";
constexpr std::string_view kDeleteLead = "DELETE FROM leads WHERE id = $1 AND gym_id = $2";
// Counted from the statement's snapshot (before the delete), deleted in the same statement.
constexpr std::string_view kRemoveCounted =
    "WITH gone AS (DELETE FROM leads WHERE id = $1 AND gym_id = $2 RETURNING 1) "
    "SELECT (SELECT count(*) FROM gone), "
    "(SELECT count(*) FROM lead_history WHERE lead_id = $1 AND gym_id = $2), "
    "(SELECT count(*) FROM call_results WHERE lead_id = $1 AND gym_id = $2), "
    "(SELECT count(*) FROM campaign_leads WHERE lead_id = $1 AND gym_id = $2)";
constexpr std::string_view kAppendErasure =
    "INSERT INTO lead_erasures (gym_id, lead_id, at, actor, reason, history_entries, calls, recordings, "
    "transcripts, call_results, enrolments) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING seq";
constexpr std::string_view kErasures =
    "SELECT seq, gym_id, lead_id, at, actor, reason, history_entries, calls, recordings, transcripts, "
    "call_results, enrolments FROM lead_erasures WHERE gym_id = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3";
constexpr std::string_view kAppendHistory =
    "INSERT INTO lead_history (lead_id, gym_id, at, kind, from_value, to_value, actor, reason) "
    "SELECT $1::text, $2::text, $3::bigint, $4::text, $5::text, $6::text, $7::text, $8::text "
    "WHERE EXISTS (SELECT 1 FROM leads WHERE id = $1::text AND gym_id = $2::text) RETURNING seq";
constexpr std::string_view kHistory =
    "SELECT seq, lead_id, at, kind, from_value, to_value, actor, reason FROM lead_history "
    "WHERE lead_id = $1 AND gym_id = $2 ORDER BY seq";
constexpr std::int64_t kRareTag = 10000;
constexpr std::string_view kCountTagUpTo =
    "SELECT count(*) FROM (SELECT 1 FROM lead_tags WHERE gym_id = $1 AND tag = $2 LIMIT 10000) AS t";
// A result replaces the one with the same call id; the enrolments' first
// call is the earliest of the lead's other results and this one.
constexpr std::string_view kPutCallResult =
    "WITH result AS (INSERT INTO call_results (lead_id, gym_id, call_id, started_at, ended_at, status, "
    "answered_by, outcome, callback_at, sentiment, opted_out) "
    "SELECT $1::text, $2::text, $3::text, $4::bigint, $5::bigint, $6::text, $7::text, $8::text, $9::bigint, "
    "$10::text, $11::integer WHERE EXISTS (SELECT 1 FROM leads WHERE id = $1::text AND gym_id = $2::text) "
    "ON CONFLICT (lead_id, call_id) DO UPDATE SET gym_id = excluded.gym_id, started_at = excluded.started_at, "
    "ended_at = excluded.ended_at, status = excluded.status, answered_by = excluded.answered_by, "
    "outcome = excluded.outcome, callback_at = excluded.callback_at, sentiment = excluded.sentiment, "
    "opted_out = excluded.opted_out RETURNING started_at), "
    "enrolments AS (UPDATE campaign_leads SET lead_first_call_at = (SELECT LEAST(min(c.started_at), "
    "(SELECT started_at FROM result)) FROM call_results c WHERE c.lead_id = $1::text AND c.call_id <> $3::text) "
    "WHERE lead_id = $1::text AND EXISTS (SELECT 1 FROM result)) "
    "SELECT count(*) FROM result";
constexpr std::string_view kCallResults =
    "SELECT call_id, started_at, ended_at, status, answered_by, outcome, callback_at, sentiment, opted_out "
    "FROM call_results WHERE lead_id = $1 AND gym_id = $2 ORDER BY started_at, call_id";

// The 42 columns' values in GYMDASH_LEAD_COLUMNS order, into statement
// parameters (pg::Params) or COPY rows (pg::CopyRows).
template <class Sink>
void put_lead(Sink& p, const Lead& lead) {
  const auto status = status_name(lead.status);
  if (status.empty())
    throw InvalidArgumentError(fmt::format("lead {}: status: not a lead status", lead.id), "status");
  const auto qualification = qualification_name(lead.qualification);
  if (qualification.empty())
    throw InvalidArgumentError(fmt::format("lead {}: qualification: not a qualification", lead.id), "qualification");
  p.text(lead.id).text(lead.gym_id).text(lead.external_id).text(lead.phone).text(lead.first_name);
  p.text(lead.last_name).text(lead.email).text(lead.source).text(lead.interest).text(lead.timeline);
  p.text(lead.notes).text(encode_strings(lead.tags)).integer(lead.consent.given ? 1 : 0).time(lead.consent.at);
  p.text(lead.consent.method).text(lead.consent.source).integer(lead.do_not_call ? 1 : 0);
  p.integer(lead.phone_invalid ? 1 : 0).text(status).text(qualification).integer(lead.qualification_manual ? 1 : 0);
  p.integer(lead.score).integer(lead.attempts).time(lead.last_call_at).time(lead.next_call_at).text(lead.timezone);
  p.text(encode_fields(lead.custom_fields)).time(lead.created_at).time(lead.updated_at).integer(lead.version);
  p.time(lead.callback_at).time(lead.blocked_until).text(encode_times(lead.recent_calls)).text(lead.last_outcome);
  p.text(lead.sentiment).integer(lead.connects).text(lead.active_call_id).text(lead.local_zone);
  p.text(lead.local_state).integer(lead.dnc_listed ? 1 : 0).text(status_name(lead.base_status));
  p.time(lead.base_status_at);
}

pg::Params lead_params(const Lead& lead) {
  pg::Params p;
  put_lead(p, lead);
  return p;
}

bool flag(const pg::Result& r, int row, int col) { return r.integer(row, col) != 0; }

Lead read_lead(const pg::Result& r, int row) {
  Lead lead;
  lead.id = r.text(row, 0);
  const std::string owner = "lead " + lead.id;
  lead.gym_id = r.text(row, 1);
  lead.external_id = r.text(row, 2);
  lead.phone = r.text(row, 3);
  lead.first_name = r.text(row, 4);
  lead.last_name = r.text(row, 5);
  lead.email = r.text(row, 6);
  lead.source = r.text(row, 7);
  lead.interest = r.text(row, 8);
  lead.timeline = r.text(row, 9);
  lead.notes = r.text(row, 10);
  lead.tags = decode_strings(r.text(row, 11), owner, "tags");
  lead.consent.given = flag(r, row, 12);
  lead.consent.at = r.optional_time(row, 13);
  lead.consent.method = r.text(row, 14);
  lead.consent.source = r.text(row, 15);
  lead.do_not_call = flag(r, row, 16);
  lead.phone_invalid = flag(r, row, 17);
  lead.status = parse_stored<LeadStatus>(kStatusNames, r.text(row, 18), owner, "status");
  lead.qualification = parse_stored<Qualification>(kQualificationNames, r.text(row, 19), owner, "qualification");
  lead.qualification_manual = flag(r, row, 20);
  lead.score = static_cast<int>(r.integer(row, 21));
  lead.attempts = static_cast<int>(r.integer(row, 22));
  lead.last_call_at = r.optional_time(row, 23);
  lead.next_call_at = r.optional_time(row, 24);
  lead.timezone = r.text(row, 25);
  lead.custom_fields = decode_fields(r.text(row, 26), owner, "custom_fields");
  lead.created_at = r.time(row, 27);
  lead.updated_at = r.time(row, 28);
  lead.version = r.integer(row, 29);
  lead.callback_at = r.optional_time(row, 30);
  lead.blocked_until = r.optional_time(row, 31);
  lead.recent_calls = decode_times(r.text(row, 32), owner);
  lead.last_outcome = r.text(row, 33);
  lead.sentiment = r.text(row, 34);
  lead.connects = static_cast<int>(r.integer(row, 35));
  lead.active_call_id = r.text(row, 36);
  lead.local_zone = r.text(row, 37);
  lead.local_state = r.text(row, 38);
  lead.dnc_listed = flag(r, row, 39);
  lead.base_status = parse_stored<LeadStatus>(kStatusNames, r.text(row, 40), owner, "base_status");
  lead.base_status_at = r.time(row, 41);
  return lead;
}

std::vector<Lead> read_leads(const pg::Result& r) {
  std::vector<Lead> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_lead(r, i));
  return out;
}

// A row of kCallResults (and of kCallResultsMany, which adds the lead id).
CallResult read_call_result(const pg::Result& r, int i) {
  CallResult c;
  c.call_id = r.text(i, 0);
  c.started_at = r.time(i, 1);
  c.ended_at = r.optional_time(i, 2);
  c.status = parse_call_status(r.text(i, 3));
  c.answered_by = parse_answered_by(r.text(i, 4));
  if (!r.null(i, 5)) c.outcome = parse_call_outcome(r.text(i, 5));
  c.callback_at = r.optional_time(i, 6);
  c.sentiment = r.text(i, 7);
  c.opted_out = r.integer(i, 8) != 0;
  return c;
}

std::optional<Lead> first_lead(const pg::Result& r) {
  if (r.rows() == 0) return std::nullopt;
  return read_lead(r, 0);
}

// The dialable set, word for word as in the partial indexes of the schema;
// `now` and `max` are the parameters' placeholders.
std::string dialable(const std::string& now, const std::string& max) {
  return "consent_given = 1 AND do_not_call = 0 AND dnc_listed = 0 AND phone_invalid = 0 AND "
         "active_call_id = '' AND status IN ('new', 'contacted', 'qualified', 'trial_booked') "
         "AND attempts < " + max + " AND (blocked_until IS NULL OR blocked_until <= " + now + ")";
}

// Parameters numbered as they are added, so that the numbering is dense
// whatever the query's shape (PostgreSQL must know every $n's type).
struct Builder {
  pg::Params params;
  std::string text(std::string_view v) {
    params.text(v);
    return "$" + std::to_string(params.size());
  }
  std::string integer(std::int64_t v) {
    params.integer(v);
    return "$" + std::to_string(params.size());
  }
};

// Copies `count` leads by `copy_sql` (a COPY of GYMDASH_LEAD_COLUMNS),
// `lead(k)` the k-th: the rows are made while they are sent, a few hundred
// at a time, so the server stores one piece while the next is made.
void copy_leads(pg::Connection& c, std::string_view copy_sql, std::size_t count,
                const std::function<const Lead&(std::size_t)>& lead) {
  std::size_t next = 0;
  c.copy_in(copy_sql, [&](pg::CopyRows& rows) {
    for (; next < count && rows.data().size() < pg::kCopyPieceBytes; ++next) {
      put_lead(rows, lead(next));
      rows.end_row();
    }
    return next < count;
  });
}

// Empties the connection's temporary batch table (kPrepareLeadBatch) and
// copies `count` leads into it (copy_leads).
void fill_lead_batch(pg::Connection& c, std::size_t count, const std::function<const Lead&(std::size_t)>& lead) {
  c.script(kPrepareLeadBatch);
  copy_leads(c, kCopyLeadBatch, count, lead);
}

// A gym and a phone number, viewed (for sets of a batch's numbers).
struct NumberKey {
  std::string_view gym_id, phone;
  bool operator==(const NumberKey&) const = default;
};
struct NumberKeyHash {
  std::size_t operator()(const NumberKey& k) const noexcept {
    return static_cast<std::size_t>(BulkNumbers::key(k.gym_id, k.phone));
  }
};

class PgLeads final : public LeadRepository {
 public:
  explicit PgLeads(Core& core) : core_(core) {}

  void insert(const Lead& lead) override {
    core_.run("lead", lead.id, [&] {
      core_.with_connection([&](pg::Connection& c) {
        if (c.prepared(kInsertLead, lead_params(lead)).integer(0, 0) > 0) return;
        explain_conflict(c, lead, true);
        throw ConflictError(fmt::format("lead {}: not stored: changed concurrently, try again", lead.id), "id");
      });
    });
  }

  bool insert_if_absent(const Lead& lead) override {
    return core_.run("lead", lead.id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        if (c.prepared(kInsertLeadIfAbsent, lead_params(lead)).integer(0, 0) > 0) return true;
        auto gym = c.prepared(kGymExists, pg::Params().text(lead.gym_id));
        if (gym.rows() == 0)
          throw NotFoundError(fmt::format("gym {}: not found (storing lead {})", lead.gym_id, lead.id), "gym_id");
        // A taken phone is the answer "absent: no"; a taken id is an error, unless the same row has both.
        auto phone = c.prepared(kLeadWithPhone, pg::Params().text(lead.gym_id).text(lead.phone).text(""));
        if (phone.rows() > 0) return false;
        explain_conflict(c, lead, true);
        throw ConflictError(fmt::format("lead {}: not stored: changed concurrently, try again", lead.id), "id");
      });
    });
  }

  std::vector<bool> insert_many_if_absent(std::span<const Lead> leads) override {
    std::vector<bool> stored(leads.size(), false);
    if (leads.empty()) return stored;
    return core_.run("lead batch", leads.front().id, [&] {
      return core_.within_transaction([&](pg::Connection& c) {
        // A phone seen earlier in the batch is taken by then: only the first
        // lead of each gym and phone goes to the server.
        std::unordered_set<NumberKey, NumberKeyHash> seen;  // views into `leads`
        seen.reserve(leads.size());
        std::vector<std::size_t> sent;
        sent.reserve(leads.size());
        for (std::size_t i = 0; i < leads.size(); ++i)
          if (seen.insert(NumberKey{leads[i].gym_id, leads[i].phone}).second) sent.push_back(i);
        // During a bulk load into an empty table (BulkNumbers): the keys of
        // the numbers sent, for the COPY path's question and, once stored,
        // for the load's later batches. Empty otherwise.
        auto& numbers = core_.bulk_numbers();
        std::vector<std::uint64_t> keys;
        if (numbers.active()) {
          keys.reserve(sent.size());
          for (auto i : sent) keys.push_back(BulkNumbers::key(leads[i].gym_id, leads[i].phone));
        }
        const auto remember = [&] {
          if (keys.empty()) return;
          std::vector<std::uint64_t> kept;
          for (std::size_t k = 0; k < sent.size(); ++k)
            if (stored[sent[k]]) kept.push_back(keys[k]);
          numbers.add(std::move(kept));
        };
        if (sent.size() >= kCopyLeadsMin && copy_new_leads(c, leads, sent, stored, numbers, keys)) {
          remember();
          return stored;
        }
        fill_lead_batch(c, sent.size(), [&](std::size_t k) -> const Lead& { return leads[sent[k]]; });
        std::unordered_map<std::string_view, std::size_t> index;  // lead id → position, of the leads sent
        index.reserve(sent.size());
        for (auto i : sent) index.emplace(leads[i].id, i);
        std::vector<bool> done(leads.size(), false);  // stored, or known to be a taken phone
        auto inserted = c.prepared(kInsertLeadBatch);
        for (int r = 0; r < inserted.rows(); ++r) {
          auto it = index.find(inserted.text(r, 0));
          if (it == index.end()) continue;
          stored[it->second] = true;
          done[it->second] = true;
        }
        if (static_cast<std::size_t>(inserted.rows()) < sent.size()) {
          std::vector<std::string> ids, gyms, phones;
          for (auto i : sent) {
            if (done[i]) continue;
            ids.push_back(leads[i].id);
            gyms.push_back(leads[i].gym_id);
            phones.push_back(leads[i].phone);
          }
          auto taken =
              c.prepared(kLeadBatchPhoneTaken, pg::Params().text_array(ids).text_array(gyms).text_array(phones));
          for (int r = 0; r < taken.rows(); ++r)
            if (auto it = index.find(taken.text(r, 0)); it != index.end()) done[it->second] = true;
          // What is left was refused for another reason (an unknown gym, a
          // taken id, a concurrent writer): the single-lead path explains it
          // or stores it.
          for (auto i : sent)
            if (!done[i]) stored[i] = insert_if_absent(leads[i]);
        }
        remember();
        return stored;
      });
    });
  }

  // The COPY path of insert_many_if_absent (kCopyLeadsMin): marks in
  // `stored` the leads of `sent` it stored; false, having changed nothing,
  // if COPY refused a row (a number or id taken meanwhile, an unknown gym).
  // `keys`: those of the numbers of `sent` during a bulk load into an empty table, else empty.
  static bool copy_new_leads(pg::Connection& c, std::span<const Lead> leads, const std::vector<std::size_t>& sent,
                             std::vector<bool>& stored, const BulkNumbers& numbers,
                             const std::vector<std::uint64_t>& keys) {
    // Asked about: every number, or during a bulk load into an empty table
    // only those the load may have stored already.
    const std::vector<bool> ask = keys.empty() ? std::vector<bool>(sent.size(), true) : numbers.maybe_stored(keys);
    std::vector<std::string> gyms, phones;
    std::vector<std::size_t> asked;  // position in `sent` of each number asked about
    gyms.reserve(sent.size());
    phones.reserve(sent.size());
    for (std::size_t k = 0; k < sent.size(); ++k) {
      if (!ask[k]) continue;
      gyms.push_back(leads[sent[k]].gym_id);
      phones.push_back(leads[sent[k]].phone);
      asked.push_back(k);
    }
    std::vector<bool> taken(sent.size(), false);
    if (!asked.empty()) {
      auto found = c.prepared(kLeadBatchTakenNumbers, pg::Params().text_array(gyms).text_array(phones));
      for (int r = 0; r < found.rows(); ++r) taken[asked[static_cast<std::size_t>(found.integer(r, 0) - 1)]] = true;
    }
    std::vector<std::string> zone_gyms, zones, states;
    std::unordered_set<std::string> zones_seen;
    std::vector<std::size_t> copied;
    copied.reserve(sent.size());
    bool any_tags = false;
    for (std::size_t k = 0; k < sent.size(); ++k) {
      if (taken[k]) continue;
      const Lead& lead = leads[sent[k]];
      any_tags = any_tags || !lead.tags.empty();
      std::string zone_key = lead.gym_id;
      zone_key.push_back('\0');
      zone_key += lead.local_zone;
      zone_key.push_back('\0');
      zone_key += lead.local_state;
      if (zones_seen.insert(std::move(zone_key)).second) {
        zone_gyms.push_back(lead.gym_id);
        zones.push_back(lead.local_zone);
        states.push_back(lead.local_state);
      }
      copied.push_back(sent[k]);
    }
    if (copied.empty()) return true;  // every number taken: nothing stored, as the other way would say
    // Every gym known: during a bulk load the leads' foreign key to gyms is
    // dropped (PostgresStore::begin_bulk_load), so COPY would not refuse an
    // unknown one; the other way skips or explains it.
    std::vector<std::string> batch_gyms(zone_gyms.begin(), zone_gyms.end());
    std::sort(batch_gyms.begin(), batch_gyms.end());
    batch_gyms.erase(std::unique(batch_gyms.begin(), batch_gyms.end()), batch_gyms.end());
    if (c.prepared(kCountGyms, pg::Params().text_array(batch_gyms)).integer(0, 0) !=
        static_cast<std::int64_t>(batch_gyms.size()))
      return false;
    // The tags' rows are made while they are sent, as the leads' (copy_leads).
    std::size_t next = 0;
    const auto put_tags = [&](pg::CopyRows& rows) {
      for (; next < copied.size() && rows.data().size() < pg::kCopyPieceBytes; ++next) {
        const Lead& lead = leads[copied[next]];
        for (std::size_t t = 0; t < lead.tags.size(); ++t) {
          // A tag twice in one lead is one row.
          if (std::find(lead.tags.begin(), lead.tags.begin() + static_cast<std::ptrdiff_t>(t), lead.tags[t]) !=
              lead.tags.begin() + static_cast<std::ptrdiff_t>(t))
            continue;
          rows.text(lead.id).text(lead.gym_id).text(lead.tags[t]);
          rows.end_row();
        }
      }
      return next < copied.size();
    };
    c.script("SAVEPOINT gymdash_copy_leads");
    try {
      copy_leads(c, kCopyLeads, copied.size(), [&](std::size_t k) -> const Lead& { return leads[copied[k]]; });
      if (any_tags) c.copy_in(kCopyLeadTags, put_tags);
      c.prepared(kInsertLeadZones, pg::Params().text_array(zone_gyms).text_array(zones).text_array(states));
    } catch (const pg::SqlError& e) {
      // 23505 a unique key, 23503 a foreign key (the gym): the other way explains or skips those.
      if (e.sqlstate() != "23505" && e.sqlstate() != "23503") throw;
      c.script("ROLLBACK TO SAVEPOINT gymdash_copy_leads; RELEASE SAVEPOINT gymdash_copy_leads");
      return false;
    }
    c.script("RELEASE SAVEPOINT gymdash_copy_leads");
    for (auto i : copied) stored[i] = true;
    return true;
  }

  std::optional<Lead> find(std::string_view gym_id, std::string_view lead_id) override {
    return core_.run("lead", lead_id, [&] {
      return first_lead(core_.with_connection(
          [&](pg::Connection& c) { return c.prepared(kFindLead, pg::Params().text(lead_id).text(gym_id)); }));
    });
  }

  std::optional<Lead> find_by_phone(std::string_view gym_id, std::string_view e164) override {
    return core_.run("lead with phone", e164, [&] {
      return first_lead(core_.with_connection(
          [&](pg::Connection& c) { return c.prepared(kFindLeadByPhone, pg::Params().text(gym_id).text(e164)); }));
    });
  }

  std::optional<Lead> find_by_external_id(std::string_view gym_id, std::string_view external_id) override {
    if (external_id.empty()) return std::nullopt;
    return core_.run("lead", external_id, [&] {
      return first_lead(core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kFindLeadByExternalId, pg::Params().text(gym_id).text(external_id));
      }));
    });
  }

  void update(const Lead& lead) override {
    core_.run("lead", lead.id, [&] {
      core_.with_connection([&](pg::Connection& c) {
        const bool expectable = lead.version != std::numeric_limits<std::int64_t>::min();
        if (expectable) {
          auto p = lead_params(lead);
          p.integer(lead.version - 1);
          if (c.prepared(kUpdateLead, p).integer(0, 0) > 0) return;
        }
        explain_stale(c, lead, expectable);
        explain_conflict(c, lead, false);
        throw ConflictError(fmt::format("lead {}: not stored: changed concurrently, try again", lead.id), "version");
      });
    });
  }

  void update_many(std::span<const Lead> leads, std::span<const std::int64_t> stored_versions) override {
    bool plain = leads.size() <= 1 || stored_versions.size() != leads.size();
    for (std::size_t i = 0; !plain && i < leads.size(); ++i)
      plain = stored_versions[i] < 0 || stored_versions[i] >= leads[i].version;
    if (plain) {  // one lead, or arguments the default refuses
      LeadRepository::update_many(leads, stored_versions);
      return;
    }
    core_.run("lead batch", leads.front().id, [&] {
      core_.within_transaction([&](pg::Connection& c) {
        fill_lead_batch(c, leads.size(), [&](std::size_t k) -> const Lead& { return leads[k]; });
        std::vector<std::string> ids;
        ids.reserve(leads.size());
        for (const auto& l : leads) ids.push_back(l.id);
        // Two leads of the batch trading numbers would meet the unique key
        // mid-statement: then nothing of it stays and each lead goes alone.
        c.script("SAVEPOINT gymdash_update_leads");
        std::unordered_set<std::string> written;
        try {
          auto r = c.prepared(kUpdateLeads, pg::Params().text_array(ids).integer_array(stored_versions));
          for (int i = 0; i < r.rows(); ++i) written.insert(r.text(i, 0));
        } catch (const pg::SqlError& e) {
          if (e.sqlstate() != "23505") throw;
          c.script("ROLLBACK TO SAVEPOINT gymdash_update_leads");
        }
        c.script("RELEASE SAVEPOINT gymdash_update_leads");
        if (written.size() == leads.size()) return;
        // What is left was stale, gone or refused: the single-lead path says which.
        for (std::size_t i = 0; i < leads.size(); ++i)
          if (!written.contains(leads[i].id))
            LeadRepository::update_many(leads.subspan(i, 1), stored_versions.subspan(i, 1));
      });
    });
  }

  void update_call_state(const Lead& lead) override {
    core_.run("lead", lead.id, [&] {
      const auto status = status_name(lead.status);
      const auto qualification = qualification_name(lead.qualification);
      if (status.empty())
        throw InvalidArgumentError(fmt::format("lead {}: status: not a lead status", lead.id), "status");
      if (qualification.empty())
        throw InvalidArgumentError(fmt::format("lead {}: qualification: not a qualification", lead.id),
                                   "qualification");
      pg::Params p;
      p.text(lead.id).text(lead.gym_id).integer(lead.do_not_call ? 1 : 0).integer(lead.phone_invalid ? 1 : 0);
      p.text(status).text(qualification).integer(lead.score).integer(lead.attempts).time(lead.last_call_at);
      p.time(lead.updated_at).integer(lead.version).time(lead.callback_at).time(lead.blocked_until);
      p.text(encode_times(lead.recent_calls)).text(lead.last_outcome).text(lead.sentiment).integer(lead.connects);
      p.integer(lead.version - 1).time(lead.next_call_at);
      core_.with_connection([&](pg::Connection& c) {
        if (c.prepared(kUpdateLeadCallState, p).integer(0, 0) > 0) return;
        explain_stale(c, lead, true);
        throw ConflictError(fmt::format("lead {}: not stored: changed concurrently, try again", lead.id), "version");
      });
    });
  }

  bool set_active_call(std::string_view gym_id, std::string_view lead_id, std::string_view expected,
                       std::string_view next) override {
    return core_.run("lead", lead_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kSetActiveCall, pg::Params().text(gym_id).text(lead_id).text(expected).text(next))
                   .affected() > 0;
      });
    });
  }

  bool lock_for_claim(std::string_view gym_id, std::string_view lead_id) override {
    return core_.run("lead", lead_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kLockForClaim, pg::Params().text(gym_id).text(lead_id)).rows() > 0;
      });
    });
  }

  bool remove(std::string_view gym_id, std::string_view lead_id) override {
    return core_.run("lead", lead_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kDeleteLead, pg::Params().text(lead_id).text(gym_id)).affected() > 0;
      });
    });
  }

  std::optional<ErasedLeadRows> remove_counted(std::string_view gym_id, std::string_view lead_id) override {
    return core_.run("lead", lead_id, [&]() -> std::optional<ErasedLeadRows> {
      auto r = core_.with_connection(
          [&](pg::Connection& c) { return c.prepared(kRemoveCounted, pg::Params().text(lead_id).text(gym_id)); });
      if (r.integer(0, 0) == 0) return std::nullopt;
      ErasedLeadRows rows;
      rows.history_entries = r.integer(0, 1);
      rows.call_results = r.integer(0, 2);
      rows.enrolments = r.integer(0, 3);
      return rows;
    });
  }

  std::int64_t append_erasure(const LeadErasure& e) override {
    return core_.run("lead", e.lead_id, [&] {
      pg::Params p;
      p.text(e.gym_id).text(e.lead_id).time(e.at).text(e.actor).text(e.reason).integer(e.history_entries);
      p.integer(e.calls).integer(e.recordings).integer(e.transcripts).integer(e.call_results).integer(e.enrolments);
      return core_.with_connection([&](pg::Connection& c) { return c.prepared(kAppendErasure, p).integer(0, 0); });
    });
  }

  std::vector<LeadErasure> erasures(std::string_view gym_id, int limit, int offset) override {
    return core_.run("gym", gym_id, [&] {
      auto r = core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kErasures,
                          pg::Params().text(gym_id).integer(std::max(limit, 0)).integer(std::max(offset, 0)));
      });
      std::vector<LeadErasure> out;
      for (int i = 0; i < r.rows(); ++i) {
        LeadErasure e;
        e.seq = r.integer(i, 0);
        e.gym_id = r.text(i, 1);
        e.lead_id = r.text(i, 2);
        e.at = r.time(i, 3);
        e.actor = r.text(i, 4);
        e.reason = r.text(i, 5);
        e.history_entries = r.integer(i, 6);
        e.calls = r.integer(i, 7);
        e.recordings = r.integer(i, 8);
        e.transcripts = r.integer(i, 9);
        e.call_results = r.integer(i, 10);
        e.enrolments = r.integer(i, 11);
        out.push_back(std::move(e));
      }
      return out;
    });
  }

  LeadPage list(std::string_view gym_id, const LeadFilter& filter) override;

  std::int64_t append_history(std::string_view gym_id, const LeadEvent& event) override {
    return core_.run("lead", event.lead_id, [&] {
      pg::Params p;
      p.text(event.lead_id).text(gym_id).time(event.at).text(event.kind).text(event.from).text(event.to);
      p.text(event.actor).text(event.reason);
      auto r = core_.with_connection([&](pg::Connection& c) { return c.prepared(kAppendHistory, p); });
      if (r.rows() == 0)
        throw NotFoundError(fmt::format("lead {}: not found in gym {}", event.lead_id, gym_id), "lead_id");
      return r.integer(0, 0);
    });
  }

  std::vector<LeadEvent> history(std::string_view gym_id, std::string_view lead_id) override {
    return core_.run("lead", lead_id, [&] {
      auto r = core_.with_connection(
          [&](pg::Connection& c) { return c.prepared(kHistory, pg::Params().text(lead_id).text(gym_id)); });
      std::vector<LeadEvent> out;
      for (int i = 0; i < r.rows(); ++i) {
        LeadEvent e;
        e.seq = r.integer(i, 0);
        e.lead_id = r.text(i, 1);
        e.at = r.time(i, 2);
        e.kind = r.text(i, 3);
        e.from = r.text(i, 4);
        e.to = r.text(i, 5);
        e.actor = r.text(i, 6);
        e.reason = r.text(i, 7);
        out.push_back(std::move(e));
      }
      return out;
    });
  }

  std::vector<Lead> dial_candidates(std::string_view gym_id, const DialQuery& q) override;
  std::vector<Lead> dial_candidates_in(std::string_view gym_id, const DialQuery& q,
                                       const std::vector<std::pair<std::string, std::string>>& groups) override;
  std::vector<Lead> callbacks_due_since(std::string_view gym_id, Timestamp after, Timestamp now, int max_attempts,
                                        int limit) override;

  std::vector<std::pair<std::string, std::string>> dial_groups(std::string_view gym_id) override {
    return core_.run("zones of gym", gym_id, [&] {
      auto r = core_.with_connection([&](pg::Connection& c) {
        return c.prepared(
            "SELECT local_zone, local_state FROM lead_zones WHERE gym_id = $1 ORDER BY local_zone, local_state",
            pg::Params().text(gym_id));
      });
      std::vector<std::pair<std::string, std::string>> out;
      for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0), r.text(i, 1));
      return out;
    });
  }

  DueCounts count_due(std::string_view gym_id, Timestamp now, int max_attempts,
                      Timestamp last_call_before) override {
    return core_.run("due jobs of gym", gym_id, [&] {
      // Both counts in one statement (one snapshot, one round trip).
      static const std::string sql =
          "SELECT (SELECT count(*) FROM leads WHERE gym_id = $1 AND callback_at IS NOT NULL AND callback_at <= $2 "
          "AND " + dialable("$2", "$3") + "), "
          "(SELECT count(*) FROM leads WHERE gym_id = $1 AND attempts > 0 AND callback_at IS NULL AND " +
          dialable("$2", "$3") + " AND last_call_at <= $4)";
      auto r = core_.with_connection([&](pg::Connection& c) {
        return c.prepared(sql, pg::Params().text(gym_id).time(now).integer(max_attempts).time(last_call_before));
      });
      DueCounts out;
      out.callbacks = r.integer(0, 0);
      out.retries = r.integer(0, 1);
      return out;
    });
  }

  std::vector<Lead> find_by_phone_any_gym(std::string_view e164) override {
    return core_.run("leads with phone", e164, [&] {
      return read_leads(core_.with_connection([&](pg::Connection& c) {
        return c.prepared("SELECT " GYMDASH_LEAD_COLUMNS
                          " FROM leads WHERE phone = $1 ORDER BY gym_id",
                          pg::Params().text(e164));
      }));
    });
  }

  void put_call_result(std::string_view gym_id, std::string_view lead_id, const CallResult& r) override {
    core_.run("lead", lead_id, [&] {
      pg::Params p;
      p.text(lead_id).text(gym_id).text(r.call_id).time(r.started_at).time(r.ended_at).text(to_string(r.status));
      p.text(to_string(r.answered_by));
      if (r.outcome)
        p.text(to_string(*r.outcome));
      else
        p.null();
      p.time(r.callback_at).text(r.sentiment).integer(r.opted_out ? 1 : 0);
      auto written =
          core_.with_connection([&](pg::Connection& c) { return c.prepared(kPutCallResult, p).integer(0, 0); });
      if (written == 0) throw NotFoundError(fmt::format("lead {}: not found in gym {}", lead_id, gym_id), "lead_id");
    });
  }

  std::vector<CallResult> call_results(std::string_view gym_id, std::string_view lead_id) override {
    return core_.run("lead", lead_id, [&] {
      auto r = core_.with_connection(
          [&](pg::Connection& c) { return c.prepared(kCallResults, pg::Params().text(lead_id).text(gym_id)); });
      std::vector<CallResult> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(read_call_result(r, i));
      return out;
    });
  }

  void put_call_results(std::string_view gym_id, std::span<const LeadCallResult> results) override {
    // Two results of one call of a lead would meet in one statement: such a batch goes row by row.
    std::unordered_set<std::string> keys;
    for (const auto& r : results)
      if (!keys.insert(r.lead_id + '\0' + r.result.call_id).second) {
        LeadRepository::put_call_results(gym_id, results);
        return;
      }
    if (results.size() <= 1) {
      LeadRepository::put_call_results(gym_id, results);
      return;
    }
    core_.run("call results", gym_id, [&] {
      const auto n = results.size();
      std::vector<std::string> leads, calls;
      std::vector<std::optional<std::string>> started(n), ended(n), status(n), answered(n), outcome(n),
          callback(n), sentiment(n), opted(n);
      leads.reserve(n);
      calls.reserve(n);
      auto ms = [](Timestamp t) { return std::to_string(t.time_since_epoch().count()); };
      for (std::size_t i = 0; i < n; ++i) {
        const auto& r = results[i].result;
        leads.push_back(results[i].lead_id);
        calls.push_back(r.call_id);
        started[i] = ms(r.started_at);
        if (r.ended_at) ended[i] = ms(*r.ended_at);
        status[i] = std::string(to_string(r.status));
        answered[i] = std::string(to_string(r.answered_by));
        if (r.outcome) outcome[i] = std::string(to_string(*r.outcome));
        if (r.callback_at) callback[i] = ms(*r.callback_at);
        sentiment[i] = r.sentiment;
        opted[i] = r.opted_out ? "1" : "0";
      }
      pg::Params p;
      p.text(gym_id).text_array(leads).text_array(calls).array(started, false).array(ended, false);
      p.array(status, true).array(answered, true).array(outcome, true).array(callback, false);
      p.array(sentiment, true).array(opted, false);
      const auto written = core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kPutCallResults, p).integer(0, 0);
      });
      if (written < static_cast<std::int64_t>(n))
        for (const auto& r : results)
          if (!find(gym_id, r.lead_id))
            throw NotFoundError(fmt::format("lead {}: not found in gym {}", r.lead_id, gym_id), "lead_id");
    });
  }

  void append_history_many(std::string_view gym_id, std::span<const LeadEvent> events) override {
    if (events.size() <= 1) {
      LeadRepository::append_history_many(gym_id, events);
      return;
    }
    core_.run("lead history", gym_id, [&] {
      std::vector<std::string> leads, kinds, from, to, actors, reasons;
      std::vector<std::int64_t> at;
      for (const auto& e : events) {
        leads.push_back(e.lead_id);
        at.push_back(e.at.time_since_epoch().count());
        kinds.push_back(e.kind);
        from.push_back(e.from);
        to.push_back(e.to);
        actors.push_back(e.actor);
        reasons.push_back(e.reason);
      }
      pg::Params p;
      p.text(gym_id).text_array(leads).integer_array(at).text_array(kinds).text_array(from).text_array(to);
      p.text_array(actors).text_array(reasons);
      // Planned at each call, not prepared: a plan cached while a bulk import
      // had just begun (a small leads table: a hash join over all of it)
      // was kept as the table grew, 26 ms a call by the end of a million
      // leads; planned with the table's size now, it looks each lead up.
      const auto written =
          core_.with_connection([&](pg::Connection& c) { return c.exec(kAppendHistoryMany, p).affected(); });
      if (written < static_cast<std::int64_t>(events.size()))
        for (const auto& e : events)
          if (!find(gym_id, e.lead_id))
            throw NotFoundError(fmt::format("lead {}: not found in gym {}", e.lead_id, gym_id), "lead_id");
    });
  }

  void update_call_state_many(std::span<const Lead> leads) override {
    if (leads.size() <= 1) {
      LeadRepository::update_call_state_many(leads);
      return;
    }
    core_.run("lead batch", leads.front().id, [&] {
      core_.within_transaction([&](pg::Connection& c) {
        fill_lead_batch(c, leads.size(), [&](std::size_t k) -> const Lead& { return leads[k]; });
        auto r = c.prepared(kUpdateLeadCallStates);
        if (static_cast<std::size_t>(r.rows()) == leads.size()) return;
        // What is left was stale or gone: the single-lead path says which.
        std::unordered_set<std::string> written;
        for (int i = 0; i < r.rows(); ++i) written.insert(r.text(i, 0));
        for (const auto& l : leads)
          if (!written.contains(l.id)) update_call_state(l);
      });
    });
  }

  std::vector<std::vector<CallResult>> call_results_many(std::string_view gym_id,
                                                         std::span<const std::string> lead_ids) override {
    std::vector<std::vector<CallResult>> out(lead_ids.size());
    if (lead_ids.empty()) return out;
    return core_.run("leads", gym_id, [&] {
      auto r = core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kCallResultsMany, pg::Params().text(gym_id).text_array(lead_ids));
      });
      std::unordered_map<std::string, std::vector<CallResult>> by_lead;
      for (int i = 0; i < r.rows(); ++i) by_lead[r.text(i, 9)].push_back(read_call_result(r, i));
      for (std::size_t k = 0; k < lead_ids.size(); ++k)
        if (auto it = by_lead.find(lead_ids[k]); it != by_lead.end()) out[k] = it->second;
      return out;
    });
  }

  std::vector<Lead> find_many(std::string_view gym_id, std::span<const std::string> lead_ids) override {
    if (lead_ids.empty()) return {};
    return core_.run("leads", gym_id, [&] {
      return read_leads(core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kFindLeads, pg::Params().text(gym_id).text_array(lead_ids));
      }));
    });
  }

  std::vector<Lead> find_by_phones(std::string_view gym_id, std::span<const std::string> e164s) override {
    if (e164s.empty()) return {};
    return core_.run("leads", gym_id, [&] {
      return read_leads(core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kFindLeadsByPhone, pg::Params().text(gym_id).text_array(e164s));
      }));
    });
  }

  std::vector<Lead> find_by_external_ids(std::string_view gym_id, std::span<const std::string> external_ids) override {
    std::vector<std::string> ids;
    ids.reserve(external_ids.size());
    for (const auto& id : external_ids)
      if (!id.empty()) ids.push_back(id);
    if (ids.empty()) return {};
    return core_.run("leads", gym_id, [&] {
      return read_leads(core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kFindLeadsByExternalId, pg::Params().text(gym_id).text_array(ids));
      }));
    });
  }

 private:
  // Throws the error that explains why `lead` could not be written (missing
  // gym, taken id, taken phone), or returns if none applies.
  void explain_conflict(pg::Connection& c, const Lead& lead, bool inserting) {
    if (inserting) {
      if (c.prepared(kGymExists, pg::Params().text(lead.gym_id)).rows() == 0)
        throw NotFoundError(fmt::format("gym {}: not found (storing lead {})", lead.gym_id, lead.id), "gym_id");
      if (c.prepared(kLeadIdExists, pg::Params().text(lead.id)).rows() > 0)
        throw AlreadyExistsError(fmt::format("lead {}: already exists", lead.id), "id");
    }
    auto phone = c.prepared(kLeadWithPhone, pg::Params().text(lead.gym_id).text(lead.phone).text(lead.id));
    if (phone.rows() > 0)
      throw AlreadyExistsError(fmt::format("lead {}: phone {} already belongs to lead {} in gym {}", lead.id,
                                           lead.phone, phone.text(0, 0), lead.gym_id),
                               "phone");
  }

  // Throws NotFoundError if the lead is gone, ConflictError if its version
  // moved on; returns if the stored version is the expected one.
  void explain_stale(pg::Connection& c, const Lead& lead, bool expectable) {
    auto v = c.prepared(kLeadVersion, pg::Params().text(lead.id).text(lead.gym_id));
    if (v.rows() == 0) throw NotFoundError(fmt::format("lead {}: not found in gym {}", lead.id, lead.gym_id), "id");
    const auto stored = v.integer(0, 0);
    if (!expectable || stored != lead.version - 1)
      throw ConflictError(fmt::format("lead {}: version conflict: stored version is {}, the update expects {}",
                                      lead.id, stored,
                                      expectable ? fmt::format("{}", lead.version - 1) : std::string("none")),
                          "version");
  }

  Core& core_;
};

LeadPage PgLeads::list(std::string_view gym_id, const LeadFilter& filter) {
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

  return core_.run("leads of gym", gym_id, [&] {
    return core_.atomically([&](pg::Connection& c) {
      Builder b;
      const std::string gym = b.text(gym_id);
      // The rarest tag, if rare, drives the query from its index entries (as on SQLite).
      std::optional<std::size_t> driver;
      std::int64_t fewest = kRareTag;
      for (std::size_t i = 0; i < tags.size(); ++i) {
        auto n = c.prepared(kCountTagUpTo, pg::Params().text(gym_id).text(tags[i])).integer(0, 0);
        if (n < fewest) {
          fewest = n;
          driver = i;
        }
      }
      std::string from_where;
      if (driver)
        from_where = "(SELECT lead_id FROM lead_tags WHERE gym_id = " + gym + " AND tag = " + b.text(tags[*driver]) +
                     ") AS d JOIN leads ON leads.id = d.lead_id WHERE ";
      else
        from_where = "leads WHERE ";
      std::string where = "leads.gym_id = " + gym;
      for (std::size_t i = 0; i < tags.size(); ++i)
        if (i != driver)
          where += " AND EXISTS (SELECT 1 FROM lead_tags t WHERE t.lead_id = leads.id AND t.tag = " + b.text(tags[i]) +
                   ")";
      auto in_list = [&](std::string_view column, const std::vector<std::string>& values) {
        std::string sql = fmt::format(" AND {} IN (", column);
        for (std::size_t i = 0; i < values.size(); ++i) sql += (i ? ", " : "") + b.text(values[i]);
        return sql + ")";
      };
      if (!statuses.empty()) where += in_list("status", statuses);
      if (!qualifications.empty()) where += in_list("qualification", qualifications);
      if (!filter.source.empty()) where += " AND source = " + b.text(filter.source);
      if (!filter.search.empty()) {
        // lower() of C-collated text and the needle fold ASCII only, as on
        // SQLite; strpos keeps LIKE's wildcards in user text literal.
        const auto p = b.text(ascii_lower(filter.search));
        where += fmt::format(
            " AND (strpos(lower(first_name || ' ' || last_name), {0}) > 0"
            " OR strpos(lower(phone), {0}) > 0 OR strpos(lower(email), {0}) > 0)",
            p);
      }
      if (filter.created_from) where += " AND created_at >= " + b.integer(to_millis(*filter.created_from));
      if (filter.created_to) where += " AND created_at < " + b.integer(to_millis(*filter.created_to));
      from_where += where;

      LeadPage result;
      result.page = filter.page;
      result.page_size = filter.page_size;
      result.total = c.prepared("SELECT count(*) FROM " + from_where, b.params).integer(0, 0);
      const std::int64_t offset = (page - 1) * page_size;
      if (page_size == 0 || offset >= result.total) return result;
      pg::Params paged = b.params;
      paged.integer(page_size).integer(offset);
      result.items = read_leads(c.prepared(
          "SELECT " GYMDASH_LEAD_COLUMNS " FROM " + from_where +
              fmt::format(" ORDER BY created_at DESC, id DESC LIMIT ${} OFFSET ${}", b.params.size() + 1,
                          b.params.size() + 2),
          paged));
      return result;
    });
  });
}

// The SQL of a dial query: one tier's dialable leads of the gym in that
// tier's order (dial_order.hpp), for the query's own group (`groups` empty),
// or merged over `groups`: one ordered, limited branch per group under
// UNION ALL, which the server merges (a Merge Append of index scans reads
// about `limit` leads plus one per group) — one round trip instead of one a
// group. The Callback tier spans every group.
std::string dial_sql(Builder& b, std::string_view gym_id, const DialQuery& q,
                     const std::vector<std::pair<std::string, std::string>>& groups) {
  using Tier = DialQuery::Tier;
  const std::string gym = b.text(gym_id);
  const std::string now = b.integer(to_millis(q.now));
  const std::string max = b.integer(q.max_attempts);
  const std::string limit = b.integer(std::max(q.limit, 0));
  std::string common = "gym_id = " + gym + " AND ";
  if (!q.exclude.empty())
    common += "id NOT IN (SELECT json_array_elements_text(" + b.text(encode_strings(q.exclude)) + "::json)) AND ";
  if (!q.campaign_id.empty()) {
    const auto campaign = b.text(q.campaign_id);
    const auto campaign_max = b.integer(q.campaign_max_attempts);
    const auto before = b.integer(to_millis(q.campaign_last_attempt_before));
    common += "EXISTS (SELECT 1 FROM campaign_leads cl WHERE cl.campaign_id = " + campaign +
              " AND cl.lead_id = leads.id AND cl.gym_id = " + gym + " AND cl.attempts < " + campaign_max +
              " AND (cl.last_attempt_at IS NULL OR cl.last_attempt_at <= " + before + ")) AND ";
  }
  std::string tier;
  std::string order;
  switch (q.tier) {
    case Tier::Callback:
      tier = "callback_at IS NOT NULL AND callback_at <= " + now + " AND " + dialable(now, max);
      if (q.qualification) tier += " AND qualification = " + b.text(qualification_name(*q.qualification));
      order = "callback_at, id";
      break;
    case Tier::Fresh:
      tier = "attempts = 0 AND callback_at IS NULL AND " + dialable(now, max);
      if (q.qualification) tier += " AND qualification = " + b.text(qualification_name(*q.qualification));
      order = "created_at DESC, id DESC";
      break;
    case Tier::Retry:
      tier = "qualification = " + b.text(qualification_name(*q.qualification)) +
             " AND attempts > 0 AND callback_at IS NULL AND " + dialable(now, max) +
             " AND last_call_at <= " + b.integer(to_millis(q.last_call_before));
      order = "attempts, last_call_at, id";
      break;
  }
  const auto branch = [&](std::string_view zone, std::string_view state) {
    std::string where = common;
    if (q.tier != Tier::Callback)
      where += "local_zone = " + b.text(zone) + " AND local_state = " + b.text(state) + " AND ";
    return "SELECT " GYMDASH_LEAD_COLUMNS " FROM leads WHERE " + where + tier + " ORDER BY " + order + " LIMIT " +
           limit;
  };
  if (q.tier == Tier::Callback || groups.empty()) return branch(q.local_zone, q.local_state);
  std::string sql = "SELECT " GYMDASH_LEAD_COLUMNS " FROM (";
  for (std::size_t k = 0; k < groups.size(); ++k)
    sql += (k ? " UNION ALL (" : "(") + branch(groups[k].first, groups[k].second) + ")";
  return sql + ") AS groups ORDER BY " + order + " LIMIT " + limit;
}

std::vector<Lead> PgLeads::dial_candidates(std::string_view gym_id, const DialQuery& q) {
  return dial_candidates_in(gym_id, q, {});
}

std::vector<Lead> PgLeads::dial_candidates_in(std::string_view gym_id, const DialQuery& q,
                                              const std::vector<std::pair<std::string, std::string>>& groups) {
  if (q.tier == DialQuery::Tier::Retry && !q.qualification)
    throw InvalidArgumentError("dial query: the retry tier needs a qualification", "qualification");
  return core_.run("dial candidates of gym", gym_id, [&] {
    Builder b;
    const std::string sql = dial_sql(b, gym_id, q, groups);
    return read_leads(core_.with_connection([&](pg::Connection& c) { return c.prepared(sql, b.params); }));
  });
}

std::vector<Lead> PgLeads::callbacks_due_since(std::string_view gym_id, Timestamp after, Timestamp now,
                                               int max_attempts, int limit) {
  if (limit <= 0 || now <= after) return {};
  return core_.run("callbacks due of gym", gym_id, [&] {
    // One range of the callback index: (after, now].
    Builder b;
    const std::string gym = b.text(gym_id);
    const std::string at = b.integer(to_millis(now));
    const std::string max = b.integer(max_attempts);
    const std::string sql = "SELECT " GYMDASH_LEAD_COLUMNS " FROM leads WHERE gym_id = " + gym +
                            " AND callback_at IS NOT NULL AND callback_at > " + b.integer(to_millis(after)) +
                            " AND callback_at <= " + at + " AND " + dialable(at, max) +
                            " ORDER BY callback_at, id LIMIT " + b.integer(limit);
    return read_leads(core_.with_connection([&](pg::Connection& c) { return c.prepared(sql, b.params); }));
  });
}

#undef GYMDASH_LEAD_COLUMNS
#undef GYMDASH_LEAD_PARAMS
#undef GYMDASH_INSERT_LEAD
#undef GYMDASH_TAGS_JSON

}  // namespace

std::unique_ptr<LeadRepository> make_postgres_leads(Core& core) { return std::make_unique<PgLeads>(core); }

}  // namespace gymdash::postgres_store
