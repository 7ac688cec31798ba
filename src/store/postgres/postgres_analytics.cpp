// The analytics rollups in PostgreSQL: the SQLite backend's tables and
// packed rows (sqlite_analytics.cpp), with two differences:
// - a packed row (hours, leads) is read FOR UPDATE before it is merged and
//   written back, after an INSERT … ON CONFLICT DO NOTHING that makes sure
//   there is a row to lock: hosts applying deltas to the same key at once
//   take turns instead of losing one another's counts (SQLite has one writer);
// - scans read through a server-side cursor, a batch at a time, so that a
//   scan of a million leads never holds them all in one result.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <gymdash/error.hpp>
#include <gymdash/store.hpp>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>

#include "store/columns.hpp"
#include "store/packed_counts.hpp"
#include "store/postgres/postgres_leads.hpp"
#include "store/postgres/postgres_store.hpp"

namespace gymdash::postgres_store {
namespace {

using namespace store_columns;

constexpr std::string_view kUpsertCallDay = R"sql(
INSERT INTO rollup_call_days AS r (gym_id, local_day, campaign_id, calls, connected, voicemail, talk_s, cost_micros,
  o_interested, o_not_interested, o_callback_requested, o_trial_booked, o_membership_sold, o_wrong_number,
  o_do_not_call)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (gym_id, local_day, campaign_id) DO UPDATE SET
  calls = r.calls + excluded.calls, connected = r.connected + excluded.connected,
  voicemail = r.voicemail + excluded.voicemail, talk_s = r.talk_s + excluded.talk_s,
  cost_micros = r.cost_micros + excluded.cost_micros,
  o_interested = r.o_interested + excluded.o_interested,
  o_not_interested = r.o_not_interested + excluded.o_not_interested,
  o_callback_requested = r.o_callback_requested + excluded.o_callback_requested,
  o_trial_booked = r.o_trial_booked + excluded.o_trial_booked,
  o_membership_sold = r.o_membership_sold + excluded.o_membership_sold,
  o_wrong_number = r.o_wrong_number + excluded.o_wrong_number,
  o_do_not_call = r.o_do_not_call + excluded.o_do_not_call
RETURNING calls)sql";
constexpr std::string_view kDeleteCallDay =
    "DELETE FROM rollup_call_days WHERE gym_id = $1 AND local_day = $2 AND campaign_id = $3";

constexpr std::string_view kEnsureHours =
    "INSERT INTO rollup_call_hours (gym_id, local_day, campaign_id, counts) VALUES ($1, $2, $3, '') "
    "ON CONFLICT DO NOTHING";
constexpr std::string_view kLockHours =
    "SELECT counts FROM rollup_call_hours WHERE gym_id = $1 AND local_day = $2 AND campaign_id = $3 FOR UPDATE";
constexpr std::string_view kPutHours =
    "UPDATE rollup_call_hours SET counts = $4 WHERE gym_id = $1 AND local_day = $2 AND campaign_id = $3";
constexpr std::string_view kDeleteHours =
    "DELETE FROM rollup_call_hours WHERE gym_id = $1 AND local_day = $2 AND campaign_id = $3";
constexpr std::string_view kEnsureLeads =
    "INSERT INTO rollup_lead_days (gym_id, dimension, local_day, counts) VALUES ($1, $2, $3, '') "
    "ON CONFLICT DO NOTHING";
constexpr std::string_view kLockLeads =
    "SELECT counts FROM rollup_lead_days WHERE gym_id = $1 AND dimension = $2 AND local_day = $3 FOR UPDATE";
constexpr std::string_view kPutLeads =
    "UPDATE rollup_lead_days SET counts = $4 WHERE gym_id = $1 AND dimension = $2 AND local_day = $3";
constexpr std::string_view kDeleteLeads =
    "DELETE FROM rollup_lead_days WHERE gym_id = $1 AND dimension = $2 AND local_day = $3";

using Counts = std::map<std::string, std::int64_t>;

// A packed rollup table for merge_packed_many: its three key columns and their types.
struct PackedTable {
  std::string_view table;
  std::array<std::string_view, 3> cols;
  std::array<std::string_view, 3> types;
};
constexpr PackedTable kHoursTable{"rollup_call_hours", {"gym_id", "local_day", "campaign_id"}, {"text", "integer", "text"}};
constexpr PackedTable kLeadsTable{"rollup_lead_days", {"gym_id", "dimension", "local_day"}, {"text", "text", "integer"}};
// A key's values as text (an integer in decimal).
using PackedKey = std::array<std::string, 3>;
// From this many keys on, a delta is merged by merge_packed_many (four statements, not three a key).
constexpr std::size_t kManyKeys = 4;

struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

// The packed rows' form, shared with the SQLite backend (store/packed_counts.hpp).
using packed_counts::pack;
using packed_counts::unpack;

bool merge(Counts& counts, const Counts& add) {
  for (const auto& [name, n] : add) {
    auto& v = counts[name];
    v += n;
    if (v == 0) counts.erase(name);
  }
  return !counts.empty();
}

#define GYMDASH_CALL_DAY_COLUMNS                                                                     \
  "gym_id, local_day, campaign_id, calls, connected, voicemail, talk_s, cost_micros, o_interested, " \
  "o_not_interested, o_callback_requested, o_trial_booked, o_membership_sold, o_wrong_number, o_do_not_call"

// The WHERE clause of a rollup read, its parameters numbered densely.
std::string where(const RollupQuery& q, bool campaigns, bool dimensions, pg::Params& p) {
  p.integer(q.from_day).integer(q.to_day);
  std::string w = " WHERE local_day BETWEEN $1 AND $2";
  if (!q.gym_id.empty()) {
    p.text(q.gym_id);
    w += " AND gym_id = $" + std::to_string(p.size());
  }
  if (campaigns && q.campaign_id) {
    p.text(*q.campaign_id);
    w += " AND campaign_id = $" + std::to_string(p.size());
  }
  if (dimensions && !q.dimension.empty()) {
    p.text(q.dimension);
    w += " AND dimension = $" + std::to_string(p.size());
  }
  return w;
}

constexpr std::string_view kLeadFacts =
    "SELECT id, gym_id, created_at, source, status, qualification, connects, local_zone, "
    "(SELECT min(started_at) FROM call_results WHERE lead_id = leads.id) FROM leads WHERE id = $1 AND gym_id = $2";
constexpr std::string_view kCallStarts =
    "SELECT call_id, started_at FROM call_results WHERE lead_id = $1 AND gym_id = $2";
constexpr std::string_view kScanLeads =
    "SELECT l.id, l.gym_id, l.created_at, l.source, l.status, l.qualification, l.connects, l.local_zone, "
    "(SELECT min(started_at) FROM call_results WHERE lead_id = l.id) FROM leads l";
constexpr std::string_view kScanCampaignLeads =
    "SELECT lead_id, lead_created_at, lead_source, lead_status, lead_qualification, lead_connects, "
    "lead_first_call_at FROM campaign_leads "
    "WHERE campaign_id = $1 AND gym_id = $2 AND lead_created_at >= $3 AND lead_created_at < $4";
constexpr std::string_view kScanCalls =
    "SELECT id, gym_id, lead_id, campaign_id, status, answered_by, started_at, duration_s, outcome, cost_usd "
    "FROM calls";

LeadStatus stored_status(const std::string& s) {
  try {
    return parse_lead_status(s);
  } catch (...) {
    return LeadStatus::New;
  }
}
Qualification stored_qualification(const std::string& s) {
  try {
    return parse_qualification(s);
  } catch (...) {
    return Qualification::Neutral;
  }
}

LeadFacts read_facts(const pg::Result& r, int row) {
  LeadFacts f;
  f.id = r.text(row, 0);
  f.gym_id = r.text(row, 1);
  f.created_at = r.time(row, 2);
  f.source = r.text(row, 3);
  f.status = stored_status(r.text(row, 4));
  f.qualification = stored_qualification(r.text(row, 5));
  f.connects = static_cast<int>(r.integer(row, 6));
  f.local_zone = r.text(row, 7);
  f.first_call_at = r.optional_time(row, 8);
  return f;
}

// Rows fetched per round trip of a scan.
constexpr int kScanBatch = 5000;

class PgAnalytics final : public AnalyticsRepository {
 public:
  explicit PgAnalytics(Core& core) : core_(core) {}

