/**
 * @file model.hpp
 * @brief The domain's value types: gyms, leads, their history, requests and
 *        pages, plus timestamps, ids and their JSON form.
 *
 * Every type here is a plain value: copyable, movable, owning all of its data,
 * and not synchronized (give each thread its own copy or guard it yourself).
 *
 * JSON: each type converts both ways with Boost.JSON (`boost::json::value_from`
 * and `boost::json::value_to`; the conversions are declared here and compiled
 * into the library, so this header needs only <boost/json/fwd.hpp>). Reading
 * JSON is strict: an unknown field, a wrong type or a bad enum value throws
 * InvalidArgumentError naming the field. Timestamps are ISO 8601 UTC with `Z`.
 */
#pragma once

#include <boost/json/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash {

// ---------------------------------------------------------------------------
// Time and ids
// ---------------------------------------------------------------------------

/** A point in time, UTC, millisecond resolution. */
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

/** Formats as ISO 8601 UTC: `2026-10-13T12:21:44Z`, or `…44.250Z` when there are milliseconds. */
std::string format_timestamp(Timestamp t);

/**
 * Parses ISO 8601 with `Z` or an explicit offset (`+02:00`, `-0500`), optional
 * fractional seconds; the result is UTC. A date that does not exist
 * (`2026-02-30`), a missing zone or any other shape throws InvalidArgumentError
 * naming `field`.
 */
Timestamp parse_timestamp(std::string_view text, std::string_view field = "timestamp");

/** Like parse_timestamp but returns nullopt instead of throwing. */
std::optional<Timestamp> try_parse_timestamp(std::string_view text) noexcept;

/**
 * Makes a new opaque id: `prefix` followed by 26 characters (48 bits of
 * milliseconds then 80 bits that increase within a millisecond, Crockford
 * base32), so ids sort by creation time. Thread-safe.
 */
std::string make_id(std::string_view prefix);

// ---------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------

/** Lead lifecycle: new → contacted → qualified → trial_booked → converted, and lost. */
enum class LeadStatus : std::uint8_t { New, Contacted, Qualified, TrialBooked, Converted, Lost };

/** How promising a lead is. Input "warm" is read as Neutral. */
enum class Qualification : std::uint8_t { Hot, Neutral, Cold };

/** Final (or current) state of a call, provider-neutral. */
enum class CallStatus : std::uint8_t { Queued, Ringing, InProgress, Completed, Busy, NoAnswer, Failed, Canceled };

/** Who picked up. */
enum class AnsweredBy : std::uint8_t { Unknown, Human, Machine };

/** What a conversation with a person ended in. */
enum class CallOutcome : std::uint8_t {
  Interested,
  NotInterested,
  CallbackRequested,
  TrialBooked,
  MembershipSold,
  WrongNumber,
  DoNotCall
};

const char* to_string(LeadStatus s) noexcept;
const char* to_string(Qualification q) noexcept;
const char* to_string(CallStatus s) noexcept;
const char* to_string(AnsweredBy a) noexcept;
const char* to_string(CallOutcome o) noexcept;
/** `queued`, `ringing`, `in_progress`, `completed`, `busy`, `no_answer` (or `no-answer`), `failed`, `canceled`. */
CallStatus parse_call_status(std::string_view text, std::string_view field = "status");
/** `human`, `machine`, `unknown`. */
AnsweredBy parse_answered_by(std::string_view text, std::string_view field = "answered_by");
/** `interested`, `not_interested`, `callback_requested`, `trial_booked`, `membership_sold`, `wrong_number`, `do_not_call`. */
CallOutcome parse_call_outcome(std::string_view text, std::string_view field = "outcome");
/** Parses `new`, `contacted`, `qualified`, `trial_booked`, `converted`, `lost`; throws InvalidArgumentError naming `field`. */
LeadStatus parse_lead_status(std::string_view text, std::string_view field = "status");
/** Parses `hot`, `neutral` (or `warm`), `cold`; throws InvalidArgumentError naming `field`. */
Qualification parse_qualification(std::string_view text, std::string_view field = "qualification");

