// The dialer under simulation: 30 days on a manual clock with the simulated
// provider, 10 gyms, thousands of leads, several campaigns per gym; then the
// call log is checked against every rule the dialer must never break.

#include <doctest/doctest.h>

#include <gymdash/dialer.hpp>
#include <gymdash/error.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/voice.hpp>

#include <boost/asio/io_context.hpp>
#include <cstdio>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "services/lead/calling_rules.hpp"

using namespace gymdash;
namespace asio = boost::asio;

namespace {

struct GymSpec {
  const char* id;
  const char* zone;
  const char* state;
  const char* area;  // area code of its leads and caller id
};

// Zones across the continent, Florida's stricter rule among them.
constexpr GymSpec kGyms[] = {
    {"gym-nyc", "America/New_York", "NY", "212"},    {"gym-mia", "America/New_York", "FL", "305"},
    {"gym-chi", "America/Chicago", "IL", "312"},     {"gym-den", "America/Denver", "CO", "303"},
    {"gym-phx", "America/Phoenix", "AZ", "602"},     {"gym-lax", "America/Los_Angeles", "CA", "213"},
    {"gym-sea", "America/Los_Angeles", "WA", "206"}, {"gym-atl", "America/New_York", "GA", "404"},
    {"gym-dal", "America/Chicago", "TX", "214"},     {"gym-tpa", "America/New_York", "FL", "813"},
};

const Timestamp kStart = parse_timestamp("2026-03-02T05:00:00Z");  // a Monday; DST starts on the 8th

// The whole world of one simulation: services over one store, one provider, one dialer.
struct World {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(kStart);
  std::shared_ptr<Config> config = std::make_shared<Config>();
  std::unique_ptr<Store> store;
  std::unique_ptr<GymService> gyms;
  std::unique_ptr<LeadService> leads;
  std::unique_ptr<CallService> calls;
  std::unique_ptr<CampaignService> campaigns;
  asio::io_context io;
  std::unique_ptr<VoiceProvider> provider;
  std::unique_ptr<Dialer> dialer;

  explicit World(std::unique_ptr<Store> s) : store(std::move(s)) {
    VoiceProviderConfig sim;
    sim.kind = "simulated";
    sim.options = {{"seed", "11"}, {"answer_rate", "0.5"}, {"voicemail_rate", "0.2"}};
    config->voice_providers["sim"] = sim;
    config->defaults.lines = 6;
    config->defaults.max_attempts = 6;
    gyms = make_gym_service(*store, clock);
    leads = make_lead_service(*store, clock, config);
    calls = make_call_service(*store, clock, *leads, config);
    campaigns = make_campaign_service(*store, clock, config);
    provider = make_voice_provider(sim, io.get_executor(), clock);
    make_dialer_now();
  }

  void make_dialer_now() {
    DialerContext dc;
    dc.store = store.get();
    dc.leads = leads.get();
    dc.calls = calls.get();
    dc.campaigns = campaigns.get();
    dc.clock = clock;
    dc.config = config;
    dc.provider = [this](std::string_view name) -> VoiceProvider* { return name == "sim" ? provider.get() : nullptr; };
    dc.executor = io.get_executor();
    DialerOptions o;
    o.idle_recheck = std::chrono::seconds{60};
    o.tick = std::chrono::seconds{60};  // the simulation's step
    dialer = make_dialer(std::move(dc), o);
  }

