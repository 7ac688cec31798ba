// LeadService: validation, merging, status rules and history over the Store.
#include <gymdash/error.hpp>
#include <gymdash/phone.hpp>
#include <gymdash/services/lead.hpp>

#include "core/text.hpp"
#include "core/tz.hpp"
#include "core/csv.hpp"
#include "core/read_ahead.hpp"
#include "services/analytics/rollup.hpp"  // rollups
#include "services/factories.hpp"
#include "services/lead/calling_rules.hpp"
#include "services/lead/dnc_file.hpp"
#include "services/lead/lead_import.hpp"
#include "services/lead/lead_rules.hpp"
#include "store/dial_order.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <atomic>
#include <istream>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>

namespace gymdash {

namespace {

constexpr std::size_t kMaxShortText = 200;   // ids, sources, actors, time lines
constexpr std::size_t kMaxCustomFields = 100;

std::string actor_or_default(std::string_view actor) {
  auto a = text::checked_field("actor", actor, kMaxShortText);
  return a.empty() ? std::string("api") : a;
}

// The audit entry of an erasure keeps no personal data: its free texts may
// not hold an email address (a character on each side of an '@'), a phone
// number (the last 7 digits of the lead's number, or `+` and 8 or more
// digits, with spaces, dots, dashes or parentheses between them), or the
// erased lead's first or last name as a word (ASCII case folded).
bool holds_word(std::string_view text, std::string_view word) {
  if (word.size() < 2) return false;
  auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  auto is_word_char = [](char c) { return static_cast<unsigned char>(c) >= 0x80 || std::isalnum(static_cast<unsigned char>(c)); };
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
    bool same = true;
    for (std::size_t k = 0; k < word.size() && same; ++k) same = fold(text[i + k]) == fold(word[k]);
    if (!same) continue;
    const bool starts = i == 0 || !is_word_char(text[i - 1]);
    const bool ends = i + word.size() == text.size() || !is_word_char(text[i + word.size()]);
    if (starts && ends) return true;
  }
  return false;
}

void erasure_text_check(std::string_view field, std::string_view text, const Lead& lead) {
  constexpr std::string_view kWhy = " (an erasure's audit entry keeps no personal data)";
  for (char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) throw_invalid(field, "contains a control character");
  for (std::size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', at + 1))
    if (at > 0 && at + 1 < text.size() && text[at - 1] != ' ' && text[at + 1] != ' ')
      throw_invalid(field, fmt::format("must not hold an email address{}", kWhy));
  // Runs of digits, read through the separators people write numbers with.
  std::string tail;  // the last 7 digits of the lead's number
  for (char c : lead.phone)
    if (c >= '0' && c <= '9') tail.push_back(c);
  if (tail.size() > 7) tail.erase(0, tail.size() - 7);
  std::string run;
  bool plus = false;
  auto check_run = [&] {
    const bool international = plus && run.size() >= 8;
    const bool lead_number = tail.size() == 7 && run.find(tail) != std::string::npos;
    if (international || lead_number) throw_invalid(field, fmt::format("must not hold a phone number{}", kWhy));
    run.clear();
    plus = false;
  };
  for (char c : text) {
    if (c >= '0' && c <= '9') run.push_back(c);
    else if (c == '+' && run.empty()) plus = true;
    else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') check_run();
  }
  check_run();
  if (holds_word(text, lead.first_name) || holds_word(text, lead.last_name))
    throw_invalid(field, fmt::format("must not hold the lead's name{}", kWhy));
}

void check_email(const std::string& email) {
  if (email.empty()) return;
  const auto at = email.find('@');
  const bool ok = at != std::string::npos && at > 0 && at + 1 < email.size() &&
                  email.find_first_of(" \t\r\n") == std::string::npos;
  if (!ok) throw_invalid("email", "is not an email address");
}

std::string checked_timezone(std::string_view tz) {
  auto v = text::checked_field("timezone", tz, 64);
  if (!v.empty() && !tz::is_known_zone(v))
    throw_invalid("timezone", fmt::format("\"{}\" is not an IANA time zone", v));
  return v;
}

std::map<std::string, std::string> checked_custom_fields(const std::map<std::string, std::string>& in) {
  if (in.size() > kMaxCustomFields)
    throw_invalid("custom_fields", fmt::format("has {} entries; the limit is {}", in.size(), kMaxCustomFields));
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : in) {
    auto key = text::checked_field("custom_fields", k, kMaxShortText);
    if (key.empty()) throw_invalid("custom_fields", "has an empty key");
    out[key] = text::checked_field("custom_fields." + key, v, kMaxTextLength);
  }
  return out;
}

std::vector<std::string> normalized_tags(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto field = fmt::format("tags[{}]", i);
    auto t = text::ascii_lower(text::checked_field(field, in[i], kMaxTagLength));
    if (t.empty()) throw_invalid(field, "is empty");
    for (unsigned char c : t)
      if (c < 0x20 || c == 0x7f) throw_invalid(field, "contains a control character");
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> merged_tags(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  if (out.size() > kMaxTags) throw_invalid("tags", fmt::format("a lead may carry at most {} tags", kMaxTags));
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out.push_back(',');
    out += s;
  }
  return out;
}

// Leads changed but not written yet (an import batch's merges), each once. A
// lead changed again before they are written replaces its earlier state (one
// write; the version still counts each change).
class DeferredLeads {
 public:
  // `l`: the lead after one change (its version one more than before it).
  void put(const Lead& l) {
    const auto [it, first] = at_.try_emplace(l.id, leads_.size());
    if (first) {
      leads_.push_back(l);
      stored_versions_.push_back(l.version - 1);
    } else {
      leads_[it->second] = l;
    }
  }
  std::span<const Lead> leads() const { return leads_; }
  // The version each lead has in the store, for LeadRepository::update_many.
  std::span<const std::int64_t> stored_versions() const { return stored_versions_; }

 private:
  std::vector<Lead> leads_;
  std::vector<std::int64_t> stored_versions_;
  std::unordered_map<std::string, std::size_t> at_;  // lead id → position in leads_
};

// The validated, normalized text fields of a create request.
struct CleanInput {
  std::string external_id, phone, first_name, last_name, email, source, interest, timeline, notes, timezone, actor;
  std::vector<std::string> tags;
  std::map<std::string, std::string> custom_fields;
};

// `strict_email`: the API refuses what is not shaped like an address; an
// import keeps what the file says (the data contract has no such reject).
CleanInput clean(const LeadInput& in, const Gym& gym, bool strict_email = true) {
  CleanInput c;
  c.external_id = text::checked_field("external_id", in.external_id, kMaxShortText);
  c.first_name = text::checked_field("first_name", in.first_name, kMaxNameLength);
  c.last_name = text::checked_field("last_name", in.last_name, kMaxNameLength);
  c.email = text::checked_field("email", in.email, kMaxEmailLength);
  if (strict_email) check_email(c.email);
  c.source = text::checked_field("source", in.source, kMaxShortText);
  c.interest = text::checked_field("interest", in.interest, kMaxTextLength);
  c.timeline = text::checked_field("timeline", in.timeline, kMaxShortText);
  c.notes = text::checked_field("notes", in.notes, kMaxTextLength);
  c.timezone = checked_timezone(in.timezone);
  c.actor = actor_or_default(in.actor);
  c.tags = normalized_tags(in.tags);
  if (c.tags.size() > kMaxTags) throw_invalid("tags", fmt::format("a lead may carry at most {} tags", kMaxTags));
  c.custom_fields = checked_custom_fields(in.custom_fields);
  if (!text::is_valid_utf8(in.phone)) throw_invalid("phone", "is not valid UTF-8");
  c.phone = normalize_phone(in.phone, gym.region, "phone");
  return c;
}

void fill(std::string& target, const std::string& value) {
  if (target.empty() && !value.empty()) target = value;
}

class LeadServiceImpl final : public LeadService {
 public:
  LeadServiceImpl(Store& store, std::shared_ptr<Clock> clock, std::shared_ptr<const Config> config,
                  std::shared_ptr<GymCache> cache)
      : store_(store),
        clock_(std::move(clock)),
        config_(config ? std::move(config) : std::make_shared<const Config>()),
        gyms_(std::move(cache)) {}

  CreateLeadResult create_lead(std::string_view gym_id, const LeadInput& input) override {
    const Gym gym = require_gym(gym_id);
    const CleanInput in = clean(input, gym);
    if (input.consent) check_consent(*input.consent);
    const Timestamp now = clock_->now();

    CreateLeadResult result;
    store_.transact([&] {
      if (auto existing = store_.leads().find_by_phone(gym.id, in.phone)) {
        result.lead = merge(std::move(*existing), in, input, now);
        result.merged = true;
        return;
      }
      LeadInput checked = input;
      checked.external_id = in.external_id;
      checked.phone = in.phone;
      checked.first_name = in.first_name;
      checked.last_name = in.last_name;
      checked.email = in.email;
      checked.source = in.source;
      checked.interest = in.interest;
      checked.timeline = in.timeline;
      checked.notes = in.notes;
      checked.tags = in.tags;
      checked.timezone = in.timezone;
      checked.custom_fields = in.custom_fields;
      Lead l = new_lead(checked, gym, now);
      l.base_status_at = Timestamp{};  // the status given at creation: every call folds on top
      l.dnc_listed = listed(gym.id, l.phone);
      finalize(l, gym);
      store_.leads().insert(l);
      analytics::record_lead(store_, gym.timezone, std::nullopt, analytics::facts_of(l));  // rollups
      record(l, now, "created", "", to_string(l.status), in.actor, "");
      if (l.do_not_call) record(l, now, "dnc", "", "do_not_call", in.actor, "given at creation");
      result.lead = std::move(l);
    });
    return result;
  }

