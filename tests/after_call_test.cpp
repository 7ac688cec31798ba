// update_lead_after_call: the outcome mapping, folding in started_at order, DNC stickiness.
#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <random>

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

Timestamp T(const char* iso) { return parse_timestamp(iso); }

struct Fixture {
  std::unique_ptr<Store> store = make_memory_store();
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(T("2026-11-02T15:00:00Z"));
  std::unique_ptr<GymService> gyms = make_gym_service(*store, clock);
  std::unique_ptr<LeadService> leads = make_lead_service(*store, clock);
  int line = 2000;

  Fixture() {
    Gym g;
    g.id = "gym-a";
    g.name = "A";
    g.timezone = "America/New_York";
    gyms->create_gym(g);
  }

  Lead add() {
    LeadInput in;
    in.phone = "(212) 736-" + std::to_string(line++);
    in.consent = Consent{true, clock->now(), "web_form", ""};
    return leads->create_lead("gym-a", in).lead;
  }

  static CallResult result(std::string id, Timestamp at, std::optional<CallOutcome> outcome,
                           AnsweredBy by = AnsweredBy::Human) {
    CallResult r;
    r.call_id = std::move(id);
    r.started_at = at;
    r.ended_at = at + 1min;
    r.answered_by = by;
    r.status = by == AnsweredBy::Human || by == AnsweredBy::Machine ? CallStatus::Completed : CallStatus::NoAnswer;
    r.outcome = outcome;
    if (outcome == CallOutcome::CallbackRequested) r.callback_at = at + 2h;
    return r;
  }

  Lead apply(const Lead& l, const CallResult& r) { return leads->update_lead_after_call("gym-a", l.id, r); }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "each outcome moves the lead as the rules say") {
  const auto t = clock->now() - 1h;
  CHECK(apply(add(), result("c", t, CallOutcome::Interested)).status == LeadStatus::Qualified);
  CHECK(apply(add(), result("c", t, CallOutcome::TrialBooked)).status == LeadStatus::TrialBooked);
  CHECK(apply(add(), result("c", t, CallOutcome::MembershipSold)).status == LeadStatus::Converted);
  CHECK(apply(add(), result("c", t, CallOutcome::NotInterested)).status == LeadStatus::Lost);
  auto wrong = apply(add(), result("c", t, CallOutcome::WrongNumber));
  CHECK(wrong.status == LeadStatus::Lost);
  CHECK(wrong.phone_invalid);
  auto dnc = apply(add(), result("c", t, CallOutcome::DoNotCall));
  CHECK(dnc.status == LeadStatus::Lost);
  CHECK(dnc.do_not_call);
  auto cb = apply(add(), result("c", t, CallOutcome::CallbackRequested));
  CHECK(cb.status == LeadStatus::Contacted);
  REQUIRE(cb.callback_at);
  CHECK(*cb.callback_at == t + 2h);
  CHECK(cb.next_call_at == cb.callback_at);
  auto nobody = apply(add(), result("c", t, std::nullopt, AnsweredBy::Unknown));
  CHECK(nobody.status == LeadStatus::New);
  CHECK(nobody.attempts == 1);
  CHECK(nobody.connects == 0);
  REQUIRE(nobody.next_call_at);
  CHECK(*nobody.next_call_at == t + 240min);
  auto voicemail = apply(add(), result("c", t, std::nullopt, AnsweredBy::Machine));
  CHECK(voicemail.status == LeadStatus::New);
  auto spoke = apply(add(), result("c", t, std::nullopt, AnsweredBy::Human));
  CHECK(spoke.status == LeadStatus::Contacted);
  CHECK(spoke.connects == 1);
}

TEST_CASE_FIXTURE(Fixture, "never backwards, never out of converted; a member who says DNC stays converted") {
  auto l = add();
  const auto t = clock->now() - 10h;
  apply(l, result("c1", t, CallOutcome::TrialBooked));
  auto after = apply(l, result("c2", t + 1h, CallOutcome::Interested));
  CHECK(after.status == LeadStatus::TrialBooked);
  apply(l, result("c3", t + 2h, CallOutcome::MembershipSold));
  auto member = apply(l, result("c4", t + 3h, CallOutcome::DoNotCall));
  CHECK(member.status == LeadStatus::Converted);
  CHECK(member.do_not_call);
  auto still = apply(l, result("c5", t + 4h, CallOutcome::NotInterested));
  CHECK(still.status == LeadStatus::Converted);
}

