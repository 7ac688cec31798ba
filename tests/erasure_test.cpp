// Erasing a lead (docs/hardening.md, "Erasing a lead"): everything about the
// person goes in one transaction, the rollups stay equal to their rebuild,
// an audit entry without personal data stays, bad requests change nothing,
// and a failure half-way leaves everything as it was. Every case runs on the
// memory and the SQLite backend.
#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "test_util.hpp"
#include "wrapped_store.hpp"

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

Timestamp T(const char* iso) { return parse_timestamp(iso); }

using test::Backend;

struct World {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(T("2026-11-02T15:00:00Z"));
  test::WrappedStore store;
  std::unique_ptr<GymService> gyms = make_gym_service(store, clock);
  std::unique_ptr<LeadService> leads = make_lead_service(store, clock);
  std::unique_ptr<CallService> calls = make_call_service(store, clock, *leads);
  std::unique_ptr<AnalyticsService> analytics = make_analytics_service(store, clock);
  int line = 4000;
  int events = 0;

  explicit World(const Backend& backend) : store(backend.open()) {
    for (const char* id : {"gym-a", "gym-b"}) {
      Gym g;
      g.id = id;
      g.name = id;
      g.timezone = "America/New_York";
      gyms->create_gym(g);
    }
  }

  Lead add(const std::string& gym, const std::string& first = "Maria", const std::string& last = "Lopez") {
    LeadInput in;
    in.phone = "(212) 736-" + std::to_string(line++);
    in.first_name = first;
    in.last_name = last;
    in.email = first + "." + last + "@example.com";
    in.tags = {"vip", "spring"};
    in.source = "web_form";
    in.created_at = clock->now() - std::chrono::days{3};
    in.consent = Consent{true, clock->now(), "web_form", ""};
    return leads->create_lead(gym, in).lead;
  }

  // A finished call with a recording, transcript and summary.
  CallEvent event(const Lead& lead, const std::string& call_id, Timestamp started,
                  CallOutcome outcome = CallOutcome::Interested) {
    CallEvent e;
    e.event_id = "ev-" + std::to_string(++events);
    e.call_id = call_id;
    e.gym_id = lead.gym_id;
    e.lead_id = lead.id;
    e.to = lead.phone;
    e.started_at = started;
    e.ended_at = started + 2min;
    e.status = CallStatus::Completed;
    e.answered_by = AnsweredBy::Human;
    e.duration_s = 120;
    e.cost_usd = 0.25;
    e.outcome = outcome;
    e.recording_url = "https://recordings.example.test/" + call_id + ".wav";
    e.recording_duration_s = 118;
    e.recording_consent = true;
    e.transcript = "agent: Hi Maria, this is the gym.\nuser: Call me at 212 736 4000.";
    e.summary = "Maria wants to try a class.";
    return e;
  }

  void campaign(const std::string& gym, const std::string& id) {
    Campaign c;
    c.id = id;
    c.gym_id = gym;
    c.name = "Spring push " + id;
    c.voice_provider = "simulated";
    c.created_at = clock->now();
    c.updated_at = clock->now();
    c.version = 1;
    store.campaigns().insert(c);
  }

  // Everything the store holds about a gym, as text, to compare before and after.
  std::string state(const std::string& gym) {
    boost::json::object o;
    LeadFilter all;
    all.page_size = 1000;
    const auto page = leads->list_leads(gym, all);
    o["leads"] = boost::json::value_from(page);
    boost::json::array per_lead;
    for (const auto& l : page.items) {
      per_lead.push_back(boost::json::value_from(leads->get_history(gym, l.id)));
      per_lead.push_back(boost::json::value_from(store.leads().call_results(gym, l.id)));
      per_lead.push_back(boost::json::value_from(store.calls().for_lead(gym, l.id)));
      for (const char* c : {"cmp-1", "cmp-2"})
        if (auto e = store.campaigns().enrolment(gym, c, l.id)) per_lead.push_back(e->attempts);
    }
    o["per_lead"] = std::move(per_lead);
    o["erasures"] = boost::json::value_from(leads->list_erasures(gym));
    RollupQuery q;
    q.from_day = -100000;
    q.to_day = 100000;
    o["rollup_days"] = static_cast<std::int64_t>(store.analytics().call_days(q).size());
    AnalyticsQuery aq;
    aq.gym_id = gym;
    aq.from = "2026-10-01";
    aq.to = "2026-11-30";
    o["dashboard"] = dashboard_json(analytics->dashboard(aq));
    return boost::json::serialize(o);
  }
};

template <class E, class Fn>
std::string field_of(Fn&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.field();
  }
  return "<accepted>";
}

}  // namespace

