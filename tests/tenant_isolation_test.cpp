// Tenant isolation (docs/hardening.md, "Tenant isolation"): a property test
// that drives random operations with gym A's scope over every service —
// including adversarial ones that pass gym B's lead, call and campaign ids,
// phone numbers and external ids under gym A — and checks that
//   1. every object returned belongs to gym A and no result holds any of gym
//      B's ids or texts;
//   2. naming B's lead, call or campaign under A is NotFoundError, as for an
//      id that does not exist;
//   3. a snapshot of everything gym B holds (leads with every field, history,
//      call results, calls, campaigns, enrolments and performance, its
//      do-not-call list and what check_dnc says for it, erasures, due jobs,
//      the dial order, dashboards) is byte-identical before, during and after.
// Runs on the memory and the SQLite backend. The seed is printed; set
// GYMDASH_PROPERTY_SEED to replay one.
//
// Do-not-call scopes (docs/compliance.md, "Do-not-call lists"): a gym's list
// (scope = the gym's id) blocks only that gym's leads; the global list
// (scope `*`) is chain-wide by design and blocks every gym's leads with the
// number. So gym A's operations here write gym A's list only: a write to `*`
// is not a gym-scoped operation, and is expected to change what B's
// check_dnc says. A lead's own do_not_call (the person asked gym B) does not
// block gym A's lead with the same number.
// Also held to below: event ids are unique per gym (docs/calls.md), so one
// of B's event ids under A is A's own: applied the first time A uses it, a
// duplicate answered with A's call (or an empty one) after that; a call
// event's campaign_id is the host's label of the call; provider call ids are
// unique per gym, so A may use the same ones as B.
#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

constexpr const char* kA = "gym-a";
constexpr const char* kB = "gym-b";
constexpr int kOperations = 300;
constexpr int kSnapshotEvery = 25;
// Every text of gym B holds this marker; no result of gym A may.
constexpr const char* kMarker = "bsecret";

Timestamp T(const char* iso) { return parse_timestamp(iso); }

std::uint64_t property_seed() {
  if (const char* s = std::getenv("GYMDASH_PROPERTY_SEED"); s && *s) return std::strtoull(s, nullptr, 10);
  std::random_device rd;
  return (std::uint64_t(rd()) << 32) ^ rd();
}

std::shared_ptr<const Config> test_config() {
  auto c = std::make_shared<Config>();
  VoiceProviderConfig sim;
  sim.kind = "simulated";
  c->voice_providers["sim"] = sim;
  return c;
}

struct Backend {
  std::string name;
  std::unique_ptr<test::TempPath> file;
  std::unique_ptr<Store> open() const {
    if (!file) return make_memory_store();
    SqliteOptions o;
    o.path = file->str();
    return make_sqlite_store(o);
  }
};

std::vector<Backend> backends() {
  std::vector<Backend> out;
  out.push_back(Backend{"memory", nullptr});
  out.push_back(Backend{"sqlite", std::make_unique<test::TempPath>("tenant")});
  return out;
}

// Twelve numbers; gym B has the first eight, gym A the first four and the last four.
std::string pool_phone(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+1212736%04d", 4000 + i);
  return buf;
}
constexpr int kPhones = 12;
// External ids: ext-0 … ext-3 are shared by both gyms, ext-bsecret-N are B's alone.
std::string shared_ext(int i) { return "ext-" + std::to_string(i); }
// Provider call ids pc-0 … pc-5 are B's calls; gym A may use the same ids for its own.
std::string provider_id(int i) { return "pc-" + std::to_string(i); }

struct World {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(T("2026-11-02T15:00:00Z"));
  std::unique_ptr<Store> store;
  std::unique_ptr<GymService> gyms;
  std::unique_ptr<LeadService> leads;
  std::unique_ptr<CallService> calls;
  std::unique_ptr<CampaignService> campaigns;
  std::unique_ptr<AnalyticsService> analytics;
  std::mt19937_64 rng;

  // Gym B's ids and texts: none may appear in a result of gym A.
  std::vector<std::string> b_leads, b_calls, b_campaigns, b_events, b_ext_only;
  std::set<std::string> forbidden;
  std::set<std::string> b_labels;  // B's campaign ids that gym A's calls carry as their label
  std::set<std::string> adopted;   // B's call ids that gym A's events used as their provider call id
  // Gym A's own ids, as known to the test (a lead may go by erasure).
  std::vector<std::string> a_campaigns;
  std::set<std::string> a_dnc;  // numbers on gym A's list
  int a_events = 0;
  std::set<std::string> a_used_b_events;  // B's event ids A has applied events under
  int counter = 0;

  explicit World(const Backend& backend, std::uint64_t seed)
      : store(backend.open()),
        gyms(make_gym_service(*store, clock)),
        leads(make_lead_service(*store, clock)),
        calls(make_call_service(*store, clock, *leads)),
        campaigns(make_campaign_service(*store, clock, test_config())),
        analytics(make_analytics_service(*store, clock)),
        rng(seed) {
    for (const char* id : {kA, kB}) {
      Gym g;
      g.id = id;
      g.name = id;
      g.timezone = "America/New_York";
      gyms->create_gym(g);
    }
    seed_b();
    seed_a();
  }

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  bool chance(int percent) { return pick(100) < percent; }
  template <class V>
  const typename V::value_type& one_of(const V& v) {
    return v[static_cast<std::size_t>(pick(static_cast<int>(v.size())))];
  }

