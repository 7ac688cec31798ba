// The PostgreSQL backend's own cases (what the conformance suites cannot say):
// opening by URI, bad URIs, refused credentials, a server that is down, a
// schema written by a newer gymdash or by another application, a failing
// migration, several stores opening one schema at once. The cases that need
// a server run when GYMDASH_TEST_POSTGRES_URI names one (scripts/test.sh).

#include <doctest/doctest.h>

#include <gymdash/error.hpp>
#include <gymdash/gymdash.hpp>
#include <gymdash/store.hpp>
#include <string>

#ifdef GYMDASH_TEST_WITH_POSTGRES

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "postgres_backend.hpp"
#include "store/postgres/migrations.hpp"

namespace gymdash {
namespace {

using test::postgres_exec;
using test::postgres_test_uri;
using test::postgres_value;

// Calls `fn` and checks that it throws E whose message holds every part of `parts`.
template <class E, class Fn>
std::string expect_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const E& e) {
    const std::string message = e.what();
    INFO("message: ", message);
    for (const auto& part : parts) CHECK(message.find(part) != std::string::npos);
    return message;
  } catch (const std::exception& e) {
    FAIL("unexpected exception: ", e.what());
    return {};
  }
  FAIL("no exception");
  return {};
}

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
int unused_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t length = sizeof addr;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &length);
  const int port = ntohs(addr.sin_port);
  ::close(s);
  return port;
}

// The test server's host and port, from its URI ("host:port").
std::string server_address(const std::string& uri) {
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), nullptr);
  REQUIRE(options);
  std::string host = "127.0.0.1", port = "5432";
  for (auto* o = options; o->keyword; ++o) {
    if (std::string(o->keyword) == "host" && o->val) host = o->val;
    if (std::string(o->keyword) == "port" && o->val) port = o->val;
  }
  PQconninfoFree(options);
  return host + ":" + port;
}

int tables_in(const std::string& uri, const std::string& schema) {
  return std::stoi(
      postgres_value(uri, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema + "'"));
}

TEST_CASE("postgres: a malformed URI is an invalid argument naming it, before any connection") {
  auto message = expect_error<InvalidArgumentError>([] { open_store("postgresql://[::1/gym"); },
                                                    {"uri: ", "not a valid PostgreSQL URI"});
  CHECK(message.find("postgresql://[::1/gym") != std::string::npos);
  expect_error<InvalidArgumentError>([] { make_postgres_store(PostgresOptions{}); }, {"uri", "needs"});
}

TEST_CASE("postgres: a server that is down is unavailable, and the message says so") {
  const std::string uri =
      "postgresql://postgres@127.0.0.1:" + std::to_string(unused_port()) + "/postgres?connect_timeout=3";
  try {
    open_store(uri);
    FAIL("no exception");
  } catch (const UnavailableError& e) {
    const std::string message = e.what();
    INFO("message: ", message);
    CHECK(message.find("cannot connect to the server") != std::string::npos);
    CHECK(e.field() == "uri");
  }
}

TEST_CASE("postgres: the password never appears in a message") {
  const std::string uri = "postgresql://someone:hunter2-secret@127.0.0.1:" + std::to_string(unused_port()) +
                          "/postgres?connect_timeout=3";
  auto message = expect_error<UnavailableError>([&] { open_store(uri); }, {"(user someone)", "127.0.0.1:"});
  CHECK(message.find("hunter2") == std::string::npos);
  // A malformed URI is quoted back with its password masked.
  message = expect_error<InvalidArgumentError>([] { open_store("postgresql://someone:hunter2-secret@[::1/gym"); },
                                               {"someone:***@"});
  CHECK(message.find("hunter2") == std::string::npos);
}