  Lead get_lead(std::string_view gym_id, std::string_view lead_id) override {
    require_gym(gym_id);
    return require_lead(gym_id, lead_id);
  }

  Lead update_lead(std::string_view gym_id, std::string_view lead_id, const LeadPatch& p) override {
    const Gym gym = require_gym(gym_id);
    const std::string actor = actor_or_default(p.actor);
    if (p.consent) check_consent(*p.consent);
    Lead result;
    store_.transact([&] {
      Lead l = require_lead(gym_id, lead_id);
      std::vector<std::string> changed;
      const auto set_text = [&](const char* field, const std::optional<std::string>& v, std::string& target,
                                std::size_t limit) {
        if (!v) return;
        auto value = text::checked_field(field, *v, limit);
        if (value != target) {
          target = std::move(value);
          changed.emplace_back(field);
        }
      };
      set_text("external_id", p.external_id, l.external_id, kMaxShortText);
      set_text("first_name", p.first_name, l.first_name, kMaxNameLength);
      set_text("last_name", p.last_name, l.last_name, kMaxNameLength);
      set_text("email", p.email, l.email, kMaxEmailLength);
      check_email(l.email);
      set_text("source", p.source, l.source, kMaxShortText);
      set_text("interest", p.interest, l.interest, kMaxTextLength);
      set_text("timeline", p.timeline, l.timeline, kMaxShortText);
      set_text("notes", p.notes, l.notes, kMaxTextLength);
      if (p.phone) {
        if (!text::is_valid_utf8(*p.phone)) throw_invalid("phone", "is not valid UTF-8");
        auto e164 = normalize_phone(*p.phone, gym.region, "phone");
        if (e164 != l.phone) {
          l.phone = std::move(e164);
          l.phone_invalid = false;
          changed.emplace_back("phone");
        }
      }
      if (p.timezone) {
        auto tz = checked_timezone(*p.timezone);
        if (tz != l.timezone) {
          l.timezone = std::move(tz);
          changed.emplace_back("timezone");
        }
      }
      if (p.custom_fields) {
        auto cf = checked_custom_fields(*p.custom_fields);
        if (cf != l.custom_fields) {
          l.custom_fields = std::move(cf);
          changed.emplace_back("custom_fields");
        }
      }
      if (p.consent && !(*p.consent == l.consent)) {
        l.consent = *p.consent;
        changed.emplace_back("consent");
      }
      const Timestamp now = clock_->now();
      std::optional<std::pair<Qualification, Qualification>> qual_change;
      if (p.qualification && (*p.qualification != l.qualification || !l.qualification_manual)) {
        qual_change.emplace(l.qualification, *p.qualification);
        l.qualification = *p.qualification;
        l.qualification_manual = true;
      }
      if (changed.empty() && !qual_change) {
        result = std::move(l);
        return;
      }
      if (std::find(changed.begin(), changed.end(), "phone") != changed.end()) l.dnc_listed = listed(gym.id, l.phone);
      const auto scored = finalize(l, gym);
      save(l, now);
      if (!changed.empty()) record(l, now, "updated", "", join(changed), actor, "");
      if (qual_change)
        record(l, now, "qualification", to_string(qual_change->first), to_string(qual_change->second), actor,
               "set by hand");
      else if (scored)
        record(l, now, "qualification", to_string(*scored), to_string(l.qualification), "scoring",
               fmt::format("score {}", l.score));
      result = std::move(l);
    });
    return result;
  }

  void delete_lead(std::string_view gym_id, std::string_view lead_id) override {
    require_gym(gym_id);
    store_.transact([&] {  // rollups: the lead's counts leave with it
      const auto facts = store_.analytics().lead_facts(gym_id, lead_id);
      if (!store_.leads().remove(gym_id, lead_id)) throw lead_not_found(gym_id, lead_id);
      analytics::record_lead(store_, facts, std::nullopt);
    });
  }

  LeadErasure erase_lead(std::string_view gym_id, std::string_view lead_id, std::string_view actor,
                         std::string_view reason) override {
    const Gym gym = require_gym(gym_id);
    LeadErasure erasure;
    erasure.gym_id = gym.id;
    erasure.lead_id = std::string(lead_id);
    erasure.actor = actor_or_default(actor);
    erasure.reason = text::checked_field("reason", reason, kMaxShortText);
    erasure.at = clock_->now();
    store_.transact([&] {
      const Lead lead = require_lead(gym_id, lead_id);
      if (!lead.active_call_id.empty())
        throw ConflictError(fmt::format("lead_id: lead {} is on a call ({}); erase it after the call has ended",
                                        lead.id, lead.active_call_id.substr(0, 64)),
                            "lead_id");
      erasure_text_check("actor", erasure.actor, lead);
      erasure_text_check("reason", erasure.reason, lead);
      // rollups: the lead's counts and each of its calls' leave with them.
      const auto facts = store_.analytics().lead_facts(gym_id, lead_id);
      const auto calls = store_.calls().for_lead(gym_id, lead_id);
      const ErasedCalls erased_calls = store_.calls().remove_for_lead(gym_id, lead_id);
      const auto rows = store_.leads().remove_counted(gym_id, lead_id);
      if (!rows) throw lead_not_found(gym_id, lead_id);
      analytics::RollupBuilder builder;
      for (const auto& c : calls) builder.add_call(c, gym.timezone, lead.local_zone, -1);
      if (facts) builder.add_lead(*facts, gym.timezone, -1);
      if (!builder.empty()) store_.analytics().apply(builder.take());
      erasure.history_entries = rows->history_entries;
      erasure.call_results = rows->call_results;
      erasure.enrolments = rows->enrolments;
      erasure.calls = erased_calls.calls;
      erasure.recordings = erased_calls.recordings;
      erasure.transcripts = erased_calls.transcripts;
      erasure.seq = store_.leads().append_erasure(erasure);
    });
    return erasure;
  }

  std::vector<LeadErasure> list_erasures(std::string_view gym_id, int limit, int offset) override {
    require_gym(gym_id);
    if (limit < 1 || limit > kMaxPageSize) throw_invalid("limit", fmt::format("must be between 1 and {}", kMaxPageSize));
    if (offset < 0) throw_invalid("offset", "must be 0 or more");
    return store_.leads().erasures(gym_id, limit, offset);
  }

  LeadPage list_leads(std::string_view gym_id, const LeadFilter& filter) override {
    require_gym(gym_id);
    if (filter.page < 1) throw_invalid("page", "must be 1 or more");
    const int max_page = std::min(config_->limits.max_page_size, kMaxPageSize);
    if (filter.page_size < 1 || filter.page_size > max_page)
      throw_invalid("page_size", fmt::format("must be between 1 and {}", max_page));
    if (filter.created_from && filter.created_to && *filter.created_to < *filter.created_from)
      throw_invalid("created_to", "is before created_from");
    LeadFilter f = filter;
    f.tags = normalized_tags(filter.tags);
    f.search = text::checked_field("search", filter.search, kMaxShortText);
    f.source = text::checked_field("source", filter.source, kMaxShortText);
    std::sort(f.statuses.begin(), f.statuses.end());
    f.statuses.erase(std::unique(f.statuses.begin(), f.statuses.end()), f.statuses.end());
    std::sort(f.qualifications.begin(), f.qualifications.end());
    f.qualifications.erase(std::unique(f.qualifications.begin(), f.qualifications.end()), f.qualifications.end());
    return store_.leads().list(gym_id, f);
  }

  Lead add_tags(std::string_view gym_id, std::string_view lead_id, const std::vector<std::string>& tags,
                std::string_view actor) override {
    return change_tags(gym_id, lead_id, tags, actor, true);
  }

  Lead remove_tags(std::string_view gym_id, std::string_view lead_id, const std::vector<std::string>& tags,
                   std::string_view actor) override {
    return change_tags(gym_id, lead_id, tags, actor, false);
  }

  LeadEvent add_note(std::string_view gym_id, std::string_view lead_id, std::string_view note,
                     std::string_view actor) override {
    require_gym(gym_id);
    auto body = text::checked_field("text", note, kMaxTextLength);
    if (body.empty()) throw_invalid("text", "is empty");
    const auto who = actor_or_default(actor);
    LeadEvent e;
    store_.transact([&] {
      Lead l = require_lead(gym_id, lead_id);
      e = record(l, clock_->now(), "note", "", body, who, "");
    });
    return e;
  }

