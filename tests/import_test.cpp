// Bulk import of gyms and leads from the data contract's CSV files.
#include <gymdash/gymdash.hpp>

#include "test_util.hpp"
#include "wrapped_store.hpp"
#ifdef GYMDASH_TEST_WITH_POSTGRES
#include "postgres_backend.hpp"
#endif

#include <boost/json.hpp>
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace gymdash;

namespace {

const char* kGyms =
    "gym_id,name,timezone,region\n"
    "gym-nyc-01,Iron Temple Manhattan,America/New_York,US\n"
    "gym-ldn-01,Shoreditch Lifting Club,Europe/London,GB\n";

const char* kHeader = "external_id,gym_id,first_name,last_name,phone,email,source,created_at,interest,timeline,consent,tags\n";

struct Fixture {
  std::unique_ptr<Runtime> rt;
  explicit Fixture(const std::string& uri = "memory:") {
    RuntimeOptions o;
    o.storage = uri;
    o.log_level = LogLevel::Warn;
    rt = Runtime::open(o);
    std::istringstream gyms(kGyms);
    auto r = rt->gyms().import_gyms(gyms);
    REQUIRE(r.created == 2);
  }
  ImportReport import(const std::string& csv, ImportOptions options = {}) {
    std::istringstream in(csv);
    return rt->leads().import_leads(in, options);
  }
  std::int64_t count(const char* gym = "gym-nyc-01") { return rt->leads().list_leads(gym, {}).total; }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "rows are imported, merged or rejected with line and reason") {
  std::string csv = kHeader;
  csv += "L1,gym-nyc-01,Maria,Garcia,(212) 736-5000,maria@example.com,web_form,2026-10-13T12:21:44Z,yoga,asap,yes,vip;student\n";
  csv += "L2,gym-nyc-01,\"Anne \"\"Annie\"\"\",\"Lee, Jr.\",646.239.4410,,facebook_ads,2026-10-14T08:00:00+02:00,,this week,yes,\n";
  csv += "L3,gym-ldn-01,Ollie,Smith,020 7946 0958,,referral,2026-10-15T09:00:00Z,,,no,\n";
  csv += "L4,gym-nyc-01,\"Line\nBreak\",X,+1 212 736 5000,,google_ads,2026-10-01T00:00:00Z,boxing,,yes,promo-nov\n";  // duplicate of L1
  csv += "L5,gym-nyc-01,Bad,Phone,call me maybe,,web_form,2026-10-13T12:21:44Z,,,yes,\n";
  csv += "L6,gym-xxx-99,No,Gym,(212) 736-5001,,web_form,2026-10-13T12:21:44Z,,,yes,\n";
  csv += "L7,gym-nyc-01,Bad,Date,(212) 736-5002,,web_form,2026-02-30T10:00:00Z,,,yes,\n";
  csv += "L8,gym-nyc-01," + std::string(201, 'A') + ",Long,(212) 736-5003,,web_form,2026-10-13T12:21:44Z,,,yes,\n";
  csv += "L9,gym-nyc-01,Bad\xff\xfeName,X,(212) 736-5004,,web_form,2026-10-13T12:21:44Z,,,yes,\n";
  csv += "L10,gym-nyc-01,Too,Few,(212) 736-5005\n";
  csv += "L11,,No,Gym,(212) 736-5006,,web_form,2026-10-13T12:21:44Z,,,yes,\n";
  csv += "L12,gym-nyc-01,\"Robert'); DROP TABLE leads;--\",%s%n{},(212) 736-5007,,web_form,31/10/2026,,,yes,\n";
  csv += "L13,gym-nyc-01,Dup,Date,(212) 736-5008,,web_form,2026-10-01T10:00:00,,,yes,\n";
  const auto r = import(csv);
  CHECK(r.rows == 13);
  CHECK(r.imported == 3);
  CHECK(r.merged_duplicates == 1);
  CHECK(r.rejected == 9);
  CHECK(r.rejected_by_reason == std::map<std::string, std::int64_t>{{"bad_created_at", 3},
                                                                    {"bad_encoding", 1},
                                                                    {"bad_format", 1},
                                                                    {"bad_phone", 1},
                                                                    {"too_long", 1},
                                                                    {"unknown_gym", 2}});
  REQUIRE(r.rejected_rows.size() == 9);
  CHECK(r.rejected_rows[0].line == 7);  // line 6 holds the quoted line break of L4
  CHECK(r.rejected_rows[0].reason == "bad_phone");
  CHECK(r.rejected_rows[1].line == 8);
  CHECK(r.rejected_rows[1].reason == "unknown_gym");

  auto maria = rt->leads().list_leads("gym-nyc-01", LeadFilter{{}, {}, {}, {}, {}, {}, "garcia"}).items;
  REQUIRE(maria.size() == 1);
  const auto& m = maria[0];
  CHECK(m.external_id == "L1");  // the first row's id stays
  CHECK(m.phone == "+12127365000");
  CHECK(m.tags == std::vector<std::string>{"promo-nov", "student", "vip"});
  CHECK(m.created_at == parse_timestamp("2026-10-01T00:00:00Z"));  // the earliest
  CHECK(m.interest == "yoga");  // kept; only empty fields are filled
  CHECK(m.consent.given);
  auto annie = rt->leads().list_leads("gym-nyc-01", LeadFilter{{}, {}, {}, {}, {}, {}, "annie"}).items;
  REQUIRE(annie.size() == 1);
  CHECK(annie[0].first_name == "Anne \"Annie\"");
  CHECK(annie[0].last_name == "Lee, Jr.");
  CHECK(annie[0].created_at == parse_timestamp("2026-10-14T06:00:00Z"));
  auto ollie = rt->leads().list_leads("gym-ldn-01", {}).items;
  REQUIRE(ollie.size() == 1);
  CHECK(ollie[0].phone == "+442079460958");
  CHECK_FALSE(ollie[0].consent.given);
  CHECK(ollie[0].local_zone == "Europe/London");

  // The same file again imports nothing new.
  const auto again = import(csv);
  CHECK(again.imported == 0);
  CHECK(again.merged_duplicates == 4);
  CHECK(again.rejected == 9);
  CHECK(count() == 2);
}

TEST_CASE_FIXTURE(Fixture, "a header without the required columns imports nothing") {
  try {
    import("external_id,first_name,last_name\nL1,A,B\n");
    FAIL("accepted");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "header");
    CHECK(std::string(e.what()).find("gym_id, phone") != std::string::npos);
  }
  CHECK_THROWS_AS(import(""), InvalidArgumentError);
  // Binary junk is not CSV with the right header either.
  CHECK_THROWS_AS(import(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)), InvalidArgumentError);
  CHECK(count() == 0);
}

