// The simulated voice provider: every call's story (ringing, who answers,
// talk time, outcome, cost) is drawn from the seed and the call's sequence
// number, then told as CallEvents — on Asio timers (real time) or at once with
// computed timestamps (virtual time, for ManualClock simulations).
#include <gymdash/voice.hpp>

#include "voice/provider_util.hpp"

#include <gymdash/error.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <mutex>
#include <numbers>
#include <set>
#include <sstream>

namespace gymdash {

namespace asio = boost::asio;

namespace {

// Our own draws from the raw generator output: the standard distributions
// differ between library implementations, and the same seed must give the
// same calls everywhere.
struct Draw {
  explicit Draw(std::uint64_t seed) : state(seed) {}
  std::uint64_t state;
  std::uint64_t next() {  // splitmix64
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {                                                             // Box–Muller
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  std::int64_t between(std::int64_t lo, std::int64_t hi) {  // inclusive
    if (hi <= lo) return lo;
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
};

const std::map<std::string, double>& default_weights() {
  static const std::map<std::string, double> w = {
      {"interested", 30},   {"not_interested", 30}, {"callback_requested", 15}, {"trial_booked", 12},
      {"membership_sold", 3}, {"wrong_number", 5},  {"do_not_call", 5}};
  return w;
}

double parse_double(const std::string& key, const std::string& text, double lo, double hi) {
  double v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || !std::isfinite(v))
    throw_invalid("options." + key, fmt::format("\"{}\" is not a number", text.substr(0, 32)));
  if (v < lo || v > hi) throw_invalid("options." + key, fmt::format("{} is out of range ({}–{})", v, lo, hi));
  return v;
}

struct Step {
  std::chrono::milliseconds offset{0};
  CallEvent event;
};

struct SimCall {
  Timestamp placed{};
  std::vector<Step> steps;  // in time order; the last one ends the call
  std::size_t emitted = 0;  // real time: steps delivered so far
  std::optional<Timestamp> hung_up_at;
  std::vector<std::shared_ptr<asio::steady_timer>> timers;
};

struct SimState {
  SimState(const SimulatedSettings& s, asio::any_io_executor ex, std::shared_ptr<Clock> c, std::shared_ptr<Logger> l)
      : settings(s), executor(ex), strand(asio::make_strand(ex)), clock(std::move(c)), logger(std::move(l)) {}
  SimulatedSettings settings;
  bool virtual_time = false;
  asio::any_io_executor executor;
  asio::strand<asio::any_io_executor> strand;  // event delivery, timers
  std::shared_ptr<Clock> clock;
  std::shared_ptr<Logger> logger;
  std::mutex mutex;  // guards everything below
  VoiceProvider::EventSink sink;
  std::uint64_t sequence = 0;
  std::map<std::string, SimCall> calls;
  bool closed = false;

  static void deliver(const std::shared_ptr<SimState>& self, CallEvent event) {
    asio::post(self->strand, [self, event = std::move(event)]() {
      VoiceProvider::EventSink s;
      {
        std::lock_guard lock(self->mutex);
        if (self->closed) return;
        s = self->sink;
      }
      if (s) {
        try {
          s(event);
        } catch (...) {
          // A sink must not throw; one that does loses only this event.
        }
      }
    });
  }
};

CallStatus status_at(const SimCall& c, Timestamp now, AnsweredBy& answered_by, const CallEvent** last) {
  CallStatus status = CallStatus::Queued;
  answered_by = AnsweredBy::Unknown;
  *last = nullptr;
  for (const auto& s : c.steps) {
    if (c.placed + s.offset > now) break;
    if (s.event.status) status = *s.event.status;
    if (s.event.answered_by) answered_by = *s.event.answered_by;
    *last = &s.event;
  }
  return status;
}

class SimulatedProvider final : public VoiceProvider {
 public:
  SimulatedProvider(const SimulatedSettings& settings, asio::any_io_executor ex, std::shared_ptr<Clock> clock,
                    std::shared_ptr<Logger> logger)
      : state_(std::make_shared<SimState>(settings, std::move(ex), clock ? std::move(clock) : make_system_clock(),
                                          std::move(logger))) {
    const auto& t = settings.time;
    if (t == "virtual") state_->virtual_time = true;
    else if (t == "real") state_->virtual_time = false;
    else state_->virtual_time = dynamic_cast<ManualClock*>(state_->clock.get()) != nullptr;
  }

  ~SimulatedProvider() override {
    std::lock_guard lock(state_->mutex);
    state_->closed = true;
    for (auto& [id, c] : state_->calls)
      for (auto& t : c.timers) asio::post(state_->strand, [t] { t->cancel(); });
  }

  std::string_view kind() const noexcept override { return "simulated"; }
  asio::any_io_executor get_executor() const noexcept override { return state_->executor; }

  void set_event_sink(EventSink sink) override {
    std::lock_guard lock(state_->mutex);
    state_->sink = std::move(sink);
  }

  void place_call(PlaceCallRequest request, PlaceCallHandler handler) override {
    const auto start = std::chrono::steady_clock::now();
    try {
      validate_place_call_request(request, false);
    } catch (...) {
      voice::log_operation(state_->logger.get(), "voice.simulated.place_call", &request, {}, std::current_exception(), 0);
      return voice::complete(std::move(handler), state_->executor, std::current_exception(), PlaceCallResult{});
    }
    auto& st = *state_;
    std::string id;
    std::vector<Step> steps;
    {
      std::lock_guard lock(st.mutex);
      prune(st);
      const auto seq = ++st.sequence;
      id = fmt::format("sim-{}-{:06}", st.settings.seed, seq);
      SimCall c;
      c.placed = st.clock->now();
      c.steps = plan(id, request, c.placed, seq);
      steps = c.steps;
      if (!st.virtual_time) {
        for (std::size_t i = 0; i < steps.size(); ++i) {
          const auto delay = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
              std::chrono::duration<double, std::milli>(steps[i].offset.count() / st.settings.time_scale));
          auto timer = std::make_shared<asio::steady_timer>(st.strand, delay);
          c.timers.push_back(timer);
        }
      }
      st.calls.emplace(id, std::move(c));
    }
    voice::log_operation(st.logger.get(), "voice.simulated.place_call", &request, id, nullptr,
                         std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    voice::complete(std::move(handler), st.executor, std::exception_ptr{},
                    PlaceCallResult{id, CallStatus::Queued});
    if (st.virtual_time) {
      for (auto& s : steps) SimState::deliver(state_, std::move(s.event));
      return;
    }
    std::lock_guard lock(st.mutex);
    auto& c = st.calls.at(id);
    for (std::size_t i = 0; i < c.timers.size(); ++i) {
      c.timers[i]->async_wait([s = state_, id, i](boost::system::error_code ec) {
        if (ec) return;
        std::optional<CallEvent> event;
        {
          std::lock_guard lock(s->mutex);
          auto it = s->calls.find(id);
          if (s->closed || it == s->calls.end() || it->second.hung_up_at) return;
          event = it->second.steps[i].event;
          it->second.emitted = i + 1;
        }
        SimState::deliver(s, std::move(*event));
      });
    }
  }

  void hang_up(std::string id, HangUpHandler handler) override {
    auto& st = *state_;
    std::exception_ptr error;
    std::optional<CallEvent> correction;
    {
      std::lock_guard lock(st.mutex);
      auto it = st.calls.find(id);
      if (it == st.calls.end()) {
        error = std::make_exception_ptr(
            NotFoundError(fmt::format("provider_call_id: no simulated call \"{}\"", id.substr(0, 100)), "provider_call_id"));
      } else {
        auto& c = it->second;
        const auto now = st.clock->now();
        const auto end = c.placed + c.steps.back().offset;
        if (!c.hung_up_at && now < end) {
          c.hung_up_at = now;
          for (auto& t : c.timers) asio::post(st.strand, [t] { t->cancel(); });
          AnsweredBy answered_by;
          const CallEvent* last = nullptr;
          const auto status = status_at(c, now, answered_by, &last);
          CallEvent e = c.steps.front().event;
          e.event_id = id + ":hangup";
          e.ended_at = now;
          e.answered_by = answered_by;
          if (status == CallStatus::InProgress) {
            e.status = CallStatus::Completed;
            Timestamp answered_at = c.placed;
            for (const auto& s : c.steps)
              if (s.event.status == CallStatus::InProgress) answered_at = c.placed + s.offset;
            e.duration_s = std::chrono::duration_cast<std::chrono::seconds>(now - answered_at).count();
          } else {
            e.status = CallStatus::Canceled;
            e.duration_s = 0;
          }
          correction = std::move(e);
        }
      }
    }
    if (correction) SimState::deliver(state_, std::move(*correction));
    voice::log_operation(st.logger.get(), "voice.simulated.hang_up", nullptr, id, error, 0);
    voice::complete(std::move(handler), st.executor, error);
  }

  void get_status(std::string id, StatusHandler handler) override {
    auto& st = *state_;
    std::exception_ptr error;
    CallStatusReport r;
    {
      std::lock_guard lock(st.mutex);
      auto it = st.calls.find(id);
      if (it == st.calls.end()) {
        error = std::make_exception_ptr(
            NotFoundError(fmt::format("provider_call_id: no simulated call \"{}\"", id.substr(0, 100)), "provider_call_id"));
      } else {
        const auto& c = it->second;
        // Virtual time: as of the clock. Real time: as far as the timers have come.
        Timestamp now = st.clock->now();
        if (!st.virtual_time)
          now = c.emitted == 0 ? c.placed - std::chrono::milliseconds{1} : c.placed + c.steps[c.emitted - 1].offset;
        if (c.hung_up_at && *c.hung_up_at < now) now = *c.hung_up_at;
        const CallEvent* last = nullptr;
        r.provider_call_id = id;
        r.status = status_at(c, now, r.answered_by, &last);
        r.started_at = c.placed;
        if (c.hung_up_at && (!last || !is_terminal(r.status))) {
          r.status = r.status == CallStatus::InProgress ? CallStatus::Completed : CallStatus::Canceled;
          r.ended_at = c.hung_up_at;
          r.end_reason = "hung_up";
        } else if (last && is_terminal(r.status)) {
          r.ended_at = last->ended_at;
          r.duration_s = last->duration_s;
          r.cost_usd = last->cost_usd;
          r.summary = last->summary;
          r.end_reason = last->outcome ? to_string(*last->outcome) : to_string(r.status);
        }
      }
    }
    voice::complete(std::move(handler), st.executor, error, std::move(r));
  }

 private:
  // Forgets calls that ended more than a day ago (of the clock) once there are
  // many, so a long simulation does not grow without bound.
  static void prune(SimState& st) {
    if (st.calls.size() < 10000) return;
    const auto horizon = st.clock->now() - std::chrono::hours{24};
    std::erase_if(st.calls, [&](const auto& kv) {
      const auto& c = kv.second;
      const auto end = c.hung_up_at ? *c.hung_up_at : c.placed + c.steps.back().offset;
      return end < horizon && (st.virtual_time || c.emitted == c.steps.size() || c.hung_up_at);
    });
  }

  std::vector<Step> plan(const std::string& id, const PlaceCallRequest& req, Timestamp t0, std::uint64_t seq) const {
    const auto& s = state_->settings;
    Draw d(s.seed * 0x100000001B3ULL ^ (seq * 0x9E3779B97F4A7C15ULL));
    d.next();
    using std::chrono::milliseconds;
    using std::chrono::seconds;

    CallEvent base;
    base.call_id = id;
    const auto meta = [&](const char* k) {
      const auto it = req.metadata.find(k);
      return it == req.metadata.end() ? std::string{} : it->second;
    };
    base.gym_id = meta("gym_id");
    base.lead_id = meta("lead_id");
    base.lead_external_id = meta("lead_external_id");
    base.to = req.to;
    base.from = req.from;
    base.direction = CallDirection::Outbound;
    base.started_at = t0;

    enum class Kind { Human, Machine, Busy, Failed, NoAnswer } kind;
    const double u = d.uniform();
    double acc = s.answer_rate;
    if (u < acc) kind = Kind::Human;
    else if (u < (acc += s.voicemail_rate)) kind = Kind::Machine;
    else if (u < (acc += s.busy_rate)) kind = Kind::Busy;
    else if (u < (acc += s.failed_rate)) kind = Kind::Failed;
    else kind = Kind::NoAnswer;

    std::vector<Step> steps;
    CallEvent ringing = base;
    ringing.event_id = id + ":ringing";
    ringing.status = CallStatus::Ringing;
    steps.push_back({milliseconds{0}, ringing});

    CallEvent end = base;
    end.event_id = id + ":ended";
    milliseconds end_at{0};
    if (kind == Kind::Human || kind == Kind::Machine) {
      const milliseconds ring{d.between(s.ring_min_s * 1000LL, s.ring_max_s * 1000LL)};
      CallEvent answered = base;
      answered.event_id = id + ":answered";
      answered.status = CallStatus::InProgress;
      answered.answered_by = kind == Kind::Human ? AnsweredBy::Human : AnsweredBy::Machine;
      steps.push_back({ring, answered});
      double talk_s = s.voicemail_s;
      if (kind == Kind::Human) {
        talk_s = s.talk_median_s * std::exp(s.talk_sigma * d.normal());
        talk_s = std::clamp(talk_s, 5.0, static_cast<double>(std::max(5, s.talk_max_s)));
      }
      const auto talk = milliseconds{static_cast<std::int64_t>(talk_s * 1000)};
      end_at = ring + talk;
      end.status = CallStatus::Completed;
      end.answered_by = answered.answered_by;
      end.duration_s = static_cast<std::int64_t>(std::llround(talk_s));
      const auto minutes = (*end.duration_s + 59) / 60;
      end.cost_usd = std::round(static_cast<double>(minutes) * s.cost_per_minute_usd * 10000.0) / 10000.0;
      if (kind == Kind::Human) {
        const auto& weights = s.outcome_weights.empty() ? default_weights() : s.outcome_weights;
        double total = 0;
        for (const auto& [k, w] : weights) total += w;
        double pick = d.uniform() * total;
        std::string chosen = weights.begin()->first;
        for (const auto& [k, w] : weights) {
          if (pick < w) {
            chosen = k;
            break;
          }
          pick -= w;
        }
        end.outcome = parse_call_outcome(chosen, "options.outcome_weights");
        switch (*end.outcome) {
          case CallOutcome::Interested:
          case CallOutcome::TrialBooked:
          case CallOutcome::MembershipSold: end.sentiment = "positive"; break;
          case CallOutcome::CallbackRequested: end.sentiment = "neutral"; break;
          default: end.sentiment = "negative";
        }
        if (*end.outcome == CallOutcome::CallbackRequested)
          end.callback_at = t0 + end_at + std::chrono::hours{24 + d.between(0, 48)};
        end.summary = fmt::format("Simulated conversation: {}.", to_string(*end.outcome));
      } else {
        end.summary = "Simulated voicemail.";
      }
    } else {
      end.duration_s = 0;
      end.answered_by = AnsweredBy::Unknown;
      if (kind == Kind::Busy) {
        end.status = CallStatus::Busy;
        end_at = milliseconds{d.between(1000, 4000)};
      } else if (kind == Kind::Failed) {
        end.status = CallStatus::Failed;
        end_at = milliseconds{d.between(200, 3000)};
      } else {
        end.status = CallStatus::NoAnswer;
        end_at = milliseconds{s.no_answer_after_s * 1000LL};
      }
    }
    end.ended_at = t0 + end_at;
    steps.push_back({end_at, end});
    return steps;
  }

  std::shared_ptr<SimState> state_;
};

}  // namespace

SimulatedSettings simulated_settings(const VoiceProviderConfig& config) {
  SimulatedSettings s;
  for (const auto& [k, v] : config.options) {
    if (k == "seed") {
      std::uint64_t n = 0;
      const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc{} || p != v.data() + v.size()) throw_invalid("options.seed", "must be a non-negative integer");
      s.seed = n;
    } else if (k == "answer_rate") s.answer_rate = parse_double(k, v, 0, 1);
    else if (k == "voicemail_rate") s.voicemail_rate = parse_double(k, v, 0, 1);
    else if (k == "busy_rate") s.busy_rate = parse_double(k, v, 0, 1);
    else if (k == "failed_rate") s.failed_rate = parse_double(k, v, 0, 1);
    else if (k == "ring_min_s") s.ring_min_s = static_cast<int>(parse_double(k, v, 0, 600));
    else if (k == "ring_max_s") s.ring_max_s = static_cast<int>(parse_double(k, v, 0, 600));
    else if (k == "no_answer_after_s") s.no_answer_after_s = static_cast<int>(parse_double(k, v, 1, 600));
    else if (k == "talk_median_s") s.talk_median_s = parse_double(k, v, 1, 7200);
    else if (k == "talk_sigma") s.talk_sigma = parse_double(k, v, 0, 3);
    else if (k == "talk_max_s") s.talk_max_s = static_cast<int>(parse_double(k, v, 5, 14400));
    else if (k == "voicemail_s") s.voicemail_s = static_cast<int>(parse_double(k, v, 1, 600));
    else if (k == "cost_per_minute_usd") s.cost_per_minute_usd = parse_double(k, v, 0, 100);
    else if (k == "time_scale") s.time_scale = parse_double(k, v, 0.001, 1e6);
    else if (k == "time") {
      if (v != "auto" && v != "real" && v != "virtual") throw_invalid("options.time", "must be auto, real or virtual");
      s.time = v;
    } else if (k == "outcome_weights") {
      // "interested:30,not_interested:30,…"
      std::istringstream in(v);
      for (std::string item; std::getline(in, item, ',');) {
        const auto colon = item.find(':');
        if (colon == std::string::npos) throw_invalid("options.outcome_weights", fmt::format("\"{}\" is not outcome:weight", item));
        const auto name = item.substr(0, colon);
        (void)parse_call_outcome(name, "options.outcome_weights");
        s.outcome_weights[name] = parse_double("outcome_weights." + name, item.substr(colon + 1), 0, 1e6);
      }
    } else {
      throw_invalid("options." + k,
                    "is not an option of a simulated provider (seed, answer_rate, voicemail_rate, busy_rate, "
                    "failed_rate, outcome_weights, ring_min_s, ring_max_s, no_answer_after_s, talk_median_s, "
                    "talk_sigma, talk_max_s, voicemail_s, cost_per_minute_usd, time, time_scale)");
    }
  }
  return s;
}

std::unique_ptr<VoiceProvider> make_simulated_voice_provider(const SimulatedSettings& s, asio::any_io_executor executor,
                                                             std::shared_ptr<Clock> clock, std::shared_ptr<Logger> logger) {
  if (!executor) throw_invalid("executor", "must be given");
  const auto rate = [](const char* name, double v) {
    if (!(v >= 0 && v <= 1)) throw_invalid(std::string("options.") + name, "must be between 0 and 1");
  };
  rate("answer_rate", s.answer_rate);
  rate("voicemail_rate", s.voicemail_rate);
  rate("busy_rate", s.busy_rate);
  rate("failed_rate", s.failed_rate);
  if (s.answer_rate + s.voicemail_rate + s.busy_rate + s.failed_rate > 1.0 + 1e-9)
    throw_invalid("options.answer_rate", "answer_rate + voicemail_rate + busy_rate + failed_rate is above 1");
  if (s.ring_min_s < 0 || s.ring_max_s < s.ring_min_s) throw_invalid("options.ring_max_s", "must be at least ring_min_s");
  if (!(s.time_scale > 0)) throw_invalid("options.time_scale", "must be positive");
  if (s.time != "auto" && s.time != "real" && s.time != "virtual") throw_invalid("options.time", "must be auto, real or virtual");
  double total = 0;
  for (const auto& [k, w] : s.outcome_weights) {
    (void)parse_call_outcome(k, "options.outcome_weights");
    if (!(w >= 0)) throw_invalid("options.outcome_weights", "weights must not be negative");
    total += w;
  }
  if (!s.outcome_weights.empty() && !(total > 0)) throw_invalid("options.outcome_weights", "the weights sum to 0");
  return std::make_unique<SimulatedProvider>(s, std::move(executor), std::move(clock), std::move(logger));
}

}  // namespace gymdash
