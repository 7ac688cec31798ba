#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

using namespace gymdash;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  std::unique_ptr<Store> store = make_memory_store();
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(parse_timestamp("2026-11-01T12:00:00Z"));
  std::unique_ptr<GymService> gyms = make_gym_service(*store, clock);
  std::unique_ptr<LeadService> leads = make_lead_service(*store, clock);

  Fixture() {
    Gym a;
    a.id = "gym-a";
    a.name = "A";
    a.timezone = "America/New_York";
    gyms->create_gym(a);
    Gym b = a;
    b.id = "gym-b";
    b.name = "B";
    gyms->create_gym(b);
    Gym ldn = a;
    ldn.id = "gym-ldn";
    ldn.timezone = "Europe/London";
    ldn.region = "GB";
    gyms->create_gym(ldn);
  }

  Lead add(const std::string& phone, const std::string& first = "Ann", const std::string& gym = "gym-a") {
    LeadInput in;
    in.phone = phone;
    in.first_name = first;
    return leads->create_lead(gym, in).lead;
  }

  std::string field_of(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const InvalidArgumentError& e) {
      return e.field();
    }
    return "<accepted>";
  }

  std::int64_t count(const std::string& gym = "gym-a") { return leads->list_leads(gym, {}).total; }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "create normalizes the phone and records history") {
  LeadInput in;
  in.phone = "(212) 736-5000";
  in.first_name = "  Maria ";
  in.email = "maria@example.com";
  in.tags = {"VIP", " student", "vip"};
  in.consent = Consent{true, clock->now(), "web_form", "landing"};
  auto r = leads->create_lead("gym-a", in);
  CHECK_FALSE(r.merged);
  CHECK(r.lead.phone == "+12127365000");
  CHECK(r.lead.first_name == "Maria");
  CHECK(r.lead.tags == std::vector<std::string>{"student", "vip"});
  CHECK(r.lead.status == LeadStatus::New);
  CHECK(r.lead.version == 1);
  CHECK(r.lead.created_at == clock->now());
  CHECK(r.lead.id.rfind("ld_", 0) == 0);
  CHECK(leads->get_lead("gym-a", r.lead.id) == r.lead);
  auto h = leads->get_history("gym-a", r.lead.id);
  REQUIRE(h.size() == 1);
  CHECK(h[0].kind == "created");
  CHECK(h[0].actor == "api");

  auto gb = add("020 7946 0958", "Ollie", "gym-ldn");
  CHECK(gb.phone == "+442079460958");
}

TEST_CASE_FIXTURE(Fixture, "same gym and number merges instead of duplicating") {
  LeadInput first;
  first.phone = "212-736-5000";
  first.external_id = "L-1";
  first.tags = {"a"};
  first.consent = Consent{true, std::nullopt, "import", ""};
  first.created_at = parse_timestamp("2026-10-02T00:00:00Z");
  auto a = leads->create_lead("gym-a", first).lead;

  LeadInput second;
  second.phone = "+1 212 736 5000";
  second.external_id = "L-2";
  second.first_name = "Maria";
  second.tags = {"b"};
  second.consent = Consent{false, std::nullopt, "import", ""};
  second.created_at = parse_timestamp("2026-10-01T00:00:00Z");
  auto r = leads->create_lead("gym-a", second);
  CHECK(r.merged);
  CHECK(r.lead.id == a.id);
  CHECK(r.lead.external_id == "L-1");  // the first row's id stays
  CHECK(r.lead.first_name == "Maria");  // empty fields are filled
  CHECK(r.lead.tags == std::vector<std::string>{"a", "b"});
  CHECK(r.lead.created_at == parse_timestamp("2026-10-01T00:00:00Z"));
  CHECK_FALSE(r.lead.consent.given);  // a withdrawal wins

  LeadInput third = first;  // says yes again: consent stays withdrawn
  auto r3 = leads->create_lead("gym-a", third);
  CHECK_FALSE(r3.lead.consent.given);
  CHECK(count() == 1);

  // The same number in another gym is another lead.
  auto other = add("212 736 5000", "Maria", "gym-b");
  CHECK(other.id != a.id);
}

