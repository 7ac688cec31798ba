// What only the SQLite backend promises: the file format (schema version,
// application id, WAL), persistence across reopen, refusing files it must not
// touch, transactions as other connections see them, and open_store().
//
// The file header is read byte by byte (https://sqlite.org/fileformat.html,
// "The Database Header"), which needs no SQLite API in the test.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <gymdash/error.hpp>
#include <gymdash/store.hpp>
#include <SQLiteCpp/SQLiteCpp.h>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/sqlite/checkpointer.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/number_index.hpp"
#include "store/packed_counts.hpp"
#include "test_util.hpp"

namespace gymdash {
namespace {

Timestamp at_ms(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }
constexpr std::int64_t kT0 = 1'760'000'000'000;

// Header offsets.
constexpr std::size_t kWriteVersion = 18;  // 1 = rollback journal, 2 = WAL
constexpr std::size_t kReadVersion = 19;
constexpr std::size_t kUserVersion = 60;
constexpr std::size_t kApplicationIdOffset = 68;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::uint32_t be32(const std::string& bytes, std::size_t offset) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<unsigned char>(bytes.at(offset + i));
  return v;
}

void put_be32(std::string& bytes, std::size_t offset, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i)
    bytes.at(offset + i) = static_cast<char>((v >> (8 * (3 - i))) & 0xff);
}

std::unique_ptr<Store> open_sqlite(const std::string& path, int busy_timeout_ms = 10000) {
  SqliteOptions options;
  options.path = path;
  options.busy_timeout_ms = busy_timeout_ms;
  return make_sqlite_store(options);
}

Gym make_gym(std::string id) {
  Gym gym;
  gym.id = std::move(id);
  gym.name = "Iron Temple";
  gym.timezone = "America/New_York";
  gym.caller_ids = {"+12125550100"};
  gym.created_at = gym.updated_at = at_ms(kT0);
  return gym;
}