TEST_CASE_FIXTURE(Fixture, "consent: a withdrawal in any row wins; batches and progress") {
  std::string csv = kHeader;
  for (int i = 0; i < 250; ++i)
    csv += "L" + std::to_string(i) + ",gym-nyc-01,A,B,(212) 736-" + std::to_string(1000 + i) +
           ",,web_form,2026-10-13T12:21:44Z,,,yes,\n";
  csv += "X,gym-nyc-01,A,B,(212) 736-1000,,web_form,2026-10-13T12:21:44Z,,,no,\n";
  csv += "Y,gym-nyc-01,A,B,(212) 736-1000,,web_form,2026-10-13T12:21:44Z,,,yes,\n";
  std::vector<std::int64_t> seen;
  ImportOptions o;
  o.batch_size = 100;
  o.progress = [&](const ImportProgress& p) { seen.push_back(p.rows); };
  const auto r = import(csv, o);
  CHECK(r.imported == 250);
  CHECK(r.merged_duplicates == 2);
  CHECK(seen == std::vector<std::int64_t>{100, 200, 252});
  LeadFilter f;
  f.search = "7361000";
  auto lead = rt->leads().list_leads("gym-nyc-01", f).items.at(0);
  CHECK_FALSE(lead.consent.given);
  ImportOptions bad;
  bad.batch_size = 0;
  CHECK_THROWS_AS(import(csv, bad), InvalidArgumentError);
}