  CallEvent event_for(const std::string& gym, const Lead& lead, const std::string& event_id,
                      const std::string& call_id, Timestamp started, const std::string& text) {
    CallEvent e;
    e.event_id = event_id;
    e.call_id = call_id;
    e.gym_id = gym;
    e.lead_id = lead.id;
    e.to = lead.phone;
    e.started_at = started;
    e.ended_at = started + 2min;
    e.status = CallStatus::Completed;
    e.answered_by = AnsweredBy::Human;
    e.duration_s = 120;
    e.cost_usd = 0.25;
    e.outcome = CallOutcome::Interested;
    e.recording_url = "https://recordings.example.test/" + text + "/" + call_id + ".wav";
    e.recording_duration_s = 118;
    e.recording_consent = true;
    e.transcript = "agent: hello " + text + "\nuser: tell me more";
    e.summary = "summary " + text;
    return e;
  }

  // Gym B: leads (four with A's numbers and external ids), history, calls
  // with recordings, a do-not-call outcome, campaigns with enrolments, its
  // own do-not-call list.
  void seed_b() {
    const Timestamp now = clock->now();
    std::vector<Lead> made;
    for (int i = 0; i < 8; ++i) {
      LeadInput in;
      in.phone = pool_phone(i);
      in.external_id = i < 4 ? shared_ext(i) : "ext-bsecret-" + std::to_string(i);
      in.first_name = "Bsecret";
      in.last_name = "Bsecret" + std::to_string(i);
      in.email = "b" + std::to_string(i) + "@bsecret.example";
      in.source = "bsecret_source";
      in.interest = "bsecret interest";
      in.notes = "bsecret notes";
      in.tags = {"bsecret-vip"};
      in.custom_fields = {{"bsecret_key", "bsecret value"}};
      in.consent = Consent{true, now - 72h, "web_form", "bsecret form"};
      in.created_at = now - std::chrono::hours(24 * (i + 1));
      in.actor = "bsecret-actor";
      const auto lead = leads->create_lead(kB, in).lead;
      made.push_back(lead);
      b_leads.push_back(lead.id);
      if (i >= 4) b_ext_only.push_back(in.external_id);
    }
    leads->add_note(kB, made[0].id, "bsecret note", "bsecret-actor");
    leads->add_tags(kB, made[1].id, {"bsecret-gold"}, "bsecret-actor");
    leads->change_status(kB, made[2].id, StatusChange{LeadStatus::Contacted, "bsecret-actor", "bsecret", false});
    for (int i = 0; i < 6; ++i) {
      const auto& lead = made[static_cast<std::size_t>(i)];
      auto e = event_for(kB, lead, "ev-b-" + std::to_string(i), provider_id(i), now - std::chrono::hours(2 + i),
                         kMarker);
      if (i == 3) e.outcome = CallOutcome::DoNotCall;
      if (i == 4) e.outcome = CallOutcome::CallbackRequested, e.callback_at = now + 3h;
      b_events.push_back(e.event_id);
      b_calls.push_back(calls->process_event(e).call.id);
    }
    const auto queued = calls->begin_outbound_call(OutboundCall{kB, made[6].id, "", "simulated", ""});
    b_calls.push_back(queued.id);
    for (int c = 0; c < 2; ++c) {
      CampaignInput in;
      in.name = "bsecret campaign " + std::to_string(c);
      in.description = "bsecret";
      in.voice_provider = "sim";
      const auto cmp = campaigns->create_campaign(kB, in);
      b_campaigns.push_back(cmp.id);
      campaigns->enrol_leads(kB, cmp.id, {made[0].id, made[1].id, made[5].id});
    }
    campaigns->set_state(kB, b_campaigns[0], CampaignState::Active);
    campaigns->set_state(kB, b_campaigns[0], CampaignState::Paused);
    // A call of B's campaign, so its dashboard and performance have figures.
    auto e = event_for(kB, made[5], "ev-b-cmp", "pc-cmp", now - 30min, kMarker);
    e.campaign_id = b_campaigns[0];
    b_events.push_back(e.event_id);
    b_calls.push_back(calls->process_event(e).call.id);
    leads->add_to_dnc(kB, pool_phone(1), "bsecret reason", "bsecret source");
    leads->add_to_dnc(kB, pool_phone(9), "bsecret reason", "bsecret source");  // a number only A's leads have
    // A number B erased: its audit entry is B's.
    LeadInput gone;
    gone.phone = "+12127364999";
    gone.first_name = "Bsecret";
    const auto erased = leads->create_lead(kB, gone).lead;
    leads->erase_lead(kB, erased.id, "dpo-7", "request 4411");
    b_leads.push_back(erased.id);

    forbidden.insert(kB);
    forbidden.insert(kMarker);
    for (const auto* ids : {&b_leads, &b_calls, &b_campaigns}) forbidden.insert(ids->begin(), ids->end());
    for (const auto& x : b_ext_only) forbidden.insert(x);
  }

