/**
 * @file store.hpp
 * @brief Store: the pluggable storage interface, its repositories, and the
 *        factories that open a backend by URI.
 *
 * Services hold the business rules and never build SQL; a backend holds the
 * SQL (or the maps) and never decides a business rule. Every repository method
 * is scoped to one gym where the data is a gym's: asking for gym A's lead under
 * gym B finds nothing.
 *
 * Backends: `memory:` (tests; nothing persists), `sqlite:PATH` (embedded
 * default; WAL; schema migrations applied on open), and `postgresql://…`
 * (a server shared by several hosts; not complete yet: docs/operations.md,
 * "PostgreSQL", says what it lacks). All three pass one conformance suite
 * (tests/store_conformance_test.cpp and the call and campaign suites beside it).
 */
#pragma once

#include <gymdash/model.hpp>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gymdash {

/**
 * Gyms in storage.
 * Ownership: owned by its Store; valid while the Store lives.
 * Thread safety: safe for concurrent use from multiple threads.
 */
class GymRepository {
 public:
  GymRepository() = default;
  GymRepository(const GymRepository&) = delete;
  GymRepository& operator=(const GymRepository&) = delete;
  virtual ~GymRepository() = default;

  /** Stores a new gym. Throws AlreadyExistsError if the id is taken. */
  virtual void insert(const Gym& gym) = 0;
  /** The gym with that id, or nullopt. */
  virtual std::optional<Gym> find(std::string_view gym_id) = 0;
  /** Every gym, ordered by id. */
  virtual std::vector<Gym> list() = 0;
  /** Replaces a stored gym. Throws NotFoundError if there is none with that id. */
  virtual void update(const Gym& gym) = 0;
};

/**
 * What get_prioritized_leads asks the store for: one tier of the call order.
 *
 * Every tier returns only leads that pass the rules that do not depend on the
 * clock's wall time in the lead's zone ("the dialable set"): consent given,
 * not do_not_call, not dnc_listed, phone not invalid, status one of `new`,
 * `contacted`, `qualified`, `trial_booked`, no active call, attempts below
 * `max_attempts`, and blocked_until unset or ≤ `now`. The calling-window rules
 * (time of day in the lead's zone and state, the gym's hours) are the
 * service's: it asks only for the (local_zone, local_state) groups whose
 * window is open.
 */
struct DialQuery {
  enum class Tier : std::uint8_t {
    Callback,  ///< callback_at ≤ now; oldest callback first
    Fresh,     ///< never called (attempts 0, no callback): newest lead first
    Retry,     ///< called before (attempts > 0, no callback), last_call_at ≤ last_call_before:
               ///< fewer attempts first, then longest since the last call
  };
  Tier tier = Tier::Fresh;
  std::string local_zone;   ///< Fresh and Retry: the group asked for (exact match)
  std::string local_state;  ///< Fresh and Retry: the group asked for (exact match)
  std::optional<Qualification> qualification;  ///< Retry: required; others: optional filter
  Timestamp now{};
  int max_attempts = 6;
  Timestamp last_call_before{};  ///< Retry only
  int limit = 50;
  std::vector<std::string> exclude;  ///< lead ids never to return
  /**
   * Set: only leads enrolled in this campaign whose enrolment has fewer than
   * `campaign_max_attempts` attempts and whose last campaign attempt (if
   * any) is at or before `campaign_last_attempt_before`. The tier's order is
   * kept. Empty: every lead of the gym.
   */
  std::string campaign_id;
  int campaign_max_attempts = 4;
  Timestamp campaign_last_attempt_before{};
};

/** Leads whose retry or requested callback is due (LeadRepository::count_due). */
struct DueCounts {
  std::int64_t callbacks = 0;
  std::int64_t retries = 0;
};

/** What LeadRepository::remove_counted removed with a lead. */
struct ErasedLeadRows {
  std::int64_t history_entries = 0;
  std::int64_t call_results = 0;
  std::int64_t enrolments = 0;
};

/** A call result of one lead (LeadRepository::put_call_results). */
struct LeadCallResult {
  std::string lead_id;
  CallResult result;
};

/**
 * Leads and their history in storage.
 * Ownership: owned by its Store; valid while the Store lives.
 * Thread safety: safe for concurrent use from multiple threads.
 */
class LeadRepository {
 public:
  LeadRepository() = default;
  LeadRepository(const LeadRepository&) = delete;
  LeadRepository& operator=(const LeadRepository&) = delete;
  virtual ~LeadRepository() = default;

