// Router: caller id by local presence, assistant by campaign and
// qualification, the assistant's dynamic variables, and inbound calls
// matched to (or creating) their lead. Rules: docs/routing.md.

#include <gymdash/error.hpp>
#include <gymdash/phone.hpp>
#include <gymdash/services/routing.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <string>
#include <utility>

#include "core/json_reader.hpp"
#include "services/lead/calling_rules.hpp"

namespace gymdash {

namespace {

namespace bj = boost::json;

constexpr std::size_t kMaxAssistantId = 200;

// The NANP area code of an E.164 number (`+1` and ten digits), or empty.
std::string_view area_code(std::string_view e164) {
  if (e164.size() != 12 || e164.substr(0, 2) != "+1") return {};
  for (char c : e164.substr(2))
    if (c < '0' || c > '9') return {};
  return e164.substr(2, 3);
}

std::string assistant_id(json::ObjectReader& r, std::string_view key) {
  auto v = r.string(key);
  if (!v) return {};
  if (v->size() > kMaxAssistantId)
    throw_invalid(r.path(key), fmt::format("longer than {} bytes", kMaxAssistantId));
  return std::move(*v);
}

CampaignAssistants read_campaign(const bj::value& jv, const std::string& path) {
  json::ObjectReader r(jv, path);
  CampaignAssistants c;
  c.default_id = assistant_id(r, "default");
  for (auto q : {Qualification::Hot, Qualification::Neutral, Qualification::Cold}) {
    auto id = assistant_id(r, to_string(q));
    if (!id.empty()) c.by_qualification[q] = std::move(id);
  }
  r.finish();
  return c;
}

AssistantProfiles read_assistants(const bj::value& jv, const std::string& path) {
  json::ObjectReader r(jv, path);
  AssistantProfiles a;
  a.gym_default = assistant_id(r, "gym_default");
  if (const auto* v = r.value("campaigns")) {
    const auto campaigns_path = r.path("campaigns");
    if (!v->is_object()) throw_invalid(campaigns_path, fmt::format("expected an object, got {}", json::kind_name(*v)));
    for (const auto& [key, value] : v->get_object())
      a.campaigns.emplace(std::string(key), read_campaign(value, json::join_path(campaigns_path, key)));
  }
  r.finish();
  return a;
}

// The zone the lead's day runs in: its calling-window zone, its own, else the gym's.
std::string_view lead_zone(const Gym& gym, const Lead& lead) {
  if (!lead.local_zone.empty()) return lead.local_zone;
  if (!lead.timezone.empty()) return lead.timezone;
  return gym.timezone;
}

class RouterImpl final : public Router {
 public:
  RouterImpl(Store& store, std::shared_ptr<Clock> clock, LeadService& leads)
      : store_(store), clock_(std::move(clock)), leads_(leads) {}

  OutboundRoute route_outbound(const OutboundRequest& request) override {
    const Gym gym = require_gym(request.gym_id);
    if (request.lead_id.empty()) throw_invalid("lead_id", "is required");
    const auto lead = store_.leads().find(gym.id, request.lead_id);
    if (!lead)
      throw NotFoundError(fmt::format("lead {}: not found in gym {}", std::string_view(request.lead_id).substr(0, 64),
                                      gym.id),
                          "lead_id");
    const Timestamp at = request.at.value_or(clock_->now());
    OutboundRoute route;
    route.gym_id = gym.id;
    route.lead_id = lead->id;
    route.campaign_id = request.campaign_id;
    route.from_number = select_caller_id(gym, lead->phone, &route.local_presence);
    route.to_number = lead->phone;
    route.assistant_id = select_assistant(request.assistants, request.campaign_id, lead->qualification,
                                          &route.assistant_rule);
    route.dynamic_variables = dynamic_variables(gym, *lead, at);
    return route;
  }

  InboundRoute route_inbound(std::string_view gym_id, std::string_view from_number,
                             std::optional<Timestamp> at) override {
    const Gym gym = require_gym(gym_id);
    const std::string e164 = normalize_phone(from_number, gym.region, "from_number");
    const Timestamp when = at.value_or(clock_->now());
    InboundRoute route;
    route.gym_id = gym.id;
    route.from_number = e164;
    auto lead = store_.leads().find_by_phone(gym.id, e164);
    if (!lead) {
      LeadInput in;
      in.phone = e164;
      in.source = "inbound_call";
      in.actor = "inbound_call";
      CreateLeadResult made;
      try {
        made = leads_.create_lead(gym.id, in);
      } catch (const InvalidArgumentError& e) {
        if (e.field() != "phone") throw;
        throw InvalidArgumentError(fmt::format("from_number: {}", e.what()), "from_number");
      }
      route.created = !made.merged;  // another call from the number may have created it first
      lead = std::move(made.lead);
    }
    const DncCheck dnc = leads_.check_dnc(gym.id, e164);
    route.do_not_call = dnc.blocked() || lead->do_not_call || lead->dnc_listed;
    route.lead_id = lead->id;
    route.first_name = lead->first_name;
    route.last_name = lead->last_name;
    route.status = lead->status;
    route.qualification = lead->qualification;
    route.last_outcome = lead->last_outcome;
    route.callback_at = lead->callback_at;
    route.dynamic_variables = dynamic_variables(gym, *lead, when);
    return route;
  }

 private:
  Gym require_gym(std::string_view gym_id) {
    if (gym_id.empty()) throw_invalid("gym_id", "is required");
    auto gym = store_.gyms().find(gym_id);
    if (!gym) throw NotFoundError(fmt::format("gym {}: not found", gym_id.substr(0, 64)), "gym_id");
    return std::move(*gym);
  }