TEST_CASE("erasing a lead removes the lead, its history, calls, results and enrolments, and leaves an audit entry") {
  for (auto& backend : test::backends("erasure")) {
    CAPTURE(backend.name);
    World w(backend);
    const auto a = w.add("gym-a");
    const auto keep = w.add("gym-a", "Ann", "Other");
    const auto b = w.add("gym-b");
    const Timestamp now = w.clock->now();
    w.calls->process_event(w.event(a, "A1", now - 2h));
    w.calls->process_event(w.event(a, "A2", now - 1h, CallOutcome::CallbackRequested));
    auto third = w.event(a, "A3", now - 30min);
    third.recording_url.clear();
    third.transcript.clear();
    third.summary.clear();
    w.calls->process_event(third);
    const auto replay = w.event(a, "A1", now - 2h);  // its id is ev-4: applied below, then re-delivered
    w.calls->process_event(replay);
    w.calls->process_event(w.event(keep, "K1", now - 1h));
    w.calls->process_event(w.event(b, "B1", now - 1h));
    w.leads->add_note("gym-a", a.id, "asked about prices", "front-desk");
    w.campaign("gym-a", "cmp-1");
    w.campaign("gym-a", "cmp-2");
    CHECK(w.store.campaigns().enrol("gym-a", "cmp-1", {a.id, keep.id}, now) == 2);
    CHECK(w.store.campaigns().enrol("gym-a", "cmp-2", {a.id}, now) == 1);
    const auto history = w.leads->get_history("gym-a", a.id);
    const auto keep_state = w.leads->get_lead("gym-a", keep.id);
    const auto b_state = w.state("gym-b");

    w.clock->advance(5min);
    const auto erasure = w.leads->erase_lead("gym-a", a.id, "dpo", "erasure request 2026-11-02 #4411");
    CHECK(erasure.seq > 0);
    CHECK(erasure.gym_id == "gym-a");
    CHECK(erasure.lead_id == a.id);
    CHECK(erasure.at == w.clock->now());
    CHECK(erasure.actor == "dpo");
    CHECK(erasure.reason == "erasure request 2026-11-02 #4411");
    CHECK(erasure.calls == 3);
    CHECK(erasure.recordings == 2);
    CHECK(erasure.transcripts == 2);
    CHECK(erasure.call_results == 3);
    CHECK(erasure.enrolments == 2);
    CHECK(erasure.history_entries == static_cast<std::int64_t>(history.size()));
    CHECK(erasure.history_entries >= 5);  // created, note, the calls' changes

    // Nothing of the lead is left, through the services or the store.
    CHECK(field_of<NotFoundError>([&] { w.leads->get_lead("gym-a", a.id); }) == "lead_id");
    CHECK_FALSE(w.store.leads().find("gym-a", a.id));
    CHECK_FALSE(w.store.leads().find_by_phone("gym-a", a.phone));
    CHECK(w.store.leads().find_by_phone_any_gym(a.phone).empty());
    CHECK(w.store.leads().history("gym-a", a.id).empty());
    CHECK(w.store.leads().call_results("gym-a", a.id).empty());
    CHECK(w.store.calls().for_lead("gym-a", a.id).empty());
    for (const char* id : {"A1", "A2", "A3"}) {
      CAPTURE(id);
      CHECK_FALSE(w.store.calls().find_by_provider_id("gym-a", id));
    }
    CHECK_FALSE(w.store.campaigns().enrolment("gym-a", "cmp-1", a.id));
    CHECK_FALSE(w.store.campaigns().enrolment("gym-a", "cmp-2", a.id));
    LeadFilter tagged;
    tagged.tags = {"vip"};
    CHECK(w.leads->list_leads("gym-a", tagged).total == 1);
    CallFilter every;
    every.page_size = 100;
    const auto gym_calls = w.calls->list_calls("gym-a", every);
    REQUIRE(gym_calls.items.size() == 1);
    CHECK(gym_calls.items[0].provider_call_id == "K1");

    // The others are as they were.
    CHECK(w.leads->get_lead("gym-a", keep.id) == keep_state);
    CHECK(w.store.campaigns().enrolment("gym-a", "cmp-1", keep.id));
    CHECK(w.state("gym-b") == b_state);

    // The audit entry: ids, time, actor, reason, counts; nothing personal.
    const auto listed = w.leads->list_erasures("gym-a");
    REQUIRE(listed.size() == 1);
    CHECK(listed[0] == erasure);
    CHECK(w.leads->list_erasures("gym-b").empty());
    const std::string text = to_json(erasure);
    for (const std::string& personal : {a.phone, a.phone.substr(2), std::string("7364000"), a.email,
                                        std::string("Maria"), std::string("Lopez"), std::string("recordings.example"),
                                        std::string("agent:")}) {
      CAPTURE(personal);
      CHECK(text.find(personal) == std::string::npos);
    }
    const auto jv = boost::json::parse(text);
    CHECK(jv.at("removed").at("calls").as_int64() == 3);
    CHECK(jv.at("removed").at("enrolments").as_int64() == 2);

    // A provider re-delivering an event of an erased call finds a duplicate:
    // the call does not come back.
    const auto again = w.calls->process_event(replay);
    CHECK(again.kind == ProcessResult::Kind::Duplicate);
    CHECK_FALSE(w.store.calls().find_by_provider_id("gym-a", "A1"));
    // A new event of an erased call names a lead that is gone.
    CHECK(field_of<NotFoundError>([&] { w.calls->process_event(w.event(a, "A1", now - 2h)); }) == "lead_id");
    CHECK_FALSE(w.store.calls().find_by_provider_id("gym-a", "A1"));

    // Erasing again: the lead is gone.
    CHECK(field_of<NotFoundError>([&] { w.leads->erase_lead("gym-a", a.id); }) == "lead_id");
    CHECK(w.leads->list_erasures("gym-a").size() == 1);

    // The person may come back as a new lead: nothing of the old one returns.
    LeadInput back;
    back.phone = a.phone;
    const auto reborn = w.leads->create_lead("gym-a", back);
    CHECK_FALSE(reborn.merged);
    CHECK(reborn.lead.id != a.id);
    CHECK(reborn.lead.first_name.empty());
    CHECK(reborn.lead.attempts == 0);
    CHECK(w.store.calls().for_lead("gym-a", reborn.lead.id).empty());
  }
}

