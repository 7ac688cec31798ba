/**
 * @file dialer.hpp
 * @brief The dialer: places the calls of active campaigns through their voice
 *        providers, on an Asio executor, within every rule and limit.
 *
 * Each active campaign keeps a queue of candidates: what
 * LeadService::get_prioritized_leads answered under its rules (DialScope),
 * filled again off the tick (a job on the executor when started; refill(),
 * or the tick itself, when ticked by hand). Each tick, for each gym with
 * active campaigns, it divides the gym's free lines and remaining budget
 * among the campaigns, weighted max-min fair, takes leads from the front of
 * their queues, checks each again (LeadService::explain under the
 * campaign's scope) and claims it with CallService::begin_outbound_call in
 * one transaction (the durable claim: an attempt, and a due callback,
 * counted once), and asks the campaign's VoiceProvider to place the call.
 * Provider events go back through CallService::process_event.
 * docs/campaigns.md, "The dialer".
 *
 * This header pulls in Boost.Asio's executor type; include it only where the
 * dialer is used.
 */
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/config.hpp>
#include <gymdash/log.hpp>
#include <gymdash/metrics.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/call.hpp>
#include <gymdash/services/campaign.hpp>
#include <gymdash/services/lead.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash {

class VoiceProvider;

/** How a dialer runs. A plain value. */
struct DialerOptions {
  std::chrono::milliseconds tick{1000};  ///< time between decisions when started; 1 s (10 ms – 60 s)
  /**
   * When the dialer starts, campaign calls that started longer ago than this
   * and never ended (their process stopped) are abandoned, releasing their
   * leads; 2 hours.
   */
  std::chrono::minutes stale_call_after{120};
  /**
   * How long a campaign that had no eligible lead is left alone before it is
   * asked again (unless a line it had ends first); 60 s. A due callback is
   * therefore placed at most this long after its time, window permitting.
   */
  std::chrono::milliseconds idle_recheck{60'000};
  /**
   * Candidate queues: each active campaign keeps the leads it would call
   * next, in get_prioritized_leads order, so that a tick only takes from
   * its front (each lead is checked again when it is claimed). A fill asks
   * for what the campaign could start over this many ticks: per tick, the
   * smaller of its `max_concurrent` and its rate over one tick (at least 1),
   * and always at least one more than one tick may take; 4 (1–100). A queue
   * below half of that is filled again.
   */
  int queue_ticks = 4;
  /** The most leads a queue asks for at once; 100 (1–1000). */
  int queue_max_leads = 100;
  /**
   * A queue filled longer ago than this is filled again (new leads, newly
   * open calling windows, retries whose gap has passed); 30 s (1 s – 10 min).
   * Callbacks that come due in between are added to the queues at the next
   * tick, whatever its age.
   */
  std::chrono::milliseconds queue_max_age{30'000};
};

/** Something the dialer did, for a host's progress display or log. A plain value. */
struct DialerEvent {
  enum class Kind : std::uint8_t {
    Placed,      ///< the provider accepted a call
    Refused,     ///< the provider refused a call (it was abandoned); `message` says why
    Ended,       ///< a call the dialer placed ended (its line is free)
    Completed,   ///< a campaign's schedule ended: the dialer moved it to completed
    Error,       ///< a tick step failed (logged); the dialer goes on
  };
  Kind kind = Kind::Placed;
  Timestamp at{};
  std::string gym_id;
  std::string campaign_id;
  std::string lead_id;
  std::string call_id;
  std::string message;
};

const char* to_string(DialerEvent::Kind k) noexcept;
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const DialerEvent& v);

/** What one tick decided. A plain value. */
struct TickReport {
  Timestamp at{};
  int campaigns = 0;          ///< active campaigns considered
  int asked = 0;              ///< get_prioritized_leads questions asked
  int placed = 0;             ///< calls begun (claims taken) this tick
  int dropped = 0;            ///< queued candidates dropped: no longer callable when their turn came
  int refilled = 0;           ///< candidate queues filled during the tick (a tick by hand fills what is due)
  int lines_in_use = 0;       ///< calls in flight after the tick, all gyms
  double seconds = 0;         ///< wall time of the tick
  double place_seconds = 0;   ///< of which checking and beginning calls (claims written) and handing them to providers
  double refill_seconds = 0;  ///< of which filling candidate queues (the questions counted in `asked`)
};

/** What one refill of the candidate queues did (Dialer::refill). A plain value. */
struct RefillReport {
  Timestamp at{};
  int refilled = 0;           ///< queues filled (one get_prioritized_leads question each)
  std::int64_t leads = 0;     ///< candidates they hold now
  double seconds = 0;         ///< wall time
};

/** One campaign as the dialer sees it now. A plain value. */
struct DialerCampaignStatus {
  std::string gym_id;
  std::string campaign_id;
  int lines_in_use = 0;
  std::int64_t calls_today = 0;   ///< placed today (gym-local date)
  double reserved_usd = 0;        ///< held for calls whose cost is not known yet
  int queued = 0;                 ///< candidates in its queue after the tick
  /**
   * What held it back at the last tick, or empty when it called every
   * eligible lead it found: `no_eligible_leads`, `outside_schedule`,
   * `daily_cap`, `budget`, `rate`, `lines` (its own or the gym's),
   * `no_caller_id`, `no_provider`, `filling` (its queue of candidates is
   * being filled: a started dialer fills queues between ticks).
   */
  std::string waiting;
};

/** The dialer's state. A plain value. */
struct DialerStatus {
  bool running = false;
  std::int64_t ticks = 0;
  std::int64_t placed = 0;        ///< calls begun since the dialer was made
  std::int64_t refused = 0;       ///< of which the provider refused
  int lines_in_use = 0;
  std::vector<DialerCampaignStatus> campaigns;  ///< active campaigns at the last tick, by gym then id
};

/**
 * The rules the dialer asks and checks a campaign's leads under: its id,
 * `pacing.max_attempts` and `retry_gap_minutes`, `schedule.hours` and
 * `target.qualifications`. For a host asking "whom would this campaign call
 * next, and why not this lead" (LeadService::get_prioritized_leads and
 * explain with a DialScope) exactly as the dialer would.
 */
DialScope dial_scope_of(const Campaign& campaign);

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const TickReport& v);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const RefillReport& v);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const DialerStatus& v);

