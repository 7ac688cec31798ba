// One dialer tick deciding for many active campaigns over a large SQLite
// database.
//
//   dialer_bench DATABASE [CAMPAIGNS] [TICKS] [CALL_SECONDS]
//
// DATABASE must already hold gyms and leads (e.g. the reference data set's
// 1,000,000 leads imported with import_bench); the benchmark writes to it
// (campaigns, enrolments, calls), so give it a copy. It creates CAMPAIGNS
// (default 100) active campaigns spread over the gyms, each enrolling one
// source's leads of its gym, with 2 lines each; or, when the database already
// has active campaigns named `bench …` (prepared by a run with TICKS = 0,
// which only enrols, then copied), it reuses them.
//
// CALL_SECONDS 0 (default): the provider ends every call as soon as it is
// placed, so every tick each campaign has lines free and asks
// get_prioritized_leads, and idle campaigns are asked again every tick: the
// worst case for a tick, 2 s of the manual clock apart. CALL_SECONDS N: calls
// last N/2 to 3N/2 seconds and the dialer runs with its default options, a
// tick a second, measured after 3N warm-up ticks: the steady state of a
// dialer whose lines are busy.
//
// The dialer keeps a queue of candidates per campaign. Before each tick the
// benchmark calls Dialer::refill() (what a started dialer does on its
// executor between ticks), timed apart: the tick then only takes leads from
// the queues, checks each again and claims it.
//
// Prints one JSON object: the first refill and the first tick (cold), then
// p50/p90/p99 of the next TICKS (default 50) ticks, the calls placed,
// questions asked (in the tick: none when the refill ran first) and
// candidates dropped per tick, the part of each tick spent deciding
// (everything but checking and writing the claims, handing calls to the
// provider and filling queues), the refills (p50/p99 of each, queues filled
// per tick), CPU time of the thread for ticks and refills, and the load
// average. Baselines in the same run: one get_prioritized_leads call per
// campaign for 3 leads (a tick's question) without the dialer around it, and
// for 50 and 200 leads.
#include <gymdash/dialer.hpp>
#include <gymdash/gymdash.hpp>
#include <gymdash/voice.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

namespace gd = gymdash;
namespace asio = boost::asio;