  void apply(const RollupDelta& delta) override {
    if (delta.empty()) return;
    core_.run("rollups", "", [&] {
      core_.within_transaction([&](pg::Connection& c) {
        for (const auto& r : delta.call_days) {
          pg::Params p;
          p.text(r.gym_id).integer(r.local_day).text(r.campaign_id).integer(r.calls).integer(r.connected);
          p.integer(r.voicemail).integer(r.talk_s).integer(r.cost_micros);
          for (auto n : r.outcomes) p.integer(n);
          auto left = c.prepared(kUpsertCallDay, p);
          if (left.rows() > 0 && left.integer(0, 0) == 0)
            c.prepared(kDeleteCallDay, pg::Params().text(r.gym_id).integer(r.local_day).text(r.campaign_id));
        }
        // Hours and leads: each packed row once, with every delta row of its key.
        std::map<std::tuple<std::string, std::int32_t, std::string>, Counts> hours;
        for (const auto& r : delta.call_hours) {
          auto& counts = hours[{r.gym_id, r.local_day, r.campaign_id}];
          const auto cell = std::to_string(r.lead_hour) + "." + std::to_string(r.lead_weekday);
          counts["calls." + cell] += r.calls;
          counts["connected." + cell] += r.connected;
        }
        if (hours.size() >= kManyKeys) {
          std::vector<std::pair<PackedKey, const Counts*>> keys;
          for (const auto& [key, add] : hours)
            keys.push_back({{std::get<0>(key), std::to_string(std::get<1>(key)), std::get<2>(key)}, &add});
          merge_packed_many(c, kHoursTable, keys);
        } else {
          for (const auto& [key, add] : hours) {
            pg::Params k;
            k.text(std::get<0>(key)).integer(std::get<1>(key)).text(std::get<2>(key));
            merge_packed(c, k, add, kEnsureHours, kLockHours, kPutHours, kDeleteHours);
          }
        }
        std::map<std::tuple<std::string, std::string, std::int32_t>, Counts> leads;
        for (const auto& r : delta.lead_days) leads[{r.gym_id, r.dimension, r.local_day}][r.value] += r.count;
        if (leads.size() >= kManyKeys) {
          std::vector<std::pair<PackedKey, const Counts*>> keys;
          for (const auto& [key, add] : leads)
            keys.push_back({{std::get<0>(key), std::get<1>(key), std::to_string(std::get<2>(key))}, &add});
          merge_packed_many(c, kLeadsTable, keys);
        } else {
          for (const auto& [key, add] : leads) {
            pg::Params k;
            k.text(std::get<0>(key)).text(std::get<1>(key)).integer(std::get<2>(key));
            merge_packed(c, k, add, kEnsureLeads, kLockLeads, kPutLeads, kDeleteLeads);
          }
        }
      });
    });
  }

