// The dialer: each tick decides, per gym, which leads its active campaigns
// call now, and places those calls through the campaigns' voice providers.
//
// Durable state is the store's: a call begun (begin_outbound_call) is the
// lead's claim and its attempt, so a restart forgets nothing that matters.
// What lives only here is what a restart may lose safely: the lines in use
// (a dead process's calls are abandoned when the next dialer starts), the
// token buckets, and when an idle campaign is next asked.

#include <gymdash/dialer.hpp>
#include <gymdash/error.hpp>
#include <gymdash/services/routing.hpp>
#include <gymdash/voice.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "services/analytics/rollup.hpp"
#include "services/campaign/fair_share.hpp"
#include "services/campaign/token_bucket.hpp"

namespace gymdash {

const char* to_string(DialerEvent::Kind k) noexcept {
  switch (k) {
    case DialerEvent::Kind::Placed: return "placed";
    case DialerEvent::Kind::Refused: return "refused";
    case DialerEvent::Kind::Ended: return "ended";
    case DialerEvent::Kind::Completed: return "completed";
    case DialerEvent::Kind::Error: return "error";
  }
  return "unknown";
}

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const DialerEvent& v) {
  boost::json::object o;
  o["kind"] = to_string(v.kind);
  o["at"] = format_timestamp(v.at);
  o["gym_id"] = v.gym_id;
  o["campaign_id"] = v.campaign_id;
  o["lead_id"] = v.lead_id;
  o["call_id"] = v.call_id;
  o["message"] = v.message;
  jv = std::move(o);
}

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const TickReport& v) {
  boost::json::object o;
  o["at"] = format_timestamp(v.at);
  o["campaigns"] = v.campaigns;
  o["asked"] = v.asked;
  o["placed"] = v.placed;
  o["lines_in_use"] = v.lines_in_use;
  o["seconds"] = v.seconds;
  o["place_seconds"] = v.place_seconds;
  jv = std::move(o);
}

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const DialerStatus& v) {
  boost::json::object o;
  o["running"] = v.running;
  o["ticks"] = v.ticks;
  o["placed"] = v.placed;
  o["refused"] = v.refused;
  o["lines_in_use"] = v.lines_in_use;
  boost::json::array campaigns;
  for (const auto& c : v.campaigns) {
    boost::json::object x;
    x["gym_id"] = c.gym_id;
    x["campaign_id"] = c.campaign_id;
    x["lines_in_use"] = c.lines_in_use;
    x["calls_today"] = c.calls_today;
    x["reserved_usd"] = c.reserved_usd;
    x["waiting"] = c.waiting;
    campaigns.push_back(std::move(x));
  }
  o["campaigns"] = std::move(campaigns);
  jv = std::move(o);
}

namespace {

namespace asio = boost::asio;
using campaign::TokenBucket;

std::int64_t ms_of(Timestamp t) { return t.time_since_epoch().count(); }

// A call the dialer placed and whose line it holds.
struct Flight {
  std::string gym_id;
  std::string campaign_id;
  std::string lead_id;
  std::string call_id;           // ours
  std::string provider_call_id;  // the provider's, once known
  double reserved_usd = 0;       // held against budgets until the call ends
  bool ended = false;
  Timestamp busy_until{};        // with ended: the line is free from then (a simulated call may end in the future)
};

// What the dialer remembers of a campaign between ticks.
struct CampaignMemory {
  std::optional<TokenBucket> bucket;
  double rate = 0;                 // the rate the bucket was made for
  Timestamp next_check{};          // no eligible lead last time: not asked before this
  std::int64_t calls_today = 0;    // from the rollups, refreshed each tick
  double cost_today = 0;
  double cost_total = 0;           // refreshed every few minutes when a total budget is set
  Timestamp cost_total_at{};
  std::string waiting;
};

// The state shared with asynchronous completions; outlives the Dialer
// object while handlers still hold it.
class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(DialerContext ctx, DialerOptions options)
      : ctx_(std::move(ctx)), options_(options), strand_(asio::make_strand(ctx_.executor)), timer_(strand_) {}