TEST_CASE_FIXTURE(Fixture, "bad input names the field and writes nothing") {
  auto make = [&](auto change) {
    LeadInput in;
    in.phone = "(212) 736-5000";
    change(in);
    return field_of([&] { leads->create_lead("gym-a", in); });
  };
  CHECK(make([](LeadInput& in) { in.phone = "call me maybe"; }) == "phone");
  CHECK(make([](LeadInput& in) { in.phone = ""; }) == "phone");
  CHECK(make([](LeadInput& in) { in.first_name = std::string(201, 'x'); }) == "first_name");
  CHECK(make([](LeadInput& in) { in.last_name = "\xc3\x28"; }) == "last_name");
  CHECK(make([](LeadInput& in) { in.email = std::string(321, 'e'); }) == "email");
  CHECK(make([](LeadInput& in) { in.email = "not-an-email"; }) == "email");
  CHECK(make([](LeadInput& in) { in.notes = std::string(10001, 'n'); }) == "notes");
  CHECK(make([](LeadInput& in) { in.timezone = "Nowhere/City"; }) == "timezone");
  CHECK(make([](LeadInput& in) { in.tags = {"ok", ""}; }) == "tags[1]");
  CHECK(make([](LeadInput& in) { in.phone = "+44 20 7946 0958"; }) == "phone");
  CHECK(count() == 0);
  // At the limits: accepted. 200 code points of a 2-byte character is 400 bytes.
  std::string name;
  for (int i = 0; i < 200; ++i) name += "é";
  CHECK(make([&](LeadInput& in) { in.first_name = name; in.notes = std::string(10000, 'n'); }) == "<accepted>");
  CHECK_THROWS_AS(leads->create_lead("gym-nope", LeadInput{}), NotFoundError);
}

TEST_CASE_FIXTURE(Fixture, "every operation is scoped to one gym") {
  auto l = add("(212) 736-5000");
  CHECK_THROWS_AS(leads->get_lead("gym-b", l.id), NotFoundError);
  CHECK_THROWS_AS(leads->update_lead("gym-b", l.id, LeadPatch{}), NotFoundError);
  CHECK_THROWS_AS(leads->delete_lead("gym-b", l.id), NotFoundError);
  CHECK_THROWS_AS(leads->add_tags("gym-b", l.id, {"x"}), NotFoundError);
  CHECK_THROWS_AS(leads->remove_tags("gym-b", l.id, {"x"}), NotFoundError);
  CHECK_THROWS_AS(leads->add_note("gym-b", l.id, "hi"), NotFoundError);
  CHECK_THROWS_AS(leads->change_status("gym-b", l.id, {LeadStatus::Lost, "", "", false}), NotFoundError);
  CHECK_THROWS_AS(leads->get_history("gym-b", l.id), NotFoundError);
  CHECK(leads->list_leads("gym-b", {}).total == 0);
  CHECK(leads->get_lead("gym-a", l.id) == l);
}