  Lead change_status(std::string_view gym_id, std::string_view lead_id, const StatusChange& change) override {
    require_gym(gym_id);
    const auto who = actor_or_default(change.actor);
    const auto why = text::checked_field("reason", change.reason, kMaxTextLength);
    Lead result;
    store_.transact([&] {
      Lead l = require_lead(gym_id, lead_id);
      const LeadStatus from = l.status;
      const LeadStatus to = change.to;
      if (from == to) {
        result = std::move(l);
        return;
      }
      const bool from_converted = from == LeadStatus::Converted;
      const bool backwards = from != LeadStatus::Lost && to != LeadStatus::Lost && lead_rules::rank(to) < lead_rules::rank(from);
      if (from_converted || backwards) {
        if (!change.force || why.empty())
          throw ConflictError(fmt::format("status: lead \"{}\" cannot move from {} back to {} without force and a "
                                          "reason",
                                          l.id, to_string(from), to_string(to)),
                              "status");
      }
      l.status = to;
      const Timestamp now = clock_->now();
      l.base_status = to;
      l.base_status_at = now;
      save(l, now);
      record(l, now, "status", to_string(from), to_string(to), who, why);
      result = std::move(l);
    });
    return result;
  }

  std::vector<LeadEvent> get_history(std::string_view gym_id, std::string_view lead_id) override {
    require_gym(gym_id);
    require_lead(gym_id, lead_id);
    return store_.leads().history(gym_id, lead_id);
  }

 private:
  Gym require_gym(std::string_view gym_id) {
    if (gym_id.empty()) throw_invalid("gym_id", "is required");
    if (auto g = gyms_->get(store_, gym_id)) return *g;
    throw NotFoundError(fmt::format("gym_id: gym \"{}\" not found", gym_id.substr(0, 64)), "gym_id");
  }

  static NotFoundError lead_not_found(std::string_view gym_id, std::string_view lead_id) {
    return NotFoundError(
        fmt::format("lead_id: lead \"{}\" not found in gym \"{}\"", lead_id.substr(0, 64), gym_id.substr(0, 64)),
        "lead_id");
  }

  Lead require_lead(std::string_view gym_id, std::string_view lead_id) {
    if (lead_id.empty()) throw_invalid("lead_id", "is required");
    if (auto l = store_.leads().find(gym_id, lead_id)) return *l;
    throw lead_not_found(gym_id, lead_id);
  }

  static void check_consent(const Consent& c) {
    text::checked_field("consent.method", c.method, kMaxShortText);
    text::checked_field("consent.source", c.source, kMaxShortText);
  }

  // A call result as update_lead_after_call accepts it (call id checked and trimmed).
  static CallResult checked_result(const CallResult& result) {
    CallResult r = result;
    r.call_id = text::checked_field("call_id", result.call_id, kMaxShortText);
    if (r.call_id.empty()) throw_invalid("call_id", "is required");
    if (r.ended_at && *r.ended_at < r.started_at) throw_invalid("ended_at", "is before started_at");
    if (r.outcome && r.answered_by != AnsweredBy::Human)
      throw_invalid("outcome", "is only possible when a person answered (answered_by human)");
    if (r.outcome == CallOutcome::CallbackRequested && !r.callback_at)
      throw_invalid("callback_at", "is required with outcome callback_requested");
    if (!r.sentiment.empty() && r.sentiment != "positive" && r.sentiment != "neutral" && r.sentiment != "negative")
      throw_invalid("sentiment", "must be positive, neutral or negative");
    return r;
  }

  // What calls change of a lead (LeadRepository::update_call_state writes
  // it), held aside by swap_call_state.
  struct CallState {
    LeadStatus status = LeadStatus::New;
    Qualification qualification = Qualification::Neutral;
    int score = 0;
    int attempts = 0;
    int connects = 0;
    std::optional<Timestamp> last_call_at, next_call_at, callback_at, blocked_until;
    std::vector<Timestamp> recent_calls;
    std::string last_outcome, sentiment;
    bool do_not_call = false;
    bool phone_invalid = false;
    Timestamp updated_at{};
    std::int64_t version = 0;
  };

  static void swap_call_state(Lead& l, CallState& s) {
    using std::swap;
    swap(l.status, s.status);
    swap(l.qualification, s.qualification);
    swap(l.score, s.score);
    swap(l.attempts, s.attempts);
    swap(l.connects, s.connects);
    swap(l.last_call_at, s.last_call_at);
    swap(l.next_call_at, s.next_call_at);
    swap(l.callback_at, s.callback_at);
    swap(l.blocked_until, s.blocked_until);
    swap(l.recent_calls, s.recent_calls);
    swap(l.last_outcome, s.last_outcome);
    swap(l.sentiment, s.sentiment);
    swap(l.do_not_call, s.do_not_call);
    swap(l.phone_invalid, s.phone_invalid);
    swap(l.updated_at, s.updated_at);
    swap(l.version, s.version);
  }

  // True when `after` differs from `before` only in what calls change
  // (LeadRepository::update_call_state may then write it). Both leads are
  // as they were on return: their call states are set aside (swapped with
  // empty ones, no copy), the rest compared, and the call states put back.
  static bool only_call_state_differs(Lead& before, Lead& after) {
    CallState b, a;
    swap_call_state(before, b);
    swap_call_state(after, a);
    const bool same = after == before;
    swap_call_state(before, b);
    swap_call_state(after, a);
    return same;
  }

  // `gym` and `rollups`, when given (a bulk import): the lead's gym as
  // already read, and the builder its rollup move is added to (applied by
  // the caller in the same transaction) instead of being applied at once.
  // `stored`, when given: the lead as stored before this write (its rollup
  // facts are not read again).
  // `deferred`, when given (a bulk import): the lead is not written but left
  // there, for the caller to write with the others (update_many) in the same
  // transaction.
  // `first_call`, when given with `stored`: the lead's first call as stored
  // (empty: none), read beforehand.
  void save(Lead& l, Timestamp now, const Gym* gym = nullptr, analytics::RollupBuilder* rollups = nullptr,
            const Lead* stored = nullptr, DeferredLeads* deferred = nullptr,
            const std::optional<Timestamp>* first_call = nullptr) {
    l.updated_at = now;
    ++l.version;
    const auto rollup_before =
        stored ? std::optional<LeadFacts>(analytics::facts_of(*stored, first_call ? *first_call : std::nullopt))
               : analytics::lead_before_update(store_, l);  // rollups
    if (deferred)
      deferred->put(l);
    else
      store_.leads().update(l);
    if (gym && rollups)
      analytics::record_lead(store_, gym->timezone, rollup_before, analytics::facts_of(l), *rollups,
                             stored && first_call);  // rollups
    else
      analytics::record_lead(store_, rollup_before, analytics::facts_of(l));  // rollups
    if (rollup_before && rollup_before->local_zone != l.local_zone)  // rollups: its calls' lead-local hours move
      analytics::record_lead_zone(store_, l.gym_id, l.id, rollup_before->local_zone, l.local_zone);
  }

  // A history entry of the lead, not stored yet.
  static LeadEvent history_entry(const Lead& l, Timestamp at, std::string kind, std::string from, std::string to,
                                 std::string actor, std::string reason) {
    LeadEvent e;
    e.lead_id = l.id;
    e.at = at;
    e.kind = std::move(kind);
    e.from = std::move(from);
    e.to = std::move(to);
    e.actor = std::move(actor);
    e.reason = std::move(reason);
    return e;
  }

  LeadEvent record(const Lead& l, Timestamp at, std::string kind, std::string from, std::string to,
                   std::string actor, std::string reason) {
    LeadEvent e = history_entry(l, at, std::move(kind), std::move(from), std::move(to), std::move(actor),
                                std::move(reason));
    e.seq = store_.leads().append_history(l.gym_id, e);
    return e;
  }