/** What the dialer works with; every member must outlive the dialer. */
struct DialerContext {
  Store* store = nullptr;
  LeadService* leads = nullptr;
  CallService* calls = nullptr;
  CampaignService* campaigns = nullptr;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<const Config> config;   ///< gym policies (lines, daily budget); null: defaults
  std::shared_ptr<Logger> logger;         ///< may be null
  std::shared_ptr<Metrics> metrics;       ///< gauge `dialer_lines_in_use`; may be null
  /** The provider a campaign names (Campaign::voice_provider), or nullptr if there is none such. */
  std::function<VoiceProvider*(std::string_view name)> provider;
  boost::asio::any_io_executor executor;  ///< where ticks and provider completions run
};

/**
 * Ownership: created by make_dialer (or Runtime::dialer); the host owns it.
 * It installs itself as the event sink of the providers it uses and hands
 * their events to CallService. Destroying it stops it.
 * Thread safety: every member function is safe to call from any thread; the
 * dialer's ticks are serialized on a strand of the executor, and the jobs
 * that fill its queues run on the executor too, asking their questions
 * outside the dialer's lock.
 */
class Dialer {
 public:
  Dialer() = default;
  Dialer(const Dialer&) = delete;
  Dialer& operator=(const Dialer&) = delete;
  virtual ~Dialer() = default;