TEST_CASE_FIXTURE(Fixture, "update changes present fields and records them") {
  auto l = add("(212) 736-5000");
  clock->advance(1min);
  LeadPatch p;
  p.last_name = "Garcia";
  p.phone = "646-239-4410";
  p.qualification = Qualification::Hot;
  p.custom_fields = std::map<std::string, std::string>{{"goal", "5k"}};
  p.actor = "ana";
  auto u = leads->update_lead("gym-a", l.id, p);
  CHECK(u.last_name == "Garcia");
  CHECK(u.phone == "+16462394410");
  CHECK(u.qualification == Qualification::Hot);
  CHECK(u.qualification_manual);
  CHECK(u.version == l.version + 1);
  CHECK(u.updated_at == clock->now());
  auto h = leads->get_history("gym-a", l.id);
  REQUIRE(h.size() == 3);
  CHECK(h[1].kind == "updated");
  CHECK(h[1].to == "last_name,phone,custom_fields");
  CHECK(h[2].kind == "qualification");
  CHECK(h[2].from == "cold");  // what scoring gave a lead with nothing but a number
  CHECK(h[2].to == "hot");
  CHECK(h[2].actor == "ana");

  // A patch that fails half-way writes nothing.
  LeadPatch bad;
  bad.first_name = "Zed";
  bad.email = "nope";
  CHECK(field_of([&] { leads->update_lead("gym-a", l.id, bad); }) == "email");
  CHECK(leads->get_lead("gym-a", l.id) == u);

  // Taking another lead's number is refused.
  auto other = add("(917) 882-0934", "Bo");
  LeadPatch steal;
  steal.phone = "917 882 0934";
  CHECK_THROWS_AS(leads->update_lead("gym-a", l.id, steal), AlreadyExistsError);
  (void)other;
}

TEST_CASE_FIXTURE(Fixture, "tags and notes") {
  auto l = add("(212) 736-5000");
  auto t = leads->add_tags("gym-a", l.id, {"Trial-Pass", "vip"}, "ana");
  CHECK(t.tags == std::vector<std::string>{"trial-pass", "vip"});
  t = leads->remove_tags("gym-a", l.id, {"VIP", "unknown"});
  CHECK(t.tags == std::vector<std::string>{"trial-pass"});
  auto unchanged = leads->remove_tags("gym-a", l.id, {"nothing"});
  CHECK(unchanged.version == t.version);
  auto note = leads->add_note("gym-a", l.id, "Prefers evenings", "desk");
  CHECK(note.kind == "note");
  CHECK(note.to == "Prefers evenings");
  CHECK(note.actor == "desk");
  CHECK(note.seq > 0);
  CHECK(field_of([&] { leads->add_note("gym-a", l.id, "   "); }) == "text");
  CHECK(field_of([&] { leads->add_note("gym-a", l.id, std::string(10001, 'x')); }) == "text");
  auto h = leads->get_history("gym-a", l.id);
  CHECK(h.back().kind == "note");
  CHECK(h[1].kind == "tags");
  CHECK(h[1].to == "trial-pass,vip");
  std::vector<std::string> many;
  for (int i = 0; i < 101; ++i) many.push_back("t" + std::to_string(i));
  CHECK(field_of([&] { leads->add_tags("gym-a", l.id, many); }) == "tags");
}

TEST_CASE_FIXTURE(Fixture, "status transitions") {
  auto l = add("(212) 736-5000");
  auto move = [&](LeadStatus to, bool force = false, std::string reason = "") {
    return leads->change_status("gym-a", l.id, {to, "ana", reason, force});
  };
  CHECK(move(LeadStatus::TrialBooked).status == LeadStatus::TrialBooked);  // forward may skip
  CHECK_THROWS_AS(move(LeadStatus::Contacted), ConflictError);             // back needs force + reason
  CHECK_THROWS_AS(move(LeadStatus::Contacted, true), ConflictError);
  CHECK(move(LeadStatus::Contacted, true, "booked by mistake").status == LeadStatus::Contacted);
  CHECK(move(LeadStatus::Lost).status == LeadStatus::Lost);
  CHECK(move(LeadStatus::Qualified).status == LeadStatus::Qualified);  // a lost lead comes back
  CHECK(move(LeadStatus::Converted).status == LeadStatus::Converted);
  CHECK_THROWS_AS(move(LeadStatus::Lost), ConflictError);  // converted stays converted
  const auto before = leads->get_lead("gym-a", l.id);
  CHECK(move(LeadStatus::Converted).version == before.version);  // same status: no change
  CHECK(move(LeadStatus::Lost, true, "cancelled membership").status == LeadStatus::Lost);
  auto h = leads->get_history("gym-a", l.id);
  std::vector<std::string> moves;
  for (const auto& e : h)
    if (e.kind == "status") moves.push_back(e.from + ">" + e.to);
  CHECK(moves == std::vector<std::string>{"new>trial_booked", "trial_booked>contacted", "contacted>lost",
                                          "lost>qualified", "qualified>converted", "converted>lost"});
  CHECK(h[2].reason == "booked by mistake");
}