  // Gym A: leads with four of B's numbers and external ids, and four of its
  // own numbers; a call on one of B's provider call ids; a campaign.
  void seed_a() {
    for (int i : {0, 1, 2, 3, 8, 9, 10, 11}) {
      LeadInput in;
      in.phone = pool_phone(i);
      if (i < 4) in.external_id = shared_ext(i);
      in.first_name = "Ann";
      in.last_name = "A" + std::to_string(i);
      in.email = "a" + std::to_string(i) + "@a.example";
      in.source = "web_form";
      in.consent = Consent{true, clock->now() - 48h, "web_form", ""};
      in.created_at = clock->now() - std::chrono::hours(i + 1);
      leads->create_lead(kA, in);
    }
    const auto a0 = a_lead_ids().front();
    calls->process_event(event_for(kA, leads->get_lead(kA, a0), "ev-a-seed", provider_id(0),
                                   clock->now() - 90min, "gym a"));
    CampaignInput in;
    in.name = "A spring";
    in.voice_provider = "sim";
    a_campaigns.push_back(campaigns->create_campaign(kA, in).id);
  }

  std::vector<Lead> a_leads() {
    LeadFilter all;
    all.page_size = 1000;
    return leads->list_leads(kA, all).items;
  }
  std::vector<std::string> a_lead_ids() {
    std::vector<std::string> out;
    for (const auto& l : a_leads()) out.push_back(l.id);
    return out;
  }

  // ---- what gym B holds ----------------------------------------------------

  std::string snapshot_b() {
    boost::json::object o;
    o["gym"] = boost::json::value_from(gyms->get_gym(kB));
    LeadFilter all;
    all.page_size = 1000;
    const auto page = leads->list_leads(kB, all);
    o["leads"] = boost::json::value_from(page);
    const Timestamp at = T("2026-11-02T16:00:00Z");
    boost::json::array per_lead;
    for (const auto& l : page.items) {
      boost::json::object x;
      x["lead"] = boost::json::value_from(leads->get_lead(kB, l.id));
      x["store_lead"] = boost::json::value_from(*store->leads().find(kB, l.id));
      x["history"] = boost::json::value_from(leads->get_history(kB, l.id));
      x["results"] = boost::json::value_from(store->leads().call_results(kB, l.id));
      x["calls"] = boost::json::value_from(calls->lead_calls(kB, l.id));
      x["explain"] = boost::json::value_from(leads->explain(kB, l.id, at));
      boost::json::array enrolments;
      for (const auto& c : b_campaigns)
        if (auto e = campaigns->enrolment(kB, c, l.id)) enrolments.push_back(boost::json::value_from(*e));
      x["enrolments"] = std::move(enrolments);
      per_lead.push_back(std::move(x));
    }
    o["per_lead"] = std::move(per_lead);
    CallFilter every;
    every.page_size = 1000;
    const auto call_page = calls->list_calls(kB, every);
    o["calls"] = boost::json::value_from(call_page);
    boost::json::array by_id;
    for (const auto& c : call_page.items) {
      by_id.push_back(boost::json::value_from(calls->get_call(kB, c.id)));
      by_id.push_back(boost::json::value_from(calls->get_call(kB, c.provider_call_id)));
    }
    o["calls_by_id"] = std::move(by_id);
    CampaignFilter cf;
    cf.page_size = 1000;
    o["campaigns"] = boost::json::value_from(campaigns->list_campaigns(kB, cf));
    boost::json::array perf;
    for (const auto& c : b_campaigns) {
      perf.push_back(boost::json::value_from(campaigns->get_campaign(kB, c)));
      perf.push_back(boost::json::value_from(campaigns->performance(kB, c)));
      AnalyticsQuery q;
      q.gym_id = kB;
      q.campaign_id = c;
      q.from = "2026-10-01";
      q.to = "2026-11-30";
      perf.push_back(boost::json::string(dashboard_json(analytics->dashboard(q))));
    }
    o["campaign_figures"] = std::move(perf);
    o["dnc"] = boost::json::value_from(leads->list_dnc(kB, 1000));
    boost::json::array checks;
    for (int i = 0; i < kPhones; ++i) checks.push_back(boost::json::value_from(leads->check_dnc(kB, pool_phone(i))));
    o["dnc_checks"] = std::move(checks);
    o["erasures"] = boost::json::value_from(leads->list_erasures(kB));
    const auto due = leads->due_jobs(kB, at);
    o["due"] = boost::json::array{due.callbacks, due.retries};
    boost::json::array order;
    for (const auto& l : leads->get_prioritized_leads(kB, 100, std::nullopt, {}, at)) order.push_back(boost::json::value(l.id));
    o["dial_order"] = std::move(order);
    AnalyticsQuery q;
    q.gym_id = kB;
    q.from = "2026-10-01";
    q.to = "2026-11-30";
    o["dashboard"] = dashboard_json(analytics->dashboard(q));
    o["dashboard_csv"] = dashboard_csv(analytics->dashboard(q));
    return boost::json::serialize(o);
  }

