// LeadService: validation, merging, status rules and history over the Store.
#include <gymdash/error.hpp>
#include <gymdash/phone.hpp>
#include <gymdash/services/lead.hpp>

#include "core/text.hpp"
#include "core/tz.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace gymdash {

namespace {

constexpr std::size_t kMaxShortText = 200;   // ids, sources, actors, time lines
constexpr std::size_t kMaxCustomFields = 100;

std::string actor_or_default(std::string_view actor) {
  auto a = text::checked_field("actor", actor, kMaxShortText);
  return a.empty() ? std::string("api") : a;
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

int rank(LeadStatus s) {
  switch (s) {
    case LeadStatus::New: return 0;
    case LeadStatus::Contacted: return 1;
    case LeadStatus::Qualified: return 2;
    case LeadStatus::TrialBooked: return 3;
    case LeadStatus::Converted: return 4;
    case LeadStatus::Lost: return -1;
  }
  return 0;
}

// The validated, normalized text fields of a create request.
struct CleanInput {
  std::string external_id, phone, first_name, last_name, email, source, interest, timeline, notes, timezone, actor;
  std::vector<std::string> tags;
  std::map<std::string, std::string> custom_fields;
};

CleanInput clean(const LeadInput& in, const Gym& gym) {
  CleanInput c;
  c.external_id = text::checked_field("external_id", in.external_id, kMaxShortText);
  c.first_name = text::checked_field("first_name", in.first_name, kMaxNameLength);
  c.last_name = text::checked_field("last_name", in.last_name, kMaxNameLength);
  c.email = text::checked_field("email", in.email, kMaxEmailLength);
  check_email(c.email);
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
  LeadServiceImpl(Store& store, std::shared_ptr<Clock> clock) : store_(store), clock_(std::move(clock)) {}

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
      if (input.consent) l.consent = *input.consent;
      l.do_not_call = input.do_not_call;
      l.status = input.status.value_or(LeadStatus::New);
      if (input.qualification) {
        l.qualification = *input.qualification;
        l.qualification_manual = true;
      }
      l.timezone = in.timezone;
      l.custom_fields = in.custom_fields;
      l.created_at = input.created_at.value_or(now);
      l.updated_at = now;
      l.version = 1;
      store_.leads().insert(l);
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
      save(l, now);
      if (!changed.empty()) record(l, now, "updated", "", join(changed), actor, "");
      if (qual_change)
        record(l, now, "qualification", to_string(qual_change->first), to_string(qual_change->second), actor,
               "set by hand");
      result = std::move(l);
    });
    return result;
  }

  void delete_lead(std::string_view gym_id, std::string_view lead_id) override {
    require_gym(gym_id);
    if (!store_.leads().remove(gym_id, lead_id)) throw lead_not_found(gym_id, lead_id);
  }

  LeadPage list_leads(std::string_view gym_id, const LeadFilter& filter) override {
    require_gym(gym_id);
    if (filter.page < 1) throw_invalid("page", "must be 1 or more");
    if (filter.page_size < 1 || filter.page_size > kMaxPageSize)
      throw_invalid("page_size", fmt::format("must be between 1 and {}", kMaxPageSize));
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
      const bool backwards = from != LeadStatus::Lost && to != LeadStatus::Lost && rank(to) < rank(from);
      if (from_converted || backwards) {
        if (!change.force || why.empty())
          throw ConflictError(fmt::format("status: lead \"{}\" cannot move from {} back to {} without force and a "
                                          "reason",
                                          l.id, to_string(from), to_string(to)),
                              "status");
      }
      l.status = to;
      const Timestamp now = clock_->now();
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
    if (auto g = store_.gyms().find(gym_id)) return *g;
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

  void save(Lead& l, Timestamp now) {
    l.updated_at = now;
    ++l.version;
    store_.leads().update(l);
  }

  LeadEvent record(const Lead& l, Timestamp at, std::string kind, std::string from, std::string to,
                   std::string actor, std::string reason) {
    LeadEvent e;
    e.lead_id = l.id;
    e.at = at;
    e.kind = std::move(kind);
    e.from = std::move(from);
    e.to = std::move(to);
    e.actor = std::move(actor);
    e.reason = std::move(reason);
    e.seq = store_.leads().append_history(l.gym_id, e);
    return e;
  }

  // A second sighting of a known number: fill what is missing, keep what is known.
  Lead merge(Lead l, const CleanInput& in, const LeadInput& input, Timestamp now) {
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
    save(l, now);
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

  Store& store_;
  std::shared_ptr<Clock> clock_;
};

}  // namespace

std::unique_ptr<LeadService> make_lead_service(Store& store, std::shared_ptr<Clock> clock) {
  return std::make_unique<LeadServiceImpl>(store, std::move(clock));
}

}  // namespace gymdash