TEST_CASE("gyms.csv: bad rows are reported, good ones still import; known ids update") {
  auto rt = Runtime::open(RuntimeOptions{"memory:", nullptr, 1, nullptr, LogLevel::Warn});
  std::istringstream in(
      "gym_id,name,timezone,region\n"
      "gym-a,A,America/Chicago,US\n"
      "gym-b,B,Mars/Olympus,US\n"
      "gym-c,C,America/Denver,XX\n"
      "gym-a,A renamed,America/New_York,US\n");
  const auto r = rt->gyms().import_gyms(in);
  CHECK(r.rows == 4);
  CHECK(r.created == 1);
  CHECK(r.updated == 1);
  CHECK(r.rejected == 2);
  REQUIRE(r.rejected_rows.size() == 2);
  CHECK(r.rejected_rows[0].first == 3);
  CHECK(r.rejected_rows[0].second.rfind("timezone:", 0) == 0);
  CHECK(r.rejected_rows[1].second.rfind("region:", 0) == 0);
  CHECK(rt->gyms().get_gym("gym-a").timezone == "America/New_York");
  std::istringstream bad("id,name\n");
  CHECK_THROWS_AS(rt->gyms().import_gyms(bad), InvalidArgumentError);
}

// The reference data set, when ../shared/datagen is there: every manifest
// import figure must come out exactly. (The project builds and tests without it.)
TEST_CASE("reference data set: import figures equal the manifest") {
  const char* gen = "../../../shared/datagen/gen.py";
  std::filesystem::path script;
  for (auto candidate : {std::getenv("GYMDASH_DATAGEN") ? std::getenv("GYMDASH_DATAGEN") : "",
                         "/work/shared/datagen/gen.py", gen}) {
    if (*candidate && std::filesystem::exists(candidate)) {
      script = candidate;
      break;
    }
  }
  if (script.empty()) {
    MESSAGE("datagen not found; skipped");
    return;
  }
  test::TempPath dir("datagen");
  const auto out = dir.str() + ".d";
  for (int seed : {7, 11}) {
    CAPTURE(seed);
    const auto cmd = "/usr/bin/python3 " + script.string() + " --leads 20000 --seed " + std::to_string(seed) +
                     " --out " + out + " > /dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    test::TempPath db("reference");
    auto rt = Runtime::open(RuntimeOptions{"sqlite:" + db.str(), nullptr, 1, nullptr, LogLevel::Warn});
    std::ifstream gyms(out + "/gyms.csv", std::ios::binary);
    REQUIRE(rt->gyms().import_gyms(gyms).rejected == 0);
    std::ifstream leads(out + "/leads.csv", std::ios::binary);
    const auto r = rt->leads().import_leads(leads);
    std::ifstream mf(out + "/manifest.json");
    std::stringstream ss;
    ss << mf.rdbuf();
    const auto manifest = boost::json::parse(ss.str()).at("import");
    CHECK(r.imported == manifest.at("imported").to_number<std::int64_t>());
    CHECK(r.merged_duplicates == manifest.at("merged_duplicates").to_number<std::int64_t>());
    CHECK(r.rejected == manifest.at("rejected").to_number<std::int64_t>());
    for (const auto& [reason, n] : manifest.at("rejected_by_reason").as_object()) {
      CAPTURE(reason);
      const auto it = r.rejected_by_reason.find(std::string(reason));
      CHECK((it == r.rejected_by_reason.end() ? 0 : it->second) == n.to_number<std::int64_t>());
    }
    // Importing the file again adds nothing.
    std::ifstream again(out + "/leads.csv", std::ios::binary);
    CHECK(rt->leads().import_leads(again).imported == 0);
    std::filesystem::remove_all(out);
  }
}