  /**
   * Starts ticking every `options.tick` on the executor, after abandoning
   * stale calls (DialerOptions::stale_call_after). A no-op when running.
   */
  virtual void start() = 0;
  /**
   * Stops: no call is begun after it returns. Calls in flight go on and are
   * still tracked until they end or the dialer is destroyed. Safe to call
   * twice.
   */
  virtual void stop() = 0;
  /**
   * One round of decisions now, on the calling thread (tests, simulations,
   * benchmarks). When the dialer is not started, it first fills the queues
   * of the campaigns that want leads and whose queues are due (empty, below
   * their low-water mark, older than `queue_max_age`, or their campaign
   * changed); started, it leaves that to the job between ticks.
   */
  virtual TickReport tick() = 0;
  /**
   * Fills now, on the calling thread, every active campaign's candidate
   * queue that is due (what a started dialer does on the executor between
   * ticks), except those of campaigns the last tick found outside their
   * schedule or at their daily cap. A host ticking by hand calls it between
   * ticks to keep the questions off its ticks.
   */
  virtual RefillReport refill() = 0;
  /** The dialer's state after the last tick. */
  virtual DialerStatus status() = 0;
  /** Receives every DialerEvent (on the executor or the ticking thread); empty: none. Must not throw. */
  virtual void set_observer(std::function<void(const DialerEvent&)> observer) = 0;
};

/** Makes a dialer; InvalidArgumentError naming the option for an option out of range. */
std::unique_ptr<Dialer> make_dialer(DialerContext context, const DialerOptions& options = {});

// ---- forecast ---------------------------------------------------------------

/** How far a forecast has come (ForecastOptions::progress). */
struct ForecastProgress {
  int day = 0;                     ///< simulated days done (1 … days)
  int days = 0;                    ///< days asked for
  std::int64_t calls = 0;          ///< calls placed so far
  std::int64_t done_leads = 0;     ///< target leads done so far
  std::int64_t target_leads = 0;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const ForecastProgress& v);

/** How to run a forecast. A plain value. */
struct ForecastOptions {
  int days = 14;  ///< days simulated (1–90); 14
  /**
   * The simulated provider's settings (the keys of SimulatedSettings,
   * docs/voice.md): how calls go. Empty: the options of the campaign's
   * provider when it is a simulated one, else the simulated defaults.
   */
  std::map<std::string, std::string> provider_options;
  int step_seconds = 30;  ///< simulated time between dialer ticks (1–600); 30
  /**
   * Called on the forecasting thread after each simulated day (and once more
   * if the run ends early because every target lead is done); may be empty.
   * It may throw to cancel the forecast: the exception propagates.
   */
  std::function<void(const ForecastProgress&)> progress;
};

/** One gym-local day of a forecast. */
struct ForecastDay {
  std::string date;  ///< gym-local `YYYY-MM-DD`
  std::int64_t calls = 0;
  std::int64_t connected = 0;
  double cost_usd = 0;
};

/**
 * What a campaign plan would do (forecast_campaign). Leads count as
 * `reached` once a call of the campaign connected with them, and `done` once
 * reached or beyond reach (attempts used up, do-not-call, closed).
 */
struct Forecast {
  std::string gym_id;
  std::string campaign_id;
  Timestamp from{};
  Timestamp to{};                   ///< from + days, or when every target lead was done
  std::int64_t target_leads = 0;    ///< leads enrolled
  std::int64_t calls = 0;
  std::int64_t connected = 0;
  std::int64_t voicemail = 0;
  std::int64_t trials_booked = 0;
  std::int64_t memberships_sold = 0;
  std::int64_t callbacks_requested = 0;
  double cost_usd = 0;
  std::int64_t attempted_leads = 0;  ///< target leads called at least once
  std::int64_t reached_leads = 0;
  std::int64_t done_leads = 0;
  /** Hours from `from` until every target lead was done; empty if that did not happen within `days`. */
  std::optional<double> hours_until_all_done;
  std::vector<ForecastDay> by_day;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const Forecast& v);

/**
 * Runs a campaign's plan (its target enrolment, schedule, pacing, budget)
 * from `start` against the simulated provider on a manual clock, over a copy
 * of the gym's leads, their calls' results, the do-not-call lists and the
 * campaign's enrolment in an in-memory store: nothing is written to `source`.
 * The campaign runs alone (the gym's other campaigns are not copied), in any
 * state but cancelled. NotFoundError naming gym_id or campaign_id;
 * InvalidArgumentError naming the option.
 */
Forecast forecast_campaign(Store& source, const Config& config, std::string_view gym_id,
                           std::string_view campaign_id, Timestamp start, const ForecastOptions& options = {});

}  // namespace gymdash
