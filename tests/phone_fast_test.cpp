// Differential tests: the NANP and United Kingdom fast paths against pure libphonenumber.
#include "core/phone_fast.hpp"

#include <gymdash/phone.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace gymdash;
using phone_detail::FastResult;

namespace {

std::size_t case_count() {
  if (const char* n = std::getenv("GYMDASH_PHONE_FAST_N")) return std::strtoull(n, nullptr, 10);
  return std::getenv("GYMDASH_SANITIZE_RUN") != nullptr ? 50'000 : 1'000'000;
}

std::string digits(std::uint64_t value, int width) {
  std::string s(static_cast<std::size_t>(width), '0');
  for (auto i = s.size(); i-- > 0; value /= 10) s[i] = static_cast<char>('0' + value % 10);
  return s;
}

// Deterministic inputs. Only rng() itself is used: the standard distributions are
// implementation-defined, so a fixed seed would give other numbers elsewhere.
class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {
    // A few thousand prefixes drawn again and again with fresh line numbers: if
    // validity ever depended on a digit after the sixth, the memoized verdict
    // from a prefix's first number would disagree with a later one.
    for (int i = 0; i < 3000; ++i) hot_.push_back(static_cast<std::uint32_t>(200'000 + next(800'000)));
  }

  struct Case {
    std::string raw;
    const char* region;
  };

  Case next_case() {
    static const char* const regions[] = {"US", "US", "US", "CA", "CA", "GB"};
    Case c{{}, regions[next(6)]};
    const auto kind = next(100);
    if (kind < 55) {
      c.raw = format_nanp(plausible_national());
    } else if (kind < 65) {
      c.raw = format_nanp(implausible_national());
    } else if (kind < 73) {
      c.raw = wrong_length();
    } else if (kind < 81) {
      c.raw = with_letters();
    } else if (kind < 89) {
      c.raw = international();
    } else {
      c.raw = junk();
    }
    return c;
  }

 private:
  std::uint64_t next(std::uint64_t bound) { return rng_() % bound; }

  std::string plausible_national() {
    std::uint64_t prefix;
    if (next(2) == 0) {
      prefix = hot_[next(hot_.size())];
    } else {
      prefix = (200 + next(800)) * 1000 + next(1000);  // every NPA 200-999, every NXX 000-999
    }
    static const std::uint64_t lines[] = {0, 1, 100, 199, 1234, 5000, 9998, 9999};
    const auto line = next(4) == 0 ? lines[next(8)] : next(10'000);
    return digits(prefix, 6) + digits(line, 4);
  }

  std::string implausible_national() {
    auto n = plausible_national();
    switch (next(6)) {
      case 0: n[0] = static_cast<char>('0' + next(2)); break;  // NPA starting 0 or 1
      case 1: n[3] = static_cast<char>('0' + next(2)); break;  // NXX starting 0 or 1
      case 2: n[1] = '1', n[2] = '1'; break;                   // N11 area code
      case 3: n[4] = '1', n[5] = '1'; break;                   // N11 exchange
      case 4: n.replace(3, 3, "555"); break;                   // 555 exchange
      default: n.replace(3, 5, "55501"); break;                // 555-01xx, reserved for fiction
    }
    return n;
  }

  // The data contract's formats and their common relatives.
  std::string format_nanp(const std::string& n) {
    const auto a = n.substr(0, 3), x = n.substr(3, 3), l = n.substr(6, 4);
    switch (next(16)) {
      case 0: return "(" + a + ") " + x + "-" + l;
      case 1: return a + "-" + x + "-" + l;
      case 2: return a + "." + x + "." + l;
      case 3: return n;
      case 4: return "+1 " + a + " " + x + " " + l;
      case 5: return "1-" + a + "-" + x + "-" + l;
      case 6: return "+1" + n;
      case 7: return " " + a + " " + x + " " + l + " ";
      case 8: return "+1 (" + a + ") " + x + "-" + l;
      case 9: return "1 (" + a + ") " + x + "-" + l;
      case 10: return "+1-" + a + "-" + x + "-" + l;
      case 11: return "1" + n;
      case 12: return "(" + a + ")" + x + "-" + l;
      case 13: return "\t" + a + "  " + x + "--" + l + "\r\n";
      case 14: return "+1." + a + "." + x + "." + l;
      default: return "((" + a + ")) " + x + " " + l + " -";
    }
  }

  std::string wrong_length() {
    const auto n = plausible_national();
    switch (next(8)) {
      case 0: return n.substr(3, 3) + "-" + n.substr(6);                     // 7 digits, local
      case 1: return n.substr(0, 3) + "-" + n.substr(3, 3) + "-" + n.substr(6, 3);  // 9
      case 2: return n + digits(next(10), 1);                                // 11, no trunk 1
      case 3: return "+1 " + n.substr(0, 9);                                 // +1 and 9
      case 4: return "+1 " + n + digits(next(100), 2);                       // +1 and 12
      case 5: return "1-" + n + "1";                                         // 12 with trunk
      case 6: return "+1 1 " + n;                                            // +1, trunk, 10
      default: return digits(next(1'000'000'000'000'000ull), 12 + static_cast<int>(next(8)));
    }
  }

  std::string with_letters() {
    const auto n = plausible_national();
    const auto f = n.substr(0, 3) + "-" + n.substr(3, 3) + "-" + n.substr(6);
    switch (next(8)) {
      case 0: return f + " x" + digits(next(1000), 3);
      case 1: return f + " ext. 12";
      case 2: return n.substr(0, 3) + "-555-CALL";
      case 3: return "1-800-FLOWERS";
      case 4: return "tel: " + f;
      case 5: return n.substr(0, 3) + "/" + n.substr(3, 3) + "/" + n.substr(6);
      case 6: return "#" + n;
      default: return "phone: n/a";
    }
  }

  std::string international() {
    const auto n = plausible_national();
    switch (next(10)) {
      case 0: return "001 " + n;
      case 1: return "011 1 " + n;
      case 2: return "+44 20 7946 " + digits(next(10'000), 4);
      case 3: return "020 7946 " + digits(next(10'000), 4);
      case 4: return "0044 20 7946" + digits(next(10'000), 4);
      case 5: return "+ 1 " + n;
      case 6: return "++1 " + n;
      case 7: return "+" + n;
      case 8: return "+11 " + n;
      default: return "(+1) " + n;
    }
  }

  std::string junk() {
    static const char alphabet[] = "0123456789012345678901234567890123456789 +-.()xX#*/;,abcT\t";
    std::string s;
    const auto len = next(24);
    for (std::uint64_t i = 0; i < len; ++i) {
      if (next(40) == 0)
        s += static_cast<char>(0x80 + next(0x80));  // stray non-ASCII bytes
      else
        s += alphabet[next(sizeof alphabet - 1)];
    }
    return s;
  }

  std::mt19937_64 rng_;
  std::vector<std::uint32_t> hot_;
};

struct Outcome {
  std::string e164;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

Outcome reference(const std::string& raw, const char* region) {
  Outcome o;
  o.e164 = phone_detail::normalize_reference(raw, region, &o.error);
  return o;
}

Outcome production(const std::string& raw, const char* region) {
  Outcome o;
  o.e164 = phone_detail::normalize(raw, region, &o.error);
  return o;
}

}  // namespace

TEST_CASE("fast path == libphonenumber on generated NANP and non-NANP inputs") {
  const auto n = case_count();
  Generator gen(0x6779'6d64'6173'6801ull);
  std::size_t handled = 0, fast_valid = 0, fast_invalid = 0, mismatches = 0;
  double fast_s = 0, reference_s = 0;
  using clock = std::chrono::steady_clock;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = gen.next_case();
    auto t0 = clock::now();
    const auto ref = reference(c.raw, c.region);
    auto t1 = clock::now();
    const auto got = production(c.raw, c.region);
    auto t2 = clock::now();
    reference_s += std::chrono::duration<double>(t1 - t0).count();
    fast_s += std::chrono::duration<double>(t2 - t1).count();

    std::string e164;
    switch (phone_detail::normalize_fast(c.raw, c.region, &e164)) {
      case FastResult::Valid: ++handled, ++fast_valid; break;
      case FastResult::Invalid: ++handled, ++fast_invalid; break;
      case FastResult::NotHandled: break;
    }
    if (!(got == ref)) {
      if (++mismatches <= 10) {
        CAPTURE(c.raw);
        CAPTURE(c.region);
        CHECK(got.e164 == ref.e164);
        CHECK(got.error == ref.error);
      }
    }
    if (i % 97 == 0) CHECK(try_normalize_phone(c.raw, c.region) ==
                           (ref.e164.empty() ? std::nullopt : std::optional<std::string>(ref.e164)));
  }
  MESSAGE("cases ", n, ", fast path took ", handled, " (", fast_valid, " valid, ", fast_invalid, " invalid); ",
          "reference ", reference_s, " s, production ", fast_s, " s");
  CHECK(mismatches == 0);
  // The generator must actually exercise both outcomes of the fast path and the fallback.
  CHECK(handled > n / 3);
  CHECK(fast_valid > n / 10);
  CHECK(fast_invalid > n / 20);
  CHECK(handled < n);
}

namespace {

// United Kingdom inputs: ten-digit national numbers from the ranges Ofcom
// allocates (and from none), written the ways people write them, with
// wrong lengths and the shapes the fast path leaves to libphonenumber.
class GbGenerator {
 public:
  explicit GbGenerator(std::uint64_t seed) : rng_(seed) {}

  std::string next_case() {
    const auto nsn = national();
    switch (next(20)) {
      case 0: return "+44 " + nsn.substr(0, 2) + " " + nsn.substr(2, 4) + " " + nsn.substr(6);
      case 1: return "+44" + nsn;
      case 2: return "0044 " + nsn.substr(0, 2) + " " + nsn.substr(2);
      case 3: return "0044" + nsn;
      case 4: return "(0" + nsn.substr(0, 2) + ") " + nsn.substr(2, 4) + " " + nsn.substr(6);
      case 5: return "0" + nsn.substr(0, 2) + " " + nsn.substr(2, 4) + " " + nsn.substr(6);
      case 6: return "0" + nsn.substr(0, 4) + " " + nsn.substr(4);
      case 7: return "0" + nsn;
      case 8: return "0" + nsn.substr(0, 3) + "-" + nsn.substr(3, 3) + "-" + nsn.substr(6);
      case 9: return " +44." + nsn.substr(0, 4) + "." + nsn.substr(4) + " ";
      case 10: return "+44 (0)" + nsn.substr(0, 2) + " " + nsn.substr(2);  // left to libphonenumber
      case 11: return "44 " + nsn;                                         // no plus
      case 12: return "0" + nsn.substr(0, 9);                              // nine digits
      case 13: return "+44 " + nsn.substr(0, 9);
      case 14: return "0" + nsn + digits(next(10), 1);  // eleven
      case 15: return "0044 " + nsn + digits(next(10), 1);
      case 16: return "00" + nsn;  // another international call
      case 17: return "+4 4" + nsn;
      case 18: return nsn;  // no prefix
      default: return "0" + nsn.substr(0, 2) + " " + nsn.substr(2) + " ext 12";
    }
  }

 private:
  std::uint64_t next(std::uint64_t bound) { return rng_() % bound; }

  std::string national() {
    // Leading digits of real ranges (geographic, mobile, non-geographic,
    // premium, personal, VoIP) and of none; the rest random.
    static const char* const starts[] = {"20",  "207", "208", "203", "121", "131", "141",  "161", "113", "1632",
                                         "1481", "7",  "77",  "7700", "74", "7911", "76",  "70",  "56",  "55",
                                         "800", "808", "845", "870", "90",  "91",  "98",   "30",  "33",  "37",
                                         "0",   "1",   "2",   "4",   "6",   "9",   "5",    "8",   "3",   ""};
    std::string n = starts[next(sizeof starts / sizeof *starts)];
    while (n.size() < 10) n += static_cast<char>('0' + next(10));
    return n;
  }

  std::mt19937_64 rng_;
};

}  // namespace

TEST_CASE("fast path == libphonenumber on generated United Kingdom inputs") {
  const auto n = case_count();
  GbGenerator gen(0x6762'6e75'6d62'6572ull);
  std::size_t fast_valid = 0, fast_invalid = 0, not_handled = 0, mismatches = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto raw = gen.next_case();
    const auto ref = reference(raw, "GB");
    const auto got = production(raw, "GB");
    std::string e164;
    switch (phone_detail::normalize_fast(raw, "GB", &e164)) {
      case FastResult::Valid: ++fast_valid; break;
      case FastResult::Invalid: ++fast_invalid; break;
      case FastResult::NotHandled: ++not_handled; break;
    }
    if (!(got == ref) && ++mismatches <= 10) {
      CAPTURE(raw);
      CHECK(got.e164 == ref.e164);
      CHECK(got.error == ref.error);
    }
  }
  MESSAGE("GB cases ", n, ": fast path valid ", fast_valid, ", invalid ", fast_invalid, ", left to libphonenumber ",
          not_handled);
  CHECK(mismatches == 0);
  CHECK(fast_valid > n / 10);
  CHECK(fast_invalid > n / 20);
  CHECK(not_handled > n / 10);
}

TEST_CASE("the data contract's formats and the fast path's edges") {
  struct Expect {
    const char* raw;
    const char* region;
    FastResult fast;
    const char* e164;  // "" when rejected
  };
  const Expect cases[] = {
      {"(212) 736-5000", "US", FastResult::Valid, "+12127365000"},
      {"212-736-5000", "US", FastResult::Valid, "+12127365000"},
      {"212.736.5000", "US", FastResult::Valid, "+12127365000"},
      {"2127365000", "US", FastResult::Valid, "+12127365000"},
      {"+1 212 736 5000", "US", FastResult::Valid, "+12127365000"},
      {"1-212-736-5000", "US", FastResult::Valid, "+12127365000"},
      {"+12127365000", "US", FastResult::Valid, "+12127365000"},
      {" 212 736 5000 ", "US", FastResult::Valid, "+12127365000"},
      {"(416) 555-0123", "CA", FastResult::Valid, "+14165550123"},
      {"+1 212 736 5000", "CA", FastResult::Invalid, ""},  // a New York number is not Canadian
      {"+1 212 736 5000", "GB", FastResult::Invalid, ""},
      {"212 736 5000", "GB", FastResult::NotHandled, ""},
      {"020 7946 0958", "GB", FastResult::Valid, "+442079460958"},
      {"0044 20 79460958", "GB", FastResult::Valid, "+442079460958"},
      {"+44 20 7946 0958", "GB", FastResult::Valid, "+442079460958"},
      {"(020) 7946-0958", "GB", FastResult::Valid, "+442079460958"},
      {"07400 123456", "GB", FastResult::Valid, "+447400123456"},
      {"+44 (0)20 7946 0958", "GB", FastResult::NotHandled, "+442079460958"},
      {"+44 40 1234 5678", "GB", FastResult::Invalid, ""},
      {"020 7946 095", "GB", FastResult::NotHandled, ""},
      {"44 20 7946 0958", "GB", FastResult::NotHandled, "+442079460958"},
      {"+ 44 20 7946 0958", "GB", FastResult::NotHandled, "+442079460958"},
      {"000 7946 0958", "GB", FastResult::NotHandled, ""},
      {"020 7946 0958", "IE", FastResult::NotHandled, ""},
      {"001 212 736 5000", "US", FastResult::NotHandled, ""},
      {"+44 20 7946 0958", "US", FastResult::NotHandled, ""},
      {"212-736-5000 x12", "US", FastResult::NotHandled, "+12127365000"},
      {"(012) 736-5000", "US", FastResult::NotHandled, ""},
      {"+1 (212) 555", "US", FastResult::NotHandled, ""},
      {"000-000-0000", "US", FastResult::NotHandled, ""},
      {"2127365000", "us", FastResult::NotHandled, ""},  // region codes are upper case to libphonenumber
      {"", "US", FastResult::NotHandled, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.raw);
    CAPTURE(c.region);
    std::string e164;
    CHECK(phone_detail::normalize_fast(c.raw, c.region, &e164) == c.fast);
    CHECK(production(c.raw, c.region) == reference(c.raw, c.region));
    CHECK(try_normalize_phone(c.raw, c.region).value_or("") == c.e164);
  }
}

TEST_CASE("the memo is safe under concurrent first sightings") {
  // Jamaica: a NANP region no other test touches, so every prefix is new here.
  // 4000 numbers over its 1000 exchanges: each prefix is met by several threads at once.
  std::vector<std::string> inputs;
  std::vector<Outcome> expected;
  for (std::uint64_t i = 0; i < 4000; ++i) {
    inputs.push_back("+1 " + digits(8'760'000'000ull + (i * 104'729u) % 10'000'000u, 10));
    expected.push_back(reference(inputs.back(), "JM"));
  }
  std::vector<std::size_t> wrong(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < wrong.size(); ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        const auto k = (i + t * 997) % inputs.size();  // each thread in another order
        if (!(production(inputs[k], "JM") == expected[k])) ++wrong[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (auto w : wrong) CHECK(w == 0);
}
