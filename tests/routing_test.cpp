// Router: local-presence caller ids, assistant fallbacks, the dynamic
// variables (and what they never hold), and inbound calls matched to or
// creating their lead. Service cases run on the memory and SQLite backends.
#include <gymdash/gymdash.hpp>
#include <gymdash/services/routing.hpp>

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

Timestamp T(const char* iso) { return parse_timestamp(iso); }

Gym gym_with(std::vector<std::string> caller_ids) {
  Gym g;
  g.id = "gym-a";
  g.name = "Iron Temple";
  g.timezone = "America/New_York";
  g.caller_ids = std::move(caller_ids);
  return g;
}

using test::Backend;

struct World {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(T("2026-11-02T15:00:00Z"));  // 10:00 in New York
  std::unique_ptr<Runtime> rt;

  explicit World(const std::string& storage) {
    RuntimeOptions o;
    o.storage = storage;
    o.clock = clock;
    o.worker_threads = 1;
    o.log_level = LogLevel::Warn;
    rt = Runtime::open(o);
    Gym g = gym_with({"(212) 736-0100", "(305) 372-0100", "(305) 372-0199"});
    rt->gyms().create_gym(g);
    Gym other = gym_with({"(212) 736-0900"});
    other.id = "gym-b";
    rt->gyms().create_gym(other);
  }

  Lead add(const std::string& phone, const std::string& first = "Dana") {
    LeadInput in;
    in.phone = phone;
    in.first_name = first;
    in.last_name = "Reyes";
    in.email = "dana.reyes@example.com";
    in.notes = "knee injury, prefers evenings";
    in.interest = "personal training";
    in.timeline = "this week";
    in.consent = Consent{true, clock->now(), "web_form", ""};
    return rt->leads().create_lead("gym-a", in).lead;
  }
};

AssistantProfiles profiles() {
  AssistantProfiles a;
  a.gym_default = "asst-gym";
  a.campaigns["spring"].default_id = "asst-spring";
  a.campaigns["spring"].by_qualification[Qualification::Hot] = "asst-spring-hot";
  a.campaigns["winback"].by_qualification[Qualification::Cold] = "asst-winback-cold";
  return a;
}

}  // namespace

TEST_CASE("caller id: the first of the gym's numbers with the lead's area code, else the main number") {
  const Gym g = gym_with({"+12127360100", "+13053720100", "+13053720199"});
  bool local = false;
  CHECK(select_caller_id(g, "+13055551234", &local) == "+13053720100");  // stable: first in the gym's list
  CHECK(local);
  CHECK(select_caller_id(g, "+14155551234", &local) == "+12127360100");
  CHECK_FALSE(local);
  CHECK(select_caller_id(g, "+442079460958", &local) == "+12127360100");  // not NANP: the main number
  CHECK_FALSE(local);
  CHECK(select_caller_id(g, "+12125550123", &local) == "+12127360100");  // main number is also local
  CHECK(local);
  try {
    select_caller_id(gym_with({}), "+13055551234");
    FAIL("routed without a caller id");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "caller_ids");
  }
}

TEST_CASE("assistant: campaign and qualification, then campaign default, then gym default") {
  const auto a = profiles();
  std::string rule;
  CHECK(select_assistant(a, "spring", Qualification::Hot, &rule) == "asst-spring-hot");
  CHECK(rule == "campaign_qualification");
  CHECK(select_assistant(a, "spring", Qualification::Cold, &rule) == "asst-spring");
  CHECK(rule == "campaign_default");
  CHECK(select_assistant(a, "winback", Qualification::Hot, &rule) == "asst-gym");  // no campaign default
  CHECK(rule == "gym_default");
  CHECK(select_assistant(a, "unknown", Qualification::Neutral, &rule) == "asst-gym");
  CHECK(select_assistant(a, "", Qualification::Neutral, &rule) == "asst-gym");
  AssistantProfiles none = a;
  none.gym_default.clear();
  CHECK(select_assistant(none, "winback", Qualification::Cold) == "asst-winback-cold");
  try {
    select_assistant(none, "winback", Qualification::Hot);
    FAIL("chose an assistant from nothing");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "assistants.gym_default");
  }
}