  // One decision round, then every completion and event it caused.
  TickReport step() {
    auto r = dialer->tick();
    io.restart();
    while (io.poll() > 0) {
    }
    return r;
  }
};

std::string phone(const char* area, int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+1%s555%04d", area, n % 10000);
  return buf;
}

struct Setup {
  std::map<std::string, Campaign> campaigns;   // by id
  std::set<std::string> never_callable;        // no consent, do-not-call or listed at the start
};

Setup populate(World& w, int leads_per_gym) {
  Setup out;
  std::mt19937_64 rng(42);
  for (const auto& g : kGyms) {
    Gym gi;
    gi.id = g.id;
    gi.name = g.id;
    gi.timezone = g.zone;
    gi.state = g.state;
    gi.call_hours = LocalWindow{8 * 60, 20 * 60};
    gi.call_days = kAllDays;
    gi.caller_ids = {phone(g.area, 1)};
    w.gyms->create_gym(gi);
    for (int i = 0; i < leads_per_gym; ++i) {
      LeadInput in;
      in.phone = phone(g.area, 1000 + i);
      in.first_name = "Lead";
      in.source = (i % 3 == 0) ? "facebook_ads" : "web_form";
      in.tags = {(i % 2 == 0) ? "october" : "november"};
      in.created_at = kStart - std::chrono::hours{1 + static_cast<int>(rng() % 400)};
      const auto roll = rng() % 100;
      if (roll < 4) {
        in.consent = Consent{false, kStart - std::chrono::hours{500}, "web_form", "form"};
      } else {
        in.consent = Consent{true, kStart - std::chrono::hours{500}, "web_form", "form"};
      }
      in.do_not_call = roll >= 4 && roll < 7;
      if (roll >= 7 && roll < 12) in.qualification = Qualification::Hot;
      auto lead = w.leads->create_lead(g.id, in).lead;
      if (roll >= 12 && roll < 14) w.leads->add_to_dnc(g.id, lead.phone, "registry", "test");
      if (roll < 7 || (roll >= 12 && roll < 14)) out.never_callable.insert(lead.id);
    }
    // Three campaigns: weekdays for October's leads, every day for hot leads, and a small evening one.
    CampaignInput a;
    a.name = "october weekdays";
    a.voice_provider = "sim";
    a.target.tags = {"october"};
    a.schedule.days = kWeekdays;
    a.schedule.hours = LocalWindow{9 * 60, 19 * 60};
    a.pacing = CampaignPacing{3, 40, 0.2, 3, 180};
    a.weight = 2;
    CampaignInput b;
    b.name = "everyone, daily";
    b.voice_provider = "sim";
    b.schedule.days = kAllDays;
    b.schedule.hours = LocalWindow{10 * 60, 18 * 60};
    b.pacing = CampaignPacing{2, 30, 0.1, 4, 240};
    b.budget.daily_usd = 3;
    b.budget.reserve_per_call_usd = 0.25;
    b.weight = 1;
    CampaignInput c;
    c.name = "evening november";
    c.voice_provider = "sim";
    c.target.tags = {"november"};
    c.schedule.days = kWeekdays;
    c.schedule.hours = LocalWindow{17 * 60, 20 * 60};
    c.pacing = CampaignPacing{2, 20, 0.05, 2, 600};
    c.schedule.end_date = "2026-03-20";
    for (auto* in : {&a, &b, &c}) {
      auto cmp = w.campaigns->create_campaign(g.id, *in);
      w.campaigns->enrol_by_filter(g.id, cmp.id);
      cmp = w.campaigns->set_state(g.id, cmp.id, CampaignState::Active);
      out.campaigns.emplace(cmp.id, cmp);
    }
  }
  return out;
}

// Whether a call may start at `at` for a lead of `gym` under campaign `c` (every window rule).
bool inside_windows(const Gym& gym, const Lead& lead, const Campaign& c, Timestamp at) {
  const std::string zone = lead.local_zone.empty() ? gym.timezone : lead.local_zone;
  if (!rules::window_blocks(at, zone, lead.local_state, gym).empty()) return false;
  const auto local = rules::local_time(at, zone);
  if (local.minute < c.schedule.hours.start_minute || local.minute >= c.schedule.hours.end_minute) return false;
  const auto gym_local = rules::local_time(at, gym.timezone);
  if (!(c.schedule.days & (1u << gym_local.weekday))) return false;
  return true;
}

}  // namespace

