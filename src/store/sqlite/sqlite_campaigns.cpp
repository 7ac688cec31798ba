// Campaigns in SQLite: one row per campaign (its settings as plain columns,
// the target's lists as JSON arrays of API names) and one row per enrolled
// lead in campaign_leads, keyed (campaign_id, lead_id). Every statement is
// fixed text: list-valued arguments travel as one JSON array read with
// json_each, so the statement cache holds one entry per method.

#include "store/columns.hpp"
#include "store/sqlite/statement_use.hpp"
#include "store/sqlite/sqlite_campaigns.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <gymdash/error.hpp>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash::sqlite_store {
namespace {

// The stored names and JSON lists are the file format, shared with the
// PostgreSQL backend (store/columns.hpp).
using namespace store_columns;

void bind_optional(SQLite::Statement& s, int index, const std::optional<Timestamp>& t) {
  if (t)
    s.bind(index, to_millis(*t));
  else
    s.bind(index);
}

std::optional<Timestamp> read_optional(const SQLite::Statement& s, int index) {
  auto column = s.getColumn(index);
  if (column.isNull()) return std::nullopt;
  return from_millis(column.getInt64());
}

// ---------------------------------------------------------------------------
// SQL
// ---------------------------------------------------------------------------

#define GYMDASH_CAMPAIGN_COLUMNS                                                                             \
  "id, gym_id, name, description, state, target_qualifications, target_statuses, target_tags, "              \
  "target_source, target_created_from, target_created_to, start_date, end_date, call_days, "                 \
  "call_start_minute, call_end_minute, max_concurrent, calls_per_day, calls_per_second, max_attempts, "      \
  "retry_gap_minutes, budget_daily_usd, budget_total_usd, reserve_per_call_usd, voice_provider, "            \
  "assistant_id, weight, created_at, updated_at, activated_at, ended_at, version"

constexpr std::string_view kInsert =
    "INSERT INTO campaigns (" GYMDASH_CAMPAIGN_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
    "?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32)";
constexpr std::string_view kUpdate =
    "UPDATE campaigns SET name = ?3, description = ?4, state = ?5, target_qualifications = ?6, "
    "target_statuses = ?7, target_tags = ?8, target_source = ?9, target_created_from = ?10, "
    "target_created_to = ?11, start_date = ?12, end_date = ?13, call_days = ?14, call_start_minute = ?15, "
    "call_end_minute = ?16, max_concurrent = ?17, calls_per_day = ?18, calls_per_second = ?19, "
    "max_attempts = ?20, retry_gap_minutes = ?21, budget_daily_usd = ?22, budget_total_usd = ?23, "
    "reserve_per_call_usd = ?24, voice_provider = ?25, assistant_id = ?26, weight = ?27, created_at = ?28, "
    "updated_at = ?29, activated_at = ?30, ended_at = ?31, version = ?32 "
    "WHERE id = ?1 AND gym_id = ?2 AND version = ?33";
constexpr std::string_view kFind = "SELECT " GYMDASH_CAMPAIGN_COLUMNS " FROM campaigns WHERE id = ?1 AND gym_id = ?2";
constexpr std::string_view kVersion = "SELECT version FROM campaigns WHERE id = ?1 AND gym_id = ?2";
constexpr std::string_view kIdExists = "SELECT 1 FROM campaigns WHERE id = ?1";
constexpr std::string_view kGymExists = "SELECT 1 FROM gyms WHERE id = ?1";
constexpr std::string_view kGymCampaignExists = "SELECT 1 FROM campaigns WHERE id = ?1 AND gym_id = ?2";
// ?2: JSON array of state names, '[]' for every state.
constexpr std::string_view kCount =
    "SELECT count(*) FROM campaigns WHERE gym_id = ?1 "
    "AND (?2 = '[]' OR state IN (SELECT value FROM json_each(?2)))";
constexpr std::string_view kList =
    "SELECT " GYMDASH_CAMPAIGN_COLUMNS " FROM campaigns WHERE gym_id = ?1 "
    "AND (?2 = '[]' OR state IN (SELECT value FROM json_each(?2))) "
    "ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4";
constexpr std::string_view kInState =
    "SELECT " GYMDASH_CAMPAIGN_COLUMNS " FROM campaigns WHERE state = ?1 ORDER BY gym_id, id";
// Enrolments go with the campaign (ON DELETE CASCADE), in this statement.
constexpr std::string_view kDelete = "DELETE FROM campaigns WHERE id = ?1 AND gym_id = ?2";

// An enrolment carries its lead's analytics facts (schema v7; kept by the
// lead and call-result writes in sqlite_store.cpp).
#define GYMDASH_ENROLMENT_FACTS \
  "lead_created_at, lead_source, lead_status, lead_qualification, lead_connects, lead_first_call_at"
#define GYMDASH_LEAD_FACTS                                                          \
  "leads.created_at, leads.source, leads.status, leads.qualification, leads.connects, " \
  "(SELECT MIN(started_at) FROM call_results WHERE call_results.lead_id = leads.id)"

// Only the gym's leads are enrolled; ids enrolled already are left as they are.
// CROSS JOIN: driven by the ids (a primary-key probe each), never by a walk
// of the gym's leads.
constexpr std::string_view kEnrol =
    "INSERT OR IGNORE INTO campaign_leads (campaign_id, lead_id, gym_id, enrolled_at, attempts, last_attempt_at, "
    GYMDASH_ENROLMENT_FACTS ") "
    "SELECT ?1, leads.id, leads.gym_id, ?3, 0, NULL, " GYMDASH_LEAD_FACTS " FROM json_each(?4) AS wanted CROSS JOIN leads "
    "ON leads.id = wanted.value WHERE leads.gym_id = ?2";
// matches_target in SQL, over the gym's created_at range of leads_gym_created:
// ?4/?5 the created range (the extremes when open), ?6 qualifications,
// ?7 statuses (JSON arrays of names, '[]' for any), ?8 the source ('' for
// any), ?9 the tags a lead must all have (JSON array).
constexpr std::string_view kEnrolMatching =
    "INSERT OR IGNORE INTO campaign_leads (campaign_id, lead_id, gym_id, enrolled_at, attempts, last_attempt_at, "
    GYMDASH_ENROLMENT_FACTS ") "
    "SELECT ?1, id, gym_id, ?3, 0, NULL, " GYMDASH_LEAD_FACTS " FROM leads "
    "WHERE gym_id = ?2 AND created_at >= ?4 AND created_at < ?5 "
    "AND (?6 = '[]' OR qualification IN (SELECT value FROM json_each(?6))) "
    "AND (?7 = '[]' OR status IN (SELECT value FROM json_each(?7))) "
    "AND (?8 = '' OR source = ?8) "
    "AND NOT EXISTS (SELECT 1 FROM json_each(?9) AS wanted WHERE NOT EXISTS "
    "(SELECT 1 FROM lead_tags WHERE lead_tags.lead_id = leads.id AND lead_tags.tag = wanted.value))";
constexpr std::string_view kUnenrol =
    "DELETE FROM campaign_leads WHERE campaign_id = ?1 AND gym_id = ?2 "
    "AND lead_id IN (SELECT value FROM json_each(?3))";
constexpr std::string_view kEnrolment =
    "SELECT campaign_id, lead_id, enrolled_at, attempts, last_attempt_at FROM campaign_leads "
    "WHERE campaign_id = ?1 AND lead_id = ?2 AND gym_id = ?3";
constexpr std::string_view kRecordAttempt =
    "UPDATE campaign_leads SET attempts = attempts + 1, last_attempt_at = ?4 "
    "WHERE campaign_id = ?1 AND lead_id = ?2 AND gym_id = ?3";
constexpr std::string_view kCounts =
    "SELECT count(*), coalesce(sum(attempts = 0), 0), coalesce(sum(attempts >= ?3), 0), "
    "coalesce(sum(attempts), 0) FROM campaign_leads WHERE campaign_id = ?1 AND gym_id = ?2";

void bind_campaign(SQLite::Statement& s, const Campaign& c) {
  const std::string owner = "campaign " + c.id;
  s.bind(1, c.id);
  s.bind(2, c.gym_id);
  s.bind(3, c.name);
  s.bind(4, c.description);
  s.bind(5, stored_name(kStateNames, c.state, owner, "state"));
  s.bind(6, encode_names(kQualificationNames, c.target.qualifications, owner, "target.qualifications"));
  s.bind(7, encode_names(kStatusNames, c.target.statuses, owner, "target.statuses"));
  s.bind(8, encode_strings(c.target.tags));
  s.bind(9, c.target.source);
  bind_optional(s, 10, c.target.created_from);
  bind_optional(s, 11, c.target.created_to);
  s.bind(12, c.schedule.start_date);
  s.bind(13, c.schedule.end_date);
  s.bind(14, static_cast<int>(c.schedule.days));
  s.bind(15, c.schedule.hours.start_minute);
  s.bind(16, c.schedule.hours.end_minute);
  s.bind(17, c.pacing.max_concurrent);
  s.bind(18, c.pacing.calls_per_day);
  s.bind(19, c.pacing.calls_per_second);
  s.bind(20, c.pacing.max_attempts);
  s.bind(21, c.pacing.retry_gap_minutes);
  s.bind(22, c.budget.daily_usd);
  s.bind(23, c.budget.total_usd);
  s.bind(24, c.budget.reserve_per_call_usd);
  s.bind(25, c.voice_provider);
  s.bind(26, c.assistant_id);
  s.bind(27, c.weight);
  s.bind(28, to_millis(c.created_at));
  s.bind(29, to_millis(c.updated_at));
  bind_optional(s, 30, c.activated_at);
  bind_optional(s, 31, c.ended_at);
  s.bind(32, c.version);
}

Campaign read_campaign(const SQLite::Statement& s) {
  Campaign c;
  c.id = s.getColumn(0).getString();
  const std::string owner = "campaign " + c.id;
  c.gym_id = s.getColumn(1).getString();
  c.name = s.getColumn(2).getString();
  c.description = s.getColumn(3).getString();
  c.state = parse_stored<CampaignState>(kStateNames, s.getColumn(4).getString(), owner, "state");
  c.target.qualifications =
      decode_names<Qualification>(kQualificationNames, s.getColumn(5).getString(), owner, "target_qualifications");
  c.target.statuses = decode_names<LeadStatus>(kStatusNames, s.getColumn(6).getString(), owner, "target_statuses");
  c.target.tags = decode_strings(s.getColumn(7).getString(), owner, "target_tags");
  c.target.source = s.getColumn(8).getString();
  c.target.created_from = read_optional(s, 9);
  c.target.created_to = read_optional(s, 10);
  c.schedule.start_date = s.getColumn(11).getString();
  c.schedule.end_date = s.getColumn(12).getString();
  c.schedule.days = static_cast<DayMask>(s.getColumn(13).getInt());
  c.schedule.hours.start_minute = s.getColumn(14).getInt();
  c.schedule.hours.end_minute = s.getColumn(15).getInt();
  c.pacing.max_concurrent = s.getColumn(16).getInt();
  c.pacing.calls_per_day = s.getColumn(17).getInt();
  c.pacing.calls_per_second = s.getColumn(18).getDouble();
  c.pacing.max_attempts = s.getColumn(19).getInt();
  c.pacing.retry_gap_minutes = s.getColumn(20).getInt();
  c.budget.daily_usd = s.getColumn(21).getDouble();
  c.budget.total_usd = s.getColumn(22).getDouble();
  c.budget.reserve_per_call_usd = s.getColumn(23).getDouble();
  c.voice_provider = s.getColumn(24).getString();
  c.assistant_id = s.getColumn(25).getString();
  c.weight = s.getColumn(26).getInt();
  c.created_at = from_millis(s.getColumn(27).getInt64());
  c.updated_at = from_millis(s.getColumn(28).getInt64());
  c.activated_at = read_optional(s, 29);
  c.ended_at = read_optional(s, 30);
  c.version = s.getColumn(31).getInt64();
  return c;
}

bool is_constraint(const SQLite::Exception& e) { return (e.getErrorCode() & 0xff) == SQLITE_CONSTRAINT; }

// ---------------------------------------------------------------------------
// The repository
// ---------------------------------------------------------------------------

class SqliteCampaigns final : public CampaignRepository {
 public:
  explicit SqliteCampaigns(Connection& connection) : db_(connection) {}