TEST_CASE("assistant profiles read strictly from JSON and round-trip") {
  const auto a = profiles();
  const auto back = boost::json::value_to<AssistantProfiles>(boost::json::value_from(a));
  CHECK(back == a);
  try {
    boost::json::value_to<OutboundRequest>(
        boost::json::parse(R"({"gym_id":"g","lead_id":"l","assistants":{"campaigns":{"spring":{"warmish":"x"}}}})"));
    FAIL("accepted an unknown key");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "assistants.campaigns.spring.warmish");
  }
  try {
    boost::json::value_to<OutboundRequest>(boost::json::parse(R"({"gym_id":"g","lead_id":"l","assistants":[]})"));
    FAIL("accepted an array");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "assistants");
  }
}

TEST_CASE("dynamic variables: exactly the documented names, in the lead's local time, nothing private") {
  const Gym g = gym_with({"+12127360100"});
  Lead l;
  l.first_name = "Dana";
  l.last_name = "Reyes";
  l.email = "dana.reyes@example.com";
  l.phone = "+13053721234";
  l.notes = "knee injury";
  l.interest = "personal training";
  l.timeline = "this week";
  l.last_outcome = "callback_requested";
  auto vars = dynamic_variables(g, l, T("2026-11-02T15:00:00Z"));  // 10:00 in New York
  std::set<std::string> names;
  for (const auto& [k, v] : vars) names.insert(k);
  CHECK(names == std::set<std::string>{"first_name", "gym_name", "interest", "timeline", "time_of_day", "greeting",
                                       "last_outcome"});
  CHECK(vars["first_name"] == "Dana");
  CHECK(vars["gym_name"] == "Iron Temple");
  CHECK(vars["interest"] == "personal training");
  CHECK(vars["timeline"] == "this week");
  CHECK(vars["time_of_day"] == "morning");
  CHECK(vars["greeting"] == "Good morning");
  CHECK(vars["last_outcome"] == "callback_requested");
  for (const auto& [k, v] : vars) {
    CHECK(v.find("example.com") == std::string::npos);
    CHECK(v.find("3721234") == std::string::npos);
    CHECK(v.find("knee") == std::string::npos);
    CHECK(v.find("Reyes") == std::string::npos);
  }
  CHECK(dynamic_variables(g, l, T("2026-11-02T18:30:00Z"))["time_of_day"] == "afternoon");  // 13:30
  CHECK(dynamic_variables(g, l, T("2026-11-02T23:00:00Z"))["greeting"] == "Good evening");  // 18:00
  // The lead's own zone wins over the gym's: 10:00 in New York is 07:00 in Los Angeles.
  l.local_zone = "America/Los_Angeles";
  CHECK(dynamic_variables(g, l, T("2026-11-02T20:30:00Z"))["time_of_day"] == "afternoon");  // 12:30 there
  CHECK(dynamic_variables(g, l, T("2026-11-02T19:00:00Z"))["time_of_day"] == "morning");    // 11:00 there
}

TEST_CASE("route_outbound picks the local caller id, the assistant and the variables") {
  for (auto& backend : test::backends("routing")) {
    CAPTURE(backend.name);
    World w(backend.uri());
    const auto lead = w.add("(305) 372-4444");
    OutboundRequest req;
    req.gym_id = "gym-a";
    req.lead_id = lead.id;
    req.campaign_id = "spring";
    req.assistants = profiles();
    const auto route = w.rt->router().route_outbound(req);
    CHECK(route.from_number == "+13053720100");
    CHECK(route.local_presence);
    CHECK(route.to_number == lead.phone);
    CHECK(route.assistant_id == "asst-spring");  // the lead is neutral
    CHECK(route.assistant_rule == "campaign_default");
    CHECK(route.dynamic_variables.at("first_name") == "Dana");
    CHECK(route.dynamic_variables.at("greeting") == "Good morning");

    const auto far = w.add("(415) 392-4444", "Sam");
    req.lead_id = far.id;
    req.campaign_id = "";
    req.at = T("2026-11-02T23:00:00Z");  // 15:00 in San Francisco (the area code's zone)
    const auto main = w.rt->router().route_outbound(req);
    CHECK(main.from_number == "+12127360100");
    CHECK_FALSE(main.local_presence);
    CHECK(main.assistant_rule == "gym_default");
    CHECK(main.dynamic_variables.at("time_of_day") == "afternoon");

    const auto json = boost::json::value_from(route).as_object();
    CHECK(json.at("from").as_string() == "+13053720100");
    CHECK(json.at("dynamic_variables").as_object().size() == 7);

    req.lead_id = "ld_missing";
    try {
      w.rt->router().route_outbound(req);
      FAIL("routed an unknown lead");
    } catch (const NotFoundError& e) {
      CHECK(e.field() == "lead_id");
    }
    req.gym_id = "gym-b";
    req.lead_id = lead.id;  // gym-a's lead asked under gym-b
    CHECK_THROWS_AS(w.rt->router().route_outbound(req), NotFoundError);
  }
}