TEST_CASE("erasure audit entries are listed newest first, per gym, by pages") {
  for (auto& backend : test::backends("erasure")) {
    CAPTURE(backend.name);
    World w(backend);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(w.add("gym-a").id);
    for (const auto& id : ids) {
      w.clock->advance(1min);
      w.leads->erase_lead("gym-a", id);
    }
    const auto all = w.leads->list_erasures("gym-a");
    REQUIRE(all.size() == 5);
    for (std::size_t i = 0; i < all.size(); ++i) {
      CHECK(all[i].lead_id == ids[ids.size() - 1 - i]);
      CHECK(all[i].actor == "api");
      if (i > 0) CHECK(all[i].seq < all[i - 1].seq);
    }
    const auto page = w.leads->list_erasures("gym-a", 2, 1);
    REQUIRE(page.size() == 2);
    CHECK(page[0] == all[1]);
    CHECK(page[1] == all[2]);
    CHECK(w.leads->list_erasures("gym-a", 10, 5).empty());
    CHECK(field_of<InvalidArgumentError>([&] { w.leads->list_erasures("gym-a", 0, 0); }) == "limit");
    CHECK(field_of<InvalidArgumentError>([&] { w.leads->list_erasures("gym-a", 1001, 0); }) == "limit");
    CHECK(field_of<InvalidArgumentError>([&] { w.leads->list_erasures("gym-a", 10, -1); }) == "offset");
    CHECK(field_of<NotFoundError>([&] { w.leads->list_erasures("gym-x"); }) == "gym_id");
  }
}

TEST_CASE("a refused erasure names the field and changes nothing") {
  for (auto& backend : test::backends("erasure")) {
    CAPTURE(backend.name);
    World w(backend);
    const auto a = w.add("gym-a", "Maria", "Lopez");
    w.calls->process_event(w.event(a, "A1", w.clock->now() - 1h));
    const auto before = w.state("gym-a");
    auto refused = [&](std::string_view actor, std::string_view reason) {
      return field_of<InvalidArgumentError>([&] { w.leads->erase_lead("gym-a", a.id, actor, reason); });
    };
    CHECK(field_of<NotFoundError>([&] { w.leads->erase_lead("gym-x", a.id); }) == "gym_id");
    CHECK(field_of<NotFoundError>([&] { w.leads->erase_lead("gym-b", a.id); }) == "lead_id");  // another gym's
    CHECK(field_of<NotFoundError>([&] { w.leads->erase_lead("gym-a", "ld_nope"); }) == "lead_id");
    CHECK(field_of<Error>([&] { w.leads->erase_lead("gym-a", ""); }) == "lead_id");
    CHECK(refused("dpo@gym.example", "") == "actor");
    CHECK(refused("", "asked by maria.lopez@example.com") == "reason");
    CHECK(refused("", "call back on 212-736-4000") == "reason");
    CHECK(refused("", "number (212) 736 4000") == "reason");
    CHECK(refused("", "number 7364000") == "reason");
    CHECK(refused("", "from +44 20 7946 0958") == "reason");
    CHECK(refused("", "request of maria") == "reason");
    CHECK(refused("", "LOPEZ asked") == "reason");
    CHECK(refused("Maria Lopez", "") == "actor");
    CHECK(refused("", std::string(201, 'x')) == "reason");
    CHECK(refused(std::string(201, 'x'), "") == "actor");
    CHECK(refused("", "line\x01") == "reason");
    CHECK(refused("", "two\nlines") == "reason");
    CHECK(refused("", "\xff\xfe") == "reason");
    CHECK(w.state("gym-a") == before);

    // Words that only look like the name or a number pass: "Mariana", a date, a ticket.
    const auto ok = w.leads->erase_lead("gym-a", a.id, "dpo", "ticket 4411 of 2026-11-02, Mariana's desk @ HQ");
    CHECK(ok.calls == 1);
  }
}

