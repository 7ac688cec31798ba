// Campaigns in PostgreSQL: the SQLite backend's statements
// (sqlite_campaigns.cpp) with PostgreSQL's spelling: list-valued arguments
// travel as one JSON array read with json_array_elements_text, so every
// method is one fixed, prepared statement; expected refusals are conditions
// of the statement, never a server error (postgres_store.hpp).

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <gymdash/campaign_model.hpp>
#include <gymdash/error.hpp>
#include <gymdash/store.hpp>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/columns.hpp"
#include "store/postgres/postgres_leads.hpp"
#include "store/postgres/postgres_store.hpp"

namespace gymdash::postgres_store {
namespace {

using namespace store_columns;

#define GYMDASH_CAMPAIGN_COLUMNS                                                                             \
  "id, gym_id, name, description, state, target_qualifications, target_statuses, target_tags, "              \
  "target_source, target_created_from, target_created_to, start_date, end_date, call_days, "                 \
  "call_start_minute, call_end_minute, max_concurrent, calls_per_day, calls_per_second, max_attempts, "      \
  "retry_gap_minutes, budget_daily_usd, budget_total_usd, reserve_per_call_usd, voice_provider, "            \
  "assistant_id, weight, created_at, updated_at, activated_at, ended_at, version"

// A new campaign of an existing gym; 0 rows when the gym is missing or the id taken.
constexpr std::string_view kInsert =
    "INSERT INTO campaigns (" GYMDASH_CAMPAIGN_COLUMNS
    ") SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, "
    "$10::bigint, $11::bigint, $12::text, $13::text, $14::integer, $15::integer, $16::integer, $17::integer, "
    "$18::integer, $19::float8, $20::integer, $21::integer, $22::float8, $23::float8, $24::float8, $25::text, "
    "$26::text, $27::integer, $28::bigint, $29::bigint, $30::bigint, $31::bigint, $32::bigint "
    "WHERE EXISTS (SELECT 1 FROM gyms WHERE id = $2::text) ON CONFLICT (id) DO NOTHING";
constexpr std::string_view kUpdate =
    "UPDATE campaigns SET name = $3, description = $4, state = $5, target_qualifications = $6, "
    "target_statuses = $7, target_tags = $8, target_source = $9, target_created_from = $10, "
    "target_created_to = $11, start_date = $12, end_date = $13, call_days = $14, call_start_minute = $15, "
    "call_end_minute = $16, max_concurrent = $17, calls_per_day = $18, calls_per_second = $19, "
    "max_attempts = $20, retry_gap_minutes = $21, budget_daily_usd = $22, budget_total_usd = $23, "
    "reserve_per_call_usd = $24, voice_provider = $25, assistant_id = $26, weight = $27, created_at = $28, "
    "updated_at = $29, activated_at = $30, ended_at = $31, version = $32 "
    "WHERE id = $1 AND gym_id = $2 AND version = $33";
constexpr std::string_view kFind = "SELECT " GYMDASH_CAMPAIGN_COLUMNS " FROM campaigns WHERE id = $1 AND gym_id = $2";
constexpr std::string_view kVersion = "SELECT version FROM campaigns WHERE id = $1 AND gym_id = $2";
constexpr std::string_view kIdExists = "SELECT 1 FROM campaigns WHERE id = $1";
constexpr std::string_view kGymExists = "SELECT 1 FROM gyms WHERE id = $1";
constexpr std::string_view kGymCampaignExists = "SELECT 1 FROM campaigns WHERE id = $1 AND gym_id = $2";
// $2: JSON array of state names, '[]' for every state.
constexpr std::string_view kCount =
    "SELECT count(*) FROM campaigns WHERE gym_id = $1 "
    "AND ($2::text = '[]' OR state IN (SELECT json_array_elements_text($2::json)))";
constexpr std::string_view kList =
    "SELECT " GYMDASH_CAMPAIGN_COLUMNS " FROM campaigns WHERE gym_id = $1 "
    "AND ($2::text = '[]' OR state IN (SELECT json_array_elements_text($2::json))) "
    "ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4";
constexpr std::string_view kInState =
    "SELECT " GYMDASH_CAMPAIGN_COLUMNS " FROM campaigns WHERE state = $1 ORDER BY gym_id, id";
// Enrolments go with the campaign (ON DELETE CASCADE), in this statement.
constexpr std::string_view kDelete = "DELETE FROM campaigns WHERE id = $1 AND gym_id = $2";

// An enrolment carries its lead's analytics facts (kept by the lead and call-result writes).
#define GYMDASH_ENROLMENT_FACTS \
  "lead_created_at, lead_source, lead_status, lead_qualification, lead_connects, lead_first_call_at"
#define GYMDASH_LEAD_FACTS                                                          \
  "leads.created_at, leads.source, leads.status, leads.qualification, leads.connects, " \
  "(SELECT min(started_at) FROM call_results WHERE call_results.lead_id = leads.id)"

// Only the gym's leads are enrolled, driven by the ids (a primary-key probe
// each); ids enrolled already are left as they are.
constexpr std::string_view kEnrol =
    "INSERT INTO campaign_leads (campaign_id, lead_id, gym_id, enrolled_at, attempts, last_attempt_at, "
    GYMDASH_ENROLMENT_FACTS ") "
    "SELECT $1::text, leads.id, leads.gym_id, $3::bigint, 0, NULL, " GYMDASH_LEAD_FACTS
    " FROM json_array_elements_text($4::json) AS wanted(value) JOIN leads ON leads.id = wanted.value "
    "WHERE leads.gym_id = $2::text ON CONFLICT DO NOTHING";
// matches_target in SQL: $4/$5 the created range (the extremes when open),
// $6 qualifications, $7 statuses (JSON arrays of names, '[]' for any), $8
// the source ('' for any), $9 the tags a lead must all have (JSON array).
constexpr std::string_view kEnrolMatching =
    "INSERT INTO campaign_leads (campaign_id, lead_id, gym_id, enrolled_at, attempts, last_attempt_at, "
    GYMDASH_ENROLMENT_FACTS ") "
    "SELECT $1::text, id, gym_id, $3::bigint, 0, NULL, " GYMDASH_LEAD_FACTS " FROM leads "
    "WHERE gym_id = $2::text AND created_at >= $4::bigint AND created_at < $5::bigint "
    "AND ($6::text = '[]' OR qualification IN (SELECT json_array_elements_text($6::json))) "
    "AND ($7::text = '[]' OR status IN (SELECT json_array_elements_text($7::json))) "
    "AND ($8::text = '' OR source = $8::text) "
    "AND NOT EXISTS (SELECT 1 FROM json_array_elements_text($9::json) AS wanted(value) WHERE NOT EXISTS "
    "(SELECT 1 FROM lead_tags WHERE lead_tags.lead_id = leads.id AND lead_tags.tag = wanted.value)) "
    "ON CONFLICT DO NOTHING";
constexpr std::string_view kUnenrol =
    "DELETE FROM campaign_leads WHERE campaign_id = $1 AND gym_id = $2 "
    "AND lead_id IN (SELECT json_array_elements_text($3::json))";
constexpr std::string_view kEnrolment =
    "SELECT campaign_id, lead_id, enrolled_at, attempts, last_attempt_at FROM campaign_leads "
    "WHERE campaign_id = $1 AND lead_id = $2 AND gym_id = $3";
constexpr std::string_view kRecordAttempt =
    "UPDATE campaign_leads SET attempts = attempts + 1, last_attempt_at = $4 "
    "WHERE campaign_id = $1 AND lead_id = $2 AND gym_id = $3";
constexpr std::string_view kCounts =
    "SELECT count(*), count(*) FILTER (WHERE attempts = 0), count(*) FILTER (WHERE attempts >= $3), "
    "coalesce(sum(attempts), 0) FROM campaign_leads WHERE campaign_id = $1 AND gym_id = $2";

pg::Params campaign_params(const Campaign& c) {
  const std::string owner = "campaign " + c.id;
  pg::Params p;
  p.text(c.id).text(c.gym_id).text(c.name).text(c.description).text(stored_name(kStateNames, c.state, owner, "state"));
  p.text(encode_names(kQualificationNames, c.target.qualifications, owner, "target.qualifications"));
  p.text(encode_names(kStatusNames, c.target.statuses, owner, "target.statuses"));
  p.text(encode_strings(c.target.tags)).text(c.target.source).time(c.target.created_from).time(c.target.created_to);
  p.text(c.schedule.start_date).text(c.schedule.end_date).integer(c.schedule.days);
  p.integer(c.schedule.hours.start_minute).integer(c.schedule.hours.end_minute).integer(c.pacing.max_concurrent);
  p.integer(c.pacing.calls_per_day).real(c.pacing.calls_per_second).integer(c.pacing.max_attempts);
  p.integer(c.pacing.retry_gap_minutes).real(c.budget.daily_usd).real(c.budget.total_usd);
  p.real(c.budget.reserve_per_call_usd).text(c.voice_provider).text(c.assistant_id).integer(c.weight);
  p.time(c.created_at).time(c.updated_at).time(c.activated_at).time(c.ended_at).integer(c.version);
  return p;
}

Campaign read_campaign(const pg::Result& r, int row) {
  Campaign c;
  c.id = r.text(row, 0);
  const std::string owner = "campaign " + c.id;
  c.gym_id = r.text(row, 1);
  c.name = r.text(row, 2);
  c.description = r.text(row, 3);
  c.state = parse_stored<CampaignState>(kStateNames, r.text(row, 4), owner, "state");
  c.target.qualifications =
      decode_names<Qualification>(kQualificationNames, r.text(row, 5), owner, "target_qualifications");
  c.target.statuses = decode_names<LeadStatus>(kStatusNames, r.text(row, 6), owner, "target_statuses");
  c.target.tags = decode_strings(r.text(row, 7), owner, "target_tags");
  c.target.source = r.text(row, 8);
  c.target.created_from = r.optional_time(row, 9);
  c.target.created_to = r.optional_time(row, 10);
  c.schedule.start_date = r.text(row, 11);
  c.schedule.end_date = r.text(row, 12);
  c.schedule.days = static_cast<DayMask>(r.integer(row, 13));
  c.schedule.hours.start_minute = static_cast<int>(r.integer(row, 14));
  c.schedule.hours.end_minute = static_cast<int>(r.integer(row, 15));
  c.pacing.max_concurrent = static_cast<int>(r.integer(row, 16));
  c.pacing.calls_per_day = static_cast<int>(r.integer(row, 17));
  c.pacing.calls_per_second = r.real(row, 18);
  c.pacing.max_attempts = static_cast<int>(r.integer(row, 19));
  c.pacing.retry_gap_minutes = static_cast<int>(r.integer(row, 20));
  c.budget.daily_usd = r.real(row, 21);
  c.budget.total_usd = r.real(row, 22);
  c.budget.reserve_per_call_usd = r.real(row, 23);
  c.voice_provider = r.text(row, 24);
  c.assistant_id = r.text(row, 25);
  c.weight = static_cast<int>(r.integer(row, 26));
  c.created_at = r.time(row, 27);
  c.updated_at = r.time(row, 28);
  c.activated_at = r.optional_time(row, 29);
  c.ended_at = r.optional_time(row, 30);
  c.version = r.integer(row, 31);
  return c;
}

class PgCampaigns final : public CampaignRepository {
 public:
  explicit PgCampaigns(Core& core) : core_(core) {}

