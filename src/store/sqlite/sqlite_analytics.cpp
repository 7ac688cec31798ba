// The analytics rollups in SQLite: three WITHOUT ROWID tables keyed so that a
// dashboard's read is one range scan per table (gym, local_day …), and an
// upsert per key that adds signed amounts and deletes a row that reaches zero.

#include "store/columns.hpp"
#include "store/packed_counts.hpp"
#include "store/sqlite/statement_use.hpp"
#include "store/sqlite/sqlite_analytics.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <gymdash/error.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>

namespace gymdash::sqlite_store {
namespace {

using store_columns::from_millis;

constexpr std::string_view kUpsertCallDay = R"sql(
INSERT INTO rollup_call_days (gym_id, local_day, campaign_id, calls, connected, voicemail, talk_s, cost_micros,
  o_interested, o_not_interested, o_callback_requested, o_trial_booked, o_membership_sold, o_wrong_number,
  o_do_not_call)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
ON CONFLICT (gym_id, local_day, campaign_id) DO UPDATE SET
  calls = calls + excluded.calls, connected = connected + excluded.connected,
  voicemail = voicemail + excluded.voicemail, talk_s = talk_s + excluded.talk_s,
  cost_micros = cost_micros + excluded.cost_micros,
  o_interested = o_interested + excluded.o_interested,
  o_not_interested = o_not_interested + excluded.o_not_interested,
  o_callback_requested = o_callback_requested + excluded.o_callback_requested,
  o_trial_booked = o_trial_booked + excluded.o_trial_booked,
  o_membership_sold = o_membership_sold + excluded.o_membership_sold,
  o_wrong_number = o_wrong_number + excluded.o_wrong_number,
  o_do_not_call = o_do_not_call + excluded.o_do_not_call
RETURNING calls)sql";
constexpr std::string_view kDeleteCallDay =
    "DELETE FROM rollup_call_days WHERE gym_id = ?1 AND local_day = ?2 AND campaign_id = ?3";

// Packed rows (see migration v5): the delta of a key, packed, added to the
// stored row in one statement (gymdash_add_counts); a row whose counts all
// cancel comes back empty and is deleted.
constexpr std::string_view kUpsertHours =
    "INSERT INTO rollup_call_hours (gym_id, local_day, campaign_id, counts) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (gym_id, local_day, campaign_id) DO UPDATE SET counts = gymdash_add_counts(counts, excluded.counts) "
    "RETURNING counts = ''";
constexpr std::string_view kDeleteHours =
    "DELETE FROM rollup_call_hours WHERE gym_id = ?1 AND local_day = ?2 AND campaign_id = ?3";
constexpr std::string_view kUpsertLeads =
    "INSERT INTO rollup_lead_days (gym_id, dimension, local_day, counts) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (gym_id, dimension, local_day) DO UPDATE SET counts = gymdash_add_counts(counts, excluded.counts) "
    "RETURNING counts = ''";
constexpr std::string_view kDeleteLeads =
    "DELETE FROM rollup_lead_days WHERE gym_id = ?1 AND dimension = ?2 AND local_day = ?3";

using Counts = std::map<std::string, std::int64_t>;

// Hashes a std::string and a std::string_view alike (lookups by view).
struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

// The packed rows' form, shared with the PostgreSQL backend (store/packed_counts.hpp).
using packed_counts::unpack;

void add_counts_function(sqlite3_context* context, int, sqlite3_value** argv) {
  try {
    const auto text = [](sqlite3_value* v) {
      const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
      return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_value_bytes(v))) : std::string_view();
    };
    const std::string sum = packed_counts::add(text(argv[0]), text(argv[1]));
    sqlite3_result_text(context, sum.data(), static_cast<int>(sum.size()), SQLITE_TRANSIENT);
  } catch (const std::exception& e) {
    sqlite3_result_error(context, e.what(), -1);
  }
}

