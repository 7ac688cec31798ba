// The dialer: each tick decides, per gym, which leads its active campaigns
// call now, and places those calls through the campaigns' voice providers.
//
// Durable state is the store's: a call begun (begin_outbound_call) is the
// lead's claim and its attempt, so a restart forgets nothing that matters.
// What lives only here is what a restart may lose safely: the lines in use
// (a dead process's calls are abandoned when the next dialer starts), the
// token buckets, when an idle campaign is next asked, and the queues of
// candidates (a hint of whom to try next, each lead checked again when it is
// claimed).

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
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <tuple>
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
  o["dropped"] = v.dropped;
  o["refilled"] = v.refilled;
  o["lines_in_use"] = v.lines_in_use;
  o["seconds"] = v.seconds;
  o["place_seconds"] = v.place_seconds;
  o["refill_seconds"] = v.refill_seconds;
  jv = std::move(o);
}

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const RefillReport& v) {
  boost::json::object o;
  o["at"] = format_timestamp(v.at);
  o["refilled"] = v.refilled;
  o["leads"] = v.leads;
  o["seconds"] = v.seconds;
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
    x["queued"] = c.queued;
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
  std::int64_t calls_today = 0;    // from the rollups, refreshed each tick
  double cost_today = 0;
  double cost_total = 0;           // refreshed every few minutes when a total budget is set
  Timestamp cost_total_at{};
  std::string waiting;
};

// A campaign's queue of candidates: what get_prioritized_leads answered when
// it was last filled, best first, less what was taken since, plus callbacks
// that came due after. Only a hint of whom to try next: each lead is checked
// again when it is claimed.
struct Hopper {
  std::deque<Lead> leads;
  std::int64_t version = -1;      // the campaign version its leads were asked for; -1: nothing asked yet
  Timestamp filled_at{};          // when its question was asked
  Timestamp callbacks_seen{};     // callbacks due up to this were asked for or added
  Timestamp idle_until{};         // its last answer was empty: not asked again before this
  bool short_answer = false;      // its last answer held fewer leads than asked for: there were no more
  std::uint64_t generation = 0;   // changes when its contents are thrown away: a fill begun before is dropped
  bool refilling = false;         // a fill job holds it
};

