// One dialer tick deciding for many active campaigns over a large SQLite
// database.
//
//   dialer_bench DATABASE [CAMPAIGNS] [TICKS]
//
// DATABASE must already hold gyms and leads (e.g. the reference data set's
// 1,000,000 leads imported with import_bench); the benchmark writes to it
// (campaigns, enrolments, calls), so give it a copy. It creates CAMPAIGNS
// (default 100) active campaigns spread over the gyms, each enrolling a slice
// of its gym's leads by source and creation period, with 2 lines each. The
// provider accepts every call and ends it at once, so every tick each
// campaign has lines free and asks get_prioritized_leads: the worst case for
// a tick. Prints one JSON object: the first tick (cold), then p50/p90/p99 of
// the next TICKS (default 50) ticks, with the calls placed and questions
// asked per tick, and the part of each tick spent deciding (everything but
// writing the claims and handing calls to the provider). A baseline in the same run: one get_prioritized_leads call
// per campaign without the dialer around it.
#include <gymdash/dialer.hpp>
#include <gymdash/gymdash.hpp>
#include <gymdash/voice.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

namespace gd = gymdash;
namespace asio = boost::asio;

namespace {

// Accepts every call; the call ends as soon as it is placed.
class InstantProvider final : public gd::VoiceProvider {
 public:
  explicit InstantProvider(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  std::string_view kind() const noexcept override { return "bench"; }
  asio::any_io_executor get_executor() const noexcept override { return ex_; }
  void place_call(gd::PlaceCallRequest request, PlaceCallHandler handler) override {
    const std::string id = "bench-" + std::to_string(++n_);
    asio::post(ex_, [this, h = std::move(handler), id, request]() mutable {
      std::move(h)(nullptr, gd::PlaceCallResult{id, gd::CallStatus::Queued});
      gd::CallEvent e;
      e.event_id = "ev-" + id;
      e.call_id = id;
      e.gym_id = request.metadata["gym_id"];
      e.lead_id = request.metadata["lead_id"];
      e.campaign_id = request.metadata["campaign_id"];
      e.started_at = clock_now;
      e.ended_at = clock_now;
      e.status = gd::CallStatus::NoAnswer;
      e.duration_s = 0;
      e.cost_usd = 0.01;
      if (sink_) sink_(e);
    });
  }
  void hang_up(std::string, HangUpHandler h) override {
    asio::post(ex_, [h = std::move(h)]() mutable { std::move(h)(nullptr); });
  }
  void get_status(std::string id, StatusHandler h) override {
    asio::post(ex_, [h = std::move(h), id]() mutable { std::move(h)(nullptr, gd::CallStatusReport{id}); });
  }
  void set_event_sink(EventSink sink) override { sink_ = std::move(sink); }
  gd::Timestamp clock_now{};

 private:
  asio::any_io_executor ex_;
  EventSink sink_;
  int n_ = 0;
};

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: dialer_bench DATABASE [CAMPAIGNS] [TICKS]\n");
    return 2;
  }
  const int n_campaigns = argc > 2 ? std::atoi(argv[2]) : 100;
  const int n_ticks = argc > 3 ? std::atoi(argv[3]) : 50;
  try {
    gd::Config config;
    config.storage = std::string("sqlite:") + argv[1];
    config.logging.level = gd::LogLevel::Warn;
    config.defaults.lines = 1000;
    gd::VoiceProviderConfig v;
    v.kind = "simulated";
    config.voice_providers["bench"] = v;
    const auto at = gd::parse_timestamp("2026-11-02T17:00:00Z");  // Monday: 12:00 New York, 09:00 Los Angeles
    auto clock = std::make_shared<gd::ManualClock>(at);
    auto rt = gd::Runtime::open(config, clock);
    auto gyms = rt->gyms().list_gyms();
    if (gyms.empty()) throw std::runtime_error("the database has no gyms");
    std::int64_t leads = 0;
    for (auto& g : gyms) {
      g.call_hours = {8 * 60, 21 * 60};
      g.call_days = gd::kAllDays;
      const auto first = rt->leads().list_leads(g.id, gd::LeadFilter{{}, {}, {}, {}, {}, {}, {}, 1, 1});
      // A caller id valid in the gym's region: a number of its own area.
      if (g.caller_ids.empty() && !first.items.empty()) g.caller_ids = {first.items.front().phone};
      rt->gyms().update_gym(g);
      leads += first.total;
    }

    // The campaigns: each enrols one source's leads of one creation month of its gym.
    const char* sources[] = {"web_form", "facebook_ads", "google_ads", "instagram", "referral"};
    const auto enrol_started = std::chrono::steady_clock::now();
    std::vector<gd::Campaign> campaigns;
    std::int64_t enrolled = 0;
    for (int i = 0; i < n_campaigns; ++i) {
      const auto& g = gyms[static_cast<std::size_t>(i) % gyms.size()];
      gd::CampaignInput in;
      in.name = "bench " + std::to_string(i);
      in.voice_provider = "bench";
      in.schedule.days = gd::kAllDays;
      in.schedule.hours = {8 * 60, 21 * 60};
      in.pacing = gd::CampaignPacing{2, 1000000, 100, 20, 1};
      in.target.source = sources[(i / static_cast<int>(gyms.size())) % 5];
      auto c = rt->campaigns().create_campaign(g.id, in);
      enrolled += rt->campaigns().enrol_by_filter(g.id, c.id).enrolled;
      campaigns.push_back(rt->campaigns().set_state(g.id, c.id, gd::CampaignState::Active));
    }
    const double enrol_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - enrol_started).count();