  /**
   * Stores a new lead. Throws AlreadyExistsError if the id is taken or the
   * gym already has a lead with that phone number, NotFoundError if the gym
   * does not exist.
   */
  virtual void insert(const Lead& lead) = 0;
  /**
   * Bulk path of insert: stores the lead unless the gym already has a lead
   * with that phone number, and says whether it did (no exception for that
   * case; other failures throw as insert does).
   */
  virtual bool insert_if_absent(const Lead& lead) = 0;
  /**
   * insert_if_absent() for a batch, in order: entry i of the answer says
   * whether leads[i] was stored (false when its gym already had a lead with
   * its phone number, including one stored earlier in the same batch).
   * Failures throw as insert_if_absent does; whatever the batch stored
   * before the failure stays in the caller's transaction, so callers run it
   * inside Store::transact. Backends override it to store the batch in a few
   * statements instead of one round trip a lead; this default loops.
   */
  virtual std::vector<bool> insert_many_if_absent(std::span<const Lead> leads) {
    std::vector<bool> stored;
    stored.reserve(leads.size());
    for (const auto& lead : leads) stored.push_back(insert_if_absent(lead));
    return stored;
  }
  /** The lead of that gym with that id, or nullopt. */
  virtual std::optional<Lead> find(std::string_view gym_id, std::string_view lead_id) = 0;
  /**
   * find() for many ids of one gym: the gym's leads with any of these ids,
   * each once, in no set order (an id the gym has no lead for is left out).
   * Backends override it to read them in one statement; the default loops.
   */
  virtual std::vector<Lead> find_many(std::string_view gym_id, std::span<const std::string> lead_ids);
  /**
   * find_by_external_id() for many external ids of one gym: for each id the
   * gym has a lead for, the lead find_by_external_id() returns, once, in no
   * set order. Empty ids find nothing. The default loops.
   */
  virtual std::vector<Lead> find_by_external_ids(std::string_view gym_id,
                                                 std::span<const std::string> external_ids);
  /** The lead of that gym with that E.164 number, or nullopt. */
  virtual std::optional<Lead> find_by_phone(std::string_view gym_id, std::string_view e164) = 0;
  /**
   * find_by_phone() for many numbers of one gym: the gym's leads with any of
   * them, each once, in no set order. The default loops.
   */
  virtual std::vector<Lead> find_by_phones(std::string_view gym_id, std::span<const std::string> e164s);
  /**
   * The lead of that gym with that external id (the oldest by created_at,
   * then id, if several share it), or nullopt. An empty id finds nothing.
   */
  virtual std::optional<Lead> find_by_external_id(std::string_view gym_id, std::string_view external_id) = 0;
  /**
   * Replaces a stored lead if the stored version is `lead.version - 1`
   * (optimistic concurrency). Throws NotFoundError if the lead is gone,
   * ConflictError if someone else changed it first, AlreadyExistsError if the
   * new phone number belongs to another lead of the gym.
   */
  virtual void update(const Lead& lead) = 0;
  /**
   * update() for many leads (each once), in order, with its errors; lead
   * `i` replaces the stored row whose version is `stored_versions[i]`:
   * `leads[i].version - 1` for one change, less when the caller made several
   * changes of the lead (each a version) before writing it. Whatever it
   * wrote before a failure stays in the caller's transaction, so callers run
   * it inside Store::transact. The default loops over update(), once per
   * version; backends write the batch in a few statements.
   */
  virtual void update_many(std::span<const Lead> leads, std::span<const std::int64_t> stored_versions);
  /**
   * update() for a lead of which only what calls teach has changed: status,
   * qualification, score, attempts, connects, last_call_at, next_call_at,
   * callback_at, blocked_until, recent_calls, last_outcome, sentiment, do_not_call,
   * phone_invalid, updated_at and version. The other fields are not written
   * (a backend may skip their indexes); the caller guarantees they did not
   * change. Same version rule and errors as update().
   */
  virtual void update_call_state(const Lead& lead) = 0;
  /**
   * update_call_state() for many leads (each once), in order, with its
   * errors. Whatever it wrote before a failure stays in the caller's
   * transaction, so callers run it inside Store::transact. The default
   * loops; backends write the batch in a few statements.
   */
  virtual void update_call_state_many(std::span<const Lead> leads);
  /**
   * The lead's call claim (`active_call_id`), compare-and-set: sets it to
   * `next` if it is `expected` now, and says whether it did. Neither
   * update() nor update_call_state() writes `active_call_id` (they keep the
   * stored value), so an edit of a lead can never take or drop its claim;
   * the version is not changed. False for an unknown lead.
   */
  virtual bool set_active_call(std::string_view gym_id, std::string_view lead_id, std::string_view expected,
                               std::string_view next) = 0;
  /**
   * Before a claim, inside the caller's transaction: takes the lead's row
   * for the rest of that transaction, so that what the transaction reads of
   * the lead next (and of its enrolments, which only a claim of the lead
   * writes) is the latest committed state, and no other process changes it
   * before the transaction ends. False, and nothing taken, when the gym has
   * no such lead or another transaction holds its row now (another process
   * is claiming the lead or storing a result of its call: the caller skips
   * the lead instead of waiting). A backend whose write transactions run one
   * at a time anyway (SQLite, memory) only checks that the lead exists: the
   * default.
   */
  virtual bool lock_for_claim(std::string_view gym_id, std::string_view lead_id) {
    return find(gym_id, lead_id).has_value();
  }
  /** Deletes a lead with its history. Returns false if there was none. */
  virtual bool remove(std::string_view gym_id, std::string_view lead_id) = 0;
  /**
   * remove() that counts what went with the lead: its history entries, call
   * results and campaign enrolments (tags and the rest of the lead's own rows
   * go too, uncounted). nullopt, and nothing removed, if the gym has no such
   * lead. Joins the calling thread's transaction.
   */
  virtual std::optional<ErasedLeadRows> remove_counted(std::string_view gym_id, std::string_view lead_id) = 0;
  /**
   * Stores the audit entry of an erasure and returns the `seq` the store
   * assigned (increasing, never reused). It outlives the lead it names.
   */
  virtual std::int64_t append_erasure(const LeadErasure& erasure) = 0;
  /** A gym's erasure audit entries, newest first (by seq), `limit` from `offset`. */
  virtual std::vector<LeadErasure> erasures(std::string_view gym_id, int limit, int offset) = 0;
  /** One page of a gym's leads matching `filter`, newest first (created_at, then id). */
  virtual LeadPage list(std::string_view gym_id, const LeadFilter& filter) = 0;
  /**
   * Appends to a lead's history and returns the `seq` the store assigned
   * (increasing, never reused). Throws NotFoundError if the lead is not the gym's.
   */
  virtual std::int64_t append_history(std::string_view gym_id, const LeadEvent& event) = 0;
  /**
   * append_history() for many entries of one gym's leads, in order (their
   * seqs increase in that order; the assigned seqs are not returned).
   * NotFoundError if a lead is not the gym's; whatever it stored before a
   * failure stays in the caller's transaction. The default loops.
   */
  virtual void append_history_many(std::string_view gym_id, std::span<const LeadEvent> events);
  /** A lead's history, oldest first; empty for an unknown lead or another gym's. */
  virtual std::vector<LeadEvent> history(std::string_view gym_id, std::string_view lead_id) = 0;

