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

#include <chrono>
#include <istream>
#include <map>
#include <string>
#include <variant>

#include "core/json_reader.hpp"
#include "core/read_ahead.hpp"

namespace gymdash {
namespace {

constexpr std::size_t kMaxId = 200;
constexpr std::size_t kMaxText = 10000;
// A callback_requested outcome without a time asked for is due this long after the call.
constexpr auto kDefaultCallbackDelay = std::chrono::hours{24};

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
std::optional<Rejection> check_event(const CallEvent& e) {
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
  for (auto [field, v] : {std::pair<const char*, const std::string*>{"to", &e.to}, {"from", &e.from}})
    if (v->size() > kMaxId)
      return Rejection{"bad_field", field, fmt::format("{}: longer than {} bytes", field, kMaxId)};
  for (auto [field, v] : {std::pair<const char*, const std::string*>{"summary", &e.summary},
                          {"recording_url", &e.recording_url}})
    if (v->size() > kMaxText)
      return Rejection{"bad_field", field, fmt::format("{}: longer than {} bytes", field, kMaxText)};
  if (!e.sentiment.empty() && e.sentiment != "positive" && e.sentiment != "neutral" && e.sentiment != "negative")
    return Rejection{"bad_field", "sentiment", "sentiment: must be positive, neutral or negative"};
  if (e.cost_usd && !(*e.cost_usd >= 0))
    return Rejection{"bad_field", "cost_usd", "cost_usd: must be 0 or more"};
  if (e.duration_s && *e.duration_s < 0)
    return Rejection{"negative_duration", "duration_s", fmt::format("duration_s: {} is negative", *e.duration_s)};
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
  return r;
}

// One line of an ingest after parsing: a refusal, or an event to apply.
struct ParsedLine {
  std::int64_t line = 0;
  std::optional<Rejection> rejected;
  CallEvent event;
};

ParsedLine parse_line(std::string_view text, std::int64_t line) {
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
  p.rejected = check_event(p.event);
  return p;
}

class CallServiceImpl final : public CallService {
 public:
  CallServiceImpl(Store& store, std::shared_ptr<Clock> clock, LeadService& leads)
      : store_(store), clock_(std::move(clock)), leads_(leads) {}

  ProcessResult process_event(const CallEvent& event) override {
    if (auto r = check_event(event)) throw_rejection(*r);
    auto gym = store_.gyms().find(event.gym_id);
    if (!gym) throw_rejection(unknown_gym(event.gym_id));
    ProcessResult result;
    std::optional<Rejection> rejected;
    store_.transact([&] { rejected = apply(event, clock_->now(), result); });
    if (rejected) throw_rejection(*rejected);
    return result;
  }