    // Baseline: the question each campaign asks, alone.
    std::vector<double> baseline;
    for (const auto& c : campaigns) {
      gd::DialScope s;
      s.campaign_id = c.id;
      s.max_attempts = c.pacing.max_attempts;
      s.retry_gap_minutes = c.pacing.retry_gap_minutes;
      s.hours = c.schedule.hours;
      const auto t0 = std::chrono::steady_clock::now();
      (void)rt->leads().get_prioritized_leads(c.gym_id, 3, s, {}, at);
      baseline.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }

    asio::io_context io;
    InstantProvider provider(io.get_executor());
    gd::DialerContext dc;
    dc.store = &rt->store();
    dc.leads = &rt->leads();
    dc.calls = &rt->calls();
    dc.campaigns = &rt->campaigns();
    dc.clock = clock;
    dc.config = std::make_shared<gd::Config>(rt->config());
    dc.provider = [&](std::string_view) -> gd::VoiceProvider* { return &provider; };
    dc.executor = io.get_executor();
    gd::DialerOptions o;
    o.idle_recheck = std::chrono::milliseconds{0};
    auto dialer = gd::make_dialer(std::move(dc), o);

    std::vector<double> tick_ms, decide_ms;
    double first_ms = 0;
    std::int64_t placed = 0, asked = 0;
    for (int t = 0; t <= n_ticks; ++t) {
      provider.clock_now = clock->now();
      const auto r = dialer->tick();
      io.restart();
      while (io.poll() > 0) {
      }
      if (t == 0) first_ms = r.seconds * 1000;
      else {
        tick_ms.push_back(r.seconds * 1000);
        decide_ms.push_back((r.seconds - r.place_seconds) * 1000);
      }
      placed += r.placed;
      asked += r.asked;
      clock->advance(std::chrono::seconds{2});
    }
    boost::json::object out;
    out["bench"] = "dialer_tick";
    out["leads"] = leads;
    out["gyms"] = static_cast<std::int64_t>(gyms.size());
    out["campaigns"] = n_campaigns;
    out["enrolled"] = enrolled;
    out["enrol_seconds"] = enrol_s;
    out["first_tick_ms"] = first_ms;
    out["tick_p50_ms"] = pct(tick_ms, 0.5);
    out["tick_p90_ms"] = pct(tick_ms, 0.9);
    out["tick_p99_ms"] = pct(tick_ms, 0.99);
    out["decide_p50_ms"] = pct(decide_ms, 0.5);
    out["decide_p99_ms"] = pct(decide_ms, 0.99);
    out["ticks"] = n_ticks;
    out["calls_per_tick"] = static_cast<double>(placed) / (n_ticks + 1);
    out["asked_per_tick"] = static_cast<double>(asked) / (n_ticks + 1);
    double base_sum = 0;
    for (double b : baseline) base_sum += b;
    out["baseline_prioritize_p50_ms"] = pct(baseline, 0.5);
    out["baseline_prioritize_sum_ms"] = base_sum;
    out["tick_p50_vs_baseline_sum"] = base_sum > 0 ? pct(tick_ms, 0.5) / base_sum : 0;
    std::cout << boost::json::serialize(out) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dialer_bench: %s\n", e.what());
    return 1;
  }
}