  // A second sighting of a known number: fill what is missing, keep what is
  // known. `l`: the lead exactly as stored. `known_gym` and `rollups`: as
  // for save(). `history` and `deferred`, when given (a bulk import): where
  // the history entries and the merged lead go, for the caller to store in
  // the same transaction; `first_call`: as for save().
  Lead merge(Lead l, const CleanInput& in, const LeadInput& input, Timestamp now, const Gym* known_gym = nullptr,
             analytics::RollupBuilder* rollups = nullptr, std::vector<LeadEvent>* history = nullptr,
             DeferredLeads* deferred = nullptr, const std::optional<Timestamp>* first_call = nullptr) {
    const Lead before = l;
    fill(l.external_id, in.external_id);
    fill(l.first_name, in.first_name);
    fill(l.last_name, in.last_name);
    fill(l.email, in.email);
    fill(l.source, in.source);
    fill(l.interest, in.interest);
    fill(l.timeline, in.timeline);
    fill(l.notes, in.notes);
    fill(l.timezone, in.timezone);
    l.tags = merged_tags(l.tags, in.tags);
    for (const auto& [k, v] : in.custom_fields) l.custom_fields.emplace(k, v);
    if (input.created_at && *input.created_at < l.created_at) l.created_at = *input.created_at;
    // Consent is yes only while nobody said no: a withdrawal always wins.
    // A merge never grants consent; update_lead records a new consent explicitly.
    if (input.consent && !input.consent->given && l.consent.given) l.consent = *input.consent;
    const bool became_dnc = input.do_not_call && !l.do_not_call;
    if (input.do_not_call) l.do_not_call = true;
    if (l == before) return l;
    if (known_gym)
      finalize(l, *known_gym);
    else if (auto gym = store_.gyms().find(l.gym_id))
      finalize(l, *gym);
    save(l, now, known_gym, rollups, &before, deferred, first_call);
    if (history) {
      history->push_back(history_entry(l, now, "merged", "", in.external_id, in.actor, "same phone number"));
      if (became_dnc)
        history->push_back(history_entry(l, now, "dnc", "", "do_not_call", in.actor, "given on a merged record"));
      return l;
    }
    record(l, now, "merged", "", in.external_id, in.actor, "same phone number");
    if (became_dnc) record(l, now, "dnc", "", "do_not_call", in.actor, "given on a merged record");
    return l;
  }

  Lead change_tags(std::string_view gym_id, std::string_view lead_id, const std::vector<std::string>& tags,
                   std::string_view actor, bool add) {
    require_gym(gym_id);
    const auto who = actor_or_default(actor);
    const auto normalized = normalized_tags(tags);
    Lead result;
    store_.transact([&] {
      Lead l = require_lead(gym_id, lead_id);
      std::vector<std::string> next;
      if (add) {
        next = merged_tags(l.tags, normalized);
      } else {
        std::set_difference(l.tags.begin(), l.tags.end(), normalized.begin(), normalized.end(),
                            std::back_inserter(next));
      }
      if (next == l.tags) {
        result = std::move(l);
        return;
      }
      const auto from = join(l.tags);
      l.tags = std::move(next);
      const Timestamp now = clock_->now();
      save(l, now);
      record(l, now, "tags", from, join(l.tags), who, "");
      result = std::move(l);
    });
    return result;
  }

  const GymPolicy& policy(std::string_view gym_id) const { return config_->policy(gym_id); }

  // Derived fields: where the lead is, its score, and (unless set by hand) its
  // qualification. Returns the previous qualification if scoring changed it.
  std::optional<Qualification> finalize(Lead& l, const Gym& gym) {
    lead_rules::derive_location(l, gym);
    l.score = lead_rules::compute_score(l);
    if (l.qualification_manual) return std::nullopt;
    const auto q = lead_rules::qualify(l.score, policy(gym.id));
    if (q == l.qualification) return std::nullopt;
    const auto before = l.qualification;
    l.qualification = q;
    return before;
  }

  // A new lead from a checked input (phone already E.164), before finalize().
  static Lead new_lead(const LeadInput& in, const Gym& gym, Timestamp now) {
    Lead l;
    l.id = make_id("ld_");
    l.gym_id = gym.id;
    l.external_id = in.external_id;
    l.phone = in.phone;
    l.first_name = in.first_name;
    l.last_name = in.last_name;
    l.email = in.email;
    l.source = in.source;
    l.interest = in.interest;
    l.timeline = in.timeline;
    l.notes = in.notes;
    l.tags = in.tags;
    if (in.consent) l.consent = *in.consent;
    l.do_not_call = in.do_not_call;
    l.status = in.status.value_or(LeadStatus::New);
    if (in.qualification) {
      l.qualification = *in.qualification;
      l.qualification_manual = true;
    }
    l.timezone = in.timezone;
    l.custom_fields = in.custom_fields;
    l.created_at = in.created_at.value_or(now);
    l.updated_at = now;
    l.version = 1;
    l.base_status = l.status;
    return l;
  }

  bool listed(std::string_view gym_id, std::string_view phone) {
    return store_.dnc().find(gym_id, phone).has_value() || store_.dnc().find("*", phone).has_value();
  }

  std::string dnc_phone(std::string_view scope, std::string_view phone) {
    if (!text::is_valid_utf8(phone)) throw_invalid("phone", "is not valid UTF-8");
    if (scope == "*") {
      // The global list holds E.164; a number without a country code is read as US.
      return normalize_phone(phone, "US", "phone");
    }
    return normalize_phone(phone, require_gym(scope).region, "phone");
  }

 public:
  // ---- bulk import ----------------------------------------------------------

