#include "services/lead/lead_rules.hpp"

#include "core/nanp.hpp"
#include "services/lead/calling_rules.hpp"

#include <algorithm>

namespace gymdash::lead_rules {

void derive_location(Lead& l, const Gym& gym) {
  const auto area = nanp::lookup_e164(l.phone);
  // assign() keeps the strings' storage: a lead is derived again at every call it folds.
  l.local_zone.assign(!l.timezone.empty() ? std::string_view(l.timezone)
                      : area             ? std::string_view(area->timezone)
                                         : std::string_view(gym.timezone));
  l.local_state.assign(area ? std::string_view(area->state) : std::string_view(gym.state));
}

int compute_score(const Lead& l) {
  int score = 30;
  const auto& s = l.source;
  if (s == "referral" || s == "walk_in") score += 20;
  else if (s == "inbound_call") score += 15;
  else if (s == "web_form") score += 12;
  else if (s == "google_ads") score += 10;
  else if (s == "facebook_ads" || s == "instagram") score += 6;

  const auto& t = l.timeline;
  if (t == "asap") score += 25;
  else if (t == "this week") score += 20;
  else if (t == "this month") score += 12;
  else if (t == "next month") score += 5;
  else if (t == "just browsing") score -= 10;

  if (!l.interest.empty()) score += 5;
  if (!l.email.empty()) score += 3;
  if (!l.consent.given) score -= 15;

  // Engagement: conversations held, and attempts that reached nobody.
  score += std::min(l.connects, 2) * 5;
  const int unanswered = std::max(0, l.attempts - l.connects);
  score -= std::min(std::max(0, unanswered - 2) * 3, 15);

  const auto& o = l.last_outcome;
  if (o == "membership_sold") score += 40;
  else if (o == "trial_booked") score += 30;
  else if (o == "interested") score += 20;
  else if (o == "callback_requested") score += 10;
  else if (o == "not_interested") score -= 30;
  else if (o == "wrong_number" || o == "do_not_call") score -= 40;

  // What the AI agent's call analysis heard.
  if (l.sentiment == "positive") score += 10;
  else if (l.sentiment == "negative") score -= 10;

  return std::clamp(score, 0, 100);
}

Qualification qualify(int score, const GymPolicy& policy) {
  if (score >= policy.hot_threshold) return Qualification::Hot;
  if (score < policy.cold_threshold) return Qualification::Cold;
  return Qualification::Neutral;
}

int rank(LeadStatus s) {
  switch (s) {
    case LeadStatus::New: return 0;
    case LeadStatus::Contacted: return 1;
    case LeadStatus::Qualified: return 2;
    case LeadStatus::TrialBooked: return 3;
    case LeadStatus::Converted: return 4;
    case LeadStatus::Lost: return -1;
  }
  return 0;
}

namespace {

// "At least `floor`": never backwards, never out of converted; revives a lost lead.
LeadStatus at_least(LeadStatus current, LeadStatus floor) {
  if (current == LeadStatus::Lost) return floor;
  return rank(current) >= rank(floor) ? current : floor;
}

LeadStatus lose(LeadStatus current) { return current == LeadStatus::Converted ? current : LeadStatus::Lost; }

}  // namespace

void fold_calls(Lead& l, const std::vector<CallResult>& calls, const GymPolicy& policy) {
  LeadStatus status = l.base_status;
  l.attempts = 0;
  l.connects = 0;
  l.last_call_at.reset();
  l.callback_at.reset();
  l.last_outcome.clear();
  l.sentiment.clear();
  l.recent_calls.clear();
  bool reached_last = false;
  for (const auto& c : calls) {
    ++l.attempts;
    l.last_call_at = c.started_at;
    l.recent_calls.push_back(c.started_at);
    const bool reached = c.status == CallStatus::Completed && c.answered_by == AnsweredBy::Human;
    reached_last = reached;
    if (reached) ++l.connects;
    // Each later call settles an earlier callback request.
    l.callback_at.reset();
    // A status set by hand after this call started wins over what the call says.
    const bool moves_status = c.started_at >= l.base_status_at;
    if (c.outcome) {
      l.last_outcome = to_string(*c.outcome);
      switch (*c.outcome) {
        case CallOutcome::Interested:
          if (moves_status) status = at_least(status, LeadStatus::Qualified);
          break;
        case CallOutcome::TrialBooked:
          if (moves_status) status = at_least(status, LeadStatus::TrialBooked);
          break;
        case CallOutcome::MembershipSold:
          if (moves_status) status = LeadStatus::Converted;
          break;
        case CallOutcome::NotInterested:
          if (moves_status) status = lose(status);
          break;
        case CallOutcome::WrongNumber:
          if (moves_status) status = lose(status);
          l.phone_invalid = true;
          break;
        case CallOutcome::DoNotCall:
          if (moves_status) status = lose(status);
          l.do_not_call = true;  // sticky: no outcome ever lifts it
          break;
        case CallOutcome::CallbackRequested:
          if (moves_status && status != LeadStatus::Lost) status = at_least(status, LeadStatus::Contacted);
          if (c.callback_at) l.callback_at = c.callback_at;
          break;
      }
    } else if (reached && moves_status && status != LeadStatus::Lost) {
      status = at_least(status, LeadStatus::Contacted);
    }
    if (c.opted_out) l.do_not_call = true;  // asked in words; sticky like the outcome
    if (!c.sentiment.empty()) l.sentiment = c.sentiment;
  }
  l.status = status;
  if (l.recent_calls.size() > 10) l.recent_calls.erase(l.recent_calls.begin(), l.recent_calls.end() - 10);

  // A state's cap of N calls in 24 hours: blocked until the Nth newest call is a day old.
  l.blocked_until.reset();
  if (const auto* rule = rules::state_rule(l.local_state); rule && rule->max_calls_24h > 0) {
    const auto n = static_cast<std::size_t>(rule->max_calls_24h);
    if (l.recent_calls.size() >= n) l.blocked_until = l.recent_calls[l.recent_calls.size() - n] + std::chrono::hours{24};
  }

  if (l.callback_at) l.next_call_at = l.callback_at;
  else if (l.last_call_at && !reached_last) l.next_call_at = *l.last_call_at + std::chrono::minutes{policy.retry_gap_minutes};
  else l.next_call_at.reset();
}

}  // namespace gymdash::lead_rules
