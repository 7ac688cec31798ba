// A campaign's forecast: the dialer run over a copy of the gym in memory,
// on a manual clock, against the simulated provider.

#include <gymdash/dialer.hpp>
#include <gymdash/error.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/voice.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <array>
#include <set>
#include <unordered_map>

#include "services/analytics/rollup.hpp"

namespace gymdash {

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const Forecast& v) {
  boost::json::object o;
  o["gym_id"] = v.gym_id;
  o["campaign_id"] = v.campaign_id;
  o["from"] = format_timestamp(v.from);
  o["to"] = format_timestamp(v.to);
  o["target_leads"] = v.target_leads;
  o["calls"] = v.calls;
  o["connected"] = v.connected;
  o["voicemail"] = v.voicemail;
  o["trials_booked"] = v.trials_booked;
  o["memberships_sold"] = v.memberships_sold;
  o["callbacks_requested"] = v.callbacks_requested;
  o["cost_usd"] = v.cost_usd;
  o["attempted_leads"] = v.attempted_leads;
  o["reached_leads"] = v.reached_leads;
  o["done_leads"] = v.done_leads;
  if (v.hours_until_all_done) o["hours_until_all_done"] = *v.hours_until_all_done;
  else o["hours_until_all_done"] = nullptr;
  boost::json::array days;
  for (const auto& d : v.by_day)
    days.push_back(boost::json::object{{"date", d.date}, {"calls", d.calls}, {"connected", d.connected},
                                       {"cost_usd", d.cost_usd}});
  o["by_day"] = std::move(days);
  jv = std::move(o);
}

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const ForecastProgress& v) {
  jv = boost::json::object{{"day", v.day},
                           {"days", v.days},
                           {"calls", v.calls},
                           {"done_leads", v.done_leads},
                           {"target_leads", v.target_leads}};
}

namespace {

// True when a lead can no longer be called by the campaign whatever the clock says.
bool beyond_reach(const Lead& l, const std::optional<CampaignLead>& e, int max_attempts) {
  return !l.consent.given || l.do_not_call || l.dnc_listed || l.phone_invalid || l.status == LeadStatus::Converted ||
         l.status == LeadStatus::Lost || !e || e->attempts >= max_attempts;
}

}  // namespace