TEST_CASE("postgres: refused credentials and an unknown database are storage errors naming the cause") {
  const std::string uri = postgres_test_uri();
  if (uri.empty()) return;  // excluded by the test main; kept safe when run by name
  const std::string address = server_address(uri);
  SUBCASE("wrong password") {
    auto message = expect_error<StorageError>(
        [&] { open_store("postgresql://gymdash_auth:not-the-password@" + address + "/postgres"); },
        {"refused the credentials", "password authentication failed", "(user gymdash_auth)"});
    CHECK(message.find("not-the-password") == std::string::npos);
  }
  SUBCASE("unknown database") {
    expect_error<StorageError>([&] { open_store("postgresql://postgres@" + address + "/gymdash_no_such_db"); },
                               {"unknown database", "gymdash_no_such_db"});
  }
  SUBCASE("unknown user") {
    expect_error<StorageError>([&] { open_store("postgresql://gymdash_nobody@" + address + "/postgres"); },
                               {"gymdash_nobody"});
  }
}

// The cases below need the server: instantiated for PostgresBackend only, so
// that the test main leaves them out when there is none.
template <class B>
struct Server {
  B backend;
};

TEST_CASE_TEMPLATE("postgres: a new schema is created and migrated; reopening keeps the data", B,
                   test::PostgresBackend) {
  Server<B> s;
  {
    auto store = s.backend.open();
    CHECK(store->backend() == "postgres");
    CHECK(store->schema_version() >= 1);
    Gym gym;
    gym.id = "gym-a";
    store->gyms().insert(gym);
  }
  auto again = s.backend.open();
  CHECK(again->gyms().find("gym-a"));
  CHECK(postgres_value(s.backend.uri, "SELECT max(version) FROM \"" + s.backend.schema + "\".gymdash_schema") ==
        std::to_string(again->schema_version()));
}

// SQL that creates `schema` as gymdash's migrations up to `version` left it,
// recorded as that version, and sets the search path to it.
std::string schema_at_version(const std::string& schema, int version) {
  const std::string quoted = "\"" + schema + "\"";
  std::string sql = "CREATE SCHEMA " + quoted + "; SET search_path TO " + quoted + ";" +
                    "CREATE TABLE gymdash_schema (version INTEGER NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL);";
  for (const auto& m : postgres_store::migrations())
    if (m.version <= version)
      sql += std::string(m.sql) + ";INSERT INTO gymdash_schema VALUES (" + std::to_string(m.version) + ", 0);";
  return sql;
}

TEST_CASE_TEMPLATE("postgres: a version-1 schema upgrades: recorded call events get their call's gym", B,
                   test::PostgresBackend) {
  Server<B> s;
  postgres_exec(s.backend.uri,
                schema_at_version(s.backend.schema, 1) +
                    "INSERT INTO calls (id, provider_call_id, gym_id) VALUES ('call_1', 'P1', 'gym-b');"
                    "INSERT INTO call_events (event_id, call_id, received_at) VALUES ('E1', 'call_1', 5)");
  auto store = s.backend.open();
  CHECK(store->schema_version() == postgres_store::latest_schema_version());
  CHECK(store->calls().has_event("gym-b", "E1"));
  CHECK_FALSE(store->calls().has_event("gym-a", "E1"));
  CHECK(store->calls().record_event("gym-a", "E1", "call_2", Timestamp{}));
  CHECK_FALSE(store->calls().record_event("gym-b", "E1", "call_1", Timestamp{}));
}

