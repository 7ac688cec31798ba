// The storage conformance suite: one set of cases, instantiated for every
// backend. A backend is correct when it passes all of them unchanged.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <gymdash/error.hpp>
#include <gymdash/store.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"
#ifdef GYMDASH_TEST_WITH_POSTGRES
#include "postgres_backend.hpp"
#endif

namespace doctest {
template <>
struct StringMaker<gymdash::Timestamp> {
  static String convert(const gymdash::Timestamp& t) {
    return (std::to_string(t.time_since_epoch().count()) + "ms").c_str();
  }
};
template <>
struct StringMaker<std::optional<gymdash::Timestamp>> {
  static String convert(const std::optional<gymdash::Timestamp>& t) {
    return t ? StringMaker<gymdash::Timestamp>::convert(*t) : String("nullopt");
  }
};
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& v) {
    std::string out = "[";
    for (const auto& s : v) out += (out.size() > 1 ? ", " : "") + s;
    return (out + "]").c_str();
  }
};
}  // namespace doctest

namespace gymdash {
namespace {

using namespace std::string_literals;

// ---------------------------------------------------------------------------
// Backends under test
// ---------------------------------------------------------------------------

struct MemoryBackend {
  static constexpr std::string_view kName = "memory";
  std::unique_ptr<Store> open() { return make_memory_store(); }
};

struct SqliteBackend {
  static constexpr std::string_view kName = "sqlite";
  test::TempPath path{"store-conformance"};
  std::unique_ptr<Store> open() {
    SqliteOptions options;
    options.path = path.str();
    return make_sqlite_store(options);
  }
};

// Every backend, PostgreSQL included when the tests are built with it
// (tests/postgres_backend.hpp).
#ifdef GYMDASH_TEST_WITH_POSTGRES
using test::PostgresBackend;
#define GYMDASH_ALL_BACKENDS MemoryBackend, SqliteBackend, PostgresBackend
#else
#define GYMDASH_ALL_BACKENDS MemoryBackend, SqliteBackend
#endif

// The backend object outlives the store it opened (its temp file is removed last).
template <class Backend>
struct Fixture {
  Backend backend;
  std::unique_ptr<Store> store = backend.open();
  GymRepository& gyms() { return store->gyms(); }
  LeadRepository& leads() { return store->leads(); }
};

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

Timestamp at_ms(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }
constexpr std::int64_t kT0 = 1'760'000'000'000;  // 2025-10-09, a fixed "now"

Gym make_gym(std::string id) {
  Gym gym;
  gym.id = std::move(id);
  gym.name = "Iron Temple " + gym.id;
  gym.timezone = "America/New_York";
  gym.region = "US";
  gym.state = "NY";
  gym.call_hours = {8 * 60 + 30, 19 * 60 + 45};
  gym.call_days = kWeekdays;
  gym.caller_ids = {"+12125550100", "+12125550101"};
  gym.created_at = at_ms(kT0);
  gym.updated_at = at_ms(kT0 + 1);
  return gym;
}

// A lead with only the fields the listing tests care about.
Lead make_lead(std::string gym_id, std::string id, std::string phone, std::int64_t created_ms) {
  Lead lead;
  lead.id = std::move(id);
  lead.gym_id = std::move(gym_id);
  lead.phone = std::move(phone);
  lead.created_at = at_ms(created_ms);
  lead.updated_at = at_ms(created_ms);
  lead.version = 1;
  return lead;
}

// A lead with every field away from its default, including text that stresses
// the encoding: quotes, backslashes, newlines, non-ASCII, an embedded NUL.
Lead make_full_lead(std::string gym_id, std::string id, std::string phone) {
  Lead lead;
  lead.id = std::move(id);
  lead.gym_id = std::move(gym_id);
  lead.external_id = "hubspot:98765";
  lead.phone = std::move(phone);
  lead.first_name = "Zoë";
  lead.last_name = "O'Brien-Łukasz";
  lead.email = "zoe.obrien@example.org";
  lead.source = "facebook_ads";
  lead.interest = "personal training, \"strength\" \\ conditioning 🏋️";
  lead.timeline = "this week";
  lead.notes = "line one\nline two\ttabbed\0after nul"s;
  lead.tags = {"fb-oct", "vip", "\"quoted\"", "ünïcode"};
  lead.consent.given = true;
  lead.consent.at = at_ms(kT0 - 86'400'000);
  lead.consent.method = "web_form";
  lead.consent.source = "https://irontemple.example/join?utm=fb";
  lead.do_not_call = true;
  lead.phone_invalid = true;
  lead.status = LeadStatus::TrialBooked;
  lead.qualification = Qualification::Hot;
  lead.qualification_manual = true;
  lead.score = 87;
  lead.attempts = 3;
  lead.last_call_at = at_ms(kT0 + 3'600'000);
  lead.next_call_at = at_ms(kT0 + 7'200'123);
  lead.timezone = "America/Chicago";
  lead.custom_fields = {{"goal", "lose 10 kg"},
                        {"referred_by", "ld_friend"},
                        {"weird \"key\"", "value\nwith\\escapes"},
                        {"", "empty key"}};
  lead.created_at = at_ms(kT0 - 123);
  lead.updated_at = at_ms(kT0 + 456);
  lead.version = 7;
  return lead;
}

// Checks field by field first, so that a failure says which field broke.
void check_same(const Lead& got, const Lead& want) {
  CHECK(got.id == want.id);
  CHECK(got.gym_id == want.gym_id);
  CHECK(got.external_id == want.external_id);
  CHECK(got.phone == want.phone);
  CHECK(got.first_name == want.first_name);
  CHECK(got.last_name == want.last_name);
  CHECK(got.email == want.email);
  CHECK(got.source == want.source);
  CHECK(got.interest == want.interest);
  CHECK(got.timeline == want.timeline);
  CHECK(got.notes == want.notes);
  CHECK(got.tags == want.tags);
  CHECK(got.consent.given == want.consent.given);
  CHECK(got.consent.at == want.consent.at);
  CHECK(got.consent.method == want.consent.method);
  CHECK(got.consent.source == want.consent.source);
  CHECK(got.do_not_call == want.do_not_call);
  CHECK(got.phone_invalid == want.phone_invalid);
  CHECK(got.status == want.status);
  CHECK(got.qualification == want.qualification);
  CHECK(got.qualification_manual == want.qualification_manual);
  CHECK(got.score == want.score);
  CHECK(got.attempts == want.attempts);
  CHECK(got.last_call_at == want.last_call_at);
  CHECK(got.next_call_at == want.next_call_at);
  CHECK(got.timezone == want.timezone);
  CHECK((got.custom_fields == want.custom_fields));
  CHECK(got.created_at == want.created_at);
  CHECK(got.updated_at == want.updated_at);
  CHECK(got.version == want.version);
  CHECK(got == want);
}

// Runs `fn`, expecting error type E whose message contains every one of `parts`.
template <class E, class Fn>
void check_error(Fn&& fn, std::initializer_list<std::string_view> parts) {
  try {
    fn();
    FAIL("expected an exception");
  } catch (const E& e) {
    const std::string message = e.what();
    for (auto part : parts) {
      INFO("message: ", message);
      CHECK(message.find(part) != std::string::npos);
    }
  }
}

std::vector<std::string> ids_of(const LeadPage& page) {
  std::vector<std::string> ids;
  for (const auto& lead : page.items) ids.push_back(lead.id);
  return ids;
}

// ---------------------------------------------------------------------------
// Gyms
// ---------------------------------------------------------------------------

TEST_CASE_TEMPLATE("store: reports its backend", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  CHECK(f.store->backend() == B::kName);
  CHECK(f.store->schema_version() >= 0);
}

TEST_CASE_TEMPLATE("gyms: insert, find, list, update", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  CHECK(f.gyms().list().empty());
  CHECK_FALSE(f.gyms().find("gym-nyc-01"));

  const Gym nyc = make_gym("gym-nyc-01");
  f.gyms().insert(nyc);
  auto found = f.gyms().find("gym-nyc-01");
  REQUIRE(found);
  CHECK(*found == nyc);

  SUBCASE("a default gym round-trips too") {
    Gym plain;
    plain.id = "gym_plain";
    f.gyms().insert(plain);
    CHECK(f.gyms().find("gym_plain") == plain);
  }
  SUBCASE("duplicate id") {
    Gym again = make_gym("gym-nyc-01");
    again.name = "Impostor";
    check_error<AlreadyExistsError>([&] { f.gyms().insert(again); }, {"gym-nyc-01"});
    CHECK(f.gyms().find("gym-nyc-01")->name == nyc.name);
  }
  SUBCASE("list is ordered by id") {
    f.gyms().insert(make_gym("gym-mia-02"));
    f.gyms().insert(make_gym("gym-bos-03"));
    auto all = f.gyms().list();
    REQUIRE(all.size() == 3);
    CHECK(all[0].id == "gym-bos-03");
    CHECK(all[1].id == "gym-mia-02");
    CHECK(all[2] == nyc);
  }
  SUBCASE("update replaces every field") {
    Gym changed = nyc;
    changed.name = "Iron Temple Midtown";
    changed.timezone = "America/Los_Angeles";
    changed.region = "CA";
    changed.state = "";
    changed.call_hours = {10 * 60, 18 * 60};
    changed.call_days = 0x41;
    changed.caller_ids = {};
    changed.updated_at = at_ms(kT0 + 99);
    f.gyms().update(changed);
    CHECK(f.gyms().find("gym-nyc-01") == changed);
  }
  SUBCASE("update of a missing gym") {
    check_error<NotFoundError>([&] { f.gyms().update(make_gym("gym-nowhere")); }, {"gym-nowhere"});
    CHECK_FALSE(f.gyms().find("gym-nowhere"));
  }
}

// ---------------------------------------------------------------------------
// Leads: insert, find, errors
// ---------------------------------------------------------------------------

TEST_CASE_TEMPLATE("leads: every field round-trips", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));