#define GYMDASH_CALL_DAY_COLUMNS                                                                     \
  "gym_id, local_day, campaign_id, calls, connected, voicemail, talk_s, cost_micros, o_interested, " \
  "o_not_interested, o_callback_requested, o_trial_booked, o_membership_sold, o_wrong_number, o_do_not_call"
#define GYMDASH_CALL_HOUR_COLUMNS "gym_id, local_day, campaign_id, lead_hour, lead_weekday, calls, connected"

// Four shapes per table: one gym or all, one campaign or all. ?1 from, ?2 to, ?3 gym, ?4 campaign.
constexpr std::string_view kCallDays[4] = {
    "SELECT " GYMDASH_CALL_DAY_COLUMNS " FROM rollup_call_days WHERE local_day BETWEEN ?1 AND ?2 "
    "ORDER BY gym_id, local_day, campaign_id",
    "SELECT " GYMDASH_CALL_DAY_COLUMNS " FROM rollup_call_days WHERE gym_id = ?3 AND local_day BETWEEN ?1 AND ?2 "
    "ORDER BY gym_id, local_day, campaign_id",
    "SELECT " GYMDASH_CALL_DAY_COLUMNS " FROM rollup_call_days WHERE local_day BETWEEN ?1 AND ?2 "
    "AND campaign_id = ?4 ORDER BY gym_id, local_day, campaign_id",
    "SELECT " GYMDASH_CALL_DAY_COLUMNS " FROM rollup_call_days WHERE gym_id = ?3 AND local_day BETWEEN ?1 AND ?2 "
    "AND campaign_id = ?4 ORDER BY gym_id, local_day, campaign_id",
};
// The WHERE clause of a rollup read: ?1 from, ?2 to, ?3 gym, ?4 campaign, ?5 dimension.
std::string where(const RollupQuery& q, bool campaigns, bool dimensions) {
  std::string w = " WHERE ";
  if (!q.gym_id.empty()) w += "gym_id = ?3 AND ";
  w += "local_day BETWEEN ?1 AND ?2";
  if (campaigns && q.campaign_id) w += " AND campaign_id = ?4";
  if (dimensions && !q.dimension.empty()) w += " AND dimension = ?5";
  return w;
}

std::string call_hours_sql(const RollupQuery& q) {
  return "SELECT gym_id, local_day, campaign_id, counts FROM rollup_call_hours" + where(q, true, false) +
         " ORDER BY gym_id, local_day, campaign_id";
}

std::string lead_days_sql(const RollupQuery& q) {
  return "SELECT gym_id, local_day, dimension, counts FROM rollup_lead_days" + where(q, false, true) +
         " ORDER BY gym_id, dimension, local_day";
}

constexpr std::string_view kCampaignsAll =
    "SELECT DISTINCT campaign_id FROM rollup_call_days ORDER BY campaign_id";
constexpr std::string_view kCampaignsGym =
    "SELECT DISTINCT campaign_id FROM rollup_call_days WHERE gym_id = ?1 ORDER BY campaign_id";

constexpr std::string_view kLeadFacts =
    "SELECT id, gym_id, created_at, source, status, qualification, connects, local_zone, "
    "(SELECT MIN(started_at) FROM call_results WHERE lead_id = leads.id) FROM leads WHERE id = ?1 AND gym_id = ?2";
constexpr std::string_view kCallStarts =
    "SELECT call_id, started_at FROM call_results WHERE lead_id = ?1 AND gym_id = ?2";