  void start() {
    {
      std::lock_guard lock(mutex_);
      if (running_) return;
      recover_locked();
      running_ = true;
      stopped_ = false;
    }
    schedule();
  }

  void stop() {
    std::lock_guard lock(mutex_);
    running_ = false;
    asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
  }

  // The Dialer object is going away: nothing may touch the services after this.
  void shutdown() {
    std::lock_guard lock(mutex_);
    running_ = false;
    stopped_ = true;
    for (auto* p : sinks_) {
      CallService* calls = ctx_.calls;
      p->set_event_sink([calls](const CallEvent& e) {
        try {
          calls->process_event(e);
        } catch (...) {
          // The runtime's own sink would log it; a dialer that is gone has nowhere to.
        }
      });
    }
    sinks_.clear();
    asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
  }

  void set_observer(std::function<void(const DialerEvent&)> observer) {
    std::lock_guard lock(mutex_);
    observer_ = std::move(observer);
  }

  DialerStatus status() {
    std::lock_guard lock(mutex_);
    DialerStatus s = status_;
    s.running = running_;
    s.lines_in_use = static_cast<int>(flights_.size());
    return s;
  }

  TickReport tick() {
    std::lock_guard lock(mutex_);
    if (stopped_) return {};
    if (!recovered_) recover_locked();
    return tick_locked();
  }

 private:
  // ---- the loop -------------------------------------------------------------