Lead make_lead(std::string gym_id, std::string id, std::string phone) {
  Lead lead;
  lead.id = std::move(id);
  lead.gym_id = std::move(gym_id);
  lead.phone = std::move(phone);
  lead.first_name = "Zoë";
  lead.tags = {"fb", "vip"};
  lead.custom_fields = {{"goal", "strength"}};
  lead.consent = {true, at_ms(kT0 - 1), "web_form", "https://example.test/join"};
  lead.next_call_at = at_ms(kT0 + 60'000);
  lead.status = LeadStatus::Qualified;
  lead.created_at = lead.updated_at = at_ms(kT0);
  lead.version = 1;
  return lead;
}

// A closed, valid gymdash database at `path`, holding one gym.
void make_database(const std::string& path) {
  auto store = open_sqlite(path);
  store->gyms().insert(make_gym("gym-a"));
}

// Expects opening `path` to fail with StorageError naming the path and
// containing `part`, and the file to come out byte for byte as it went in.
void check_refused(const std::string& path, std::string_view part) {
  const std::string before = read_bytes(path);
  try {
    open_sqlite(path);
    FAIL("expected StorageError");
  } catch (const StorageError& e) {
    const std::string message = e.what();
    INFO("message: ", message);
    CHECK(e.code() == ErrorCode::StorageError);
    CHECK(message.find(path) != std::string::npos);
    CHECK(message.find(part) != std::string::npos);
  }
  CHECK(read_bytes(path) == before);
  CHECK_THROWS_AS(open_store("sqlite:" + path), StorageError);
  CHECK(read_bytes(path) == before);
  // Nor is anything left beside it.
  CHECK_FALSE(std::filesystem::exists(path + "-wal"));
  CHECK_FALSE(std::filesystem::exists(path + "-shm"));
  CHECK_FALSE(std::filesystem::exists(path + "-journal"));
}

// ---------------------------------------------------------------------------
// File format
// ---------------------------------------------------------------------------

TEST_CASE("sqlite: a new database gets the schema, WAL and gymdash's application id") {
  test::TempPath path("sqlite-new");
  {
    auto store = open_sqlite(path.str());
    CHECK(store->backend() == "sqlite");
    CHECK(store->schema_version() == sqlite_store::latest_schema_version());
    CHECK(store->schema_version() >= 1);
    store->gyms().insert(make_gym("gym-a"));
    // WAL mode keeps a write-ahead log beside the database while it is open.
    CHECK(std::filesystem::exists(path.str() + "-wal"));
  }
  const std::string bytes = read_bytes(path.str());
  REQUIRE(bytes.size() >= 100);
  CHECK(bytes.compare(0, 16, std::string("SQLite format 3\0", 16)) == 0);
  CHECK(bytes[kWriteVersion] == 2);
  CHECK(bytes[kReadVersion] == 2);
  CHECK(be32(bytes, kUserVersion) ==
        static_cast<std::uint32_t>(sqlite_store::latest_schema_version()));
  CHECK(be32(bytes, kApplicationIdOffset) ==
        static_cast<std::uint32_t>(sqlite_store::kApplicationId));
}

TEST_CASE("sqlite: the migrations are numbered 1, 2, 3 … in order") {
  int expected = 1;
  for (const auto& m : sqlite_store::migrations()) {
    CHECK(m.version == expected++);
    CHECK_FALSE(m.sql.empty());
  }
  CHECK(sqlite_store::latest_schema_version() == expected - 1);
}

TEST_CASE("sqlite: an empty file becomes a gymdash database") {
  test::TempPath path("sqlite-empty");
  write_bytes(path.str(), "");
  auto store = open_sqlite(path.str());
  CHECK(store->schema_version() == sqlite_store::latest_schema_version());
  store->gyms().insert(make_gym("gym-a"));
  CHECK(store->gyms().find("gym-a"));
}

TEST_CASE("sqlite: reopening keeps the data and the schema") {
  test::TempPath path("sqlite-reopen");
  const Gym gym = make_gym("gym-a");
  const Lead lead = make_lead("gym-a", "ld_1", "+12125550001");
  std::vector<LeadEvent> history;
  {
    auto store = open_sqlite(path.str());
    store->gyms().insert(gym);
    store->leads().insert(lead);
    store->leads().append_history(
        "gym-a", LeadEvent{0, "ld_1", at_ms(kT0), "created", "", "new", "api", ""});
    store->leads().append_history("gym-a", LeadEvent{0, "ld_1", at_ms(kT0 + 1), "status", "new",
                                                     "qualified", "maria", "keen"});
    history = store->leads().history("gym-a", "ld_1");
  }
  for (int round = 0; round < 2; ++round) {
    auto store = open_sqlite(path.str());
    CHECK(store->schema_version() == sqlite_store::latest_schema_version());
    CHECK(store->gyms().find("gym-a") == gym);
    CHECK(store->leads().find("gym-a", "ld_1") == lead);
    CHECK(store->leads().history("gym-a", "ld_1") == history);
    LeadFilter vip;
    vip.tags = {"vip"};
    CHECK(store->leads().list("gym-a", vip).total == 1);
  }
}

TEST_CASE("sqlite: the sequence of history events survives a reopen") {
  test::TempPath path("sqlite-seq");
  std::int64_t last = 0;
  {
    auto store = open_sqlite(path.str());
    store->gyms().insert(make_gym("gym-a"));
    store->leads().insert(make_lead("gym-a", "ld_1", "+12125550001"));
    store->leads().insert(make_lead("gym-a", "ld_2", "+12125550002"));
    store->leads().append_history("gym-a",
                                  LeadEvent{0, "ld_2", at_ms(kT0), "created", "", "", "", ""});
    store->leads().append_history("gym-a",
                                  LeadEvent{0, "ld_1", at_ms(kT0), "created", "", "", "", ""});
    last = store->leads().history("gym-a", "ld_1").back().seq;
    CHECK(store->leads().remove("gym-a", "ld_1"));
  }
  auto store = open_sqlite(path.str());
  store->leads().append_history("gym-a", LeadEvent{0, "ld_2", at_ms(kT0), "note", "", "", "", ""});
  CHECK(store->leads().history("gym-a", "ld_2").back().seq > last);
}

// ---------------------------------------------------------------------------
// Files the backend refuses
// ---------------------------------------------------------------------------

TEST_CASE("sqlite: a database from a newer gymdash is refused and left untouched") {
  test::TempPath path("sqlite-newer");
  make_database(path.str());
  std::string bytes = read_bytes(path.str());
  const int newer = sqlite_store::latest_schema_version() + 1;
  put_be32(bytes, kUserVersion, static_cast<std::uint32_t>(newer));
  write_bytes(path.str(), bytes);

  check_refused(path.str(), "database schema version " + std::to_string(newer) +
                                " is newer than this library supports (" +
                                std::to_string(sqlite_store::latest_schema_version()) +
                                "); upgrade gymdash");
}

TEST_CASE("sqlite: a newer database is refused even in rollback-journal mode") {
  test::TempPath path("sqlite-newer-journal");
  make_database(path.str());
  std::string bytes = read_bytes(path.str());
  put_be32(bytes, kUserVersion, 2'000'000);
  bytes[kWriteVersion] = bytes[kReadVersion] = 1;
  write_bytes(path.str(), bytes);
  check_refused(path.str(), "newer than this library supports");
}

TEST_CASE("sqlite: another application's database is refused and left untouched") {
  test::TempPath path("sqlite-foreign");
  make_database(path.str());
  std::string bytes = read_bytes(path.str());

  SUBCASE("its own application id") {
    put_be32(bytes, kApplicationIdOffset, 0x12345678);
    write_bytes(path.str(), bytes);
    check_refused(path.str(), "not a gymdash database");
  }
  SUBCASE("no application id, but tables") {
    put_be32(bytes, kApplicationIdOffset, 0);
    put_be32(bytes, kUserVersion, 0);
    write_bytes(path.str(), bytes);
    check_refused(path.str(), "not a gymdash database");
  }
}

TEST_CASE("sqlite: a file that is not a database is refused and left untouched") {
  test::TempPath path("sqlite-garbage");
  std::string text;
  SUBCASE("a CSV file") {
    while (text.size() < 8192) text += "name,phone\nAlice,+12125550001\n";
  }
  SUBCASE("a few bytes") { text = "hello"; }
  SUBCASE("a cut-off SQLite header") { text = std::string("SQLite format 3\0", 16) + "xyz"; }
  write_bytes(path.str(), text);
  check_refused(path.str(), "not an SQLite database");
}

TEST_CASE("sqlite: create = false does not create a missing file") {
  test::TempPath path("sqlite-missing");
  SqliteOptions options;
  options.path = path.str();
  options.create = false;
  try {
    make_sqlite_store(options);
    FAIL("expected StorageError");
  } catch (const StorageError& e) {
    CHECK(std::string(e.what()).find(path.str()) != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(path.str()));

  make_database(path.str());
  CHECK(make_sqlite_store(options)->gyms().find("gym-a"));
}

TEST_CASE("sqlite: an empty path is an invalid argument") {
  CHECK_THROWS_AS(make_sqlite_store(SqliteOptions{}), InvalidArgumentError);
}

TEST_CASE("sqlite: a path that cannot be opened is a StorageError naming it") {
  test::TempPath dir("sqlite-dir");
  std::filesystem::create_directories(dir.str());
  const std::string inside = dir.str() + "/no/such/dir/gym.db";
  try {
    open_sqlite(inside);
    FAIL("expected StorageError");
  } catch (const StorageError& e) {
    CHECK(std::string(e.what()).find(inside) != std::string::npos);
  }
  std::filesystem::remove_all(dir.str());
}

// ---------------------------------------------------------------------------
// Integrity and transactions
// ---------------------------------------------------------------------------

TEST_CASE("sqlite: foreign keys are enforced") {
  test::TempPath path("sqlite-fk");
  {
    auto store = open_sqlite(path.str());
    CHECK_THROWS_AS(store->leads().insert(make_lead("gym-nowhere", "ld_1", "+12125550001")),
                    NotFoundError);
    store->gyms().insert(make_gym("gym-a"));
    store->leads().insert(make_lead("gym-a", "ld_2", "+12125550002"));
    store->leads().append_history("gym-a",
                                  LeadEvent{0, "ld_2", at_ms(kT0), "created", "", "", "", ""});
    CHECK(store->leads().remove("gym-a", "ld_2"));
  }
  auto store = open_sqlite(path.str());
  CHECK_FALSE(store->leads().find("gym-nowhere", "ld_1"));
  CHECK(store->leads().history("gym-a", "ld_2").empty());
  // The tag rows went with the lead: a new lead with those tags is the only match.
  store->leads().insert(make_lead("gym-a", "ld_3", "+12125550003"));
  LeadFilter vip;
  vip.tags = {"vip"};
  CHECK(store->leads().list("gym-a", vip).total == 1);
}

struct Abort : std::runtime_error {
  Abort() : std::runtime_error("abort") {}
};

TEST_CASE("sqlite: a transaction that throws leaves nothing in the file") {
  test::TempPath path("sqlite-rollback");
  make_database(path.str());
  {
    auto store = open_sqlite(path.str());
    CHECK_THROWS_AS(store->transact([&] {
      store->gyms().insert(make_gym("gym-b"));
      store->leads().insert(make_lead("gym-a", "ld_1", "+12125550001"));
      store->leads().append_history("gym-a",
                                    LeadEvent{0, "ld_1", at_ms(kT0), "created", "", "", "", ""});
      throw Abort();
    }),
                    Abort);
    // The connection is usable afterwards, outside any transaction.
    store->leads().insert(make_lead("gym-a", "ld_2", "+12125550002"));
  }
  auto store = open_sqlite(path.str());
  CHECK_FALSE(store->gyms().find("gym-b"));
  CHECK_FALSE(store->leads().find("gym-a", "ld_1"));
  CHECK(store->leads().history("gym-a", "ld_1").empty());
  CHECK(store->leads().find("gym-a", "ld_2"));
}

TEST_CASE("sqlite: a committed transaction is durable") {
  test::TempPath path("sqlite-commit");
  make_database(path.str());
  {
    auto store = open_sqlite(path.str());
    store->transact([&] {
      store->leads().insert(make_lead("gym-a", "ld_1", "+12125550001"));
      store->leads().insert(make_lead("gym-a", "ld_2", "+12125550002"));
    });
  }
  auto store = open_sqlite(path.str());
  CHECK(store->leads().list("gym-a", LeadFilter{}).total == 2);
}

TEST_CASE("sqlite: a nested transact joins the outer one") {
  test::TempPath path("sqlite-nested");
  make_database(path.str());
  auto store = open_sqlite(path.str());
  // A second connection sees only what is committed.
  auto observer = open_sqlite(path.str());

  SUBCASE("the inner transact does not commit on its own") {
    store->transact([&] {
      store->transact([&] { store->leads().insert(make_lead("gym-a", "ld_1", "+12125550001")); });
      CHECK(store->leads().find("gym-a", "ld_1"));
      CHECK_FALSE(observer->leads().find("gym-a", "ld_1"));
    });
    CHECK(observer->leads().find("gym-a", "ld_1"));
  }
  SUBCASE("the outer rollback takes the inner work with it") {
    CHECK_THROWS_AS(store->transact([&] {
      store->transact([&] { store->leads().insert(make_lead("gym-a", "ld_1", "+12125550001")); });
      throw Abort();
    }),
                    Abort);
    CHECK_FALSE(store->leads().find("gym-a", "ld_1"));
    CHECK_FALSE(observer->leads().find("gym-a", "ld_1"));
  }
}

// The store writes a calling-window group row once per transaction; a group
// whose row was rolled back (here with a savepoint) is written again by the
// next lead in it.
TEST_CASE("sqlite: a calling-window group rolled back with its lead is written by the next lead in it") {
  test::TempPath path("sqlite-zones");
  make_database(path.str());
  auto store = open_sqlite(path.str());
  const auto in_zone = [](std::string id, std::string phone, std::string zone) {
    Lead lead = make_lead("gym-a", std::move(id), std::move(phone));
    lead.local_zone = std::move(zone);
    lead.local_state = "XX";
    return lead;
  };
  store->transact([&] {
    store->leads().insert(in_zone("ld_1", "+12125550001", "America/Chicago"));
    CHECK_THROWS_AS(store->transact([&] {
      store->leads().insert(in_zone("ld_2", "+12125550002", "America/Denver"));
      throw Abort();
    }),
                    Abort);
    store->leads().insert(in_zone("ld_3", "+12125550003", "America/Denver"));
    store->leads().insert(in_zone("ld_4", "+12125550004", "America/Chicago"));
  });
  CHECK_THROWS_AS(store->transact([&] {
    store->leads().insert(in_zone("ld_5", "+12125550005", "America/Phoenix"));
    throw Abort();
  }),
                  Abort);
  store->leads().insert(in_zone("ld_6", "+12125550006", "America/Phoenix"));
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"America/Chicago", "XX"}, {"America/Denver", "XX"}, {"America/Phoenix", "XX"}};
  CHECK(store->leads().dial_groups("gym-a") == expected);
}

