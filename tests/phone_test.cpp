#include <gymdash/error.hpp>
#include <gymdash/phone.hpp>

#include <doctest/doctest.h>

using namespace gymdash;

TEST_CASE("messy US formats become E.164") {
  for (auto raw : {"(212) 736-5000", "212-736-5000", "212.736.5000", "2127365000", "+1 212 736 5000",
                   "1-212-736-5000", "+12127365000", " 212 736 5000 "}) {
    CAPTURE(raw);
    CHECK(normalize_phone(raw, "US") == "+12127365000");
  }
}

TEST_CASE("UK formats in a GB gym") {
  for (auto raw : {"020 7946 0958", "+44 20 7946 0958", "(020) 7946 0958", "0044 20 79460958"}) {
    CAPTURE(raw);
    CHECK(normalize_phone(raw, "GB") == "+442079460958");
  }
}

TEST_CASE("invalid numbers are InvalidArgument naming the field, without echoing the number") {
  for (auto raw : {"12345", "call me maybe", "000-000-0000", "+1 (212) 555", "phone: n/a", "999999999999999999",
                   "", "   "}) {
    CAPTURE(raw);
    CHECK_FALSE(try_normalize_phone(raw, "US").has_value());
    try {
      normalize_phone(raw, "US", "phone");
      FAIL("accepted");
    } catch (const InvalidArgumentError& e) {
      CHECK(e.field() == "phone");
      CHECK(std::string(e.what()).rfind("phone:", 0) == 0);
    }
  }
  try {
    normalize_phone("+44 20 7946 0958", "US", "caller_ids[0]");
    FAIL("a London number is not valid for a US gym");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "caller_ids[0]");
    CHECK(std::string(e.what()).find("79460958") == std::string::npos);
    CHECK(std::string(e.what()).find("0958") != std::string::npos);
  }
}

TEST_CASE("regions and masking") {
  CHECK(is_known_phone_region("US"));
  CHECK(is_known_phone_region("GB"));
  CHECK_FALSE(is_known_phone_region("XX"));
  CHECK_FALSE(is_known_phone_region(""));
  CHECK(mask_phone("+12127365000") == "***5000");
  CHECK(mask_phone("12") == "***");
}