  SUBCASE("all fields set") {
    const Lead lead = make_full_lead("gym-a", "ld_full", "+12125550123");
    f.leads().insert(lead);
    auto found = f.leads().find("gym-a", "ld_full");
    REQUIRE(found);
    check_same(*found, lead);
    auto by_phone = f.leads().find_by_phone("gym-a", "+12125550123");
    REQUIRE(by_phone);
    check_same(*by_phone, lead);
  }
  SUBCASE("all fields at their defaults") {
    Lead lead;
    lead.id = "ld_plain";
    lead.gym_id = "gym-a";
    lead.phone = "+12125550124";
    f.leads().insert(lead);
    auto found = f.leads().find("gym-a", "ld_plain");
    REQUIRE(found);
    check_same(*found, lead);
    CHECK_FALSE(found->consent.at);
    CHECK_FALSE(found->last_call_at);
  }
  SUBCASE("extreme values") {
    Lead lead = make_full_lead("gym-a", "ld_extreme", "+12125550125");
    lead.created_at = at_ms(-1'234'567);  // before 1970
    lead.consent.at = at_ms(0);           // the epoch itself is a value, not "absent"
    lead.version = std::numeric_limits<std::int64_t>::max();
    lead.score = -5;
    lead.attempts = std::numeric_limits<int>::max();
    lead.status = LeadStatus::Lost;
    lead.qualification = Qualification::Cold;
    lead.tags = {};
    lead.custom_fields = {};
    lead.notes = std::string(20'000, 'x');
    lead.email = "bad-\xff\xfe-utf8";  // stored byte for byte
    lead.tags = {"\xc3\x28"};
    f.leads().insert(lead);
    auto found = f.leads().find("gym-a", "ld_extreme");
    REQUIRE(found);
    check_same(*found, lead);
  }
  SUBCASE("every status and qualification") {
    int n = 0;
    for (auto status : {LeadStatus::New, LeadStatus::Contacted, LeadStatus::Qualified,
                        LeadStatus::TrialBooked, LeadStatus::Converted, LeadStatus::Lost}) {
      for (auto q : {Qualification::Hot, Qualification::Neutral, Qualification::Cold}) {
        Lead lead = make_lead("gym-a", "ld_e" + std::to_string(n),
                              "+1212555" + std::to_string(1000 + n), kT0);
        lead.status = status;
        lead.qualification = q;
        f.leads().insert(lead);
        CHECK(f.leads().find("gym-a", lead.id) == lead);
        ++n;
      }
    }
  }
}

TEST_CASE_TEMPLATE("leads: insert conflicts", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  f.gyms().insert(make_gym("gym-b"));
  const Lead first = make_full_lead("gym-a", "ld_1", "+12125550001");
  f.leads().insert(first);

  SUBCASE("same phone in the same gym") {
    Lead twin = make_lead("gym-a", "ld_2", "+12125550001", kT0);
    try {
      f.leads().insert(twin);
      FAIL("expected AlreadyExistsError");
    } catch (const AlreadyExistsError& e) {
      CHECK(e.field() == "phone");
      CHECK(std::string(e.what()).find("ld_1") != std::string::npos);  // who has it
      CHECK(std::string(e.what()).find("ld_2") != std::string::npos);  // who wanted it
      // The number, as every error text quotes one: its last four digits (docs/hardening.md).
      CHECK(std::string(e.what()).find("***0001") != std::string::npos);
      CHECK(std::string(e.what()).find("+12125550001") == std::string::npos);
    }
    CHECK_FALSE(f.leads().find("gym-a", "ld_2"));
    check_same(*f.leads().find_by_phone("gym-a", "+12125550001"), first);
  }
  SUBCASE("same phone in another gym is another person") {
    Lead other = make_lead("gym-b", "ld_2", "+12125550001", kT0);
    f.leads().insert(other);
    CHECK(f.leads().find("gym-b", "ld_2") == other);
    CHECK(f.leads().find_by_phone("gym-b", "+12125550001") == other);
    check_same(*f.leads().find_by_phone("gym-a", "+12125550001"), first);
  }
  SUBCASE("same id in the same gym") {
    Lead again = make_lead("gym-a", "ld_1", "+12125550002", kT0);
    check_error<AlreadyExistsError>([&] { f.leads().insert(again); }, {"ld_1"});
    CHECK_FALSE(f.leads().find_by_phone("gym-a", "+12125550002"));
    check_same(*f.leads().find("gym-a", "ld_1"), first);
  }
  SUBCASE("same id in another gym") {
    Lead again = make_lead("gym-b", "ld_1", "+12125550002", kT0);
    check_error<AlreadyExistsError>([&] { f.leads().insert(again); }, {"ld_1"});
    CHECK_FALSE(f.leads().find("gym-b", "ld_1"));
  }
  SUBCASE("unknown gym") {
    Lead stray = make_lead("gym-nowhere", "ld_9", "+12125550009", kT0);
    try {
      f.leads().insert(stray);
      FAIL("expected NotFoundError");
    } catch (const NotFoundError& e) {
      CHECK(e.field() == "gym_id");
      CHECK(std::string(e.what()).find("gym-nowhere") != std::string::npos);
    }
    CHECK_FALSE(f.leads().find("gym-nowhere", "ld_9"));
  }
  SUBCASE("a failed insert leaves no tags behind") {
    Lead twin = make_lead("gym-a", "ld_2", "+12125550001", kT0);
    twin.tags = {"only-on-the-twin"};
    CHECK_THROWS_AS(f.leads().insert(twin), AlreadyExistsError);
    LeadFilter filter;
    filter.tags = {"only-on-the-twin"};
    CHECK(f.leads().list("gym-a", filter).total == 0);
  }
}

// `padding` new leads (distinct numbers, a tag repeated within each lead,
// two calling-window groups), appended to a batch: a batch of 1,000 leads
// and more takes the PostgreSQL backend's COPY path, a smaller one its
// INSERT … SELECT; both must store the same.
std::vector<Lead> padded(std::vector<Lead> batch, std::size_t padding, const std::string& id_prefix) {
  for (std::size_t k = 0; k < padding; ++k) {
    Lead l = make_lead("gym-a", id_prefix + std::to_string(k), "+1312555" + std::to_string(1000 + k), kT0);
    l.tags = {"pad", "pad-" + std::to_string(k % 3), "pad"};
    l.local_zone = k % 2 ? "America/Chicago" : "America/New_York";
    l.local_state = k % 2 ? "IL" : "NY";
    batch.push_back(std::move(l));
  }
  return batch;
}

template <class B>
void check_insert_many(std::size_t padding) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  f.gyms().insert(make_gym("gym-b"));
  const Lead known = make_lead("gym-a", "ld_known", "+12125550000", kT0);
  f.leads().insert(known);
  CHECK(f.leads().insert_many_if_absent({}).empty());