  /**
   * Up to `query.limit` leads of one tier of the call order (see DialQuery),
   * in that tier's order; ties broken by id. Must not read more of the gym's
   * leads than it returns plus those it skips inside the asked group.
   */
  virtual std::vector<Lead> dial_candidates(std::string_view gym_id, const DialQuery& query) = 0;
  /**
   * dial_candidates over several groups at once: up to `query.limit` leads
   * of the tier across `groups` ((local_zone, local_state) pairs; the query's
   * own zone and state are ignored), in the tier's order. A backend merges
   * the groups' index ranges, reading about `limit` leads plus one per group
   * instead of `limit` per group. The default asks each group for `limit`
   * and merges. The Callback tier spans every group: it is dial_candidates.
   */
  virtual std::vector<Lead> dial_candidates_in(std::string_view gym_id, const DialQuery& query,
                                               const std::vector<std::pair<std::string, std::string>>& groups);
  /**
   * The Callback tier's leads (the dialable set of DialQuery with `now` and
   * `max_attempts`) whose callback fell due after `after`: callback_at in
   * (after, now], oldest first, ties by id, at most `limit`. The dialer's
   * probe for callbacks that came due since it last looked; a backend reads
   * only that range of its callback index. The default filters
   * dial_candidates.
   */
  virtual std::vector<Lead> callbacks_due_since(std::string_view gym_id, Timestamp after, Timestamp now,
                                                int max_attempts, int limit);
  /** Every distinct (local_zone, local_state) among the gym's leads, sorted. */
  virtual std::vector<std::pair<std::string, std::string>> dial_groups(std::string_view gym_id) = 0;
  /**
   * How many of the gym's leads in the dialable set of DialQuery (`now`,
   * `max_attempts`) are in the Callback tier (callback_at ≤ now) and in the
   * Retry tier (last_call_at ≤ `last_call_before`), over every group and
   * qualification, ignoring calling windows: the jobs that are due. Reads
   * the tiers' indexes only.
   */
  virtual DueCounts count_due(std::string_view gym_id, Timestamp now, int max_attempts,
                              Timestamp last_call_before) = 0;
  /** Every lead, of any gym, with that E.164 number. */
  virtual std::vector<Lead> find_by_phone_any_gym(std::string_view e164) = 0;