  ImportReport import_leads(std::istream& in, const ImportOptions& options) override {
    if (options.batch_size < 1 || options.batch_size > 1'000'000)
      throw_invalid("batch_size", "must be between 1 and 1000000");
    // The configuration bounds what one transaction may hold, whatever the caller asks.
    const int batch_rows = std::min(options.batch_size, config_->limits.max_batch_size);
    const auto started = std::chrono::steady_clock::now();
    // The input's size, when the stream can tell, for progress and for the store's bulk mode.
    std::uint64_t bytes_total = options.bytes_total;
    if (bytes_total == 0) {
      const auto here = in.tellg();
      if (here != std::istream::pos_type(-1) && in.seekg(0, std::ios::end)) {
        const auto end = in.tellg();
        if (end != std::istream::pos_type(-1) && end > here) bytes_total = static_cast<std::uint64_t>(end - here);
        in.seekg(here);
      }
      in.clear();
    }
    csv::Reader reader(in);
    const auto first = reader.next();
    if (first == csv::ReadStatus::End) throw_invalid("header", "the file is empty; expected a header row");
    if (first == csv::ReadStatus::Malformed)
      throw_invalid("header", fmt::format("the header row is not CSV: {}", reader.error()));
    const csv::Header header(reader.fields());
    if (auto missing = header.missing({"gym_id", "phone"}); !missing.empty())
      throw_invalid("header", fmt::format("missing required column{}: {}", missing.size() > 1 ? "s" : "",
                                          fmt::join(missing, ", ")));
    const auto columns = lead_import::Columns::from(header);

    std::map<std::string, std::string, std::less<>> regions;
    std::map<std::string, Gym, std::less<>> gyms;
    for (auto& g : store_.gyms().list()) {
      regions.emplace(g.id, g.region);
      gyms.emplace(g.id, std::move(g));
    }
    // Skip the per-row list lookups when no list holds anything.
    bool any_dnc = store_.dnc().count("*") > 0;
    for (const auto& [id, g] : gyms) any_dnc = any_dnc || store_.dnc().count(id) > 0;

    const Timestamp now = clock_->now();
    const std::string source = text::checked_field("source", options.source, kMaxShortText);

    // Reading and checking rows (CSV, UTF-8, phone numbers), making each good
    // row into the lead to insert (id, location, score, qualification) and
    // counting the new leads into the rollups run on their own thread, ahead
    // of the writer, which only stores them: the writer is the import's
    // bottleneck. None of that reads the store (the do-not-call check, which
    // does, stays with the writer; no derived field depends on it).
    //
    // A good row, made into its new lead (finalized, in the piece's `leads`).
    // A merge needs the row's input back: its text is the lead's (new_lead()
    // copies it as is), the rest is kept here. (A field added to LeadInput is
    // added here too.)
    struct NewRow {
      std::int64_t line = 0;
      const Gym* gym = nullptr;
      std::size_t lead = 0;  // its place in Batch::leads
      bool counted = false;  // its rollup counts are in the reader's (see Batch::rollups)
      std::optional<Consent> consent;
      bool do_not_call = false;
      std::optional<LeadStatus> status;
      std::optional<Qualification> qualification;
      std::optional<Timestamp> created_at;
      std::string actor;

      // The row's input: its text from `made`, the lead made of it, the rest from here.
      LeadInput input(const Lead& made) const {
        LeadInput in;
        in.external_id = made.external_id;
        in.phone = made.phone;
        in.first_name = made.first_name;
        in.last_name = made.last_name;
        in.email = made.email;
        in.source = made.source;
        in.interest = made.interest;
        in.timeline = made.timeline;
        in.notes = made.notes;
        in.tags = made.tags;
        in.consent = consent;
        in.do_not_call = do_not_call;
        in.status = status;
        in.qualification = qualification;
        in.timezone = made.timezone;
        in.custom_fields = made.custom_fields;
        in.created_at = created_at;
        in.actor = actor;
        return in;
      }
    };
    using Item = std::variant<NewRow, lead_import::Reject>;
    struct Batch {
      std::vector<Item> items;
      // On the last piece of a committed batch: the rollup counts of every
      // new lead of the batch's pieces whose row is `counted`, as if none
      // turned out to be a duplicate (the writer takes a duplicate's back
      // out, and adds the counts of a row not counted here). Counted on the
      // reading thread, one builder a batch: the writer only adjusts it.
      analytics::RollupBuilder rollups;
      // The last piece of a committed batch (or of the input).
      bool ends_batch = false;
      // The new leads of the piece's good rows, in row order: the writer
      // stores them from here (no copy), and they are freed with the piece
      // on the reading thread (ReadAhead), not by the writer.
      std::vector<Lead> leads;
    };
    // The reader hands rows over in pieces of at most the store's
    // bulk_piece_rows(); a committed batch (`batch_rows`, one transaction) is
    // one or more whole pieces, so a large batch costs the memory of three
    // pieces, not of three batches.
    const auto batch_size = static_cast<std::size_t>(batch_rows);
    const std::size_t piece_size = std::min(batch_size, std::max<std::size_t>(store_.bulk_piece_rows(), 1));
    std::atomic<std::uint64_t> bytes_read{0};
    ReadAhead<Batch> batches(1, [&](const ReadAhead<Batch>::Emit& emit) {
      analytics::RollupBuilder batch_counts;  // the committed batch's, so far
      Batch b;
      b.items.reserve(piece_size);
      b.leads.reserve(piece_size);
      std::size_t in_batch = 0;  // rows of the committed batch in the pieces emitted so far
      for (;;) {
        const auto status = reader.next();
        if (status == csv::ReadStatus::End) break;
        const auto line = static_cast<std::int64_t>(reader.line());
        lead_import::Parsed parsed =
            status == csv::ReadStatus::Malformed
                ? lead_import::Parsed(lead_import::Reject{line, "bad_format", std::string(reader.error())})
                : lead_import::parse_row(reader.fields(), line, columns, regions, now, source);
        if (auto* r = std::get_if<lead_import::Reject>(&parsed)) {
          b.items.emplace_back(std::move(*r));
        } else {
          const auto& row = std::get<lead_import::Row>(parsed);
          const Gym& gym = gyms.find(row.gym_id)->second;
          auto& n = std::get<NewRow>(b.items.emplace_back(std::in_place_type<NewRow>));
          n.line = row.line;
          n.gym = &gym;
          n.lead = b.leads.size();
          Lead& lead = b.leads.emplace_back(new_lead(row.input, gym, now));
          n.consent = row.input.consent;
          n.do_not_call = row.input.do_not_call;
          n.status = row.input.status;
          n.qualification = row.input.qualification;
          n.created_at = row.input.created_at;
          n.actor = row.input.actor;
          finalize(lead, gym);
          try {
            // add_lead works out the local day, its only failure, before it counts anything.
            batch_counts.add_lead(analytics::facts_of(lead), gym.timezone, +1);  // rollups
            n.counted = true;
          } catch (const std::exception&) {
            n.counted = false;
          }
        }
        if (b.items.size() == piece_size || in_batch + b.items.size() == batch_size) {
          in_batch += b.items.size();
          b.ends_batch = in_batch == batch_size;
          if (b.ends_batch) {
            in_batch = 0;
            b.rollups = std::move(batch_counts);
            batch_counts = analytics::RollupBuilder{};
          }
          bytes_read.store(reader.bytes_consumed(), std::memory_order_relaxed);
          if (!emit(std::move(b))) return;
          b = Batch{};
          b.items.reserve(piece_size);
          b.leads.reserve(piece_size);
        }
      }
      bytes_read.store(reader.bytes_consumed(), std::memory_order_relaxed);
      b.ends_batch = true;
      b.rollups = std::move(batch_counts);
      // (An empty last piece still carries the counts of the batch's earlier pieces.)
      if (!b.items.empty() || !b.rollups.empty()) emit(std::move(b));
    }, /*max_ahead=*/1);  // one piece ready while one is written: memory stays at three pieces

    ImportReport report;
    ImportProgress progress;
    progress.bytes_total = bytes_total;
    // About 150 bytes a row in the data contract's files.
    store_.begin_bulk_load(static_cast<std::int64_t>(bytes_total / 150), BulkLoad::Leads);
    try {
      std::vector<Batch> next;
      bool more = batches.next(next);
      while (more) {
        ImportReport delta;
        std::vector<lead_import::Reject> rejects;  // the batch's, listed once it is committed
        analytics::RollupBuilder batch_rollups;     // the writer's rollup changes, then the whole batch's
        // One piece into the open transaction; counts into `delta`.
        auto write_piece = [&](Batch& b) {
          auto& batch = b.items;
          analytics::RollupBuilder rollups;  // rollups: this piece's changes to the reader's counts
          // The batch's new leads are stored together (one set of statements
          // where the backend can); the rows whose number the gym already
          // has (or an earlier row of the batch gave it) then merge one by
          // one, in file order, as they would row by row.
          std::vector<Lead>& fresh = b.leads;  // fresh[i] is the lead of fresh_rows[i]
          std::vector<const NewRow*> fresh_rows;
          fresh_rows.reserve(fresh.size());
          for (auto& item : batch) {
            ++delta.rows;
            if (auto* r = std::get_if<lead_import::Reject>(&item)) {
              ++delta.rejected;
              ++delta.rejected_by_reason[r->reason];
              continue;
            }
            const auto& row = std::get<NewRow>(item);
            if (row.lead != fresh_rows.size())
              throw InternalError(fmt::format("import: line {} has lead {} of its piece, not {}", row.line, row.lead,
                                              fresh_rows.size()));
            Lead& l = fresh[row.lead];
            l.dnc_listed = any_dnc && listed(row.gym->id, l.phone);
            fresh_rows.push_back(&row);
          }
          if (fresh_rows.size() != fresh.size())
            throw InternalError(fmt::format("import: a piece of {} leads has {} good rows", fresh.size(),
                                            fresh_rows.size()));
          const auto stored = store_.leads().insert_many_if_absent(fresh);
          if (stored.size() != fresh.size())
            throw InternalError(fmt::format("import: the store answered for {} of {} leads", stored.size(),
                                            fresh.size()));
          std::vector<std::size_t> refused;  // merge into the lead with their number, in file order
          for (std::size_t i = 0; i < fresh.size(); ++i) {
            const Gym& gym = *fresh_rows[i]->gym;
            if (stored[i]) {
              if (!fresh_rows[i]->counted)
                rollups.add_lead(analytics::facts_of(fresh[i]), gym.timezone, +1);  // rollups: the reader could not
              ++delta.imported;
              continue;
            }
            if (fresh_rows[i]->counted)
              rollups.add_lead(analytics::facts_of(fresh[i]), gym.timezone, -1);  // rollups: not new after all
            refused.push_back(i);
          }
          if (!refused.empty()) {
            // The leads they merge into, read together (one statement a gym
            // where the backend can) and kept as each merge leaves them; their
            // history entries appended together after the last merge.
            const auto key = [](std::string_view gym_id, std::string_view phone) {
              std::string k(gym_id);
              k.push_back('\0');
              k += phone;
              return k;
            };
            std::map<std::string, std::vector<std::string>, std::less<>> numbers;  // gym → numbers
            for (auto i : refused) numbers[fresh_rows[i]->gym->id].push_back(fresh[i].phone);
            std::unordered_map<std::string, Lead> current;  // gym, number → the lead as stored now
            for (const auto& [gym_id, phones] : numbers)
              for (auto& l : store_.leads().find_by_phones(gym_id, phones)) {
                auto k = key(gym_id, l.phone);
                current.insert_or_assign(std::move(k), std::move(l));
              }
            // A row dated before its lead moves the lead's speed-to-lead
            // entry, which needs the lead's first call: read together, one
            // statement a gym, for the leads such a row merges into.
            std::map<std::string, std::vector<std::string>, std::less<>> dated;  // gym → lead ids
            for (auto i : refused) {
              const NewRow& row = *fresh_rows[i];
              auto it = current.find(key(row.gym->id, fresh[i].phone));
              if (it != current.end() && row.created_at && *row.created_at < it->second.created_at)
                dated[row.gym->id].push_back(it->second.id);
            }
            std::unordered_map<std::string, std::optional<Timestamp>> first_calls;  // lead id → its first call
            for (auto& [gym_id, ids] : dated) {
              std::sort(ids.begin(), ids.end());
              ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
              auto results = store_.leads().call_results_many(gym_id, ids);
              for (std::size_t k = 0; k < ids.size() && k < results.size(); ++k) {
                std::optional<Timestamp> first;
                for (const auto& r : results[k])
                  if (!first || r.started_at < *first) first = r.started_at;
                first_calls.emplace(ids[k], first);
              }
            }
            std::map<std::string, std::vector<LeadEvent>, std::less<>> history;  // gym → entries, in order
            DeferredLeads merged;  // written together after the last merge
            for (auto i : refused) {
              const NewRow& row = *fresh_rows[i];
              const Gym& gym = *row.gym;
              auto it = current.find(key(gym.id, fresh[i].phone));
              if (it == current.end()) throw InternalError(fmt::format("import: lead of line {} vanished", row.line));
              const LeadInput input = row.input(fresh[i]);
              const auto first_call = first_calls.find(it->second.id);
              it->second = merge(std::move(it->second), clean(input, gym, false), input, now, &gym, &rollups,
                                 &history[gym.id], &merged,
                                 first_call == first_calls.end() ? nullptr : &first_call->second);
              ++delta.merged_duplicates;
            }
            store_.leads().update_many(merged.leads(), merged.stored_versions());
            for (const auto& [gym_id, entries] : history)
              if (!entries.empty()) store_.leads().append_history_many(gym_id, entries);
          }
          batch_rollups.absorb(std::move(rollups));  // rollups: applied once the batch's last piece is in
          if (b.ends_batch) {
            // The reader's counts of the batch with the writer's changes added
            // (the smaller into the larger). transact runs this once.
            b.rollups.absorb(std::move(batch_rollups));
            batch_rollups = std::move(b.rollups);
          }
          for (auto& item : batch)
            if (auto* r = std::get_if<lead_import::Reject>(&item)) rejects.push_back(std::move(*r));
        };
        store_.transact([&] {
          // Runs once: the pieces it takes from the reader are not read again.
          delta = ImportReport{};
          rejects.clear();
          batch_rollups = analytics::RollupBuilder{};
          for (;;) {
            progress.bytes_read = bytes_read.load(std::memory_order_relaxed);
            Batch& b = next.front();
            write_piece(b);
            if (b.ends_batch || !batches.next(next)) break;
          }
          // The rollups of the whole batch in one call: a rollup row that
          // several pieces change is written once per batch, not per piece
          // (each statement is a round trip on PostgreSQL).
          store_.analytics().apply(batch_rollups.take());  // rollups
        });
        // Committed: count it, and list the batch's rejected rows.
        report.rows += delta.rows;
        report.imported += delta.imported;
        report.merged_duplicates += delta.merged_duplicates;
        report.rejected += delta.rejected;
        for (const auto& [reason, n] : delta.rejected_by_reason) report.rejected_by_reason[reason] += n;
        for (auto& r : rejects) {
          if (report.rejected_rows.size() < options.max_rejected_rows)
            report.rejected_rows.push_back(RejectedRow{r.line, r.reason, std::move(r.detail)});
          else
            report.rejected_rows_truncated = true;
        }
        progress.rows = report.rows;
        progress.imported = report.imported;
        progress.merged_duplicates = report.merged_duplicates;
        progress.rejected = report.rejected;
        if (options.progress) options.progress(progress);
        more = batches.next(next);
      }
    } catch (...) {
      batches.stop();
      try {
        store_.end_bulk_load();
      } catch (...) {
        // The import's own error is the one to report; the store repairs its indexes when opened again.
      }
      throw;
    }
    store_.end_bulk_load();
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
  }

