#include <gymdash/clock.hpp>
#include <gymdash/error.hpp>
#include <gymdash/model.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <thread>

using namespace gymdash;
using namespace std::chrono;

TEST_CASE("timestamps format as ISO 8601 UTC with Z") {
  const Timestamp t = sys_days{year{2026} / 10 / 13} + hours{12} + minutes{21} + seconds{44};
  CHECK(format_timestamp(t) == "2026-10-13T12:21:44Z");
  CHECK(format_timestamp(t + milliseconds{250}) == "2026-10-13T12:21:44.250Z");
  CHECK(format_timestamp(Timestamp{}) == "1970-01-01T00:00:00Z");
}

TEST_CASE("timestamps parse with Z or an offset") {
  const Timestamp t = sys_days{year{2026} / 10 / 13} + hours{12} + minutes{21} + seconds{44};
  CHECK(parse_timestamp("2026-10-13T12:21:44Z") == t);
  CHECK(parse_timestamp("2026-10-13T14:21:44+02:00") == t);
  CHECK(parse_timestamp("2026-10-13T07:21:44-0500") == t);
  CHECK(parse_timestamp("2026-10-13T12:21:44.250Z") == t + milliseconds{250});
  CHECK(parse_timestamp("2026-10-13T12:21Z") == t - seconds{44});
  for (auto s : {"2026-02-30T10:00:00Z", "31/10/2026", "2026-10-01T10:00:00", "2026-10-01 10:00:00Z",
                 "2026-13-01T10:00:00Z", "2026-10-01T24:00:00Z", "", "2026-10-01T10:00:00Zjunk",
                 "2026-10-01T10:00:60Z"}) {
    CAPTURE(s);
    CHECK_FALSE(try_parse_timestamp(s).has_value());
  }
  try {
    parse_timestamp("yesterday", "created_at");
    FAIL("accepted");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "created_at");
    CHECK(std::string(e.what()).find("created_at") == 0);
  }
}

TEST_CASE("timestamps round-trip") {
  for (std::int64_t ms : {0LL, 1LL, 999LL, 1'700'000'000'123LL, 4'102'444'799'000LL}) {
    const Timestamp t{milliseconds{ms}};
    CHECK(parse_timestamp(format_timestamp(t)) == t);
  }
}

TEST_CASE("ids are unique and time-ordered") {
  std::vector<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.push_back(make_id("ld_"));
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
  CHECK(ids[0].size() == 3 + 26);
  CHECK(ids[0].rfind("ld_", 0) == 0);

  std::vector<std::string> a, b;
  std::thread ta([&] { for (int i = 0; i < 5000; ++i) a.push_back(make_id("x")); });
  std::thread tb([&] { for (int i = 0; i < 5000; ++i) b.push_back(make_id("x")); });
  ta.join();
  tb.join();
  std::set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  CHECK(all.size() == 10000);
}

TEST_CASE("manual clock") {
  ManualClock clock(Timestamp{milliseconds{1000}});
  CHECK(clock.now() == Timestamp{milliseconds{1000}});
  clock.advance(minutes{1});
  CHECK(clock.now() == Timestamp{milliseconds{61000}});
  clock.set(Timestamp{milliseconds{5}});
  CHECK(clock.now() == Timestamp{milliseconds{5}});
  auto sys = make_system_clock();
  CHECK(sys->now() > parse_timestamp("2024-01-01T00:00:00Z"));
}