TEST_CASE("30 simulated days: the call log breaks no rule") {
  World w(make_memory_store());
  const auto setup = populate(w, 300);
  const Timestamp end = kStart + std::chrono::hours{24 * 30};
  std::int64_t ticks = 0;
  std::int64_t placed = 0;
  // When each campaign was held back by its own limits (lines, daily cap,
  // budget, rate): a callback may wait for those, and for nothing else.
  std::map<std::string, std::set<Timestamp>> held_back;
  std::map<std::pair<std::string, Timestamp>, std::string> waiting;  // every status, for messages
  while (w.clock->now() < end) {
    if (std::getenv("SIM_DEBUG_AT") && w.clock->now() == parse_timestamp(std::getenv("SIM_DEBUG_AT"))) {
      for (const auto& [cid, cmp] : setup.campaigns) {
        DialScope sc;
        sc.campaign_id = cid;
        sc.max_attempts = cmp.pacing.max_attempts;
        sc.retry_gap_minutes = cmp.pacing.retry_gap_minutes;
        sc.hours = cmp.schedule.hours;
        auto got = w.leads->get_prioritized_leads(cmp.gym_id, 10, sc, {}, w.clock->now());
        LeadFilter f;
        f.page_size = 1000;
        for (const auto& l : w.leads->list_leads(cmp.gym_id, f).items)
          if (l.callback_at && *l.callback_at <= w.clock->now() && w.campaigns->enrolment(cmp.gym_id, cid, l.id)) {
            auto d = w.leads->explain(cmp.gym_id, l.id);
            std::string r;
            for (auto& x : d.reasons) r += x + ",";
            bool in = false;
            for (auto& g : got) in = in || g.id == l.id;
            MESSAGE(cid << " " << l.id << " " << l.phone << " due " << format_timestamp(*l.callback_at) << " reasons " << r
                        << " returned " << in << " of " << got.size() << " zone " << l.local_zone << "/" << l.local_state
                        << " enrol attempts " << w.campaigns->enrolment(cmp.gym_id, cid, l.id)->attempts);
          }
      }
    }
    placed += w.step().placed;
    ++ticks;
    for (const auto& st : w.dialer->status().campaigns) {
      waiting[{st.campaign_id, w.clock->now()}] = st.waiting + "/" + std::to_string(st.lines_in_use);
      if (st.waiting == "lines" || st.waiting == "daily_cap" || st.waiting == "budget" || st.waiting == "rate")
        held_back[st.campaign_id].insert(w.clock->now());
    }
    w.clock->advance(std::chrono::seconds{60});
  }
  // Let the last calls finish.
  for (int i = 0; i < 60; ++i) {
    w.clock->advance(std::chrono::seconds{30});
    w.io.restart();
    while (w.io.poll() > 0) {
    }
  }
  INFO("ticks " << ticks << ", calls placed " << placed);
  REQUIRE(placed > 2000);

  std::int64_t checked_calls = 0, callbacks_checked = 0;
  for (const auto& g : kGyms) {
    const Gym gym = w.gyms->get_gym(g.id);
    LeadFilter f;
    f.page_size = 1000;
    const auto page = w.leads->list_leads(g.id, f);
    for (const auto& lead : page.items) {
      auto log = w.calls->lead_calls(g.id, lead.id);
      if (setup.never_callable.contains(lead.id)) {
        CHECK_MESSAGE(log.empty(), "lead " << lead.id << " may never be called");
        continue;
      }
      std::map<std::string, int> per_campaign;
      std::optional<Timestamp> last_end;
      std::optional<Timestamp> dnc_since;
      for (std::size_t i = 0; i < log.size(); ++i) {
        const Call& call = log[i];
        ++checked_calls;
        REQUIRE(!call.campaign_id.empty());
        CHECK(is_terminal(call.status));
        REQUIRE(call.ended_at);
        // Never two calls at once.
        if (last_end) CHECK_MESSAGE(call.started_at >= *last_end, "overlapping calls of lead " << lead.id);
        last_end = call.ended_at;
        // Never after the lead asked not to be called.
        CHECK_FALSE(dnc_since.has_value());
        if (call.outcome == CallOutcome::DoNotCall) dnc_since = call.started_at;
        // Never past a campaign's attempts.
        const auto& cmp = setup.campaigns.at(call.campaign_id);
        CHECK(++per_campaign[call.campaign_id] <= cmp.pacing.max_attempts);
        // Never outside a window.
        CHECK_MESSAGE(inside_windows(gym, lead, cmp, call.started_at),
                      "call " << call.id << " at " << format_timestamp(call.started_at) << " outside the window");
        if (!cmp.schedule.end_date.empty())
          CHECK(rules::local_time(call.started_at, gym.timezone).text.substr(0, 10) <= cmp.schedule.end_date);
        // A state's cap: at most 3 calls in any 24 hours in Florida.
        if (lead.local_state == "FL") {
          int in_day = 0;
          for (const auto& other : log)
            if (other.started_at <= call.started_at && other.started_at > call.started_at - std::chrono::hours{24})
              ++in_day;
          CHECK(in_day <= 3);
        }
        // A callback asked for is placed within a minute of its time when the window is open then.
        const auto& held = held_back[call.campaign_id];
        const bool was_held = call.callback_at && held.lower_bound(*call.callback_at - std::chrono::seconds{60}) !=
                                                      held.upper_bound(*call.callback_at + std::chrono::minutes{1});
        if (call.outcome == CallOutcome::CallbackRequested && call.callback_at && *call.callback_at < end &&
            per_campaign[call.campaign_id] < cmp.pacing.max_attempts && !was_held &&
            static_cast<int>(i + 1) < w.config->defaults.max_attempts &&
            inside_windows(gym, lead, cmp, *call.callback_at) &&
            inside_windows(gym, lead, cmp, *call.callback_at + std::chrono::minutes{1})) {
          ++callbacks_checked;
          const Call* next = i + 1 < log.size() ? &log[i + 1] : nullptr;
          CHECK_MESSAGE(next != nullptr, "callback of lead " << lead.id << " never placed");
          if (next) {
            std::string trail;
            for (const auto& x : log)
              trail += "\n  " + format_timestamp(x.started_at) + ".." + format_timestamp(x.ended_at.value_or(Timestamp{})) +
                       " " + x.campaign_id + " " + to_string(x.status) + " " +
                       (x.outcome ? to_string(*x.outcome) : "-");
            for (int k = -2; k <= 2; ++k) {
              const auto t = std::chrono::floor<std::chrono::minutes>(*call.callback_at) + std::chrono::minutes{k};
              trail += "\n  at " + format_timestamp(t) + " " + waiting[{call.campaign_id, t}];
            }
            INFO("calls of the lead:" << trail);
            CHECK(next->started_at >= *call.callback_at);
            CHECK_MESSAGE(next->started_at <= *call.callback_at + std::chrono::minutes{1},
                          "callback of lead " << lead.id << " asked for " << format_timestamp(*call.callback_at)
                                              << " placed " << format_timestamp(next->started_at));
          }
        }
      }
    }
  }
  INFO("calls checked " << checked_calls << ", callbacks checked " << callbacks_checked);
  CHECK(checked_calls == placed);
  CHECK(callbacks_checked > 10);
}