  // ---- checks on gym A's results -------------------------------------------

  void clean(const char* what_c, const std::string& json) {
    const std::string what = what_c;
    for (const auto& token : forbidden)
      if (json.find(token) != std::string::npos) {
        CAPTURE(what);
        CAPTURE(token);
        CAPTURE(json);
        FAIL_CHECK("a result of gym A holds gym B's data");
      }
  }
  void mine(const Lead& l) {
    CHECK(l.gym_id == kA);
    clean("lead", to_json(l));
  }
  void mine(const Call& c) {
    CHECK(c.gym_id == kA);
    clean("call", to_json(c));
  }
  void mine(const Campaign& c) {
    CHECK(c.gym_id == kA);
    clean("campaign", to_json(c));
  }
  template <class T>
  void mine_json(const char* what, const T& v) {
    clean(what, boost::json::serialize(boost::json::value_from(v)));
  }

  // `fn` must throw NotFoundError (the answer for an id that does not exist).
  void not_found(const char* what_c, const std::function<void()>& fn) {
    const std::string what = what_c;
    CAPTURE(what);
    try {
      fn();
      FAIL_CHECK("gym B's id under gym A was accepted");
    } catch (const NotFoundError&) {
    } catch (const std::exception& e) {
      CAPTURE(e.what());
      FAIL_CHECK("gym B's id under gym A gave another error than NotFound");
    }
  }
  // A legal operation of gym A: it may be refused by a rule of the domain
  // (bad state move, lead on a call …), never with another kind of error.
  void allowed(const char* what_c, const std::function<void()>& fn) {
    const std::string what = what_c;
    CAPTURE(what);
    try {
      fn();
    } catch (const InvalidArgumentError&) {
    } catch (const ConflictError&) {
    } catch (const AlreadyExistsError&) {
    } catch (const std::exception& e) {
      CAPTURE(e.what());
      FAIL_CHECK("unexpected error for gym A's own operation");
    }
  }

  std::string a_lead() {
    const auto ids = a_lead_ids();
    REQUIRE_FALSE(ids.empty());
    return one_of(ids);
  }
  const std::string& b_lead() { return one_of(b_leads); }
  // One of B's call ids that gym A has not taken as a provider call id of its own.
  std::string b_call() {
    std::vector<std::string> ids;
    for (const auto& id : b_calls)
      if (!adopted.count(id)) ids.push_back(id);
    return ids.empty() ? std::string("call_none") : one_of(ids);
  }
  const std::string& b_campaign() { return one_of(b_campaigns); }
  std::string a_campaign() { return one_of(a_campaigns); }

  // ---- one random operation of gym A ---------------------------------------