  IngestReport ingest_jsonl(std::istream& in, const IngestOptions& options) override {
    if (options.batch_size < 1 || options.batch_size > 1'000'000)
      throw_invalid("batch_size", "must be between 1 and 1000000");
    const auto started = std::chrono::steady_clock::now();
    std::map<std::string, bool, std::less<>> gyms;
    for (const auto& g : store_.gyms().list()) gyms.emplace(g.id, true);

    // Reading and parsing JSON runs on its own thread, ahead of the writer (as in import_leads).
    ReadAhead<ParsedLine> lines(static_cast<std::size_t>(options.batch_size),
                                [&](const ReadAhead<ParsedLine>::Emit& emit) {
      std::string text;
      std::int64_t line = 0;
      while (std::getline(in, text)) {
        ++line;
        if (!text.empty() && text.back() == '\r') text.pop_back();
        if (text.find_first_not_of(" \t") == std::string::npos) continue;
        if (!emit(parse_line(text, line))) return;
      }
    });

    IngestReport report;
    try {
      std::vector<ParsedLine> batch;
      while (lines.next(batch)) {
        IngestReport delta;
        const Timestamp now = clock_->now();
        store_.transact([&] {
          delta = IngestReport{};
          ProcessResult result;
          for (auto& p : batch) {
            ++delta.events;
            if (!p.rejected && !gyms.contains(p.event.gym_id)) p.rejected = unknown_gym(p.event.gym_id);
            if (!p.rejected) {
              auto r = apply(p.event, now, result);
              if (r) p.rejected = std::move(r);
              else if (result.kind == ProcessResult::Kind::Duplicate) ++delta.duplicates;
              else ++delta.applied;
            }
            if (p.rejected) {
              ++delta.rejected;
              ++delta.rejected_by_reason[p.rejected->reason];
            }
          }
        });
        // Committed: count it, and list the batch's rejected lines.
        report.events += delta.events;
        report.duplicates += delta.duplicates;
        report.applied += delta.applied;
        report.rejected += delta.rejected;
        for (const auto& [reason, n] : delta.rejected_by_reason) report.rejected_by_reason[reason] += n;
        for (auto& p : batch) {
          if (!p.rejected) continue;
          if (report.rejected_lines.size() < options.max_rejected_lines)
            report.rejected_lines.push_back(RejectedLine{p.line, p.rejected->reason, std::move(p.rejected->detail)});
          else
            report.rejected_lines_truncated = true;
        }
        if (options.progress)
          options.progress(IngestProgress{report.events, report.duplicates, report.applied, report.rejected});
      }
    } catch (...) {
      lines.stop();
      throw;
    }
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
    if (filter.page_size < 1 || filter.page_size > kMaxPageSize)
      throw_invalid("page_size", fmt::format("must be between 1 and {}", kMaxPageSize));
    if (filter.started_from && filter.started_to && *filter.started_to < *filter.started_from)
      throw_invalid("started_to", "is before started_from");
    return store_.calls().list(gym_id, filter);
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

  void require_gym(std::string_view gym_id) {
    if (!store_.gyms().find(gym_id))
      throw NotFoundError(fmt::format("gym {}: not found", gym_id.substr(0, 64)), "gym_id");
  }

  // Applies one checked event of a known gym; call inside a transaction.
  // Returns the rejection (having written nothing) or fills `out`.
  std::optional<Rejection> apply(const CallEvent& e, Timestamp now, ProcessResult& out) {
    auto& calls = store_.calls();
    if (calls.has_event(e.event_id)) {
      out.kind = ProcessResult::Kind::Duplicate;
      out.call = calls.find_by_provider_id(e.gym_id, e.call_id).value_or(Call{});
      return std::nullopt;
    }
    auto lead = e.lead_id.empty() ? store_.leads().find_by_external_id(e.gym_id, e.lead_external_id)
                                  : store_.leads().find(e.gym_id, e.lead_id);
    if (!lead)
      return Rejection{"unknown_lead", e.lead_id.empty() ? "lead_external_id" : "lead_id",
                       fmt::format("{}: lead {} not found in gym {}", e.lead_id.empty() ? "lead_external_id" : "lead_id",
                                   (e.lead_id.empty() ? e.lead_external_id : e.lead_id).substr(0, 64),
                                   e.gym_id.substr(0, 64))};
    Call call;
    if (auto existing = calls.find_by_provider_id(e.gym_id, e.call_id)) {
      call = std::move(*existing);
      if (call.lead_id != lead->id)
        return Rejection{"bad_field", "call_id",
                         fmt::format("call_id: call {} belongs to lead {}, not {}", e.call_id.substr(0, 64),
                                     call.lead_id, lead->id)};
    } else {
      call.id = make_id("call_");
      call.provider_call_id = e.call_id;
      call.gym_id = e.gym_id;
      call.lead_id = lead->id;
      call.created_at = now;
    }
    merge(call, e);
    if (auto r = check_call(call)) return r;
    if (call.outcome == CallOutcome::CallbackRequested && !call.callback_at)
      call.callback_at = call.ended_at.value_or(call.started_at) + kDefaultCallbackDelay;
    call.updated_at = now;

    calls.record_event(e.event_id, call.id, now);
    calls.put(call);
    leads_.update_lead_after_call(call.gym_id, call.lead_id, result_of(call));
    out.kind = ProcessResult::Kind::Applied;
    out.call = std::move(call);
    return std::nullopt;
  }

  Store& store_;
  std::shared_ptr<Clock> clock_;
  LeadService& leads_;
};

}  // namespace

std::unique_ptr<CallService> make_call_service(Store& store, std::shared_ptr<Clock> clock, LeadService& leads) {
  return std::make_unique<CallServiceImpl>(store, std::move(clock), leads);
}

}  // namespace gymdash