namespace {

// Accepts every call. With call_seconds 0 the call ends as soon as it is
// placed; else it lasts between half and one and a half times call_seconds
// of the manual clock (spread evenly by call number) and ends when
// deliver() is called at or after its end.
class BenchProvider final : public gd::VoiceProvider {
 public:
  explicit BenchProvider(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  std::string_view kind() const noexcept override { return "bench"; }
  asio::any_io_executor get_executor() const noexcept override { return ex_; }
  void place_call(gd::PlaceCallRequest request, PlaceCallHandler handler) override {
    const int n = ++n_;
    const std::string id = "bench-" + std::to_string(n);
    gd::CallEvent e;
    e.event_id = "ev-" + id;
    e.call_id = id;
    e.gym_id = request.metadata["gym_id"];
    e.lead_id = request.metadata["lead_id"];
    e.campaign_id = request.metadata["campaign_id"];
    e.started_at = clock_now;
    const int seconds = call_seconds > 0 ? call_seconds / 2 + (n * 7919) % call_seconds : 0;
    e.ended_at = clock_now + std::chrono::seconds{seconds};
    e.status = gd::CallStatus::NoAnswer;
    e.duration_s = seconds;
    e.cost_usd = 0.01;
    asio::post(ex_, [h = std::move(handler), id]() mutable {
      std::move(h)(nullptr, gd::PlaceCallResult{id, gd::CallStatus::Queued});
    });
    pending_.push_back(std::move(e));
    if (call_seconds == 0) deliver(clock_now);
  }
  // Ends the calls whose time is up.
  void deliver(gd::Timestamp now) {
    std::vector<gd::CallEvent> due;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (*it->ended_at <= now) {
        due.push_back(std::move(*it));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& e : due)
      asio::post(ex_, [this, e = std::move(e)] {
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
  int call_seconds = 0;

 private:
  asio::any_io_executor ex_;
  EventSink sink_;
  std::vector<gd::CallEvent> pending_;
  int n_ = 0;
};

// CPU time of the calling thread, in milliseconds.
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: dialer_bench DATABASE [CAMPAIGNS] [TICKS] [CALL_SECONDS]\n");
    return 2;
  }
  const int n_campaigns = argc > 2 ? std::atoi(argv[2]) : 100;
  const int n_ticks = argc > 3 ? std::atoi(argv[3]) : 50;
  const int call_seconds = argc > 4 ? std::atoi(argv[4]) : 0;
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
    // A database prepared by an earlier run (copied before it ticked) keeps its campaigns: reuse them.
    for (const auto& g : gyms) {
      gd::CampaignFilter f;
      f.states = {gd::CampaignState::Active};
      f.page_size = 1000;
      for (auto& c : rt->campaigns().list_campaigns(g.id, f).items)
        if (c.name.rfind("bench ", 0) == 0) campaigns.push_back(std::move(c));
    }
    const bool reused = !campaigns.empty();
    for (int i = 0; !reused && i < n_campaigns; ++i) {
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

    // Baseline: the question each campaign asks, alone (for 3 leads, as a
    // tick does; and for 50 and 200, the cost of fetching ahead).
    std::map<int, std::vector<double>> asked_ms;
    for (int count : {3, 50, 200})
      for (const auto& c : campaigns) {
        gd::DialScope s;
        s.campaign_id = c.id;
        s.max_attempts = c.pacing.max_attempts;
        s.retry_gap_minutes = c.pacing.retry_gap_minutes;
        s.hours = c.schedule.hours;
        const auto t0 = std::chrono::steady_clock::now();
        (void)rt->leads().get_prioritized_leads(c.gym_id, count, s, {}, at);
        asked_ms[count].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
    const auto& baseline = asked_ms[3];

    asio::io_context io;
    BenchProvider provider(io.get_executor());
    provider.call_seconds = call_seconds;
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
    // Instant calls: the worst case, every campaign asked every tick. Calls
    // that last: the dialer as configured by default, one tick a second.
    if (call_seconds == 0) o.idle_recheck = std::chrono::milliseconds{0};
    const auto step = call_seconds == 0 ? std::chrono::seconds{2} : std::chrono::seconds{1};
    // Until the lines have turned over a few times, ticks are not measured.
    const int warmup = call_seconds == 0 ? 0 : 3 * call_seconds;
    auto dialer = gd::make_dialer(std::move(dc), o);

    const std::string load_before = load_average();
    std::vector<double> tick_ms, decide_ms, tick_cpu_ms, refill_ms, refill_cpu_ms;
    double first_ms = 0, first_decide_ms = 0, first_refill_ms = 0;
    int first_refilled = 0;
    std::int64_t placed = 0, asked = 0, dropped = 0, refilled = 0;
    for (int t = 0; n_ticks > 0 && t <= n_ticks + warmup; ++t) {  // TICKS = 0: prepare only
      provider.clock_now = clock->now();
      provider.deliver(clock->now());
      io.restart();
      while (io.poll() > 0) {
      }
      const double refill_cpu0 = thread_cpu_ms();
      const auto f = dialer->refill();
      const double refill_cpu = thread_cpu_ms() - refill_cpu0;
      const double tick_cpu0 = thread_cpu_ms();
      const auto r = dialer->tick();
      const double tick_cpu = thread_cpu_ms() - tick_cpu0;
      io.restart();
      while (io.poll() > 0) {
      }
      if (t == 0) {
        first_ms = r.seconds * 1000;
        first_decide_ms = (r.seconds - r.place_seconds - r.refill_seconds) * 1000;
        first_refill_ms = f.seconds * 1000;
        first_refilled = f.refilled;
      } else if (t > warmup) {
        tick_ms.push_back(r.seconds * 1000);
        decide_ms.push_back((r.seconds - r.place_seconds - r.refill_seconds) * 1000);
        tick_cpu_ms.push_back(tick_cpu);
        if (f.refilled > 0) {
          refill_ms.push_back(f.seconds * 1000);
          refill_cpu_ms.push_back(refill_cpu);
        }
        placed += r.placed;
        asked += r.asked;
        dropped += r.dropped;
        refilled += f.refilled;
      }
      clock->advance(step);
    }
    boost::json::object out;
    out["bench"] = "dialer_tick";
    out["leads"] = leads;
    out["gyms"] = static_cast<std::int64_t>(gyms.size());
    out["campaigns"] = static_cast<std::int64_t>(campaigns.size());
    out["campaigns_reused"] = reused;
    out["enrolled"] = enrolled;
    out["enrol_seconds"] = enrol_s;
    out["first_refill_ms"] = first_refill_ms;
    out["first_refill_queues"] = first_refilled;
    out["first_tick_ms"] = first_ms;
    out["first_tick_decide_ms"] = first_decide_ms;
    out["tick_p50_ms"] = pct(tick_ms, 0.5);
    out["tick_p90_ms"] = pct(tick_ms, 0.9);
    out["tick_p99_ms"] = pct(tick_ms, 0.99);
    out["decide_p50_ms"] = pct(decide_ms, 0.5);
    out["decide_p99_ms"] = pct(decide_ms, 0.99);
    out["tick_cpu_p50_ms"] = pct(tick_cpu_ms, 0.5);
    out["tick_cpu_p99_ms"] = pct(tick_cpu_ms, 0.99);
    out["refill_p50_ms"] = pct(refill_ms, 0.5);
    out["refill_p99_ms"] = pct(refill_ms, 0.99);
    out["refill_cpu_p50_ms"] = pct(refill_cpu_ms, 0.5);
    out["refills_per_tick"] = static_cast<double>(refilled) / std::max(n_ticks, 1);
    out["dropped_per_tick"] = static_cast<double>(dropped) / std::max(n_ticks, 1);
    out["load_average_before"] = load_before;
    out["load_average_after"] = load_average();
    out["ticks"] = n_ticks;
    out["call_seconds"] = call_seconds;
    out["calls_per_tick"] = static_cast<double>(placed) / std::max(n_ticks, 1);
    out["asked_per_tick"] = static_cast<double>(asked) / std::max(n_ticks, 1);
    double base_sum = 0;
    for (double b : baseline) base_sum += b;
    out["baseline_prioritize_p50_ms"] = pct(baseline, 0.5);
    out["baseline_prioritize_sum_ms"] = base_sum;
    out["prioritize_50_p50_ms"] = pct(asked_ms[50], 0.5);
    out["prioritize_200_p50_ms"] = pct(asked_ms[200], 0.5);
    out["tick_p50_vs_baseline_sum"] = base_sum > 0 ? pct(tick_ms, 0.5) / base_sum : 0;
    std::cout << boost::json::serialize(out) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dialer_bench: %s\n", e.what());
    return 1;
  }
}
