// The PostgreSQL backend: a pool of libpq connections (store/postgres/pg.hpp),
// the schema of store/postgres/migrations.cpp, and repositories whose SQL
// follows the SQLite backend's statement for statement (same tables, same
// columns, same integer milliseconds), so that the two stay comparable.
//
// Every repository is implemented: gyms, do-not-call lists, calls and call
// events here, leads (postgres_leads.cpp), campaigns (postgres_campaigns.cpp)
// and analytics (postgres_analytics.cpp). Bulk paths (the lead import, the
// call ingest) send their rows in sets: COPY into temporary tables, arrays
// with = ANY and unnest (docs/operations.md, "PostgreSQL").

#include "store/postgres/postgres_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <gymdash/error.hpp>
#include <gymdash/store.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/columns.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/postgres_leads.hpp"
#include "store/postgres/pg.hpp"

namespace gymdash {
namespace {

using namespace store_columns;
using postgres_store::Core;
using postgres_store::latest_schema_version;

// ---------------------------------------------------------------------------
// Gyms
// ---------------------------------------------------------------------------

#define GYMDASH_GYM_COLUMNS                                                            \
  "id, name, timezone, region, state, call_start_minute, call_end_minute, call_days, " \
  "caller_ids, created_at, updated_at"
// ON CONFLICT instead of a unique violation: inside a transaction a refused
// statement would abort it (postgres_store.hpp).
constexpr std::string_view kInsertGym = "INSERT INTO gyms (" GYMDASH_GYM_COLUMNS
                                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                                        "ON CONFLICT (id) DO NOTHING";
constexpr std::string_view kUpdateGym =
    "UPDATE gyms SET name = $2, timezone = $3, region = $4, state = $5, call_start_minute = $6, "
    "call_end_minute = $7, call_days = $8, caller_ids = $9, created_at = $10, updated_at = $11 "
    "WHERE id = $1";
constexpr std::string_view kFindGym = "SELECT " GYMDASH_GYM_COLUMNS " FROM gyms WHERE id = $1";
constexpr std::string_view kListGyms = "SELECT " GYMDASH_GYM_COLUMNS " FROM gyms ORDER BY id";

pg::Params gym_params(const Gym& gym) {
  pg::Params p;
  p.text(gym.id)
      .text(gym.name)
      .text(gym.timezone)
      .text(gym.region)
      .text(gym.state)
      .integer(gym.call_hours.start_minute)
      .integer(gym.call_hours.end_minute)
      .integer(gym.call_days)
      .text(encode_strings(gym.caller_ids))
      .time(gym.created_at)
      .time(gym.updated_at);
  return p;
}

Gym read_gym(const pg::Result& r, int row) {
  Gym gym;
  gym.id = r.text(row, 0);
  gym.name = r.text(row, 1);
  gym.timezone = r.text(row, 2);
  gym.region = r.text(row, 3);
  gym.state = r.text(row, 4);
  gym.call_hours.start_minute = static_cast<int>(r.integer(row, 5));
  gym.call_hours.end_minute = static_cast<int>(r.integer(row, 6));
  gym.call_days = static_cast<DayMask>(r.integer(row, 7));
  gym.caller_ids = decode_strings(r.text(row, 8), "gym " + gym.id, "caller_ids");
  gym.created_at = r.time(row, 9);
  gym.updated_at = r.time(row, 10);
  return gym;
}

class PgGyms final : public GymRepository {
 public:
  explicit PgGyms(Core& core) : core_(core) {}

  void insert(const Gym& gym) override {
    core_.run("gym", gym.id, [&] {
      core_.with_connection([&](pg::Connection& c) {
        if (c.prepared(kInsertGym, gym_params(gym)).affected() == 0)
          throw AlreadyExistsError(fmt::format("gym {}: already exists", gym.id), "id");
      });
    });
  }
  std::optional<Gym> find(std::string_view gym_id) override {
    return core_.run("gym", gym_id, [&]() -> std::optional<Gym> {
      auto r = core_.with_connection([&](pg::Connection& c) { return c.prepared(kFindGym, pg::Params().text(gym_id)); });
      if (r.rows() == 0) return std::nullopt;
      return read_gym(r, 0);
    });
  }
  std::vector<Gym> list() override {
    return core_.run("gyms", "", [&] {
      auto r = core_.with_connection([&](pg::Connection& c) { return c.prepared(kListGyms); });
      std::vector<Gym> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) out.push_back(read_gym(r, i));
      return out;
    });
  }
  void update(const Gym& gym) override {
    core_.run("gym", gym.id, [&] {
      core_.with_connection([&](pg::Connection& c) {
        if (c.prepared(kUpdateGym, gym_params(gym)).affected() == 0)
          throw NotFoundError(fmt::format("gym {}: not found", gym.id), "id");
      });
    });
  }

 private:
  Core& core_;
};

#undef GYMDASH_GYM_COLUMNS

// ---------------------------------------------------------------------------
// Do-not-call lists
// ---------------------------------------------------------------------------

DncEntry read_dnc(const pg::Result& r, int row) {
  DncEntry e;
  e.scope = r.text(row, 0);
  e.phone = r.text(row, 1);
  e.reason = r.text(row, 2);
  e.source = r.text(row, 3);
  e.added_at = r.time(row, 4);
  return e;
}

class PgDnc final : public DncRepository {
 public:
  explicit PgDnc(Core& core) : core_(core) {}