  void step() {
    clock->advance(1s);
    const Timestamp now = clock->now();
    switch (pick(38)) {
      case 0: {  // create, often with one of B's numbers and external ids
        LeadInput in;
        in.phone = pool_phone(pick(kPhones));
        if (chance(50)) in.external_id = shared_ext(pick(4));
        in.first_name = "Ann";
        in.email = "n" + std::to_string(++counter) + "@a.example";
        in.tags = {"spring"};
        in.consent = Consent{true, now, "web_form", ""};
        allowed("create_lead", [&] {
          const auto r = leads->create_lead(kA, in);
          mine(r.lead);
        });
        break;
      }
      case 1:
        mine(leads->get_lead(kA, a_lead()));
        break;
      case 2: {
        const auto& id = b_lead();
        not_found("get_lead", [&] { leads->get_lead(kA, id); });
        break;
      }
      case 3: {  // update, possibly to one of B's numbers or external ids
        LeadPatch p;
        if (chance(40)) p.phone = pool_phone(pick(kPhones));
        if (chance(40)) p.external_id = shared_ext(pick(4));
        p.notes = "a notes " + std::to_string(++counter);
        const auto id = a_lead();
        allowed("update_lead", [&] { mine(leads->update_lead(kA, id, p)); });
        break;
      }
      case 4: {
        LeadPatch p;
        p.notes = "overwritten";
        p.phone = pool_phone(pick(kPhones));
        const auto& id = b_lead();
        not_found("update_lead", [&] { leads->update_lead(kA, id, p); });
        break;
      }
      case 5: {
        const auto id = a_lead();
        if (chance(50))
          mine(leads->add_tags(kA, id, {"tag" + std::to_string(pick(5))}));
        else
          mine(leads->remove_tags(kA, id, {"tag" + std::to_string(pick(5))}));
        mine_json("note", leads->add_note(kA, id, "a note"));
        break;
      }
      case 6: {
        const auto& id = b_lead();
        switch (pick(3)) {
          case 0: not_found("add_tags", [&] { leads->add_tags(kA, id, {"x"}); }); break;
          case 1: not_found("remove_tags", [&] { leads->remove_tags(kA, id, {"bsecret-vip"}); }); break;
          default: not_found("add_note", [&] { leads->add_note(kA, id, "x"); }); break;
        }
        break;
      }
      case 7: {
        const auto id = a_lead();
        const auto to = static_cast<LeadStatus>(pick(6));
        allowed("change_status", [&] {
          mine(leads->change_status(kA, id, StatusChange{to, "a-user", "because", chance(50)}));
        });
        break;
      }
      case 8: {
        const auto& id = b_lead();
        not_found("change_status",
                  [&] { leads->change_status(kA, id, StatusChange{LeadStatus::Lost, "a-user", "x", true}); });
        not_found("get_history", [&] { leads->get_history(kA, id); });
        break;
      }
      case 9: {  // searches that would match B's leads
        LeadFilter f;
        f.page_size = 1000;
        const int which = pick(6);
        if (which == 0) f.search = "Bsecret";
        if (which == 1) f.search = "bsecret.example";
        if (which == 2) f.search = pool_phone(pick(8)).substr(2);
        if (which == 3) f.tags = {"bsecret-vip"};
        if (which == 4) f.source = "bsecret_source";
        const auto page = leads->list_leads(kA, f);
        mine_json("list_leads", page);
        for (const auto& l : page.items) mine(l);
        if (which == 0 || which == 1 || which == 3 || which == 4) CHECK(page.total == 0);
        CHECK(page.total == static_cast<std::int64_t>(page.items.size()));
        break;
      }
      case 10: {  // who to call, excluding B's leads, and under B's campaign
        std::vector<std::string> exclude{b_lead(), b_lead()};
        for (const auto& l : leads->get_prioritized_leads(kA, 50, std::nullopt, exclude, now)) mine(l);
        DialScope scope;
        scope.campaign_id = b_campaign();
        allowed("prioritized under B's campaign", [&] {
          CHECK(leads->get_prioritized_leads(kA, 50, scope, {}, now).empty());
        });
        scope.campaign_id = a_campaign();
        allowed("prioritized under A's campaign", [&] {
          for (const auto& l : leads->get_prioritized_leads(kA, 50, scope, exclude, now)) mine(l);
        });
        break;
      }
      case 11: {
        const auto d = leads->explain(kA, a_lead(), now);
        mine_json("explain", d);
        const auto& id = b_lead();
        not_found("explain", [&] { leads->explain(kA, id, now); });
        break;
      }
      case 12: {  // an import of gym A's rows with B's numbers and external ids
        std::ostringstream csv;
        csv << "gym_id,phone,first_name,external_id,source\n";
        for (int r = 0; r < 3; ++r)
          csv << kA << ',' << pool_phone(pick(kPhones)) << ",Imported,"
              << (chance(50) ? shared_ext(pick(4)) : "") << ",import\n";
        std::istringstream in(csv.str());
        const auto report = leads->import_leads(in);
        CHECK(report.rows == 3);
        CHECK(report.rejected == 0);
        mine_json("import", report);
        break;
      }
      case 13: {
        const auto& id = b_lead();
        if (chance(50))
          not_found("erase_lead", [&] { leads->erase_lead(kA, id, "a-dpo", "request"); });
        else
          not_found("delete_lead", [&] { leads->delete_lead(kA, id); });
        break;
      }
      case 14: {  // erase one of A's leads now and then (the rest of A stays)
        if (a_lead_ids().size() < 6 || !chance(30)) break;
        const auto id = a_lead();
        allowed("erase_lead", [&] {
          const auto e = leads->erase_lead(kA, id, "a-dpo", "request");
          CHECK(e.gym_id == kA);
          mine_json("erasure", e);
        });
        for (const auto& e : leads->list_erasures(kA)) CHECK(e.gym_id == kA);
        break;
      }
      case 15: {
        const auto due = leads->due_jobs(kA, now);
        const auto n = static_cast<std::int64_t>(a_lead_ids().size());
        CHECK(due.callbacks + due.retries <= n);
        break;
      }
      case 16: {  // gym A's list, with B's numbers
        const auto phone = pool_phone(pick(kPhones));
        if (chance(60)) {
          const auto e = leads->add_to_dnc(kA, phone, "asked", "api");
          CHECK(e.scope == kA);
          a_dnc.insert(phone);
        } else {
          CHECK(leads->remove_from_dnc(kA, phone, "a-user", "by mistake") == (a_dnc.count(phone) == 1));
          a_dnc.erase(phone);
        }
        for (const auto& e : leads->list_dnc(kA, 1000)) {
          CHECK(e.scope == kA);
          mine_json("dnc entry", e);
        }
        CHECK(leads->list_dnc(kA, 1000).size() == a_dnc.size());
        break;
      }
      case 17: {  // what check_dnc says for A is A's list and A's leads only
        const auto phone = pool_phone(pick(kPhones));
        const auto c = leads->check_dnc(kA, phone);
        CHECK(c.gym_listed == (a_dnc.count(phone) == 1));
        bool lead_dnc = false;
        for (const auto& l : a_leads())
          if (l.phone == phone && l.do_not_call) lead_dnc = true;
        CHECK(c.lead_do_not_call == lead_dnc);
        CHECK_FALSE(c.global_listed);
        break;
      }
      case 18:
      case 19:
      case 20: {  // a call event of gym A
        process_event_a();
        break;
      }
      case 21: {  // events that name B's lead by id or by an external id only B has
        const auto& lead_id = b_lead();
        CallEvent e = event_for(kA, leads->get_lead(kA, a_lead()), "ev-a-" + std::to_string(++a_events),
                                "pa-" + std::to_string(a_events), now - 5min, "gym a");
        if (chance(50)) {
          e.lead_id = lead_id;
        } else {
          e.lead_id.clear();
          e.lead_external_id = one_of(b_ext_only);
        }
        if (chance(50)) e.call_id = provider_id(pick(6));
        not_found("process_event with B's lead", [&] { calls->process_event(e); });
        break;
      }
      case 22: {
        CallFilter f;
        f.page_size = 1000;
        if (chance(30)) f.campaign_id = b_campaign();
        const auto page = calls->list_calls(kA, f);
        mine_json("list_calls", page);
        for (const auto& c : page.items) {
          mine(c);
          mine(calls->get_call(kA, c.id));
        }
        if (!f.campaign_id.empty() && !b_labels.count(f.campaign_id)) CHECK(page.total == 0);
        f.campaign_id.clear();
        f.lead_id = b_lead();
        CHECK(calls->list_calls(kA, f).total == 0);
        break;
      }
      case 23: {
        const auto call_id = b_call();
        not_found("get_call", [&] { calls->get_call(kA, call_id); });
        const auto& lead_id = b_lead();
        not_found("lead_calls", [&] { calls->lead_calls(kA, lead_id); });
        for (const auto& c : calls->lead_calls(kA, a_lead())) mine(c);
        // B's provider ids B alone has (A's calls may share pc-0 … pc-5).
        not_found("get_call by B's provider id", [&] { calls->get_call(kA, "pc-cmp"); });
        break;
      }
      case 24: {  // outbound calls: B's lead and B's calls refused
        const auto& lead_id = b_lead();
        not_found("begin_outbound_call",
                  [&] { calls->begin_outbound_call(OutboundCall{kA, lead_id, b_campaign(), "simulated", ""}); });
        const auto call_id = b_call();
        if (chance(50))
          not_found("abandon_call", [&] { calls->abandon_call(kA, call_id, "gone"); });
        else
          not_found("attach_provider_call_id", [&] { calls->attach_provider_call_id(kA, call_id, "pa-x"); });
        break;
      }
      case 25: {  // one of A's outbound calls, begun and then attached or abandoned
        const auto id = a_lead();
        allowed("outbound", [&] {
          const auto c = calls->begin_outbound_call(OutboundCall{kA, id, a_campaign(), "simulated", ""});
          mine(c);
          if (chance(50))
            mine(calls->attach_provider_call_id(kA, c.id, "pa-out-" + std::to_string(++counter)));
          mine(calls->abandon_call(kA, c.id, "test"));
        });
        break;
      }
      case 26: {  // recordings purged on request
        const auto& lead_id = b_lead();
        not_found("purge_lead_recordings", [&] { calls->purge_lead_recordings(kA, lead_id, "a-user", "asked"); });
        const auto id = a_lead();
        allowed("purge A's", [&] {
          const auto r = calls->purge_lead_recordings(kA, id, "a-user", "asked");
          for (const auto& g : r.gyms) CHECK(g.gym_id == kA);
          mine_json("purge", r);
        });
        break;
      }
      case 27: {  // campaigns of gym A
        CampaignInput in;
        in.name = "A campaign " + std::to_string(++counter);
        in.voice_provider = "sim";
        if (chance(50)) in.target.tags = {"spring"};
        const auto c = campaigns->create_campaign(kA, in);
        mine(c);
        a_campaigns.push_back(c.id);
        CampaignFilter f;
        f.page_size = 1000;
        const auto page = campaigns->list_campaigns(kA, f);
        for (const auto& x : page.items) mine(x);
        CHECK(page.total == static_cast<std::int64_t>(a_campaigns.size()));
        break;
      }
      case 28: {  // B's campaigns under A
        const auto& id = b_campaign();
        switch (pick(8)) {
          case 0: not_found("get_campaign", [&] { campaigns->get_campaign(kA, id); }); break;
          case 1: not_found("set_state", [&] { campaigns->set_state(kA, id, CampaignState::Active); }); break;
          case 2: not_found("enrol_leads", [&] { campaigns->enrol_leads(kA, id, {a_lead()}); }); break;
          case 3: not_found("enrol_by_filter", [&] { campaigns->enrol_by_filter(kA, id); }); break;
          case 4: not_found("performance", [&] { campaigns->performance(kA, id); }); break;
          case 5: {
            CampaignPatch p;
            p.name = "taken over";
            not_found("update_campaign", [&] { campaigns->update_campaign(kA, id, p); });
            break;
          }
          case 6: not_found("delete_campaign", [&] { campaigns->delete_campaign(kA, id); }); break;
          default: {
            const auto& lead_id = b_lead();
            // Documented as NotFoundError for another gym's campaign.
            not_found("remove_leads", [&] { campaigns->remove_leads(kA, id, {lead_id}); });
            not_found("enrolment", [&] { campaigns->enrolment(kA, id, lead_id); });
          }
        }
        break;
      }
      case 29: {  // A's campaign with B's leads
        const auto cmp = a_campaign();
        std::vector<std::string> ids{a_lead(), b_lead()};
        if (chance(50)) std::swap(ids[0], ids[1]);
        const auto before = campaigns->performance(kA, cmp).enrolled;
        not_found("enrol B's lead in A's campaign", [&] { campaigns->enrol_leads(kA, cmp, ids); });
        CHECK(campaigns->performance(kA, cmp).enrolled == before);
        CHECK(campaigns->remove_leads(kA, cmp, {b_lead()}) == 0);
        CHECK_FALSE(campaigns->enrolment(kA, cmp, b_lead()));
        break;
      }
      case 30: {  // A's campaign: enrolment and lifecycle
        const auto cmp = a_campaign();
        allowed("campaign ops", [&] {
          switch (pick(4)) {
            case 0: {
              const auto r = campaigns->enrol_by_filter(kA, cmp);
              CHECK(r.enrolled + r.already_enrolled <= static_cast<std::int64_t>(a_lead_ids().size()));
              break;
            }
            case 1: campaigns->enrol_leads(kA, cmp, {a_lead()}); break;
            case 2: mine(campaigns->set_state(kA, cmp, chance(60) ? CampaignState::Active : CampaignState::Paused)); break;
            default: break;
          }
          mine(campaigns->get_campaign(kA, cmp));
          const auto p = campaigns->performance(kA, cmp);
          CHECK(p.campaign_id == cmp);
          CHECK(p.enrolled <= static_cast<std::int64_t>(a_lead_ids().size()));
          for (const auto& id : a_lead_ids())
            if (auto e = campaigns->enrolment(kA, cmp, id)) CHECK(e->lead_id == id);
        });
        break;
      }
      case 31: {  // A's dashboard counts A's leads and calls only
        AnalyticsQuery q;
        q.gym_id = kA;
        q.from = "2026-10-01";
        q.to = "2026-11-30";
        const auto d = analytics->dashboard(q);
        clean("dashboard", dashboard_json(d));
        clean("dashboard csv", dashboard_csv(d));
        CallFilter f;
        f.page_size = 1;
        CHECK(d.calls.calls == calls->list_calls(kA, f).total);
        CHECK(d.leads == static_cast<std::int64_t>(a_lead_ids().size()));
        break;
      }
      case 32: {  // a dashboard of B's campaign under A
        AnalyticsQuery q;
        q.gym_id = kA;
        q.campaign_id = b_campaign();
        q.from = "2026-10-01";
        q.to = "2026-11-30";
        bool used = false;  // A's own calls may carry that campaign id (a host's event names it)
        CallFilter f;
        f.page_size = 1;
        f.campaign_id = q.campaign_id;
        used = calls->list_calls(kA, f).total > 0;
        if (used) {
          const auto d = analytics->dashboard(q);
          CHECK(d.calls.calls <= calls->list_calls(kA, CallFilter{}).total);
          CHECK(d.leads == 0);
        } else {
          not_found("dashboard of B's campaign", [&] { analytics->dashboard(q); });
        }
        break;
      }
      case 33: {  // rebuilding A's rollups touches B's none, and equals A's kept rollups
        AnalyticsQuery q;
        q.gym_id = kA;
        q.from = "2026-10-01";
        q.to = "2026-11-30";
        const auto kept = dashboard_json(analytics->dashboard(q));
        const auto r = analytics->rebuild(kA);
        CHECK(r.gyms == 1);
        CHECK(r.leads == static_cast<std::int64_t>(a_lead_ids().size()));
        CHECK(dashboard_json(analytics->dashboard(q)) == kept);
        break;
      }
      case 34: {  // gym A's settings
        Gym g = gyms->get_gym(kA);
        g.call_hours = LocalWindow{(8 + pick(3)) * 60, (18 + pick(3)) * 60};
        g.call_days = static_cast<DayMask>(kWeekdays | (pick(4) << 5));  // campaigns call on weekdays
        const auto updated = gyms->update_gym(g);
        CHECK(updated.id == kA);
        break;
      }
      case 35: {  // a do-not-call file for gym A's list, with B's numbers
        std::ostringstream file;
        file << "# numbers\n";
        std::vector<std::string> added;
        for (int r = 0; r < 3; ++r) {
          added.push_back(pool_phone(pick(kPhones)));
          file << added.back() << "\n";
        }
        std::istringstream in(file.str());
        const auto report = leads->import_dnc(kA, in, "list.txt");
        CHECK(report.rejected == 0);
        a_dnc.insert(added.begin(), added.end());
        CHECK(leads->list_dnc(kA, 1000).size() == a_dnc.size());
        break;
      }
      case 36: {  // call results naming B's lead under A: refused, nothing written
        CallResult r;
        r.call_id = "res-" + std::to_string(++counter);
        r.started_at = now - 10min;
        r.ended_at = now - 8min;
        r.status = CallStatus::Completed;
        r.answered_by = AnsweredBy::Human;
        r.outcome = CallOutcome::NotInterested;
        const auto& id = b_lead();
        not_found("update_lead_after_call", [&] { leads->update_lead_after_call(kA, id, r); });
        const auto mine_id = a_lead();
        const auto before = leads->get_lead(kA, mine_id);
        std::vector<LeadCallResults> batch{LeadCallResults{mine_id, {r}, std::nullopt},
                                           LeadCallResults{id, {r}, std::nullopt}};
        if (chance(50)) std::swap(batch[0], batch[1]);
        not_found("update_leads_after_calls", [&] { leads->update_leads_after_calls(kA, batch); });
        CHECK(leads->get_lead(kA, mine_id) == before);
        break;
      }
      default: {  // gym A's own records and erasures: nothing of B
        for (const auto& l : a_leads()) {
          mine(l);
          for (const auto& e : leads->get_history(kA, l.id)) {
            CHECK(e.lead_id == l.id);
            mine_json("history", e);
          }
        }
        mine_json("erasures", leads->list_erasures(kA));
        break;
      }
    }
  }