  /**
   * Stores a call result of a lead; a result with the same call_id replaces
   * the earlier one. Throws NotFoundError if the lead is not the gym's.
   */
  virtual void put_call_result(std::string_view gym_id, std::string_view lead_id, const CallResult& result) = 0;
  /**
   * put_call_result() for many results of one gym's leads (no two of one
   * lead with the same call_id), with its errors. Whatever it stored before
   * a failure stays in the caller's transaction. The default loops.
   */
  virtual void put_call_results(std::string_view gym_id, std::span<const LeadCallResult> results);
  /** A lead's call results ordered by started_at, then call_id. */
  virtual std::vector<CallResult> call_results(std::string_view gym_id, std::string_view lead_id) = 0;
  /**
   * call_results() of many leads of one gym: entry i holds lead_ids[i]'s
   * results, in the same order (empty for an unknown lead). The default
   * loops; backends read them in one statement.
   */
  virtual std::vector<std::vector<CallResult>> call_results_many(std::string_view gym_id,
                                                                 std::span<const std::string> lead_ids);
};

/**
 * Do-not-call lists: one per gym (scope = gym id) and one global (scope `*`).
 * Ownership: owned by its Store. Thread safety: safe concurrently.
 */
class DncRepository {
 public:
  DncRepository() = default;
  DncRepository(const DncRepository&) = delete;
  DncRepository& operator=(const DncRepository&) = delete;
  virtual ~DncRepository() = default;

  /** Adds a number; returns false (and changes nothing) if the scope already lists it. */
  virtual bool add(const DncEntry& entry) = 0;
  /** Removes a number; returns false if the scope did not list it. */
  virtual bool remove(std::string_view scope, std::string_view e164) = 0;
  /** The entry, or nullopt. */
  virtual std::optional<DncEntry> find(std::string_view scope, std::string_view e164) = 0;
  /** A scope's entries ordered by phone, `limit` from `offset`. */
  virtual std::vector<DncEntry> list(std::string_view scope, int limit, int offset) = 0;
  /** How many numbers a scope lists. */
  virtual std::int64_t count(std::string_view scope) = 0;
};

/** What CallRepository::remove_for_lead removed. */
struct ErasedCalls {
  std::int64_t calls = 0;
  std::int64_t recordings = 0;   ///< calls with a recording_url
  std::int64_t transcripts = 0;  ///< calls with a transcript or a summary
};

/** One applied call event, as CallRepository::record_events records it. */
struct CallEventRecord {
  std::string gym_id;
  std::string event_id;
  std::string call_id;  ///< the call record's id
  Timestamp received_at{};
};

/**
 * Call records and the ids of the call events already applied.
 * Ownership: owned by its Store; valid while the Store lives.
 * Thread safety: safe for concurrent use from multiple threads.
 */
class CallRepository {
 public:
  CallRepository() = default;
  CallRepository(const CallRepository&) = delete;
  CallRepository& operator=(const CallRepository&) = delete;
  virtual ~CallRepository() = default;

  /**
   * Records that an event of the gym was applied; returns false (and changes
   * nothing) if the gym recorded that event id before. Event ids are unique
   * per gym: two gyms may use the same id without meeting.
   */
  virtual bool record_event(std::string_view gym_id, std::string_view event_id, std::string_view call_id,
                            Timestamp received_at) = 0;
  /**
   * record_event() for a batch, in order: entry i says whether events[i] was
   * newly recorded (false when its gym had recorded that id before, or an
   * earlier entry of the batch has the same gym and id). Whatever it
   * recorded before a failure stays in the caller's transaction. Backends
   * override it to record the batch in one statement; the default loops.
   */
  virtual std::vector<bool> record_events(std::span<const CallEventRecord> events);
  /** Whether the gym recorded an event id. */
  virtual bool has_event(std::string_view gym_id, std::string_view event_id) = 0;
  /**
   * has_event() for many ids of one gym: the ids among `event_ids` the gym
   * recorded, each once, in no set order. The default loops.
   */
  virtual std::vector<std::string> recorded_events(std::string_view gym_id, std::span<const std::string> event_ids);
  /**
   * Stores a call, replacing the stored one with the same id. Throws
   * AlreadyExistsError if another call of the gym has the same
   * provider_call_id.
   */
  virtual void put(const Call& call) = 0;
  /** The gym's call with that id, or nullopt. */
  virtual std::optional<Call> find(std::string_view gym_id, std::string_view call_id) = 0;
  /** The gym's call with that provider call id, or nullopt. */
  virtual std::optional<Call> find_by_provider_id(std::string_view gym_id, std::string_view provider_call_id) = 0;
  /**
   * find_by_provider_id() for many provider ids of one gym: the gym's calls
   * with any of them, in no set order. The default loops.
   */
  virtual std::vector<Call> find_by_provider_ids(std::string_view gym_id,
                                                 std::span<const std::string> provider_call_ids);
  /**
   * put() for many calls (no two with the same id, nor the same gym and
   * provider_call_id), in order, with put()'s errors. Whatever it stored
   * before a failure stays in the caller's transaction, so callers run it
   * inside Store::transact. The default loops; backends store the batch in
   * a few statements.
   */
  virtual void put_many(std::span<const Call> calls);
  /** One page of the gym's calls matching `filter`, newest first (started_at, then id, descending). */
  virtual CallPage list(std::string_view gym_id, const CallFilter& filter) = 0;
  /** A lead's calls of that gym, oldest first (started_at, then id). */
  virtual std::vector<Call> for_lead(std::string_view gym_id, std::string_view lead_id) = 0;