  void insert(const Campaign& campaign) override {
    db_.run("campaign " + campaign.id, [&] {
      Use s(db_.statement(kInsert));
      bind_campaign(*s, campaign);
      try {
        s->exec();
      } catch (const SQLite::Exception& e) {
        if (!is_constraint(e)) throw;
        // Explained in the order the memory backend checks.
        if (!exists(kGymExists, campaign.gym_id))
          throw NotFoundError(
              fmt::format("gym {}: not found (storing campaign {})", campaign.gym_id, campaign.id), "gym_id");
        if (exists(kIdExists, campaign.id))
          throw AlreadyExistsError(fmt::format("campaign {}: already exists", campaign.id), "id");
        throw;
      }
    });
  }

  std::optional<Campaign> find(std::string_view gym_id, std::string_view campaign_id) override {
    std::optional<Campaign> out;
    db_.run(fmt::format("campaign {}", campaign_id), [&] {
      Use s(db_.statement(kFind));
      s->bind(1, std::string(campaign_id));
      s->bind(2, std::string(gym_id));
      if (s->executeStep()) out = read_campaign(*s);
    });
    return out;
  }

  CampaignPage list(std::string_view gym_id, const CampaignFilter& filter) override {
    CampaignPage page;
    page.page = std::max(filter.page, 1);
    page.page_size = std::clamp(filter.page_size, 1, kMaxPageSize);
    const std::string states = encode_names(kStateNames, filter.states, "campaign filter", "states");
    db_.run(fmt::format("campaigns of gym {}", gym_id), [&] {
      // One snapshot for the count and the page, so that they agree.
      db_.within_transaction([&] {
        {
          Use s(db_.statement(kCount));
          s->bind(1, std::string(gym_id));
          s->bind(2, states);
          s->executeStep();
          page.total = s->getColumn(0).getInt64();
        }
        const std::int64_t offset = static_cast<std::int64_t>(page.page - 1) * page.page_size;
        if (offset >= page.total) return;
        Use s(db_.statement(kList));
        s->bind(1, std::string(gym_id));
        s->bind(2, states);
        s->bind(3, page.page_size);
        s->bind(4, offset);
        while (s->executeStep()) page.items.push_back(read_campaign(*s));
      });
    });
    return page;
  }

