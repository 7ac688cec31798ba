// CampaignService: validation and lifecycle of calling campaigns over the
// Store (docs/campaigns.md has every rule).
#include <gymdash/error.hpp>
#include <gymdash/services/campaign.hpp>

#include "core/text.hpp"
#include "services/analytics/rollup.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace gymdash {

namespace {

constexpr std::size_t kMaxCampaignName = 200;
constexpr std::size_t kMaxDescription = 10000;
constexpr std::size_t kMaxShortText = 200;  // source, provider names, assistant ids
constexpr std::size_t kMaxLeadIds = 10000;
constexpr int kFederalStart = 8 * 60;  // 08:00 lead-local
constexpr int kFederalEnd = 21 * 60;   // 21:00 lead-local

std::string hhmm(int minute) { return fmt::format("{:02}:{:02}", minute / 60, minute % 60); }

std::string days_text(DayMask mask) {
  static constexpr const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  std::string out;
  for (int d = 0; d < 7; ++d)
    if (mask & (1u << d)) {
      if (!out.empty()) out += ", ";
      out += kDays[d];
    }
  return out.empty() ? "none" : out;
}

bool dialable(LeadStatus s) {
  return s == LeadStatus::New || s == LeadStatus::Contacted || s == LeadStatus::Qualified ||
         s == LeadStatus::TrialBooked;
}

// Lead tags as the lead service normalizes them: trimmed, lower-case, sorted, unique.
std::vector<std::string> normalized_tags(const std::vector<std::string>& in, const std::string& field) {
  if (in.size() > kMaxTags) throw_invalid(field, fmt::format("has {} tags; the limit is {}", in.size(), kMaxTags));
  std::vector<std::string> out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto f = fmt::format("{}[{}]", field, i);
    auto t = text::ascii_lower(text::checked_field(f, in[i], kMaxTagLength));
    if (t.empty()) throw_invalid(f, "is empty");
    for (unsigned char c : t)
      if (c < 0x20 || c == 0x7f) throw_invalid(f, "contains a control character");
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

template <class E>
void sort_unique(std::vector<E>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// A checked, normalized target; `prefix` names it in errors (`target`, `filter`).
CampaignTarget checked_target(const CampaignTarget& in, const std::string& prefix) {
  CampaignTarget t = in;
  for (std::size_t i = 0; i < t.statuses.size(); ++i) {
    if (!dialable(t.statuses[i]))
      throw_invalid(fmt::format("{}.statuses[{}]", prefix, i),
                    fmt::format("{} leads are never dialed; a campaign may target only new, contacted, qualified "
                                "and trial_booked leads",
                                to_string(t.statuses[i])));
  }
  sort_unique(t.statuses);
  for (std::size_t i = 0; i < t.qualifications.size(); ++i)
    if (static_cast<std::size_t>(t.qualifications[i]) > static_cast<std::size_t>(Qualification::Cold))
      throw_invalid(fmt::format("{}.qualifications[{}]", prefix, i), "is not a qualification");
  sort_unique(t.qualifications);
  t.tags = normalized_tags(in.tags, prefix + ".tags");
  t.source = text::checked_field(prefix + ".source", in.source, kMaxShortText);
  if (t.created_from && t.created_to && !(*t.created_from < *t.created_to))
    throw_invalid(prefix + ".created_to", fmt::format("{} is not after created_from {}",
                                                      format_timestamp(*t.created_to),
                                                      format_timestamp(*t.created_from)));
  return t;
}

// What validation needs besides the campaign: the gym, today and the configuration.
struct Context {
  const Gym& gym;
  std::int32_t today = 0;  // the gym's local date, days since 1970-01-01
  const Config* config = nullptr;
};

std::int32_t checked_date(const std::string& text, const char* field) {
  auto day = analytics::parse_day(text);
  if (!day) throw_invalid(field, fmt::format("\"{}\" is not a date (YYYY-MM-DD)", text.substr(0, 32)));
  return *day;
}

void check_schedule(const CampaignSchedule& s, const Context& ctx) {
  std::optional<std::int32_t> start, end;
  if (!s.start_date.empty()) start = checked_date(s.start_date, "schedule.start_date");
  if (!s.end_date.empty()) end = checked_date(s.end_date, "schedule.end_date");
  if (start && end && *end < *start)
    throw_invalid("schedule.end_date", fmt::format("{} is before start_date {}", s.end_date, s.start_date));
  if (end && *end < ctx.today)
    throw_invalid("schedule.end_date", fmt::format("{} is in the past (today is {} in the gym's time zone)",
                                                   s.end_date, analytics::format_day(ctx.today)));
  if ((s.days & ~kAllDays) != 0) throw_invalid("schedule.days", "holds bits that are not days");
  if (s.days == 0) throw_invalid("schedule.days", "must name at least one day");
  const auto& h = s.hours;
  if (h.start_minute < 0 || h.start_minute > 24 * 60 || h.end_minute < 0 || h.end_minute > 24 * 60)
    throw_invalid("schedule.hours", "must lie within 00:00–24:00");
  if (h.start_minute >= h.end_minute)
    throw_invalid("schedule.hours", fmt::format("start {} must be before end {}", hhmm(h.start_minute),
                                                hhmm(h.end_minute)));
  // A schedule that never opens. The campaign's hours are lead-local; the
  // gym's are gym-local; they are compared as minute ranges (exact when the
  // lead and the gym share a zone, an approximation otherwise).
  if (std::max(h.start_minute, kFederalStart) >= std::min(h.end_minute, kFederalEnd))
    throw_invalid("schedule.hours", fmt::format("{}–{} never overlaps the legal calling window 08:00–21:00",
                                                hhmm(h.start_minute), hhmm(h.end_minute)));
  const auto& g = ctx.gym.call_hours;
  if (std::max({h.start_minute, kFederalStart, g.start_minute}) >= std::min({h.end_minute, kFederalEnd, g.end_minute}))
    throw_invalid("schedule.hours",
                  fmt::format("{}–{} never overlaps the gym's call hours {}–{} within the legal window 08:00–21:00",
                              hhmm(h.start_minute), hhmm(h.end_minute), hhmm(g.start_minute), hhmm(g.end_minute)));
  if ((s.days & ctx.gym.call_days) == 0)
    throw_invalid("schedule.days", fmt::format("{} never overlaps the gym's call days ({})", days_text(s.days),
                                               days_text(ctx.gym.call_days)));
}

void check_pacing(const CampaignPacing& p) {
  const auto range = [](const char* field, long long v, long long lo, long long hi) {
    if (v < lo || v > hi) throw_invalid(field, fmt::format("{} is out of range ({}–{})", v, lo, hi));
  };
  range("pacing.max_concurrent", p.max_concurrent, 1, 1000);
  range("pacing.calls_per_day", p.calls_per_day, 1, 1000000);
  if (!std::isfinite(p.calls_per_second) || p.calls_per_second < 0.01 || p.calls_per_second > 100)
    throw_invalid("pacing.calls_per_second", fmt::format("{} is out of range (0.01–100)", p.calls_per_second));
  range("pacing.max_attempts", p.max_attempts, 1, 20);
  range("pacing.retry_gap_minutes", p.retry_gap_minutes, 1, 43200);
}

void check_budget(const CampaignBudget& b) {
  const double reserve = b.reserve_per_call_usd;
  if (!std::isfinite(reserve) || reserve < 0.01 || reserve > 100)
    throw_invalid("budget.reserve_per_call_usd", fmt::format("{} is out of range (0.01–100)", reserve));
  const auto amount = [&](const char* field, double v) {
    if (!std::isfinite(v) || v < 0) throw_invalid(field, fmt::format("{} must be 0 (no limit) or more", v));
    if (v > 0 && v < reserve)
      throw_invalid(field, fmt::format("{} is below one call (reserve_per_call_usd {}); use 0 for no limit", v,
                                       reserve));
  };
  amount("budget.daily_usd", b.daily_usd);
  amount("budget.total_usd", b.total_usd);
  if (b.daily_usd > 0 && b.total_usd > 0 && b.total_usd < b.daily_usd)
    throw_invalid("budget.total_usd", fmt::format("{} is below daily_usd {}", b.total_usd, b.daily_usd));
}

// The provider and assistant, checked against the configuration.
void check_voice(Campaign& c, const Context& ctx) {
  c.voice_provider = text::checked_field("voice_provider", c.voice_provider, kMaxShortText);
  c.assistant_id = text::checked_field("assistant_id", c.assistant_id, kMaxShortText);
  if (c.voice_provider.empty()) throw_invalid("voice_provider", "is required");
  const VoiceProviderConfig* provider = nullptr;
  std::string known;
  if (ctx.config) {
    for (const auto& [name, p] : ctx.config->voice_providers) {
      if (!known.empty()) known += ", ";
      known += name;
      if (name == c.voice_provider) provider = &p;
    }
  }
  if (!provider)
    throw_invalid("voice_provider", fmt::format("\"{}\" is not a configured voice provider (known: {})",
                                                c.voice_provider.substr(0, 64), known.empty() ? "none" : known));
  if (c.assistant_id.empty() && (provider->kind == "retell" || provider->kind == "vapi"))
    throw_invalid("assistant_id", fmt::format("is required for a {} provider", provider->kind));
  if (!c.assistant_id.empty() && !provider->assistants.empty() &&
      std::find(provider->assistants.begin(), provider->assistants.end(), c.assistant_id) ==
          provider->assistants.end())
    throw_invalid("assistant_id", fmt::format("\"{}\" is not among the assistants configured for provider \"{}\"",
                                              c.assistant_id.substr(0, 64), c.voice_provider));
}

// Checks and normalizes every editable member of `c` (in place). Nothing is written here.
void check_campaign(Campaign& c, const Context& ctx) {
  const auto name = text::checked_field("name", c.name, kMaxCampaignName);
  if (name.empty()) throw_invalid("name", "is required");
  c.name = name;
  c.description = text::checked_field("description", c.description, kMaxDescription);
  c.target = checked_target(c.target, "target");
  check_schedule(c.schedule, ctx);
  check_pacing(c.pacing);
  check_budget(c.budget);
  check_voice(c, ctx);
  if (c.weight < 1 || c.weight > 1000) throw_invalid("weight", fmt::format("{} is out of range (1–1000)", c.weight));
}

bool allowed_move(CampaignState from, CampaignState to) {
  using S = CampaignState;
  switch (to) {
    case S::Active: return from == S::Draft || from == S::Paused;
    case S::Paused: return from == S::Active;
    case S::Completed: return from == S::Active || from == S::Paused;
    case S::Cancelled: return from == S::Draft || from == S::Active || from == S::Paused;
    case S::Draft: return false;
  }
  return false;
}

class CampaignServiceImpl final : public CampaignService {
 public:
  CampaignServiceImpl(Store& store, std::shared_ptr<Clock> clock, std::shared_ptr<const Config> config)
      : store_(store), clock_(clock ? std::move(clock) : make_system_clock()), config_(std::move(config)) {}

  Campaign create_campaign(std::string_view gym_id, const CampaignInput& input) override {
    const Gym gym = require_gym(gym_id);
    const Timestamp now = clock_->now();
    Campaign c;
    c.gym_id = gym.id;
    c.name = input.name;
    c.description = input.description;
    c.target = input.target;
    c.schedule = input.schedule;
    c.pacing = input.pacing;
    c.budget = input.budget;
    c.voice_provider = input.voice_provider;
    c.assistant_id = input.assistant_id;
    c.weight = input.weight;
    check_campaign(c, context(gym, now));
    c.id = make_id("cmp_");
    c.state = CampaignState::Draft;
    c.created_at = now;
    c.updated_at = now;
    c.version = 1;
    store_.transact([&] { store_.campaigns().insert(c); });
    return c;
  }

  Campaign get_campaign(std::string_view gym_id, std::string_view campaign_id) override {
    require_gym(gym_id);
    return require_campaign(gym_id, campaign_id);
  }

  CampaignPage list_campaigns(std::string_view gym_id, const CampaignFilter& filter) override {
    require_gym(gym_id);
    CampaignFilter f = filter;
    if (f.page < 1) throw_invalid("page", "must be 1 or more");
    const int max_page = config_ ? std::min(config_->limits.max_page_size, kMaxPageSize) : kMaxPageSize;
    if (f.page_size < 1 || f.page_size > max_page)
      throw_invalid("page_size", fmt::format("must be between 1 and {}", max_page));
    for (std::size_t i = 0; i < f.states.size(); ++i)
      if (static_cast<std::size_t>(f.states[i]) > static_cast<std::size_t>(CampaignState::Cancelled))
        throw_invalid(fmt::format("states[{}]", i), "is not a campaign state");
    sort_unique(f.states);
    return store_.campaigns().list(gym_id, f);
  }

  Campaign update_campaign(std::string_view gym_id, std::string_view campaign_id, const CampaignPatch& p) override {
    const Gym gym = require_gym(gym_id);
    const Timestamp now = clock_->now();
    const Context ctx = context(gym, now);
    Campaign result;
    store_.transact([&] {
      Campaign c = require_campaign(gym_id, campaign_id);
      const Campaign stored = c;
      if (c.state != CampaignState::Draft && c.state != CampaignState::Paused)
        throw ConflictError(fmt::format("state: campaign {} is {}; only a draft or paused campaign can be changed",
                                        c.id, to_string(c.state)),
                            "state");
      if (p.name) c.name = *p.name;
      if (p.description) c.description = *p.description;
      if (p.target) c.target = *p.target;
      if (p.schedule) c.schedule = *p.schedule;
      if (p.pacing) c.pacing = *p.pacing;
      if (p.budget) c.budget = *p.budget;
      if (p.voice_provider) c.voice_provider = *p.voice_provider;
      if (p.assistant_id) c.assistant_id = *p.assistant_id;
      if (p.weight) c.weight = *p.weight;
      check_campaign(c, ctx);
      if (c == stored) {  // nothing changed: nothing written
        result = std::move(c);
        return;
      }
      c.updated_at = now;
      c.version += 1;
      store_.campaigns().update(c);
      result = std::move(c);
    });
    return result;
  }

  void delete_campaign(std::string_view gym_id, std::string_view campaign_id) override {
    require_gym(gym_id);
    store_.transact([&] {
      const Campaign c = require_campaign(gym_id, campaign_id);
      if (c.state == CampaignState::Active || c.state == CampaignState::Paused)
        throw ConflictError(fmt::format("state: campaign {} is {}; complete or cancel it before deleting it", c.id,
                                        to_string(c.state)),
                            "state");
      if (!store_.campaigns().remove(gym_id, campaign_id)) throw campaign_not_found(gym_id, campaign_id);
    });
  }

  Campaign set_state(std::string_view gym_id, std::string_view campaign_id, CampaignState to) override {
    const Gym gym = require_gym(gym_id);
    if (static_cast<std::size_t>(to) > static_cast<std::size_t>(CampaignState::Cancelled))
      throw_invalid("state", "is not a campaign state");
    const Timestamp now = clock_->now();
    const Context ctx = context(gym, now);
    Campaign result;
    store_.transact([&] {
      Campaign c = require_campaign(gym_id, campaign_id);
      if (!allowed_move(c.state, to))
        throw ConflictError(fmt::format("state: campaign {} cannot move from {} to {}", c.id, to_string(c.state),
                                        to_string(to)),
                            "state");
      // Activation checks everything again: the schedule must still open
      // (end_date not past), and the configuration or the gym may have changed.
      if (to == CampaignState::Active) check_campaign(c, ctx);
      c.state = to;
      if (to == CampaignState::Active && !c.activated_at) c.activated_at = now;
      if (to == CampaignState::Completed || to == CampaignState::Cancelled) c.ended_at = now;
      c.updated_at = now;
      c.version += 1;
      store_.campaigns().update(c);
      result = std::move(c);
    });
    return result;
  }

  EnrolReport enrol_by_filter(std::string_view gym_id, std::string_view campaign_id,
                              const std::optional<CampaignTarget>& filter) override {
    require_gym(gym_id);
    const auto checked = filter ? std::optional<CampaignTarget>(checked_target(*filter, "filter")) : std::nullopt;
    const Timestamp now = clock_->now();
    EnrolReport report;
    store_.transact([&] {
      const Campaign c = require_enrollable(gym_id, campaign_id);
      const CampaignTarget& target = checked ? *checked : c.target;
      // How many of the gym's leads match, to tell new from already enrolled.
      LeadFilter lf;
      lf.statuses = target.statuses;
      lf.qualifications = target.qualifications;
      lf.tags = target.tags;
      lf.source = target.source;
      lf.created_from = target.created_from;
      lf.created_to = target.created_to;
      lf.page_size = 1;
      const std::int64_t matching = store_.leads().list(gym_id, lf).total;
      report.enrolled = store_.campaigns().enrol_matching(gym_id, c.id, target, now);
      report.already_enrolled = std::max<std::int64_t>(0, matching - report.enrolled);
      if (report.enrolled > 0) touch(c, now);
    });
    return report;
  }

  EnrolReport enrol_leads(std::string_view gym_id, std::string_view campaign_id,
                          const std::vector<std::string>& lead_ids) override {
    require_gym(gym_id);
    const auto ids = checked_ids(lead_ids);
    const Timestamp now = clock_->now();
    EnrolReport report;
    store_.transact([&] {
      const Campaign c = require_enrollable(gym_id, campaign_id);
      for (std::size_t i = 0; i < lead_ids.size(); ++i) {
        if (!store_.leads().find(gym_id, lead_ids[i]))
          throw NotFoundError(fmt::format("lead_ids[{}]: lead \"{}\" not found in gym \"{}\"", i,
                                          lead_ids[i].substr(0, 64), gym_id.substr(0, 64)),
                              fmt::format("lead_ids[{}]", i));
      }
      if (ids.empty()) return;
      report.enrolled = store_.campaigns().enrol(gym_id, c.id, ids, now);
      report.already_enrolled = static_cast<std::int64_t>(ids.size()) - report.enrolled;
      if (report.enrolled > 0) touch(c, now);
    });
    return report;
  }

  std::int64_t remove_leads(std::string_view gym_id, std::string_view campaign_id,
                            const std::vector<std::string>& lead_ids) override {
    require_gym(gym_id);
    const auto ids = checked_ids(lead_ids);
    std::int64_t removed = 0;
    const Timestamp now = clock_->now();
    store_.transact([&] {
      const Campaign c = require_campaign(gym_id, campaign_id);
      if (!ids.empty()) removed = store_.campaigns().unenrol(gym_id, c.id, ids);
      if (removed > 0) touch(c, now);
    });
    return removed;
  }

  std::optional<CampaignLead> enrolment(std::string_view gym_id, std::string_view campaign_id,
                                        std::string_view lead_id) override {
    require_gym(gym_id);
    require_campaign(gym_id, campaign_id);
    if (lead_id.empty()) throw_invalid("lead_id", "is required");
    return store_.campaigns().enrolment(gym_id, campaign_id, lead_id);
  }

  CampaignPerformance performance(std::string_view gym_id, std::string_view campaign_id) override {
    const Gym gym = require_gym(gym_id);
    const Campaign c = require_campaign(gym_id, campaign_id);
    const std::int32_t today = analytics::local_day(clock_->now(), gym.timezone, "timezone");
    const EnrolmentCounts counts = store_.campaigns().enrolment_counts(gym_id, c.id, c.pacing.max_attempts);

    RollupQuery q;
    q.gym_id = gym.id;
    q.campaign_id = c.id;
    q.from_day = std::numeric_limits<std::int32_t>::min();
    q.to_day = std::numeric_limits<std::int32_t>::max();
    std::int64_t calls = 0, cost_micros = 0, cost_today_micros = 0;
    CampaignPerformance p;
    for (const auto& r : store_.analytics().call_days(q)) {
      calls += r.calls;
      cost_micros += r.cost_micros;
      p.connected += r.connected;
      p.trials_booked += r.outcomes[static_cast<std::size_t>(CallOutcome::TrialBooked)];
      p.memberships_sold += r.outcomes[static_cast<std::size_t>(CallOutcome::MembershipSold)];
      if (r.local_day == today) {
        p.calls_today += r.calls;
        cost_today_micros += r.cost_micros;
      }
    }
    p.campaign_id = c.id;
    p.state = c.state;
    p.enrolled = counts.enrolled;
    p.never_called = counts.never_called;
    p.exhausted = counts.exhausted;
    // An attempt is counted on its enrolment when the dialer places it and in
    // the rollups when the call is stored; removing a lead drops its count
    // from the first. The larger of the two is the best figure.
    p.attempts = std::max(counts.attempts, calls);
    p.cost_today_usd = double(cost_today_micros) / 1e6;
    p.cost_total_usd = double(cost_micros) / 1e6;
    return p;
  }

 private:
  Context context(const Gym& gym, Timestamp now) const {
    return Context{gym, analytics::local_day(now, gym.timezone, "timezone"), config_.get()};
  }

  Gym require_gym(std::string_view gym_id) {
    if (gym_id.empty()) throw_invalid("gym_id", "is required");
    if (auto g = store_.gyms().find(gym_id)) return *g;
    throw NotFoundError(fmt::format("gym_id: gym \"{}\" not found", gym_id.substr(0, 64)), "gym_id");
  }

  static NotFoundError campaign_not_found(std::string_view gym_id, std::string_view campaign_id) {
    return NotFoundError(fmt::format("campaign_id: campaign \"{}\" not found in gym \"{}\"", campaign_id.substr(0, 64),
                                     gym_id.substr(0, 64)),
                         "campaign_id");
  }

  Campaign require_campaign(std::string_view gym_id, std::string_view campaign_id) {
    if (campaign_id.empty()) throw_invalid("campaign_id", "is required");
    if (auto c = store_.campaigns().find(gym_id, campaign_id)) return *c;
    throw campaign_not_found(gym_id, campaign_id);
  }

  // An enrolment changed: the campaign's version moves (the dialer drops its
  // queue of candidates for a campaign whose version moved).
  void touch(Campaign c, Timestamp now) {
    c.updated_at = now;
    c.version += 1;
    store_.campaigns().update(c);
  }

  // A campaign leads may be enrolled in: draft, active or paused.
  Campaign require_enrollable(std::string_view gym_id, std::string_view campaign_id) {
    Campaign c = require_campaign(gym_id, campaign_id);
    if (c.state == CampaignState::Completed || c.state == CampaignState::Cancelled)
      throw ConflictError(fmt::format("state: campaign {} is {}; leads can be enrolled only in a draft, active or "
                                      "paused campaign",
                                      c.id, to_string(c.state)),
                          "state");
    return c;
  }

  // At most kMaxLeadIds ids, none empty; returned without duplicates.
  static std::vector<std::string> checked_ids(const std::vector<std::string>& ids) {
    if (ids.size() > kMaxLeadIds)
      throw_invalid("lead_ids", fmt::format("has {} ids; the limit is {}", ids.size(), kMaxLeadIds));
    std::vector<std::string> out;
    out.reserve(ids.size());
    std::set<std::string_view> seen;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i].empty()) throw_invalid(fmt::format("lead_ids[{}]", i), "is empty");
      if (seen.insert(ids[i]).second) out.push_back(ids[i]);
    }
    return out;
  }

  Store& store_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<const Config> config_;
};

}  // namespace

std::unique_ptr<CampaignService> make_campaign_service(Store& store, std::shared_ptr<Clock> clock,
                                                       std::shared_ptr<const Config> config) {
  return std::make_unique<CampaignServiceImpl>(store, std::move(clock), std::move(config));
}

}  // namespace gymdash