  /**
   * Retention, set-based (no call is read into memory): empties
   * recording_url, transcript and summary of the gym's calls that started
   * before `cutoff`, have no purged_at yet and hold any of the three, and
   * sets their purged_at and updated_at to `now`. Returns how many calls it
   * changed. Joins the calling thread's transaction, if any.
   */
  virtual std::int64_t purge_recordings(std::string_view gym_id, Timestamp cutoff, Timestamp now) = 0;
  /**
   * The same for every call of one lead of the gym, whatever its age (a
   * purge on request): the calls that hold a recording_url, transcript or
   * summary are emptied, purged_at and updated_at set to `now`. Returns how
   * many calls it changed.
   */
  virtual std::int64_t purge_lead_recordings(std::string_view gym_id, std::string_view lead_id, Timestamp now) = 0;
  /**
   * Deletes every call of one lead of the gym (the erasure of a lead) and
   * says how many there were, and how many of them still held a
   * recording_url, and a transcript or summary. The ids of the events applied
   * to them stay (call_events holds no personal data), so that a provider
   * re-delivering one of those events finds a duplicate and cannot bring the
   * call back. Joins the calling thread's transaction.
   */
  virtual ErasedCalls remove_for_lead(std::string_view gym_id, std::string_view lead_id) = 0;
  /**
   * Calls of any gym that have not ended (status queued, ringing or
   * in_progress) and started before `started_before`, oldest first, at most
   * `limit`: what a dialer left open when its process stopped. Inside a
   * transaction, a backend shared by several processes (PostgreSQL) locks
   * the calls it returns until the transaction ends and skips those another
   * transaction holds, so that two processes never close the same call.
   */
  virtual std::vector<Call> open_calls(Timestamp started_before, int limit) = 0;
};

/** How many of a campaign's enrolled leads are in each state (CampaignRepository::enrolment_counts). */
struct EnrolmentCounts {
  std::int64_t enrolled = 0;
  std::int64_t never_called = 0;  ///< enrolment attempts 0
  std::int64_t exhausted = 0;     ///< enrolment attempts ≥ the max asked for
  std::int64_t attempts = 0;      ///< sum of enrolment attempts
};

/**
 * Campaigns and their enrolled leads.
 * Ownership: owned by its Store; valid while the Store lives.
 * Thread safety: safe for concurrent use from multiple threads.
 */
class CampaignRepository {
 public:
  CampaignRepository() = default;
  CampaignRepository(const CampaignRepository&) = delete;
  CampaignRepository& operator=(const CampaignRepository&) = delete;
  virtual ~CampaignRepository() = default;

  /** Stores a new campaign. AlreadyExistsError if the id is taken, NotFoundError if the gym does not exist. */
  virtual void insert(const Campaign& campaign) = 0;
  /** The gym's campaign with that id, or nullopt. */
  virtual std::optional<Campaign> find(std::string_view gym_id, std::string_view campaign_id) = 0;
  /** One page of the gym's campaigns matching `filter`, newest first (created_at, then id, descending). */
  virtual CampaignPage list(std::string_view gym_id, const CampaignFilter& filter) = 0;
  /** Every campaign of every gym in state `state`, ordered by gym id, then campaign id. */
  virtual std::vector<Campaign> in_state(CampaignState state) = 0;
  /**
   * Replaces a stored campaign if the stored version is `campaign.version - 1`.
   * NotFoundError if it is gone, ConflictError if someone else changed it first.
   */
  virtual void update(const Campaign& campaign) = 0;
  /** Deletes a campaign with its enrolments. Returns false if there was none. */
  virtual bool remove(std::string_view gym_id, std::string_view campaign_id) = 0;