  std::vector<Campaign> in_state(CampaignState state) override {
    std::vector<Campaign> out;
    const auto name = name_of(kStateNames, state);
    if (name.empty()) return out;
    db_.run("campaigns in state", [&] {
      Use s(db_.statement(kInState));
      s->bind(1, std::string(name));
      while (s->executeStep()) out.push_back(read_campaign(*s));
    });
    return out;
  }

  void update(const Campaign& campaign) override {
    db_.run("campaign " + campaign.id, [&] {
      // Guarded by the version in the statement itself, so that a writer in
      // another process cannot slip in between a check and the write.
      const bool expectable = campaign.version != std::numeric_limits<std::int64_t>::min();
      if (expectable) {
        Use s(db_.statement(kUpdate));
        bind_campaign(*s, campaign);
        s->bind(33, campaign.version - 1);
        if (s->exec() > 0) return;
      }
      Use v(db_.statement(kVersion));
      v->bind(1, campaign.id);
      v->bind(2, campaign.gym_id);
      if (!v->executeStep())
        throw NotFoundError(fmt::format("campaign {}: not found in gym {}", campaign.id, campaign.gym_id), "id");
      throw ConflictError(
          fmt::format("campaign {}: version conflict: stored version is {}, the update expects {}", campaign.id,
                      v->getColumn(0).getInt64(),
                      expectable ? fmt::format("{}", campaign.version - 1) : std::string("none")),
          "version");
    });
  }

