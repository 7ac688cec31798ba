// CallService: call events merged into call records and folded into leads.
//
// Each event is checked completely (its fields, its gym, its lead, the call
// it merges into) before anything is written, so a rejected event needs no
// savepoint to undo: the writes that follow (event id, call row, the lead
// fold) can only fail on a storage error, which aborts the transaction.

#include <gymdash/error.hpp>
#include <gymdash/services/call.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <istream>
#include <map>
#include <memory>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <thread>
#include <variant>

#include "core/json_reader.hpp"
#include "core/read_ahead.hpp"
#include "services/call/opt_out.hpp"
#include "services/factories.hpp"
#include "services/gym_cache.hpp"
#include "services/call/recordings.hpp"
#include "services/analytics/rollup.hpp"  // rollups

namespace gymdash {
namespace {

constexpr std::size_t kMaxId = 200;
constexpr std::size_t kMaxText = 10000;
// Upper bounds that keep every sum of the analytics rollups exact in 64-bit
// integers (micro-dollars, seconds): no real call costs more or lasts longer.
constexpr double kMaxCostUsd = 10000;
constexpr std::int64_t kMaxDurationS = 86400;
// A callback_requested outcome without a time asked for is due this long after the call.
constexpr auto kDefaultCallbackDelay = std::chrono::hours{24};
// Lines an ingest's reader parses ahead in one piece (a transaction may span several).
constexpr std::size_t kReadChunk = 256;
// process_event's (and an ingest transaction's) attempts when another host
// changed one of its leads meanwhile. With 8 (and fixed pauses), a host kept
// busy by another one writing the same lead could lose every attempt: the
// two-host tests of tests/call_batch_test.cpp failed 8 of 18 runs on a loaded
// machine (docs/calls.md, "Idempotency and transactions").
constexpr int kConcurrentWriteAttempts = 20;

// The pause before attempt `next` (2, 3 …): growing with the attempts made
// (1, 4, 9 … ms, at most 50 ms) and drawn at random between half of that and
// all of it, so that two hosts that collided do not run again in step.
void pause_before_attempt(int next) {
  thread_local std::minstd_rand random(static_cast<std::uint_fast32_t>(
      std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
      static_cast<std::size_t>(std::chrono::steady_clock::now().time_since_epoch().count())));
  const int cap = std::min((next - 1) * (next - 1), 50) * 1000;  // µs
  std::uniform_int_distribution<int> pick(cap / 2, cap);
  std::this_thread::sleep_for(std::chrono::microseconds(pick(random)));
}
// One line of an ingest file: room for a transcript at its limit written with
// JSON escapes, and the other fields at theirs — four times the transcript
// limit, at least 4 MiB. A longer line is rejected (`too_long`, field `line`)
// without being held in memory.
constexpr std::size_t kMinLineBytes = std::size_t{4} << 20;

// Reads one line (without its '\n') into `text`. A line of more than `max`
// bytes is read to its end but not kept: `text` is left empty and
// `too_long` set. False at the end of the input with nothing read.
bool read_line(std::istream& in, std::string& text, std::size_t max, bool& too_long) {
  text.clear();
  too_long = false;
  std::streambuf* buf = in.rdbuf();
  if (buf == nullptr) return false;
  bool any = false;
  for (;;) {
    const int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return any;
    }
    any = true;
    if (c == '\n') return true;
    if (too_long) continue;
    if (text.size() == max) {
      too_long = true;
      std::string().swap(text);
      continue;
    }
    text.push_back(static_cast<char>(c));
  }
}

// Why an event is refused: a reason code of docs/calls.md, the field, the detail.
struct Rejection {
  std::string reason;
  std::string field;
  std::string detail;
};

[[noreturn]] void throw_rejection(const Rejection& r) {
  if (r.reason == "unknown_gym" || r.reason == "unknown_lead") throw NotFoundError(r.detail, r.field);
  throw InvalidArgumentError(r.detail, r.field);
}

// The checks that need nothing but the event itself.
std::optional<Rejection> check_event(const CallEvent& e, std::size_t max_transcript) {
  auto required = [](std::string_view field, const std::string& v) -> std::optional<Rejection> {
    if (v.empty()) return Rejection{"bad_field", std::string(field), fmt::format("{}: is required", field)};
    if (v.size() > kMaxId)
      return Rejection{"bad_field", std::string(field), fmt::format("{}: longer than {} bytes", field, kMaxId)};
    return std::nullopt;
  };
  if (auto r = required("event_id", e.event_id)) return r;
  if (auto r = required("call_id", e.call_id)) return r;
  if (auto r = required("gym_id", e.gym_id)) return r;
  if (e.lead_id.empty() && e.lead_external_id.empty())
    return Rejection{"bad_field", "lead_external_id", "lead_external_id: lead_id or lead_external_id is required"};
  if (e.lead_id.size() > kMaxId || e.lead_external_id.size() > kMaxId)
    return Rejection{"bad_field", "lead_id", fmt::format("lead_id: longer than {} bytes", kMaxId)};
  if (!e.started_at) return Rejection{"bad_field", "started_at", "started_at: is required"};
  for (auto [field, v] : {std::pair<const char*, const std::string*>{"to", &e.to},
                          {"from", &e.from},
                          {"campaign_id", &e.campaign_id},
                          {"provider", &e.provider}})
    if (v->size() > kMaxId)
      return Rejection{"bad_field", field, fmt::format("{}: longer than {} bytes", field, kMaxId)};
  for (auto [field, v] : {std::pair<const char*, const std::string*>{"summary", &e.summary},
                          {"recording_url", &e.recording_url},
                          {"end_reason", &e.end_reason}})
    if (v->size() > kMaxText)
      return Rejection{"bad_field", field, fmt::format("{}: longer than {} bytes", field, kMaxText)};
  if (e.transcript.size() > max_transcript)
    return Rejection{"too_long", "transcript",
                     fmt::format("transcript: {} bytes, over the limit of {}", e.transcript.size(), max_transcript)};
  if (e.recording_duration_s && *e.recording_duration_s < 0)
    return Rejection{"negative_duration", "recording_duration_s",
                     fmt::format("recording_duration_s: {} is negative", *e.recording_duration_s)};
  if (e.recording_channels && *e.recording_channels != 1 && *e.recording_channels != 2)
    return Rejection{"bad_field", "recording_channels", "recording_channels: must be 1 or 2"};
  if (!e.sentiment.empty() && e.sentiment != "positive" && e.sentiment != "neutral" && e.sentiment != "negative")
    return Rejection{"bad_field", "sentiment", "sentiment: must be positive, neutral or negative"};
  if (e.cost_usd && !(*e.cost_usd >= 0 && *e.cost_usd <= kMaxCostUsd))
    return Rejection{"bad_field", "cost_usd", fmt::format("cost_usd: must be between 0 and {}", kMaxCostUsd)};
  if (e.duration_s && *e.duration_s < 0)
    return Rejection{"negative_duration", "duration_s", fmt::format("duration_s: {} is negative", *e.duration_s)};
  if (e.duration_s && *e.duration_s > kMaxDurationS)
    return Rejection{"bad_field", "duration_s",
                     fmt::format("duration_s: {} is over {} (24 hours)", *e.duration_s, kMaxDurationS)};
  if (e.recording_duration_s && *e.recording_duration_s > kMaxDurationS)
    return Rejection{"bad_field", "recording_duration_s",
                     fmt::format("recording_duration_s: {} is over {} (24 hours)", *e.recording_duration_s,
                                 kMaxDurationS)};
  if (e.ended_at && *e.ended_at < *e.started_at)
    return Rejection{"bad_times", "ended_at", "ended_at: is before started_at"};
  if (e.outcome && e.answered_by && *e.answered_by != AnsweredBy::Human)
    return Rejection{"outcome_without_person", "outcome",
                     fmt::format("outcome: {} but answered_by is {}", to_string(*e.outcome), to_string(*e.answered_by))};
  return std::nullopt;
}

// Non-terminal statuses only move forward; a terminal one always wins over them.
int progress_rank(CallStatus s) {
  switch (s) {
    case CallStatus::Queued: return 0;
    case CallStatus::Ringing: return 1;
    case CallStatus::InProgress: return 2;
    default: return 3;
  }
}

// The merge rule of docs/calls.md: `c` is the call so far (a new one has only
// its ids), `e` the event arriving now.
void merge(Call& c, const CallEvent& e) {
  if (e.status) {
    const bool keep = is_terminal(c.status) ? !is_terminal(*e.status)
                                            : progress_rank(*e.status) < progress_rank(c.status);
    if (!keep) c.status = *e.status;
  }
  if (e.answered_by && (*e.answered_by != AnsweredBy::Unknown || c.answered_by == AnsweredBy::Unknown))
    c.answered_by = *e.answered_by;
  if (e.direction) c.direction = *e.direction;
  if (!e.to.empty()) c.to_number = e.to;
  if (!e.from.empty()) c.from_number = e.from;
  if (e.started_at) c.started_at = *e.started_at;
  if (e.ended_at) c.ended_at = e.ended_at;
  if (e.duration_s) c.duration_s = e.duration_s;
  if (e.outcome) c.outcome = e.outcome;
  if (e.callback_at) c.callback_at = e.callback_at;
  if (!e.sentiment.empty()) c.sentiment = e.sentiment;
  if (!e.summary.empty()) c.summary = e.summary;
  if (!e.recording_url.empty()) c.recording_url = e.recording_url;
  if (e.recording_duration_s) c.recording_duration_s = e.recording_duration_s;
  if (e.recording_channels) c.recording_channels = e.recording_channels;
  if (e.recording_consent) c.recording_consent = e.recording_consent;
  if (!e.transcript.empty()) c.transcript = e.transcript;
  if (!e.campaign_id.empty()) c.campaign_id = e.campaign_id;
  if (!e.provider.empty()) c.provider = e.provider;
  if (!e.end_reason.empty()) c.end_reason = e.end_reason;
  if (e.cost_usd) c.cost_usd = e.cost_usd;
}

// The checks of the merged call (events may each be fine and disagree).
std::optional<Rejection> check_call(const Call& c) {
  if (c.ended_at && *c.ended_at < c.started_at)
    return Rejection{"bad_times", "ended_at", fmt::format("ended_at: call {} would end before it started", c.provider_call_id)};
  if (c.outcome && c.answered_by != AnsweredBy::Human)
    return Rejection{"outcome_without_person", "outcome",
                     fmt::format("outcome: call {} has outcome {} but answered_by {}", c.provider_call_id,
                                 to_string(*c.outcome), to_string(c.answered_by))};
  return std::nullopt;
}

CallResult result_of(const Call& c) {
  CallResult r;
  r.call_id = c.id;
  r.started_at = c.started_at;
  r.ended_at = c.ended_at;
  r.status = c.status;
  r.answered_by = c.answered_by;
  r.outcome = c.outcome;
  r.callback_at = c.callback_at;
  r.sentiment = c.sentiment;
  r.opted_out = opt_out::asks_not_to_be_called(c.transcript);
  return r;
}

// One line of an ingest after parsing: a refusal, or an event to apply.
struct ParsedLine {
  std::int64_t line = 0;
  std::optional<Rejection> rejected;
  bool unreadable = false;  // `rejected` by the reader (not JSON, a bad field …), not by the store's state
  CallEvent event;
};

ParsedLine parse_line(std::string_view text, std::int64_t line, std::size_t max_transcript) {
  ParsedLine p;
  p.line = line;
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec) {
    p.rejected = Rejection{"bad_json", "", fmt::format("not JSON: {}", ec.message())};
    return p;
  }
  if (!value.is_object()) {
    p.rejected = Rejection{"bad_json", "", fmt::format("expected an object, got {}", json::kind_name(value))};
    return p;
  }
  try {
    p.event = boost::json::value_to<CallEvent>(value);
  } catch (const InvalidArgumentError& e) {
    p.rejected = Rejection{"bad_field", e.field(), e.what()};
    return p;
  }
  p.rejected = check_event(p.event, max_transcript);
  return p;
}