namespace {

// A file with duplicates inside a batch and across batches, rejects, tags,
// consent given and withdrawn, names filled in by a later sighting.
std::string mixed_file(int rows) {
  std::string csv = kHeader;
  std::uint32_t state = 12345;
  auto next = [&state](std::uint32_t n) {
    state = state * 1103515245u + 12345u;
    return (state >> 8) % n;
  };
  const char* tags[] = {"", "vip", "student", "vip;promo-nov", "promo-nov;student"};
  const char* consents[] = {"yes", "yes", "no", ""};
  char buf[512];
  int last_phone = 0;
  for (int i = 0; i < rows; ++i) {
    const bool nyc = next(3) != 0;
    // Numbers from a small pool: repeats across batches; every 9th row repeats the previous number.
    const int phone = (i % 9 == 8) ? last_phone : static_cast<int>(next(nyc ? 600 : 300));
    last_phone = phone;
    std::string number = nyc ? "(212) 736-" : "020 7946 0";
    std::snprintf(buf, sizeof buf, nyc ? "%04d" : "%03d", phone);
    number += buf;
    std::string gym = nyc ? "gym-nyc-01" : "gym-ldn-01";
    if (i % 53 == 7) gym = "gym-xxx-99";       // unknown gym
    if (i % 37 == 5) number = "not a number";  // bad phone
    std::string created = "2026-" + std::string(next(2) ? "09" : "10") + "-";
    std::snprintf(buf, sizeof buf, "%02dT%02d:%02d:00Z", 1 + static_cast<int>(next(28)), static_cast<int>(next(24)),
                  static_cast<int>(next(60)));
    created += buf;
    if (i % 71 == 3) created = "2026-02-30T10:00:00Z";  // bad date
    const std::string first = next(4) == 0 ? "" : "First" + std::to_string(next(50));
    const std::string email = next(3) == 0 ? "" : "p" + std::to_string(i) + "@example.com";
    std::snprintf(buf, sizeof buf, "X%d,%s,%s,Last%d,%s,%s,%s,%s,%s,%s,%s,%s\n", i, gym.c_str(), first.c_str(),
                  static_cast<int>(next(30)), number.c_str(), email.c_str(), next(2) ? "web_form" : "referral",
                  created.c_str(), next(2) ? "yoga" : "", next(2) ? "asap" : "", consents[next(4)], tags[next(5)]);
    csv += buf;
  }
  return csv;
}

// Everything an import leaves behind, without the ids and sequence numbers the store assigns.
std::string import_outcome(Runtime& rt, const ImportReport& r) {
  std::string out = "rows " + std::to_string(r.rows) + " imported " + std::to_string(r.imported) + " merged " +
                    std::to_string(r.merged_duplicates) + " rejected " + std::to_string(r.rejected) + "\n";
  for (const auto& [reason, n] : r.rejected_by_reason) out += reason + " " + std::to_string(n) + "\n";
  for (const auto& row : r.rejected_rows) out += std::to_string(row.line) + " " + row.reason + "\n";
  for (const char* gym : {"gym-nyc-01", "gym-ldn-01"}) {
    std::vector<std::string> leads;
    for (int page = 1;; ++page) {
      LeadFilter filter;
      filter.page = page;
      filter.page_size = 100;
      const auto p = rt.leads().list_leads(gym, filter);
      for (const auto& l : p.items) {
        std::string s = l.phone + "|" + l.external_id + "|" + l.first_name + "|" + l.last_name + "|" + l.email + "|" +
                        l.source + "|" + l.interest + "|" + l.timeline + "|" + l.timezone + "|";
        for (const auto& t : l.tags) s += t + ";";
        s += "|" + std::to_string(l.consent.given) + std::to_string(l.do_not_call) + std::to_string(l.dnc_listed) +
             std::to_string(static_cast<int>(l.status)) + std::to_string(static_cast<int>(l.qualification)) + "|" +
             std::to_string(l.score) + "|" + format_timestamp(l.created_at) + "|" + format_timestamp(l.updated_at) +
             "|" + std::to_string(l.version) + "|" + l.local_zone + "|" + l.local_state + "\n";
        for (const auto& e : rt.leads().get_history(gym, l.id))
          s += "  " + format_timestamp(e.at) + " " + e.kind + " " + e.from + " " + e.to + " " + e.actor + " " +
               e.reason + "\n";
        leads.push_back(std::move(s));
      }
      if (p.items.size() < 100) break;
    }
    std::sort(leads.begin(), leads.end());
    for (const auto& s : leads) out += s;
    for (const char* tag : {"vip", "student", "promo-nov"}) {
      LeadFilter filter;
      filter.tags = {tag};
      out += std::string(tag) + " " + std::to_string(rt.leads().list_leads(gym, filter).total) + "\n";
    }
    AnalyticsQuery q;
    q.gym_id = gym;
    q.from = "2026-08-01";
    q.to = "2026-11-30";
    out += dashboard_json(rt.analytics().dashboard(q)) + "\n";
  }
  return out;
}

// A runtime on `storage` at a fixed time, with kGyms imported: what the
// tests comparing imports open.
std::unique_ptr<Runtime> open_with_gyms(const std::string& storage) {
  RuntimeOptions o;
  o.storage = storage;
  o.clock = std::make_shared<ManualClock>(parse_timestamp("2026-11-02T15:00:00Z"));
  o.worker_threads = 1;
  o.log_level = LogLevel::Warn;
  auto rt = Runtime::open(o);
  std::istringstream gyms(kGyms);
  REQUIRE(rt->gyms().import_gyms(gyms).created == 2);
  return rt;
}

}  // namespace