  bool add(const DncEntry& e) override {
    return core_.run("do-not-call number", e.phone, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        return c
                   .prepared("INSERT INTO dnc_numbers (scope, phone, reason, source, added_at) "
                             "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, phone) DO NOTHING",
                             pg::Params().text(e.scope).text(e.phone).text(e.reason).text(e.source).time(e.added_at))
                   .affected() > 0;
      });
    });
  }
  bool remove(std::string_view scope, std::string_view e164) override {
    return core_.run("do-not-call number", e164, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        return c.prepared("DELETE FROM dnc_numbers WHERE scope = $1 AND phone = $2",
                          pg::Params().text(scope).text(e164))
                   .affected() > 0;
      });
    });
  }
  std::optional<DncEntry> find(std::string_view scope, std::string_view e164) override {
    return core_.run("do-not-call number", e164, [&]() -> std::optional<DncEntry> {
      auto r = core_.with_connection([&](pg::Connection& c) {
        return c.prepared(
            "SELECT scope, phone, reason, source, added_at FROM dnc_numbers WHERE scope = $1 AND phone = $2",
            pg::Params().text(scope).text(e164));
      });
      if (r.rows() == 0) return std::nullopt;
      return read_dnc(r, 0);
    });
  }
  std::vector<DncEntry> list(std::string_view scope, int limit, int offset) override {
    return core_.run("do-not-call list", scope, [&] {
      auto r = core_.with_connection([&](pg::Connection& c) {
        return c.prepared(
            "SELECT scope, phone, reason, source, added_at FROM dnc_numbers WHERE scope = $1 ORDER BY phone "
            "LIMIT $2 OFFSET $3",
            pg::Params().text(scope).integer(std::max(limit, 0)).integer(std::max(offset, 0)));
      });
      std::vector<DncEntry> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(read_dnc(r, i));
      return out;
    });
  }
  std::int64_t count(std::string_view scope) override {
    return core_.run("do-not-call list", scope, [&] {
      auto r = core_.with_connection([&](pg::Connection& c) {
        return c.prepared("SELECT count(*) FROM dnc_numbers WHERE scope = $1", pg::Params().text(scope));
      });
      return r.integer(0, 0);
    });
  }

 private:
  Core& core_;
};

// ---------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------

// (INSERT … SELECT takes the parameters' types from their casts, not from
// the columns as VALUES would.)
// The provider id's uniqueness is asked for in the statement (NOT EXISTS), so
// that a clash inside a transaction does not abort it: 0 rows written means
// another call of the gym holds that provider id. (Two writers racing for the
// same provider id still meet the unique index.)
constexpr std::string_view kPutCall =
    "INSERT INTO calls (" GYMDASH_CALL_COLUMNS
    ") SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, "
    "$10::bigint, $11::bigint, $12::bigint, $13::text, $14::bigint, $15::text, $16::text, $17::text, $18::text, "
    "$19::float8, $20::text, $21::bigint, $22::bigint, $23::text, $24::text, $25::bigint, $26::integer, "
    "$27::integer, $28::bigint "
    "WHERE NOT EXISTS (SELECT 1 FROM calls WHERE gym_id = $3 AND provider_call_id = $2 AND id <> $1) "
    GYMDASH_CALL_UPSERT;
constexpr std::string_view kFindCall = "SELECT " GYMDASH_CALL_COLUMNS " FROM calls WHERE id = $1 AND gym_id = $2";
constexpr std::string_view kFindCallByProvider =
    "SELECT " GYMDASH_CALL_COLUMNS " FROM calls WHERE gym_id = $1 AND provider_call_id = $2";
constexpr std::string_view kLeadCalls =
    "SELECT " GYMDASH_CALL_COLUMNS " FROM calls WHERE lead_id = $1 AND gym_id = $2 ORDER BY started_at, id";
constexpr std::string_view kRecordEvent =
    "INSERT INTO call_events (gym_id, event_id, call_id, received_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (gym_id, event_id) DO NOTHING";
constexpr std::string_view kHasEvent = "SELECT 1 FROM call_events WHERE gym_id = $1 AND event_id = $2";
constexpr std::string_view kPurgeRecordings =
    "UPDATE calls SET recording_url = '', transcript = '', summary = '', purged_at = $3, updated_at = $3 "
    "WHERE gym_id = $1 AND started_at < $2 AND purged_at IS NULL "
    "AND (recording_url <> '' OR transcript <> '' OR summary <> '')";
constexpr std::string_view kPurgeLeadRecordings =
    "UPDATE calls SET recording_url = '', transcript = '', summary = '', purged_at = $3, updated_at = $3 "
    "WHERE lead_id = $1 AND gym_id = $2 AND (recording_url <> '' OR transcript <> '' OR summary <> '')";
// Counted and deleted in one statement: what was deleted is what is counted.
constexpr std::string_view kDeleteLeadCalls =
    "WITH gone AS (DELETE FROM calls WHERE lead_id = $1 AND gym_id = $2 RETURNING recording_url, transcript, summary) "
    "SELECT count(*), count(*) FILTER (WHERE recording_url <> ''), "
    "count(*) FILTER (WHERE transcript <> '' OR summary <> '') FROM gone";
// Locked for the caller's transaction, skipping calls another holds: two
// dialers starting at once never both close the same call.
constexpr std::string_view kOpenCalls =
    "SELECT " GYMDASH_CALL_COLUMNS " FROM calls WHERE status IN ('queued', 'ringing', 'in_progress') "
    "AND started_at < $1 ORDER BY started_at, id LIMIT $2 FOR UPDATE SKIP LOCKED";