  // An event of gym A: its own lead (by id or a shared external id), a call
  // id that may be one of B's provider ids, now and then one of B's event
  // ids (A's own once A uses them: event ids are unique per gym) or campaign ids.
  void process_event_a() {
    const auto lead = leads->get_lead(kA, a_lead());
    const Timestamp now = clock->now();
    const bool reuse_b_event = chance(10);
    const std::string event_id = reuse_b_event ? one_of(b_events) : "ev-a-" + std::to_string(++a_events);
    std::string call_id = chance(50) ? provider_id(pick(6)) : "pa-" + std::to_string(pick(20));
    // Now and then B's own id of one of its calls, as A's provider call id:
    // A gets a call of its own under that provider id; B's call is untouched.
    const bool b_call_id = !reuse_b_event && chance(8);
    if (b_call_id) call_id = one_of(b_calls);
    CallEvent e = event_for(kA, lead, event_id, call_id, now - std::chrono::minutes(5 + pick(600)), "gym a");
    std::string expected_lead = lead.id;
    if (chance(30) && !lead.external_id.empty()) {
      e.lead_id.clear();
      e.lead_external_id = lead.external_id;
      // Several of A's leads may share an external id: the earliest is meant.
      expected_lead = store->leads().find_by_external_id(kA, lead.external_id)->id;
    }
    const int kind = pick(5);
    if (kind == 0) e.outcome = CallOutcome::DoNotCall;
    if (kind == 1) e.outcome.reset(), e.answered_by = AnsweredBy::Machine;
    if (kind == 2) e.outcome = CallOutcome::CallbackRequested, e.callback_at = now + 2h;
    if (chance(20)) e.campaign_id = chance(50) ? b_campaign() : a_campaign();
    // A campaign id in an event is the host's label of the call (calls.jsonl
    // names campaigns the store may not hold): once A's call carries one of
    // B's campaign ids, that text is A's data too. B's campaign is untouched
    // (the snapshot holds its performance and dashboard).
    if (forbidden.erase(e.campaign_id) > 0) b_labels.insert(e.campaign_id);
    allowed("process_event", [&] {
      const auto r = calls->process_event(e);
      if (reuse_b_event && !a_used_b_events.insert(event_id).second) {
        CHECK(r.kind == ProcessResult::Kind::Duplicate);
        // The duplicate answers with gym A's call of that call id, if any: never B's.
        if (!r.call.id.empty()) mine(r.call);
        CHECK((r.call.id.empty() || r.call.gym_id == kA));
        clean("duplicate", to_json(r.call));
        return;
      }
      CHECK(r.kind == ProcessResult::Kind::Applied);
      if (b_call_id) {
        // From here on that text names a call of A's too (get_call finds A's
        // call by its provider id); B's call keeps it as its own id.
        CHECK(r.call.provider_call_id == call_id);
        CHECK(r.call.id != call_id);
        forbidden.erase(call_id);
        adopted.insert(call_id);
        CHECK(calls->get_call(kA, call_id).id == r.call.id);
      }
      mine(r.call);
      CHECK(r.call.lead_id == expected_lead);
    });
  }
};

}  // namespace

TEST_CASE("random operations with gym A's scope never read or change gym B's data") {
  const std::uint64_t seed = property_seed();
  std::printf("tenant_isolation_test: GYMDASH_PROPERTY_SEED=%llu\n", static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  for (auto& backend : backends()) {
    CAPTURE(backend.name);
    CAPTURE(seed);
    World w(backend, seed);
    const std::string before = w.snapshot_b();
    // The snapshot sees B's data at all (a snapshot of nothing would pass).
    CHECK(before.find(kMarker) != std::string::npos);
    CHECK(before.find(w.b_calls.front()) != std::string::npos);
    for (int i = 1; i <= kOperations; ++i) {
      CAPTURE(i);
      w.step();
      if (i % kSnapshotEvery == 0 || i == kOperations) {
        const std::string now = w.snapshot_b();
        if (now != before) {
          // Shown whole so that the difference can be found.
          CAPTURE(before);
          CAPTURE(now);
          FAIL("gym B's data changed under gym A's operations");
        }
      }
    }
  }
}