/** Days of the week as a bit set: bit 0 = Monday … bit 6 = Sunday. */
using DayMask = std::uint8_t;
inline constexpr DayMask kAllDays = 0x7f;
inline constexpr DayMask kWeekdays = 0x1f;

/** A daily window in local time, minutes after midnight, [start, end). */
struct LocalWindow {
  int start_minute = 9 * 60;  ///< default 09:00
  int end_minute = 20 * 60;   ///< default 20:00
  friend bool operator==(const LocalWindow&, const LocalWindow&) = default;
};

// ---------------------------------------------------------------------------
// Gyms
// ---------------------------------------------------------------------------

/** One gym location; every lead belongs to exactly one. */
struct Gym {
  std::string id;                 ///< caller-chosen (`gym-nyc-01`) or generated (`gym_…`)
  std::string name;
  std::string timezone;           ///< IANA zone, validated (`America/New_York`)
  std::string region = "US";      ///< ISO 3166 region for reading local phone numbers
  std::string state;              ///< US state / CA province code where compliance needs it ("FL"), or empty
  LocalWindow call_hours;         ///< the gym's own calling hours, gym-local; default 09:00–20:00
  DayMask call_days = kAllDays;   ///< days the gym calls; default every day
  std::vector<std::string> caller_ids;  ///< E.164 numbers the gym may call from
  Timestamp created_at{};
  Timestamp updated_at{};
  friend bool operator==(const Gym&, const Gym&) = default;
};

// ---------------------------------------------------------------------------
// Leads
// ---------------------------------------------------------------------------

/** Prior express consent to be called. */
struct Consent {
  bool given = false;
  std::optional<Timestamp> at;  ///< when it was given (or withdrawn)
  std::string method;           ///< how: `web_form`, `verbal`, `sms`, `import` …
  std::string source;           ///< where: a form URL, a campaign, a file name
  friend bool operator==(const Consent&, const Consent&) = default;
};

/** A person a gym may call. */
struct Lead {
  std::string id;           ///< `ld_…`, time-ordered
  std::string gym_id;
  std::string external_id;  ///< id in the system the lead came from (CRM, ad platform), or empty
  std::string phone;        ///< E.164 (`+12125550123`)
  std::string first_name;
  std::string last_name;
  std::string email;
  std::string source;       ///< `web_form`, `facebook_ads`, `google_ads`, `instagram`, `referral`, `walk_in`, `inbound_call` or other
  std::string interest;     ///< free text: what the lead asked about
  std::string timeline;     ///< `asap`, `this week`, `this month`, `next month`, `just browsing` or empty
  std::string notes;        ///< free text kept on the lead
  std::vector<std::string> tags;  ///< sorted, unique
  Consent consent;
  bool do_not_call = false;       ///< sticky: only an explicit recorded removal lifts it
  bool phone_invalid = false;     ///< the number reached the wrong person
  LeadStatus status = LeadStatus::New;
  Qualification qualification = Qualification::Neutral;
  bool qualification_manual = false;  ///< set by hand; wins over scoring until changed again
  int score = 0;                  ///< 0–100
  int attempts = 0;               ///< call attempts so far
  std::optional<Timestamp> last_call_at;
  std::optional<Timestamp> next_call_at;  ///< callback or retry due
  std::string timezone;           ///< the lead's own IANA zone if known, else empty
  std::map<std::string, std::string> custom_fields;
  Timestamp created_at{};
  Timestamp updated_at{};
  std::int64_t version = 0;       ///< increases with every stored change