TEST_CASE_FIXTURE(Fixture, "list filters and pagination") {
  std::vector<Lead> all;
  const char* phones[] = {"(212) 736-5000", "(646) 239-4410", "(917) 882-0934", "(718) 230-4521", "(212) 736-5001"};
  for (int i = 0; i < 5; ++i) {
    clock->advance(1h);
    LeadInput in;
    in.phone = phones[i];
    in.first_name = i == 2 ? "Wei" : "Ann";
    in.last_name = i == 2 ? "Chen" : "Lee";
    in.email = i == 3 ? "Runner@Example.com" : "";
    in.source = i % 2 ? "facebook_ads" : "web_form";
    in.tags = i < 2 ? std::vector<std::string>{"vip", "student"} : std::vector<std::string>{"vip"};
    all.push_back(leads->create_lead("gym-a", in).lead);
  }
  leads->change_status("gym-a", all[0].id, {LeadStatus::Contacted, "", "", false});
  LeadPatch hot;
  hot.qualification = Qualification::Hot;
  leads->update_lead("gym-a", all[1].id, hot);

  auto ids = [&](const LeadFilter& f) {
    std::vector<std::string> out;
    for (const auto& l : leads->list_leads("gym-a", f).items) out.push_back(l.id);
    return out;
  };
  LeadFilter f;
  CHECK(ids(f) == std::vector<std::string>{all[4].id, all[3].id, all[2].id, all[1].id, all[0].id});
  f.statuses = {LeadStatus::Contacted};
  CHECK(ids(f) == std::vector<std::string>{all[0].id});
  f = {};
  f.qualifications = {Qualification::Hot};
  CHECK(ids(f) == std::vector<std::string>{all[1].id});
  f = {};
  f.tags = {"VIP", "student"};
  CHECK(ids(f) == std::vector<std::string>{all[1].id, all[0].id});
  f = {};
  f.source = "facebook_ads";
  CHECK(ids(f) == std::vector<std::string>{all[3].id, all[1].id});
  f = {};
  f.search = "CHEN";
  CHECK(ids(f) == std::vector<std::string>{all[2].id});
  f.search = "runner@";
  CHECK(ids(f) == std::vector<std::string>{all[3].id});
  f.search = "2394410";
  CHECK(ids(f) == std::vector<std::string>{all[1].id});
  f = {};
  f.created_from = all[1].created_at;
  f.created_to = all[3].created_at;
  CHECK(ids(f) == std::vector<std::string>{all[2].id, all[1].id});
  f = {};
  f.page_size = 2;
  f.page = 3;
  auto page = leads->list_leads("gym-a", f);
  CHECK(page.total == 5);
  CHECK(page.items.size() == 1);
  CHECK(page.items[0].id == all[0].id);
  f.page = 4;
  CHECK(leads->list_leads("gym-a", f).items.empty());
  f.page_size = 0;
  CHECK(field_of([&] { leads->list_leads("gym-a", f); }) == "page_size");
  f.page_size = 1001;
  CHECK(field_of([&] { leads->list_leads("gym-a", f); }) == "page_size");
  f = {};
  f.page = 0;
  CHECK(field_of([&] { leads->list_leads("gym-a", f); }) == "page");
}

TEST_CASE_FIXTURE(Fixture, "delete") {
  auto l = add("(212) 736-5000");
  leads->delete_lead("gym-a", l.id);
  CHECK_THROWS_AS(leads->get_lead("gym-a", l.id), NotFoundError);
  CHECK_THROWS_AS(leads->delete_lead("gym-a", l.id), NotFoundError);
  // The number is free again.
  auto again = add("(212) 736-5000");
  CHECK(again.id != l.id);
}