TEST_CASE_FIXTURE(Fixture, "a later positive outcome revives a lost lead; DNC is never lifted by a call") {
  auto l = add();
  const auto t = clock->now() - 10h;
  CHECK(apply(l, result("c1", t, CallOutcome::NotInterested)).status == LeadStatus::Lost);
  CHECK(apply(l, result("c2", t + 1h, CallOutcome::Interested)).status == LeadStatus::Qualified);
  auto d = add();
  apply(d, result("d1", t, CallOutcome::DoNotCall));
  auto revived = apply(d, result("d2", t + 1h, CallOutcome::TrialBooked));
  CHECK(revived.status == LeadStatus::TrialBooked);
  CHECK(revived.do_not_call);
  CHECK_FALSE(leads->explain("gym-a", d.id).dialable);
}

TEST_CASE_FIXTURE(Fixture, "results arriving out of order or twice fold as if in order") {
  std::mt19937 rng(42);
  for (int round = 0; round < 40; ++round) {
    CAPTURE(round);
    std::vector<CallResult> calls;
    const auto t = clock->now() - 48h;
    const int n = 2 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      const bool human = rng() % 2 == 0;
      std::optional<CallOutcome> o;
      if (human && rng() % 4 != 0) o = static_cast<CallOutcome>(rng() % 7);
      calls.push_back(result("c" + std::to_string(i), t + std::chrono::minutes{60 * i + static_cast<int>(rng() % 30)}, o,
                             human ? AnsweredBy::Human : AnsweredBy::Unknown));
    }
    auto in_order = add();
    for (const auto& c : calls) in_order = apply(in_order, c);
    auto shuffled = add();
    auto order = calls;
    std::shuffle(order.begin(), order.end(), rng);
    order.push_back(order.front());  // a repeated delivery
    for (const auto& c : order) shuffled = apply(shuffled, c);
    CHECK(shuffled.status == in_order.status);
    CHECK(shuffled.attempts == n);
    CHECK(shuffled.attempts == in_order.attempts);
    CHECK(shuffled.connects == in_order.connects);
    CHECK(shuffled.do_not_call == in_order.do_not_call);
    CHECK(shuffled.phone_invalid == in_order.phone_invalid);
    CHECK(shuffled.callback_at == in_order.callback_at);
    CHECK(shuffled.last_outcome == in_order.last_outcome);
    CHECK(shuffled.last_call_at == in_order.last_call_at);
    CHECK(shuffled.score == in_order.score);
  }
}

TEST_CASE_FIXTURE(Fixture, "a status set by hand after a call wins over that call") {
  auto l = add();
  const auto t = clock->now() - 2h;
  apply(l, result("c1", t, CallOutcome::Interested));
  leads->change_status("gym-a", l.id, {LeadStatus::Lost, "ana", "moved away", false});
  // A late result of an older call does not undo the manual change…
  auto late = apply(l, result("c0", t - 1h, CallOutcome::TrialBooked));
  CHECK(late.status == LeadStatus::Lost);
  // …but a newer call does.
  clock->advance(1min);
  auto fresh = apply(l, result("c2", clock->now(), CallOutcome::TrialBooked));
  CHECK(fresh.status == LeadStatus::TrialBooked);
  auto h = leads->get_history("gym-a", l.id);
  CHECK(std::any_of(h.begin(), h.end(), [](const LeadEvent& e) { return e.kind == "status" && e.actor == "call"; }));
}