TEST_CASE("a lead on a call is not erased until the call ends") {
  for (auto& backend : test::backends("erasure")) {
    CAPTURE(backend.name);
    World w(backend);
    const auto a = w.add("gym-a");
    REQUIRE(w.store.leads().set_active_call("gym-a", a.id, "", "call-live"));
    const auto before = w.state("gym-a");
    try {
      w.leads->erase_lead("gym-a", a.id);
      FAIL("erased a lead on a call");
    } catch (const ConflictError& e) {
      CHECK(e.field() == "lead_id");
    }
    CHECK(w.state("gym-a") == before);
    REQUIRE(w.store.leads().set_active_call("gym-a", a.id, "call-live", ""));
    CHECK(w.leads->erase_lead("gym-a", a.id).lead_id == a.id);
  }
}

TEST_CASE("an erasure that fails half-way leaves everything as it was") {
  for (auto& backend : test::backends("erasure")) {
    CAPTURE(backend.name);
    World w(backend);
    const auto a = w.add("gym-a");
    const Timestamp now = w.clock->now();
    w.calls->process_event(w.event(a, "A1", now - 2h));
    w.calls->process_event(w.event(a, "A2", now - 1h));
    w.campaign("gym-a", "cmp-1");
    w.store.campaigns().enrol("gym-a", "cmp-1", {a.id}, now);
    const auto before = w.state("gym-a");
    w.store.wrapped().fail_audit = true;  // after the calls, the lead and the rollups were removed
    CHECK_THROWS_AS(w.leads->erase_lead("gym-a", a.id), StorageError);
    CHECK(w.state("gym-a") == before);
    CHECK(w.store.calls().find_by_provider_id("gym-a", "A1"));
    CHECK(w.store.campaigns().enrolment("gym-a", "cmp-1", a.id));
    w.store.wrapped().fail_audit = false;
    CHECK(w.leads->erase_lead("gym-a", a.id).calls == 2);
    CHECK(w.state("gym-a") != before);
  }
}

TEST_CASE("rollups equal their rebuild after erasures") {
  for (auto& backend : test::backends("erasure")) {
    CAPTURE(backend.name);
    World w(backend);
    std::vector<Lead> ls;
    for (int i = 0; i < 12; ++i) ls.push_back(w.add("gym-a"));
    // Calls on several days and hours, some leads with a zone of their own.
    int n = 0;
    for (std::size_t i = 0; i < ls.size(); ++i)
      for (std::size_t k = 0; k <= i % 3; ++k) {
        auto e = w.event(ls[i], "C" + std::to_string(n++),
                         T("2026-10-20T13:00:00Z") + std::chrono::days{i} + std::chrono::hours{k * 5});
        if (k == 1) {
          e.answered_by = AnsweredBy::Machine;
          e.outcome.reset();
        }
        w.calls->process_event(e);
      }
    LeadPatch zone;
    zone.timezone = "America/Los_Angeles";
    w.leads->update_lead("gym-a", ls[4].id, zone);
    w.leads->change_status("gym-a", ls[5].id, StatusChange{LeadStatus::Converted, "me", "", false});
    AnalyticsQuery q;
    q.gym_id = "gym-a";
    q.from = "2026-10-01";
    q.to = "2026-11-30";
    const auto before = w.analytics->dashboard(q);
    for (std::size_t i : {0u, 4u, 5u, 7u, 11u}) w.leads->erase_lead("gym-a", ls[i].id);
    const auto after = w.analytics->dashboard(q);
    CHECK(after.calls.calls < before.calls.calls);

    RollupQuery all;
    all.from_day = -100000;
    all.to_day = 100000;
    const auto days = w.store.analytics().call_days(all);
    const auto hours = w.store.analytics().call_hours(all);
    const auto lead_days = w.store.analytics().lead_days(all);
    const auto report = w.analytics->rebuild("gym-a");
    CHECK(report.leads == 7);
    CHECK(days == w.store.analytics().call_days(all));
    CHECK(hours == w.store.analytics().call_hours(all));
    CHECK(lead_days == w.store.analytics().lead_days(all));
    CHECK(dashboard_json(after) == dashboard_json(w.analytics->dashboard(q)));
  }
}