// The batch statements (record_events, recorded_events, find_by_provider_ids,
// put_many): one statement a batch instead of one a row. The ids travel as
// arrays (unnest, = ANY); the calls are copied into a temporary table of
// their shape (one per connection, emptied at commit) and upserted from it.
constexpr std::string_view kRecordEvents =
    "INSERT INTO call_events (gym_id, event_id, call_id, received_at) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) "
    "ON CONFLICT (gym_id, event_id) DO NOTHING RETURNING gym_id, event_id";
constexpr std::string_view kRecordedEvents =
    "SELECT event_id FROM call_events WHERE gym_id = $1 AND event_id = ANY($2::text[])";
constexpr std::string_view kFindCallsByProvider =
    "SELECT " GYMDASH_CALL_COLUMNS " FROM calls WHERE gym_id = $1 AND provider_call_id = ANY($2::text[])";
constexpr std::string_view kPrepareCallBatch =
    "CREATE TEMP TABLE IF NOT EXISTS gymdash_call_batch (LIKE calls) ON COMMIT DELETE ROWS; "
    "DELETE FROM gymdash_call_batch";
constexpr std::string_view kCopyCallBatch = "COPY gymdash_call_batch (" GYMDASH_CALL_COLUMNS ") FROM STDIN";
// kPutCall for every row of the batch; a row whose provider id another call
// holds is not written (and put() explains it afterwards).
constexpr std::string_view kPutCallBatch =
    "INSERT INTO calls (" GYMDASH_CALL_COLUMNS ") SELECT " GYMDASH_CALL_COLUMNS " FROM gymdash_call_batch b "
    "WHERE NOT EXISTS (SELECT 1 FROM calls o WHERE o.gym_id = b.gym_id AND o.provider_call_id = b.provider_call_id "
    "AND o.id <> b.id) "
    GYMDASH_CALL_UPSERT " RETURNING id";

template <class Sink, class T>
void optional_integer(Sink& p, const std::optional<T>& v) {
  if (v)
    p.integer(static_cast<std::int64_t>(*v));
  else
    p.null();
}

// The 28 columns' values in GYMDASH_CALL_COLUMNS order, into statement
// parameters (pg::Params) or COPY rows (pg::CopyRows).
template <class Sink>
void put_call(Sink& p, const Call& c) {
  p.text(c.id).text(c.provider_call_id).text(c.gym_id).text(c.lead_id).text(to_string(c.direction));
  p.text(c.to_number).text(c.from_number).text(to_string(c.status)).text(to_string(c.answered_by));
  p.time(c.started_at).time(c.ended_at);
  optional_integer(p, c.duration_s);
  if (c.outcome)
    p.text(to_string(*c.outcome));
  else
    p.null();
  p.time(c.callback_at).text(c.sentiment).text(c.summary).text(c.transcript).text(c.recording_url);
  if (c.cost_usd)
    p.real(*c.cost_usd);
  else
    p.null();
  p.text(c.campaign_id).time(c.created_at).time(c.updated_at).text(c.provider).text(c.end_reason);
  optional_integer(p, c.recording_duration_s);
  optional_integer(p, c.recording_channels);
  if (c.recording_consent)
    p.integer(*c.recording_consent ? 1 : 0);
  else
    p.null();
  p.time(c.purged_at);
}

pg::Params call_params(const Call& c) {
  pg::Params p;
  put_call(p, c);
  return p;
}

Call read_call(const pg::Result& r, int row) {
  Call c;
  c.id = r.text(row, 0);
  c.provider_call_id = r.text(row, 1);
  c.gym_id = r.text(row, 2);
  c.lead_id = r.text(row, 3);
  c.direction = parse_call_direction(r.text(row, 4));
  c.to_number = r.text(row, 5);
  c.from_number = r.text(row, 6);
  c.status = parse_call_status(r.text(row, 7));
  c.answered_by = parse_answered_by(r.text(row, 8));
  c.started_at = r.time(row, 9);
  c.ended_at = r.optional_time(row, 10);
  if (!r.null(row, 11)) c.duration_s = r.integer(row, 11);
  if (!r.null(row, 12)) c.outcome = parse_call_outcome(r.text(row, 12));
  c.callback_at = r.optional_time(row, 13);
  c.sentiment = r.text(row, 14);
  c.summary = r.text(row, 15);
  c.transcript = r.text(row, 16);
  c.recording_url = r.text(row, 17);
  if (!r.null(row, 18)) c.cost_usd = r.real(row, 18);
  c.campaign_id = r.text(row, 19);
  c.created_at = r.time(row, 20);
  c.updated_at = r.time(row, 21);
  c.provider = r.text(row, 22);
  c.end_reason = r.text(row, 23);
  if (!r.null(row, 24)) c.recording_duration_s = r.integer(row, 24);
  if (!r.null(row, 25)) c.recording_channels = static_cast<int>(r.integer(row, 25));
  if (!r.null(row, 26)) c.recording_consent = r.integer(row, 26) != 0;
  c.purged_at = r.optional_time(row, 27);
  return c;
}

std::vector<Call> read_calls(const pg::Result& r) {
  std::vector<Call> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_call(r, i));
  return out;
}

std::string event_key(std::string_view gym_id, std::string_view id) {
  std::string key(gym_id);
  key.push_back('\0');
  key += id;
  return key;
}

class PgCalls final : public CallRepository {
 public:
  explicit PgCalls(Core& core) : core_(core) {}