TEST_CASE(
    "sqlite: another connection's write lock becomes a StorageError, not an SQLite exception") {
  test::TempPath path("sqlite-busy");
  make_database(path.str());
  auto holder = open_sqlite(path.str());
  auto waiter = open_sqlite(path.str(), 50);
  holder->transact([&] {
    holder->leads().insert(make_lead("gym-a", "ld_1", "+12125550001"));
    try {
      waiter->leads().insert(make_lead("gym-a", "ld_2", "+12125550002"));
      FAIL("expected StorageError");
    } catch (const StorageError& e) {
      const std::string message = e.what();
      INFO("message: ", message);
      CHECK(message.find(path.str()) != std::string::npos);
      CHECK(message.find("ld_2") != std::string::npos);
      CHECK(message.find("locked") != std::string::npos);
    }
    // Reads are not blocked by a writer in WAL mode.
    CHECK(waiter->gyms().find("gym-a"));
  });
  // Once the lock is gone, the waiter writes normally.
  waiter->leads().insert(make_lead("gym-a", "ld_2", "+12125550002"));
  CHECK(holder->leads().find("gym-a", "ld_2"));
}

// Two connections stand for two processes sharing the file: transactions that
// read then write must queue on the write lock, not fail when the other commits.
TEST_CASE("sqlite: transactions of two connections on one file both complete") {
  test::TempPath path("sqlite-two-writers");
  make_database(path.str());
  constexpr int kRounds = 100;
  std::atomic<int> failures{0};
  auto writer = [&](int who) {
    try {
      auto store = open_sqlite(path.str());
      for (int i = 0; i < kRounds; ++i) {
        store->transact([&] {
          // Read first: a transaction that only later asks for the write lock
          // would find the other connection's commit in its way.
          const std::int64_t before = store->leads().list("gym-a", LeadFilter{}).total;
          const int n = who * kRounds + i;
          Lead lead =
              make_lead("gym-a", "ld_" + std::to_string(n), "+1212" + std::to_string(5000000 + n));
          store->leads().insert(lead);
          CHECK(store->leads().list("gym-a", LeadFilter{}).total == before + 1);
        });
      }
    } catch (const std::exception& e) {
      MESSAGE("writer ", who, ": ", e.what());
      ++failures;
    }
  };
  std::thread a(writer, 0);
  std::thread b(writer, 1);
  a.join();
  b.join();
  CHECK(failures == 0);
  CHECK(open_sqlite(path.str())->leads().list("gym-a", LeadFilter{}).total == 2 * kRounds);
}

// ---------------------------------------------------------------------------
// open_store
// ---------------------------------------------------------------------------

TEST_CASE("open_store: chooses the backend by scheme") {
  CHECK(open_store("memory:")->backend() == "memory");
  CHECK(open_store("memory:")->schema_version() == 0);

  test::TempPath path("open-store");
  auto store = open_store("sqlite:" + path.str());
  CHECK(store->backend() == "sqlite");
  CHECK(store->schema_version() == sqlite_store::latest_schema_version());
  CHECK(std::filesystem::exists(path.str()));
}