// The first call per lead by a primary-key lookup in call_results (lead_id, call_id) for each lead.
constexpr std::string_view kScanLeads[2] = {
    "SELECT l.id, l.gym_id, l.created_at, l.source, l.status, l.qualification, l.connects, l.local_zone, "
    "(SELECT MIN(started_at) FROM call_results WHERE lead_id = l.id) FROM leads l",
    "SELECT l.id, l.gym_id, l.created_at, l.source, l.status, l.qualification, l.connects, l.local_zone, "
    "(SELECT MIN(started_at) FROM call_results WHERE lead_id = l.id) FROM leads l WHERE l.gym_id = ?1",
};
// A campaign's enrolled leads created in a period: one range of
// campaign_leads' primary key, whose rows carry their leads' facts (schema v7).
constexpr std::string_view kScanCampaignLeads =
    "SELECT lead_id, lead_created_at, lead_source, lead_status, lead_qualification, lead_connects, "
    "lead_first_call_at FROM campaign_leads "
    "WHERE campaign_id = ?1 AND gym_id = ?2 AND lead_created_at >= ?3 AND lead_created_at < ?4";
constexpr std::string_view kScanCalls[2] = {
    "SELECT id, gym_id, lead_id, campaign_id, status, answered_by, started_at, duration_s, outcome, cost_usd "
    "FROM calls",
    "SELECT id, gym_id, lead_id, campaign_id, status, answered_by, started_at, duration_s, outcome, cost_usd "
    "FROM calls WHERE gym_id = ?1",
};

constexpr std::string_view kClearAll[3] = {"DELETE FROM rollup_call_days", "DELETE FROM rollup_call_hours",
                                           "DELETE FROM rollup_lead_days"};
constexpr std::string_view kClearGym[3] = {"DELETE FROM rollup_call_days WHERE gym_id = ?1",
                                           "DELETE FROM rollup_call_hours WHERE gym_id = ?1",
                                           "DELETE FROM rollup_lead_days WHERE gym_id = ?1"};

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

LeadFacts read_facts(SQLite::Statement& s) {
  LeadFacts f;
  f.id = s.getColumn(0).getString();
  f.gym_id = s.getColumn(1).getString();
  f.created_at = from_millis(s.getColumn(2).getInt64());
  f.source = s.getColumn(3).getString();
  f.status = stored_status(s.getColumn(4).getString());
  f.qualification = stored_qualification(s.getColumn(5).getString());
  f.connects = s.getColumn(6).getInt();
  f.local_zone = s.getColumn(7).getString();
  if (!s.getColumn(8).isNull()) f.first_call_at = from_millis(s.getColumn(8).getInt64());
  return f;
}

class SqliteAnalytics final : public AnalyticsRepository {
 public:
  explicit SqliteAnalytics(Connection& c) : c_(c) {}

  void apply(const RollupDelta& delta) override {
    if (delta.empty()) return;
    c_.run("rollups", [&] {
      c_.within_transaction([&] {
        for (const auto& r : delta.call_days) {
          bool zero = false;
          {
            Use s(c_.statement(kUpsertCallDay));
            s->bind(1, r.gym_id);
            s->bind(2, r.local_day);
            s->bind(3, r.campaign_id);
            s->bind(4, r.calls);
            s->bind(5, r.connected);
            s->bind(6, r.voicemail);
            s->bind(7, r.talk_s);
            s->bind(8, r.cost_micros);
            for (int i = 0; i < 7; ++i) s->bind(9 + i, r.outcomes[static_cast<std::size_t>(i)]);
            zero = s->executeStep() && s->getColumn(0).getInt64() == 0;
          }
          if (zero) {
            Use d(c_.statement(kDeleteCallDay));
            d->bind(1, r.gym_id);
            d->bind(2, r.local_day);
            d->bind(3, r.campaign_id);
            d->exec();
          }
        }
        // Hours and leads: each packed row once, with every delta row of its key.
        std::map<std::tuple<std::string, std::int32_t, std::string>, Counts> hours;
        for (const auto& r : delta.call_hours) {
          auto& c = hours[{r.gym_id, r.local_day, r.campaign_id}];
          const auto cell = std::to_string(r.lead_hour) + "." + std::to_string(r.lead_weekday);
          c["calls." + cell] += r.calls;
          c["connected." + cell] += r.connected;
        }
        // A key's delta, packed (zero entries left out: a row holds none), added
        // to its row; none left: nothing to add; a row left empty is deleted.
        // The key is bound as ?1–?3 in both tables' statements, in their order.
        const auto add_packed = [&](std::string_view upsert, std::string_view remove, const auto& key,
                                    const Counts& add) {
          const auto bind_key = [&](SQLite::Statement& st) {
            st.bind(1, std::get<0>(key));
            st.bind(2, std::get<1>(key));
            st.bind(3, std::get<2>(key));
          };
          const std::string packed = packed_counts::pack(add);
          if (packed.empty()) return;
          bool emptied = false;
          {
            Use w(c_.statement(upsert));
            bind_key(*w);
            w->bind(4, packed);
            emptied = w->executeStep() && w->getColumn(0).getInt() != 0;
          }
          if (emptied) {
            Use d(c_.statement(remove));
            bind_key(*d);
            d->exec();
          }
        };
        for (const auto& [key, add] : hours) add_packed(kUpsertHours, kDeleteHours, key, add);
        std::map<std::tuple<std::string, std::string, std::int32_t>, Counts> leads;
        for (const auto& r : delta.lead_days) leads[{r.gym_id, r.dimension, r.local_day}][r.value] += r.count;
        for (const auto& [key, add] : leads) add_packed(kUpsertLeads, kDeleteLeads, key, add);
      });
    });
  }