  bool record_event(std::string_view gym_id, std::string_view event_id, std::string_view call_id,
                    Timestamp received_at) override {
    return core_.run("call event", event_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kRecordEvent, pg::Params().text(gym_id).text(event_id).text(call_id).time(received_at))
                   .affected() > 0;
      });
    });
  }
  std::vector<bool> record_events(std::span<const CallEventRecord> events) override {
    std::vector<bool> recorded(events.size(), false);
    if (events.empty()) return recorded;
    return core_.run("call events", events.front().event_id, [&] {
      std::vector<std::string> gyms, ids, calls;
      std::vector<std::int64_t> at;
      gyms.reserve(events.size());
      ids.reserve(events.size());
      calls.reserve(events.size());
      at.reserve(events.size());
      for (const auto& e : events) {
        gyms.push_back(e.gym_id);
        ids.push_back(e.event_id);
        calls.push_back(e.call_id);
        at.push_back(e.received_at.time_since_epoch().count());
      }
      pg::Params p;
      p.text_array(gyms).text_array(ids).text_array(calls).integer_array(at);
      auto r = core_.with_connection([&](pg::Connection& c) { return c.prepared(kRecordEvents, p); });
      // Each (gym, event id) the server stored marks its first entry in the batch.
      std::unordered_map<std::string, std::size_t> first;
      first.reserve(events.size());
      for (std::size_t i = 0; i < events.size(); ++i) first.try_emplace(event_key(events[i].gym_id, events[i].event_id), i);
      for (int row = 0; row < r.rows(); ++row)
        if (auto it = first.find(event_key(r.text(row, 0), r.text(row, 1))); it != first.end())
          recorded[it->second] = true;
      return recorded;
    });
  }
  std::vector<std::string> recorded_events(std::string_view gym_id, std::span<const std::string> event_ids) override {
    if (event_ids.empty()) return {};
    return core_.run("call events", gym_id, [&] {
      auto r = core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kRecordedEvents, pg::Params().text(gym_id).text_array(event_ids));
      });
      std::vector<std::string> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int row = 0; row < r.rows(); ++row) out.push_back(r.text(row, 0));
      return out;
    });
  }
  std::vector<Call> find_by_provider_ids(std::string_view gym_id,
                                         std::span<const std::string> provider_call_ids) override {
    if (provider_call_ids.empty()) return {};
    return core_.run("calls", gym_id, [&] {
      return read_calls(core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kFindCallsByProvider, pg::Params().text(gym_id).text_array(provider_call_ids));
      }));
    });
  }
  void put_many(std::span<const Call> calls) override {
    if (calls.empty()) return;
    // Two rows of one call, or of one provider id, in one statement would
    // meet each other there: such a batch goes row by row.
    std::unordered_set<std::string> ids, providers;
    ids.reserve(calls.size());
    providers.reserve(calls.size());
    for (const auto& c : calls)
      if (!ids.insert(c.id).second || !providers.insert(event_key(c.gym_id, c.provider_call_id)).second) {
        CallRepository::put_many(calls);
        return;
      }
    if (calls.size() == 1) {
      put(calls.front());
      return;
    }
    core_.run("call batch", calls.front().id, [&] {
      core_.within_transaction([&](pg::Connection& c) {
        pg::CopyRows rows;
        for (const auto& call : calls) {
          put_call(rows, call);
          rows.end_row();
        }
        c.script(kPrepareCallBatch);
        c.copy_in(kCopyCallBatch, rows.data());
        std::unordered_set<std::string> written;
        written.reserve(calls.size());
        std::optional<pg::Result> r;
        try {
          r = c.prepared(kPutCallBatch);
        } catch (const pg::SqlError& e) {
          // A concurrent writer took a provider id first: the transaction is
          // aborted, as put() would leave it.
          if (e.sqlstate() != "23505") throw;
          throw AlreadyExistsError(fmt::format("call batch: a provider call id was taken concurrently ({})", e.what()),
                                   "provider_call_id");
        }
        for (int row = 0; row < r->rows(); ++row) written.insert(r->text(row, 0));
        // What is left holds a provider id another call of its gym has: put() says so.
        if (written.size() < calls.size())
          for (const auto& call : calls)
            if (!written.contains(call.id)) put(call);
      });
    });
  }
  bool has_event(std::string_view gym_id, std::string_view event_id) override {
    return core_.run("call event", event_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
               return c.prepared(kHasEvent, pg::Params().text(gym_id).text(event_id));
             }).rows() > 0;
    });
  }
  void put(const Call& call) override {
    core_.run("call", call.id, [&] {
      std::int64_t written = 0;
      try {
        written = core_.with_connection([&](pg::Connection& c) { return c.prepared(kPutCall, call_params(call)).affected(); });
      } catch (const pg::SqlError& e) {
        if (e.sqlstate() != "23505") throw;  // a concurrent writer took the provider id first
      }
      if (written == 0)
        throw AlreadyExistsError(fmt::format("call {}: provider call id {} already belongs to another call of gym {}",
                                             call.id, call.provider_call_id, call.gym_id),
                                 "provider_call_id");
    });
  }
  std::optional<Call> find(std::string_view gym_id, std::string_view call_id) override {
    return core_.run("call", call_id, [&]() -> std::optional<Call> {
      auto r = core_.with_connection(
          [&](pg::Connection& c) { return c.prepared(kFindCall, pg::Params().text(call_id).text(gym_id)); });
      if (r.rows() == 0) return std::nullopt;
      return read_call(r, 0);
    });
  }
  std::optional<Call> find_by_provider_id(std::string_view gym_id, std::string_view provider_call_id) override {
    return core_.run("call", provider_call_id, [&]() -> std::optional<Call> {
      auto r = core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kFindCallByProvider, pg::Params().text(gym_id).text(provider_call_id));
      });
      if (r.rows() == 0) return std::nullopt;
      return read_call(r, 0);
    });
  }
  CallPage list(std::string_view gym_id, const CallFilter& f) override {
    return core_.run("calls", gym_id, [&] {
      // Only the filters that are set appear in the SQL; each is a numbered parameter.
      std::string where = " FROM calls WHERE gym_id = $1";
      pg::Params params;
      params.text(gym_id);
      auto text = [&](std::string_view column, std::string_view value) {
        params.text(value);
        where += fmt::format(" AND {} = ${}", column, params.size());
      };
      if (!f.lead_id.empty()) text("lead_id", f.lead_id);
      if (!f.campaign_id.empty()) text("campaign_id", f.campaign_id);
      if (f.status) text("status", to_string(*f.status));
      if (f.outcome) text("outcome", to_string(*f.outcome));
      if (f.direction) text("direction", to_string(*f.direction));
      auto number = [&](std::string_view op, Timestamp value) {
        params.time(value);
        where += fmt::format(" AND started_at {} ${}", op, params.size());
      };
      if (f.started_from) number(">=", *f.started_from);
      if (f.started_to) number("<", *f.started_to);
      CallPage page;
      page.page = std::max(f.page, 1);
      page.page_size = std::clamp(f.page_size, 1, kMaxPageSize);
      // One snapshot for the count and the page, so that they agree.
      return core_.atomically([&](pg::Connection& c) {
        page.total = c.exec("SELECT count(*)" + where, params).integer(0, 0);
        pg::Params paged = params;
        paged.integer(page.page_size).integer(static_cast<std::int64_t>(page.page - 1) * page.page_size);
        page.items = read_calls(c.exec("SELECT " GYMDASH_CALL_COLUMNS + where +
                                           fmt::format(" ORDER BY started_at DESC, id DESC LIMIT ${} OFFSET ${}",
                                                       params.size() + 1, params.size() + 2),
                                       paged));
        return page;
      });
    });
  }
  std::vector<Call> for_lead(std::string_view gym_id, std::string_view lead_id) override {
    return core_.run("lead", lead_id, [&] {
      return read_calls(core_.with_connection(
          [&](pg::Connection& c) { return c.prepared(kLeadCalls, pg::Params().text(lead_id).text(gym_id)); }));
    });
  }
  ErasedCalls remove_for_lead(std::string_view gym_id, std::string_view lead_id) override {
    return core_.run("lead", lead_id, [&] {
      auto r = core_.with_connection(
          [&](pg::Connection& c) { return c.prepared(kDeleteLeadCalls, pg::Params().text(lead_id).text(gym_id)); });
      ErasedCalls erased;
      erased.calls = r.integer(0, 0);
      erased.recordings = r.integer(0, 1);
      erased.transcripts = r.integer(0, 2);
      return erased;
    });
  }
  std::int64_t purge_recordings(std::string_view gym_id, Timestamp cutoff, Timestamp now) override {
    return core_.run("gym", gym_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kPurgeRecordings, pg::Params().text(gym_id).time(cutoff).time(now)).affected();
      });
    });
  }
  std::int64_t purge_lead_recordings(std::string_view gym_id, std::string_view lead_id, Timestamp now) override {
    return core_.run("lead", lead_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kPurgeLeadRecordings, pg::Params().text(lead_id).text(gym_id).time(now)).affected();
      });
    });
  }
  std::vector<Call> open_calls(Timestamp started_before, int limit) override {
    return core_.run("open calls", "", [&] {
      return read_calls(core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kOpenCalls, pg::Params().time(started_before).integer(std::max(limit, 0)));
      }));
    });
  }

 private:
  Core& core_;
};