// The events of one transaction, applied in windows (a window: the events
// read in one piece, at most kReadChunk). For a window, prefetch() reads in a
// few statements what its events need of the store (the event ids already
// recorded, the calls they name, their leads); add() then checks and merges
// each event in memory; record_window() records the ids of the events it
// applied in one statement. An id another process recorded meanwhile makes
// its event a duplicate: the window's recording is undone (a savepoint) and
// its events are applied again, that one as a duplicate — only where another
// writer can enter the store's transactions (PostgreSQL); elsewhere add()
// keeps no journal of the calls it changes. finish() writes each touched call
// once and folds each touched lead once, however many of the batch's events
// name it.
class Batch {
 public:
  Batch(Store& store, LeadService& leads, Timestamp now, Logger* logger = nullptr)
      : store_(store), leads_(leads), now_(now), logger_(logger), journal_(!store.serializes_writers()) {}

  // Whether add() fills ProcessResult::call (an ingest only counts: it does not need the copy).
  void report_calls(bool on) { report_calls_ = on; }

  // Reads what add() will need for these events (checked, of known gyms), a
  // few statements for each gym instead of several for each event.
  void prefetch(const std::vector<const CallEvent*>& events) {
    struct Wanted {
      std::vector<std::string> event_ids, provider_ids, lead_ids, external_ids;
    };
    std::map<std::string, Wanted, std::less<>> by_gym;
    // Each id is asked for once: what is asked is entered at once as not
    // found (an event id as unrecorded), and the answers overwrite that.
    for (const CallEvent* e : events) {
      auto& w = by_gym[e->gym_id];
      if (seen_.try_emplace(event_key(*e), Seen::Unrecorded).second) w.event_ids.push_back(e->event_id);
      if (auto key = call_key(e->gym_id, e->call_id);
          !calls_.contains(key) && before_.try_emplace(std::move(key), std::nullopt).second)
        w.provider_ids.push_back(e->call_id);
      if (leads_by_key_.try_emplace(lead_key(*e), std::nullopt).second)
        (e->lead_id.empty() ? w.external_ids : w.lead_ids).push_back(e->lead_id.empty() ? e->lead_external_id : e->lead_id);
    }
    auto& calls = store_.calls();
    auto& leads = store_.leads();
    for (auto& [gym_id, w] : by_gym) {
      if (!w.event_ids.empty())
        for (const auto& id : calls.recorded_events(gym_id, w.event_ids)) seen_[call_key(gym_id, id)] = Seen::Recorded;
      if (!w.provider_ids.empty())
        for (auto& c : calls.find_by_provider_ids(gym_id, w.provider_ids)) {
          auto key = call_key(gym_id, c.provider_call_id);
          before_.insert_or_assign(std::move(key), std::move(c));
        }
      if (!w.lead_ids.empty())
        for (auto& l : leads.find_many(gym_id, w.lead_ids)) {
          auto key = lead_key(gym_id, false, l.id);  // before `l` is moved from
          know_lead(std::move(key), std::move(l));
        }
      if (!w.external_ids.empty())
        for (auto& l : leads.find_by_external_ids(gym_id, w.external_ids)) {
          auto key = lead_key(gym_id, true, l.external_id);
          know_lead(std::move(key), std::move(l));
        }
    }
  }