  // ---- who to call ----------------------------------------------------------

  std::vector<Lead> get_prioritized_leads(std::string_view gym_id, int count, std::optional<Qualification> qualification,
                                          const std::vector<std::string>& exclude_leads,
                                          std::optional<Timestamp> at_opt) override {
    std::vector<Qualification> quals;
    if (qualification) quals.push_back(*qualification);
    return prioritize(gym_id, count, quals, exclude_leads, at_opt, nullptr);
  }

  std::vector<Lead> get_prioritized_leads(std::string_view gym_id, int count, const DialScope& scope,
                                          const std::vector<std::string>& exclude_leads,
                                          std::optional<Timestamp> at_opt) override {
    check_scope(scope);
    std::vector<Qualification> quals = scope.qualifications;
    std::sort(quals.begin(), quals.end());
    quals.erase(std::unique(quals.begin(), quals.end()), quals.end());
    return prioritize(gym_id, count, quals, exclude_leads, at_opt, &scope);
  }

  static void check_scope(const DialScope& scope) {
    if (scope.campaign_id.empty()) throw_invalid("campaign_id", "is required");
    if (scope.max_attempts < 1) throw_invalid("max_attempts", "must be at least 1");
    if (scope.retry_gap_minutes < 0) throw_invalid("retry_gap_minutes", "must not be negative");
    if (scope.hours.start_minute < 0 || scope.hours.end_minute > 24 * 60 ||
        scope.hours.start_minute >= scope.hours.end_minute)
      throw_invalid("hours", "must be a window [start, end) inside the day");
  }

  // The call order of get_prioritized_leads, for the whole gym or one
  // campaign's enrolment (`scope`). `quals` empty: any qualification.
  std::vector<Lead> prioritize(std::string_view gym_id, int count, const std::vector<Qualification>& quals,
                               const std::vector<std::string>& exclude_leads, std::optional<Timestamp> at_opt,
                               const DialScope* scope) {
    const Gym gym = require_gym(gym_id);
    if (count < 1 || count > kMaxPageSize) throw_invalid("count", fmt::format("must be between 1 and {}", kMaxPageSize));
    if (exclude_leads.size() > 1000) throw_invalid("exclude_leads", "holds more than 1000 ids");
    const Timestamp at = at_opt.value_or(clock_->now());
    const auto& pol = policy(gym.id);
    std::set<std::string, std::less<>> excluded(exclude_leads.begin(), exclude_leads.end());

    // The groups whose calling window is open now (and, for a campaign, whose
    // local time is inside the campaign's hours).
    std::vector<std::pair<std::string, std::string>> open;
    for (const auto& [zone, state] : store_.leads().dial_groups(gym.id)) {
      const std::string& z = zone.empty() ? gym.timezone : zone;
      if (!rules::window_blocks(at, z, state, gym).empty()) continue;
      if (scope) {
        const int minute = rules::local_time(at, z, "local_zone").minute;
        if (minute < scope->hours.start_minute || minute >= scope->hours.end_minute) continue;
      }
      open.emplace_back(zone, state);
    }
    std::vector<Lead> out;
    std::set<std::string> taken;
    const auto take = [&](Lead&& l) {
      if (static_cast<int>(out.size()) >= count) return;
      if (excluded.count(l.id) || !taken.insert(l.id).second) return;
      out.push_back(std::move(l));
    };
    if (open.empty()) return out;
    const auto is_open = [&](const Lead& l) {
      return std::find(open.begin(), open.end(), std::make_pair(l.local_zone, l.local_state)) != open.end();
    };

    const auto gap = std::chrono::minutes{scope ? scope->retry_gap_minutes : pol.retry_gap_minutes};
    DialQuery q;
    q.now = at;
    q.max_attempts = pol.max_attempts;
    q.limit = count;
    q.exclude.assign(excluded.begin(), excluded.end());
    if (scope) {
      q.campaign_id = scope->campaign_id;
      q.campaign_max_attempts = scope->max_attempts;
      // A due callback is served whatever the gap; other tiers wait it out.
      q.campaign_last_attempt_before = at;
    }
    // The qualifications asked for, one query each (none: one query for all).
    std::vector<std::optional<Qualification>> qual_filters;
    if (quals.empty()) qual_filters.emplace_back(std::nullopt);
    for (auto qual : quals) qual_filters.emplace_back(qual);

    // 1. Callbacks that are due (only in open groups), oldest first. The
    // tier spans every group, so closed groups' callbacks may come first:
    // ask for more until enough open ones are found or there are no more.
    q.tier = DialQuery::Tier::Callback;
    {
      std::vector<Lead> due;
      for (const auto& qf : qual_filters) {
        q.qualification = qf;
        for (int limit = count;; limit = std::min(limit * 4, 100000)) {
          q.limit = limit;
          auto got = store_.leads().dial_candidates(gym.id, q);
          const bool more = static_cast<int>(got.size()) >= limit && limit < 100000;
          int open_found = 0;
          for (const auto& l : got) open_found += is_open(l) ? 1 : 0;
          if (open_found >= count || !more) {
            for (auto& l : got)
              if (is_open(l)) due.push_back(std::move(l));
            break;
          }
        }
      }
      q.limit = count;
      if (qual_filters.size() > 1)
        std::sort(due.begin(), due.end(),
                  [](const Lead& a, const Lead& b) { return dial_order::before(DialQuery::Tier::Callback, a, b); });
      for (auto& l : due) take(std::move(l));
    }
    if (scope) q.campaign_last_attempt_before = at - gap;
    // 2. Never called: newest first across the open groups.
    if (static_cast<int>(out.size()) < count) {
      q.tier = DialQuery::Tier::Fresh;
      std::vector<Lead> fresh;
      for (const auto& qf : qual_filters) {
        q.qualification = qf;
        for (auto& l : store_.leads().dial_candidates_in(gym.id, q, open)) fresh.push_back(std::move(l));
      }
      if (qual_filters.size() > 1)
        std::sort(fresh.begin(), fresh.end(),
                  [](const Lead& a, const Lead& b) { return dial_order::before(DialQuery::Tier::Fresh, a, b); });
      for (auto& l : fresh) take(std::move(l));
    }
    // 3. Called before: hot first, then fewer attempts, then longest since the last call.
    q.tier = DialQuery::Tier::Retry;
    q.last_call_before = at - gap;
    const std::vector<Qualification> retry_quals =
        quals.empty() ? std::vector<Qualification>{Qualification::Hot, Qualification::Neutral, Qualification::Cold}
                      : quals;
    for (auto qual : retry_quals) {
      if (static_cast<int>(out.size()) >= count) break;
      q.qualification = qual;
      for (auto& l : store_.leads().dial_candidates_in(gym.id, q, open)) take(std::move(l));
    }
    return out;
  }