  Store& store_;
  std::shared_ptr<Clock> clock_;
  LeadService& leads_;
};

}  // namespace

std::string select_caller_id(const Gym& gym, std::string_view lead_e164, bool* local_presence) {
  if (local_presence) *local_presence = false;
  if (gym.caller_ids.empty())
    throw InvalidArgumentError(fmt::format("caller_ids: gym {} has no caller id to call from", gym.id), "caller_ids");
  const auto lead_area = area_code(lead_e164);
  if (!lead_area.empty())
    for (const auto& id : gym.caller_ids)
      if (area_code(id) == lead_area) {
        if (local_presence) *local_presence = true;
        return id;
      }
  return gym.caller_ids.front();
}

std::string select_assistant(const AssistantProfiles& assistants, std::string_view campaign_id,
                             Qualification qualification, std::string* rule) {
  if (const auto c = assistants.campaigns.find(campaign_id); c != assistants.campaigns.end()) {
    if (const auto q = c->second.by_qualification.find(qualification);
        q != c->second.by_qualification.end() && !q->second.empty()) {
      if (rule) *rule = "campaign_qualification";
      return q->second;
    }
    if (!c->second.default_id.empty()) {
      if (rule) *rule = "campaign_default";
      return c->second.default_id;
    }
  }
  if (!assistants.gym_default.empty()) {
    if (rule) *rule = "gym_default";
    return assistants.gym_default;
  }
  throw InvalidArgumentError(
      fmt::format("assistants.gym_default: no assistant for campaign \"{}\" and qualification {}, and no gym default",
                  campaign_id.substr(0, 64), to_string(qualification)),
      "assistants.gym_default");
}

std::map<std::string, std::string> dynamic_variables(const Gym& gym, const Lead& lead, Timestamp at) {
  const int minute = rules::local_time(at, lead_zone(gym, lead)).minute;
  const char* time_of_day = minute >= 5 * 60 && minute < 12 * 60   ? "morning"
                            : minute >= 12 * 60 && minute < 17 * 60 ? "afternoon"
                                                                     : "evening";
  return {
      {"first_name", lead.first_name},
      {"gym_name", gym.name},
      {"interest", lead.interest},
      {"timeline", lead.timeline},
      {"time_of_day", time_of_day},
      {"greeting", std::string("Good ") + time_of_day},
      {"last_outcome", lead.last_outcome},
  };
}

std::unique_ptr<Router> make_router(Store& store, std::shared_ptr<Clock> clock, LeadService& leads) {
  return std::make_unique<RouterImpl>(store, std::move(clock), leads);
}

// ---- JSON -------------------------------------------------------------------

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CampaignAssistants& v) {
  bj::object o;
  if (!v.default_id.empty()) o["default"] = v.default_id;
  for (const auto& [q, id] : v.by_qualification) o[to_string(q)] = id;
  jv = std::move(o);
}

CampaignAssistants tag_invoke(const bj::value_to_tag<CampaignAssistants>&, const bj::value& jv) {
  return read_campaign(jv, "");
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const AssistantProfiles& v) {
  bj::object campaigns;
  for (const auto& [id, c] : v.campaigns) campaigns[id] = bj::value_from(c);
  jv = bj::object{{"gym_default", v.gym_default}, {"campaigns", std::move(campaigns)}};
}

AssistantProfiles tag_invoke(const bj::value_to_tag<AssistantProfiles>&, const bj::value& jv) {
  return read_assistants(jv, "");
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const OutboundRequest& v) {
  bj::object o{{"gym_id", v.gym_id},
               {"lead_id", v.lead_id},
               {"campaign_id", v.campaign_id},
               {"assistants", bj::value_from(v.assistants)}};
  if (v.at) o["at"] = format_timestamp(*v.at);
  else o["at"] = nullptr;
  jv = std::move(o);
}

OutboundRequest tag_invoke(const bj::value_to_tag<OutboundRequest>&, const bj::value& jv) {
  json::ObjectReader r(jv, "");
  OutboundRequest req;
  if (auto v = r.string("gym_id")) req.gym_id = std::move(*v);
  if (auto v = r.string("lead_id")) req.lead_id = std::move(*v);
  if (auto v = r.string("campaign_id")) req.campaign_id = std::move(*v);
  req.at = r.timestamp("at");
  if (const auto* v = r.value("assistants")) req.assistants = read_assistants(*v, "assistants");
  r.finish();
  return req;
}

namespace {
bj::object variables_json(const std::map<std::string, std::string>& vars) {
  bj::object o;
  for (const auto& [k, v] : vars) o[k] = v;
  return o;
}
}  // namespace

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const OutboundRoute& v) {
  jv = bj::object{{"gym_id", v.gym_id},
                  {"lead_id", v.lead_id},
                  {"campaign_id", v.campaign_id},
                  {"from", v.from_number},
                  {"local_presence", v.local_presence},
                  {"to", v.to_number},
                  {"assistant_id", v.assistant_id},
                  {"assistant_rule", v.assistant_rule},
                  {"dynamic_variables", variables_json(v.dynamic_variables)}};
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const InboundRoute& v) {
  bj::object o{{"gym_id", v.gym_id},
               {"from", v.from_number},
               {"created", v.created},
               {"do_not_call", v.do_not_call},
               {"lead_id", v.lead_id},
               {"first_name", v.first_name},
               {"last_name", v.last_name},
               {"status", to_string(v.status)},
               {"qualification", to_string(v.qualification)},
               {"last_outcome", v.last_outcome},
               {"dynamic_variables", variables_json(v.dynamic_variables)}};
  if (v.callback_at) o["callback_at"] = format_timestamp(*v.callback_at);
  else o["callback_at"] = nullptr;
  jv = std::move(o);
}

}  // namespace gymdash