  Lead full = make_full_lead("gym-a", "ld_1", "+12125550001");
  full.tags = {"batch-x", "batch-y"};
  full.local_zone = "America/New_York";
  full.local_state = "NY";
  Lead taken = make_lead("gym-a", "ld_2", "+12125550000", kT0);      // the known lead's number
  Lead twin = make_lead("gym-a", "ld_3", "+12125550001", kT0);       // ld_1's number, later in the batch
  Lead elsewhere = make_lead("gym-b", "ld_4", "+12125550001", kT0);  // the same number in another gym
  Lead odd = make_full_lead("gym-a", "ld_5", "+12125550005");
  odd.first_name = "Tab\there, back\\slash, new\nline, \rreturn, \\N";  // COPY's special characters
  odd.email = "bad-\xff\xfe-utf8";
  odd.notes = "\x1bgymdash-hex:looks escaped";
  odd.tags = {"a\tb", "back\\slash"};
  odd.consent.at.reset();
  odd.last_call_at.reset();
  const std::vector<Lead> batch = padded({full, taken, twin, elsewhere, odd}, padding, "ld_pad_");
  const auto stored = f.leads().insert_many_if_absent(batch);
  REQUIRE(stored.size() == batch.size());
  CHECK((std::vector<bool>(stored.begin(), stored.begin() + 5) == std::vector<bool>{true, false, false, true, true}));
  CHECK(std::count(stored.begin() + 5, stored.end(), true) == static_cast<std::ptrdiff_t>(padding));
  if (padding > 0) {
    check_same(*f.leads().find("gym-a", "ld_pad_0"), batch[5]);
    check_same(*f.leads().find("gym-a", "ld_pad_" + std::to_string(padding - 1)), batch.back());
    LeadFilter pads;
    pads.tags = {"pad"};
    pads.page_size = 10;
    CHECK(f.leads().list("gym-a", pads).total == static_cast<std::int64_t>(padding));  // each lead once
    pads.tags = {"pad", "pad-1"};
    CHECK(f.leads().list("gym-a", pads).total == static_cast<std::int64_t>((padding + 1) / 3));
    const auto groups = f.leads().dial_groups("gym-a");
    CHECK(std::find(groups.begin(), groups.end(), std::make_pair(std::string("America/Chicago"), std::string("IL"))) !=
          groups.end());
  }
  check_same(*f.leads().find("gym-a", "ld_1"), full);
  check_same(*f.leads().find("gym-a", "ld_5"), odd);
  check_same(*f.leads().find("gym-b", "ld_4"), elsewhere);
  check_same(*f.leads().find_by_phone("gym-a", "+12125550000"), known);
  CHECK_FALSE(f.leads().find("gym-a", "ld_2"));
  CHECK_FALSE(f.leads().find("gym-a", "ld_3"));
  LeadFilter filter;
  filter.tags = {"batch-y"};
  CHECK(ids_of(f.leads().list("gym-a", filter)) == std::vector<std::string>{"ld_1"});
  filter.tags = {"a\tb"};
  CHECK(ids_of(f.leads().list("gym-a", filter)) == std::vector<std::string>{"ld_5"});
  const auto groups = f.leads().dial_groups("gym-a");
  CHECK(std::find(groups.begin(), groups.end(), std::make_pair(full.local_zone, full.local_state)) != groups.end());

  // The same batch again stores nothing.
  CHECK((f.leads().insert_many_if_absent(batch) == std::vector<bool>(batch.size(), false)));

  SUBCASE("an unknown gym fails the batch as insert_if_absent fails") {
    // Fresh numbers for the padding: only the unknown gym refuses the batch.
    const std::vector<Lead> bad = [&] {
      auto b = padded({make_lead("gym-a", "ld_6", "+12125550006", kT0)}, padding, "ld_more_");
      for (auto& l : b) l.phone[4] = '4';
      b.push_back(make_lead("gym-nowhere", "ld_7", "+12125550007", kT0));
      return b;
    }();
    try {
      f.store->transact([&] { f.leads().insert_many_if_absent(bad); });
      FAIL("expected NotFoundError");
    } catch (const NotFoundError& e) {
      CHECK(e.field() == "gym_id");
      CHECK(std::string(e.what()).find("gym-nowhere") != std::string::npos);
    }
    CHECK_FALSE(f.leads().find("gym-a", "ld_6"));  // rolled back with the batch
  }
  SUBCASE("a taken id fails the batch") {
    const std::vector<Lead> bad = [&] {
      auto b = padded({make_lead("gym-a", "ld_6", "+12125550006", kT0)}, padding, "ld_more_");
      for (auto& l : b) l.phone[4] = '4';
      b.push_back(make_lead("gym-b", "ld_known", "+12125550008", kT0));
      return b;
    }();
    try {
      f.store->transact([&] { f.leads().insert_many_if_absent(bad); });
      FAIL("expected AlreadyExistsError");
    } catch (const AlreadyExistsError& e) {
      CHECK(e.field() == "id");
    }
    CHECK_FALSE(f.leads().find("gym-a", "ld_6"));
    CHECK_FALSE(f.leads().find_by_phone("gym-b", "+12125550008"));
    if (padding > 0) CHECK_FALSE(f.leads().find("gym-a", "ld_more_0"));
  }
}

TEST_CASE_TEMPLATE("leads: insert_many_if_absent stores a batch as insert_if_absent would", B,
                   GYMDASH_ALL_BACKENDS) {
  check_insert_many<B>(0);
}

TEST_CASE_TEMPLATE("leads: insert_many_if_absent stores a batch of 1,200 as insert_if_absent would", B,
                   GYMDASH_ALL_BACKENDS) {
  check_insert_many<B>(1200);
}