  DueCounts due_jobs(std::string_view gym_id, std::optional<Timestamp> at_opt) override {
    const Gym gym = require_gym(gym_id);
    const Timestamp at = at_opt.value_or(clock_->now());
    const auto& pol = policy(gym.id);
    return store_.leads().count_due(gym.id, at, pol.max_attempts, at - std::chrono::minutes{pol.retry_gap_minutes});
  }

  DialDecision explain(std::string_view gym_id, std::string_view lead_id, std::optional<Timestamp> at_opt) override {
    const Gym gym = require_gym(gym_id);
    const Lead l = require_lead(gym_id, lead_id);
    const Timestamp at = at_opt.value_or(clock_->now());
    return hard_rules(gym, l, at, policy(gym.id).retry_gap_minutes);
  }

  DialDecision explain(std::string_view gym_id, std::string_view lead_id, const DialScope& scope,
                       std::optional<Timestamp> at_opt) override {
    check_scope(scope);
    const Gym gym = require_gym(gym_id);
    const Lead l = require_lead(gym_id, lead_id);
    const Timestamp at = at_opt.value_or(clock_->now());
    // The hard rules with the campaign's gap, then the campaign's own rules,
    // each as get_prioritized_leads(scope) applies it.
    DialDecision d = hard_rules(gym, l, at, scope.retry_gap_minutes);
    auto& r = d.reasons;
    const auto e = store_.campaigns().enrolment(gym.id, scope.campaign_id, l.id);
    if (!e) {
      r.emplace_back("not_enrolled");
    } else {
      if (e->attempts >= scope.max_attempts) r.emplace_back("campaign_attempts");
      const bool due_callback = l.callback_at && *l.callback_at <= at;
      const Timestamp latest = due_callback ? at : at - std::chrono::minutes{scope.retry_gap_minutes};
      if (e->last_attempt_at && *e->last_attempt_at > latest) r.emplace_back("campaign_retry_gap");
    }
    if (!scope.qualifications.empty() &&
        std::find(scope.qualifications.begin(), scope.qualifications.end(), l.qualification) ==
            scope.qualifications.end())
      r.emplace_back("qualification");
    const int minute = rules::local_time(at, d.local_zone, "local_zone").minute;
    if (minute < scope.hours.start_minute || minute >= scope.hours.end_minute) r.emplace_back("outside_campaign_hours");
    d.dialable = r.empty();
    return d;
  }

  // Every hard rule of explain(), the retry gap given.
  DialDecision hard_rules(const Gym& gym, const Lead& l, Timestamp at, int retry_gap_minutes) {
    const auto& pol = policy(gym.id);
    DialDecision d;
    d.lead_id = l.id;
    d.at = at;
    d.local_zone = l.local_zone.empty() ? gym.timezone : l.local_zone;
    d.local_state = l.local_state;
    d.local_time = rules::local_time(at, d.local_zone, "local_zone").text;
    auto& r = d.reasons;
    if (!l.consent.given) r.emplace_back("no_consent");
    if (l.do_not_call) r.emplace_back("do_not_call");
    if (l.dnc_listed) r.emplace_back("dnc_list");
    if (l.phone_invalid) r.emplace_back("phone_invalid");
    if (l.status == LeadStatus::Converted || l.status == LeadStatus::Lost) r.emplace_back("status_closed");
    if (!l.active_call_id.empty()) r.emplace_back("on_call");
    if (l.attempts >= pol.max_attempts) r.emplace_back("max_attempts");
    if (l.callback_at && *l.callback_at > at) r.emplace_back("callback_pending");
    if (!l.callback_at && l.last_call_at && *l.last_call_at > at - std::chrono::minutes{retry_gap_minutes})
      r.emplace_back("retry_gap");
    if (l.blocked_until && *l.blocked_until > at) r.emplace_back("state_call_cap");
    for (auto& w : rules::window_blocks(at, d.local_zone, l.local_state, gym)) r.push_back(std::move(w));
    d.dialable = r.empty();
    return d;
  }

  Lead update_lead_after_call(std::string_view gym_id, std::string_view lead_id, const CallResult& result) override {
    auto leads = update_leads_after_calls(gym_id, {LeadCallResults{std::string(lead_id), {result}}});
    return std::move(leads.front());
  }

  std::vector<Lead> update_leads_after_calls(std::string_view gym_id,
                                             const std::vector<LeadCallResults>& batch) override {
    const Gym gym = require_gym(gym_id);
    // Every result is checked before anything is written.
    std::vector<LeadCallResults> checked;
    checked.reserve(batch.size());
    for (const auto& item : batch) {
      LeadCallResults c;
      c.lead_id = item.lead_id;
      c.results.reserve(item.results.size());
      for (const auto& r : item.results) c.results.push_back(checked_result(r));
      checked.push_back(std::move(c));
    }
    std::vector<Lead> out;
    out.reserve(checked.size());
    // Inside a call ingest's transaction this joins it without a savepoint
    // (one savepoint around a batch's writes made each write slower); every
    // lead is read before the first write, so an unknown lead writes nothing.
    store_.transact_joined([&] {
      out.clear();
      // The leads' stored results: as given with the lead, the others read in one go.
      std::vector<std::vector<CallResult>> stored(checked.size());
      std::vector<std::string> unread;
      std::vector<std::size_t> unread_at;
      for (std::size_t k = 0; k < checked.size(); ++k) {
        const auto& given = batch[k].lead;
        const bool usable = given && given->id == checked[k].lead_id && given->gym_id == gym.id;
        if (usable) out.push_back(*given);
        else out.push_back(require_lead(gym_id, checked[k].lead_id));
        if (usable && batch[k].stored_results) {
          stored[k] = *batch[k].stored_results;
        } else {
          unread.push_back(out.back().id);
          unread_at.push_back(k);
        }
      }
      if (!unread.empty()) {
        auto read = store_.leads().call_results_many(gym.id, unread);
        for (std::size_t i = 0; i < unread_at.size(); ++i) stored[unread_at[i]] = std::move(read[i]);
      }
      const Timestamp now = clock_->now();
      analytics::RollupBuilder rollups;  // rollups
      // The writes of every lead, each kind in one batch call at the end
      // (a few statements on PostgreSQL instead of several per lead).
      std::vector<LeadCallResult> results_to_put;
      std::vector<std::size_t> call_state_at;  // the leads whose calls changed only their call state
      std::vector<LeadEvent> entries;
      const auto note = [&](const Lead& l, std::string kind, std::string from, std::string to, std::string actor,
                            std::string reason) {
        entries.push_back(history_entry(l, now, std::move(kind), std::move(from), std::move(to), std::move(actor),
                                        std::move(reason)));
      };
      for (std::size_t k = 0; k < checked.size(); ++k) {
        const auto& item = checked[k];
        Lead& l = out[k];
        Lead original = l;  // not const: only_call_state_differs sets its call state aside for a moment
        // The stored results, in the fold's order, with each new one put in
        // its place (a repeated call id replaces the earlier result).
        auto results = std::move(stored[k]);
        const auto order = [](const CallResult& a, const CallResult& b) {
          return std::tie(a.started_at, a.call_id) < std::tie(b.started_at, b.call_id);
        };
        Lead previous;  // the lead before a step, from the second step on (the first starts from `original`)
        for (std::size_t step = 0; step < item.results.size(); ++step) {
          const auto& r = item.results[step];
          std::erase_if(results, [&](const CallResult& x) { return x.call_id == r.call_id; });
          results.insert(std::upper_bound(results.begin(), results.end(), r, order), r);
          // Each result is one step, recorded as if it had come alone.
          if (step > 0) previous = l;
          const Lead& before = step > 0 ? previous : original;
          lead_rules::fold_calls(l, results, policy(gym.id));
          const auto scored = finalize(l, gym);
          if (l == before) continue;
          l.updated_at = now;
          const std::string why =
              fmt::format("call {}{}{}", r.call_id, r.outcome ? ": " : "", r.outcome ? to_string(*r.outcome) : "");
          if (l.status != before.status)
            note(l, "status", to_string(before.status), to_string(l.status), "call", why);
          if (l.do_not_call && !before.do_not_call) note(l, "dnc", "", "do_not_call", "call", why);
          if (scored) note(l, "qualification", to_string(*scored), to_string(l.qualification), "scoring", why);
        }
        // Stored once per call: its last result.
        for (std::size_t i = 0; i < item.results.size(); ++i) {
          const auto& r = item.results[i];
          const bool later = std::any_of(item.results.begin() + static_cast<std::ptrdiff_t>(i) + 1, item.results.end(),
                                         [&](const CallResult& x) { return x.call_id == r.call_id; });
          if (!later) results_to_put.push_back(LeadCallResult{l.id, r});
        }
        if (l != original) {
          l.version = original.version + 1;  // one write, however many steps
          if (only_call_state_differs(original, l)) call_state_at.push_back(k);
          else store_.leads().update(l);
          rollups.add_lead(analytics::facts_of(original), gym.timezone, -1);  // rollups
          rollups.add_lead(analytics::facts_of(l), gym.timezone, +1);         // rollups
        }
        // The end of the call the lead was claimed for releases it.
        if (!l.active_call_id.empty())
          for (const auto& r : item.results)
            if (r.call_id == l.active_call_id && is_terminal(r.status)) {
              store_.leads().set_active_call(gym.id, l.id, l.active_call_id, "");
              l.active_call_id.clear();
              break;
            }
      }
      store_.leads().put_call_results(gym.id, results_to_put);
      // Moved out for the write and back into `out` after it.
      std::vector<Lead> call_states;
      call_states.reserve(call_state_at.size());
      for (const auto k : call_state_at) call_states.push_back(std::move(out[k]));
      store_.leads().update_call_state_many(call_states);
      for (std::size_t i = 0; i < call_state_at.size(); ++i) out[call_state_at[i]] = std::move(call_states[i]);
      store_.leads().append_history_many(gym.id, entries);
      store_.analytics().apply(rollups.take());  // rollups
    });
    return out;
  }

