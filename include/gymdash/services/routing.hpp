/**
 * @file services/routing.hpp
 * @brief Router: who a call goes through. For an outbound call, the caller id
 *        (local presence), the AI assistant (by campaign and qualification)
 *        and the dynamic variables the assistant is given; for an inbound
 *        call, the lead behind the number calling, created if unknown.
 *
 * Rules, and the exact list of dynamic variables: docs/routing.md.
 */
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/lead.hpp>
#include <gymdash/store.hpp>

#include <boost/json/fwd.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gymdash {

/** The assistants of one campaign (AssistantProfiles::campaigns). */
struct CampaignAssistants {
  std::string default_id;  ///< the campaign's assistant for any qualification, or empty
  std::map<Qualification, std::string> by_qualification;  ///< hot / neutral / cold → assistant id
  friend bool operator==(const CampaignAssistants&, const CampaignAssistants&) = default;
};

/**
 * Which AI assistant (the voice provider's assistant or agent id) takes a
 * call. An input, not stored: the host keeps it with its campaigns. Chosen,
 * first match wins: the campaign's assistant for the lead's qualification,
 * the campaign's default, the gym's default; none is InvalidArgumentError
 * naming `assistants.gym_default`.
 *
 * JSON: {"gym_default":"…","campaigns":{"<campaign id>":{"default":"…",
 * "hot":"…","neutral":"…","cold":"…"}}}, every member optional, read strictly.
 */
struct AssistantProfiles {
  std::string gym_default;  ///< the last fallback, or empty
  std::map<std::string, CampaignAssistants, std::less<>> campaigns;  ///< by campaign id
  friend bool operator==(const AssistantProfiles&, const AssistantProfiles&) = default;
};

/** What route_outbound is asked. JSON: {"gym_id","lead_id","campaign_id","at","assistants":{…}}. */
struct OutboundRequest {
  std::string gym_id;             ///< required
  std::string lead_id;            ///< required
  std::string campaign_id;        ///< the campaign placing the call, or empty
  std::optional<Timestamp> at;    ///< when the call is placed (the greeting's time of day); default now
  AssistantProfiles assistants;
};

/**
 * How to place one outbound call. Its from, to, assistant_id,
 * dynamic_variables and the ids are what VoiceProvider::place_call needs.
 */
struct OutboundRoute {
  std::string gym_id;
  std::string lead_id;
  std::string campaign_id;
  std::string from_number;     ///< the gym's caller id chosen (E.164)
  bool local_presence = false; ///< from_number has the lead's area code
  std::string to_number;       ///< the lead's number (E.164)
  std::string assistant_id;
  std::string assistant_rule;  ///< what chose it: `campaign_qualification`, `campaign_default` or `gym_default`
  /** For the assistant's prompt; exactly the names of docs/routing.md, never an email, a full number or notes. */
  std::map<std::string, std::string> dynamic_variables;
};

/** What an inbound call from a number is about: the lead behind it. */
struct InboundRoute {
  std::string gym_id;
  std::string from_number;   ///< E.164, read in the gym's region
  bool created = false;      ///< the number was unknown: a lead (source `inbound_call`) was created
  bool do_not_call = false;  ///< the number may not be called back (the lead asked, or it is on a do-not-call list);
                             ///< the inbound call itself is still routed
  std::string lead_id;
  std::string first_name;
  std::string last_name;
  LeadStatus status = LeadStatus::New;
  Qualification qualification = Qualification::Neutral;
  std::string last_outcome;               ///< outcome of the latest call that reached the lead, or empty
  std::optional<Timestamp> callback_at;   ///< an open callback request
  /** The same variables as an outbound call's (docs/routing.md), for the assistant that answers. */
  std::map<std::string, std::string> dynamic_variables;
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const CampaignAssistants& v);
CampaignAssistants tag_invoke(const boost::json::value_to_tag<CampaignAssistants>&, const boost::json::value& jv);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const AssistantProfiles& v);
AssistantProfiles tag_invoke(const boost::json::value_to_tag<AssistantProfiles>&, const boost::json::value& jv);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const OutboundRequest& v);
OutboundRequest tag_invoke(const boost::json::value_to_tag<OutboundRequest>&, const boost::json::value& jv);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const OutboundRoute& v);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const InboundRoute& v);

// ---- the rules, as pure functions -------------------------------------------

/**
 * Local presence: among the gym's caller ids, the first (in the gym's order)
 * whose NANP area code (the 3 digits after +1) is the lead's; else the gym's
 * main number, its first caller id. `local_presence` says which. A gym
 * without caller ids is InvalidArgumentError naming `caller_ids`.
 */
std::string select_caller_id(const Gym& gym, std::string_view lead_e164, bool* local_presence = nullptr);

/** The assistant for a campaign and qualification (see AssistantProfiles); `rule` says which fallback chose it. */
std::string select_assistant(const AssistantProfiles& assistants, std::string_view campaign_id,
                             Qualification qualification, std::string* rule = nullptr);

/**
 * The dynamic variables for a lead of a gym at `at` (docs/routing.md):
 * first_name, gym_name, interest, timeline, time_of_day, greeting,
 * last_outcome; every name always present (empty when unknown).
 */
std::map<std::string, std::string> dynamic_variables(const Gym& gym, const Lead& lead, Timestamp at);

/**
 * Routes outbound and inbound calls of the gyms of one store.
 *
 * Errors: NotFoundError naming gym_id or lead_id; InvalidArgumentError naming
 * the field (`caller_ids`, `assistants.gym_default`, `from_number` …);
 * StorageError.
 *
 * Ownership: created by make_router; holds references to the Store and
 * LeadService it was given, which must outlive it.
 * Thread safety: safe for concurrent access from multiple threads without
 * external synchronization.
 */
class Router {
 public:
  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;
  virtual ~Router() = default;

  /** The caller id, assistant and dynamic variables for calling a lead. Writes nothing. */
  virtual OutboundRoute route_outbound(const OutboundRequest& request) = 0;

  /**
   * The lead behind an inbound call from `from_number` (read in the gym's
   * region) at `at` (default now). A known number returns its lead's
   * context; an unknown one creates a lead through LeadService::create_lead
   * (source and actor `inbound_call`, no consent: calling in is not consent
   * to be called) and returns it with `created`. A number on a do-not-call
   * list still routes, with `do_not_call` set.
   */
  virtual InboundRoute route_inbound(std::string_view gym_id, std::string_view from_number,
                                     std::optional<Timestamp> at = std::nullopt) = 0;
};

/** Makes the router over `store` (reads) and `leads` (creates inbound leads). All must outlive it. */
std::unique_ptr<Router> make_router(Store& store, std::shared_ptr<Clock> clock, LeadService& leads);

}  // namespace gymdash