  void insert(const Campaign& campaign) override {
    core_.run("campaign", campaign.id, [&] {
      core_.with_connection([&](pg::Connection& c) {
        if (c.prepared(kInsert, campaign_params(campaign)).affected() > 0) return;
        // Explained in the order the memory backend checks.
        if (c.prepared(kGymExists, pg::Params().text(campaign.gym_id)).rows() == 0)
          throw NotFoundError(
              fmt::format("gym {}: not found (storing campaign {})", campaign.gym_id, campaign.id), "gym_id");
        if (c.prepared(kIdExists, pg::Params().text(campaign.id)).rows() > 0)
          throw AlreadyExistsError(fmt::format("campaign {}: already exists", campaign.id), "id");
        throw ConflictError(fmt::format("campaign {}: not stored: changed concurrently, try again", campaign.id),
                            "id");
      });
    });
  }

  std::optional<Campaign> find(std::string_view gym_id, std::string_view campaign_id) override {
    return core_.run("campaign", campaign_id, [&]() -> std::optional<Campaign> {
      auto r = core_.with_connection(
          [&](pg::Connection& c) { return c.prepared(kFind, pg::Params().text(campaign_id).text(gym_id)); });
      if (r.rows() == 0) return std::nullopt;
      return read_campaign(r, 0);
    });
  }