  // ---- do-not-call lists ----------------------------------------------------

  DncEntry add_to_dnc(std::string_view scope, std::string_view phone, std::string_view reason,
                      std::string_view source) override {
    if (scope.empty()) throw_invalid("scope", "is required (a gym id, or * for the global list)");
    return add_dnc_entry(scope, dnc_phone(scope, phone), reason, source).first;
  }

  // Puts an E.164 number on a list and blocks the scope's leads with it.
  // Returns the entry and whether it is new.
  std::pair<DncEntry, bool> add_dnc_entry(std::string_view scope, const std::string& e164, std::string_view reason,
                                          std::string_view source) {
    DncEntry entry;
    entry.scope = std::string(scope);
    entry.phone = e164;
    entry.reason = text::checked_field("reason", reason, kMaxShortText);
    entry.source = text::checked_field("source", source, kMaxShortText);
    if (entry.source.empty()) entry.source = "api";
    entry.added_at = clock_->now();
    std::pair<DncEntry, bool> result{entry, true};
    store_.transact([&] {
      if (!store_.dnc().add(entry)) {
        result = {*store_.dnc().find(scope, e164), false};
        return;
      }
      for (auto& l : store_.leads().find_by_phone_any_gym(e164)) {
        if (scope != "*" && l.gym_id != scope) continue;
        if (l.dnc_listed) continue;
        l.dnc_listed = true;
        const Timestamp now = clock_->now();
        save(l, now);
        record(l, now, "dnc", "", "dnc_list", entry.source,
               fmt::format("number added to the {} list", scope == "*" ? "global" : "gym's"));
      }
    });
    return result;
  }

  DncImportReport import_dnc(std::string_view scope, std::istream& file, std::string_view source) override {
    if (scope.empty()) throw_invalid("scope", "is required (a gym id, or * for the global list)");
    // The list reads numbers as add_to_dnc does: in the gym's region; the global list expects E.164, else US.
    const std::string region = scope == "*" ? std::string("US") : require_gym(scope).region;
    constexpr std::size_t kListed = 1000;
    DncImportReport report;
    const auto reject = [&](std::int64_t line, std::string error) {
      ++report.rejected;
      if (report.rejected_lines.size() < kListed) report.rejected_lines.emplace_back(line, std::move(error));
      else report.rejected_lines_truncated = true;
    };
    dnc_file::read(file, [&](const dnc_file::Line& line) {
      ++report.lines;
      if (!line.error.empty()) return reject(line.number, line.error);
      if (line.phone.empty()) return reject(line.number, "phone: is empty");
      try {
        if (!text::is_valid_utf8(line.phone)) throw_invalid("phone", "is not valid UTF-8");
        const auto e164 = normalize_phone(line.phone, region, "phone");
        if (add_dnc_entry(scope, e164, line.reason, source).second) ++report.added;
        else ++report.already_listed;
      } catch (const InvalidArgumentError& e) {
        reject(line.number, dnc_file::masked(e.what(), line.phone));
      }
    });
    return report;
  }

  bool remove_from_dnc(std::string_view scope, std::string_view phone, std::string_view actor,
                       std::string_view reason) override {
    if (scope.empty()) throw_invalid("scope", "is required (a gym id, or * for the global list)");
    const auto e164 = dnc_phone(scope, phone);
    const auto who = actor_or_default(actor);
    const auto why = text::checked_field("reason", reason, kMaxShortText);
    bool removed = false;
    store_.transact([&] {
      removed = store_.dnc().remove(scope, e164);
      if (!removed) return;
      for (auto& l : store_.leads().find_by_phone_any_gym(e164)) {
        if (scope != "*" && l.gym_id != scope) continue;
        const bool still = listed(l.gym_id, l.phone);
        if (still == l.dnc_listed) continue;
        l.dnc_listed = still;
        const Timestamp now = clock_->now();
        save(l, now);
        record(l, now, "dnc", "dnc_list", "", who, why.empty() ? "number removed from a list" : why);
      }
    });
    return removed;
  }

  DncCheck check_dnc(std::string_view gym_id, std::string_view phone) override {
    const Gym gym = require_gym(gym_id);
    DncCheck c;
    c.phone = dnc_phone(gym.id, phone);
    c.gym_listed = store_.dnc().find(gym.id, c.phone).has_value();
    c.global_listed = store_.dnc().find("*", c.phone).has_value();
    if (auto l = store_.leads().find_by_phone(gym.id, c.phone)) c.lead_do_not_call = l->do_not_call;
    return c;
  }

  std::vector<DncEntry> list_dnc(std::string_view scope, int limit, int offset) override {
    if (scope.empty()) throw_invalid("scope", "is required (a gym id, or * for the global list)");
    if (scope != "*") require_gym(scope);
    if (limit < 1 || limit > kMaxPageSize) throw_invalid("limit", fmt::format("must be between 1 and {}", kMaxPageSize));
    if (offset < 0) throw_invalid("offset", "must not be negative");
    return store_.dnc().list(scope, limit, offset);
  }

 private:
  Store& store_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<const Config> config_;
  std::shared_ptr<GymCache> gyms_;
};

}  // namespace

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const DialDecision& d) {
  boost::json::array reasons;
  for (const auto& r : d.reasons) reasons.emplace_back(r);
  jv = boost::json::object{{"lead_id", d.lead_id},       {"at", format_timestamp(d.at)},
                           {"dialable", d.dialable},     {"reasons", std::move(reasons)},
                           {"local_zone", d.local_zone}, {"local_state", d.local_state},
                           {"local_time", d.local_time}};
}

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const ImportReport& r) {
  boost::json::object by_reason;
  for (const auto& [k, n] : r.rejected_by_reason) by_reason[k] = n;
  boost::json::array rows;
  for (const auto& row : r.rejected_rows)
    rows.push_back(boost::json::object{{"line", row.line}, {"reason", row.reason}, {"detail", row.detail}});
  jv = boost::json::object{{"rows", r.rows},
                           {"imported", r.imported},
                           {"merged_duplicates", r.merged_duplicates},
                           {"rejected", r.rejected},
                           {"rejected_by_reason", std::move(by_reason)},
                           {"rejected_rows", std::move(rows)},
                           {"rejected_rows_truncated", r.rejected_rows_truncated},
                           {"seconds", r.seconds}};
}

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const DncImportReport& r) {
  boost::json::array rejected;
  for (const auto& [line, error] : r.rejected_lines)
    rejected.push_back(boost::json::object{{"line", line}, {"error", error}});
  jv = boost::json::object{{"lines", r.lines},
                           {"added", r.added},
                           {"already_listed", r.already_listed},
                           {"rejected", r.rejected},
                           {"rejected_lines", std::move(rejected)},
                           {"rejected_lines_truncated", r.rejected_lines_truncated}};
}

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const DncCheck& c) {
  jv = boost::json::object{{"phone", c.phone},
                           {"gym_listed", c.gym_listed},
                           {"global_listed", c.global_listed},
                           {"lead_do_not_call", c.lead_do_not_call},
                           {"blocked", c.blocked()}};
}

std::unique_ptr<LeadService> make_lead_service(Store& store, std::shared_ptr<Clock> clock,
                                               std::shared_ptr<const Config> config, std::shared_ptr<GymCache> cache) {
  return std::make_unique<LeadServiceImpl>(store, std::move(clock), std::move(config), std::move(cache));
}

std::unique_ptr<LeadService> make_lead_service(Store& store, std::shared_ptr<Clock> clock,
                                               std::shared_ptr<const Config> config) {
  // Services built one by one share no cache (a GymService could not tell
  // this one about a change), so this one keeps none.
  return make_lead_service(store, std::move(clock), std::move(config),
                           std::make_shared<GymCache>(std::chrono::milliseconds{0}));
}

}  // namespace gymdash