TEST_CASE_TEMPLATE("leads: every read and write is scoped to its gym", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  f.gyms().insert(make_gym("gym-b"));
  Lead lead = make_full_lead("gym-a", "ld_a", "+12125550001");
  f.leads().insert(lead);
  f.leads().append_history("gym-a",
                           LeadEvent{0, "ld_a", at_ms(kT0), "created", "", "new", "api", ""});

  CHECK_FALSE(f.leads().find("gym-b", "ld_a"));
  CHECK_FALSE(f.leads().find_by_phone("gym-b", "+12125550001"));
  CHECK(f.leads().history("gym-b", "ld_a").empty());
  CHECK(f.leads().list("gym-b", LeadFilter{}).total == 0);
  CHECK_FALSE(f.leads().remove("gym-b", "ld_a"));
  check_error<NotFoundError>(
      [&] {
        f.leads().append_history("gym-b",
                                 LeadEvent{0, "ld_a", at_ms(kT0), "note", "", "x", "api", ""});
      },
      {"ld_a", "gym-b"});
  Lead moved = lead;
  moved.gym_id = "gym-b";
  moved.version = lead.version + 1;
  check_error<NotFoundError>([&] { f.leads().update(moved); }, {"ld_a", "gym-b"});

  // Nothing of the above touched gym A's lead.
  check_same(*f.leads().find("gym-a", "ld_a"), lead);
  CHECK(f.leads().history("gym-a", "ld_a").size() == 1);
}

// ---------------------------------------------------------------------------
// Leads: update and remove
// ---------------------------------------------------------------------------

TEST_CASE_TEMPLATE("leads: update with optimistic versions", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  const Lead original = make_full_lead("gym-a", "ld_1", "+12125550001");
  f.leads().insert(original);
  f.leads().insert(make_lead("gym-a", "ld_2", "+12125550002", kT0));

  SUBCASE("next version replaces every field") {
    Lead next = original;
    next.version = original.version + 1;
    next.first_name = "Zoe";
    next.external_id = "";
    next.tags = {"renewed"};
    next.consent = Consent{};
    next.do_not_call = false;
    next.status = LeadStatus::Converted;
    next.qualification = Qualification::Cold;
    next.last_call_at.reset();
    next.next_call_at = at_ms(kT0 + 1);
    next.custom_fields = {{"goal", "marathon"}};
    next.updated_at = at_ms(kT0 + 1000);
    f.leads().update(next);
    check_same(*f.leads().find("gym-a", "ld_1"), next);

    // The tag index follows the lead's tags.
    LeadFilter old_tag;
    old_tag.tags = {"vip"};
    CHECK(f.leads().list("gym-a", old_tag).total == 0);
    LeadFilter new_tag;
    new_tag.tags = {"renewed"};
    CHECK(ids_of(f.leads().list("gym-a", new_tag)) == std::vector<std::string>{"ld_1"});

    SUBCASE("and the one after that") {
      Lead third = next;
      third.version = next.version + 1;
      third.score = 1;
      f.leads().update(third);
      CHECK(f.leads().find("gym-a", "ld_1") == third);
    }
  }
  SUBCASE("a stale version is a conflict") {
    Lead stale = original;
    stale.first_name = "Lost update";
    check_error<ConflictError>([&] { f.leads().update(stale); }, {"ld_1", "version"});
    stale.version = original.version + 2;
    check_error<ConflictError>([&] { f.leads().update(stale); }, {"ld_1"});
    stale.version = original.version - 1;
    CHECK_THROWS_AS(f.leads().update(stale), ConflictError);
    check_same(*f.leads().find("gym-a", "ld_1"), original);
  }
  SUBCASE("two writers from the same version: the second loses") {
    Lead a = original;
    Lead b = original;
    a.version = b.version = original.version + 1;
    a.notes = "writer a";
    b.notes = "writer b";
    f.leads().update(a);
    CHECK_THROWS_AS(f.leads().update(b), ConflictError);
    CHECK(f.leads().find("gym-a", "ld_1")->notes == "writer a");
  }
  SUBCASE("a missing lead") {
    Lead ghost = make_lead("gym-a", "ld_ghost", "+12125550099", kT0);
    ghost.version = 2;
    check_error<NotFoundError>([&] { f.leads().update(ghost); }, {"ld_ghost"});
    CHECK_FALSE(f.leads().find("gym-a", "ld_ghost"));
  }
  SUBCASE("moving to another lead's phone") {
    Lead next = original;
    next.version = original.version + 1;
    next.phone = "+12125550002";
    try {
      f.leads().update(next);
      FAIL("expected AlreadyExistsError");
    } catch (const AlreadyExistsError& e) {
      CHECK(e.field() == "phone");
      CHECK(std::string(e.what()).find("ld_2") != std::string::npos);
    }
    check_same(*f.leads().find("gym-a", "ld_1"), original);
  }
  SUBCASE("moving to a free phone frees the old one") {
    Lead next = original;
    next.version = original.version + 1;
    next.phone = "+12125550003";
    f.leads().update(next);
    CHECK_FALSE(f.leads().find_by_phone("gym-a", "+12125550001"));
    CHECK(f.leads().find_by_phone("gym-a", "+12125550003") == next);
    f.leads().insert(make_lead("gym-a", "ld_3", "+12125550001", kT0));
    CHECK(f.leads().find_by_phone("gym-a", "+12125550001")->id == "ld_3");
  }
}

// update_many with each lead's stored version one below its own.
template <class F>
void update_many(F& f, std::span<const Lead> leads) {
  std::vector<std::int64_t> stored;
  for (const auto& l : leads) stored.push_back(l.version - 1);
  f.leads().update_many(leads, stored);
}