  CampaignPage list(std::string_view gym_id, const CampaignFilter& filter) override {
    CampaignPage page;
    page.page = std::max(filter.page, 1);
    page.page_size = std::clamp(filter.page_size, 1, kMaxPageSize);
    const std::string states = encode_names(kStateNames, filter.states, "campaign filter", "states");
    return core_.run("campaigns of gym", gym_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        page.total = c.prepared(kCount, pg::Params().text(gym_id).text(states)).integer(0, 0);
        const std::int64_t offset = static_cast<std::int64_t>(page.page - 1) * page.page_size;
        if (offset >= page.total) return page;
        auto r = c.prepared(kList, pg::Params().text(gym_id).text(states).integer(page.page_size).integer(offset));
        for (int i = 0; i < r.rows(); ++i) page.items.push_back(read_campaign(r, i));
        return page;
      });
    });
  }

  std::vector<Campaign> in_state(CampaignState state) override {
    std::vector<Campaign> out;
    const auto name = name_of(kStateNames, state);
    if (name.empty()) return out;
    return core_.run("campaigns in state", name, [&] {
      auto r = core_.with_connection([&](pg::Connection& c) { return c.prepared(kInState, pg::Params().text(name)); });
      for (int i = 0; i < r.rows(); ++i) out.push_back(read_campaign(r, i));
      return out;
    });
  }

  void update(const Campaign& campaign) override {
    core_.run("campaign", campaign.id, [&] {
      core_.with_connection([&](pg::Connection& c) {
        const bool expectable = campaign.version != std::numeric_limits<std::int64_t>::min();
        if (expectable) {
          auto p = campaign_params(campaign);
          p.integer(campaign.version - 1);
          if (c.prepared(kUpdate, p).affected() > 0) return;
        }
        auto v = c.prepared(kVersion, pg::Params().text(campaign.id).text(campaign.gym_id));
        if (v.rows() == 0)
          throw NotFoundError(fmt::format("campaign {}: not found in gym {}", campaign.id, campaign.gym_id), "id");
        throw ConflictError(
            fmt::format("campaign {}: version conflict: stored version is {}, the update expects {}", campaign.id,
                        v.integer(0, 0), expectable ? fmt::format("{}", campaign.version - 1) : std::string("none")),
            "version");
      });
    });
  }

  bool remove(std::string_view gym_id, std::string_view campaign_id) override {
    return core_.run("campaign", campaign_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kDelete, pg::Params().text(campaign_id).text(gym_id)).affected() > 0;
      });
    });
  }

  std::int64_t enrol(std::string_view gym_id, std::string_view campaign_id, const std::vector<std::string>& lead_ids,
                     Timestamp at) override {
    return core_.run("campaign", campaign_id, [&]() -> std::int64_t {
      return core_.with_connection([&](pg::Connection& c) -> std::int64_t {
        require_campaign(c, gym_id, campaign_id);
        if (lead_ids.empty()) return 0;
        return c
            .prepared(kEnrol,
                      pg::Params().text(campaign_id).text(gym_id).time(at).text(encode_strings(lead_ids)))
            .affected();
      });
    });
  }

  std::int64_t enrol_matching(std::string_view gym_id, std::string_view campaign_id, const CampaignTarget& target,
                              Timestamp at) override {
    const std::string owner = fmt::format("campaign {}", campaign_id);
    const std::string qualifications =
        encode_names(kQualificationNames, target.qualifications, owner, "target.qualifications");
    const std::string statuses = encode_names(kStatusNames, target.statuses, owner, "target.statuses");
    return core_.run("campaign", campaign_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        require_campaign(c, gym_id, campaign_id);
        pg::Params p;
        p.text(campaign_id).text(gym_id).time(at);
        p.integer(target.created_from ? to_millis(*target.created_from) : std::numeric_limits<std::int64_t>::min());
        p.integer(target.created_to ? to_millis(*target.created_to) : std::numeric_limits<std::int64_t>::max());
        p.text(qualifications).text(statuses).text(target.source).text(encode_strings(target.tags));
        return c.prepared(kEnrolMatching, p).affected();
      });
    });
  }

  std::int64_t unenrol(std::string_view gym_id, std::string_view campaign_id,
                       const std::vector<std::string>& lead_ids) override {
    if (lead_ids.empty()) return 0;
    return core_.run("campaign", campaign_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kUnenrol, pg::Params().text(campaign_id).text(gym_id).text(encode_strings(lead_ids)))
            .affected();
      });
    });
  }

  std::optional<CampaignLead> enrolment(std::string_view gym_id, std::string_view campaign_id,
                                        std::string_view lead_id) override {
    return core_.run("campaign", campaign_id, [&]() -> std::optional<CampaignLead> {
      auto r = core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kEnrolment, pg::Params().text(campaign_id).text(lead_id).text(gym_id));
      });
      if (r.rows() == 0) return std::nullopt;
      CampaignLead e;
      e.campaign_id = r.text(0, 0);
      e.lead_id = r.text(0, 1);
      e.enrolled_at = r.time(0, 2);
      e.attempts = static_cast<int>(r.integer(0, 3));
      e.last_attempt_at = r.optional_time(0, 4);
      return e;
    });
  }

  bool record_attempt(std::string_view gym_id, std::string_view campaign_id, std::string_view lead_id,
                      Timestamp at) override {
    return core_.run("campaign", campaign_id, [&] {
      return core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kRecordAttempt, pg::Params().text(campaign_id).text(lead_id).text(gym_id).time(at))
                   .affected() > 0;
      });
    });
  }

  EnrolmentCounts enrolment_counts(std::string_view gym_id, std::string_view campaign_id, int max_attempts) override {
    return core_.run("campaign", campaign_id, [&] {
      auto r = core_.with_connection([&](pg::Connection& c) {
        return c.prepared(kCounts, pg::Params().text(campaign_id).text(gym_id).integer(max_attempts));
      });
      EnrolmentCounts counts;
      counts.enrolled = r.integer(0, 0);
      counts.never_called = r.integer(0, 1);
      counts.exhausted = r.integer(0, 2);
      counts.attempts = r.integer(0, 3);
      return counts;
    });
  }

 private:
  // Enrolling into a campaign that is not the gym's is an error, not a no-op.
  static void require_campaign(pg::Connection& c, std::string_view gym_id, std::string_view campaign_id) {
    if (c.prepared(kGymCampaignExists, pg::Params().text(campaign_id).text(gym_id)).rows() == 0)
      throw NotFoundError(fmt::format("campaign {}: not found in gym {}", campaign_id, gym_id), "campaign_id");
  }

  Core& core_;
};

#undef GYMDASH_CAMPAIGN_COLUMNS
#undef GYMDASH_ENROLMENT_FACTS
#undef GYMDASH_LEAD_FACTS

}  // namespace

std::unique_ptr<CampaignRepository> make_postgres_campaigns(Core& core) { return std::make_unique<PgCampaigns>(core); }

}  // namespace gymdash::postgres_store