  void clear(std::string_view gym_id) override {
    core_.run("rollups", gym_id, [&] {
      core_.within_transaction([&](pg::Connection& c) {
        for (std::string_view table : {"rollup_call_days", "rollup_call_hours", "rollup_lead_days"}) {
          if (gym_id.empty())
            c.prepared(fmt::format("DELETE FROM {}", table));
          else
            c.prepared(fmt::format("DELETE FROM {} WHERE gym_id = $1", table), pg::Params().text(gym_id));
        }
      });
    });
  }

  std::vector<CallDayRollup> call_days(const RollupQuery& q) override {
    return core_.run("rollups", q.gym_id, [&] {
      pg::Params p;
      const std::string sql = "SELECT " GYMDASH_CALL_DAY_COLUMNS " FROM rollup_call_days" + where(q, true, false, p) +
                              " ORDER BY gym_id, local_day, campaign_id";
      auto r = core_.with_connection([&](pg::Connection& c) { return c.prepared(sql, p); });
      std::vector<CallDayRollup> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) {
        CallDayRollup d;
        d.gym_id = r.text(i, 0);
        d.local_day = static_cast<std::int32_t>(r.integer(i, 1));
        d.campaign_id = r.text(i, 2);
        d.calls = r.integer(i, 3);
        d.connected = r.integer(i, 4);
        d.voicemail = r.integer(i, 5);
        d.talk_s = r.integer(i, 6);
        d.cost_micros = r.integer(i, 7);
        for (int k = 0; k < 7; ++k) d.outcomes[static_cast<std::size_t>(k)] = r.integer(i, 8 + k);
        out.push_back(std::move(d));
      }
      return out;
    });
  }