  // What calls taught us (maintained by update_lead_after_call).
  std::optional<Timestamp> callback_at;  ///< a callback the lead asked for, due at this time
  std::optional<Timestamp> blocked_until;  ///< a state's call cap forbids calling before this time
  std::vector<Timestamp> recent_calls;   ///< start times of the last attempts, oldest first (at most 10)
  std::string last_outcome;              ///< outcome of the latest call that reached the person, or empty
  std::string sentiment;                 ///< `positive`, `neutral`, `negative` from the latest call analysis, or empty
  int connects = 0;                      ///< calls that reached the person
  std::string active_call_id;            ///< a call in progress, or empty: never two calls at once
  // Derived by the service when the lead is written.
  std::string local_zone;                ///< zone for calling windows: `timezone`, else from the area code, else the gym's
  std::string local_state;               ///< state/province from the area code (`FL`), else the gym's, for state rules
  bool dnc_listed = false;               ///< the number is on the gym's or the global do-not-call list
  LeadStatus base_status = LeadStatus::New;  ///< status last set explicitly (creation, import, by hand)
  Timestamp base_status_at{};            ///< when it was set by hand (epoch for creation); later calls fold on top
  friend bool operator==(const Lead&, const Lead&) = default;
};

/** The result of one call, as the lead needs it (update_lead_after_call). */
struct CallResult {
  std::string call_id;                  ///< the call record's id; a repeated id replaces the earlier result
  Timestamp started_at{};
  std::optional<Timestamp> ended_at;
  CallStatus status = CallStatus::Completed;
  AnsweredBy answered_by = AnsweredBy::Unknown;
  std::optional<CallOutcome> outcome;   ///< only when a person answered
  std::optional<Timestamp> callback_at; ///< with callback_requested: the time asked for (absolute)
  std::string sentiment;                ///< `positive`, `neutral`, `negative`, or empty
  /** The lead asked in words not to be called again (docs/calls.md, opt-out phrases): do-not-call, like that outcome. */
  bool opted_out = false;
  friend bool operator==(const CallResult&, const CallResult&) = default;
};

// ---------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------

/** Which way a call went. */
enum class CallDirection : std::uint8_t { Outbound, Inbound };

const char* to_string(CallDirection d) noexcept;
/** `outbound`, `inbound`; throws InvalidArgumentError naming `field`. */
CallDirection parse_call_direction(std::string_view text, std::string_view field = "direction");

/** True for the statuses a call ends in: completed, busy, no_answer, failed, canceled. */
bool is_terminal(CallStatus s) noexcept;

/**
 * One call: every event a provider reported for it, merged (docs/calls.md).
 * Kept by CallService; the lead's state follows from its calls.
 */
struct Call {
  std::string id;                ///< `call_…`, time-ordered; what CallResult.call_id holds
  std::string provider_call_id;  ///< the voice system's id (`call_id` of the events); unique per gym
  std::string gym_id;
  std::string lead_id;
  CallDirection direction = CallDirection::Outbound;
  std::string to_number;         ///< E.164 as reported
  std::string from_number;       ///< E.164 as reported, or empty
  CallStatus status = CallStatus::Queued;
  AnsweredBy answered_by = AnsweredBy::Unknown;
  Timestamp started_at{};
  std::optional<Timestamp> ended_at;
  std::optional<std::int64_t> duration_s;
  std::optional<CallOutcome> outcome;
  std::optional<Timestamp> callback_at;  ///< with callback_requested: when to call back
  std::string sentiment;         ///< `positive`, `neutral`, `negative`, or empty
  std::string summary;
  std::string transcript;        ///< what was said, as the provider reports it (at most Limits::max_transcript_bytes)
  std::string recording_url;     ///< where the provider keeps the recording, or empty
  std::optional<std::int64_t> recording_duration_s;  ///< length of the recording
  std::optional<int> recording_channels;             ///< 1 (mixed) or 2 (one per party)
  std::optional<bool> recording_consent;  ///< whether the lead agreed to be recorded; unknown if empty
  std::optional<Timestamp> purged_at;     ///< when its recording and transcript were purged (retention or request)
  std::optional<double> cost_usd;
  std::string campaign_id;       ///< the campaign that placed it, or empty
  std::string provider;          ///< `retell`, `vapi`, `twilio`, `simulated`, `import` …, or empty
  std::string end_reason;        ///< the provider's own end or disconnection reason, verbatim
  Timestamp created_at{};
  Timestamp updated_at{};
  friend bool operator==(const Call&, const Call&) = default;
};

