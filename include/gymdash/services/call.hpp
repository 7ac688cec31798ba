/**
 * @file services/call.hpp
 * @brief CallService: call events from a voice system, merged into call
 *        records, each applied to its lead exactly once.
 *
 * The value types of a call record (Call, CallFilter, CallPage) live in
 * model.hpp because the store keeps them; this header holds what only the
 * service knows: the event form of the data contract, ingest reports and the
 * service itself. Rules: docs/calls.md.
 */
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/lead.hpp>
#include <gymdash/store.hpp>

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash {

/**
 * One event about a call, as a voice system reports it (a line of the data
 * contract's calls.jsonl). Several events may describe one call (`call_id`):
 * they are merged. JSON reading is strict: an unknown field, a wrong type or
 * a bad enum value throws InvalidArgumentError naming the field.
 */
struct CallEvent {
  std::string event_id;          ///< required; an event is applied once per id
  std::string call_id;           ///< required; the provider's call id
  std::string gym_id;            ///< required
  std::string lead_external_id;  ///< the lead's id in the source system; or lead_id
  std::string lead_id;           ///< our lead id; or lead_external_id
  std::string to;                ///< number dialed (outbound) or the gym's (inbound)
  std::string from;              ///< number calling, optional
  std::optional<CallDirection> direction;  ///< default outbound
  std::optional<Timestamp> started_at;    ///< required
  std::optional<Timestamp> ended_at;
  std::optional<CallStatus> status;     ///< `no-answer` is read as no_answer
  std::optional<AnsweredBy> answered_by;
  std::optional<std::int64_t> duration_s;
  std::optional<CallOutcome> outcome;   ///< null unless a person answered
  std::optional<Timestamp> callback_at; ///< with callback_requested (default: ended_at + 24 h)
  std::string sentiment;                ///< `positive`, `neutral`, `negative`, or empty
  std::optional<double> cost_usd;
  std::string recording_url;
  std::optional<std::int64_t> recording_duration_s;
  std::optional<int> recording_channels;   ///< 1 or 2
  std::optional<bool> recording_consent;
  std::string summary;
  std::string transcript;   ///< at most Limits::max_transcript_bytes (1 MiB by default)
  std::string campaign_id;  ///< the campaign that placed the call, if any
  std::string provider;     ///< `retell`, `vapi`, `twilio`, `simulated` …; empty for the data contract's files
  std::string end_reason;   ///< the provider's end reason, verbatim
  friend bool operator==(const CallEvent&, const CallEvent&) = default;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const CallEvent& v);
CallEvent tag_invoke(const boost::json::value_to_tag<CallEvent>&, const boost::json::value& jv);

/** What process_event did. */
struct ProcessResult {
  enum class Kind : std::uint8_t { Applied, Duplicate };
  Kind kind = Kind::Applied;
  Call call;  ///< the merged call after the event (for a duplicate: as stored)
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const ProcessResult& v);

/** A line an ingest refused. */
struct RejectedLine {
  std::int64_t line = 0;  ///< 1-based physical line
  std::string reason;     ///< bad_json, bad_field, unknown_gym, unknown_lead, bad_times, negative_duration,
                          ///< too_long (a transcript, or the line itself over 4 MiB), outcome_without_person
  std::string detail;     ///< which field and why
};

/** How far an ingest has come. */
struct IngestProgress {
  std::int64_t events = 0;  ///< non-blank lines read so far
  std::int64_t duplicates = 0;
  std::int64_t applied = 0;
  std::int64_t rejected = 0;
};

/** How to run an ingest. */
struct IngestOptions {
  /**
   * Events per committed transaction (1–1,000,000); 50000. Larger
   * transactions write each page they touch once per transaction: on SQLite
   * 50,000 wrote a third of what 10,000 did (docs/calls.md).
   */
  int batch_size = 50000;
  /** Called after each committed batch, on the ingesting thread; may be empty. */
  std::function<void(const IngestProgress&)> progress;
  std::size_t max_rejected_lines = 100000;  ///< rejected lines listed in the report (all are counted)
};

/** What an ingest did. events = duplicates + applied + rejected. */
struct IngestReport {
  std::int64_t events = 0;      ///< non-blank lines read
  std::int64_t duplicates = 0;  ///< events whose event_id was seen before (this file or earlier)
  std::int64_t applied = 0;
  std::int64_t rejected = 0;
  std::map<std::string, std::int64_t> rejected_by_reason;
  std::vector<RejectedLine> rejected_lines;  ///< in file order, at most max_rejected_lines
  bool rejected_lines_truncated = false;
  double seconds = 0;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const IngestReport& v);

/** One gym's part of a purge (PurgeReport). */
struct PurgedGym {
  std::string gym_id;
  std::int64_t calls = 0;          ///< calls whose recording_url, transcript and summary were emptied
  int retention_days = 0;          ///< retention: the gym's recording_retention_days; 0 for a purge on request
  std::optional<Timestamp> cutoff; ///< retention: calls that started before this were purged; empty on request
};

/**
 * What a purge of recordings did (docs/calls.md, "Recordings and retention").
 * A purge empties a call's recording_url, transcript and summary and sets its
 * purged_at; everything else on the call stays.
 */
struct PurgeReport {
  Timestamp at{};                ///< the `now` of the purge: every purged call's purged_at
  std::int64_t calls = 0;        ///< calls purged, over all gyms
  std::vector<PurgedGym> gyms;   ///< every gym visited, ordered by id, zero counts included
  std::string lead_id;           ///< a purge on request: the lead; empty for retention
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const PurgeReport& v);

/** An outbound call about to be dialed (CallService::begin_outbound_call). */
struct OutboundCall {
  std::string gym_id;       ///< required
  std::string lead_id;      ///< required; the number dialed is the lead's
  std::string campaign_id;  ///< the campaign placing it, or empty
  std::string provider;     ///< the voice provider's kind (`simulated`, `retell` …)
  std::string from;         ///< caller id, E.164, or empty
};

/**
 * Call records of the gyms of one store, fed by call events.
 *
 * Errors: InvalidArgumentError naming the field (the reasons of docs/calls.md),
 * NotFoundError (unknown gym, lead or call), StorageError. Nothing is written
 * when an error is thrown.
 *
 * Ownership: created by make_call_service; holds references to the Store and
 * LeadService it was given, which must outlive it.
 * Thread safety: safe for concurrent access from multiple threads without
 * external synchronization.
 */
class CallService {
 public:
  CallService() = default;
  CallService(const CallService&) = delete;
  CallService& operator=(const CallService&) = delete;
  virtual ~CallService() = default;

  /**
   * Applies one event in one transaction: records its event_id, merges it
   * into its call, and folds the call into the lead. An event_id seen before
   * changes nothing and returns Duplicate.
   */
  virtual ProcessResult process_event(const CallEvent& event) = 0;

  /**
   * Applies every line of a calls.jsonl stream (one JSON event a line; blank
   * lines skipped), committing every `batch_size` events. A bad line is
   * counted and listed with its line number and reason, and the ingest goes
   * on. Running the same file again applies nothing (all duplicates).
   */
  virtual IngestReport ingest_jsonl(std::istream& in, const IngestOptions& options = {}) = 0;

  /** The call, by our id or the provider's call id; NotFoundError if the gym has none. */
  virtual Call get_call(std::string_view gym_id, std::string_view call_id) = 0;

  /** One page of the gym's calls, newest first. */
  virtual CallPage list_calls(std::string_view gym_id, const CallFilter& filter) = 0;

  /** A lead's calls, oldest first (started_at). NotFoundError for an unknown lead. */
  virtual std::vector<Call> lead_calls(std::string_view gym_id, std::string_view lead_id) = 0;

  // ---- outbound calls placed by gymdash (docs/calls.md, "Placing a call") ---

  /**
   * Claims the lead and starts its call record before the provider is asked,
   * in one transaction: the lead's `active_call_id` is set (ConflictError
   * naming `lead_id` if it is on a call already), a call with status
   * `queued`, started now, is stored (its provider_call_id is its own id
   * until the provider's is known) and folded into the lead as an attempt.
   * So an attempt is counted, and a due callback served, exactly once even if
   * the process dies right after. The call's first event from the provider
   * (with the same campaign_id) merges into this record; its terminal status
   * releases the claim. NotFoundError naming gym_id or lead_id.
   */
  virtual Call begin_outbound_call(const OutboundCall& call) = 0;
  /**
   * Records the provider's id of a call begun by begin_outbound_call (a no-op
   * if the call has it already). ConflictError naming `provider_call_id` if
   * the call has another one, or another call of the gym has this one.
   */
  virtual Call attach_provider_call_id(std::string_view gym_id, std::string_view call_id,
                                       std::string_view provider_call_id) = 0;
  /**
   * Ends a call that will never report back (the provider refused it, or the
   * process placing it stopped): status `failed`, ended now, `end_reason`
   * (at most 200 characters) recorded, the lead released. A call that has
   * ended already is returned unchanged.
   */
  virtual Call abandon_call(std::string_view gym_id, std::string_view call_id, std::string_view end_reason) = 0;
  /**
   * abandon_call for every campaign call (campaign_id set) that started
   * before `started_before` and has not ended: what a dialer left open when
   * its process stopped. Returns how many.
   */
  virtual std::int64_t abandon_stale_calls(Timestamp started_before, std::string_view end_reason) = 0;

  // ---- recordings and retention (docs/calls.md) -----------------------------

  /**
   * Retention, for every gym: purges the calls that started more than the
   * gym's recording_retention_days (Config policy) before `now` (default:
   * the clock's now). One set-based storage statement per gym, each its own
   * transaction; a maintenance job runs it daily. Running it again purges
   * nothing more. Counts per gym in the report.
   */
  virtual PurgeReport purge_expired_recordings(std::optional<Timestamp> now = std::nullopt) = 0;

  /**
   * A purge on request: every call of the lead, whatever its age, loses its
   * recording_url, transcript and summary; purged_at is set. The lead's
   * history gets one `recordings_purged` entry (to: how many calls, actor,
   * reason; no call content), even when there was nothing left to purge.
   * `actor` defaults to `api`; `actor` and `reason` are at most 200
   * characters. NotFoundError naming gym_id or lead_id.
   */
  virtual PurgeReport purge_lead_recordings(std::string_view gym_id, std::string_view lead_id,
                                            std::string_view actor = {}, std::string_view reason = {}) = 0;
};

/**
 * Makes the call service over `store` (calls and events) and `leads` (which
 * applies each call to its lead). All must outlive it.
 */
std::unique_ptr<CallService> make_call_service(Store& store, std::shared_ptr<Clock> clock, LeadService& leads);

/**
 * As above, with each gym's policy from `config` (recording retention; null
 * means the defaults) and `logger` for the records of what the service
 * decides on its own (a recording dropped for want of consent; null: not
 * logged).
 */
std::unique_ptr<CallService> make_call_service(Store& store, std::shared_ptr<Clock> clock, LeadService& leads,
                                               std::shared_ptr<const Config> config,
                                               std::shared_ptr<Logger> logger = nullptr);

}  // namespace gymdash