  void clear(std::string_view gym_id) override {
    c_.run("rollups", [&] {
      c_.within_transaction([&] {
        for (int i = 0; i < 3; ++i) {
          Use s(c_.statement(gym_id.empty() ? kClearAll[i] : kClearGym[i]));
          if (!gym_id.empty()) s->bind(1, std::string(gym_id));
          s->exec();
        }
      });
    });
  }

  std::vector<CallDayRollup> call_days(const RollupQuery& q) override {
    std::vector<CallDayRollup> out;
    c_.run("rollups", [&] {
      Use s(c_.statement(kCallDays[shape(q)]));
      bind_query(s, q);
      while (s->executeStep()) {
        CallDayRollup r;
        r.gym_id = s->getColumn(0).getString();
        r.local_day = s->getColumn(1).getInt();
        r.campaign_id = s->getColumn(2).getString();
        r.calls = s->getColumn(3).getInt64();
        r.connected = s->getColumn(4).getInt64();
        r.voicemail = s->getColumn(5).getInt64();
        r.talk_s = s->getColumn(6).getInt64();
        r.cost_micros = s->getColumn(7).getInt64();
        for (int i = 0; i < 7; ++i) r.outcomes[static_cast<std::size_t>(i)] = s->getColumn(8 + i).getInt64();
        out.push_back(std::move(r));
      }
    });
    return out;
  }