/** Which calls to list. Empty members do not filter. */
struct CallFilter {
  std::string lead_id;
  std::string campaign_id;
  std::optional<CallStatus> status;
  std::optional<CallOutcome> outcome;
  std::optional<CallDirection> direction;
  std::optional<Timestamp> started_from;  ///< inclusive
  std::optional<Timestamp> started_to;    ///< exclusive
  int page = 1;                           ///< 1-based
  int page_size = 50;                     ///< 1–1000
};

/** One page of calls, newest first (started_at, then id). */
struct CallPage {
  std::vector<Call> items;
  int page = 1;
  int page_size = 50;
  std::int64_t total = 0;  ///< calls matching the filter, over all pages
};

/** One number on a do-not-call list. */
struct DncEntry {
  std::string scope;   ///< a gym id, or `*` for the global list
  std::string phone;   ///< E.164
  std::string reason;  ///< why (`asked on call`, `state registry` …)
  std::string source;  ///< where it came from (`api`, a file name …)
  Timestamp added_at{};
  friend bool operator==(const DncEntry&, const DncEntry&) = default;
};

/** One entry of a lead's history: what changed, when, by whom and why. */
struct LeadEvent {
  std::int64_t seq = 0;    ///< order within the store
  std::string lead_id;
  Timestamp at{};
  std::string kind;        ///< `created`, `merged`, `updated`, `status`, `qualification`, `tags`, `note`, `dnc`
  std::string from;        ///< previous value (status, qualification …), or empty
  std::string to;          ///< new value, or the note's text
  std::string actor;       ///< who: a user name, `import`, `system`
  std::string reason;      ///< why, free text
  friend bool operator==(const LeadEvent&, const LeadEvent&) = default;
};

/**
 * The audit entry of an erased lead (LeadService::erase_lead): who erased
 * which lead of which gym, when and why, and how many records went with it.
 * It holds no personal data: no name, phone number, email address, call
 * content or recording address (docs/hardening.md, "Erasing a lead").
 */
struct LeadErasure {
  std::int64_t seq = 0;               ///< order within the store, never reused
  std::string gym_id;
  std::string lead_id;                ///< the erased lead's id (an opaque id, not personal data)
  Timestamp at{};                     ///< when it was erased
  std::string actor;                  ///< who asked (default `api`)
  std::string reason;                 ///< why (no phone number, email address or the lead's name)
  std::int64_t history_entries = 0;   ///< lead history entries removed
  std::int64_t calls = 0;             ///< call records removed
  std::int64_t recordings = 0;        ///< of those, calls that still held a recording_url
  std::int64_t transcripts = 0;       ///< of those, calls that still held a transcript or summary
  std::int64_t call_results = 0;      ///< call results (the inputs of the lead's state) removed
  std::int64_t enrolments = 0;        ///< campaign enrolments removed
  friend bool operator==(const LeadErasure&, const LeadErasure&) = default;
};

/** A request to create a lead. Only `phone` is required. */
struct LeadInput {
  std::string external_id;
  std::string phone;  ///< any format; read in the gym's region
  std::string first_name;
  std::string last_name;
  std::string email;
  std::string source;
  std::string interest;
  std::string timeline;
  std::string notes;
  std::vector<std::string> tags;
  std::optional<Consent> consent;                 ///< absent: not stated (a new lead has no consent)
  bool do_not_call = false;
  std::optional<LeadStatus> status;               ///< default `new`
  std::optional<Qualification> qualification;     ///< set by hand when present
  std::string timezone;
  std::map<std::string, std::string> custom_fields;
  std::optional<Timestamp> created_at;            ///< default now (imports keep the original)
  std::string actor;                              ///< recorded in the history; default `api`
};