TEST_CASE_FIXTURE(Fixture, "bad call results are refused and change nothing") {
  auto l = add();
  auto r = result("c1", clock->now(), CallOutcome::Interested);
  r.ended_at = r.started_at - 1min;
  CHECK_THROWS_AS(apply(l, r), InvalidArgumentError);
  r = result("", clock->now(), std::nullopt);
  CHECK_THROWS_AS(apply(l, r), InvalidArgumentError);
  r = result("c1", clock->now(), CallOutcome::Interested, AnsweredBy::Machine);
  CHECK_THROWS_AS(apply(l, r), InvalidArgumentError);
  r = result("c1", clock->now(), CallOutcome::CallbackRequested);
  r.callback_at.reset();
  CHECK_THROWS_AS(apply(l, r), InvalidArgumentError);
  CHECK(leads->get_lead("gym-a", l.id) == l);
  CHECK_THROWS_AS(leads->update_lead_after_call("gym-a", "ld_nope", result("c", clock->now(), std::nullopt)),
                  NotFoundError);
}

TEST_CASE_FIXTURE(Fixture, "score and qualification follow the data; a manual qualification wins") {
  LeadInput in;
  in.phone = "(212) 736-9999";
  in.source = "referral";
  in.timeline = "asap";
  in.interest = "boxing";
  in.consent = Consent{true, std::nullopt, "web_form", ""};
  auto l = leads->create_lead("gym-a", in).lead;
  CHECK(l.score == 30 + 20 + 25 + 5);
  CHECK(l.qualification == Qualification::Hot);
  auto browsing = add();
  CHECK(browsing.qualification == Qualification::Cold);  // 30: no source, no timeline
  auto after = apply(browsing, result("c1", clock->now() - 1h, CallOutcome::TrialBooked));
  CHECK(after.score == 30 + 5 + 30);
  CHECK(after.qualification == Qualification::Neutral);
  LeadPatch manual;
  manual.qualification = Qualification::Cold;
  leads->update_lead("gym-a", l.id, manual);
  auto kept = apply(l, result("c9", clock->now() - 1h, CallOutcome::MembershipSold));
  CHECK(kept.qualification == Qualification::Cold);
  CHECK(kept.qualification_manual);
  auto h = leads->get_history("gym-a", browsing.id);
  CHECK(std::any_of(h.begin(), h.end(), [](const LeadEvent& e) { return e.kind == "qualification" && e.actor == "scoring"; }));
}

TEST_CASE_FIXTURE(Fixture, "do-not-call lists") {
  auto l = add();
  CHECK_FALSE(leads->check_dnc("gym-a", l.phone).blocked());
  auto e = leads->add_to_dnc("gym-a", "212.736." + l.phone.substr(8), "asked by email", "front desk");
  CHECK(e.phone == l.phone);
  CHECK(leads->get_lead("gym-a", l.id).dnc_listed);
  CHECK(leads->check_dnc("gym-a", l.phone).gym_listed);
  // Adding again keeps the first entry.
  CHECK(leads->add_to_dnc("gym-a", l.phone, "again").reason == "asked by email");
  // A lead added later with a listed number is blocked from the start.
  leads->add_to_dnc("*", "+12127361234", "national registry");
  LeadInput later;
  later.phone = "212-736-1234";
  later.consent = Consent{true, std::nullopt, "web_form", ""};
  auto late = leads->create_lead("gym-a", later).lead;
  CHECK(late.dnc_listed);
  CHECK(leads->explain("gym-a", late.id).reasons == std::vector<std::string>{"dnc_list"});
  CHECK(leads->list_dnc("*").size() == 1);
  CHECK(leads->remove_from_dnc("*", "+12127361234", "ana", "registry entry expired"));
  CHECK_FALSE(leads->get_lead("gym-a", late.id).dnc_listed);
  CHECK_FALSE(leads->remove_from_dnc("*", "+12127361234"));
  // Removing from the gym's list while the global list holds it keeps it blocked.
  leads->add_to_dnc("*", l.phone);
  leads->remove_from_dnc("gym-a", l.phone);
  CHECK(leads->get_lead("gym-a", l.id).dnc_listed);
  CHECK_THROWS_AS(leads->add_to_dnc("gym-a", "not a number"), InvalidArgumentError);
  CHECK_THROWS_AS(leads->add_to_dnc("gym-nope", "+12127365000"), NotFoundError);
  CHECK_THROWS_AS(leads->list_dnc("gym-a", 0), InvalidArgumentError);
}