  std::vector<CallHourRollup> call_hours(const RollupQuery& q) override {
    std::map<std::tuple<std::string, std::int32_t, std::string, std::int32_t, std::int32_t>, CallHourRollup> rows;
    std::array<CallHourRollup, 24 * 7> sums{};
    core_.run("rollups", q.gym_id, [&] {
      pg::Params p;
      const std::string sql = "SELECT gym_id, local_day, campaign_id, counts FROM rollup_call_hours" +
                              where(q, true, false, p) + " ORDER BY gym_id, local_day, campaign_id";
      auto r = core_.with_connection([&](pg::Connection& c) { return c.prepared(sql, p); });
      for (int i = 0; i < r.rows(); ++i) {
        const std::string gym = r.text(i, 0);
        const auto day = static_cast<std::int32_t>(r.integer(i, 1));
        const std::string campaign = r.text(i, 2);
        unpack(r.text(i, 3), [&](std::string_view name, std::int64_t v) {
          const bool calls = name.substr(0, 6) == "calls.";
          auto rest = name.substr(calls ? 6 : 10);
          const auto dot = rest.find('.');
          const int hour = std::atoi(std::string(rest.substr(0, dot)).c_str());
          const int weekday = std::atoi(std::string(rest.substr(dot + 1)).c_str());
          if (hour < 0 || hour > 23 || weekday < 0 || weekday > 6) return;
          CallHourRollup* row;
          if (q.summed) {
            row = &sums[static_cast<std::size_t>(hour * 7 + weekday)];
          } else {
            row = &rows[{gym, day, campaign, hour, weekday}];
            row->gym_id = gym;
            row->local_day = day;
            row->campaign_id = campaign;
          }
          row->lead_hour = hour;
          row->lead_weekday = weekday;
          (calls ? row->calls : row->connected) += v;
        });
      }
    });
    std::vector<CallHourRollup> out;
    if (q.summed) {
      for (auto& r : sums)
        if (r.calls != 0 || r.connected != 0) out.push_back(std::move(r));
    } else {
      for (auto& [k, r] : rows) out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<LeadDayRollup> lead_days(const RollupQuery& q) override {
    std::vector<LeadDayRollup> out;
    std::map<std::string, std::unordered_map<std::string, std::int64_t, TextHash, std::equal_to<>>, std::less<>> sums;
    core_.run("rollups", q.gym_id, [&] {
      pg::Params p;
      const std::string sql = "SELECT gym_id, local_day, dimension, counts FROM rollup_lead_days" +
                              where(q, false, true, p) + " ORDER BY gym_id, dimension, local_day";
      auto r = core_.with_connection([&](pg::Connection& c) { return c.prepared(sql, p); });
      for (int i = 0; i < r.rows(); ++i) {
        const std::string gym = r.text(i, 0);
        const auto day = static_cast<std::int32_t>(r.integer(i, 1));
        const std::string dimension = r.text(i, 2);
        auto* dim_sums = q.summed ? &sums[dimension] : nullptr;
        unpack(r.text(i, 3), [&](std::string_view value, std::int64_t n) {
          if (dim_sums) {
            if (auto it = dim_sums->find(value); it != dim_sums->end())
              it->second += n;
            else
              dim_sums->emplace(std::string(value), n);
            return;
          }
          LeadDayRollup row;
          row.gym_id = gym;
          row.local_day = day;
          row.dimension = dimension;
          row.value = std::string(value);
          row.count = n;
          out.push_back(std::move(row));
        });
      }
    });
    if (q.summed)
      for (const auto& [dimension, values] : sums) {
        std::vector<std::pair<std::string, std::int64_t>> sorted(values.begin(), values.end());
        std::sort(sorted.begin(), sorted.end());
        for (auto& [value, n] : sorted) {
          LeadDayRollup row;
          row.dimension = dimension;
          row.value = std::move(value);
          row.count = n;
          out.push_back(std::move(row));
        }
      }
    return out;
  }

  std::vector<std::string> campaigns(std::string_view gym_id) override {
    return core_.run("rollups", gym_id, [&] {
      auto r = core_.with_connection([&](pg::Connection& c) {
        if (gym_id.empty())
          return c.prepared("SELECT DISTINCT campaign_id FROM rollup_call_days ORDER BY campaign_id");
        return c.prepared("SELECT DISTINCT campaign_id FROM rollup_call_days WHERE gym_id = $1 ORDER BY campaign_id",
                          pg::Params().text(gym_id));
      });
      std::vector<std::string> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
      return out;
    });
  }

  std::optional<LeadFacts> lead_facts(std::string_view gym_id, std::string_view lead_id) override {
    return core_.run("lead", lead_id, [&]() -> std::optional<LeadFacts> {
      auto r = core_.with_connection(
          [&](pg::Connection& c) { return c.prepared(kLeadFacts, pg::Params().text(lead_id).text(gym_id)); });
      if (r.rows() == 0) return std::nullopt;
      return read_facts(r, 0);
    });
  }

  std::vector<std::pair<std::string, Timestamp>> call_starts(std::string_view gym_id,
                                                             std::string_view lead_id) override {
    return core_.run("lead", lead_id, [&] {
      auto r = core_.with_connection(
          [&](pg::Connection& c) { return c.prepared(kCallStarts, pg::Params().text(lead_id).text(gym_id)); });
      std::vector<std::pair<std::string, Timestamp>> out;
      for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0), r.time(i, 1));
      return out;
    });
  }