  // Tells a gym as the caller read it (the rollups need its zone).
  void know_gym(const Gym& gym) { gyms_.try_emplace(gym.id, gym); }

  // Starts a window: what add() changes from here on, undo_window() can undo.
  void begin_window() {
    window_records_.clear();
    window_keys_.clear();
    window_results_.clear();
    window_calls_.clear();
    window_touched_.clear();
    window_logs_ = logs_.size();
  }

  // Applies one checked event of a known gym in memory: fills `out`, or
  // returns the rejection (having changed nothing).
  std::optional<Rejection> add(const CallEvent& e, ProcessResult& out) {
    auto ekey = event_key(e);
    auto seen = seen_.find(ekey);
    if (seen == seen_.end())  // not prefetched: the store says
      seen = seen_.emplace(ekey, store_.calls().has_event(e.gym_id, e.event_id) ? Seen::Recorded : Seen::Unrecorded)
                 .first;
    if (seen->second != Seen::Unrecorded) {
      out.kind = ProcessResult::Kind::Duplicate;
      if (report_calls_) {
        auto staged = calls_.find(call_key(e.gym_id, e.call_id));
        out.call = staged != calls_.end() ? staged->second.call : before_of(e.gym_id, e.call_id).value_or(Call{});
      }
      return std::nullopt;
    }
    const std::string* lead_id = resolve_lead(e);
    if (!lead_id) {
      const bool by_id = !e.lead_id.empty();
      const std::string_view field = by_id ? "lead_id" : "lead_external_id";
      return Rejection{"unknown_lead", std::string(field),
                       fmt::format("{}: lead {} not found in gym {}", field,
                                   std::string_view(by_id ? e.lead_id : e.lead_external_id).substr(0, 64),
                                   std::string_view(e.gym_id).substr(0, 64))};
    }
    auto key = call_key(e.gym_id, e.call_id);
    touch(key);
    auto it = calls_.find(key);
    if (it == calls_.end()) {
      Staged staged;
      staged.before = before_of(e.gym_id, e.call_id);
      if (!staged.before && !e.campaign_id.empty()) staged.before = placeholder_of(e, *lead_id);
      if (staged.before) {
        staged.call = *staged.before;
        staged.call.provider_call_id = e.call_id;
      } else {
        staged.call.id = make_id("call_");
        staged.call.provider_call_id = e.call_id;
        staged.call.gym_id = e.gym_id;
        staged.call.lead_id = *lead_id;
        staged.call.created_at = now_;
      }
      it = calls_.emplace(std::move(key), std::move(staged)).first;
    }
    Staged& staged = it->second;
    if (staged.call.lead_id != *lead_id)
      return Rejection{"bad_field", "call_id",
                       fmt::format("call_id: call {} belongs to lead {}, not {}", std::string_view(e.call_id).substr(0, 64),
                                   staged.call.lead_id, *lead_id)};
    Call merged = staged.call;
    merge(merged, e);
    // Recordings: no recording_url without consent; a purged call stays purged.
    if (recordings::keep_rules(merged).dropped_for_consent && logger_) {
      LogRecord r;
      r.level = LogLevel::Info;
      r.operation = "call.recording_consent";
      r.gym_id = merged.gym_id;
      r.lead_id = merged.lead_id;
      r.call_id = merged.id;
      r.message = "recording_url dropped: recording_consent is false";
      logs_.push_back(std::move(r));  // logged once the window's event ids are recorded
    }
    if (auto r = check_call(merged)) return r;
    if (merged.outcome == CallOutcome::CallbackRequested && !merged.callback_at)
      merged.callback_at = merged.ended_at.value_or(merged.started_at) + kDefaultCallbackDelay;
    merged.updated_at = now_;
    seen->second = Seen::Applied;  // no entry was added to seen_ since it was found
    window_keys_.push_back(std::move(ekey));
    window_records_.push_back(CallEventRecord{e.gym_id, e.event_id, merged.id, now_});
    if (!staged.results) staged.results = &results_[merged.gym_id][merged.lead_id];
    staged.results->push_back(result_of(merged));
    window_results_.push_back(staged.results);
    staged.call = std::move(merged);
    staged.dirty = true;
    out.kind = ProcessResult::Kind::Applied;
    if (report_calls_) out.call = staged.call;
    return std::nullopt;
  }