  void schedule() {
    timer_.expires_after(options_.tick);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      {
        std::lock_guard lock(self->mutex_);
        if (!self->running_ || self->stopped_) return;
        try {
          self->tick_locked();
        } catch (const std::exception& e) {
          self->report_error_locked("", "", fmt::format("tick failed: {}", e.what()));
        }
      }
      self->schedule();
    });
  }

  // Calls a stopped process left open are abandoned, releasing their leads.
  void recover_locked() {
    recovered_ = true;
    const Timestamp cutoff = ctx_.clock->now() - options_.stale_call_after;
    try {
      const auto n = ctx_.calls->abandon_stale_calls(cutoff, "abandoned: the dialer stopped before the call ended");
      if (n > 0) log(LogLevel::Warn, "dialer.recover", "", fmt::format("abandoned {} stale calls", n));
    } catch (const std::exception& e) {
      report_error_locked("", "", fmt::format("recovering stale calls failed: {}", e.what()));
    }
  }

  TickReport tick_locked() {
    const auto wall_start = std::chrono::steady_clock::now();
    const Timestamp now = ctx_.clock->now();
    TickReport report;
    report.at = now;

    // Lines whose calls have ended are free again.
    for (auto it = flights_.begin(); it != flights_.end();) {
      if (it->second.ended && it->second.busy_until <= now) {
        Flight f = std::move(it->second);
        by_lead_.erase(lead_key(f.gym_id, f.lead_id));
        it = flights_.erase(it);
        emit(DialerEvent{DialerEvent::Kind::Ended, now, f.gym_id, f.campaign_id, f.lead_id, f.call_id, {}});
      } else {
        ++it;
      }
    }

    std::map<std::string, std::vector<Campaign>> by_gym;
    for (auto& c : ctx_.store->campaigns().in_state(CampaignState::Active)) by_gym[c.gym_id].push_back(std::move(c));
    std::vector<DialerCampaignStatus> statuses;
    for (auto& [gym_id, campaigns] : by_gym) {
      report.campaigns += static_cast<int>(campaigns.size());
      try {
        tick_gym(gym_id, campaigns, now, report, statuses);
      } catch (const std::exception& e) {
        report_error_locked(gym_id, "", fmt::format("tick of gym {} failed: {}", gym_id, e.what()));
      }
    }
    // Forget campaigns that are no longer active.
    for (auto it = memory_.begin(); it != memory_.end();) {
      const bool active = std::any_of(statuses.begin(), statuses.end(),
                                      [&](const DialerCampaignStatus& s) { return s.campaign_id == it->first; });
      it = active ? std::next(it) : memory_.erase(it);
    }
    // Lines and reservations as they stand after this tick's calls.
    std::unordered_map<std::string, std::pair<int, double>> held;
    for (const auto& [id, f] : flights_) {
      auto& h = held[f.campaign_id];
      ++h.first;
      h.second += f.reserved_usd;
    }
    for (auto& st : statuses) {
      st.lines_in_use = held[st.campaign_id].first;
      st.reserved_usd = held[st.campaign_id].second;
    }
    report.lines_in_use = static_cast<int>(flights_.size());
    ++status_.ticks;
    status_.campaigns = std::move(statuses);
    if (ctx_.metrics) ctx_.metrics->set_gauge("dialer_lines_in_use", static_cast<double>(flights_.size()));
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return report;
  }

  // One gym: what each campaign may and wants to do, the fair division of
  // the gym's lines and budget, then the calls.
  void tick_gym(const std::string& gym_id, std::vector<Campaign>& campaigns, Timestamp now, TickReport& report,
                std::vector<DialerCampaignStatus>& statuses) {
    const auto gym = ctx_.store->gyms().find(gym_id);
    if (!gym) return;
    const GymPolicy policy = ctx_.config ? ctx_.config->policy(gym_id) : GymPolicy{};
    const std::int32_t today = analytics::local_day(now, gym->timezone);
    const std::string today_text = analytics::format_day(today);
    const int weekday = static_cast<int>(((today % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday

    // Today's calls and cost per campaign, from the rollups (one read for the gym).
    RollupQuery rq;
    rq.gym_id = gym_id;
    rq.from_day = today;
    rq.to_day = today;
    std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>> today_rows;  // campaign → calls, micros
    std::int64_t gym_cost_micros = 0;
    for (const auto& row : ctx_.store->analytics().call_days(rq)) {
      auto& t = today_rows[row.campaign_id];
      t.first += row.calls;
      t.second += row.cost_micros;
      if (!row.campaign_id.empty()) gym_cost_micros += row.cost_micros;
    }

    // The gym's lines and leads in use.
    int gym_in_flight = 0;
    double gym_reserved = 0;
    std::unordered_map<std::string, int> campaign_in_flight;
    std::unordered_map<std::string, double> campaign_reserved;
    for (const auto& [id, f] : flights_) {
      if (f.gym_id != gym_id) continue;
      ++gym_in_flight;
      gym_reserved += f.reserved_usd;
      ++campaign_in_flight[f.campaign_id];
      campaign_reserved[f.campaign_id] += f.reserved_usd;
    }

    struct Want {
      Campaign* campaign;
      CampaignMemory* mem;
      int in_flight = 0;
      std::int64_t can = 0;     // the most its own limits allow this tick
      std::string bound;        // the limit that sets `can`
      std::vector<Lead> leads;  // eligible, best first
    };
    std::vector<Want> wants;
    for (auto& c : campaigns) {
      auto& mem = memory_[c.id];
      DialerCampaignStatus st;
      st.gym_id = gym_id;
      st.campaign_id = c.id;
      st.lines_in_use = campaign_in_flight[c.id];
      st.reserved_usd = campaign_reserved[c.id];
      const auto row = today_rows.find(c.id);
      mem.calls_today = row == today_rows.end() ? 0 : row->second.first;
      mem.cost_today = row == today_rows.end() ? 0 : static_cast<double>(row->second.second) / 1e6;
      st.calls_today = mem.calls_today;
      const auto done = [&](std::string why) {
        mem.waiting = why;
        st.waiting = std::move(why);
        statuses.push_back(st);
      };

      // The schedule: past its end the campaign is complete; else today must be a calling day.
      if (!c.schedule.end_date.empty() && today_text > c.schedule.end_date) {
        complete(c, now);
        continue;
      }
      if ((!c.schedule.start_date.empty() && today_text < c.schedule.start_date) ||
          !(c.schedule.days & (1u << weekday))) {
        done("outside_schedule");
        continue;
      }
      const int in_flight = campaign_in_flight[c.id];
      std::int64_t can = c.pacing.max_concurrent - in_flight;
      if (can <= 0) {
        done("lines");
        continue;
      }
      const std::int64_t daily_left = c.pacing.calls_per_day - mem.calls_today;
      if (daily_left <= 0) {
        done("daily_cap");
        continue;
      }
      // What bounds the campaign this tick, for its status when it uses all it may.
      std::string bound = can <= daily_left ? "lines" : "daily_cap";
      can = std::min(can, daily_left);
      const auto bound_by = [&](std::int64_t limit, const char* why) {
        if (limit < can) {
          can = limit;
          bound = why;
        }
      };
      const double reserve = c.budget.reserve_per_call_usd;
      const double reserved = campaign_reserved[c.id];
      if (c.budget.daily_usd > 0)
        bound_by(calls_within(c.budget.daily_usd - mem.cost_today - reserved, reserve), "budget");
      if (c.budget.total_usd > 0) {
        refresh_total_cost(c, mem, now, today);
        bound_by(calls_within(c.budget.total_usd - mem.cost_total - reserved, reserve), "budget");
      }
      if (can <= 0) {
        done("budget");
        continue;
      }
      if (!mem.bucket || mem.rate != c.pacing.calls_per_second) {
        // A tick may start what the rate allows over one tick (at least one call).
        const double per_tick = c.pacing.calls_per_second * std::chrono::duration<double>(options_.tick).count();
        mem.bucket.emplace(c.pacing.calls_per_second, std::max(1.0, per_tick));
        mem.rate = c.pacing.calls_per_second;
      }
      bound_by(mem.bucket->available(ms_of(now)), "rate");
      if (can <= 0) {
        done("rate");
        continue;
      }
      if (mem.next_check > now) {
        done("no_eligible_leads");
        continue;
      }
      DialScope scope;
      scope.campaign_id = c.id;
      scope.max_attempts = c.pacing.max_attempts;
      scope.retry_gap_minutes = c.pacing.retry_gap_minutes;
      scope.hours = c.schedule.hours;
      scope.qualifications = c.target.qualifications;
      ++report.asked;
      // One more than it may call: whether anyone is left waiting is part of its status.
      // Leads on a call are not passed as exclusions: their claim (active_call_id) keeps
      // them out of the answer already, and a line held past a call's end is skipped below.
      auto leads = ctx_.leads->get_prioritized_leads(gym_id, static_cast<int>(std::min<std::int64_t>(can + 1, 1000)),
                                                     scope, {}, now);
      if (leads.empty()) {
        mem.next_check = now + options_.idle_recheck;
        done("no_eligible_leads");
        continue;
      }
      mem.next_check = {};
      statuses.push_back(st);
      wants.push_back(Want{&c, &mem, in_flight, can, std::move(bound), std::move(leads)});
    }
    if (wants.empty()) return;

    // Lines: each campaign's target share of all the gym's lines, weighted
    // max-min fair over what it can use (its calls in flight plus its
    // eligible leads); then the free lines go to those below their target.
    const std::int64_t lines = policy.lines;
    std::vector<campaign::ShareRequest> targets_req;
    for (const auto& w : wants)
      targets_req.push_back({static_cast<double>(w.campaign->weight),
                             w.in_flight + std::min<std::int64_t>(w.can, static_cast<std::int64_t>(w.leads.size()))});
    const auto targets = campaign::fair_share(lines, targets_req);
    std::vector<campaign::ShareRequest> free_req;
    for (std::size_t i = 0; i < wants.size(); ++i)
      free_req.push_back({static_cast<double>(wants[i].campaign->weight),
                          std::max<std::int64_t>(0, targets[i] - wants[i].in_flight)});
    auto grant = campaign::fair_share(std::max(0, static_cast<int>(lines) - gym_in_flight), free_req);

    // The gym's budget of the day, divided the same way, in dollars.
    if (policy.daily_budget_usd > 0) {
      const double left = policy.daily_budget_usd - static_cast<double>(gym_cost_micros) / 1e6 - gym_reserved;
      std::vector<campaign::RealShareRequest> money_req;
      for (std::size_t i = 0; i < wants.size(); ++i)
        money_req.push_back({static_cast<double>(wants[i].campaign->weight),
                             static_cast<double>(grant[i]) * wants[i].campaign->budget.reserve_per_call_usd});
      const auto money = campaign::fair_share_real(std::max(0.0, left), money_req);
      for (std::size_t i = 0; i < wants.size(); ++i)
        grant[i] = std::min<std::int64_t>(grant[i], calls_within(money[i], wants[i].campaign->budget.reserve_per_call_usd));
    }

    std::set<std::string> taken;  // a lead two campaigns both want is called once
    for (std::size_t i = 0; i < wants.size(); ++i) {
      auto& w = wants[i];
      std::int64_t placed = 0;
      for (auto& lead : w.leads) {
        if (placed >= grant[i]) break;
        if (!taken.insert(lead.id).second || by_lead_.contains(lead_key(gym_id, lead.id))) continue;
        const auto place_start = std::chrono::steady_clock::now();
        const bool ok = place(*gym, *w.campaign, *w.mem, lead, now);
        report.place_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - place_start).count();
        if (ok) {
          ++placed;
          ++report.placed;
        }
      }
      // Held back: placed nothing, or all its own limits allowed while eligible leads wait.
      std::string held;
      if (placed == 0) held = w.mem->waiting.empty() ? "lines" : w.mem->waiting;
      else if (placed < static_cast<std::int64_t>(w.leads.size()))
        held = placed >= w.can ? w.bound : "lines";
      if (!held.empty()) {
        auto st = std::find_if(statuses.begin(), statuses.end(),
                               [&](const DialerCampaignStatus& s) { return s.campaign_id == w.campaign->id; });
        if (st != statuses.end() && st->waiting.empty()) st->waiting = held;
      }
    }
  }

  static std::int64_t calls_within(double dollars, double reserve) {
    if (!(dollars > 0) || !(reserve > 0)) return 0;
    return static_cast<std::int64_t>(std::floor(dollars / reserve + 1e-9));
  }

  void refresh_total_cost(const Campaign& c, CampaignMemory& mem, Timestamp now, std::int32_t today) {
    if (mem.cost_total_at != Timestamp{} && now - mem.cost_total_at < std::chrono::minutes{1}) {
      return;
    }
    RollupQuery q;
    q.gym_id = c.gym_id;
    q.campaign_id = c.id;
    q.from_day = 0;
    q.to_day = today + 1;
    q.summed = true;
    std::int64_t micros = 0;
    for (const auto& row : ctx_.store->analytics().call_days(q)) micros += row.cost_micros;
    mem.cost_total = static_cast<double>(micros) / 1e6;
    mem.cost_total_at = now;
  }

  void complete(const Campaign& c, Timestamp now) {
    try {
      ctx_.campaigns->set_state(c.gym_id, c.id, CampaignState::Completed);
      emit(DialerEvent{DialerEvent::Kind::Completed, now, c.gym_id, c.id, {}, {}, "schedule ended"});
      log(LogLevel::Info, "dialer.complete", c.gym_id, fmt::format("campaign {} completed: its schedule ended", c.id));
    } catch (const std::exception& e) {
      report_error_locked(c.gym_id, c.id, fmt::format("completing campaign {} failed: {}", c.id, e.what()));
    }
  }

  // Begins one call (the durable claim) and asks the provider to place it.
  bool place(const Gym& gym, const Campaign& c, CampaignMemory& mem, const Lead& lead, Timestamp now) {
    VoiceProvider* provider = ctx_.provider ? ctx_.provider(c.voice_provider) : nullptr;
    if (!provider) {
      mem.waiting = "no_provider";
      return false;
    }
    if (gym.caller_ids.empty()) {
      mem.waiting = "no_caller_id";
      return false;
    }
    const std::string from = select_caller_id(gym, lead.phone);
    Call call;
    try {
      ctx_.store->transact([&] {
        call = ctx_.calls->begin_outbound_call(OutboundCall{gym.id, lead.id, c.id, std::string(provider->kind()), from});
        ctx_.store->campaigns().record_attempt(gym.id, c.id, lead.id, now);
      });
    } catch (const ConflictError&) {
      return false;  // on a call placed elsewhere meanwhile
    }
    mem.bucket->take(ms_of(now), 1);
    Flight f;
    f.gym_id = gym.id;
    f.campaign_id = c.id;
    f.lead_id = lead.id;
    f.call_id = call.id;
    f.reserved_usd = c.budget.reserve_per_call_usd;
    by_lead_[lead_key(gym.id, lead.id)] = call.id;
    flights_.emplace(call.id, std::move(f));
    ++status_.placed;
    ensure_sink(provider);

    PlaceCallRequest request;
    request.from = from;
    request.to = lead.phone;
    request.assistant_id = c.assistant_id;
    request.dynamic_variables = dynamic_variables(gym, lead, now);
    request.metadata = {{"gym_id", gym.id}, {"lead_id", lead.id}, {"campaign_id", c.id}};
    auto self = shared_from_this();
    const std::string call_id = call.id;
    try {
      provider->place_call(std::move(request), [self, call_id](std::exception_ptr ep, PlaceCallResult result) {
        self->placed(call_id, ep, std::move(result));
      });
    } catch (...) {
      abandon_locked(call_id, std::current_exception());
    }
    return true;
  }

  // The provider's answer to a place_call.
  void placed(const std::string& call_id, std::exception_ptr ep, PlaceCallResult result) {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    if (ep) {
      abandon_locked(call_id, ep);
      return;
    }
    auto it = flights_.find(call_id);
    if (it == flights_.end()) return;
    Flight& f = it->second;
    if (f.provider_call_id.empty()) {
      try {
        ctx_.calls->attach_provider_call_id(f.gym_id, f.call_id, result.provider_call_id);
        f.provider_call_id = result.provider_call_id;
      } catch (const std::exception& e) {
        report_error_locked(f.gym_id, f.campaign_id, fmt::format("call {}: {}", f.call_id, e.what()));
      }
    }
    emit(DialerEvent{DialerEvent::Kind::Placed, ctx_.clock->now(), f.gym_id, f.campaign_id, f.lead_id, f.call_id, {}});
  }

  void abandon_locked(const std::string& call_id, std::exception_ptr ep) {
    auto it = flights_.find(call_id);
    if (it == flights_.end()) return;
    Flight f = std::move(it->second);
    flights_.erase(it);
    by_lead_.erase(lead_key(f.gym_id, f.lead_id));
    std::string why = "not placed";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      why = fmt::format("not placed: {}", e.what());
    } catch (...) {
    }
    if (why.size() > 200) why.resize(200);
    ++status_.refused;
    try {
      ctx_.calls->abandon_call(f.gym_id, f.call_id, why);
    } catch (const std::exception& e) {
      report_error_locked(f.gym_id, f.campaign_id, fmt::format("abandoning call {} failed: {}", f.call_id, e.what()));
    }
    emit(DialerEvent{DialerEvent::Kind::Refused, ctx_.clock->now(), f.gym_id, f.campaign_id, f.lead_id, f.call_id, why});
  }

  // ---- provider events ----------------------------------------------------------

  void ensure_sink(VoiceProvider* provider) {
    if (sinks_.contains(provider)) return;
    sinks_.insert(provider);
    std::weak_ptr<Core> weak = shared_from_this();
    CallService* calls = ctx_.calls;
    provider->set_event_sink([weak, calls](const CallEvent& e) {
      if (auto self = weak.lock()) {
        self->on_event(e);
        return;
      }
      try {
        calls->process_event(e);
      } catch (...) {
      }
    });
  }

  void on_event(const CallEvent& e) {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    Flight* flight = nullptr;
    if (auto it = by_lead_.find(lead_key(e.gym_id, e.lead_id)); it != by_lead_.end()) {
      auto f = flights_.find(it->second);
      if (f != flights_.end() && (f->second.provider_call_id.empty() || f->second.provider_call_id == e.call_id))
        flight = &f->second;
    }
    // An event may come before the provider's answer to place_call: the call gets its id now.
    if (flight && flight->provider_call_id.empty()) {
      try {
        ctx_.calls->attach_provider_call_id(flight->gym_id, flight->call_id, e.call_id);
        flight->provider_call_id = e.call_id;
      } catch (const std::exception& ex) {
        report_error_locked(e.gym_id, e.campaign_id, fmt::format("call {}: {}", flight->call_id, ex.what()));
      }
    }
    try {
      ctx_.calls->process_event(e);
    } catch (const std::exception& ex) {
      report_error_locked(e.gym_id, e.campaign_id, fmt::format("event {}: {}", e.event_id.substr(0, 64), ex.what()));
    }
    if (flight && e.status && is_terminal(*e.status)) {
      flight->ended = true;
      flight->reserved_usd = 0;
      // A simulated call in virtual time reports its end ahead of the clock: the line stays busy until then.
      flight->busy_until = std::max(ctx_.clock->now(), e.ended_at.value_or(ctx_.clock->now()));
    }
  }

  // ---- reporting ------------------------------------------------------------------

  void emit(const DialerEvent& e) {
    if (!observer_) return;
    try {
      observer_(e);
    } catch (...) {
      // An observer must not throw; if it does, the dialer goes on.
    }
  }

  void report_error_locked(const std::string& gym_id, const std::string& campaign_id, std::string message) {
    log(LogLevel::Error, "dialer.error", gym_id, message);
    emit(DialerEvent{DialerEvent::Kind::Error, ctx_.clock->now(), gym_id, campaign_id, {}, {}, std::move(message)});
  }

  void log(LogLevel level, std::string_view operation, std::string_view gym_id, std::string message) {
    if (!ctx_.logger || !ctx_.logger->enabled(level)) return;
    LogRecord r;
    r.level = level;
    r.operation = std::string(operation);
    r.gym_id = std::string(gym_id);
    r.message = std::move(message);
    ctx_.logger->log(std::move(r));
  }

  static std::string lead_key(std::string_view gym_id, std::string_view lead_id) {
    std::string k(gym_id);
    k += '\x1f';
    k += lead_id;
    return k;
  }

  DialerContext ctx_;
  DialerOptions options_;
  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer timer_;

  std::mutex mutex_;  // guards everything below
  bool running_ = false;
  bool stopped_ = false;
  bool recovered_ = false;
  std::map<std::string, Flight> flights_;                  // by our call id
  std::unordered_map<std::string, std::string> by_lead_;   // gym+lead → call id
  std::map<std::string, CampaignMemory> memory_;           // by campaign id
  std::set<VoiceProvider*> sinks_;
  std::function<void(const DialerEvent&)> observer_;
  DialerStatus status_;
};