  /**
   * Enrols the gym's leads with these ids (the caller has checked they are
   * the gym's); ids already enrolled are left as they are. Returns how many
   * were newly enrolled.
   */
  virtual std::int64_t enrol(std::string_view gym_id, std::string_view campaign_id,
                             const std::vector<std::string>& lead_ids, Timestamp at) = 0;
  /** Enrols every lead of the gym that matches `target` (matches_target), set-based. Returns how many were new. */
  virtual std::int64_t enrol_matching(std::string_view gym_id, std::string_view campaign_id,
                                      const CampaignTarget& target, Timestamp at) = 0;
  /** Removes enrolments; returns how many there were. */
  virtual std::int64_t unenrol(std::string_view gym_id, std::string_view campaign_id,
                               const std::vector<std::string>& lead_ids) = 0;
  /** One lead's enrolment, or nullopt. */
  virtual std::optional<CampaignLead> enrolment(std::string_view gym_id, std::string_view campaign_id,
                                                std::string_view lead_id) = 0;
  /** Counts a campaign attempt on an enrolled lead: attempts + 1, last_attempt_at = `at`. False if not enrolled. */
  virtual bool record_attempt(std::string_view gym_id, std::string_view campaign_id, std::string_view lead_id,
                              Timestamp at) = 0;
  /** Counts of the campaign's enrolments; `max_attempts` says what exhausted means. */
  virtual EnrolmentCounts enrolment_counts(std::string_view gym_id, std::string_view campaign_id,
                                           int max_attempts) = 0;
};

/** Calls of one (gym, campaign, gym-local date), summed: one row of the daily call rollup. */
struct CallDayRollup {
  std::string gym_id;
  std::string campaign_id;        ///< empty for calls placed outside any campaign
  std::int32_t local_day = 0;     ///< the gym's local calendar date, as days since 1970-01-01
  std::int64_t calls = 0;
  std::int64_t connected = 0;     ///< status completed and answered by a human
  std::int64_t voicemail = 0;     ///< answered by a machine
  std::int64_t talk_s = 0;        ///< sum of the connected calls' durations
  std::int64_t cost_micros = 0;   ///< sum of cost_usd, in millionths of a dollar (exact sums)
  std::array<std::int64_t, 7> outcomes{};  ///< calls per CallOutcome, indexed by its value
  friend bool operator==(const CallDayRollup&, const CallDayRollup&) = default;
};

/** Calls of one (gym, campaign, gym-local date) by the lead-local hour and weekday they started at. */
struct CallHourRollup {
  std::string gym_id;
  std::string campaign_id;
  std::int32_t local_day = 0;     ///< the gym's local date (what a period selects on)
  std::int32_t lead_hour = 0;     ///< 0–23, in the lead's own zone
  std::int32_t lead_weekday = 0;  ///< 0 = Monday … 6 = Sunday, in the lead's own zone
  std::int64_t calls = 0;
  std::int64_t connected = 0;
  friend bool operator==(const CallHourRollup&, const CallHourRollup&) = default;
};

/**
 * Leads of one gym created on one gym-local date, counted along one dimension:
 * `source` (value: the source), `status`, `qualification`, `reached` (the
 * funnel stage, "0"–"4") or `speed` (the speed-to-lead bucket of the first
 * call attempt). The rules that pick a dimension's value are the analytics
 * service's (docs/analytics.md); the store only adds counts up.
 */
struct LeadDayRollup {
  std::string gym_id;
  std::int32_t local_day = 0;
  std::string dimension;
  std::string value;
  std::int64_t count = 0;
  friend bool operator==(const LeadDayRollup&, const LeadDayRollup&) = default;
};

/**
 * Changes to the rollups, as signed amounts per key (a row's key is every
 * field but its counts). AnalyticsRepository::apply adds each row's amounts
 * to the stored row of that key.
 */
struct RollupDelta {
  std::vector<CallDayRollup> call_days;
  std::vector<CallHourRollup> call_hours;
  std::vector<LeadDayRollup> lead_days;
  bool empty() const noexcept { return call_days.empty() && call_hours.empty() && lead_days.empty(); }
};

/** Which rollup rows to read: one gym (or all when empty), local days [from_day, to_day]. */
struct RollupQuery {
  std::string gym_id;            ///< empty: every gym
  std::optional<std::string> campaign_id;  ///< set: only that campaign's rows (call rollups only)
  std::int32_t from_day = 0;     ///< inclusive
  std::int32_t to_day = 0;       ///< inclusive
  std::string dimension;         ///< lead rows: only this dimension when set
  /**
   * Summed over the days, gyms and campaigns of the query: call_hours gives
   * one row per (hour, weekday) and lead_days one per (dimension, value),
   * with the other key fields empty or 0. What a dashboard reads: the store
   * adds the rows up where they are instead of handing each one over.
   */
  bool summed = false;
};

/** What analytics needs to know about one lead (a narrow read of the lead and its calls). */
struct LeadFacts {
  std::string id;
  std::string gym_id;
  Timestamp created_at{};
  std::string source;
  LeadStatus status = LeadStatus::New;
  Qualification qualification = Qualification::Neutral;
  int connects = 0;
  std::string local_zone;                  ///< the lead's zone for calling windows, or empty
  std::optional<Timestamp> first_call_at;  ///< the earliest started_at of its recorded call results
  friend bool operator==(const LeadFacts&, const LeadFacts&) = default;
};

