/**
 * @file services/lead.hpp
 * @brief LeadService: lead data, status, tags, notes and history, scoped to a gym.
 */
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/config.hpp>
#include <gymdash/model.hpp>
#include <gymdash/store.hpp>

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gymdash {

/** What create_lead did. */
struct CreateLeadResult {
  Lead lead;            ///< the stored lead (the existing one when merged)
  bool merged = false;  ///< true if the gym already had a lead with that number
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const CreateLeadResult& v);

/** Whether a lead may be dialed at a moment, and every rule that says no. */
struct DialDecision {
  std::string lead_id;
  Timestamp at{};
  bool dialable = false;
  /**
   * Reason codes of the rules that block the call (empty when dialable), in
   * this order: no_consent, do_not_call, dnc_list, phone_invalid,
   * status_closed, on_call, max_attempts, callback_pending, retry_gap,
   * state_call_cap, outside_federal_hours, state_closed_day,
   * outside_state_hours, gym_closed_day, outside_gym_hours.
   */
  std::vector<std::string> reasons;
  std::string local_zone;   ///< the zone the windows were read in
  std::string local_state;  ///< the state whose rules apply, or empty
  std::string local_time;   ///< `at` in that zone, ISO 8601 with offset
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const DialDecision& v);

/** How far an import has come. */
struct ImportProgress {
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_total = 0;  ///< 0 when the size is not known (a pipe)
  std::int64_t rows = 0;          ///< data rows read so far
  std::int64_t imported = 0;
  std::int64_t merged_duplicates = 0;
  std::int64_t rejected = 0;
};

/** A row an import refused. */
struct RejectedRow {
  std::int64_t line = 0;  ///< physical line where the row starts (the header is line 1)
  std::string reason;     ///< bad_encoding, bad_format, too_long, unknown_gym, bad_phone, bad_created_at
  std::string detail;     ///< which field and why (never the full phone number)
};

/** How to run an import. */
struct ImportOptions {
  int batch_size = 50000;  ///< rows per committed transaction (1–1,000,000); 50000
  /** Called after each committed batch, on the importing thread; may be empty. */
  std::function<void(const ImportProgress&)> progress;
  std::uint64_t bytes_total = 0;  ///< the input's size, for progress (0 = unknown)
  std::string source = "import";  ///< recorded as consent source and in logs (a file name)
  std::size_t max_rejected_rows = 100000;  ///< rejected rows listed in the report (all are counted)
};

/** What an import did. Keys follow the data contract's manifest. */
struct ImportReport {
  std::int64_t rows = 0;               ///< data rows read
  std::int64_t imported = 0;           ///< new leads
  std::int64_t merged_duplicates = 0;  ///< rows merged into a lead already known (this file or before)
  std::int64_t rejected = 0;
  std::map<std::string, std::int64_t> rejected_by_reason;
  std::vector<RejectedRow> rejected_rows;  ///< in file order, at most max_rejected_rows
  bool rejected_rows_truncated = false;
  double seconds = 0;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const ImportReport& v);

/** What import_dnc did. */
struct DncImportReport {
  std::int64_t lines = 0;           ///< numbers read: added + already_listed + rejected
  std::int64_t added = 0;
  std::int64_t already_listed = 0;  ///< on the list before, or earlier in the file
  std::int64_t rejected = 0;
  std::vector<std::pair<std::int64_t, std::string>> rejected_lines;  ///< line and error (number masked); at most 1000
  bool rejected_lines_truncated = false;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const DncImportReport& v);

/** What check_dnc found for a number. */
struct DncCheck {
  std::string phone;           ///< E.164
  bool gym_listed = false;     ///< on the gym's list
  bool global_listed = false;  ///< on the global list
  bool lead_do_not_call = false;  ///< the gym's lead with that number asked not to be called
  bool blocked() const { return gym_listed || global_listed || lead_do_not_call; }
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const DncCheck& v);

/**
 * The rules of one campaign for get_prioritized_leads: which leads (its
 * enrolment), how often (attempts and gap) and when (lead-local hours, inside
 * the legal and the gym's windows, which always apply too).
 */
struct DialScope {
  std::string campaign_id;        ///< only leads enrolled in this campaign; required
  int max_attempts = 4;           ///< attempts per lead in the campaign (the gym's own cap applies too)
  int retry_gap_minutes = 240;    ///< least time since the lead's last call (by anyone) and last campaign attempt
  LocalWindow hours{9 * 60, 19 * 60};  ///< lead-local hours [start, end)
  std::vector<Qualification> qualifications;  ///< any of these; empty: any
};

/**
 * One lead's new call results (LeadService::update_leads_after_calls).
 * `lead`, when given, is the lead as the caller read it inside the open
 * transaction the update joins (a call ingest reads each lead once to
 * resolve it): it is used instead of reading the lead again. It must be
 * that lead of that gym as stored now; if it is stale the write fails with
 * ConflictError (the version check) and the transaction rolls back.
 */
struct LeadCallResults {
  std::string lead_id;
  std::vector<CallResult> results;
  std::optional<Lead> lead;  ///< optional: the lead as read in the caller's transaction
  /**
   * Optional, with `lead` only: the lead's stored call results as
   * LeadRepository::call_results returns them, read in the same transaction
   * (the ingest reads them for many leads at once); used instead of reading
   * them again.
   */
  std::optional<std::vector<CallResult>> stored_results;
};

/**
 * Lead management for the gyms of one store. Every method takes the gym's id
 * first and only ever sees that gym's leads: another gym's lead id is
 * NotFoundError.
 *
 * Errors: NotFoundError (unknown gym or lead), InvalidArgumentError naming the
 * field (bad phone, over-long text, bad enum …), ConflictError (an illegal
 * status move, or a concurrent change that could not be merged),
 * StorageError. Nothing is written when an error is thrown.
 *
 * Ownership: created by make_lead_service; holds references to the Store and
 * Clock it was given, which must outlive it.
 * Thread safety: safe for concurrent access from multiple threads without
 * external synchronization.
 */
class LeadService {
 public:
  LeadService() = default;
  LeadService(const LeadService&) = delete;
  LeadService& operator=(const LeadService&) = delete;
  virtual ~LeadService() = default;

  /**
   * Creates a lead. The phone is read in the gym's region and stored E.164.
   * If the gym already has a lead with that number the input is merged into
   * it instead (empty fields filled, tags added, earliest created_at kept,
   * consent withdrawn if the input withdraws it, do-not-call if either says
   * so) and `merged` is true.
   */
  virtual CreateLeadResult create_lead(std::string_view gym_id, const LeadInput& input) = 0;

  /** The lead; throws NotFoundError naming the id. */
  virtual Lead get_lead(std::string_view gym_id, std::string_view lead_id) = 0;

  /** Changes the fields present in `patch`; records the change in the history. */
  virtual Lead update_lead(std::string_view gym_id, std::string_view lead_id, const LeadPatch& patch) = 0;

  /**
   * Deletes a lead and its history (call results and enrolments go with it;
   * its call records stay, as the record of what happened). Throws
   * NotFoundError if it does not exist. To remove everything about a person,
   * use erase_lead().
   */
  virtual void delete_lead(std::string_view gym_id, std::string_view lead_id) = 0;

  /**
   * Erases a lead completely (a data subject's request; docs/hardening.md,
   * "Erasing a lead"), in one transaction: the lead, its tags and history,
   * its call results, its campaign enrolments, and every call record of the
   * lead with its transcript, summary and recording metadata; the analytics
   * rollups lose the lead's and its calls' counts in the same transaction.
   * Leaves one audit entry (LeadErasure) with ids, time, actor, reason and
   * counts, and returns it. A do-not-call list entry of the number stays (it
   * is the person's own request not to be called). `actor` defaults to
   * `api`; `actor` and `reason` are at most 200 characters and must not hold
   * a phone number, an email address or the lead's name (InvalidArgumentError
   * naming the field). NotFoundError naming gym_id or lead_id; ConflictError
   * naming lead_id while a call to the lead is in progress. On any error
   * nothing changes.
   */
  virtual LeadErasure erase_lead(std::string_view gym_id, std::string_view lead_id, std::string_view actor = {},
                                 std::string_view reason = {}) = 0;

  /**
   * The gym's erasure audit entries, newest first: `limit` (1–1000) from
   * `offset` (0 or more). NotFoundError naming gym_id for an unknown gym.
   */
  virtual std::vector<LeadErasure> list_erasures(std::string_view gym_id, int limit = 100, int offset = 0) = 0;

  /** One page of the gym's leads matching `filter`, newest first. */
  virtual LeadPage list_leads(std::string_view gym_id, const LeadFilter& filter) = 0;

  /** Adds tags (trimmed, lower-cased, deduplicated); returns the lead. */
  virtual Lead add_tags(std::string_view gym_id, std::string_view lead_id,
                        const std::vector<std::string>& tags, std::string_view actor = {}) = 0;

  /** Removes tags; tags the lead does not have are ignored. Returns the lead. */
  virtual Lead remove_tags(std::string_view gym_id, std::string_view lead_id,
                           const std::vector<std::string>& tags, std::string_view actor = {}) = 0;

  /** Appends a timestamped note (1–10,000 characters) to the lead's history. */
  virtual LeadEvent add_note(std::string_view gym_id, std::string_view lead_id, std::string_view text,
                             std::string_view actor = {}) = 0;

  /**
   * Moves the lead's status. Forward moves may skip steps; any status may
   * move to `lost` except `converted`; a `lost` lead may move anywhere. A move
   * back, or out of `converted`, needs `force` and a `reason`; otherwise it is
   * ConflictError. Moving to the current status changes nothing.
   */
  virtual Lead change_status(std::string_view gym_id, std::string_view lead_id, const StatusChange& change) = 0;

  /** The lead's history, oldest first. */
  virtual std::vector<LeadEvent> get_history(std::string_view gym_id, std::string_view lead_id) = 0;

  // ---- bulk import ---------------------------------------------------------

  /**
   * Imports leads from CSV in the data contract's format (docs/import.md):
   * RFC 4180, a header naming the columns (`gym_id` and `phone` required),
   * each row validated and either inserted, merged into the gym's lead with
   * the same number, or rejected with its line and reason. Reads in constant
   * memory and commits every `batch_size` rows, so a crash loses no committed
   * batch and running the same file again completes it (rows already in are
   * merged, changing nothing). A header without the required columns is
   * InvalidArgumentError naming them, and nothing is imported.
   */
  virtual ImportReport import_leads(std::istream& csv, const ImportOptions& options = {}) = 0;

  // ---- who to call -------------------------------------------------------

  /**
   * Up to `count` (1–1000) leads of the gym that may be dialed at `at`
   * (default now), best first: due callbacks, then never-called leads
   * (newest first: speed to lead), then by qualification (hot first), fewer
   * attempts, longest since the last call. Every hard rule of explain()
   * holds for each lead returned. `qualification` keeps only that
   * qualification; `exclude_leads` (ids, at most 1000) are skipped —
   * ids that are not the gym's are ignored. Attempts and the retry gap
   * follow the gym's policy (config).
   */
  virtual std::vector<Lead> get_prioritized_leads(std::string_view gym_id, int count,
                                                  std::optional<Qualification> qualification = std::nullopt,
                                                  const std::vector<std::string>& exclude_leads = {},
                                                  std::optional<Timestamp> at = std::nullopt) = 0;

  /**
   * get_prioritized_leads under a campaign's rules (DialScope): the same
   * tiers and hard rules, only the campaign's enrolled leads, its attempt
   * cap and retry gap, and only leads whose local time is inside its hours.
   * A due callback is served whatever the gap. The dialer's question.
   */
  virtual std::vector<Lead> get_prioritized_leads(std::string_view gym_id, int count, const DialScope& scope,
                                                  const std::vector<std::string>& exclude_leads = {},
                                                  std::optional<Timestamp> at = std::nullopt) = 0;

  /**
   * The gym's jobs that are due at `at` (default now): leads whose requested
   * callback time has come and leads whose retry gap has passed, counted
   * over the dialable set under the gym's attempt policy and retry gap,
   * whatever the calling windows say (a due job outside its window waits
   * for it). Reads only the call-order indexes. The gauges `jobs_due*`.
   */
  virtual DueCounts due_jobs(std::string_view gym_id, std::optional<Timestamp> at = std::nullopt) = 0;

  /** Whether the lead may be dialed at `at` (default now) and the reason code of every rule that blocks it. */
  virtual DialDecision explain(std::string_view gym_id, std::string_view lead_id,
                               std::optional<Timestamp> at = std::nullopt) = 0;

  /**
   * explain() under a campaign's rules (DialScope): whether the dialer may
   * call the lead for that campaign at `at`. The retry gap is the scope's;
   * after the hard rules come, in this order: not_enrolled,
   * campaign_attempts (the enrolment's attempts reached the scope's
   * max_attempts), campaign_retry_gap (the campaign's last attempt is less
   * than the gap ago; a due callback ignores it), qualification (not one of
   * the scope's), outside_campaign_hours (lead-local time outside its
   * hours). A lead get_prioritized_leads(scope) returns is dialable here.
   * Reads the gym (cached), the lead and its enrolment: the dialer's check
   * of one lead at claim time, inside the claim's transaction when called
   * in one. InvalidArgumentError naming the scope's field, NotFoundError.
   */
  virtual DialDecision explain(std::string_view gym_id, std::string_view lead_id, const DialScope& scope,
                               std::optional<Timestamp> at = std::nullopt) = 0;

  /**
   * Applies a call's result to the lead (docs/domain.md, "After a call"). The
   * lead's state is the fold of all its call results in started_at order, so
   * results arriving late or twice leave it as if they had arrived in order.
   * Records status, qualification and do-not-call changes in the history.
   */
  virtual Lead update_lead_after_call(std::string_view gym_id, std::string_view lead_id,
                                      const CallResult& result) = 0;

  /**
   * update_lead_after_call for the results of many calls of a gym's leads at
   * once, in one transaction: each lead is read, folded and written once
   * however many of its results are given (a call ingest's path). Every
   * result is checked first: one bad result or unknown lead throws, naming
   * it, and nothing is written. Returns the leads after the calls, in the
   * order given.
   */
  virtual std::vector<Lead> update_leads_after_calls(std::string_view gym_id,
                                                     const std::vector<LeadCallResults>& batch) = 0;

  // ---- do-not-call lists -------------------------------------------------

  /**
   * Puts a number on a list: `scope` is a gym id or `*` (global). The number
   * is read in the gym's region (global: E.164 expected, else US). Every lead
   * with that number in the scope is blocked, now and when added later.
   * Returns the entry (the existing one if already listed).
   */
  virtual DncEntry add_to_dnc(std::string_view scope, std::string_view phone, std::string_view reason = {},
                              std::string_view source = {}) = 0;
  /** Takes a number off a list (an explicit, recorded removal). Returns false if it was not listed. */
  virtual bool remove_from_dnc(std::string_view scope, std::string_view phone, std::string_view actor = {},
                               std::string_view reason = {}) = 0;
  /** Whether a number may not be called for a gym, and why. */
  virtual DncCheck check_dnc(std::string_view gym_id, std::string_view phone) = 0;
  /** A list's numbers ordered by number; limit 1–1000. */
  virtual std::vector<DncEntry> list_dnc(std::string_view scope, int limit = 100, int offset = 0) = 0;
  /**
   * Adds every number of a file to a list, `source` recorded on each entry
   * (the file's name). Format (docs/compliance.md): one number per line, or
   * CSV with a header naming a `phone` column (and optionally `reason`).
   * Blank lines and `#` comments are skipped. A line that is not a number is
   * counted and listed with its line and the reason, and the import goes on;
   * what was added stays if a later line fails.
   */
  virtual DncImportReport import_dnc(std::string_view scope, std::istream& file, std::string_view source) = 0;
};

/**
 * Makes the lead service over `store` and `clock` (both must outlive it).
 * `config` gives each gym's policy (thresholds, attempts, retry gap); null
 * means the defaults.
 */
std::unique_ptr<LeadService> make_lead_service(Store& store, std::shared_ptr<Clock> clock,
                                               std::shared_ptr<const Config> config = nullptr);

}  // namespace gymdash