// The import stores a batch's new leads together (one COPY and a few
// statements on PostgreSQL) and merges the rest one by one: every backend
// must end with the same leads, history, tags, rollups and report.
TEST_CASE("the same file imports alike on every backend") {
  const std::string csv = mixed_file(1500);
  std::vector<std::string> backends{"memory", "sqlite"};
#ifdef GYMDASH_TEST_WITH_POSTGRES
  if (!test::postgres_test_uri().empty()) backends.push_back("postgres");
#endif
  std::string expected;
  for (const auto& backend : backends) {
    CAPTURE(backend);
    test::TempPath db("alike");
#ifdef GYMDASH_TEST_WITH_POSTGRES
    std::optional<test::PostgresBackend> pg;
#endif
    std::string storage = "memory:";
    if (backend == "sqlite") storage = "sqlite:" + db.str();
#ifdef GYMDASH_TEST_WITH_POSTGRES
    if (backend == "postgres") {
      pg.emplace();
      storage = test::postgres_uri_in_schema(pg->uri, pg->schema);
    }
#endif
    {
      auto rt = open_with_gyms(storage);
      rt->leads().add_to_dnc("gym-nyc-01", "(212) 736-0005");
      ImportOptions options;
      options.batch_size = 100;
      std::istringstream in(csv);
      const auto r = rt->leads().import_leads(in, options);
      CHECK(r.merged_duplicates > 100);
      CHECK(r.rejected > 50);
      const auto outcome = import_outcome(*rt, r);
      if (expected.empty())
        expected = outcome;
      else
        CHECK(outcome == expected);
      // The file again: nothing new, every row a merge or a reject.
      std::istringstream again(csv);
      const auto r2 = rt->leads().import_leads(again, options);
      CHECK(r2.imported == 0);
      CHECK(r2.merged_duplicates == r.imported + r.merged_duplicates);
    }
  }
}

// A committed batch larger than the reader's pieces of 10,000 rows spans
// several of them in one transaction: the progress comes once per batch, and
// what the import leaves is what smaller batches leave.
TEST_CASE("batches larger than the reader's pieces commit whole and import alike") {
  const std::string csv = mixed_file(23500);
  std::string expected;
  for (int batch : {3000, 15000, 20000}) {
    CAPTURE(batch);
    auto rt = open_with_gyms("memory:");
    ImportOptions options;
    options.batch_size = batch;
    std::vector<std::int64_t> seen;
    options.progress = [&](const ImportProgress& p) { seen.push_back(p.rows); };
    std::istringstream in(csv);
    const auto r = rt->leads().import_leads(in, options);
    CHECK(r.rows == 23500);
    std::vector<std::int64_t> want;
    for (std::int64_t rows = batch; rows < 23500; rows += batch) want.push_back(rows);
    want.push_back(23500);
    CHECK(seen == want);
    const auto outcome = import_outcome(*rt, r);
    if (expected.empty())
      expected = outcome;
    else
      CHECK(outcome == expected);
  }
}

