#include "core/nanp.hpp"
#include "core/tz.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace gymdash;

namespace {

void check_area(int npa, std::string_view state, std::string_view zone) {
  CAPTURE(npa);
  const auto info = nanp::lookup(npa);
  REQUIRE(info.has_value());
  CHECK(info->state == state);
  CHECK(info->timezone == zone);
}

}  // namespace

TEST_CASE("well-known area codes") {
  check_area(212, "NY", "America/New_York");
  check_area(305, "FL", "America/New_York");
  check_area(312, "IL", "America/Chicago");
  check_area(303, "CO", "America/Denver");
  check_area(602, "AZ", "America/Phoenix");
  check_area(310, "CA", "America/Los_Angeles");
  check_area(808, "HI", "Pacific/Honolulu");
  check_area(416, "ON", "America/Toronto");
  check_area(907, "AK", "America/Anchorage");
  check_area(787, "PR", "America/Puerto_Rico");
  check_area(514, "QC", "America/Toronto");
  check_area(306, "SK", "America/Regina");
  check_area(604, "BC", "America/Vancouver");
  check_area(902, "NS", "America/Halifax");
  check_area(709, "NL", "America/St_Johns");
  // Split codes take the zone of most of their population.
  check_area(850, "FL", "America/Chicago");
  check_area(915, "TX", "America/Denver");
  check_area(219, "IN", "America/Chicago");
  check_area(317, "IN", "America/Indiana/Indianapolis");
  check_area(605, "SD", "America/Chicago");
  CHECK(nanp::lookup(416)->country == "CA");
  CHECK(nanp::lookup(212)->country == "US");
  CHECK(nanp::lookup(939)->country == "PR");
}

TEST_CASE("codes that are not geographic US/Canadian codes are unknown") {
  for (int npa : {800, 833, 844, 855, 866, 877, 888, 900, 500, 521, 533, 600, 622, 700, 710, 211, 311, 411, 911, 555,
                  876, 242, 809, 0, 99, 1000, -212}) {
    CAPTURE(npa);
    CHECK_FALSE(nanp::lookup(npa).has_value());
  }
}

TEST_CASE("lookup by E.164 number") {
  CHECK(nanp::lookup_e164("+12125550123")->state == "NY");
  CHECK(nanp::lookup_e164("+14165550123")->timezone == "America/Toronto");
  CHECK_FALSE(nanp::lookup_e164("+18005550123").has_value());
  for (auto bad : {"", "+1", "+1212", "12125550123", "+121255501234", "+1212555012", "+442079460958", "+1212555012x",
                   "+1 212 555 0123"}) {
    CAPTURE(bad);
    CHECK_FALSE(nanp::lookup_e164(bad).has_value());
  }
}

TEST_CASE("the table: every zone is in the tz database, every code once, plausible size") {
  const auto all = nanp::entries();
  CHECK(all.size() >= 400);
  std::set<int> seen;
  std::set<std::string> zones;
  for (const auto& e : all) {
    CAPTURE(e.npa);
    CHECK(seen.insert(e.npa).second);
    CHECK(e.npa >= 200);
    CHECK(e.npa <= 999);
    CHECK(e.info.state.size() == 2);
    CHECK(nanp::lookup(e.npa).has_value());
    zones.emplace(e.info.timezone);
  }
  REQUIRE_FALSE(tz::is_known_zone("America/Nowhere"));  // the check below can fail
  for (const auto& zone : zones) {
    CAPTURE(zone);
    CHECK(tz::is_known_zone(zone));  // date::locate_zone over the system's tz database
  }
  // Every US state and DC and every Canadian province with its own codes is covered.
  std::set<std::string> states;
  for (const auto& e : all) states.emplace(e.info.state);
  for (auto s : {"AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
                 "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
                 "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
                 "AB", "BC", "MB", "NB", "NL", "NS", "ON", "QC", "SK"}) {
    CAPTURE(s);
    CHECK(states.count(s) == 1);
  }
}
