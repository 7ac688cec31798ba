#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/lead.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

using namespace gymdash;
namespace bj = boost::json;

namespace {

Lead sample_lead() {
  Lead l;
  l.id = "ld_01JABCDEFGHJKMNPQRSTVWXYZ0";
  l.gym_id = "gym-nyc-01";
  l.external_id = "L7-00000042";
  l.phone = "+12127365000";
  l.first_name = "Chloé";
  l.last_name = "O'Brien, Jr. \"Annie\"";
  l.email = "chloe@example.com";
  l.source = "web_form";
  l.interest = "yoga 😀";
  l.timeline = "this week";
  l.notes = "line1\nline2";
  l.tags = {"student", "vip"};
  l.consent = {true, parse_timestamp("2026-10-01T10:00:00Z"), "web_form", "https://gym.example/join"};
  l.do_not_call = true;
  l.phone_invalid = true;
  l.status = LeadStatus::TrialBooked;
  l.qualification = Qualification::Hot;
  l.qualification_manual = true;
  l.score = 87;
  l.attempts = 3;
  l.last_call_at = parse_timestamp("2026-10-02T10:00:00.125Z");
  l.timezone = "America/Chicago";
  l.custom_fields = {{"locker", "12"}, {"goal", "5k"}};
  l.created_at = parse_timestamp("2026-09-30T08:00:00Z");
  l.updated_at = parse_timestamp("2026-10-02T10:00:01Z");
  l.version = 7;
  return l;
}

template <class T>
T round_trip(const T& v) {
  return bj::value_to<T>(bj::value_from(v));
}

template <class T>
std::string invalid_field(std::string_view json) {
  try {
    from_json<T>(json);
  } catch (const InvalidArgumentError& e) {
    return e.field();
  }
  return "<accepted>";
}

}  // namespace

TEST_CASE("lead round trip") {
  const Lead l = sample_lead();
  CHECK(round_trip(l) == l);
  CHECK(from_json<Lead>(to_json(l)) == l);
  Lead empty;
  CHECK(round_trip(empty) == empty);
  const auto v = bj::value_from(l);
  CHECK(v.at("status") == "trial_booked");
  CHECK(v.at("qualification") == "hot");
  CHECK(v.at("next_call_at").is_null());
  CHECK(v.at("created_at") == "2026-09-30T08:00:00Z");
}

TEST_CASE("gym round trip") {
  Gym g;
  g.id = "gym-mia-01";
  g.name = "Biscayne Boxing";
  g.timezone = "America/New_York";
  g.region = "US";
  g.state = "FL";
  g.call_hours = {8 * 60 + 30, 19 * 60};
  g.call_days = kWeekdays;
  g.caller_ids = {"+13055550100"};
  g.created_at = parse_timestamp("2026-01-01T00:00:00Z");
  g.updated_at = parse_timestamp("2026-01-02T00:00:00Z");
  CHECK(round_trip(g) == g);
  const auto v = bj::value_from(g);
  CHECK(v.at("call_hours").at("start") == "08:30");
  CHECK(v.at("call_days").as_array().size() == 5);
}

TEST_CASE("other types round trip") {
  LeadEvent e{4, "ld_x", parse_timestamp("2026-01-01T00:00:00Z"), "status", "new", "contacted", "ana", "called"};
  CHECK(round_trip(e) == e);
  StatusChange c{LeadStatus::Lost, "bob", "moved away", true};
  auto c2 = round_trip(c);
  CHECK(c2.to == c.to);
  CHECK(c2.reason == c.reason);
  CHECK(c2.force);
  LeadFilter f;
  f.statuses = {LeadStatus::New, LeadStatus::Lost};
  f.qualifications = {Qualification::Hot};
  f.tags = {"vip"};
  f.created_from = parse_timestamp("2026-01-01T00:00:00Z");
  f.search = "chen";
  f.page = 3;
  f.page_size = 20;
  auto f2 = round_trip(f);
  CHECK(f2.statuses == f.statuses);
  CHECK(f2.qualifications == f.qualifications);
  CHECK(f2.created_from == f.created_from);
  CHECK_FALSE(f2.created_to);
  CHECK(f2.page == 3);
  LeadPage p{{sample_lead()}, 2, 10, 11};
  auto p2 = round_trip(p);
  CHECK(p2.items == p.items);
  CHECK(p2.total == 11);
  LeadInput in;
  in.phone = "(212) 736-5000";
  in.tags = {"a"};
  in.consent = Consent{true, std::nullopt, "verbal", ""};
  in.status = LeadStatus::Contacted;
  in.created_at = parse_timestamp("2026-01-01T00:00:00Z");
  auto in2 = round_trip(in);
  CHECK(in2.phone == in.phone);
  CHECK(in2.consent == in.consent);
  CHECK(in2.status == in.status);
  CHECK(in2.created_at == in.created_at);
  LeadPatch patch;
  patch.first_name = "Ann";
  patch.qualification = Qualification::Cold;
  auto patch2 = round_trip(patch);
  CHECK(patch2.first_name == patch.first_name);
  CHECK(patch2.qualification == patch.qualification);
  CHECK_FALSE(patch2.last_name);
  CreateLeadResult r{sample_lead(), true};
  CHECK(bj::value_from(r).at("merged") == true);
}

TEST_CASE("warm reads as neutral; consent may be a bool") {
  auto in = from_json<LeadInput>(R"({"phone":"1","qualification":"warm","consent":true})");
  CHECK(in.qualification == Qualification::Neutral);
  REQUIRE(in.consent);
  CHECK(in.consent->given);
}

TEST_CASE("strict reading names the offending field") {
  CHECK(invalid_field<LeadInput>(R"({"phone":"1","colour":"red"})") == "colour");
  CHECK(invalid_field<LeadInput>(R"({"phone":5})") == "phone");
  CHECK(invalid_field<LeadInput>(R"({"phone":"1","status":"sleeping"})") == "status");
  CHECK(invalid_field<LeadInput>(R"({"phone":"1","tags":["a",3]})") == "tags[1]");
  CHECK(invalid_field<LeadInput>(R"({"phone":"1","consent":{"given":"yes"}})") == "consent.given");
  CHECK(invalid_field<LeadInput>(R"({"phone":"1","consent":{"when":"now"}})") == "consent.when");
  CHECK(invalid_field<LeadInput>(R"({"phone":"1","created_at":"2026-02-30T10:00:00Z"})") == "created_at");
  CHECK(invalid_field<LeadInput>(R"({"phone":"1","custom_fields":{"a":1}})") == "custom_fields.a");
  CHECK(invalid_field<LeadInput>(R"([1,2])") == "request");
  CHECK(invalid_field<LeadInput>(R"({"phone":)") == "request");
  CHECK(invalid_field<LeadFilter>(R"({"page_size":5000})") == "page_size");
  CHECK(invalid_field<LeadFilter>(R"({"statuses":["new","nope"]})") == "statuses[1]");
  CHECK(invalid_field<LeadFilter>(R"({"qualifications":"hot"})") == "qualifications");
  CHECK(invalid_field<Gym>(R"({"call_hours":{"start":"25:00"}})") == "call_hours.start");
  CHECK(invalid_field<Gym>(R"({"call_days":["mon","someday"]})") == "call_days[1]");
  CHECK(invalid_field<StatusChange>(R"({"reason":"x"})") == "to");
  CHECK(invalid_field<LeadPatch>(R"({"status":"lost"})") == "status");  // status moves through change_status
}

TEST_CASE("deeply nested JSON is refused") {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  CHECK(invalid_field<LeadInput>(deep) == "request");
}