// A large import into SQLite drops the lead indexes, the unique number index
// too, and checks numbers in memory until it builds them again at its end
// (src/store/sqlite/number_index.hpp). The same file, with its repeated
// numbers within and across batches and a second run that merges every row,
// leaves what the memory store and SQLite without the bulk path leave.
TEST_CASE("a large SQLite import (numbers checked in memory) imports and merges as a small one") {
  const std::string csv = mixed_file(300);
  std::string expected;
  for (std::int64_t scale : {std::int64_t{0}, std::int64_t{1}, std::int64_t{1'000'000}}) {  // 0: the memory store
    CAPTURE(scale);
    test::TempPath path("import-bulk");
    SqliteOptions sqlite;
    sqlite.path = path.str();
    auto clock = std::make_shared<ManualClock>(parse_timestamp("2026-11-02T15:00:00Z"));
    test::WrappedStore store(scale == 0 ? make_memory_store() : make_sqlite_store(sqlite));
    store.bulk_rows_scale = std::max<std::int64_t>(scale, 1);
    auto gyms = make_gym_service(store, clock);
    auto leads = make_lead_service(store, clock);
    std::istringstream gyms_in(kGyms);
    REQUIRE(gyms->import_gyms(gyms_in).created == 2);
    std::string outcome;
    for (int run = 0; run < 2; ++run) {
      ImportOptions options;
      options.batch_size = 20;
      std::istringstream in(csv);
      const auto r = leads->import_leads(in, options);
      outcome += std::to_string(r.imported) + " " + std::to_string(r.merged_duplicates) + " " +
                 std::to_string(r.rejected) + "\n";
      clock->advance(std::chrono::minutes(5));
    }
    for (const char* gym : {"gym-nyc-01", "gym-ldn-01"}) {
      LeadFilter filter;
      filter.page_size = 1000;
      for (const auto& l : leads->list_leads(gym, filter).items) {
        outcome += l.phone + " " + l.external_id + " " + std::to_string(l.version) + " " + to_string(l.status) + " " +
                   l.first_name + " " + l.email;
        for (const auto& t : l.tags) outcome += " #" + t;
        outcome += " history " + std::to_string(leads->get_history(gym, l.id).size()) + "\n";
      }
      // The tag rows tag filters search (written in one statement a piece on SQLite).
      for (const char* tag : {"vip", "student", "promo-nov"}) {
        LeadFilter tagged;
        tagged.tags = {tag};
        outcome += std::string(gym) + " #" + tag + " " + std::to_string(leads->list_leads(gym, tagged).total) + "\n";
      }
    }
    if (expected.empty())
      expected = outcome;
    else
      CHECK(outcome == expected);
    if (scale != 0) {
      // The indexes are all back, the guard gone, the file sound.
      SQLite::Database db(path.str(), SQLite::OPEN_READONLY);
      CHECK(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name = 'leads_gym_phone'").getInt() == 1);
      CHECK(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'leads_bulk%'")
                .getInt() == 0);
      CHECK(db.execAndGet("SELECT count(*) FROM bulk_dropped_indexes").getInt() == 0);
      CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
    }
  }
}

TEST_CASE("the reader's pieces are the size the store asks for (Store::bulk_piece_rows), and import alike") {
  const std::string csv = mixed_file(300);
  std::string expected;
  for (std::size_t piece_rows : {std::size_t{7}, std::size_t{0}}) {  // 0: the memory store's 10,000
    CAPTURE(piece_rows);
    auto clock = std::make_shared<ManualClock>(parse_timestamp("2026-11-02T15:00:00Z"));
    test::WrappedStore store(make_memory_store());
    store.piece_rows = piece_rows;
    auto gyms = make_gym_service(store, clock);
    auto leads = make_lead_service(store, clock);
    std::istringstream gyms_in(kGyms);
    REQUIRE(gyms->import_gyms(gyms_in).created == 2);
    ImportOptions options;
    options.batch_size = 20;
    std::istringstream in(csv);
    const auto r = leads->import_leads(in, options);
    const auto& sizes = store.wrapped().insert_many_sizes;
    REQUIRE_FALSE(sizes.empty());
    // Every row not rejected goes through the pieces once: stored, or merged into the lead stored before it.
    std::size_t sent = 0;
    for (auto n : sizes) sent += n;
    CHECK(sent == static_cast<std::size_t>(r.imported + r.merged_duplicates));
    const auto largest = *std::max_element(sizes.begin(), sizes.end());
    if (piece_rows == 7)
      CHECK(largest <= 7);
    else
      CHECK(largest > 7);  // the batch of 20 in one piece
    CHECK(largest <= 20);
    std::string outcome = std::to_string(r.imported) + " " + std::to_string(r.merged_duplicates) + " " +
                          std::to_string(r.rejected) + "\n";
    for (const char* gym : {"gym-nyc-01", "gym-ldn-01"}) {
      LeadFilter filter;
      filter.page_size = 1000;
      for (const auto& l : leads->list_leads(gym, filter).items)
        outcome += l.phone + " " + l.external_id + " " + std::to_string(l.version) + " " + to_string(l.status) + "\n";
    }
    if (expected.empty())
      expected = outcome;
    else
      CHECK(outcome == expected);
  }
}