  bool remove(std::string_view gym_id, std::string_view campaign_id) override {
    bool removed = false;
    db_.run(fmt::format("campaign {}", campaign_id), [&] {
      Use s(db_.statement(kDelete));
      s->bind(1, std::string(campaign_id));
      s->bind(2, std::string(gym_id));
      removed = s->exec() > 0;
    });
    return removed;
  }

  std::int64_t enrol(std::string_view gym_id, std::string_view campaign_id, const std::vector<std::string>& lead_ids,
                     Timestamp at) override {
    std::int64_t added = 0;
    db_.run(fmt::format("campaign {}", campaign_id), [&] {
      require_campaign(gym_id, campaign_id);
      if (lead_ids.empty()) return;
      Use s(db_.statement(kEnrol));
      s->bind(1, std::string(campaign_id));
      s->bind(2, std::string(gym_id));
      s->bind(3, to_millis(at));
      s->bind(4, encode_strings(lead_ids));
      added = s->exec();
    });
    return added;
  }

  std::int64_t enrol_matching(std::string_view gym_id, std::string_view campaign_id, const CampaignTarget& target,
                              Timestamp at) override {
    const std::string owner = fmt::format("campaign {}", campaign_id);
    const std::string qualifications =
        encode_names(kQualificationNames, target.qualifications, owner, "target.qualifications");
    const std::string statuses = encode_names(kStatusNames, target.statuses, owner, "target.statuses");
    std::int64_t added = 0;
    db_.run(owner, [&] {
      require_campaign(gym_id, campaign_id);
      Use s(db_.statement(kEnrolMatching));
      s->bind(1, std::string(campaign_id));
      s->bind(2, std::string(gym_id));
      s->bind(3, to_millis(at));
      s->bind(4, target.created_from ? to_millis(*target.created_from) : std::numeric_limits<std::int64_t>::min());
      s->bind(5, target.created_to ? to_millis(*target.created_to) : std::numeric_limits<std::int64_t>::max());
      s->bind(6, qualifications);
      s->bind(7, statuses);
      s->bind(8, target.source);
      s->bind(9, encode_strings(target.tags));
      added = s->exec();
    });
    return added;
  }