// ---------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(const PostgresOptions& options)
      : core_(options.uri, options.schema, options.pool_size, std::chrono::milliseconds(options.pool_wait_ms)) {
    migrate(options.schema);
    recover_bulk_load();
  }

  std::string_view backend() const override { return "postgres"; }
  bool serializes_writers() const override { return false; }
  int schema_version() const override { return schema_version_; }
  GymRepository& gyms() override { return gyms_; }
  LeadRepository& leads() override { return *leads_; }
  DncRepository& dnc() override { return dnc_; }
  CallRepository& calls() override { return calls_; }
  AnalyticsRepository& analytics() override { return *analytics_; }
  CampaignRepository& campaigns() override { return *campaigns_; }

  void begin_bulk_load(std::int64_t expected_new_rows, BulkLoad what) override;
  void end_bulk_load() override;
  // A piece of an import costs about 45 statements whatever its size (the
  // COPYs, the question for taken numbers, the merges' reads and writes per
  // gym, the history): 25,000 rows a piece made the million-row import
  // 16.9–18.5 s against 18.5–19.1 s with 10,000 (docs/operations.md).
  std::size_t bulk_piece_rows() const override { return 25000; }

  void transact(const std::function<void()>& fn) override {
    core_.run("transaction", "", [&] { core_.atomically([&](pg::Connection&) { fn(); }); });
  }
  void transact_joined(const std::function<void()>& fn) override {
    core_.run("transaction", "", [&] { core_.within_transaction([&](pg::Connection&) { fn(); }); });
  }

 private:
  void migrate(const std::string& schema);
  void recover_bulk_load();

  Core core_;
  int schema_version_ = 0;
  // The connection of the bulk load in progress: it holds the schema's bulk
  // advisory lock (session-level) from begin_bulk_load to end_bulk_load, so
  // that another host's open does not build the indexes again meanwhile.
  // Guarded by bulk_mutex_.
  std::mutex bulk_mutex_;
  std::unique_ptr<pg::Connection> bulk_;
  PgGyms gyms_{core_};
  PgDnc dnc_{core_};
  PgCalls calls_{core_};
  std::unique_ptr<LeadRepository> leads_ = postgres_store::make_postgres_leads(core_);
  std::unique_ptr<CampaignRepository> campaigns_ = postgres_store::make_postgres_campaigns(core_);
  std::unique_ptr<AnalyticsRepository> analytics_ = postgres_store::make_postgres_analytics(core_);
};