  // Records the ids of the events the window applied, in one statement. An
  // id recorded by another process since prefetch() looked (its insert
  // waited for ours or we for its) makes its event a duplicate: then nothing
  // is recorded, those ids are returned, and the caller undoes the window
  // and applies it again.
  std::vector<std::string> record_window() {
    std::vector<std::string> lost;
    if (window_records_.empty()) {
      flush_logs();
      return lost;
    }
    struct Lost {};
    const auto record = [&] {
      const auto fresh = store_.calls().record_events(window_records_);
      for (std::size_t i = 0; i < fresh.size(); ++i)
        if (!fresh[i]) lost.push_back(window_keys_[i]);
      if (!lost.empty()) throw Lost{};
    };
    try {
      // One id alone needs no savepoint: if it is lost, nothing was recorded
      // (process_event, a webhook, pays no more round trips than before).
      // Nor does a store whose transaction no other writer can enter: no id
      // it found unrecorded can be recorded meanwhile (on SQLite a savepoint
      // around the window made a 300,000-event ingest 1.27 times slower).
      if (window_records_.size() == 1 || store_.serializes_writers()) record();
      else store_.transact(record);
    } catch (const Lost&) {
      // Without a journal the window cannot be undone. No other writer can
      // enter this store's transactions, so no id it found unrecorded can be
      // recorded meanwhile: if one is, the whole transaction fails.
      if (!journal_)
        throw StorageError("event_id: an event id this transaction found unrecorded was recorded meanwhile",
                           "event_id");
      for (const auto& key : lost) seen_[key] = Seen::Lost;
    }
    if (lost.empty()) flush_logs();
    return lost;
  }

  // Undoes what add() did since begin_window().
  void undo_window() {
    for (auto it = window_calls_.rbegin(); it != window_calls_.rend(); ++it) {
      if (it->second) calls_.insert_or_assign(it->first, std::move(*it->second));
      else calls_.erase(it->first);
    }
    for (const auto& key : window_keys_)
      if (auto it = seen_.find(key); it != seen_.end() && it->second == Seen::Applied) it->second = Seen::Unrecorded;
    for (auto it = window_results_.rbegin(); it != window_results_.rend(); ++it) (*it)->pop_back();
    logs_.resize(window_logs_);
    begin_window();
  }

  // Writes the batch's calls and folds its leads; call inside the transaction of add().
  void finish() {
    // The leads' stored call results, once for the rollups and the fold.
    std::map<std::string, std::map<std::string, std::vector<CallResult>>> stored;  // gym → lead → results
    for (const auto& [gym_id, leads] : results_) {
      std::vector<std::string> ids;
      for (const auto& [lead_id, results] : leads)
        if (!results.empty()) ids.push_back(lead_id);
      if (ids.empty()) continue;
      auto got = store_.leads().call_results_many(gym_id, ids);
      auto& of_gym = stored[gym_id];
      for (std::size_t k = 0; k < ids.size(); ++k) of_gym.emplace(ids[k], std::move(got[k]));
    }
    analytics::CallRollupRecorder rollups(store_);  // rollups
    for (const auto& [id, gym] : gyms_) rollups.know_gym(gym);
    for (const auto& [id, lead] : leads_by_id_) rollups.know_lead(*lead);
    for (const auto& [gym_id, leads] : stored)
      for (const auto& [lead_id, results] : leads) {
        std::map<std::string, Timestamp> starts;
        for (const auto& r : results) starts[r.call_id] = r.started_at;
        rollups.know_starts(lead_id, std::move(starts));
      }
    // The staged calls are moved out: the batch is done with them.
    // In id order, the calls table's key order: new calls (ids that grow
    // with time) are appended in sequence instead of in the hash table's order.
    std::vector<Staged*> to_put;
    for (auto& [key, staged] : calls_)
      if (staged.dirty) to_put.push_back(&staged);
    std::sort(to_put.begin(), to_put.end(), [](const Staged* a, const Staged* b) { return a->call.id < b->call.id; });
    std::vector<Call> dirty;
    std::vector<const std::optional<Call>*> befores;
    dirty.reserve(to_put.size());
    befores.reserve(to_put.size());
    for (Staged* staged : to_put) {
      dirty.push_back(std::move(staged->call));
      befores.push_back(&staged->before);
    }
    store_.calls().put_many(dirty);
    for (std::size_t i = 0; i < dirty.size(); ++i) rollups.stored(*befores[i], dirty[i]);  // rollups
    rollups.flush();  // rollups
    // Each lead once, with one result per event in arrival order, so that its
    // history reads as if the events had come one by one; leads in id order.
    for (auto& [gym_id, leads] : results_) {
      std::vector<LeadCallResults> batch;
      batch.reserve(leads.size());
      auto& of_gym = stored[gym_id];
      for (auto& [lead_id, results] : leads) {
        if (results.empty()) continue;
        // The lead as resolve_lead() read it in this transaction: no lead is
        // written before this point. Moved: the batch is done with it.
        auto known = leads_by_id_.find(lead_id);
        LeadCallResults item{lead_id, std::move(results),
                             known != leads_by_id_.end() && known->second->gym_id == gym_id
                                 ? std::optional<Lead>(std::move(*known->second))
                                 : std::nullopt};
        if (auto s = of_gym.find(lead_id); s != of_gym.end()) item.stored_results = std::move(s->second);
        batch.push_back(std::move(item));
      }
      if (!batch.empty()) leads_.update_leads_after_calls(gym_id, batch);
    }
  }