TEST_CASE_TEMPLATE("postgres: a version-3 schema upgrades: a lead's number keeps its key as (phone, gym_id)", B,
                   test::PostgresBackend) {
  Server<B> s;
  const std::string schema = "\"" + s.backend.schema + "\"";
  postgres_exec(s.backend.uri, schema_at_version(s.backend.schema, 3) +
                                   "INSERT INTO gyms (id) VALUES ('gym-a'), ('gym-b');"
                                   "INSERT INTO leads (id, gym_id, phone) VALUES ('ld_2', 'gym-b', '+15125550100'), "
                                   "('ld_1', 'gym-a', '+15125550100'), ('ld_3', 'gym-a', '+15125550199');");
  auto store = s.backend.open();
  CHECK(store->schema_version() == postgres_store::latest_schema_version());
  const std::string where = "schemaname = '" + s.backend.schema + "' AND tablename = 'leads'";
  CHECK(postgres_value(s.backend.uri, "SELECT indexdef FROM pg_indexes WHERE " + where +
                                          " AND indexname = 'leads_phone_gym'")
            .find("UNIQUE INDEX leads_phone_gym ON") != std::string::npos);
  CHECK(postgres_value(s.backend.uri, "SELECT count(*) FROM pg_indexes WHERE " + where +
                                          " AND indexname = 'leads_gym_phone'") == "0");
  // The leads stored before are all there, found across gyms in gym order.
  const auto both = store->leads().find_by_phone_any_gym("+15125550100");
  REQUIRE(both.size() == 2);
  CHECK(both[0].id == "ld_1");
  CHECK(both[1].id == "ld_2");
  // And the key still holds per gym: the number is taken in gym-a and gym-b, free in a third.
  postgres_exec(s.backend.uri, "INSERT INTO " + schema + ".gyms (id) VALUES ('gym-c')");
  Lead dup;
  dup.id = "ld_4";
  dup.gym_id = "gym-a";
  dup.phone = "+15125550100";
  CHECK_FALSE(store->leads().insert_if_absent(dup));
  CHECK_THROWS_AS(store->leads().insert(dup), AlreadyExistsError);
  dup.gym_id = "gym-c";
  CHECK(store->leads().insert_if_absent(dup));
  CHECK(store->leads().find_by_phone_any_gym("+15125550100").size() == 3);
}

TEST_CASE_TEMPLATE("postgres: a schema written by a newer gymdash is refused and left as it was", B,
                   test::PostgresBackend) {
  Server<B> s;
  int version = 0;
  {
    auto store = s.backend.open();
    version = store->schema_version();
  }
  postgres_exec(s.backend.uri, "INSERT INTO \"" + s.backend.schema + "\".gymdash_schema VALUES (999, 0)");
  const int tables = tables_in(s.backend.uri, s.backend.schema);
  expect_error<StorageError>([&] { s.backend.open(); },
                             {"schema version 999", "newer than this library supports (" + std::to_string(version) +
                                                        ")", "upgrade gymdash"});
  CHECK(tables_in(s.backend.uri, s.backend.schema) == tables);
  CHECK(postgres_value(s.backend.uri, "SELECT max(version) FROM \"" + s.backend.schema + "\".gymdash_schema") ==
        "999");
}

TEST_CASE_TEMPLATE("postgres: a schema holding another application's tables is refused untouched", B,
                   test::PostgresBackend) {
  Server<B> s;
  postgres_exec(s.backend.uri, "CREATE SCHEMA \"" + s.backend.schema + "\"; CREATE TABLE \"" + s.backend.schema +
                                   "\".invoices (id integer)");
  expect_error<StorageError>([&] { s.backend.open(); }, {"another application", s.backend.schema});
  CHECK(tables_in(s.backend.uri, s.backend.schema) == 1);
}

TEST_CASE_TEMPLATE("postgres: a migration that fails leaves no partial schema", B, test::PostgresBackend) {
  Server<B> s;
  // A gymdash schema at version 0 whose `calls` table is in the way: the
  // first migration creates several tables before it reaches calls, and must
  // take them all back when calls fails.
  postgres_exec(s.backend.uri, "CREATE SCHEMA \"" + s.backend.schema + "\"; SET search_path TO \"" +
                                   s.backend.schema +
                                   "\"; CREATE TABLE gymdash_schema (version INTEGER NOT NULL PRIMARY KEY, "
                                   "applied_at BIGINT NOT NULL); CREATE TABLE calls (x integer)");
  expect_error<StorageError>([&] { s.backend.open(); },
                             {"schema migration 1 failed, nothing of it was kept", "\"calls\" already exists"});
  CHECK(tables_in(s.backend.uri, s.backend.schema) == 2);
  CHECK(postgres_value(s.backend.uri, "SELECT count(*) FROM \"" + s.backend.schema + "\".gymdash_schema") == "0");
}