class DialerImpl final : public Dialer {
 public:
  explicit DialerImpl(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  ~DialerImpl() override { core_->shutdown(); }
  void start() override { core_->start(); }
  void stop() override { core_->stop(); }
  TickReport tick() override { return core_->tick(); }
  DialerStatus status() override { return core_->status(); }
  void set_observer(std::function<void(const DialerEvent&)> observer) override {
    core_->set_observer(std::move(observer));
  }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

std::unique_ptr<Dialer> make_dialer(DialerContext context, const DialerOptions& options) {
  if (!context.store) throw_invalid("store", "is required");
  if (!context.leads) throw_invalid("leads", "is required");
  if (!context.calls) throw_invalid("calls", "is required");
  if (!context.campaigns) throw_invalid("campaigns", "is required");
  if (!context.clock) throw_invalid("clock", "is required");
  if (!context.executor) throw_invalid("executor", "is required");
  if (options.tick < std::chrono::milliseconds{10} || options.tick > std::chrono::seconds{60})
    throw_invalid("tick", "must be between 10 ms and 60 s");
  if (options.stale_call_after < std::chrono::minutes{1}) throw_invalid("stale_call_after", "must be at least 1 minute");
  if (options.idle_recheck < std::chrono::milliseconds{0} || options.idle_recheck > std::chrono::minutes{10})
    throw_invalid("idle_recheck", "must be between 0 and 10 minutes");
  return std::make_unique<DialerImpl>(std::make_shared<Core>(std::move(context), options));
}

}  // namespace gymdash