 private:
  struct Staged {
    std::optional<Call> before;  // as stored before this batch
    Call call;                   // with the batch's events merged in
    bool dirty = false;
    std::vector<CallResult>* results = nullptr;  // its lead's entry in results_, once it has one
  };

  // What the batch knows of an event id of a gym.
  enum class Seen : std::uint8_t {
    Unrecorded,  // not recorded before this batch (prefetch() or the store said so)
    Recorded,    // recorded before this batch: a duplicate
    Applied,     // applied by this batch: a later one is a duplicate
    Lost,        // recorded by another process while this batch ran: a duplicate
  };

  static std::string event_key(const CallEvent& e) { return call_key(e.gym_id, e.event_id); }

  static std::string call_key(std::string_view gym_id, std::string_view call_id) {
    std::string key(gym_id);
    key += '\x1f';
    key += call_id;
    return key;
  }

  static std::string lead_key(std::string_view gym_id, bool external, std::string_view id) {
    std::string key(gym_id);
    key += external ? "\x1f" "x" : "\x1f" "i";
    key += id;
    return key;
  }
  static std::string lead_key(const CallEvent& e) {
    return e.lead_id.empty() ? lead_key(e.gym_id, true, e.lead_external_id) : lead_key(e.gym_id, false, e.lead_id);
  }

  // The gym's call with that provider id as stored before this batch: prefetch()'s answer, else the store's.
  std::optional<Call> before_of(std::string_view gym_id, std::string_view provider_call_id) {
    auto key = call_key(gym_id, provider_call_id);
    auto it = before_.find(key);
    if (it == before_.end())
      it = before_.emplace(std::move(key), store_.calls().find_by_provider_id(gym_id, provider_call_id)).first;
    return it->second;
  }

  void flush_logs() {
    if (logger_)
      for (auto& r : logs_) logger_->log(std::move(r));
    logs_.clear();
    window_logs_ = 0;
  }

  // Keeps the staged call of `key` as it is now, the first time the window touches it.
  void touch(const std::string& key) {
    if (!journal_ || !window_touched_.insert(key).second) return;
    auto it = calls_.find(key);
    window_calls_.emplace_back(key, it == calls_.end() ? std::nullopt : std::optional<Staged>(it->second));
  }

  // A campaign call begun by begin_outbound_call whose provider id is not
  // attached yet: the call an event of that campaign for that lead is about.
  std::optional<Call> placeholder_of(const CallEvent& e, const std::string& lead_id) {
    // The lead as resolve_lead() read it in this transaction.
    auto known = leads_by_id_.find(lead_id);
    if (known == leads_by_id_.end() || known->second->gym_id != e.gym_id) return std::nullopt;
    const Lead& lead = *known->second;
    if (lead.active_call_id.empty()) return std::nullopt;
    auto call = store_.calls().find(e.gym_id, lead.active_call_id);
    if (!call || call->provider_call_id != call->id || call->campaign_id != e.campaign_id || is_terminal(call->status))
      return std::nullopt;
    return call;
  }

  void know_lead(std::string key, Lead lead) {
    auto id = lead.id;
    const Lead* known =
        leads_by_id_.try_emplace(std::move(id), std::make_unique<Lead>(std::move(lead))).first->second.get();
    leads_by_key_.insert_or_assign(std::move(key), std::optional<std::string>(known->id));
  }

  // The id of the event's lead, or nullptr if the gym has none such.
  const std::string* resolve_lead(const CallEvent& e) {
    auto key = lead_key(e);
    auto it = leads_by_key_.find(key);
    if (it == leads_by_key_.end()) {
      auto lead = e.lead_id.empty() ? store_.leads().find_by_external_id(e.gym_id, e.lead_external_id)
                                    : store_.leads().find(e.gym_id, e.lead_id);
      if (lead) know_lead(key, std::move(*lead));
      else leads_by_key_.emplace(key, std::nullopt);
      it = leads_by_key_.find(key);
    }
    return it->second ? &*it->second : nullptr;
  }

  Store& store_;
  LeadService& leads_;
  Timestamp now_;
  Logger* logger_ = nullptr;  // a recording dropped for want of consent is logged here
  std::unordered_map<std::string, Staged> calls_;
  // Whether a window can be undone (undo_window): only where another writer
  // can record an event id during this store's transactions.
  bool journal_ = true;
  bool report_calls_ = true;
  std::unordered_map<std::string, Seen> seen_;  // event keys (event_key) asked for or applied
  std::unordered_map<std::string, std::optional<Call>> before_;  // provider id → the call as stored before
  std::unordered_map<std::string, std::optional<std::string>> leads_by_key_;
  std::unordered_map<std::string, std::unique_ptr<Lead>> leads_by_id_;  // as read in this transaction
  std::map<std::string, Gym, std::less<>> gyms_;                        // as the caller read them
  std::map<std::string, std::map<std::string, std::vector<CallResult>>> results_;  // gym → lead → results
  std::vector<LogRecord> logs_;
  // The window's changes, for undo_window().
  std::vector<CallEventRecord> window_records_;
  std::vector<std::string> window_keys_;
  std::vector<std::vector<CallResult>*> window_results_;
  std::vector<std::pair<std::string, std::optional<Staged>>> window_calls_;
  std::unordered_set<std::string> window_touched_;
  std::size_t window_logs_ = 0;
};

class CallServiceImpl final : public CallService {
 public:
  CallServiceImpl(Store& store, std::shared_ptr<Clock> clock, LeadService& leads,
                  std::shared_ptr<const Config> config = nullptr, std::shared_ptr<Logger> logger = nullptr,
                  std::shared_ptr<GymCache> cache = nullptr)
      : store_(store),
        clock_(std::move(clock)),
        leads_(leads),
        config_(std::move(config)),
        logger_(std::move(logger)),
        gyms_(cache ? std::move(cache) : std::make_shared<GymCache>(std::chrono::milliseconds{0})),
        max_transcript_(config_ ? config_->limits.max_transcript_bytes : Limits{}.max_transcript_bytes),
        max_page_size_(config_ ? std::min(config_->limits.max_page_size, kMaxPageSize) : kMaxPageSize) {}