TEST_CASE_TEMPLATE("leads: update_many writes a batch as update would", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  std::vector<Lead> stored;
  for (int i = 1; i <= 4; ++i) {
    stored.push_back(make_full_lead("gym-a", "ld_" + std::to_string(i), "+1212555000" + std::to_string(i)));
    f.leads().insert(stored.back());
  }
  std::vector<Lead> next;
  for (int i = 0; i < 3; ++i) {
    Lead l = stored[static_cast<std::size_t>(i)];
    l.version += 1;
    l.first_name = "Merged " + std::to_string(i);
    l.tags = {"renewed", "vip"};
    l.do_not_call = i == 1;
    l.custom_fields["goal"] = "marathon";
    l.updated_at = at_ms(kT0 + 1000 + i);
    next.push_back(l);
  }
  f.store->transact([&] { update_many(f, next); });
  for (const auto& l : next) check_same(*f.leads().find("gym-a", l.id), l);
  check_same(*f.leads().find("gym-a", "ld_4"), stored[3]);
  LeadFilter renewed;
  renewed.tags = {"renewed"};
  auto tagged = ids_of(f.leads().list("gym-a", renewed));
  std::sort(tagged.begin(), tagged.end());
  CHECK(tagged == std::vector<std::string>{"ld_1", "ld_2", "ld_3"});
  update_many(f, {});
  CHECK_THROWS_AS(f.leads().update_many(next, std::vector<std::int64_t>{1}), InvalidArgumentError);

  SUBCASE("a stale version: ConflictError, and nothing of the batch stays") {
    std::vector<Lead> stale = next;
    for (auto& l : stale) {
      l.version += 1;
      l.notes = "lost";
    }
    stale[1].version += 5;
    CHECK_THROWS_AS(f.store->transact([&] { update_many(f, stale); }), ConflictError);
    for (const auto& l : next) check_same(*f.leads().find("gym-a", l.id), l);
  }
  SUBCASE("a lead that is gone: NotFoundError") {
    std::vector<Lead> batch{next[0], make_lead("gym-a", "ld_ghost", "+12125550099", kT0)};
    batch[0].version += 1;
    batch[1].version = 2;
    CHECK_THROWS_AS(f.store->transact([&] { update_many(f, batch); }), NotFoundError);
    check_same(*f.leads().find("gym-a", "ld_1"), next[0]);
  }
  SUBCASE("two leads trading numbers: the first meets the other's number, as with update") {
    std::vector<Lead> swap{next[0], next[1]};
    for (auto& l : swap) l.version += 1;
    std::swap(swap[0].phone, swap[1].phone);
    try {
      f.store->transact([&] { update_many(f, swap); });
      FAIL("expected AlreadyExistsError");
    } catch (const AlreadyExistsError& e) {
      CHECK(e.field() == "phone");
    }
    check_same(*f.leads().find("gym-a", "ld_1"), next[0]);
    check_same(*f.leads().find("gym-a", "ld_2"), next[1]);
  }
  SUBCASE("several changes of a lead folded into one write") {
    std::vector<Lead> folded{next[0], next[1]};
    folded[0].version += 3;  // three changes since it was stored
    folded[0].notes = "merged three times";
    folded[1].version += 1;
    const std::vector<std::int64_t> stored_versions{next[0].version, next[1].version};
    f.store->transact([&] { f.leads().update_many(folded, stored_versions); });
    check_same(*f.leads().find("gym-a", "ld_1"), folded[0]);
    check_same(*f.leads().find("gym-a", "ld_2"), folded[1]);
    // From a version that is not the stored one: ConflictError, nothing written.
    std::vector<Lead> stale = folded;
    stale[0].version += 2;
    stale[0].notes = "lost";
    stale[1].version += 1;
    stale[1].notes = "lost";
    CHECK_THROWS_AS(f.store->transact([&] {
      f.leads().update_many(stale, std::vector<std::int64_t>{next[0].version, folded[1].version});
    }),
                    ConflictError);
    check_same(*f.leads().find("gym-a", "ld_1"), folded[0]);
    check_same(*f.leads().find("gym-a", "ld_2"), folded[1]);
    // A stored version not below the lead's own: InvalidArgumentError.
    CHECK_THROWS_AS(f.leads().update_many(stale, std::vector<std::int64_t>{stale[0].version, folded[1].version}),
                    InvalidArgumentError);
  }
  SUBCASE("a move to a free number frees the old one") {
    std::vector<Lead> moved{next[0], next[2]};
    for (auto& l : moved) l.version += 1;
    moved[0].phone = "+12125550009";
    f.store->transact([&] { update_many(f, moved); });
    CHECK_FALSE(f.leads().find_by_phone("gym-a", "+12125550001"));
    CHECK(f.leads().find_by_phone("gym-a", "+12125550009")->id == "ld_1");
    check_same(*f.leads().find("gym-a", "ld_3"), moved[1]);
  }
}

TEST_CASE_TEMPLATE("leads: remove takes the history and tags along", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  Lead lead = make_full_lead("gym-a", "ld_1", "+12125550001");
  f.leads().insert(lead);
  f.leads().insert(make_lead("gym-a", "ld_2", "+12125550002", kT0));
  f.leads().append_history("gym-a",
                           LeadEvent{0, "ld_1", at_ms(kT0), "created", "", "new", "api", ""});
  f.leads().append_history("gym-a",
                           LeadEvent{0, "ld_2", at_ms(kT0), "created", "", "new", "api", ""});

  CHECK(f.leads().remove("gym-a", "ld_1"));
  CHECK_FALSE(f.leads().find("gym-a", "ld_1"));
  CHECK_FALSE(f.leads().find_by_phone("gym-a", "+12125550001"));
  CHECK(f.leads().history("gym-a", "ld_1").empty());
  CHECK_FALSE(f.leads().remove("gym-a", "ld_1"));
  CHECK_FALSE(f.leads().remove("gym-a", "ld_never"));
  LeadFilter vip;
  vip.tags = {"vip"};
  CHECK(f.leads().list("gym-a", vip).total == 0);
  CHECK(f.leads().list("gym-a", LeadFilter{}).total == 1);
  // The other lead keeps its history.
  CHECK(f.leads().history("gym-a", "ld_2").size() == 1);

  // The id and the phone are free again, and the new lead starts with no history.
  f.leads().insert(lead);
  check_same(*f.leads().find("gym-a", "ld_1"), lead);
  CHECK(f.leads().history("gym-a", "ld_1").empty());
  CHECK(f.leads().list("gym-a", vip).total == 1);
}

// ---------------------------------------------------------------------------
// Leads: list
// ---------------------------------------------------------------------------

// Nine leads of gym-a (and one of gym-b) with known fields, created one
// minute apart except ld_e/ld_f, which share a creation time.
template <class B>
struct ListFixture : Fixture<B> {
  ListFixture() {
    this->gyms().insert(make_gym("gym-a"));
    this->gyms().insert(make_gym("gym-b"));
    add("ld_a", "+12125550001", 0, LeadStatus::New, Qualification::Hot, {"fb", "vip"},
        "facebook_ads", "Alice", "Smith", "alice@example.org");
    add("ld_b", "+12125550002", 1, LeadStatus::Contacted, Qualification::Neutral, {"fb"},
        "facebook_ads", "Bob", "Jones", "BOB.JONES@Example.ORG");
    add("ld_c", "+13055550003", 2, LeadStatus::Qualified, Qualification::Cold, {"vip"},
        "google_ads", "Carol", "Smithers", "carol@mail.test");
    add("ld_d", "+13055550004", 3, LeadStatus::TrialBooked, Qualification::Hot,
        {"fb", "promo", "vip"}, "referral", "Dan", "O'Neil", "");
    add("ld_e", "+14155550005", 4, LeadStatus::Lost, Qualification::Neutral, {}, "walk_in", "Eve",
        "Adams", "eve%50@percent.test");
    add("ld_f", "+14155550006", 4, LeadStatus::Converted, Qualification::Hot, {"promo"}, "walk_in",
        "FRANK", "ALICEA", "frank@example.org");
    add("ld_g", "+14155550007", 5, LeadStatus::New, Qualification::Cold, {"vip"}, "web_form", "",
        "", "");
    add("ld_h", "+14155550008", 6, LeadStatus::New, Qualification::Neutral, {"fb"}, "web_form",
        "Heidi", "Klum", "heidi_k@example.org");
    add("ld_i", "+14155550009", 7, LeadStatus::Contacted, Qualification::Hot, {"fb", "vip"},
        "facebook_ads", "Ivan", "Smith", "ivan@example.org");
    Lead other = make_lead("gym-b", "ld_z", "+12125550001", kT0);
    other.first_name = "Alice";
    other.tags = {"fb", "vip"};
    this->leads().insert(other);
  }