/** A partial update: only the fields that hold a value change. */
struct LeadPatch {
  std::optional<std::string> external_id;
  std::optional<std::string> phone;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> email;
  std::optional<std::string> source;
  std::optional<std::string> interest;
  std::optional<std::string> timeline;
  std::optional<std::string> notes;
  std::optional<Consent> consent;
  std::optional<Qualification> qualification;  ///< a manual qualification
  std::optional<std::string> timezone;
  std::optional<std::map<std::string, std::string>> custom_fields;  ///< replaces all custom fields
  std::string actor;                           ///< recorded in the history; default `api`
};

/** A request to move a lead's status; see docs/domain.md for the rules. */
struct StatusChange {
  LeadStatus to = LeadStatus::New;
  std::string actor;   ///< who asks; default `api`
  std::string reason;  ///< why; required for a move back
  bool force = false;  ///< allows a move back or out of `converted` (with a reason)
};

/** Which leads to list. Empty members do not filter. */
struct LeadFilter {
  std::vector<LeadStatus> statuses;          ///< any of these
  std::vector<Qualification> qualifications; ///< any of these
  std::vector<std::string> tags;             ///< all of these
  std::string source;
  std::optional<Timestamp> created_from;     ///< inclusive
  std::optional<Timestamp> created_to;       ///< exclusive
  std::string search;                        ///< substring of name, phone or email, case-insensitive
  int page = 1;                              ///< 1-based
  int page_size = 50;                        ///< 1–1000
};

/** One page of leads, newest first. */
struct LeadPage {
  std::vector<Lead> items;
  int page = 1;
  int page_size = 50;
  std::int64_t total = 0;  ///< leads matching the filter, over all pages
};

/** Field limits, in Unicode code points. */
inline constexpr std::size_t kMaxNameLength = 200;
inline constexpr std::size_t kMaxEmailLength = 320;
inline constexpr std::size_t kMaxTextLength = 10000;
inline constexpr std::size_t kMaxTagLength = 100;
inline constexpr std::size_t kMaxTags = 100;
inline constexpr int kMaxPageSize = 1000;

// ---------------------------------------------------------------------------
// JSON conversions (Boost.JSON, found by argument-dependent lookup)
// ---------------------------------------------------------------------------

#define GYMDASH_JSON_CONVERSIONS(T)                                             \
  void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, \
                  const T& v);                                                 \
  T tag_invoke(const boost::json::value_to_tag<T>&, const boost::json::value& jv);

GYMDASH_JSON_CONVERSIONS(LocalWindow)
GYMDASH_JSON_CONVERSIONS(Gym)
GYMDASH_JSON_CONVERSIONS(Consent)
GYMDASH_JSON_CONVERSIONS(Lead)
GYMDASH_JSON_CONVERSIONS(LeadEvent)
GYMDASH_JSON_CONVERSIONS(LeadErasure)
GYMDASH_JSON_CONVERSIONS(LeadInput)
GYMDASH_JSON_CONVERSIONS(LeadPatch)
GYMDASH_JSON_CONVERSIONS(StatusChange)
GYMDASH_JSON_CONVERSIONS(LeadFilter)
GYMDASH_JSON_CONVERSIONS(LeadPage)
GYMDASH_JSON_CONVERSIONS(LeadStatus)
GYMDASH_JSON_CONVERSIONS(Qualification)
GYMDASH_JSON_CONVERSIONS(CallResult)
GYMDASH_JSON_CONVERSIONS(DncEntry)
GYMDASH_JSON_CONVERSIONS(CallDirection)
GYMDASH_JSON_CONVERSIONS(Call)
GYMDASH_JSON_CONVERSIONS(CallFilter)
GYMDASH_JSON_CONVERSIONS(CallPage)

#undef GYMDASH_JSON_CONVERSIONS

/** Serializes any model type to a compact JSON string. */
template <class T>
std::string to_json(const T& v);

/** Parses a JSON string into a model type; errors are InvalidArgumentError naming the field. */
template <class T>
T from_json(std::string_view json);

}  // namespace gymdash

// Campaign value types (they use the types above).
#include <gymdash/campaign_model.hpp>