TEST_CASE_TEMPLATE("postgres: stores opening one new schema at once all succeed", B, test::PostgresBackend) {
  Server<B> s;
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      try {
        auto store = s.backend.open();
        if (store->schema_version() >= 1) ++opened;
      } catch (...) {
      }
    });
  for (auto& t : threads) t.join();
  CHECK(opened == 4);
  CHECK(postgres_value(s.backend.uri, "SELECT count(*) FROM \"" + s.backend.schema + "\".gymdash_schema") ==
        postgres_value(s.backend.uri, "SELECT max(version) FROM \"" + s.backend.schema + "\".gymdash_schema"));
}

TEST_CASE_TEMPLATE("postgres: a transaction holds one connection; other threads use others", B,
                   test::PostgresBackend) {
  Server<B> s;
  auto store = s.backend.open();
  Gym gym;
  gym.id = "gym-a";
  // Inside a transaction this thread's reads see its writes; another thread does not until it commits.
  store->transact([&] {
    store->gyms().insert(gym);
    CHECK(store->gyms().find("gym-a"));
    bool seen_by_other = true;
    std::thread other([&] { seen_by_other = store->gyms().find("gym-a").has_value(); });
    other.join();
    CHECK_FALSE(seen_by_other);
  });
  CHECK(store->gyms().find("gym-a"));
}