Forecast forecast_campaign(Store& source, const Config& config, std::string_view gym_id, std::string_view campaign_id,
                           Timestamp start, const ForecastOptions& options) {
  if (options.days < 1 || options.days > 90) throw_invalid("days", "must be between 1 and 90");
  if (options.step_seconds < 1 || options.step_seconds > 600) throw_invalid("step_seconds", "must be between 1 and 600");
  const auto gym = source.gyms().find(gym_id);
  if (!gym) throw NotFoundError(fmt::format("gym {}: not found", gym_id.substr(0, 64)), "gym_id");
  auto campaign = source.campaigns().find(gym_id, campaign_id);
  if (!campaign)
    throw NotFoundError(fmt::format("campaign {}: not found in gym {}", campaign_id.substr(0, 64), gym_id.substr(0, 64)),
                        "campaign_id");
  if (campaign->state == CampaignState::Cancelled)
    throw ConflictError(fmt::format("campaign_id: campaign {} is cancelled", campaign->id), "campaign_id");

  // How the simulated calls go.
  VoiceProviderConfig sim;
  sim.kind = "simulated";
  sim.options = options.provider_options;
  if (sim.options.empty())
    if (auto it = config.voice_providers.find(campaign->voice_provider);
        it != config.voice_providers.end() && it->second.kind == "simulated")
      sim.options = it->second.options;
  sim.options["time"] = "virtual";
  try {
    (void)simulated_settings(sim);
  } catch (const InvalidArgumentError& e) {
    throw InvalidArgumentError(fmt::format("provider_{}", e.what()), fmt::format("provider_{}", e.field()));
  }

  // The copy: the gym, its do-not-call lists, its leads with their call results and enrolment, the campaign.
  auto copy = make_memory_store();
  copy->gyms().insert(*gym);
  for (const std::string& scope : std::array<std::string, 2>{std::string(gym_id), "*"})
    for (int offset = 0;; offset += 1000) {
      const auto entries = source.dnc().list(scope, 1000, offset);
      for (const auto& e : entries) copy->dnc().add(e);
      if (entries.size() < 1000) break;
    }
  campaign->state = CampaignState::Active;
  copy->campaigns().insert(*campaign);
  std::vector<std::string> targets;
  LeadFilter filter;
  filter.page_size = 1000;
  for (filter.page = 1;; ++filter.page) {
    const auto page = source.leads().list(gym_id, filter);
    for (auto l : page.items) {
      const auto enrolment = source.campaigns().enrolment(gym_id, campaign->id, l.id);
      l.active_call_id.clear();  // calls in flight in the real world do not exist here
      copy->leads().insert(l);
      for (const auto& r : source.leads().call_results(gym_id, l.id)) copy->leads().put_call_result(gym_id, l.id, r);
      if (!enrolment) continue;
      copy->campaigns().enrol(gym_id, campaign->id, {l.id}, enrolment->enrolled_at);
      for (int i = 0; i < enrolment->attempts; ++i)
        copy->campaigns().record_attempt(gym_id, campaign->id, l.id, enrolment->last_attempt_at.value_or(start));
      targets.push_back(l.id);
    }
    if (static_cast<int>(page.items.size()) < filter.page_size) break;
  }

  // The services over the copy, the provider and the dialer on one io_context run here.
  auto clock = std::make_shared<ManualClock>(start);
  auto cfg = std::make_shared<Config>(config);
  cfg->voice_providers.clear();
  cfg->voice_providers["forecast"] = sim;
  campaign->voice_provider = "forecast";
  campaign->version += 1;
  copy->campaigns().update(*campaign);
  auto gyms = make_gym_service(*copy, clock);
  auto leads = make_lead_service(*copy, clock, cfg);
  auto calls = make_call_service(*copy, clock, *leads, cfg);
  auto campaigns = make_campaign_service(*copy, clock, cfg);
  boost::asio::io_context io;
  auto provider = make_voice_provider(sim, io.get_executor(), clock);
  DialerContext dc;
  dc.store = copy.get();
  dc.leads = leads.get();
  dc.calls = calls.get();
  dc.campaigns = campaigns.get();
  dc.clock = clock;
  dc.config = cfg;
  dc.provider = [&](std::string_view name) -> VoiceProvider* { return name == "forecast" ? provider.get() : nullptr; };
  dc.executor = io.get_executor();
  DialerOptions dopt;
  dopt.idle_recheck = std::chrono::seconds{options.step_seconds};
  auto dialer = make_dialer(std::move(dc), dopt);

  Forecast out;
  out.gym_id = gym->id;
  out.campaign_id = campaign->id;
  out.from = start;
  out.target_leads = static_cast<std::int64_t>(targets.size());

  // Which target leads are done: reached, or beyond reach.
  std::set<std::string> attempted, reached, done;
  std::int64_t placed = 0;
  const auto refresh = [&](const std::string& lead_id) {
    if (done.contains(lead_id)) return;
    const auto l = copy->leads().find(gym_id, lead_id);
    if (!l) return;
    if (reached.contains(lead_id) || beyond_reach(*l, copy->campaigns().enrolment(gym_id, campaign->id, lead_id),
                                                  campaign->pacing.max_attempts))
      done.insert(lead_id);
  };
  for (const auto& id : targets) refresh(id);
  dialer->set_observer([&](const DialerEvent& e) {
    if (e.kind == DialerEvent::Kind::Placed || e.kind == DialerEvent::Kind::Refused) {
      attempted.insert(e.lead_id);
      ++placed;
    }
    if (e.kind != DialerEvent::Kind::Ended) return;
    if (const auto c = copy->calls().find(gym_id, e.call_id);
        c && c->status == CallStatus::Completed && c->answered_by == AnsweredBy::Human)
      reached.insert(e.lead_id);
    refresh(e.lead_id);
  });

  const Timestamp end = start + std::chrono::hours{24 * options.days};
  const auto step = std::chrono::seconds{options.step_seconds};
  out.to = end;
  int day = 0;
  const auto report = [&](int d) {
    if (options.progress)
      options.progress(ForecastProgress{d, options.days, placed, static_cast<std::int64_t>(done.size()),
                                        static_cast<std::int64_t>(targets.size())});
  };
  while (clock->now() < end) {
    dialer->tick();
    io.restart();
    while (io.poll() > 0) {
    }
    if (done.size() == targets.size() && dialer->status().lines_in_use == 0) {
      out.hours_until_all_done = std::chrono::duration<double>(clock->now() - start).count() / 3600.0;
      out.to = clock->now();
      report(day + 1);
      break;
    }
    clock->advance(step);
    if (clock->now() >= start + std::chrono::hours{24 * (day + 1)}) report(++day);
  }
  // Calls still in flight finish (their events are in already, in virtual time).
  dialer.reset();

  // The figures, from the copy's rollups.
  RollupQuery q;
  q.gym_id = gym->id;
  q.campaign_id = campaign->id;
  q.from_day = analytics::local_day(start, gym->timezone);
  q.to_day = analytics::local_day(end, gym->timezone);
  for (const auto& row : copy->analytics().call_days(q)) {
    out.calls += row.calls;
    out.connected += row.connected;
    out.voicemail += row.voicemail;
    out.cost_usd += static_cast<double>(row.cost_micros) / 1e6;
    out.trials_booked += row.outcomes[static_cast<std::size_t>(CallOutcome::TrialBooked)];
    out.memberships_sold += row.outcomes[static_cast<std::size_t>(CallOutcome::MembershipSold)];
    out.callbacks_requested += row.outcomes[static_cast<std::size_t>(CallOutcome::CallbackRequested)];
    out.by_day.push_back(ForecastDay{analytics::format_day(row.local_day), row.calls, row.connected,
                                     static_cast<double>(row.cost_micros) / 1e6});
  }
  out.attempted_leads = static_cast<std::int64_t>(attempted.size());
  out.reached_leads = static_cast<std::int64_t>(reached.size());
  out.done_leads = static_cast<std::int64_t>(done.size());
  return out;
}

}  // namespace gymdash