  ProcessResult process_event(const CallEvent& event) override {
    if (auto r = check_event(event, max_transcript_)) throw_rejection(*r);
    const auto gym = gyms_->get(store_, event.gym_id);
    if (!gym) throw_rejection(unknown_gym(event.gym_id));
    ProcessResult result;
    std::optional<Rejection> rejected;
    // Another host may write the same lead between this transaction's read
    // and its write (PostgreSQL, READ COMMITTED): the lead's version check
    // then refuses the write and the transaction is undone whole. It is run
    // again from the start, reading what the other host committed — the
    // event is idempotent, and a webhook whose provider does not retry
    // (Twilio's status callbacks) would otherwise be lost. SQLite and the
    // memory store shut other writers out of the transaction: never here.
    for (int attempt = 1;; ++attempt) {
      try {
        result = ProcessResult{};
        rejected.reset();
        store_.transact([&] {
          Batch batch(store_, leads_, clock_->now(), logger_.get());
          batch.know_gym(*gym);
          for (;;) {
            batch.begin_window();
            rejected = batch.add(event, result);
            if (rejected || batch.record_window().empty()) break;
            batch.undo_window();  // recorded meanwhile by another process: a duplicate now
          }
          if (!rejected) batch.finish();
        });
        break;
      } catch (const ConflictError& e) {
        if (e.field() != "version" || attempt == kConcurrentWriteAttempts) throw;
        if (logger_)
          logger_->log(LogLevel::Debug, "call.process_event",
                       fmt::format("event {}: a lead changed concurrently; attempt {} of {}",
                                   event.event_id.substr(0, 64), attempt + 1, kConcurrentWriteAttempts));
        pause_before_attempt(attempt + 1);
      }
    }
    if (rejected) throw_rejection(*rejected);
    return result;
  }

  IngestReport ingest_jsonl(std::istream& in, const IngestOptions& options) override {
    if (options.batch_size < 1 || options.batch_size > 1'000'000)
      throw_invalid("batch_size", "must be between 1 and 1000000");
    const auto started = std::chrono::steady_clock::now();
    // The input's size, when the stream can tell, for the store's bulk mode.
    std::uint64_t bytes_total = 0;
    if (const auto here = in.tellg(); here != std::istream::pos_type(-1) && in.seekg(0, std::ios::end)) {
      const auto end = in.tellg();
      if (end != std::istream::pos_type(-1) && end > here) bytes_total = static_cast<std::uint64_t>(end - here);
      in.seekg(here);
    }
    in.clear();
    std::map<std::string, Gym, std::less<>> gyms;
    for (auto& g : store_.gyms().list()) {
      auto id = g.id;
      gyms.emplace(std::move(id), std::move(g));
    }

    // Reading and parsing JSON runs on its own thread, ahead of the writer (as
    // in import_leads), in chunks of at most kReadChunk lines whatever the
    // transaction size, so that a large batch_size does not hold several
    // batches of parsed events in memory.
    // The configuration bounds what one transaction may hold, whatever the caller asks.
    const auto per_transaction = static_cast<std::size_t>(
        std::min(options.batch_size, config_ ? config_->limits.max_batch_size : Limits{}.max_batch_size));
    const std::size_t max_line = std::max(kMinLineBytes, 4 * max_transcript_);
    ReadAhead<ParsedLine> lines(std::min(per_transaction, kReadChunk),
                                [&](const ReadAhead<ParsedLine>::Emit& emit) {
      std::string text;
      std::int64_t line = 0;
      bool too_long = false;
      while (read_line(in, text, max_line, too_long)) {
        ++line;
        if (too_long) {
          ParsedLine p;
          p.line = line;
          p.rejected = Rejection{"too_long", "line", fmt::format("line: over the limit of {} bytes", max_line)};
          p.unreadable = true;
          if (!emit(std::move(p))) return;
          continue;
        }
        if (!text.empty() && text.back() == '\r') text.pop_back();
        if (text.find_first_not_of(" \t") == std::string::npos) continue;
        auto p = parse_line(text, line, max_transcript_);
        p.unreadable = p.rejected.has_value();
        if (!emit(std::move(p))) return;
      }
    });

    IngestReport report;
    // About 400 bytes an event in the data contract's files.
    store_.begin_bulk_load(static_cast<std::int64_t>(bytes_total / 400), BulkLoad::CallEvents);
    try {
      // Where writers do not shut each other out (PostgreSQL), a transaction
      // fails whole with a ConflictError on `version` when another host
      // changed one of its leads meanwhile (as in process_event). It is run
      // again from its first line, reading what the other host committed, so
      // its lines are kept until it commits (one transaction's lines in
      // memory instead of one piece's). SQLite and the memory store never
      // see the conflict: their pieces are let go as they are applied.
      const bool rerunnable = !store_.serializes_writers();
      std::vector<ParsedLine> chunk;
      std::size_t pos = 0;  // the next line of `chunk` to apply
      std::vector<ParsedLine> piece;
      const auto more = [&] {
        if (pos < chunk.size()) return true;
        if (!rerunnable) {
          pos = 0;
          return lines.next(chunk);  // the spent chunk is freed on the reader's thread
        }
        if (!lines.next(piece)) return false;
        chunk.insert(chunk.end(), std::make_move_iterator(piece.begin()), std::make_move_iterator(piece.end()));
        return true;
      };
      // One transaction: lines from `pos` on, up to per_transaction of them
      // (reading more pieces as it goes); its counts into `delta`, its
      // rejected lines into `listed`.
      const auto apply_transaction = [&](IngestReport& delta, std::vector<RejectedLine>& listed) {
        const Timestamp now = clock_->now();
        store_.transact([&] {
          delta = IngestReport{};
          listed.clear();
          ProcessResult result;
          Batch applier(store_, leads_, now, logger_.get());
          applier.report_calls(false);
          for (const auto& [id, gym] : gyms) applier.know_gym(gym);
          std::size_t n = 0;
          std::vector<const CallEvent*> wanted;
          std::vector<std::optional<Rejection>> verdicts;
          std::vector<ProcessResult::Kind> kinds;
          do {
            // One window: the rest of the chunk read, up to the transaction's size.
            const std::size_t start = pos;
            const std::size_t end = std::min(chunk.size(), pos + (per_transaction - n));
            wanted.clear();
            for (std::size_t i = pos; i < end; ++i) {
              auto& p = chunk[i];
              if (!p.rejected && !gyms.contains(p.event.gym_id)) p.rejected = unknown_gym(p.event.gym_id);
              if (!p.rejected) wanted.push_back(&p.event);
            }
            applier.prefetch(wanted);
            for (;;) {
              applier.begin_window();
              verdicts.assign(end - start, std::nullopt);
              kinds.assign(end - start, ProcessResult::Kind::Applied);
              for (std::size_t i = start; i < end; ++i) {
                if (chunk[i].rejected) continue;
                verdicts[i - start] = applier.add(chunk[i].event, result);
                kinds[i - start] = result.kind;
              }
              if (applier.record_window().empty()) break;
              applier.undo_window();  // some were recorded meanwhile by another process: duplicates now
            }
            for (; pos < end; ++pos, ++n) {
              auto& p = chunk[pos];
              ++delta.events;
              if (!p.rejected) {
                if (auto& r = verdicts[pos - start]; r) p.rejected = std::move(r);
                else if (kinds[pos - start] == ProcessResult::Kind::Duplicate) ++delta.duplicates;
                else ++delta.applied;
              }
              if (p.rejected) {
                ++delta.rejected;
                ++delta.rejected_by_reason[p.rejected->reason];
                if (report.rejected_lines.size() + listed.size() < options.max_rejected_lines)
                  // A detail is an error text: what it quotes of the line is masked as in every Error.
                  listed.push_back(RejectedLine{p.line, p.rejected->reason, redact_message(p.rejected->detail)});
                else
                  delta.rejected_lines_truncated = true;
              }
            }
          } while (n < per_transaction && more());
          applier.finish();
        });
      };
      while (more()) {
        IngestReport delta;
        std::vector<RejectedLine> listed;  // this transaction's rejected lines, reported once it commits
        const std::size_t first = pos;      // the transaction's first line in `chunk`
        for (int attempt = 1;; ++attempt) {
          try {
            apply_transaction(delta, listed);
            break;
          } catch (const ConflictError& e) {
            if (!rerunnable || e.field() != "version" || attempt == kConcurrentWriteAttempts) throw;
            // Undone whole: its lines are read again, as the file gave them.
            for (std::size_t i = first; i < pos; ++i)
              if (!chunk[i].unreadable) chunk[i].rejected.reset();
            pos = first;
            if (logger_)
              logger_->log(LogLevel::Debug, "call.ingest",
                           fmt::format("line {}: a lead changed concurrently; the transaction from this line "
                                       "again, attempt {} of {}",
                                       chunk[first].line, attempt + 1, kConcurrentWriteAttempts));
            pause_before_attempt(attempt + 1);
          }
        }
        if (rerunnable) {
          chunk.erase(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(pos));
          pos = 0;
        }
        // Committed: count it, and list its rejected lines.
        report.events += delta.events;
        report.duplicates += delta.duplicates;
        report.applied += delta.applied;
        report.rejected += delta.rejected;
        for (const auto& [reason, n] : delta.rejected_by_reason) report.rejected_by_reason[reason] += n;
        for (auto& r : listed) report.rejected_lines.push_back(std::move(r));
        if (delta.rejected_lines_truncated) report.rejected_lines_truncated = true;
        if (options.progress)
          options.progress(IngestProgress{report.events, report.duplicates, report.applied, report.rejected});
      }
    } catch (...) {
      lines.stop();
      try {
        store_.end_bulk_load();
      } catch (...) {
        // The first error is the one to report; the next open rebuilds the indexes.
      }
      throw;
    }
    store_.end_bulk_load();
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
  }