  std::int64_t unenrol(std::string_view gym_id, std::string_view campaign_id,
                       const std::vector<std::string>& lead_ids) override {
    std::int64_t removed = 0;
    if (lead_ids.empty()) return 0;
    db_.run(fmt::format("campaign {}", campaign_id), [&] {
      Use s(db_.statement(kUnenrol));
      s->bind(1, std::string(campaign_id));
      s->bind(2, std::string(gym_id));
      s->bind(3, encode_strings(lead_ids));
      removed = s->exec();
    });
    return removed;
  }

  std::optional<CampaignLead> enrolment(std::string_view gym_id, std::string_view campaign_id,
                                        std::string_view lead_id) override {
    std::optional<CampaignLead> out;
    db_.run(fmt::format("campaign {}", campaign_id), [&] {
      Use s(db_.statement(kEnrolment));
      s->bind(1, std::string(campaign_id));
      s->bind(2, std::string(lead_id));
      s->bind(3, std::string(gym_id));
      if (!s->executeStep()) return;
      CampaignLead e;
      e.campaign_id = s->getColumn(0).getString();
      e.lead_id = s->getColumn(1).getString();
      e.enrolled_at = from_millis(s->getColumn(2).getInt64());
      e.attempts = s->getColumn(3).getInt();
      e.last_attempt_at = read_optional(*s, 4);
      out = std::move(e);
    });
    return out;
  }

  bool record_attempt(std::string_view gym_id, std::string_view campaign_id, std::string_view lead_id,
                      Timestamp at) override {
    bool counted = false;
    db_.run(fmt::format("campaign {}", campaign_id), [&] {
      Use s(db_.statement(kRecordAttempt));
      s->bind(1, std::string(campaign_id));
      s->bind(2, std::string(lead_id));
      s->bind(3, std::string(gym_id));
      s->bind(4, to_millis(at));
      counted = s->exec() > 0;
    });
    return counted;
  }

  EnrolmentCounts enrolment_counts(std::string_view gym_id, std::string_view campaign_id, int max_attempts) override {
    EnrolmentCounts counts;
    db_.run(fmt::format("campaign {}", campaign_id), [&] {
      Use s(db_.statement(kCounts));
      s->bind(1, std::string(campaign_id));
      s->bind(2, std::string(gym_id));
      s->bind(3, max_attempts);
      s->executeStep();
      counts.enrolled = s->getColumn(0).getInt64();
      counts.never_called = s->getColumn(1).getInt64();
      counts.exhausted = s->getColumn(2).getInt64();
      counts.attempts = s->getColumn(3).getInt64();
    });
    return counts;
  }

 private:
  bool exists(std::string_view sql, const std::string& id) {
    Use s(db_.statement(sql));
    s->bind(1, id);
    return s->executeStep();
  }

  // Enrolling into a campaign that is not the gym's is an error, not a no-op.
  void require_campaign(std::string_view gym_id, std::string_view campaign_id) {
    Use s(db_.statement(kGymCampaignExists));
    s->bind(1, std::string(campaign_id));
    s->bind(2, std::string(gym_id));
    if (!s->executeStep())
      throw NotFoundError(fmt::format("campaign {}: not found in gym {}", campaign_id, gym_id), "campaign_id");
  }

  Connection& db_;
};

#undef GYMDASH_CAMPAIGN_COLUMNS

}  // namespace

std::unique_ptr<CampaignRepository> make_sqlite_campaigns(Connection& connection) {
  return std::make_unique<SqliteCampaigns>(connection);
}

}  // namespace gymdash::sqlite_store