TEST_CASE("open_store: bad URIs are invalid arguments naming uri") {
  auto check_invalid = [](std::string_view uri, std::string_view part) {
    try {
      open_store(uri);
      FAIL("expected InvalidArgumentError for ", uri);
    } catch (const InvalidArgumentError& e) {
      const std::string message = e.what();
      INFO("message: ", message);
      CHECK(e.field() == "uri");
      CHECK(message.rfind("uri: ", 0) == 0);
      CHECK(message.find(part) != std::string::npos);
    }
  };
  check_invalid("foo:bar", "unknown storage scheme \"foo:\" (expected memory:, sqlite:PATH or postgresql://…)");
  check_invalid("sqlite:", "sqlite:PATH");
  check_invalid("", "expected memory:, sqlite:PATH or postgresql://…");
  check_invalid("gym.db", "gym.db");
  check_invalid("memory:extra", "memory:extra");
  check_invalid("SQLITE:gym.db", "\"SQLITE:\"");
}

}  // namespace
// Version 10 keys call events by gym: recorded events get their call's gym.
TEST_CASE("sqlite: a v9 database upgrades to v10: recorded call events get their call's gym") {
  test::TempPath path("sqlite-upgrade-v10");
  {
    SQLite::Database db(path.str(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const auto& m : sqlite_store::migrations())
      if (m.version <= 9) db.exec(std::string(m.sql));
    db.exec("PRAGMA user_version = 9");
    db.exec("PRAGMA application_id = " + std::to_string(sqlite_store::kApplicationId));
    db.exec("INSERT INTO calls (id, provider_call_id, gym_id) VALUES ('call_1', 'P1', 'gym-b')");
    db.exec("INSERT INTO call_events (event_id, call_id, received_at) VALUES ('E1', 'call_1', 5), ('E2', 'gone', 6)");
  }
  auto store = open_sqlite(path.str());
  CHECK(store->schema_version() == sqlite_store::latest_schema_version());
  CHECK(store->calls().has_event("gym-b", "E1"));
  CHECK_FALSE(store->calls().has_event("gym-a", "E1"));
  // An event whose call is gone keeps its id, under no gym.
  CHECK(store->calls().has_event("", "E2"));
  CHECK(store->calls().record_event("gym-a", "E1", "call_2", at_ms(kT0)));
  CHECK_FALSE(store->calls().record_event("gym-b", "E1", "call_1", at_ms(kT0)));
  store.reset();
  SQLite::Database db(path.str(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
}

// Version 9 declares lead_tags and call_results key-first, so that SQLite
// 3.40's integrity_check (which misread them) answers "ok".
TEST_CASE("sqlite: a v8 database upgrades to v9 with its tags and call results, and checks clean") {
  test::TempPath path("sqlite-upgrade-v9");
  {
    SQLite::Database db(path.str(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const auto& m : sqlite_store::migrations())
      if (m.version <= 8) db.exec(std::string(m.sql));
    db.exec("PRAGMA user_version = 8");
    db.exec("PRAGMA application_id = " + std::to_string(sqlite_store::kApplicationId));
  }
  {
    // Written by the version-8 schema: rows in the old column order.
    SQLite::Database db(path.str(), SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO gyms (id, timezone) VALUES ('gym-a', 'America/New_York')");
    db.exec(
        "INSERT INTO leads (id, gym_id, phone, tags, consent_given, local_zone, local_state, created_at) VALUES "
        "('ld_1', 'gym-a', '+12125550001', '[\"fb\",\"vip\"]', 1, 'America/New_York', 'NY', 5), "
        "('ld_2', 'gym-a', '+12125550002', '[\"vip\"]', 1, 'America/New_York', 'NY', 6)");
    db.exec(
        "INSERT INTO lead_tags (lead_id, gym_id, tag) VALUES ('ld_1', 'gym-a', 'fb'), ('ld_1', 'gym-a', 'vip'), "
        "('ld_2', 'gym-a', 'vip')");
    db.exec(
        "INSERT INTO call_results (lead_id, gym_id, call_id, started_at, status, answered_by, outcome, sentiment, "
        "opted_out) VALUES ('ld_1', 'gym-a', 'c1', 7000, 'completed', 'human', 'interested', 'positive', 1)");
    // A crashed bulk load left the tag index to build again.
    db.exec("DROP INDEX lead_tags_gym_tag");
    db.exec(
        "INSERT INTO bulk_dropped_indexes (name, sql) VALUES ('lead_tags_gym_tag', "
        "'CREATE INDEX lead_tags_gym_tag ON lead_tags (gym_id, tag)')");
  }
  auto store = open_sqlite(path.str());
  CHECK(store->schema_version() == sqlite_store::latest_schema_version());
  LeadFilter vip;
  vip.tags = {"vip"};
  CHECK(store->leads().list("gym-a", vip).total == 2);
  LeadFilter fb;
  fb.tags = {"fb"};
  CHECK(store->leads().list("gym-a", fb).total == 1);
  const auto results = store->leads().call_results("gym-a", "ld_1");
  REQUIRE(results.size() == 1);
  CHECK(results[0].call_id == "c1");
  CHECK(results[0].started_at == at_ms(7000));
  CHECK(results[0].status == CallStatus::Completed);
  CHECK(results[0].answered_by == AnsweredBy::Human);
  CHECK(results[0].outcome == CallOutcome::Interested);
  CHECK(results[0].sentiment == "positive");
  CHECK(results[0].opted_out);
  // The trigger that keeps lead_tags follows a change of tags again.
  auto lead = store->leads().find("gym-a", "ld_2");
  REQUIRE(lead);
  lead->tags = {"fb"};
  lead->version += 1;
  store->leads().update(*lead);
  CHECK(store->leads().list("gym-a", fb).total == 2);
  CHECK(store->leads().list("gym-a", vip).total == 1);
  store.reset();

  SQLite::Database db(path.str(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
  CHECK(db.execAndGet("SELECT count(*) FROM bulk_dropped_indexes").getInt() == 0);
  CHECK(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name = 'lead_tags_gym_tag'").getInt() == 1);
  CHECK(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_v9'").getInt() == 0);
  // Key-first: the primary key's columns lead the declaration.
  CHECK(db.execAndGet("SELECT group_concat(name) FROM (SELECT name FROM pragma_table_info('lead_tags') ORDER BY cid)")
            .getString() == "lead_id,tag,gym_id");
  CHECK(db.execAndGet("SELECT name FROM pragma_table_info('call_results') WHERE cid = 1").getString() == "call_id");
}

}  // namespace gymdash

namespace gymdash {

// ---------------------------------------------------------------------------
// A lead bulk load: the number index in memory (store/sqlite/number_index.hpp)
// ---------------------------------------------------------------------------

std::vector<std::string> schema_names(const std::string& path, const std::string& type) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT name FROM sqlite_schema WHERE type = ?1 ORDER BY name");
  q.bind(1, type);
  std::vector<std::string> names;
  while (q.executeStep()) names.push_back(q.getColumn(0).getString());
  return names;
}

bool has_name(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// No bulk load's state is left: the number index is there, its guard is not.
void check_number_index_back(const std::string& path) {
  CHECK(has_name(schema_names(path, "index"), "leads_gym_phone"));
  CHECK_FALSE(has_name(schema_names(path, "trigger"), "leads_bulk_guard_insert"));
  CHECK_FALSE(has_name(schema_names(path, "trigger"), "leads_bulk_guard_number"));
}

std::vector<std::string> ids_of(const std::vector<Lead>& leads) {
  std::vector<std::string> ids;
  for (const auto& l : leads) ids.push_back(l.id);
  return ids;
}

TEST_CASE("sqlite: a lead bulk load checks numbers in memory while the number index is rebuilt at its end") {
  test::TempPath path("sqlite-bulk-numbers");
  auto store = open_sqlite(path.str());
  store->gyms().insert(make_gym("gym-a"));
  store->gyms().insert(make_gym("gym-b"));
  store->leads().insert(make_lead("gym-a", "ld_01", "+12125550001"));
  store->leads().insert(make_lead("gym-b", "ld_02", "+12125550002"));
  auto& leads = store->leads();
  CHECK_FALSE(std::filesystem::exists(path.str() + "-bulkload"));  // an ordinary open makes no lock file

  // Another store, whose statements were prepared with the number index there.
  auto early = open_sqlite(path.str());
  early->leads().insert(make_lead("gym-b", "ld_00", "+12125550000"));
  CHECK_THROWS_AS(early->leads().insert(make_lead("gym-b", "ld_00b", "+12125550000")), AlreadyExistsError);

  store->begin_bulk_load(200000, BulkLoad::Leads);  // large against the table: its indexes go
  CHECK_FALSE(has_name(schema_names(path.str(), "index"), "leads_gym_phone"));
  CHECK_FALSE(has_name(schema_names(path.str(), "trigger"), "leads_bulk_guard_insert"));  // no trigger on INSERT
  CHECK(has_name(schema_names(path.str(), "trigger"), "leads_bulk_guard_number"));
  // Its prepared INSERT needs the dropped index: refused, nothing written.
  CHECK_THROWS_AS(early->leads().insert(make_lead("gym-b", "ld_00c", "+12125550070")), ConflictError);
  CHECK_THROWS_AS(early->leads().insert_if_absent(make_lead("gym-b", "ld_00d", "+12125550071")), ConflictError);
  CHECK_FALSE(leads.find("gym-b", "ld_00c"));
  CHECK_FALSE(leads.find("gym-b", "ld_00d"));
  early.reset();

  // Numbers held before the load, and added during it, in their gym only.
  CHECK_FALSE(leads.insert_if_absent(make_lead("gym-a", "ld_03", "+12125550001")));
  CHECK(leads.insert_if_absent(make_lead("gym-b", "ld_04", "+12125550001")));
  CHECK_FALSE(leads.insert_if_absent(make_lead("gym-b", "ld_05", "+12125550001")));
  CHECK(leads.insert_if_absent(make_lead("gym-a", "ld_06", "+12125550002")));
  try {
    leads.insert(make_lead("gym-a", "ld_07", "+12125550002"));
    FAIL("expected AlreadyExistsError");
  } catch (const AlreadyExistsError& e) {
    CHECK(e.field() == "phone");
    CHECK(std::string(e.what()).find("ld_06") != std::string::npos);
  }
  CHECK_FALSE(leads.find("gym-a", "ld_03"));
  CHECK_FALSE(leads.find("gym-a", "ld_07"));
  REQUIRE(leads.find_by_phone("gym-a", "+12125550001"));
  CHECK(leads.find_by_phone("gym-a", "+12125550001")->id == "ld_01");
  CHECK(leads.find_by_phone("gym-b", "+12125550001")->id == "ld_04");
  CHECK_FALSE(leads.find_by_phone("gym-a", "+12125550099"));
  CHECK(ids_of(leads.find_by_phone_any_gym("+12125550001")) == std::vector<std::string>{"ld_01", "ld_04"});

  // A new number: refused when the gym has it, else the lead moves to it.
  Lead moved = *leads.find("gym-a", "ld_06");
  moved.phone = "+12125550001";
  ++moved.version;
  CHECK_THROWS_AS(leads.update(moved), AlreadyExistsError);
  moved.phone = "+12125550009";
  leads.update(moved);
  CHECK_FALSE(leads.find_by_phone("gym-a", "+12125550002"));
  CHECK(leads.find_by_phone("gym-a", "+12125550009")->id == "ld_06");
  CHECK(leads.insert_if_absent(make_lead("gym-a", "ld_08", "+12125550002")));
  // The number kept: the row the number index names is the one written; a
  // stale version is refused as without the index.
  Lead kept = *leads.find("gym-a", "ld_06");
  kept.first_name = "Kept";
  ++kept.version;
  leads.update(kept);
  CHECK(leads.find("gym-a", "ld_06")->first_name == "Kept");
  CHECK(leads.find_by_phone("gym-a", "+12125550009")->id == "ld_06");
  CHECK(leads.find("gym-a", "ld_08")->first_name != "Kept");
  kept.first_name = "Stale";
  CHECK_THROWS_AS(leads.update(kept), ConflictError);
  CHECK(leads.find("gym-a", "ld_06")->first_name == "Kept");

  // A removed lead's number is free again.
  CHECK(leads.remove("gym-a", "ld_01"));
  CHECK_FALSE(leads.find_by_phone("gym-a", "+12125550001"));
  CHECK(leads.insert_if_absent(make_lead("gym-a", "ld_09", "+12125550001")));

  // What a transaction or a savepoint rolls back, the index forgets.
  CHECK_THROWS_AS(store->transact([&] {
    CHECK(leads.insert_if_absent(make_lead("gym-a", "ld_10", "+12125550042")));
    CHECK(leads.remove("gym-a", "ld_09"));
    throw Abort();
  }),
                  Abort);
  CHECK_FALSE(leads.find_by_phone("gym-a", "+12125550042"));
  CHECK(leads.find_by_phone("gym-a", "+12125550001")->id == "ld_09");
  store->transact([&] {
    CHECK(leads.insert_if_absent(make_lead("gym-a", "ld_11", "+12125550050")));
    CHECK_THROWS_AS(store->transact([&] {
      CHECK(leads.insert_if_absent(make_lead("gym-a", "ld_12", "+12125550051")));
      throw Abort();
    }),
                    Abort);
    CHECK_FALSE(leads.insert_if_absent(make_lead("gym-a", "ld_13", "+12125550050")));
  });
  CHECK(leads.find_by_phone("gym-a", "+12125550050")->id == "ld_11");
  CHECK_FALSE(leads.find_by_phone("gym-a", "+12125550051"));
  CHECK(leads.insert_if_absent(make_lead("gym-a", "ld_14", "+12125550042")));
  CHECK(leads.find_by_phone("gym-a", "+12125550042")->id == "ld_14");

  // Another thread of this store keeps its foreign-key checks (the load's
  // own transactions skip them).
  std::thread([&] {
    CHECK_THROWS_AS(store->transact([&] { leads.insert(make_lead("gym-nowhere", "ld_15", "+12125550060")); }),
                    NotFoundError);
  }).join();

  // Another connection reads, and may change a lead, but adds no lead and
  // changes no number until the load ends.
  {
    auto other = open_sqlite(path.str());
    CHECK(other->leads().find_by_phone("gym-a", "+12125550042")->id == "ld_14");
    try {
      other->leads().insert(make_lead("gym-a", "ld_16", "+12125550061"));
      FAIL("expected ConflictError");
    } catch (const ConflictError& e) {
      CHECK(e.field() == "phone");
      CHECK(std::string(e.what()).find("bulk import") != std::string::npos);
    }
    CHECK_THROWS_AS(other->leads().insert_if_absent(make_lead("gym-a", "ld_17", "+12125550062")), ConflictError);
    Lead renamed = *other->leads().find("gym-a", "ld_14");
    renamed.first_name = "Renamed";
    ++renamed.version;
    other->leads().update(renamed);
    renamed.phone = "+12125550063";
    ++renamed.version;
    CHECK_THROWS_AS(other->leads().update(renamed), ConflictError);
  }
  CHECK(leads.find("gym-a", "ld_14")->first_name == "Renamed");
  CHECK(leads.find("gym-a", "ld_14")->phone == "+12125550042");

  store->end_bulk_load();
  check_number_index_back(path.str());
  // The index checks numbers again, for every connection.
  CHECK_THROWS_AS(leads.insert(make_lead("gym-a", "ld_18", "+12125550042")), AlreadyExistsError);
  CHECK_FALSE(leads.insert_if_absent(make_lead("gym-a", "ld_19", "+12125550050")));
  auto other = open_sqlite(path.str());
  other->leads().insert(make_lead("gym-a", "ld_20", "+12125550064"));
  CHECK(leads.find_by_phone("gym-a", "+12125550064")->id == "ld_20");
  CHECK_THROWS_AS(leads.insert(make_lead("gym-nowhere", "ld_21", "+12125550065")), NotFoundError);
  SQLite::Database db(path.str(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
  CHECK(db.execAndGet("SELECT count(*) FROM bulk_dropped_indexes").getInt() == 0);
}

TEST_CASE("sqlite: a lead bulk load cut short leaves its number index and guard to the next open") {
  test::TempPath path("sqlite-bulk-crash");
  {
    auto store = open_sqlite(path.str());
    store->gyms().insert(make_gym("gym-a"));
    store->leads().insert(make_lead("gym-a", "ld_01", "+12125550001"));
    store->begin_bulk_load(200000, BulkLoad::Leads);
    CHECK(store->leads().insert_if_absent(make_lead("gym-a", "ld_02", "+12125550002")));
    // Closed without end_bulk_load, as a crash would leave it.
  }
  CHECK_FALSE(has_name(schema_names(path.str(), "index"), "leads_gym_phone"));
  CHECK(has_name(schema_names(path.str(), "trigger"), "leads_bulk_guard_number"));
  auto store = open_sqlite(path.str());
  check_number_index_back(path.str());
  CHECK_THROWS_AS(store->leads().insert(make_lead("gym-a", "ld_03", "+12125550002")), AlreadyExistsError);
  store->leads().insert(make_lead("gym-a", "ld_04", "+12125550004"));
  CHECK(store->leads().find_by_phone("gym-a", "+12125550004")->id == "ld_04");
}

// Two loads of one store at once (two imports, or an import and an ingest)
// share the first one's dropped indexes and number index; the last to end
// builds them again.
TEST_CASE("sqlite: bulk loads of one store at once end with the last of them") {
  test::TempPath path("sqlite-bulk-nested");
  auto store = open_sqlite(path.str());
  store->gyms().insert(make_gym("gym-a"));
  store->leads().insert(make_lead("gym-a", "ld_01", "+12125550001"));
  store->begin_bulk_load(200000, BulkLoad::Leads);
  std::thread([&] { store->begin_bulk_load(200000, BulkLoad::CallEvents); }).join();
  CHECK_FALSE(has_name(schema_names(path.str(), "index"), "leads_gym_phone"));
  CHECK(store->leads().insert_if_absent(make_lead("gym-a", "ld_02", "+12125550002")));
  store->end_bulk_load();  // the import ends; the ingest goes on
  CHECK_FALSE(has_name(schema_names(path.str(), "index"), "leads_gym_phone"));
  CHECK_FALSE(store->leads().insert_if_absent(make_lead("gym-a", "ld_03", "+12125550002")));
  CHECK(store->leads().insert_if_absent(make_lead("gym-a", "ld_04", "+12125550004")));
  CHECK(store->leads().find_by_phone("gym-a", "+12125550004")->id == "ld_04");
  std::thread([&] { store->end_bulk_load(); }).join();
  check_number_index_back(path.str());
  CHECK_THROWS_AS(store->leads().insert(make_lead("gym-a", "ld_05", "+12125550004")), AlreadyExistsError);
  store->end_bulk_load();  // one too many: nothing to end
  SQLite::Database db(path.str(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT count(*) FROM bulk_dropped_indexes").getInt() == 0);
}

// A call-event bulk load drops what the ingest only writes (among them a
// lead's calls, calls_lead_started: the ingest reads a lead's earlier calls
// from call_results) and keeps what it looks up; a lead's calls are still
// listed meanwhile, and the index is back when the load ends.
TEST_CASE("sqlite: a call-event bulk load drops the index of a lead's calls and lists them meanwhile") {
  test::TempPath path("sqlite-bulk-calls");
  auto store = open_sqlite(path.str());
  store->gyms().insert(make_gym("gym-a"));
  store->leads().insert(make_lead("gym-a", "ld_01", "+12125550001"));
  const auto call = [](std::string id, std::int64_t started_s) {
    Call c;
    c.id = id;
    c.provider_call_id = "P-" + id;
    c.gym_id = "gym-a";
    c.lead_id = "ld_01";
    c.started_at = at_ms((1'790'000'000 + started_s) * 1000);
    c.status = CallStatus::Completed;
    c.answered_by = AnsweredBy::Human;
    return c;
  };
  store->calls().put(call("call_2", 20));
  store->begin_bulk_load(200000, BulkLoad::CallEvents);
  const auto indexes = schema_names(path.str(), "index");
  CHECK_FALSE(has_name(indexes, "calls_lead_started"));
  CHECK_FALSE(has_name(indexes, "calls_gym_started"));
  CHECK(has_name(indexes, "calls_gym_provider"));  // the ingest finds calls by provider id
  store->calls().put(call("call_1", 10));
  const auto ids = [&] {
    std::vector<std::string> out;
    for (const auto& c : store->calls().for_lead("gym-a", "ld_01")) out.push_back(c.id);
    return out;
  };
  CHECK(ids() == std::vector<std::string>{"call_1", "call_2"});  // oldest first, without the index
  store->end_bulk_load();
  CHECK(has_name(schema_names(path.str(), "index"), "calls_lead_started"));
  CHECK(ids() == std::vector<std::string>{"call_1", "call_2"});
  SQLite::Database db(path.str(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
  CHECK(db.execAndGet("SELECT count(*) FROM bulk_dropped_indexes").getInt() == 0);
}

// During a lead bulk load the new leads of a piece go in with one statement
// (the virtual table gymdash_lead_rows); what it stores, refuses and fails
// on must be what lead-by-lead inserts store, refuse and fail on.
TEST_CASE("sqlite: a bulk load's pieces store, refuse and fail as lead-by-lead inserts do") {
  struct Outcome {
    std::vector<bool> stored;
    std::vector<Lead> leads;  // every lead, by id
    std::vector<std::string> tagged_vip, errors;
  };
  const auto run = [](bool bulk) {
    test::TempPath path(bulk ? "sqlite-piece-bulk" : "sqlite-piece-plain");
    auto store = open_sqlite(path.str());
    store->gyms().insert(make_gym("gym-a"));
    store->gyms().insert(make_gym("gym-b"));
    store->leads().insert(make_lead("gym-a", "ld_00", "+12125550000"));
    if (bulk) store->begin_bulk_load(200000, BulkLoad::Leads);
    Outcome out;
    std::vector<Lead> piece;
    for (int i = 1; i <= 300; ++i) {  // more than one page of rows
      Lead l = make_lead(i % 3 == 0 ? "gym-b" : "gym-a", "ld_" + std::to_string(1000 + i),
                         "+1212556" + std::to_string(1000 + i));
      l.tags = i % 2 == 0 ? std::vector<std::string>{"vip"} : std::vector<std::string>{"even", "odd"};
      l.local_zone = i % 5 == 0 ? "America/Chicago" : "America/New_York";
      l.local_state = i % 5 == 0 ? "IL" : "NY";
      l.last_call_at.reset();
      l.notes = i == 7 ? std::string("tab\there, quote ' and \"double\", nul-free") : "";
      piece.push_back(std::move(l));
    }
    piece.push_back(make_lead("gym-a", "ld_2001", "+12125550000"));  // held before the piece
    piece.push_back(make_lead("gym-a", "ld_2002", "+12125561001"));  // an earlier lead of the piece's
    piece.push_back(make_lead("gym-b", "ld_2003", "+12125561001"));  // the same number, another gym
    store->transact([&] { out.stored = store->leads().insert_many_if_absent(piece); });
    // A piece with an id already stored fails whole, naming the id; so does
    // a lead the store cannot encode; the numbers of what failed are free.
    std::vector<Lead> taken_id = {make_lead("gym-a", "ld_3001", "+12125570001"),
                                  make_lead("gym-a", "ld_1001", "+12125570002")};
    std::vector<Lead> bad_status = {make_lead("gym-a", "ld_3002", "+12125570003"),
                                    make_lead("gym-a", "ld_3003", "+12125570004")};
    bad_status[1].status = static_cast<LeadStatus>(42);
    for (auto* failing : {&taken_id, &bad_status}) {
      try {
        store->transact([&] { store->leads().insert_many_if_absent(*failing); });
        out.errors.push_back("none");
      } catch (const Error& e) {
        out.errors.push_back(std::string(e.field()) + ": " + e.what());
      }
    }
    CHECK(store->leads().insert_if_absent(make_lead("gym-a", "ld_3004", "+12125570001")));
    CHECK(store->leads().insert_if_absent(make_lead("gym-a", "ld_3005", "+12125570003")));
    if (bulk) store->end_bulk_load();
    for (const char* gym : {"gym-a", "gym-b"}) {
      LeadFilter all;
      all.page_size = 1000;
      for (auto& l : store->leads().list(gym, all).items) out.leads.push_back(std::move(l));
      LeadFilter vip;
      vip.tags = {"vip"};
      vip.page_size = 1000;
      for (const auto& l : store->leads().list(gym, vip).items) out.tagged_vip.push_back(l.id);
    }
    std::sort(out.leads.begin(), out.leads.end(), [](const Lead& a, const Lead& b) { return a.id < b.id; });
    std::sort(out.tagged_vip.begin(), out.tagged_vip.end());
    CHECK(store->leads().dial_groups("gym-a").size() == 3);  // with make_lead's empty zone
    SQLite::Database db(path.str(), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
    return out;
  };
  const Outcome plain = run(false);
  const Outcome bulk = run(true);
  REQUIRE(plain.stored.size() == 303);
  CHECK(std::count(plain.stored.begin(), plain.stored.end(), true) == 301);
  CHECK_FALSE(plain.stored[300]);
  CHECK_FALSE(plain.stored[301]);
  CHECK(plain.stored[302]);
  CHECK(bulk.stored == plain.stored);
  CHECK(plain.leads.size() == 304);
  CHECK(bulk.leads == plain.leads);
  CHECK(plain.tagged_vip.size() == 154);  // the 150 even ones and four of make_lead's
  CHECK(bulk.tagged_vip == plain.tagged_vip);
  REQUIRE(plain.errors.size() == 2);
  CHECK(plain.errors[0].rfind("id: ", 0) == 0);
  CHECK(plain.errors[1].rfind("status: ", 0) == 0);
  CHECK(bulk.errors == plain.errors);
}

// insert_many_if_absent writes a piece's tag rows in one statement over the
// rowids its new leads took, one after another; a table whose rowids are
// taken at random (the largest one used) gets them lead by lead.
TEST_CASE("sqlite: the tag rows of leads inserted together, with rowids in a row or not") {
  for (bool largest_rowid_used : {false, true}) {
    CAPTURE(largest_rowid_used);
    test::TempPath path("sqlite-many-tags");
    auto store = open_sqlite(path.str());
    store->gyms().insert(make_gym("gym-a"));
    store->leads().insert(make_lead("gym-a", "ld_00", "+12125550000"));
    if (largest_rowid_used) {
      SQLite::Database db(path.str(), SQLite::OPEN_READWRITE);
      db.exec("UPDATE leads SET rowid = 9223372036854775807");
    }
    std::vector<Lead> batch;
    for (int i = 1; i <= 5; ++i) {
      Lead l = make_lead("gym-a", "ld_0" + std::to_string(i), "+1212555000" + std::to_string(i));
      l.tags = {"t" + std::to_string(i), "all"};
      batch.push_back(std::move(l));
    }
    batch.push_back(make_lead("gym-a", "ld_06", "+12125550000"));  // the number is taken: not stored
    std::vector<bool> stored;
    store->transact([&] { stored = store->leads().insert_many_if_absent(batch); });
    CHECK(stored == std::vector<bool>{true, true, true, true, true, false});
    LeadFilter all;
    all.tags = {"all"};
    CHECK(store->leads().list("gym-a", all).total == 5);
    LeadFilter third;
    third.tags = {"t3"};
    const auto page = store->leads().list("gym-a", third);
    REQUIRE(page.items.size() == 1);
    CHECK(page.items[0].id == "ld_03");
    LeadFilter vip;
    vip.tags = {"vip"};
    CHECK(store->leads().list("gym-a", vip).total == 1);  // ld_00's own
  }
}

// The hash table itself, against a std::map, through adds, removes (whose
// holes the entries after them move back into), growth, numbers that do
// not pack into a key, and rollbacks to marks.
TEST_CASE("sqlite: the number index in memory agrees with a map through adds, removes and rollbacks") {
  sqlite_store::NumberIndex index;
  std::map<std::pair<std::string, std::string>, std::int64_t> want;
  std::mt19937_64 rng(7);
  const std::vector<std::string> gyms = {"gym-a", "gym-b", "gym-c"};
  auto number = [&] {
    const auto n = rng() % 400000;
    if (n % 97 == 0) return "ext-" + std::to_string(n);  // not E.164: kept under its text
    if (n % 89 == 0) return "+0" + std::to_string(n);    // a leading zero: not packed either
    return "+1212" + std::to_string(1000000 + n);
  };
  std::int64_t next_rowid = 1;
  auto check_all = [&] {
    CHECK(index.size() == want.size());
    for (const auto& [key, rowid] : want) {
      const auto got = index.find(key.first, key.second);
      REQUIRE(got);
      CHECK(*got == rowid);
    }
  };
  for (int round = 0; round < 6; ++round) {
    const auto before = want;
    const auto mark = index.mark();
    for (int i = 0; i < 40000; ++i) {
      const std::string& gym = gyms[rng() % gyms.size()];
      const std::string phone = number();
      const auto key = std::make_pair(gym, phone);
      const bool held = want.count(key) > 0;
      CHECK(index.find(gym, phone).has_value() == held);
      if (held && rng() % 3 == 0) {
        index.remove(gym, phone);
        want.erase(key);
      } else if (!held) {
        index.add(gym, phone, next_rowid);
        want[key] = next_rowid++;
      }
    }
    check_all();
    if (round % 2 == 1) {  // this round rolls back
      index.undo_to(mark);
      want = before;
      check_all();
    } else {
      index.forget();
    }
  }
  // A number in every gym, by gym.
  index.add("gym-c", "+12125550123", 900001);
  index.add("gym-a", "+12125550123", 900002);
  const auto any = index.find_any_gym("+12125550123");
  REQUIRE(any.size() == 2);
  CHECK(any[0] == std::pair<std::string, std::int64_t>{"gym-a", 900002});
  CHECK(any[1] == std::pair<std::string, std::int64_t>{"gym-c", 900001});
}

TEST_CASE("sqlite: WAL checkpoints happen on their own thread, and the data is all there") {
  test::TempPath path("sqlite-checkpoint");
  auto store = open_sqlite(path.str());
  store->gyms().insert(make_gym("gym-a"));
  const auto db_bytes = [&] { return std::filesystem::file_size(path.str()); };
  const auto before = db_bytes();
  // One transaction of about 2,500 pages (notes of 4 KB): its commit grows the
  // WAL past the 1,000 pages that wake the checkpoint thread.
  store->transact([&] {
    for (int i = 0; i < 2500; ++i) {
      Lead l = make_lead("gym-a", "ld_" + std::to_string(i), "+1212555" + std::to_string(1000000 + i).substr(1));
      l.notes = std::string(4000, static_cast<char>('a' + i % 26));
      store->leads().insert(l);
    }
  });
  // The commit returned without copying the pages into the database file; the
  // thread does, soon after. Waited for by polling (generously), not timed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (db_bytes() < before + 2000 * 4096 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(db_bytes() >= before + 2000 * 4096);
  LeadFilter all;
  all.page_size = 1;
  CHECK(store->leads().list("gym-a", all).total == 2500);
  store.reset();
  auto again = open_sqlite(path.str());
  CHECK(again->leads().list("gym-a", all).total == 2500);
  CHECK(again->leads().find("gym-a", "ld_2499")->notes == std::string(4000, static_cast<char>('a' + 2499 % 26)));
}

TEST_CASE("sqlite: the end of a lead bulk load truncates the log") {
  using sqlite_store::Checkpointer;
  test::TempPath path("sqlite-checkpoint-bulk");
  auto store = open_sqlite(path.str());
  store->gyms().insert(make_gym("gym-a"));
  store->begin_bulk_load(200000, BulkLoad::Leads);
  // Commits of about 1,000 pages each (notes of 12 KB: three pages a lead),
  // to past the size at which the log starts over outside bulk loads.
  const int leads_per_commit = 340;
  const int commits = Checkpointer::kRestartPages / 1000 + 2;
  for (int c = 0; c < commits; ++c)
    store->transact([&] {
      for (int i = 0; i < leads_per_commit; ++i) {
        const int n = c * leads_per_commit + i;
        Lead l = make_lead("gym-a", "ld_" + std::to_string(n), "+1212555" + std::to_string(1000000 + n).substr(1));
        l.notes = std::string(12000, static_cast<char>('a' + n % 26));
        CHECK(store->leads().insert_if_absent(l));
      }
    });
  CHECK(store->leads().insert_if_absent(make_lead("gym-a", "ld_last", "+12125559999")));
  const auto wal = path.str() + "-wal";
  CHECK(std::filesystem::file_size(wal) > 0);  // not truncated during the load
  store->end_bulk_load();
  // The checkpoint thread copies the rest and truncates the log. Waited for
  // by polling (generously), not timed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::filesystem::file_size(wal) > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(std::filesystem::file_size(wal) == 0);
  LeadFilter all;
  all.page_size = 1;
  CHECK(store->leads().list("gym-a", all).total == commits * leads_per_commit + 1);
  store.reset();
  SQLite::Database db(path.str(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
  CHECK(db.execAndGet("SELECT count(*) FROM leads").getInt() == commits * leads_per_commit + 1);
}

}  // namespace gymdash

// The packed rollup rows (migration v5) are added to in one statement by
// gymdash_add_counts: one pass over two lists in name order.
TEST_CASE("sqlite: packed rollup counts add as a merge of two sorted lists") {
  const auto add_packed_counts = [](std::string_view a, std::string_view b) { return gymdash::packed_counts::add(a, b); };
  CHECK(add_packed_counts("", "") == "");
  CHECK(add_packed_counts("", "1:a=2;") == "1:a=2;");
  CHECK(add_packed_counts("1:a=2;", "") == "1:a=2;");
  // Interleaved names, a shared one summed, negative amounts.
  CHECK(add_packed_counts("1:a=2;1:c=5;", "1:b=1;1:c=-2;2:cd=-1;") == "1:a=2;1:b=1;1:c=3;2:cd=-1;");
  // An entry that reaches zero goes; so does the whole list.
  CHECK(add_packed_counts("1:a=2;1:c=5;", "1:c=-5;") == "1:a=2;");
  CHECK(add_packed_counts("1:a=2;", "1:a=-2;") == "");
  // Names are compared as bytes: "10.2" sorts before "9.2"; an empty name is a name.
  CHECK(add_packed_counts("10:calls.10.2=3;9:calls.9.2=1;", "9:calls.1.2=1;") ==
        "9:calls.1.2=1;10:calls.10.2=3;9:calls.9.2=1;");
  CHECK(add_packed_counts("0:=4;", "0:=1;") == "0:=5;");
  // A name may hold the separators; its length says where it ends.
  CHECK(add_packed_counts("3:a;b=1;", "3:a;b=1;") == "3:a;b=2;");
  CHECK(gymdash::packed_counts::pack({{"b", 2}, {"a", 1}, {"z", 0}}) == "1:a=1;1:b=2;");
  // Malformed or out-of-order lists are a StorageError, not a guess.
  CHECK_THROWS_AS(add_packed_counts("1:b=1;1:a=1;", ""), gymdash::StorageError);
  CHECK_THROWS_AS(add_packed_counts("1:a=1;1:a=1;", ""), gymdash::StorageError);
  CHECK_THROWS_AS(add_packed_counts("5:a=1;", ""), gymdash::StorageError);
  CHECK_THROWS_AS(add_packed_counts("1:a=;", ""), gymdash::StorageError);
  CHECK_THROWS_AS(add_packed_counts("1:a=1", ""), gymdash::StorageError);
  CHECK_THROWS_AS(add_packed_counts("x:a=1;", ""), gymdash::StorageError);
}


// In bulk mode the thread copies the log as it grows but never makes it
// start over (which holds the writers back); when the mode ends it copies
// the rest and truncates the log.
TEST_CASE("sqlite: in bulk mode the checkpoint thread lets the log grow, and truncates it when the mode ends") {
  using gymdash::sqlite_store::Checkpointer;
  gymdash::test::TempPath path("checkpointer-bulk");
  SQLite::Database db(path.str(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("CREATE TABLE t (x BLOB)");
  std::recursive_mutex writers;
  Checkpointer checkpointer(db.getHandle(), path.str(), 5000, writers);
  checkpointer.set_bulk_load(true);
  // Commits of about 1,000 pages (256 blobs of 16,000 bytes), to past the
  // size at which the log starts over outside bulk mode.
  const int commits = Checkpointer::kRestartPages / 1000 + 2;
  for (int c = 0; c < commits; ++c) {
    std::lock_guard lock(writers);
    db.exec("BEGIN");
    for (int i = 0; i < 256; ++i) db.exec("INSERT INTO t VALUES (zeroblob(16000))");
    db.exec("COMMIT");
  }
  // Copied into the database (polled, generously, not timed); then a pause
  // in which, outside bulk mode, the thread would restart the log.
  const auto wait_for = [](const auto& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return done();
  };
  const auto data_bytes = static_cast<std::uintmax_t>(commits) * 256 * 16000;
  CHECK(wait_for([&] { return std::filesystem::file_size(path.str()) >= data_bytes; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(checkpointer.restarts() == 0);
  checkpointer.set_bulk_load(false);
  CHECK(wait_for([&] { return checkpointer.restarts() > 0; }));
  CHECK(checkpointer.restarts() == 1);
  CHECK(std::filesystem::file_size(path.str() + "-wal") == 0);
  CHECK(db.execAndGet("SELECT count(*) FROM t").getInt() == commits * 256);
}

// The checkpoint thread is woken once the log reaches kPokePages, then once
// every kPokeStepPages pages, and again after the log started over.
TEST_CASE("sqlite: the checkpoint thread is woken every few hundred pages of log, not at every commit") {
  using gymdash::sqlite_store::Checkpointer;
  int poked_at = 0;
  CHECK_FALSE(Checkpointer::poke_due(20, poked_at));
  CHECK_FALSE(Checkpointer::poke_due(Checkpointer::kPokePages - 1, poked_at));
  CHECK(Checkpointer::poke_due(Checkpointer::kPokePages + 5, poked_at));
  CHECK(poked_at == Checkpointer::kPokePages + 5);
  int wakes = 0;
  // Commits of 20 pages each, from there to 8,000 pages of log.
  for (int pages = Checkpointer::kPokePages + 25; pages < 8000; pages += 20) wakes += Checkpointer::poke_due(pages, poked_at);
  const int expected = (8000 - Checkpointer::kPokePages) / Checkpointer::kPokeStepPages;
  CHECK(wakes >= expected - 1);
  CHECK(wakes <= expected + 1);
  // The log started over: quiet until it has grown again, then a wake at once.
  const int before = poked_at;
  CHECK_FALSE(Checkpointer::poke_due(40, poked_at));
  CHECK(poked_at == before);
  CHECK(Checkpointer::poke_due(Checkpointer::kPokePages + 20, poked_at));
  CHECK_FALSE(Checkpointer::poke_due(Checkpointer::kPokePages + 40, poked_at));
}