/**
 * The analytics rollups: daily aggregates kept as calls and leads are
 * written, so that a dashboard reads O(days) rows instead of O(calls), and
 * the narrow reads that keeping and rebuilding them need.
 * Ownership: owned by its Store; valid while the Store lives.
 * Thread safety: safe for concurrent use from multiple threads; apply() and
 * clear() join the calling thread's transaction.
 */
class AnalyticsRepository {
 public:
  AnalyticsRepository() = default;
  AnalyticsRepository(const AnalyticsRepository&) = delete;
  AnalyticsRepository& operator=(const AnalyticsRepository&) = delete;
  virtual ~AnalyticsRepository() = default;

  /**
   * Adds every row's counts (which may be negative) to the stored row with
   * the same key, creating it if needed, one statement per row; a row whose
   * counts all reach zero is deleted. Atomic: inside a caller's transaction
   * it commits with it.
   */
  virtual void apply(const RollupDelta& delta) = 0;
  /** Deletes every rollup row of a gym (of every gym when `gym_id` is empty). */
  virtual void clear(std::string_view gym_id) = 0;

  /** Daily call rows of the query, ordered by gym, day, campaign. */
  virtual std::vector<CallDayRollup> call_days(const RollupQuery& query) = 0;
  /** Hourly call rows of the query, ordered by gym, day, campaign, hour, weekday. */
  virtual std::vector<CallHourRollup> call_hours(const RollupQuery& query) = 0;
  /** Lead rows of the query (campaign ignored), ordered by gym, dimension, day, value. */
  virtual std::vector<LeadDayRollup> lead_days(const RollupQuery& query) = 0;
  /** Campaign ids with at least one rollup row in the gym (every gym when empty), sorted. */
  virtual std::vector<std::string> campaigns(std::string_view gym_id) = 0;

  /** The lead's facts, or nullopt if the gym has no such lead. */
  virtual std::optional<LeadFacts> lead_facts(std::string_view gym_id, std::string_view lead_id) = 0;
  /**
   * The start of each call recorded for the lead (its stored call results:
   * call id → started_at). A primary-key read, fast even while a bulk load
   * has dropped the calls' secondary indexes.
   */
  virtual std::vector<std::pair<std::string, Timestamp>> call_starts(std::string_view gym_id,
                                                                     std::string_view lead_id) = 0;
  /** Calls `fn` with the facts of every lead of the gym (of every gym when empty), in no set order. */
  virtual void scan_leads(std::string_view gym_id, const std::function<void(const LeadFacts&)>& fn) = 0;
  /**
   * Calls `fn` with the facts of every lead of the gym enrolled in the
   * campaign whose created_at is in [created_from, created_to), in no set
   * order: a campaign dashboard's lead figures. `local_zone` may be left
   * empty. SQLite reads one range of the campaign's enrolments, which carry
   * copies of their leads' facts kept by the lead and call-result writes
   * (schema v7), so the cost follows the campaign's size, not the gym's.
   */
  virtual void scan_campaign_leads(std::string_view gym_id, std::string_view campaign_id, Timestamp created_from,
                                   Timestamp created_to, const std::function<void(const LeadFacts&)>& fn) = 0;
  /**
   * Calls `fn` with every call of the gym (of every gym when empty), in no set
   * order. Only the fields analytics reads are filled: id, gym_id, lead_id,
   * campaign_id, status, answered_by, started_at, duration_s, outcome, cost_usd.
   */
  virtual void scan_calls(std::string_view gym_id, const std::function<void(const Call&)>& fn) = 0;
};

/** What a bulk load writes (Store::begin_bulk_load). */
enum class BulkLoad : std::uint8_t {
  Leads,       ///< an import of leads
  CallEvents,  ///< an ingest of call events (calls, call results, lead updates, history)
};

/**
 * A storage backend: repositories plus transactions.
 * Ownership: a Store is owned by whoever opened it (usually the Runtime);
 * services hold a reference and must not outlive it.
 * Thread safety: safe for concurrent access from multiple threads without
 * external synchronization. A transaction belongs to the thread that runs it.
 */