// What gymdash_schema says of the schema the connection works in. Throws if
// the schema is newer than this library or holds another application's tables.
struct SchemaState {
  bool has_table = false;  // gymdash_schema exists
  int version = 0;         // the newest version applied, 0 for none
};

SchemaState read_schema(pg::Connection& c, const std::string& where) {
  // One statement, one snapshot: read in two, another process's first
  // migration could commit in between (no gymdash_schema, then tables).
  auto table = c.exec(
      "SELECT count(*) FILTER (WHERE tablename = 'gymdash_schema'), count(*), current_schema() "
      "FROM pg_catalog.pg_tables WHERE schemaname = current_schema()");
  if (table.null(0, 2))
    throw StorageError(fmt::format("postgres {}: no schema to create gymdash's tables in (check search_path)", where),
                       "schema");
  const std::string schema = table.text(0, 2);
  SchemaState state;
  state.has_table = table.integer(0, 0) > 0;
  if (!state.has_table) {
    if (table.integer(0, 1) > 0)
      throw StorageError(fmt::format("postgres {}: schema \"{}\" holds tables of another application, not gymdash's "
                                     "(choose another schema)",
                                     where, schema),
                         "schema");
    return state;
  }
  state.version = static_cast<int>(c.exec("SELECT coalesce(max(version), 0) FROM gymdash_schema").integer(0, 0));
  if (state.version > latest_schema_version())
    throw StorageError(fmt::format("postgres {}: database schema version {} (schema \"{}\") is newer than this "
                                   "library supports ({}); upgrade gymdash",
                                   where, state.version, schema, latest_schema_version()),
                       "schema");
  return state;
}

void PostgresStore::migrate(const std::string& schema) {
  core_.run("schema", "", [&] {
    if (!schema.empty()) {
      // Serialised with other processes creating it at the same moment.
      core_.atomically([&](pg::Connection& c) {
        c.exec("SELECT pg_advisory_xact_lock(hashtext('gymdash schema ' || $1))", pg::Params().text(schema));
        c.script("SET LOCAL client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS " +
                 pg::quote_identifier(schema));
      });
    }
    int current = core_.with_connection([&](pg::Connection& c) { return read_schema(c, core_.where()).version; });
    for (const auto& migration : postgres_store::migrations()) {
      if (migration.version <= current) continue;
      // One transaction per step, under a lock that makes other processes
      // opening the same schema wait, then find the step done. A step that
      // fails takes everything it did back with it.
      current = core_.atomically([&](pg::Connection& c) {
        c.exec("SELECT pg_advisory_xact_lock(hashtext('gymdash migrate ' || current_schema()))");
        const SchemaState now = read_schema(c, core_.where());
        if (now.version >= migration.version) return now.version;
        if (!now.has_table)
          c.script("CREATE TABLE gymdash_schema (version INTEGER NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)");
        try {
          c.script(migration.sql);
        } catch (const pg::SqlError& e) {
          throw StorageError(fmt::format("postgres {}: schema migration {} failed, nothing of it was kept: {} "
                                         "(SQLSTATE {})",
                                         core_.where(), migration.version, e.what(), e.sqlstate()),
                             "schema");
        }
        c.exec("INSERT INTO gymdash_schema (version, applied_at) "
               "VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
               pg::Params().integer(migration.version));
        return migration.version;
      });
    }
    schema_version_ = current;
  });
}

// ---------------------------------------------------------------------------
// Bulk loads
// ---------------------------------------------------------------------------

// A lead import below this size, or below half of what the table holds,
// keeps the indexes (as on SQLite): rebuilding them would cost more.
constexpr std::int64_t kBulkLoadMinRows = 50000;

// Held (session-level) by the connection of a bulk load in progress.
constexpr std::string_view kTryBulkLock =
    "SELECT pg_try_advisory_lock(hashtext('gymdash bulk ' || current_schema()))::int";
// The secondary indexes of the lead tables, with their definitions: every
// index but the primary keys and the unique ones (the import's duplicate
// check and ON CONFLICT need (phone, gym_id); tags need their key), and but
// the call order's indexes of retries and callbacks, whose conditions
// (attempts > 0, a callback time) no imported lead meets: kept, they cost
// the load nothing, and rebuilt they would cost a scan of the table each.
constexpr std::string_view kBulkIndexes =
    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
    "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relnamespace = current_schema()::regnamespace "
    "AND t.relname IN ('leads', 'lead_tags') AND NOT x.indisprimary AND NOT x.indisunique "
    "AND i.relname NOT IN ('leads_dial_retry', 'leads_dial_callback') ORDER BY i.relname";
// Index builds sort in memory up to this much (a session setting of the bulk
// connection; PostgreSQL's default is 64 MB).
constexpr std::string_view kBulkSortMemory = "SET maintenance_work_mem = '256MB'";