  Call get_call(std::string_view gym_id, std::string_view call_id) override {
    require_gym(gym_id);
    if (auto c = store_.calls().find(gym_id, call_id)) return *c;
    if (auto c = store_.calls().find_by_provider_id(gym_id, call_id)) return *c;
    throw NotFoundError(fmt::format("call {}: not found in gym {}", call_id.substr(0, 64), gym_id.substr(0, 64)),
                        "call_id");
  }

  CallPage list_calls(std::string_view gym_id, const CallFilter& filter) override {
    require_gym(gym_id);
    if (filter.page < 1) throw_invalid("page", "must be 1 or more");
    if (filter.page_size < 1 || filter.page_size > max_page_size_)
      throw_invalid("page_size", fmt::format("must be between 1 and {}", max_page_size_));
    if (filter.started_from && filter.started_to && *filter.started_to < *filter.started_from)
      throw_invalid("started_to", "is before started_from");
    return store_.calls().list(gym_id, filter);
  }

  Call begin_outbound_call(const OutboundCall& oc) override {
    require_gym(oc.gym_id);
    if (oc.lead_id.empty()) throw_invalid("lead_id", "is required");
    for (auto [field, v] : {std::pair<const char*, const std::string*>{"campaign_id", &oc.campaign_id},
                            {"provider", &oc.provider},
                            {"from", &oc.from}})
      if (v->size() > kMaxId) throw_invalid(field, fmt::format("longer than {} bytes", kMaxId));
    Call c;
    store_.transact([&] {
      const auto lead = store_.leads().find(oc.gym_id, oc.lead_id);
      if (!lead)
        throw NotFoundError(fmt::format("lead {}: not found in gym {}", std::string_view(oc.lead_id).substr(0, 64),
                                        std::string_view(oc.gym_id).substr(0, 64)),
                            "lead_id");
      const Timestamp now = clock_->now();
      c.id = make_id("call_");
      c.provider_call_id = c.id;  // until the provider's id is known
      c.gym_id = oc.gym_id;
      c.lead_id = lead->id;
      c.direction = CallDirection::Outbound;
      c.to_number = lead->phone;
      c.from_number = oc.from;
      c.status = CallStatus::Queued;
      c.started_at = now;
      c.campaign_id = oc.campaign_id;
      c.provider = oc.provider;
      c.created_at = now;
      c.updated_at = now;
      if (!store_.leads().set_active_call(oc.gym_id, lead->id, "", c.id))
        throw ConflictError(fmt::format("lead_id: lead {} is on a call already", lead->id), "lead_id");
      store_call(std::nullopt, c);
    });
    return c;
  }