  void add(std::string id, std::string phone, int minute, LeadStatus status, Qualification q,
           std::vector<std::string> tags, std::string source, std::string first, std::string last,
           std::string email) {
    Lead lead = make_lead("gym-a", std::move(id), std::move(phone), kT0 + minute * 60'000);
    lead.status = status;
    lead.qualification = q;
    lead.tags = std::move(tags);
    lead.source = std::move(source);
    lead.first_name = std::move(first);
    lead.last_name = std::move(last);
    lead.email = std::move(email);
    this->leads().insert(lead);
  }

  std::vector<std::string> ids(const LeadFilter& filter) {
    auto page = this->leads().list("gym-a", filter);
    CHECK(page.total == static_cast<std::int64_t>(page.items.size()));
    return ids_of(page);
  }
};

using Ids = std::vector<std::string>;

TEST_CASE_TEMPLATE("leads: list filters", B, GYMDASH_ALL_BACKENDS) {
  ListFixture<B> f;
  LeadFilter filter;

  SUBCASE("no filter: the whole gym, newest first, ties by id descending") {
    CHECK(f.ids(filter) ==
          Ids{"ld_i", "ld_h", "ld_g", "ld_f", "ld_e", "ld_d", "ld_c", "ld_b", "ld_a"});
  }
  SUBCASE("items are whole leads") {
    auto page = f.leads().list("gym-a", filter);
    REQUIRE(page.items.size() == 9);
    CHECK(page.items.back() == *f.leads().find("gym-a", "ld_a"));
  }
  SUBCASE("statuses: any of") {
    filter.statuses = {LeadStatus::New};
    CHECK(f.ids(filter) == Ids{"ld_h", "ld_g", "ld_a"});
    filter.statuses = {LeadStatus::Contacted, LeadStatus::Lost, LeadStatus::Contacted};
    CHECK(f.ids(filter) == Ids{"ld_i", "ld_e", "ld_b"});
  }
  SUBCASE("qualifications: any of") {
    filter.qualifications = {Qualification::Cold};
    CHECK(f.ids(filter) == Ids{"ld_g", "ld_c"});
    filter.qualifications = {Qualification::Hot, Qualification::Cold};
    CHECK(f.ids(filter) == Ids{"ld_i", "ld_g", "ld_f", "ld_d", "ld_c", "ld_a"});
  }
  SUBCASE("tags: all of") {
    filter.tags = {"vip"};
    CHECK(f.ids(filter) == Ids{"ld_i", "ld_g", "ld_d", "ld_c", "ld_a"});
    filter.tags = {"fb", "vip"};
    CHECK(f.ids(filter) == Ids{"ld_i", "ld_d", "ld_a"});
    filter.tags = {"fb", "promo", "vip"};
    CHECK(f.ids(filter) == Ids{"ld_d"});
    filter.tags = {"vip", "fb", "vip"};  // order and repeats do not matter
    CHECK(f.ids(filter) == Ids{"ld_i", "ld_d", "ld_a"});
    filter.tags = {"fb", "nobody-has-this"};
    CHECK(f.ids(filter).empty());
    filter.tags = {"FB"};  // tags are exact
    CHECK(f.ids(filter).empty());
  }
  SUBCASE("source: exact") {
    filter.source = "walk_in";
    CHECK(f.ids(filter) == Ids{"ld_f", "ld_e"});
    filter.source = "walk";
    CHECK(f.ids(filter).empty());
  }
  SUBCASE("created range: from inclusive, to exclusive") {
    filter.created_from = at_ms(kT0 + 2 * 60'000);
    filter.created_to = at_ms(kT0 + 5 * 60'000);
    CHECK(f.ids(filter) == Ids{"ld_f", "ld_e", "ld_d", "ld_c"});
    filter.created_to.reset();
    CHECK(f.ids(filter) == Ids{"ld_i", "ld_h", "ld_g", "ld_f", "ld_e", "ld_d", "ld_c"});
    filter.created_from.reset();
    filter.created_to = at_ms(kT0 + 1 * 60'000);
    CHECK(f.ids(filter) == Ids{"ld_a"});
    filter.created_from = at_ms(kT0 + 4 * 60'000);
    filter.created_to = at_ms(kT0 + 4 * 60'000);
    CHECK(f.ids(filter).empty());
  }
  SUBCASE("search: names, full name, phone, email; case-insensitive") {
    filter.search = "smith";
    CHECK(f.ids(filter) == Ids{"ld_i", "ld_c", "ld_a"});
    filter.search = "ALICE";  // first name, a last name containing it, an email
    CHECK(f.ids(filter) == Ids{"ld_f", "ld_a"});
    filter.search = "alice smith";
    CHECK(f.ids(filter) == Ids{"ld_a"});
    filter.search = "n O'n";  // across the space between first and last name
    CHECK(f.ids(filter) == Ids{"ld_d"});
    filter.search = "5550005";
    CHECK(f.ids(filter) == Ids{"ld_e"});
    filter.search = "+1305";
    CHECK(f.ids(filter) == Ids{"ld_d", "ld_c"});
    filter.search = "bob.jones@example.org";
    CHECK(f.ids(filter) == Ids{"ld_b"});
    filter.search = "EXAMPLE.org";
    CHECK(f.ids(filter) == Ids{"ld_i", "ld_h", "ld_f", "ld_b", "ld_a"});
  }
  SUBCASE("search: wildcard characters are plain text") {
    filter.search = "%";
    CHECK(f.ids(filter) == Ids{"ld_e"});
    filter.search = "_";
    CHECK(f.ids(filter) == Ids{"ld_h"});
    filter.search = "a%b";
    CHECK(f.ids(filter).empty());
  }
  SUBCASE("filters combine with AND") {
    filter.statuses = {LeadStatus::New, LeadStatus::Contacted};
    filter.tags = {"fb"};
    filter.source = "facebook_ads";
    filter.search = "i";
    CHECK(f.ids(filter) == Ids{"ld_i", "ld_a"});
    filter.qualifications = {Qualification::Neutral};
    CHECK(f.ids(filter).empty());
  }
  SUBCASE("another gym's leads never show") {
    filter.search = "alice";
    auto page = f.leads().list("gym-b", filter);
    CHECK(ids_of(page) == Ids{"ld_z"});
    CHECK(f.leads().list("gym-nowhere", LeadFilter{}).total == 0);
  }
}

TEST_CASE_TEMPLATE("leads: list pages", B, GYMDASH_ALL_BACKENDS) {
  ListFixture<B> f;
  LeadFilter filter;
  filter.page_size = 4;

  filter.page = 1;
  auto p1 = f.leads().list("gym-a", filter);
  CHECK(ids_of(p1) == Ids{"ld_i", "ld_h", "ld_g", "ld_f"});
  CHECK(p1.total == 9);
  CHECK(p1.page == 1);
  CHECK(p1.page_size == 4);

  filter.page = 2;
  auto p2 = f.leads().list("gym-a", filter);
  CHECK(ids_of(p2) == Ids{"ld_e", "ld_d", "ld_c", "ld_b"});
  CHECK(p2.total == 9);
  CHECK(p2.page == 2);

  filter.page = 3;
  auto p3 = f.leads().list("gym-a", filter);
  CHECK(ids_of(p3) == Ids{"ld_a"});
  CHECK(p3.total == 9);

  filter.page = 4;
  auto p4 = f.leads().list("gym-a", filter);
  CHECK(p4.items.empty());
  CHECK(p4.total == 9);
  CHECK(p4.page == 4);

  SUBCASE("total counts the filter, not the page") {
    filter.page = 1;
    filter.page_size = 2;
    filter.tags = {"vip"};
    auto page = f.leads().list("gym-a", filter);
    CHECK(ids_of(page) == Ids{"ld_i", "ld_g"});
    CHECK(page.total == 5);
  }
  SUBCASE("out-of-range paging does not crash") {
    for (auto [number, size] : std::vector<std::pair<int, int>>{
             {0, 4},
             {-3, 4},
             {1, 0},
             {1, -1},
             {std::numeric_limits<int>::max(), 1000},
             {std::numeric_limits<int>::max(), std::numeric_limits<int>::max()}}) {
      filter.page = number;
      filter.page_size = size;
      auto page = f.leads().list("gym-a", filter);
      CHECK(page.total == 9);
      CHECK(page.page == number);
      CHECK(page.page_size == size);
      CHECK(page.items.size() <= 9);
    }
  }
}

// Enough leads that a common tag is common for any backend that plans tag
// queries by how many leads carry a tag.
TEST_CASE_TEMPLATE("leads: tag filters over many leads", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  constexpr int kLeads = 10'500;
  auto id_of = [](int i) {
    std::string digits = std::to_string(i);
    return "ld_" + std::string(5 - digits.size(), '0') + digits;
  };
  f.store->transact([&] {
    for (int i = 0; i < kLeads; ++i) {
      Lead lead = make_lead("gym-a", id_of(i), "+1212" + std::to_string(5000000 + i), kT0 + i);
      lead.tags = {"common"};
      if (i % 2 == 0) lead.tags.push_back("half");
      if (i % 1000 == 0) lead.tags.push_back("rare");
      std::sort(lead.tags.begin(), lead.tags.end());
      lead.status = i % 3 == 0 ? LeadStatus::Contacted : LeadStatus::New;
      f.leads().insert(lead);
    }
  });
  auto list = [&](std::vector<std::string> tags, int page = 1, int page_size = 50) {
    LeadFilter filter;
    filter.tags = std::move(tags);
    filter.page = page;
    filter.page_size = page_size;
    return f.leads().list("gym-a", filter);
  };

  auto common = list({"common"});
  CHECK(common.total == kLeads);
  REQUIRE(common.items.size() == 50);
  CHECK(common.items.front().id == id_of(kLeads - 1));
  CHECK(common.items.back().id == id_of(kLeads - 50));

  auto rare = list({"common", "rare"});
  CHECK(rare.total == 11);
  CHECK(ids_of(rare).front() == id_of(10'000));
  CHECK(ids_of(rare).back() == id_of(0));
  CHECK(list({"rare"}).total == 11);
  CHECK(list({"half", "rare", "common"}).total == 11);

  auto half = list({"common", "half"}, 2, 100);
  CHECK(half.total == kLeads / 2);
  REQUIRE(half.items.size() == 100);
  CHECK(half.items.front().id == id_of(kLeads - 2 - 200));

  LeadFilter mixed;
  mixed.tags = {"half", "common"};
  mixed.statuses = {LeadStatus::Contacted};  // multiples of 6
  auto page = f.leads().list("gym-a", mixed);
  CHECK(page.total == (kLeads + 5) / 6);
  CHECK(page.items.front().id == id_of(10'494));

  CHECK(list({"common", "nobody"}).total == 0);
}

// ---------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------

TEST_CASE_TEMPLATE("leads: history", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  f.leads().insert(make_lead("gym-a", "ld_1", "+12125550001", kT0));
  f.leads().insert(make_lead("gym-a", "ld_2", "+12125550002", kT0));
  CHECK(f.leads().history("gym-a", "ld_1").empty());

  const std::vector<LeadEvent> events{
      {999, "ld_1", at_ms(kT0), "created", "", "new", "import", "spring.csv"},
      {0, "ld_1", at_ms(kT0 + 10), "status", "new", "contacted", "system", "call answered"},
      {0, "ld_2", at_ms(kT0 + 15), "created", "", "new", "api", ""},
      // An older timestamp later: history keeps the order of appending.
      {0, "ld_1", at_ms(kT0 - 5), "note", "", "Zoë called back\n\"soon\"", "maria", ""},
  };
  for (const auto& e : events) f.leads().append_history("gym-a", e);

  auto h1 = f.leads().history("gym-a", "ld_1");
  REQUIRE(h1.size() == 3);
  auto h2 = f.leads().history("gym-a", "ld_2");
  REQUIRE(h2.size() == 1);

  // Every field as given, except seq, which the store assigns.
  const LeadEvent* expected[] = {&events[0], &events[1], &events[3]};
  for (std::size_t i = 0; i < 3; ++i) {
    LeadEvent want = *expected[i];
    want.seq = h1[i].seq;
    CHECK(h1[i] == want);
  }
  CHECK(h1[0].seq < h1[1].seq);
  CHECK(h1[1].seq < h2[0].seq);  // one sequence across the store
  CHECK(h2[0].seq < h1[2].seq);
  CHECK(h1[0].seq > 0);

  SUBCASE("a missing lead has no history to append to") {
    check_error<NotFoundError>(
        [&] {
          f.leads().append_history("gym-a",
                                   LeadEvent{0, "ld_ghost", at_ms(kT0), "note", "", "", "", ""});
        },
        {"ld_ghost"});
    CHECK(f.leads().history("gym-a", "ld_ghost").empty());
  }
  SUBCASE("seq keeps increasing after the newest events are removed") {
    const auto last = h1[2].seq;
    CHECK(f.leads().remove("gym-a", "ld_1"));
    f.leads().append_history("gym-a", LeadEvent{0, "ld_2", at_ms(kT0), "note", "", "", "", ""});
    auto after = f.leads().history("gym-a", "ld_2");
    REQUIRE(after.size() == 2);
    CHECK(after[1].seq > last);
  }
}

// ---------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------

struct Abort : std::runtime_error {
  Abort() : std::runtime_error("abort") {}
};

TEST_CASE_TEMPLATE("transact: commit and rollback", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  const Lead kept = make_full_lead("gym-a", "ld_kept", "+12125550001");
  f.leads().insert(kept);
  f.leads().append_history("gym-a",
                           LeadEvent{0, "ld_kept", at_ms(kT0), "created", "", "new", "api", ""});

  SUBCASE("commit: everything is there afterwards") {
    f.store->transact([&] {
      f.gyms().insert(make_gym("gym-b"));
      f.leads().insert(make_lead("gym-b", "ld_new", "+12125550002", kT0));
      f.leads().append_history("gym-b",
                               LeadEvent{0, "ld_new", at_ms(kT0), "created", "", "new", "api", ""});
      // Reads inside see the transaction's own writes.
      CHECK(f.leads().find("gym-b", "ld_new"));
    });
    CHECK(f.gyms().find("gym-b"));
    CHECK(f.leads().find("gym-b", "ld_new"));
    CHECK(f.leads().history("gym-b", "ld_new").size() == 1);
  }
  SUBCASE("rollback: nothing done inside is visible afterwards") {
    Lead changed = kept;
    changed.version += 1;
    changed.tags = {"changed"};
    changed.phone = "+12125550009";
    CHECK_THROWS_AS(f.store->transact([&] {
      f.gyms().insert(make_gym("gym-b"));
      Gym renamed = make_gym("gym-a");
      renamed.name = "renamed";
      f.gyms().update(renamed);
      f.leads().insert(make_lead("gym-b", "ld_new", "+12125550002", kT0));
      f.leads().update(changed);
      f.leads().append_history("gym-a",
                               LeadEvent{0, "ld_kept", at_ms(kT0), "note", "", "x", "api", ""});
      CHECK(f.leads().remove("gym-b", "ld_new"));
      f.leads().insert(make_lead("gym-b", "ld_new2", "+12125550003", kT0));
      throw Abort();
    }),
                    Abort);
    CHECK_FALSE(f.gyms().find("gym-b"));
    CHECK(f.gyms().find("gym-a") == make_gym("gym-a"));
    CHECK_FALSE(f.leads().find("gym-b", "ld_new"));
    CHECK_FALSE(f.leads().find("gym-b", "ld_new2"));
    check_same(*f.leads().find("gym-a", "ld_kept"), kept);
    CHECK(f.leads().find_by_phone("gym-a", "+12125550001"));
    CHECK_FALSE(f.leads().find_by_phone("gym-a", "+12125550009"));
    CHECK(f.leads().history("gym-a", "ld_kept").size() == 1);
    LeadFilter tag;
    tag.tags = {"changed"};
    CHECK(f.leads().list("gym-a", tag).total == 0);
    tag.tags = {"vip"};
    CHECK(f.leads().list("gym-a", tag).total == 1);
  }
  SUBCASE("rollback of a removal brings the lead back with its history") {
    CHECK_THROWS_AS(f.store->transact([&] {
      CHECK(f.leads().remove("gym-a", "ld_kept"));
      throw Abort();
    }),
                    Abort);
    check_same(*f.leads().find("gym-a", "ld_kept"), kept);
    CHECK(f.leads().history("gym-a", "ld_kept").size() == 1);
  }
  SUBCASE("a store error caught inside does not spoil the transaction") {
    f.store->transact([&] {
      f.leads().insert(make_lead("gym-a", "ld_2", "+12125550002", kT0));
      CHECK_THROWS_AS(f.leads().insert(make_lead("gym-a", "ld_3", "+12125550002", kT0)),
                      AlreadyExistsError);
      f.leads().insert(make_lead("gym-a", "ld_4", "+12125550004", kT0));
    });
    CHECK(f.leads().find("gym-a", "ld_2"));
    CHECK_FALSE(f.leads().find("gym-a", "ld_3"));
    CHECK(f.leads().find("gym-a", "ld_4"));
  }
  SUBCASE("the store's own errors propagate unchanged") {
    CHECK_THROWS_AS(f.store->transact([&] { f.gyms().insert(make_gym("gym-a")); }),
                    AlreadyExistsError);
    CHECK(f.gyms().list().size() == 1);
  }
  SUBCASE("the store works normally after a rollback") {
    CHECK_THROWS_AS(f.store->transact([&] { throw Abort(); }), Abort);
    f.store->transact([&] { f.gyms().insert(make_gym("gym-c")); });
    CHECK(f.gyms().find("gym-c"));
  }
}

TEST_CASE_TEMPLATE("transact: nested", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));

  SUBCASE("inner and outer commit together") {
    f.store->transact([&] {
      f.leads().insert(make_lead("gym-a", "ld_outer", "+12125550001", kT0));
      f.store->transact(
          [&] { f.leads().insert(make_lead("gym-a", "ld_inner", "+12125550002", kT0)); });
      CHECK(f.leads().find("gym-a", "ld_inner"));
    });
    CHECK(f.leads().find("gym-a", "ld_outer"));
    CHECK(f.leads().find("gym-a", "ld_inner"));
  }
  SUBCASE("the outer rollback undoes the finished inner transaction") {
    CHECK_THROWS_AS(f.store->transact([&] {
      f.store->transact(
          [&] { f.leads().insert(make_lead("gym-a", "ld_inner", "+12125550002", kT0)); });
      throw Abort();
    }),
                    Abort);
    CHECK_FALSE(f.leads().find("gym-a", "ld_inner"));
  }
  SUBCASE("an inner failure propagates through the outer one") {
    CHECK_THROWS_AS(f.store->transact([&] {
      f.leads().insert(make_lead("gym-a", "ld_outer", "+12125550001", kT0));
      f.store->transact([&] {
        f.leads().insert(make_lead("gym-a", "ld_inner", "+12125550002", kT0));
        throw Abort();
      });
    }),
                    Abort);
    CHECK_FALSE(f.leads().find("gym-a", "ld_outer"));
    CHECK_FALSE(f.leads().find("gym-a", "ld_inner"));
  }
  SUBCASE("an inner failure caught by the outer undoes only the inner writes") {
    f.store->transact([&] {
      f.leads().insert(make_lead("gym-a", "ld_outer", "+12125550001", kT0));
      CHECK_THROWS_AS(f.store->transact([&] {
        f.leads().insert(make_lead("gym-a", "ld_inner", "+12125550002", kT0));
        throw Abort();
      }),
                      Abort);
      CHECK_FALSE(f.leads().find("gym-a", "ld_inner"));
      f.leads().insert(make_lead("gym-a", "ld_after", "+12125550003", kT0));
    });
    CHECK(f.leads().find("gym-a", "ld_outer"));
    CHECK_FALSE(f.leads().find("gym-a", "ld_inner"));
    CHECK(f.leads().find("gym-a", "ld_after"));
  }
  SUBCASE("three levels") {
    CHECK_THROWS_AS(f.store->transact([&] {
      f.store->transact([&] {
        f.store->transact(
            [&] { f.leads().insert(make_lead("gym-a", "ld_deep", "+12125550004", kT0)); });
      });
      CHECK(f.leads().find("gym-a", "ld_deep"));
      throw Abort();
    }),
                    Abort);
    CHECK_FALSE(f.leads().find("gym-a", "ld_deep"));
  }
}

// ---------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------

TEST_CASE_TEMPLATE("threads: concurrent inserts all land", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kPerThread; ++i) {
          const int n = t * kPerThread + i;
          Lead lead = make_lead("gym-a", "ld_t" + std::to_string(n),
                                "+1212" + std::to_string(5000000 + n), kT0 + n);
          lead.tags = {"thread-" + std::to_string(t)};
          f.leads().insert(lead);
          f.leads().append_history(
              "gym-a", LeadEvent{0, lead.id, at_ms(kT0), "created", "", "new", "api", ""});
          if (i % 50 == 0) f.leads().list("gym-a", LeadFilter{});
        }
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  LeadFilter all;
  all.page_size = 1000;
  auto page = f.leads().list("gym-a", all);
  CHECK(page.total == kThreads * kPerThread);
  CHECK(page.items.size() == static_cast<std::size_t>(kThreads * kPerThread));
  LeadFilter one;
  one.tags = {"thread-2"};
  CHECK(f.leads().list("gym-a", one).total == kPerThread);
  CHECK(f.leads().history("gym-a", "ld_t799").size() == 1);
}

TEST_CASE_TEMPLATE("threads: a transaction is invisible to others until it ends", B,
                   GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  std::atomic<bool> inside{false};
  std::optional<Lead> seen_by_other = make_lead("gym-a", "placeholder", "", 0);

  std::thread writer([&] {
    try {
      f.store->transact([&] {
        f.leads().insert(make_lead("gym-a", "ld_pending", "+12125550001", kT0));
        inside = true;
        // Give the reader time to try; it must wait for the rollback.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        throw Abort();
      });
    } catch (const Abort&) {
    }
  });
  while (!inside) std::this_thread::yield();
  seen_by_other = f.leads().find("gym-a", "ld_pending");
  writer.join();
  CHECK_FALSE(seen_by_other);
  CHECK_FALSE(f.leads().find("gym-a", "ld_pending"));
}

TEST_CASE_TEMPLATE("threads: concurrent transactions", B, GYMDASH_ALL_BACKENDS) {
  Fixture<B> f;
  f.gyms().insert(make_gym("gym-a"));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const int n = t * 100 + i;
        try {
          f.store->transact([&] {
            f.leads().insert(make_lead("gym-a", "ld_c" + std::to_string(n),
                                       "+1212" + std::to_string(6000000 + n), kT0));
            f.leads().insert(make_lead("gym-a", "ld_d" + std::to_string(n),
                                       "+1212" + std::to_string(7000000 + n), kT0));
            if (i % 2 == 1) throw Abort();  // odd rounds roll back
          });
        } catch (const Abort&) {
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  // 4 threads × 13 committed rounds (i = 0, 2, … 24) × 2 leads.
  CHECK(f.leads().list("gym-a", LeadFilter{}).total == 4 * 13 * 2);
}

}  // namespace
}  // namespace gymdash