class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  /** `memory`, `sqlite` or `postgres`. */
  virtual std::string_view backend() const = 0;
  /**
   * True when a write transaction shuts out every other writer of the
   * database from its start to its end (SQLite's write lock, taken when the
   * transaction begins; the memory store's lock): nothing it read can change
   * under it before it commits. False on PostgreSQL, whose transactions on
   * several hosts run at once.
   */
  virtual bool serializes_writers() const = 0;
  /** Schema version of the open database (0 for memory). */
  virtual int schema_version() const = 0;

  virtual GymRepository& gyms() = 0;
  virtual LeadRepository& leads() = 0;
  virtual DncRepository& dnc() = 0;
  virtual CallRepository& calls() = 0;
  virtual AnalyticsRepository& analytics() = 0;
  virtual CampaignRepository& campaigns() = 0;

  /**
   * Tells the backend that about `expected_new_rows` rows of `what` (leads,
   * or call events) are about to be written in bulk. A backend may then trade
   * read speed for write speed until end_bulk_load(): SQLite (leads and call
   * events) and PostgreSQL (leads only) drop the secondary indexes the load
   * would update at random when the load is large against what the store
   * holds, and build them again at the end (sorting once instead of
   * inserting at random). Reads stay correct meanwhile, only slower. A crash
   * in between is repaired when the store is next opened.
   * Call end_bulk_load() after a failure too.
   */
  virtual void begin_bulk_load(std::int64_t expected_new_rows, BulkLoad what) = 0;
  /** Ends a bulk load (rebuilding what begin_bulk_load dropped); a no-op without one. */
  virtual void end_bulk_load() = 0;
  /**
   * How many rows a bulk writer (the lead import) hands this store at a time
   * inside a committed batch: the backend's trade between memory (the import
   * holds about three such pieces) and the statements each piece costs. By
   * default 10,000 (SQLite and memory: the million-row import's peak memory
   * stays under 200 MB); PostgreSQL asks for 25,000, as each piece costs it
   * about 45 round trips (docs/operations.md). At least 1.
   */
  virtual std::size_t bulk_piece_rows() const { return 10000; }

  /**
   * Runs `fn` as one transaction: every repository call `fn` makes on this
   * thread commits together when `fn` returns, or not at all when it throws
   * (the exception propagates). Other threads' writes wait until it ends.
   * A transact inside a transact joins the outer transaction as a savepoint:
   * its writes commit only with the outer one, and if it throws (and the
   * outer fn catches), only the inner writes are undone.
   */
  virtual void transact(const std::function<void()>& fn) = 0;
  /**
   * Like transact(), but inside a transaction this thread has open already,
   * `fn` joins it without a savepoint of its own: for bulk work whose caller
   * owns the transaction (a savepoint around many writes makes each write
   * slower in SQLite). If `fn` throws there, its writes stay in the open
   * transaction, which the caller must then let fail: not for code that
   * catches and goes on.
   */
  virtual void transact_joined(const std::function<void()>& fn) = 0;
};

/** Options of the SQLite backend. */
struct SqliteOptions {
  std::string path;              ///< file name; required
  bool create = true;            ///< create the file if missing (default true)
  int busy_timeout_ms = 10000;   ///< wait this long for another process's lock (default 10 s)
};

/** Options of the PostgreSQL backend. */
struct PostgresOptions {
  /**
   * libpq connection URI, `postgresql://user:password@host:port/database?…`
   * (or `postgres://…`); required. Parameters libpq knows (sslmode,
   * connect_timeout …) are passed on; connect_timeout defaults to 10 s.
   */
  std::string uri;
  /**
   * Schema holding gymdash's tables, created if missing. Empty (default):
   * the first schema of the server's search_path, usually `public`.
   */
  std::string schema;
  int pool_size = 8;         ///< most connections open at once (default 8)
  int pool_wait_ms = 30000;  ///< how long a call waits for a free connection before UnavailableError (default 30 s)
};

/** The in-memory backend: for tests and simulations; nothing persists. */
std::unique_ptr<Store> make_memory_store();

/**
 * Opens (and creates, migrates) an SQLite database. Throws StorageError if the
 * file cannot be opened or was written by a newer schema than this library
 * knows; the file is left untouched in that case.
 */
std::unique_ptr<Store> make_sqlite_store(const SqliteOptions& options);

/**
 * Connects to a PostgreSQL database and creates or migrates gymdash's schema
 * in it, each migration in one transaction. Throws InvalidArgumentError for a
 * malformed URI; UnavailableError if the server cannot be reached;
 * StorageError if it refuses the credentials, the database does not exist,
 * the schema holds another application's tables, or its gymdash schema
 * version is newer than this library knows (then nothing is changed), and
 * when the library was built without PostgreSQL (GYMDASH_WITH_POSTGRES=OFF).
 */
std::unique_ptr<Store> make_postgres_store(const PostgresOptions& options);

/**
 * Opens a backend by URI: `memory:`, `sqlite:PATH` (`sqlite:` followed by a
 * file path, e.g. `sqlite:gym.db`, `sqlite:/var/lib/gymdash/main.db`), or a
 * PostgreSQL URI, `postgresql://…` or `postgres://…` (make_postgres_store).
 * Throws InvalidArgumentError naming `uri` for an unknown scheme.
 */
std::unique_ptr<Store> open_store(std::string_view uri);

}  // namespace gymdash