  std::vector<CallHourRollup> call_hours(const RollupQuery& q) override {
    std::map<std::tuple<std::string, std::int32_t, std::string, std::int32_t, std::int32_t>, CallHourRollup> rows;
    std::array<CallHourRollup, 24 * 7> sums{};
    c_.run("rollups", [&] {
      Use s(c_.statement(call_hours_sql(q)));
      bind_query(s, q);
      while (s->executeStep()) {
        const char* gym = s->getColumn(0).getText();
        const std::int32_t day = s->getColumn(1).getInt();
        const char* campaign = s->getColumn(2).getText();
        unpack(s->getColumn(3).getText(), [&](std::string_view name, std::int64_t v) {
          // calls.H.W or connected.H.W
          const bool calls = name.substr(0, 6) == "calls.";
          auto rest = name.substr(calls ? 6 : 10);
          const auto dot = rest.find('.');
          const int hour = std::atoi(std::string(rest.substr(0, dot)).c_str());
          const int weekday = std::atoi(std::string(rest.substr(dot + 1)).c_str());
          if (hour < 0 || hour > 23 || weekday < 0 || weekday > 6) return;
          CallHourRollup* r;
          if (q.summed) {
            r = &sums[static_cast<std::size_t>(hour * 7 + weekday)];
          } else {
            r = &rows[{gym, day, campaign, hour, weekday}];
            r->gym_id = gym;
            r->local_day = day;
            r->campaign_id = campaign;
          }
          r->lead_hour = hour;
          r->lead_weekday = weekday;
          (calls ? r->calls : r->connected) += v;
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
    // Summed per dimension in hash maps looked up by the packed text's own
    // view (no string built per entry): a day's `speed` row holds a few
    // hundred entries, and a dashboard sums 90 of them per gym.
    std::map<std::string, std::unordered_map<std::string, std::int64_t, TextHash, std::equal_to<>>, std::less<>> sums;
    c_.run("rollups", [&] {
      Use s(c_.statement(lead_days_sql(q)));
      s->bind(1, q.from_day);
      s->bind(2, q.to_day);
      if (!q.gym_id.empty()) s->bind(3, q.gym_id);
      if (!q.dimension.empty()) s->bind(5, q.dimension);
      while (s->executeStep()) {
        const char* gym = s->getColumn(0).getText();
        const std::int32_t day = s->getColumn(1).getInt();
        const std::string dimension = s->getColumn(2).getString();
        auto* dim_sums = q.summed ? &sums[dimension] : nullptr;
        unpack(s->getColumn(3).getText(), [&](std::string_view value, std::int64_t n) {
          if (dim_sums) {
            if (auto it = dim_sums->find(value); it != dim_sums->end()) it->second += n;
            else dim_sums->emplace(std::string(value), n);
            return;
          }
          LeadDayRollup r;
          r.gym_id = gym;
          r.local_day = day;
          r.dimension = dimension;
          r.value = std::string(value);
          r.count = n;
          out.push_back(std::move(r));
        });
      }
    });
    if (q.summed)
      for (const auto& [dimension, values] : sums) {
        std::vector<std::pair<std::string, std::int64_t>> sorted(values.begin(), values.end());
        std::sort(sorted.begin(), sorted.end());
        for (auto& [value, n] : sorted) {
          LeadDayRollup r;
          r.dimension = dimension;
          r.value = std::move(value);
          r.count = n;
          out.push_back(std::move(r));
        }
      }
    return out;
  }

  std::vector<std::string> campaigns(std::string_view gym_id) override {
    std::vector<std::string> out;
    c_.run("rollups", [&] {
      Use s(c_.statement(gym_id.empty() ? kCampaignsAll : kCampaignsGym));
      if (!gym_id.empty()) s->bind(1, std::string(gym_id));
      while (s->executeStep()) out.push_back(s->getColumn(0).getString());
    });
    return out;
  }

  std::optional<LeadFacts> lead_facts(std::string_view gym_id, std::string_view lead_id) override {
    std::optional<LeadFacts> out;
    c_.run("lead", [&] {
      Use s(c_.statement(kLeadFacts));
      s->bind(1, std::string(lead_id));
      s->bind(2, std::string(gym_id));
      if (s->executeStep()) out = read_facts(*operator_arrow(s));
    });
    return out;
  }

  std::vector<std::pair<std::string, Timestamp>> call_starts(std::string_view gym_id,
                                                             std::string_view lead_id) override {
    std::vector<std::pair<std::string, Timestamp>> out;
    c_.run("lead", [&] {
      Use s(c_.statement(kCallStarts));
      s->bind(1, std::string(lead_id));
      s->bind(2, std::string(gym_id));
      while (s->executeStep()) out.emplace_back(s->getColumn(0).getString(), from_millis(s->getColumn(1).getInt64()));
    });
    return out;
  }

  void scan_leads(std::string_view gym_id, const std::function<void(const LeadFacts&)>& fn) override {
    c_.run("leads", [&] {
      Use s(c_.statement(kScanLeads[gym_id.empty() ? 0 : 1]));
      if (!gym_id.empty()) s->bind(1, std::string(gym_id));
      while (s->executeStep()) fn(read_facts(*operator_arrow(s)));
    });
  }

  void scan_campaign_leads(std::string_view gym_id, std::string_view campaign_id, Timestamp created_from,
                           Timestamp created_to, const std::function<void(const LeadFacts&)>& fn) override {
    c_.run("campaign leads", [&] {
      Use s(c_.statement(kScanCampaignLeads));
      s->bind(1, std::string(campaign_id));
      s->bind(2, std::string(gym_id));
      s->bind(3, static_cast<std::int64_t>(created_from.time_since_epoch().count()));
      s->bind(4, static_cast<std::int64_t>(created_to.time_since_epoch().count()));
      // Only the columns a campaign's figures need (each column read costs
      // a call into SQLite): the gym is the query's, the zone is not used.
      LeadFacts f;
      f.gym_id = std::string(gym_id);
      while (s->executeStep()) {
        f.id = s->getColumn(0).getString();
        f.created_at = from_millis(s->getColumn(1).getInt64());
        f.source = s->getColumn(2).getString();
        f.status = stored_status(s->getColumn(3).getString());
        f.qualification = stored_qualification(s->getColumn(4).getString());
        f.connects = s->getColumn(5).getInt();
        const auto first = s->getColumn(6);
        f.first_call_at = first.isNull() ? std::nullopt : std::optional<Timestamp>(from_millis(first.getInt64()));
        fn(f);
      }
    });
  }

  void scan_calls(std::string_view gym_id, const std::function<void(const Call&)>& fn) override {
    c_.run("calls", [&] {
      Use s(c_.statement(kScanCalls[gym_id.empty() ? 0 : 1]));
      if (!gym_id.empty()) s->bind(1, std::string(gym_id));
      while (s->executeStep()) {
        Call c;
        c.id = s->getColumn(0).getString();
        c.gym_id = s->getColumn(1).getString();
        c.lead_id = s->getColumn(2).getString();
        c.campaign_id = s->getColumn(3).getString();
        c.status = parse_call_status(s->getColumn(4).getString());
        c.answered_by = parse_answered_by(s->getColumn(5).getString());
        c.started_at = from_millis(s->getColumn(6).getInt64());
        if (!s->getColumn(7).isNull()) c.duration_s = s->getColumn(7).getInt64();
        if (!s->getColumn(8).isNull()) c.outcome = parse_call_outcome(s->getColumn(8).getString());
        if (!s->getColumn(9).isNull()) c.cost_usd = s->getColumn(9).getDouble();
        fn(c);
      }
    });
  }

 private:
  static SQLite::Statement* operator_arrow(const Use& u) { return u.operator->(); }
  static int shape(const RollupQuery& q) { return (q.gym_id.empty() ? 0 : 1) + (q.campaign_id ? 2 : 0); }
  static void bind_query(const Use& s, const RollupQuery& q) {
    s->bind(1, q.from_day);
    s->bind(2, q.to_day);
    if (!q.gym_id.empty()) s->bind(3, q.gym_id);
    if (q.campaign_id) s->bind(4, *q.campaign_id);
  }

  Connection& c_;
};

}  // namespace

void register_rollup_functions(sqlite3* db) {
  const int rc = sqlite3_create_function_v2(db, "gymdash_add_counts", 2,
                                            SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, nullptr,
                                            &add_counts_function, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK)
    throw StorageError(fmt::format("rollups: cannot register gymdash_add_counts: {}", sqlite3_errstr(rc)), "sqlite");
}

std::unique_ptr<AnalyticsRepository> make_sqlite_analytics(Connection& connection) {
  return std::make_unique<SqliteAnalytics>(connection);
}

}  // namespace gymdash::sqlite_store