  void scan_leads(std::string_view gym_id, const std::function<void(const LeadFacts&)>& fn) override {
    core_.run("leads", gym_id, [&] {
      pg::Params p;
      std::string sql(kScanLeads);
      if (!gym_id.empty()) {
        p.text(gym_id);
        sql += " WHERE l.gym_id = $1";
      }
      scan(sql, p, [&](const pg::Result& r, int row) { fn(read_facts(r, row)); });
    });
  }

  void scan_campaign_leads(std::string_view gym_id, std::string_view campaign_id, Timestamp created_from,
                           Timestamp created_to, const std::function<void(const LeadFacts&)>& fn) override {
    core_.run("campaign leads", campaign_id, [&] {
      pg::Params p;
      p.text(campaign_id).text(gym_id).time(created_from).time(created_to);
      LeadFacts f;
      f.gym_id = std::string(gym_id);
      scan(std::string(kScanCampaignLeads), p, [&](const pg::Result& r, int row) {
        f.id = r.text(row, 0);
        f.created_at = r.time(row, 1);
        f.source = r.text(row, 2);
        f.status = stored_status(r.text(row, 3));
        f.qualification = stored_qualification(r.text(row, 4));
        f.connects = static_cast<int>(r.integer(row, 5));
        f.first_call_at = r.optional_time(row, 6);
        fn(f);
      });
    });
  }

  void scan_calls(std::string_view gym_id, const std::function<void(const Call&)>& fn) override {
    core_.run("calls", gym_id, [&] {
      pg::Params p;
      std::string sql(kScanCalls);
      if (!gym_id.empty()) {
        p.text(gym_id);
        sql += " WHERE gym_id = $1";
      }
      scan(sql, p, [&](const pg::Result& r, int row) {
        Call c;
        c.id = r.text(row, 0);
        c.gym_id = r.text(row, 1);
        c.lead_id = r.text(row, 2);
        c.campaign_id = r.text(row, 3);
        c.status = parse_call_status(r.text(row, 4));
        c.answered_by = parse_answered_by(r.text(row, 5));
        c.started_at = r.time(row, 6);
        if (!r.null(row, 7)) c.duration_s = r.integer(row, 7);
        if (!r.null(row, 8)) c.outcome = parse_call_outcome(r.text(row, 8));
        if (!r.null(row, 9)) c.cost_usd = r.real(row, 9);
        fn(c);
      });
    });
  }

 private:
  // Adds `add` to the packed row of key `k` (three parameters), under its row lock.
  static void merge_packed(pg::Connection& c, const pg::Params& k, const Counts& add, std::string_view ensure,
                           std::string_view lock, std::string_view put, std::string_view remove) {
    c.prepared(ensure, k);
    auto row = c.prepared(lock, k);
    Counts counts;
    if (row.rows() > 0)
      unpack(row.text(0, 0), [&](std::string_view n, std::int64_t v) { counts[std::string(n)] = v; });
    if (merge(counts, add)) {
      pg::Params w = k;
      w.text(pack(counts));
      c.prepared(put, w);
    } else {
      c.prepared(remove, k);
    }
  }