TEST_CASE("route_inbound finds a known number's lead, creates one for an unknown number, and flags do-not-call") {
  for (auto& backend : test::backends("routing")) {
    CAPTURE(backend.name);
    World w(backend.uri());
    const auto known = w.add("(212) 736-2001");
    CallResult r;
    r.call_id = "call-1";
    r.started_at = w.clock->now() - 1h;
    r.ended_at = r.started_at + 2min;
    r.status = CallStatus::Completed;
    r.answered_by = AnsweredBy::Human;
    r.outcome = CallOutcome::CallbackRequested;
    r.callback_at = T("2026-11-03T15:00:00Z");
    w.rt->leads().update_lead_after_call("gym-a", known.id, r);

    // Typed another way, the same number.
    const auto in = w.rt->router().route_inbound("gym-a", "212.736.2001");
    CHECK_FALSE(in.created);
    CHECK_FALSE(in.do_not_call);
    CHECK(in.lead_id == known.id);
    CHECK(in.from_number == "+12127362001");
    CHECK(in.first_name == "Dana");
    CHECK(in.last_name == "Reyes");
    CHECK(in.status == LeadStatus::Contacted);
    CHECK(in.last_outcome == "callback_requested");
    CHECK(in.callback_at == T("2026-11-03T15:00:00Z"));
    CHECK(in.dynamic_variables.at("first_name") == "Dana");

    // Unknown: created through the lead service, with its history, no consent.
    const auto fresh = w.rt->router().route_inbound("gym-a", "+1 (212) 736-7777");
    CHECK(fresh.created);
    CHECK_FALSE(fresh.do_not_call);
    CHECK(fresh.status == LeadStatus::New);
    const auto lead = w.rt->leads().get_lead("gym-a", fresh.lead_id);
    CHECK(lead.source == "inbound_call");
    CHECK(lead.phone == "+12127367777");
    CHECK_FALSE(lead.consent.given);
    const auto history = w.rt->leads().get_history("gym-a", lead.id);
    REQUIRE_FALSE(history.empty());
    CHECK(history.front().kind == "created");
    CHECK(history.front().actor == "inbound_call");
    // The same number again finds that lead.
    const auto again = w.rt->router().route_inbound("gym-a", "2127367777");
    CHECK_FALSE(again.created);
    CHECK(again.lead_id == fresh.lead_id);

    // On the gym's do-not-call list: still routed, and the context says so.
    w.rt->leads().add_to_dnc("gym-a", "(212) 736-8888", "asked", "test");
    const auto listed = w.rt->router().route_inbound("gym-a", "(212) 736-8888");
    CHECK(listed.created);
    CHECK(listed.do_not_call);
    CHECK(w.rt->leads().get_lead("gym-a", listed.lead_id).dnc_listed);
    // A known lead whose number is on the global list.
    w.rt->leads().add_to_dnc("*", "+12127362001", "asked", "test");
    CHECK(w.rt->router().route_inbound("gym-a", "2127362001").do_not_call);

    const auto json = boost::json::value_from(in).as_object();
    CHECK(json.at("callback_at").as_string() == "2026-11-03T15:00:00Z");
    CHECK(json.at("status").as_string() == "contacted");

    try {
      w.rt->router().route_inbound("gym-a", "not a number");
      FAIL("accepted a bad number");
    } catch (const InvalidArgumentError& e) {
      CHECK(e.field() == "from_number");
    }
    try {
      w.rt->router().route_inbound("gym-x", "2127362001");
      FAIL("routed into an unknown gym");
    } catch (const NotFoundError& e) {
      CHECK(e.field() == "gym_id");
    }
  }
}