// The foreign keys a bulk lead load drops with the indexes: their checks,
// one query and a row lock per row `COPY` writes, took about 60 % of the
// tags' `COPY` and a quarter of the leads' (docs/operations.md). Each comes
// back at the end NOT VALID (at once: enforced from then on) and is then
// validated in one join, without blocking writers. `orphans` removes what
// the constraint's cascade would have removed meanwhile (a lead deleted by
// another host while its tags had no foreign key), if validation finds any.
struct BulkForeignKey {
  std::string_view table, name, definition, orphans;
};
constexpr BulkForeignKey kBulkForeignKeys[] = {
    {"leads", "leads_gym_id_fkey", "FOREIGN KEY (gym_id) REFERENCES gyms (id)", ""},
    {"lead_tags", "lead_tags_lead_id_fkey", "FOREIGN KEY (lead_id) REFERENCES leads (id) ON DELETE CASCADE",
     "DELETE FROM lead_tags t WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = t.lead_id)"},
};
constexpr std::string_view kForeignKeyExists =
    "SELECT count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'f' "
    "AND c.conname = $1 AND t.relname = $2 AND t.relnamespace = current_schema()::regnamespace";

const BulkForeignKey* bulk_foreign_key(std::string_view name) {
  for (const auto& fk : kBulkForeignKeys)
    if (fk.name == name) return &fk;
  return nullptr;
}

// Adds back one foreign key a bulk load dropped (kBulkForeignKeys), NOT
// VALID if it is missing: enforced for every new row from then on, checked
// for the rows already there by validate_foreign_key. Quick (no scan), but
// it locks both tables against the index builds: done before them.
void add_foreign_key(pg::Connection& c, const BulkForeignKey& fk) {
  if (c.exec(kForeignKeyExists, pg::Params().text(fk.name).text(fk.table)).integer(0, 0) == 0)
    c.script(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {} NOT VALID", pg::quote_identifier(fk.table),
                         pg::quote_identifier(fk.name), fk.definition));
}

// Validates a foreign key add_foreign_key put back, then no longer lists it
// (a host dying in between leaves it listed, and the next attempt validates
// it). Validation locks the key's table against writers but only reads the
// table it references, so it runs beside the index builds of that one.
void validate_foreign_key(pg::Connection& c, const BulkForeignKey& fk) {
  const std::string validate =
      fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", pg::quote_identifier(fk.table), pg::quote_identifier(fk.name));
  try {
    c.script(validate);
  } catch (const pg::SqlError& e) {
    if (e.sqlstate() != "23503") throw;
    // Rows written meanwhile that break it: what the cascade would have
    // removed goes; anything else (written outside gymdash, which never
    // stores a lead of an unknown gym) leaves the key NOT VALID — enforced
    // for every new row — rather than a store that cannot open.
    if (!fk.orphans.empty()) {
      c.script(fk.orphans);
      c.try_script(validate);  // a failure leaves it NOT VALID (docs/operations.md)
    }
  }
  c.exec("DELETE FROM bulk_dropped_indexes WHERE name = $1", pg::Params().text(fk.name));
}

// Builds one index a bulk load dropped (its pg_get_indexdef text) and no
// longer lists it, in one transaction: a failure keeps it listed.
void build_index(pg::Connection& c, const std::string& name, std::string sql) {
  // Another open may have built it already.
  constexpr std::string_view kCreate = "CREATE INDEX ";
  if (sql.compare(0, kCreate.size(), kCreate) == 0) sql.insert(kCreate.size(), "IF NOT EXISTS ");
  c.script("BEGIN");
  try {
    c.script(sql);
    c.exec("DELETE FROM bulk_dropped_indexes WHERE name = $1", pg::Params().text(name));
    c.script("COMMIT");
  } catch (...) {
    c.try_script("ROLLBACK");
    throw;
  }
}

// What bulk_dropped_indexes lists for one of the lead tables: its indexes
// (name, definition) and its foreign key.
struct TableRebuild {
  std::vector<std::pair<std::string, std::string>> indexes;
  const BulkForeignKey* foreign_key = nullptr;
  bool empty() const { return indexes.empty() && !foreign_key; }
};

// Builds what `t` lists and validates its key, on `c`.
void rebuild_table(pg::Connection& c, const TableRebuild& t) {
  for (const auto& [name, sql] : t.indexes) build_index(c, name, sql);
  if (t.foreign_key) validate_foreign_key(c, *t.foreign_key);
}