// The outcome of one claim.
enum class Claim : std::uint8_t {
  Placed,   // begun and handed to the provider
  Dropped,  // the lead may not be called by this campaign now: next
  Blocked,  // the campaign cannot place any call now (no provider, no caller id)
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
      // The queues are filled before the first tick.
      try {
        std::vector<Campaign> due;
        const Timestamp now = ctx_.clock->now();
        for (auto& c : ctx_.store->campaigns().in_state(CampaignState::Active)) {
          Hopper& h = hopper_for(c);
          if (refill_due(h, c, now)) due.push_back(std::move(c));
        }
        post_refill_locked(std::move(due));
      } catch (const std::exception& e) {
        report_error_locked("", "", fmt::format("filling the queues failed: {}", e.what()));
      }
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
    std::unique_lock lock(mutex_);
    running_ = false;
    stopped_ = true;
    // A fill job asking a question now still uses the services: wait for it.
    refill_idle_.wait(lock, [&] { return refill_busy_ == 0; });
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
    return tick_locked(!running_);
  }

  RefillReport refill() {
    std::lock_guard lock(mutex_);
    RefillReport report;
    if (stopped_) return report;
    const auto wall_start = std::chrono::steady_clock::now();
    const Timestamp now = ctx_.clock->now();
    report.at = now;
    for (auto& c : ctx_.store->campaigns().in_state(CampaignState::Active)) {
      Hopper& h = hopper_for(c);
      if (resting(c.id) || !refill_due(h, c, now)) continue;
      try {
        fill(h, c, ask(c, now), now);
        ++report.refilled;
      } catch (const std::exception& e) {
        report_error_locked(c.gym_id, c.id, fmt::format("filling the queue of campaign {} failed: {}", c.id, e.what()));
      }
    }
    for (const auto& [id, h] : hoppers_) report.leads += static_cast<std::int64_t>(h.leads.size());
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return report;
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
          self->tick_locked(false);
        } catch (const std::exception& e) {
          self->report_error_locked("", "", fmt::format("tick failed: {}", e.what()));
        }
        // The queues the tick found due are filled off the tick, before the next one.
        self->post_refill_locked(std::move(self->refill_wanted_));
        self->refill_wanted_.clear();
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

  // ---- candidate queues ---------------------------------------------------------

  static DialScope scope_of(const Campaign& c) { return dial_scope_of(c); }

  // What one tick may start for the campaign at most: its lines, and its rate over a tick.
  std::int64_t per_tick(const Campaign& c) const {
    const double burst = std::max(1.0, c.pacing.calls_per_second * std::chrono::duration<double>(options_.tick).count());
    return std::max<std::int64_t>(
        1, std::min<std::int64_t>(c.pacing.max_concurrent, static_cast<std::int64_t>(std::floor(burst + 1e-9))));
  }

  // How many leads a fill asks for: a few ticks' worth, at least one more than a tick takes.
  int depth(const Campaign& c) const {
    const std::int64_t one = per_tick(c);
    const std::int64_t d = std::max(one * options_.queue_ticks, one + 1);
    return static_cast<int>(std::min<std::int64_t>(d, options_.queue_max_leads));
  }

  // The campaign's queue; thrown away when the campaign changed (its version
  // moves with every stored change, an enrolment change included).
  Hopper& hopper_for(const Campaign& c) {
    Hopper& h = hoppers_[c.id];
    if (h.version != -1 && h.version != c.version) {
      h.leads.clear();
      h.version = -1;
      h.short_answer = false;
      h.idle_until = {};
      h.generation = ++generations_;
    }
    return h;
  }

  // Whether the queue should be filled now.
  bool refill_due(const Hopper& h, const Campaign& c, Timestamp now) const {
    if (h.refilling) return false;
    if (h.version != c.version) return true;  // never filled, or thrown away
    if (h.leads.empty()) return now >= h.idle_until && now > h.filled_at;  // never twice at one instant
    if (now - h.filled_at >= options_.queue_max_age) return true;
    return !h.short_answer && static_cast<int>(h.leads.size()) < (depth(c) + 1) / 2;
  }

  // A campaign the last tick found outside its schedule or at its daily cap: no fill until that changes.
  bool resting(const std::string& campaign_id) const {
    const auto m = memory_.find(campaign_id);
    return m != memory_.end() && (m->second.waiting == "outside_schedule" || m->second.waiting == "daily_cap");
  }

  // The campaign's question (the services are safe to call without the dialer's lock).
  std::vector<Lead> ask(const Campaign& c, Timestamp at) {
    return ctx_.leads->get_prioritized_leads(c.gym_id, depth(c), scope_of(c), {}, at);
  }

  void fill(Hopper& h, const Campaign& c, std::vector<Lead> leads, Timestamp at) {
    h.short_answer = static_cast<int>(leads.size()) < depth(c);
    h.idle_until = leads.empty() ? at + options_.idle_recheck : Timestamp{};
    h.leads.assign(std::make_move_iterator(leads.begin()), std::make_move_iterator(leads.end()));
    h.version = c.version;
    h.filled_at = at;
    h.callbacks_seen = at;  // callbacks due later are added by the next probe
  }

  // Fills the given campaigns' queues in a job on the executor, off the tick:
  // the questions run without the dialer's lock, so ticks, events and status
  // go on meanwhile. One job at a time.
  void post_refill_locked(std::vector<Campaign> campaigns) {
    if (campaigns.empty() || refill_posted_ || stopped_) return;
    struct Item {
      Campaign campaign;
      std::uint64_t generation;
    };
    std::vector<Item> items;
    for (auto& c : campaigns) {
      Hopper& h = hoppers_[c.id];
      if (h.refilling) continue;
      h.refilling = true;
      items.push_back(Item{std::move(c), h.generation});
    }
    if (items.empty()) return;
    refill_posted_ = true;
    asio::post(ctx_.executor, [self = shared_from_this(), items = std::move(items)] {
      for (const auto& item : items) {
        const Campaign& c = item.campaign;
        {
          std::lock_guard lock(self->mutex_);
          if (self->stopped_) break;
          ++self->refill_busy_;
        }
        const Timestamp at = self->ctx_.clock->now();
        std::vector<Lead> leads;
        std::string error;
        try {
          leads = self->ask(c, at);
        } catch (const std::exception& e) {
          error = e.what();
        }
        std::lock_guard lock(self->mutex_);
        --self->refill_busy_;
        self->refill_idle_.notify_all();
        auto it = self->hoppers_.find(c.id);
        if (it == self->hoppers_.end()) continue;
        Hopper& h = it->second;
        h.refilling = false;
        if (!error.empty()) {
          self->report_error_locked(c.gym_id, c.id, fmt::format("filling the queue of campaign {} failed: {}", c.id, error));
          continue;
        }
        // Thrown away meanwhile (the campaign changed): this answer is for the old one.
        if (h.generation == item.generation && !self->stopped_) self->fill(h, c, std::move(leads), at);
      }
      std::lock_guard lock(self->mutex_);
      self->refill_posted_ = false;
      for (const auto& item : items)
        if (auto it = self->hoppers_.find(item.campaign.id); it != self->hoppers_.end()) it->second.refilling = false;
    });
  }

  // Callbacks that came due since the gym's queues were filled or last
  // probed go to the front of the queues of the campaigns they are enrolled
  // in: one read of the callback index's new range per gym and tick.
  // A tick by hand skips the queues it would fill before using them anyway.
  void probe_callbacks(const std::string& gym_id, const GymPolicy& policy, std::vector<Campaign>& campaigns,
                       Timestamp now, bool fill_here) {
    const auto probed = [&](const Campaign& c) -> Hopper* {
      const auto it = hoppers_.find(c.id);
      if (it == hoppers_.end() || it->second.version != c.version) return nullptr;
      if (fill_here && refill_due(it->second, c, now)) return nullptr;
      return &it->second;
    };
    std::optional<Timestamp> from;
    for (const auto& c : campaigns)
      if (const Hopper* h = probed(c); h && (!from || h->callbacks_seen < *from)) from = h->callbacks_seen;
    if (!from || *from >= now) return;
    constexpr int kLimit = 200;
    const auto due = ctx_.store->leads().callbacks_due_since(gym_id, *from, now, policy.max_attempts, kLimit);
    for (auto& c : campaigns) {
      Hopper* hp = probed(c);
      if (!hp) continue;
      Hopper& h = *hp;
      if (static_cast<int>(due.size()) >= kLimit) {
        // More than a probe takes: the queue is asked again, callbacks first.
        h.leads.clear();
        h.idle_until = {};
        h.version = -1;
        h.generation = ++generations_;
        continue;
      }
      for (const auto& lead : due) {
        if (!lead.callback_at || *lead.callback_at <= h.callbacks_seen) continue;
        if (!c.target.qualifications.empty() &&
            std::find(c.target.qualifications.begin(), c.target.qualifications.end(), lead.qualification) ==
                c.target.qualifications.end())
          continue;
        const auto e = ctx_.store->campaigns().enrolment(gym_id, c.id, lead.id);
        if (!e || e->attempts >= c.pacing.max_attempts) continue;
        // Callbacks lead the queue, oldest first.
        std::erase_if(h.leads, [&](const Lead& l) { return l.id == lead.id; });
        auto at = h.leads.begin();
        while (at != h.leads.end() && at->callback_at &&
               std::tie(*at->callback_at, at->id) < std::tie(*lead.callback_at, lead.id))
          ++at;
        h.leads.insert(at, lead);
        h.idle_until = {};
      }
      h.callbacks_seen = now;
    }
  }

  // ---- a tick -------------------------------------------------------------------

  TickReport tick_locked(bool fill_here) {
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
        tick_gym(gym_id, campaigns, now, fill_here, report, statuses);
      } catch (const std::exception& e) {
        report_error_locked(gym_id, "", fmt::format("tick of gym {} failed: {}", gym_id, e.what()));
      }
    }
    // Forget campaigns that are no longer active.
    std::set<std::string> active;
    for (const auto& st : statuses) active.insert(st.campaign_id);
    for (const auto& [gym_id, campaigns] : by_gym)
      for (const auto& c : campaigns) active.insert(c.id);
    std::erase_if(memory_, [&](const auto& m) { return !active.contains(m.first); });
    std::erase_if(hoppers_, [&](const auto& h) { return !active.contains(h.first); });
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
      const auto h = hoppers_.find(st.campaign_id);
      st.queued = h == hoppers_.end() ? 0 : static_cast<int>(h->second.leads.size());
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
  void tick_gym(const std::string& gym_id, std::vector<Campaign>& campaigns, Timestamp now, bool fill_here,
                TickReport& report, std::vector<DialerCampaignStatus>& statuses) {
    const auto gym = ctx_.store->gyms().find(gym_id);
    if (!gym) return;
    const GymPolicy policy = ctx_.config ? ctx_.config->policy(gym_id) : GymPolicy{};
    const std::int32_t today = analytics::local_day(now, gym->timezone);
    const std::string today_text = analytics::format_day(today);
    const int weekday = static_cast<int>(((today % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday

    // Queues of campaigns that changed are thrown away; callbacks due since the last look join the others.
    for (const auto& c : campaigns) hopper_for(c);
    probe_callbacks(gym_id, policy, campaigns, now, fill_here);

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

    // The gym's lines in use and what they hold.
    struct Held {
      int gym_lines = 0;
      double gym_reserved = 0;
      std::unordered_map<std::string, int> lines;
      std::unordered_map<std::string, double> reserved;
    };
    const auto held_now = [&] {
      Held h;
      for (const auto& [id, f] : flights_) {
        if (f.gym_id != gym_id) continue;
        ++h.gym_lines;
        h.gym_reserved += f.reserved_usd;
        ++h.lines[f.campaign_id];
        h.reserved[f.campaign_id] += f.reserved_usd;
      }
      return h;
    };
    Held held = held_now();

    struct Want {
      Campaign* campaign;
      CampaignMemory* mem;
      Hopper* hopper;
      std::int64_t can = 0;     // the most its own limits allow this tick
      std::string bound;        // the limit that sets `can`
      std::int64_t placed = 0;  // calls begun this tick
      bool out = false;         // its queue ran out, or it cannot place at all (no provider …)
    };
    std::vector<Want> wants;
    for (auto& c : campaigns) {
      auto& mem = memory_[c.id];
      Hopper& h = hoppers_[c.id];
      DialerCampaignStatus st;
      st.gym_id = gym_id;
      st.campaign_id = c.id;
      st.lines_in_use = held.lines[c.id];
      st.reserved_usd = held.reserved[c.id];
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
      const std::int64_t daily_left = c.pacing.calls_per_day - mem.calls_today;
      if (daily_left <= 0) {
        done("daily_cap");
        continue;
      }
      // A queue that is due is filled whatever holds the campaign back now
      // (its lines may free up before the next fill): here when ticking by
      // hand, else by the job after the tick.
      if (refill_due(h, c, now) && !fill_here) refill_wanted_.push_back(c);
      const int in_flight = held.lines[c.id];
      std::int64_t can = c.pacing.max_concurrent - in_flight;
      if (can <= 0) {
        done("lines");
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
      const double reserved = held.reserved[c.id];
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
      // Who it would call: the front of its queue. Ticking by hand, a queue
      // that is due is filled now (one get_prioritized_leads question).
      if (fill_here && refill_due(h, c, now)) {
        const auto fill_start = std::chrono::steady_clock::now();
        ++report.asked;
        ++report.refilled;
        fill(h, c, ask(c, now), now);
        report.refill_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - fill_start).count();
      }
      if (h.leads.empty()) {
        done(h.refilling || (!fill_here && refill_due(h, c, now)) ? "filling" : "no_eligible_leads");
        continue;
      }
      mem.waiting.clear();
      statuses.push_back(st);
      wants.push_back(Want{&c, &mem, &h, can, std::move(bound)});
    }
    if (wants.empty()) return;

    // Rounds of division and placing: a campaign whose queue runs out of
    // callable leads before it used its share leaves the rest of its lines
    // to the others in the next round.
    const std::int64_t lines = policy.lines;
    std::set<std::string> taken;  // a lead two campaigns both want is called once
    for (int round = 0; round < 4; ++round) {
      if (round > 0) held = held_now();
      // What each can still use: its own limits, and the candidates it holds.
      const auto usable = [&](const Want& w) -> std::int64_t {
        if (w.out) return 0;
        return std::min<std::int64_t>(w.can - w.placed, static_cast<std::int64_t>(w.hopper->leads.size()));
      };
      // Lines: each campaign's target share of all the gym's lines, weighted
      // max-min fair over what it can use (its calls in flight plus its
      // candidates); then the free lines go to those below their target.
      std::vector<campaign::ShareRequest> targets_req;
      for (const auto& w : wants)
        targets_req.push_back({static_cast<double>(w.campaign->weight), held.lines[w.campaign->id] + usable(w)});
      const auto targets = campaign::fair_share(lines, targets_req);
      std::vector<campaign::ShareRequest> free_req;
      for (std::size_t i = 0; i < wants.size(); ++i)
        free_req.push_back({static_cast<double>(wants[i].campaign->weight),
                            std::max<std::int64_t>(0, targets[i] - held.lines[wants[i].campaign->id])});
      auto grant = campaign::fair_share(std::max(0, static_cast<int>(lines) - held.gym_lines), free_req);

      // The gym's budget of the day, divided the same way, in dollars.
      if (policy.daily_budget_usd > 0) {
        const double left = policy.daily_budget_usd - static_cast<double>(gym_cost_micros) / 1e6 - held.gym_reserved;
        std::vector<campaign::RealShareRequest> money_req;
        for (std::size_t i = 0; i < wants.size(); ++i)
          money_req.push_back({static_cast<double>(wants[i].campaign->weight),
                               static_cast<double>(grant[i]) * wants[i].campaign->budget.reserve_per_call_usd});
        const auto money = campaign::fair_share_real(std::max(0.0, left), money_req);
        for (std::size_t i = 0; i < wants.size(); ++i)
          grant[i] =
              std::min<std::int64_t>(grant[i], calls_within(money[i], wants[i].campaign->budget.reserve_per_call_usd));
      }

      bool short_of_grant = false;
      for (std::size_t i = 0; i < wants.size(); ++i) {
        auto& w = wants[i];
        if (w.out) continue;
        const DialScope scope = scope_of(*w.campaign);
        std::int64_t got = 0;
        while (got < grant[i] && !w.hopper->leads.empty()) {
          Lead lead = std::move(w.hopper->leads.front());
          w.hopper->leads.pop_front();
          // Taken by another campaign this tick, or its line is still held: next.
          if (taken.contains(lead.id) || by_lead_.contains(lead_key(gym_id, lead.id))) {
            ++report.dropped;
            continue;
          }
          const auto place_start = std::chrono::steady_clock::now();
          const Claim claim = place(*gym, *w.campaign, *w.mem, scope, lead, now);
          report.place_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - place_start).count();
          if (claim == Claim::Placed) {
            taken.insert(lead.id);
            ++got;
            // The gym's other campaigns that queued it need not check it again.
            for (const auto& other : campaigns)
              if (other.id != w.campaign->id)
                if (auto it = hoppers_.find(other.id); it != hoppers_.end())
                  std::erase_if(it->second.leads, [&](const Lead& l) { return l.id == lead.id; });
          } else if (claim == Claim::Blocked) {
            w.hopper->leads.push_front(std::move(lead));
            w.out = true;
            break;
          } else {
            ++report.dropped;
          }
        }
        w.placed += got;
        report.placed += static_cast<int>(got);
        if (got < grant[i] && !w.out) {
          w.out = true;
          short_of_grant = true;
        }
      }
      if (!short_of_grant) break;
    }

    for (auto& w : wants) {
      // Held back: placed nothing, or all its own limits allowed while candidates wait.
      std::string why;
      const bool waiting_leads = !w.hopper->leads.empty();
      if (w.placed == 0) {
        why = !w.mem->waiting.empty() ? w.mem->waiting : waiting_leads ? "lines" : "no_eligible_leads";
      } else if (waiting_leads) {
        why = w.placed >= w.can ? w.bound : "lines";
      }
      if (!why.empty()) {
        auto st = std::find_if(statuses.begin(), statuses.end(),
                               [&](const DialerCampaignStatus& s) { return s.campaign_id == w.campaign->id; });
        if (st != statuses.end() && st->waiting.empty()) st->waiting = why;
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

  // Checks a queued lead again and, if the campaign may call it now, begins
  // the call (the durable claim) and asks the provider to place it. The
  // lead's row lock, the check and the claim are one transaction, in that
  // order: what the check read cannot change before the claim is written,
  // whichever process writes next (docs/campaigns.md, "Several hosts").
  Claim place(const Gym& gym, const Campaign& c, CampaignMemory& mem, const DialScope& scope, const Lead& queued,
              Timestamp now) {
    VoiceProvider* provider = ctx_.provider ? ctx_.provider(c.voice_provider) : nullptr;
    if (!provider) {
      mem.waiting = "no_provider";
      return Claim::Blocked;
    }
    if (gym.caller_ids.empty()) {
      mem.waiting = "no_caller_id";
      return Claim::Blocked;
    }
    Lead lead;
    Call call;
    bool callable = false;
    try {
      ctx_.store->transact([&] {
        // The lead's row first: another process may be claiming it, or may
        // have claimed, called and released it since the queue was filled.
        // Read after the lock, the lead is current until this commits; a
        // lead another process holds now is skipped.
        if (!ctx_.store->leads().lock_for_claim(gym.id, queued.id)) return;
        // The queue is a hint: the lead as stored now decides (consent,
        // do-not-call, status, attempts, gaps, windows, enrolment, on a call).
        if (!ctx_.leads->explain(gym.id, queued.id, scope, now).dialable) return;
        auto current = ctx_.store->leads().find(gym.id, queued.id);
        if (!current) return;
        lead = std::move(*current);
        call = ctx_.calls->begin_outbound_call(
            OutboundCall{gym.id, lead.id, c.id, std::string(provider->kind()), select_caller_id(gym, lead.phone)});
        ctx_.store->campaigns().record_attempt(gym.id, c.id, lead.id, now);
        callable = true;
      });
    } catch (const ConflictError&) {
      return Claim::Dropped;  // on a call placed elsewhere meanwhile
    } catch (const NotFoundError&) {
      return Claim::Dropped;  // erased meanwhile
    }
    if (!callable) return Claim::Dropped;
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
    request.from = call.from_number;
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
    return Claim::Placed;
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
  std::map<std::string, Hopper> hoppers_;                  // by campaign id
  std::uint64_t generations_ = 0;                          // the last Hopper::generation handed out
  std::vector<Campaign> refill_wanted_;                    // queues a started tick found due, filled after it
  bool refill_posted_ = false;                             // a fill job is queued or running
  int refill_busy_ = 0;                                    // fill jobs asking a question now
  std::condition_variable refill_idle_;                    // refill_busy_ came down
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
  RefillReport refill() override { return core_->refill(); }
  DialerStatus status() override { return core_->status(); }
  void set_observer(std::function<void(const DialerEvent&)> observer) override {
    core_->set_observer(std::move(observer));
  }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

DialScope dial_scope_of(const Campaign& c) {
  DialScope scope;
  scope.campaign_id = c.id;
  scope.max_attempts = c.pacing.max_attempts;
  scope.retry_gap_minutes = c.pacing.retry_gap_minutes;
  scope.hours = c.schedule.hours;
  scope.qualifications = c.target.qualifications;
  return scope;
}

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
  if (options.queue_ticks < 1 || options.queue_ticks > 100) throw_invalid("queue_ticks", "must be between 1 and 100");
  if (options.queue_max_leads < 1 || options.queue_max_leads > 1000)
    throw_invalid("queue_max_leads", "must be between 1 and 1000");
  if (options.queue_max_age < std::chrono::seconds{1} || options.queue_max_age > std::chrono::minutes{10})
    throw_invalid("queue_max_age", "must be between 1 s and 10 minutes");
  return std::make_unique<DialerImpl>(std::make_shared<Core>(std::move(context), options));
}

}  // namespace gymdash