// What a server restart does to the pool, without restarting the shared test
// server: the server ends every connection of this store (as a restart or a
// failover would), and the store must report it and carry on.
TEST_CASE_TEMPLATE("postgres: connections the server drops fail with Unavailable, then the pool connects again", B,
                   test::PostgresBackend) {
  Server<B> s;
  PostgresOptions options;
  options.uri = s.backend.uri + (s.backend.uri.find('?') == std::string::npos ? "?" : "&") +
                "application_name=" + s.backend.schema;
  options.schema = s.backend.schema;
  options.pool_size = 2;
  auto store = make_postgres_store(options);
  // (Waiting up to 5 s for each connection to be gone.)
  const auto drop_connections = [&] {
    postgres_exec(s.backend.uri, "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                                 "WHERE application_name = '" + s.backend.schema + "'");
  };
  Gym a;
  a.id = "gym-a";
  store->gyms().insert(a);

  SUBCASE("outside a transaction: an idle connection the server ended is not lent again") {
    drop_connections();
    // The pool finds the idle connection closed before lending it, and connects again: nothing lost.
    CHECK(store->gyms().find("gym-a"));
    CHECK(store->gyms().find("gym-a"));
  }
  SUBCASE("inside a transaction: it fails whole, nothing of it is kept") {
    Gym b;
    b.id = "gym-b";
    Gym c;
    c.id = "gym-c";
    CHECK_THROWS_AS(store->transact([&] {
      store->gyms().insert(b);
      drop_connections();
      store->gyms().insert(c);
    }),
                    UnavailableError);
    CHECK_FALSE(store->gyms().find("gym-b"));
    CHECK_FALSE(store->gyms().find("gym-c"));
    store->transact([&] { store->gyms().insert(c); });
    CHECK(store->gyms().find("gym-c"));
  }
}

// Stores gym "gym-a" and returns a lead of it (not stored).
Lead lead_of_new_gym(Store& store) {
  Gym g;
  g.id = "gym-a";
  store.gyms().insert(g);
  Lead l;
  l.id = "ld-1";
  l.gym_id = g.id;
  l.phone = "+12125550100";
  return l;
}

// A lead import large against the table (Store::begin_bulk_load) drops the
// lead tables' secondary indexes and builds them again at its end, the same
// as they were; one cut short (the host died) is mended by the next open,
// unless another host's bulk load holds the schema's lock.
TEST_CASE_TEMPLATE("postgres: a large lead import drops the lead indexes, builds them again, and an open mends one "
                   "cut short",
                   B, test::PostgresBackend) {
  Server<B> s;
  const std::string where = "schemaname = '" + s.backend.schema + "' AND tablename IN ('leads', 'lead_tags')";
  auto indexes = [&] {
    return postgres_value(s.backend.uri, "SELECT string_agg(indexname || ' ' || indexdef, '; ' ORDER BY indexname) "
                                         "FROM pg_indexes WHERE " + where);
  };
  auto index_count = [&] {
    return std::stoi(postgres_value(s.backend.uri, "SELECT count(*) FROM pg_indexes WHERE " + where));
  };
  auto listed = [&] {
    return std::stoi(
        postgres_value(s.backend.uri, "SELECT count(*) FROM \"" + s.backend.schema + "\".bulk_dropped_indexes"));
  };
  // The foreign keys of the schema, with whether each is validated.
  auto foreign_keys = [&] {
    return postgres_value(s.backend.uri,
                          "SELECT string_agg(conrelid::regclass::text || ' ' || conname || ' ' || convalidated::text "
                          "|| ' ' || pg_get_constraintdef(oid), '; ' ORDER BY conname) FROM pg_constraint "
                          "WHERE contype = 'f' AND connamespace = '" + s.backend.schema + "'::regnamespace");
  };
  auto store = s.backend.open();
  const std::string all = indexes();
  const std::string all_keys = foreign_keys();
  REQUIRE(all_keys.find("leads_gym_id_fkey") != std::string::npos);
  REQUIRE(all_keys.find("lead_tags_lead_id_fkey") != std::string::npos);
  const int count = index_count();
  REQUIRE(count >= 6);
  // Kept: the keys of leads and lead_tags, the unique (phone, gym_id), and
  // the call order's indexes of retries and callbacks (no imported lead is in them).
  const int kept = 5;
  auto kept_names = [&] {
    return postgres_value(s.backend.uri,
                          "SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes WHERE " + where);
  };

  store->begin_bulk_load(1000, BulkLoad::Leads);  // small: nothing dropped
  CHECK(index_count() == count);
  store->end_bulk_load();
  store->begin_bulk_load(200000, BulkLoad::CallEvents);  // an ingest keeps them on PostgreSQL
  CHECK(index_count() == count);
  store->end_bulk_load();

  store->begin_bulk_load(200000, BulkLoad::Leads);
  CHECK(index_count() == kept);
  CHECK(kept_names() == "lead_tags_pkey leads_dial_callback leads_dial_retry leads_phone_gym leads_pkey");
  CHECK(listed() == count - kept + 2);  // and the two foreign keys of the lead tables
  CHECK(foreign_keys().find("leads_gym_id_fkey") == std::string::npos);
  CHECK(foreign_keys().find("lead_tags_lead_id_fkey") == std::string::npos);
  // A tag whose lead went meanwhile (no cascade while the key is away) goes when it comes back.
  postgres_exec(s.backend.uri, "INSERT INTO \"" + s.backend.schema + "\".lead_tags VALUES ('ld-gone', 'gym-a', 'x')");
  // Writes go on meanwhile, and the unique phone still refuses a second lead with it.
  Lead l = lead_of_new_gym(*store);
  l.tags = {"trial"};
  CHECK(store->leads().insert_if_absent(l));
  Lead twin = l;
  twin.id = "ld-2";
  CHECK_FALSE(store->leads().insert_if_absent(twin));
  // Another host opening the schema meanwhile leaves the indexes to the load.
  { auto other = s.backend.open(); }
  CHECK(index_count() == kept);
  store->end_bulk_load();
  CHECK(indexes() == all);
  CHECK(foreign_keys() == all_keys);  // back, and validated
  CHECK(listed() == 0);
  CHECK(store->leads().find(l.gym_id, l.id));
  CHECK(postgres_value(s.backend.uri, "SELECT count(*) FROM \"" + s.backend.schema +
                                          "\".lead_tags WHERE lead_id = 'ld-gone'") == "0");

  // Cut short: the store goes without end_bulk_load (its connection, and the lock, with it).
  store->begin_bulk_load(200000, BulkLoad::Leads);
  CHECK(index_count() == kept);
  store.reset();
  CHECK(index_count() == kept);
  auto reopened = s.backend.open();
  CHECK(indexes() == all);
  CHECK(foreign_keys() == all_keys);
  CHECK(listed() == 0);
  CHECK(reopened->leads().find(l.gym_id, l.id)->tags == std::vector<std::string>{"trial"});
}

// A bulk lead load into an empty table asks the server only about numbers it
// stored itself (BulkNumbers): a number of an earlier batch is still refused,
// and so is one another writer stored meanwhile (the COPY fails and the batch
// goes the way that asks), with nothing of the batch lost.
TEST_CASE_TEMPLATE("postgres: a bulk load into an empty table still refuses numbers stored earlier or elsewhere", B,
                   test::PostgresBackend) {
  Server<B> s;
  auto store = s.backend.open();
  Gym g;
  g.id = "gym-a";
  store->gyms().insert(g);
  auto lead = [](std::string id, int number) {
    Lead l;
    l.id = std::move(id);
    l.gym_id = "gym-a";
    l.phone = "+1212555" + std::to_string(1000000 + number).substr(1);
    l.tags = {"bulk"};
    return l;
  };
  std::vector<Lead> first, second;
  for (int i = 0; i < 1200; ++i) first.push_back(lead("ld-a" + std::to_string(i), i));
  for (int i = 0; i < 1200; ++i) second.push_back(lead("ld-b" + std::to_string(i), 2000 + i));
  second[10] = lead("ld-b-again", 7);    // a number of the first batch
  second[20] = lead("ld-b-other", 5000);  // the number another writer stores meanwhile

  store->begin_bulk_load(200000, BulkLoad::Leads);
  std::vector<bool> stored;
  store->transact([&] { stored = store->leads().insert_many_if_absent(first); });
  CHECK(stored == std::vector<bool>(first.size(), true));
  {
    auto other = s.backend.open();
    CHECK(other->leads().insert_if_absent(lead("ld-other", 5000)));
  }
  // A lead of an unknown gym is refused as outside a bulk load, though the
  // leads' foreign key to gyms is away meanwhile; nothing of its batch stays.
  std::vector<Lead> third;
  for (int i = 0; i < 1200; ++i) third.push_back(lead("ld-c" + std::to_string(i), 4000 + i));
  third[5].gym_id = "gym-unknown";
  CHECK_THROWS_AS(store->transact([&] { store->leads().insert_many_if_absent(third); }), NotFoundError);
  CHECK_FALSE(store->leads().find("gym-a", "ld-c0"));
  store->transact([&] { stored = store->leads().insert_many_if_absent(second); });
  store->end_bulk_load();
  std::vector<bool> expected(second.size(), true);
  expected[10] = false;
  expected[20] = false;
  CHECK(stored == expected);
  CHECK(store->leads().find_by_phone("gym-a", second[10].phone)->id == "ld-a7");
  CHECK(store->leads().find_by_phone("gym-a", second[20].phone)->id == "ld-other");
  CHECK(store->leads().find("gym-a", "ld-b1199"));
  CHECK(std::stoi(postgres_value(s.backend.uri, "SELECT count(*) FROM \"" + s.backend.schema + "\".leads")) ==
        1 + 1200 + 1198);
  CHECK(std::stoi(postgres_value(s.backend.uri, "SELECT count(*) FROM \"" + s.backend.schema + "\".lead_tags")) ==
        1 + 1200 + 1198);  // each lead's one tag
}

// The claim's row lock (LeadRepository::lock_for_claim): a lead another
// transaction holds is skipped, not waited for; once that transaction
// ends, the lock is taken and what is read next is what it committed.
TEST_CASE_TEMPLATE("postgres: lock_for_claim skips a lead another transaction holds, then reads it current", B,
                   test::PostgresBackend) {
  Server<B> s;
  auto first = s.backend.open();
  auto second = s.backend.open();
  const Lead l = lead_of_new_gym(*first);
  first->leads().insert(l);

  CHECK_FALSE(first->leads().lock_for_claim(l.gym_id, "ld-unknown"));
  CHECK_FALSE(first->leads().lock_for_claim("gym-other", l.id));
  std::atomic<bool> skipped{false};
  std::atomic<bool> locked_after{false};
  std::string seen_claim;
  first->transact([&] {
    REQUIRE(first->leads().lock_for_claim(l.gym_id, l.id));
    // Another process (here a store of its own, on another connection and thread) skips the lead meanwhile.
    std::thread other([&] {
      second->transact([&] { skipped = !second->leads().lock_for_claim(l.gym_id, l.id); });
    });
    other.join();
    REQUIRE(first->leads().set_active_call(l.gym_id, l.id, "", "call-1"));
  });
  CHECK(skipped.load());
  // Committed: the other takes the lock and reads the claim.
  second->transact([&] {
    locked_after = second->leads().lock_for_claim(l.gym_id, l.id);
    seen_claim = second->leads().find(l.gym_id, l.id)->active_call_id;
  });
  CHECK(locked_after.load());
  CHECK(seen_claim == "call-1");
}

// Two dialers starting at once over one database both close the calls a
// stopped process left open (CallService::abandon_stale_calls): each call is
// closed once, by one of them, and neither fails (without the lock, both
// read every call and both closed it: each counted twice).
TEST_CASE_TEMPLATE("postgres: two hosts closing stale calls at once close each call once", B, test::PostgresBackend) {
  Server<B> s;
  auto first = s.backend.open();
  auto second = s.backend.open();
  auto clock = std::make_shared<ManualClock>(parse_timestamp("2026-03-02T15:00:00Z"));
  auto gyms = make_gym_service(*first, clock);
  auto leads = make_lead_service(*first, clock);
  auto calls = make_call_service(*first, clock, *leads);
  Gym g;
  g.id = "gym-a";
  g.name = "Gym";
  g.timezone = "America/New_York";
  gyms->create_gym(g);
  constexpr int kCalls = 60;
  for (int i = 0; i < kCalls; ++i) {
    LeadInput in;
    char number[32];
    std::snprintf(number, sizeof number, "+1212555%04d", 1000 + i);
    in.phone = number;
    in.consent = Consent{true, clock->now(), "web_form", "form"};
    const auto lead = leads->create_lead(g.id, in).lead;
    calls->begin_outbound_call(OutboundCall{g.id, lead.id, "cmp-1", "simulated", "+12125550001"});
  }
  clock->advance(std::chrono::hours{3});
  auto second_leads = make_lead_service(*second, clock);
  auto second_calls = make_call_service(*second, clock, *second_leads);
  std::atomic<std::int64_t> closed_first{-1}, closed_second{-1};
  std::string error_first, error_second;
  const auto cutoff = clock->now() - std::chrono::hours{2};
  std::thread other([&] {
    try {
      closed_second = second_calls->abandon_stale_calls(cutoff, "abandoned");
    } catch (const std::exception& e) {
      error_second = e.what();
    }
  });
  try {
    closed_first = calls->abandon_stale_calls(cutoff, "abandoned");
  } catch (const std::exception& e) {
    error_first = e.what();
  }
  other.join();
  CHECK_MESSAGE(error_first.empty(), error_first);
  CHECK_MESSAGE(error_second.empty(), error_second);
  CHECK(closed_first.load() + closed_second.load() == kCalls);
  CHECK(first->calls().open_calls(clock->now(), 1000).empty());
  LeadFilter f;
  f.page_size = 1000;
  for (const auto& l : leads->list_leads(g.id, f).items) {
    CHECK(l.active_call_id.empty());
    CHECK(l.attempts == 1);
  }
}

}  // namespace
}  // namespace gymdash

#else

namespace gymdash {
namespace {

TEST_CASE("postgres: a build without PostgreSQL says so when asked for it") {
  try {
    open_store("postgresql://localhost/gym");
    FAIL("no exception");
  } catch (const StorageError& e) {
    CHECK(std::string(e.what()).find("GYMDASH_WITH_POSTGRES=OFF") != std::string::npos);
  }
}

}  // namespace
}  // namespace gymdash

#endif