// Builds every index bulk_dropped_indexes lists and validates its foreign
// keys. The connection `c` holds the bulk lock. The foreign keys come back
// first (NOT VALID); then the tag table's index and key are done on a
// second connection (from `core`) while `c` builds the leads' indexes: each
// index build ends on one process writing the index, and the tags' work
// fills the other core meanwhile (docs/operations.md). Each index is built
// in its own transaction, so a failure keeps the rest listed for the next
// attempt; the first failure of either connection is thrown once both end.
void rebuild_dropped_indexes(pg::Connection& c, const Core& core) {
  auto listed = c.exec("SELECT name, sql FROM bulk_dropped_indexes ORDER BY name");
  if (listed.rows() == 0) return;
  TableRebuild leads, tags;
  for (int row = 0; row < listed.rows(); ++row) {
    std::string name = listed.text(row, 0);
    const auto* fk = bulk_foreign_key(name);
    // The names are the schema's: every index of lead_tags is named after it.
    const bool of_tags = fk ? fk->table == "lead_tags" : name.starts_with("lead_tags");
    auto& t = of_tags ? tags : leads;
    if (fk)
      t.foreign_key = fk;
    else
      t.indexes.emplace_back(std::move(name), listed.text(row, 1));
  }
  for (const auto* t : {&leads, &tags})
    if (t->foreign_key) add_foreign_key(c, *t->foreign_key);
  c.script(kBulkSortMemory);
  std::unique_ptr<pg::Connection> second;
  if (!tags.empty() && !leads.indexes.empty()) {
    try {
      second = core.connect_unpooled();
      second->script(kBulkSortMemory);
      second->script("SET max_parallel_maintenance_workers = 0");
    } catch (const UnavailableError&) {
      second.reset();  // no connection to spare (too many clients): one after the other
    } catch (const pg::SqlError&) {
      second.reset();
    }
  }
  if (!second) {
    rebuild_table(c, leads);
    rebuild_table(c, tags);
    return;
  }
  std::exception_ptr tags_failed;
  std::thread beside([&] {
    try {
      rebuild_table(*second, tags);
    } catch (...) {
      tags_failed = std::current_exception();
    }
  });
  std::exception_ptr leads_failed;
  try {
    rebuild_table(c, leads);
  } catch (...) {
    leads_failed = std::current_exception();
  }
  beside.join();
  if (leads_failed) std::rethrow_exception(leads_failed);
  if (tags_failed) std::rethrow_exception(tags_failed);
}

// A lead import large against the table drops the lead tables' secondary
// indexes (listed in bulk_dropped_indexes first, in the same transaction)
// and builds them again at its end: COPY then inserts into the table and its
// keys only, and each index is built in one sort. Measured on the reference
// set's 1,000,000 rows: the import 1.5 times faster with the rebuild counted
// (docs/operations.md). Another host in a bulk load of the same schema (its
// lock taken) leaves this one with the indexes kept.
void PostgresStore::begin_bulk_load(std::int64_t expected_new_rows, BulkLoad what) {
  if (what != BulkLoad::Leads || expected_new_rows < kBulkLoadMinRows) return;
  core_.run("bulk load", "", [&] {
    std::lock_guard lock(bulk_mutex_);
    if (bulk_) return;
    auto c = core_.connect_unpooled();
    // Counted up to the point that decides: cheap on a large table.
    const auto held = c->exec("SELECT count(*) FROM (SELECT 1 FROM leads LIMIT $1) AS t",
                              pg::Params().integer(2 * expected_new_rows + 1))
                          .integer(0, 0);
    if (expected_new_rows < held / 2) return;
    if (c->exec(kTryBulkLock).integer(0, 0) != 1) return;
    c->script("BEGIN");
    try {
      // DROP INDEX waits for every transaction using the table, and queues
      // the others behind it: a host in a long transaction on the leads
      // makes this import keep the indexes instead (lock_not_available).
      c->script("SET LOCAL lock_timeout = '2s'");
      auto indexes = c->exec(kBulkIndexes);
      for (int row = 0; row < indexes.rows(); ++row) {
        const std::string name = indexes.text(row, 0);
        c->exec("INSERT INTO bulk_dropped_indexes (name, sql) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                pg::Params().text(name).text(indexes.text(row, 1)));
        c->script("DROP INDEX " + pg::quote_identifier(name));
      }
      for (const auto& fk : kBulkForeignKeys) {
        if (c->exec(kForeignKeyExists, pg::Params().text(fk.name).text(fk.table)).integer(0, 0) == 0) continue;
        c->exec("INSERT INTO bulk_dropped_indexes (name, sql) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                pg::Params().text(fk.name).text(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {}", fk.table,
                                                             fk.name, fk.definition)));
        c->script(fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", pg::quote_identifier(fk.table),
                              pg::quote_identifier(fk.name)));
      }
      c->script("COMMIT");
    } catch (const pg::SqlError& e) {
      c->try_script("ROLLBACK");
      if (e.sqlstate() == "55P03") return;  // the connection closes: the lock goes with it
      throw;
    } catch (...) {
      c->try_script("ROLLBACK");
      throw;
    }
    // A first import into an empty table: the COPY path asks the server only
    // about numbers this load has stored already (BulkNumbers).
    if (held == 0) core_.bulk_numbers().start();
    bulk_ = std::move(c);
  });
}

void PostgresStore::end_bulk_load() {
  core_.run("bulk load", "", [&] {
    std::unique_ptr<pg::Connection> c;
    {
      std::lock_guard lock(bulk_mutex_);
      c = std::move(bulk_);
    }
    if (!c) return;
    core_.bulk_numbers().stop();
    rebuild_dropped_indexes(*c, core_);
    // Closing the connection releases the lock.
  });
}

// Indexes a bulk load dropped and nobody builds (its host died before
// end_bulk_load): built here, unless another host's bulk load holds the lock.
void PostgresStore::recover_bulk_load() {
  core_.run("bulk load", "", [&] {
    const auto listed = core_.with_connection(
        [&](pg::Connection& c) { return c.exec("SELECT count(*) FROM bulk_dropped_indexes").integer(0, 0); });
    if (listed == 0) return;
    const auto c = core_.connect_unpooled();
    if (c->exec(kTryBulkLock).integer(0, 0) != 1) return;
    rebuild_dropped_indexes(*c, core_);
  });
}

}  // namespace

std::unique_ptr<Store> make_postgres_store(const PostgresOptions& options) {
  if (options.uri.empty()) throw InvalidArgumentError("uri: the PostgreSQL backend needs a connection URI", "uri");
  return std::make_unique<PostgresStore>(options);
}

}  // namespace gymdash