  // merge_packed for many keys (a bulk import's or ingest's batch) in four
  // statements: the rows are made, locked and read (in key order, as the
  // one-key path locks them), merged here, then written or deleted; the keys
  // and new counts travel as one JSON parameter each.
  static void merge_packed_many(pg::Connection& c, const PackedTable& t,
                                const std::vector<std::pair<PackedKey, const Counts*>>& keys) {
    const std::string cols = fmt::format("{}, {}, {}", t.cols[0], t.cols[1], t.cols[2]);
    const std::string record =
        fmt::format("{} {}, {} {}, {} {}", t.cols[0], t.types[0], t.cols[1], t.types[1], t.cols[2], t.types[2]);
    auto json_key = [&](std::string& out, const PackedKey& k) {
      for (std::size_t i = 0; i < 3; ++i) {
        out += i == 0 ? "{\"" : ", \"";
        out += t.cols[i];
        out += "\": ";
        if (t.types[i] == "integer")
          out += k[i];
        else
          json_string(out, pg::store_text(k[i]));
      }
    };
    std::string all = "[";
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i) all += ", ";
      json_key(all, keys[i].first);
      all += "}";
    }
    all += "]";
    const pg::Params p = pg::Params().raw(all);
    c.prepared(fmt::format("INSERT INTO {0} ({1}, counts) SELECT {1}, '' FROM json_to_recordset($1::json) AS x({2}) "
                           "ON CONFLICT DO NOTHING",
                           t.table, cols, record),
               p);
    auto rows = c.prepared(fmt::format("SELECT {1}, counts FROM {0} WHERE ({1}) IN (SELECT {1} FROM "
                                       "json_to_recordset($1::json) AS x({2})) ORDER BY {1} FOR UPDATE",
                                       t.table, cols, record),
                           p);
    auto joined = [](const std::string& a, const std::string& b, const std::string& c3) {
      return a + '\x1f' + b + '\x1f' + c3;
    };
    std::unordered_map<std::string, Counts> stored;
    for (int i = 0; i < rows.rows(); ++i) {
      Counts counts;
      unpack(rows.text(i, 3), [&](std::string_view n, std::int64_t v) { counts[std::string(n)] = v; });
      stored.emplace(joined(rows.text(i, 0), rows.text(i, 1), rows.text(i, 2)), std::move(counts));
    }
    std::string put = "[", gone = "[";
    for (const auto& [key, add] : keys) {
      auto& counts = stored[joined(key[0], key[1], key[2])];
      if (merge(counts, *add)) {
        if (put.size() > 1) put += ", ";
        json_key(put, key);
        put += ", \"counts\": ";
        json_string(put, pg::store_text(pack(counts)));
        put += "}";
      } else {
        if (gone.size() > 1) gone += ", ";
        json_key(gone, key);
        gone += "}";
      }
    }
    put += "]";
    gone += "]";
    const std::string match =
        fmt::format("{0}.{1} = x.{1} AND {0}.{2} = x.{2} AND {0}.{3} = x.{3}", t.table, t.cols[0], t.cols[1], t.cols[2]);
    if (put.size() > 2)
      c.prepared(fmt::format("UPDATE {0} SET counts = x.counts FROM json_to_recordset($1::json) AS x({1}, counts text) "
                             "WHERE {2}",
                             t.table, record, match),
                 pg::Params().raw(put));
    if (gone.size() > 2)
      c.prepared(fmt::format("DELETE FROM {0} USING json_to_recordset($1::json) AS x({1}) WHERE {2}", t.table, record,
                             match),
                 pg::Params().raw(gone));
  }

  // `v` as a JSON string (v is valid UTF-8: store_text made it so).
  static void json_string(std::string& out, std::string_view v) {
    out.push_back('"');
    for (char ch : v) {
      const auto u = static_cast<unsigned char>(ch);
      if (ch == '"' || ch == '\\') {
        out.push_back('\\');
        out.push_back(ch);
      } else if (u < 0x20) {
        out += fmt::format("\\u{:04x}", static_cast<unsigned>(u));
      } else {
        out.push_back(ch);
      }
    }
    out.push_back('"');
  }

  // Runs `sql` through a cursor of its own, calling row_fn for each row, a
  // batch at a time. The cursor lives in this thread's transaction (or one
  // of its own); row_fn may use the store meanwhile.
  template <class RowFn>
  void scan(const std::string& sql, const pg::Params& p, RowFn&& row_fn) {
    static std::atomic<std::uint64_t> counter{0};
    const std::string cursor = "gymdash_scan_" + std::to_string(++counter);
    core_.atomically([&](pg::Connection& c) {
      c.exec("DECLARE " + cursor + " NO SCROLL CURSOR FOR " + sql, p);
      const std::string fetch = "FETCH " + std::to_string(kScanBatch) + " FROM " + cursor;
      for (;;) {
        auto r = c.exec(fetch);
        for (int i = 0; i < r.rows(); ++i) row_fn(r, i);
        if (r.rows() < kScanBatch) break;
      }
      c.script("CLOSE " + cursor);
    });
  }

  Core& core_;
};

#undef GYMDASH_CALL_DAY_COLUMNS

}  // namespace

std::unique_ptr<AnalyticsRepository> make_postgres_analytics(Core& core) { return std::make_unique<PgAnalytics>(core); }

}  // namespace gymdash::postgres_store