  Call attach_provider_call_id(std::string_view gym_id, std::string_view call_id,
                               std::string_view provider_call_id) override {
    require_gym(gym_id);
    if (provider_call_id.empty() || provider_call_id.size() > kMaxId)
      throw_invalid("provider_call_id", fmt::format("must be 1 to {} bytes", kMaxId));
    Call c;
    store_.transact([&] {
      c = require_call(gym_id, call_id);
      if (c.provider_call_id == provider_call_id) return;
      if (c.provider_call_id != c.id)
        throw ConflictError(fmt::format("provider_call_id: call {} has provider id {} already", c.id,
                                        std::string_view(c.provider_call_id).substr(0, 64)),
                            "provider_call_id");
      if (auto other = store_.calls().find_by_provider_id(gym_id, provider_call_id))
        throw ConflictError(fmt::format("provider_call_id: {} belongs to call {}", provider_call_id.substr(0, 64),
                                        other->id),
                            "provider_call_id");
      c.provider_call_id = std::string(provider_call_id);
      c.updated_at = clock_->now();
      store_.calls().put(c);
    });
    return c;
  }

  Call abandon_call(std::string_view gym_id, std::string_view call_id, std::string_view end_reason) override {
    require_gym(gym_id);
    if (end_reason.size() > 200) throw_invalid("end_reason", "longer than 200 characters");
    Call c;
    store_.transact([&] { c = abandon(require_call(gym_id, call_id), end_reason); });
    return c;
  }

  std::int64_t abandon_stale_calls(Timestamp started_before, std::string_view end_reason) override {
    if (end_reason.size() > 200) throw_invalid("end_reason", "longer than 200 characters");
    std::int64_t n = 0;
    for (;;) {
      std::int64_t round = 0;
      store_.transact([&] {
        round = 0;
        for (auto& c : store_.calls().open_calls(started_before, 500)) {
          if (c.campaign_id.empty()) continue;  // only the dialer's calls
          abandon(std::move(c), end_reason);
          ++round;
        }
      });
      n += round;
      if (round == 0) break;
    }
    return n;
  }

  PurgeReport purge_expired_recordings(std::optional<Timestamp> now) override {
    return recordings::purge_expired(store_, config_.get(), now.value_or(clock_->now()));
  }

  PurgeReport purge_lead_recordings(std::string_view gym_id, std::string_view lead_id, std::string_view actor,
                                    std::string_view reason) override {
    return recordings::purge_lead(store_, gym_id, lead_id, actor, reason, clock_->now());
  }

  std::vector<Call> lead_calls(std::string_view gym_id, std::string_view lead_id) override {
    require_gym(gym_id);
    if (!store_.leads().find(gym_id, lead_id))
      throw NotFoundError(fmt::format("lead {}: not found in gym {}", lead_id.substr(0, 64), gym_id.substr(0, 64)),
                          "lead_id");
    return store_.calls().for_lead(gym_id, lead_id);
  }

 private:
  static Rejection unknown_gym(std::string_view gym_id) {
    return Rejection{"unknown_gym", "gym_id", fmt::format("gym_id: gym {} not found", gym_id.substr(0, 64))};
  }

  Call require_call(std::string_view gym_id, std::string_view call_id) {
    if (auto c = store_.calls().find(gym_id, call_id)) return *c;
    throw NotFoundError(fmt::format("call {}: not found in gym {}", call_id.substr(0, 64), gym_id.substr(0, 64)),
                        "call_id");
  }

  // Stores a call written outside an event (placed or abandoned here), with
  // its rollups, and folds it into its lead. Inside a transaction.
  void store_call(const std::optional<Call>& before, const Call& c) {
    analytics::CallRollupRecorder rollups(store_);  // rollups
    store_.calls().put(c);
    rollups.stored(before, c);  // rollups
    rollups.flush();            // rollups
    leads_.update_leads_after_calls(c.gym_id, {LeadCallResults{c.lead_id, {result_of(c)}}});
  }

  // A call that will never report back: failed now. Inside a transaction.
  Call abandon(Call c, std::string_view end_reason) {
    if (is_terminal(c.status)) return c;
    const Call before = c;
    const Timestamp now = clock_->now();
    c.status = CallStatus::Failed;
    c.ended_at = std::max(now, c.started_at);
    c.end_reason = std::string(end_reason);
    c.updated_at = now;
    store_call(before, c);
    return c;
  }

  void require_gym(std::string_view gym_id) {
    if (!gyms_->get(store_, gym_id))
      throw NotFoundError(fmt::format("gym {}: not found", gym_id.substr(0, 64)), "gym_id");
  }

  Store& store_;
  std::shared_ptr<Clock> clock_;
  LeadService& leads_;
  std::shared_ptr<const Config> config_;  // each gym's recording retention; null: the defaults
  std::shared_ptr<Logger> logger_;        // null: what the service decides alone is not logged
  std::shared_ptr<GymCache> gyms_;        // shared with the runtime's other services (time to live 0: no cache)
  std::size_t max_transcript_;            // limits.max_transcript_bytes
  int max_page_size_;                     // limits.max_page_size, at most kMaxPageSize
};

}  // namespace

std::unique_ptr<CallService> make_call_service(Store& store, std::shared_ptr<Clock> clock, LeadService& leads) {
  return std::make_unique<CallServiceImpl>(store, std::move(clock), leads);
}

std::unique_ptr<CallService> make_call_service(Store& store, std::shared_ptr<Clock> clock, LeadService& leads,
                                               std::shared_ptr<const Config> config, std::shared_ptr<Logger> logger) {
  return std::make_unique<CallServiceImpl>(store, std::move(clock), leads, std::move(config), std::move(logger));
}

std::unique_ptr<CallService> make_call_service(Store& store, std::shared_ptr<Clock> clock, LeadService& leads,
                                               std::shared_ptr<const Config> config, std::shared_ptr<Logger> logger,
                                               std::shared_ptr<GymCache> cache) {
  return std::make_unique<CallServiceImpl>(store, std::move(clock), leads, std::move(config), std::move(logger),
                                           std::move(cache));
}

}  // namespace gymdash
