// Crash safety (docs/hardening.md, "Crash safety"): a real process
// (crash_child) imports a reference data set's leads, then ingests its call
// events, into one SQLite file, and is killed with SIGKILL at a random point,
// 20 times for each. After every kill the database passes
// `PRAGMA integrity_check` and `PRAGMA foreign_key_check`, and every batch the
// child acknowledged (its line on the pipe, written after the commit
// returned) is there, lead by lead and event by event. The next round runs on
// the same file, as a restarted host would. After the 20 kills an
// uninterrupted run completes with exactly the manifest's counts, and the
// database holds exactly what an uninterrupted import and ingest wrote into
// another file: the same leads, calls, events, history and rollups.
//
// The generator lives outside the project (../shared/datagen next to the
// source tree, or GYMDASH_DATAGEN); without it the test says so and passes.
// GYMDASH_CRASH_SEED=N replays the kill points of a run (each run prints its
// seed).
#include <gymdash/gymdash.hpp>

#include <doctest/doctest.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/csv.hpp"
#include "test_util.hpp"

using namespace gymdash;

namespace {

constexpr int kKills = 20;
constexpr int kLeadBatch = 50;    // rows per committed batch: 20 batches of 1,000 rows
constexpr int kEventBatch = 100;  // events per committed batch: about 17 batches

std::filesystem::path find_datagen() {
  if (const char* env = std::getenv("GYMDASH_DATAGEN"); env && *env && std::filesystem::exists(env)) return env;
  // This file is <source>/tests/crash_test.cpp; the generator <source>/../shared/datagen/gen.py.
  const auto candidate = std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "shared" / "datagen" / "gen.py";
  std::error_code ec;
  if (std::filesystem::exists(candidate, ec)) return std::filesystem::weakly_canonical(candidate, ec);
  return {};
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trimmed(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// ---- the child process ------------------------------------------------------

struct RunResult {
  std::int64_t acked = 0;      // rows (import) or events (ingest) of the last acknowledged batch
  int acks = 0;                // batches acknowledged
  bool gyms_acked = false;     // the gyms import returned
  bool done = false;           // the child printed its report
  bool killed = false;         // the child died of our SIGKILL
  std::string report;          // the report's JSON when done
};

// Starts crash_child with `args`; releases it from each acknowledgment (a
// byte on its stdin) and, once it has acknowledged `kill_after_acks` batches,
// lets it run freely (closes its stdin), waits `sleep_share` of a batch's
// time (the mean of this run's batches so far; `sleep_us` before the second
// acknowledgment) and kills it with SIGKILL (no kill when kill_after_acks < 0). Reads every line the child
// wrote before it died: all of them were acknowledged.
RunResult run_child(const std::string& child, const std::vector<std::string>& args, int kill_after_acks,
                    double sleep_share, std::int64_t sleep_us) {
  auto first_ack = std::chrono::steady_clock::now();
  int out[2], in[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(child.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);  // dup2 clears close-on-exec on the copies
    ::dup2(in[0], STDIN_FILENO);
    ::execv(child.c_str(), argv.data());
    std::_Exit(127);
  }
  ::close(out[1]);
  ::close(in[0]);
  int release = in[1];  // open while the child waits after each acknowledgment
  const auto run_free = [&] {
    if (release >= 0) ::close(release);
    release = -1;
  };
  RunResult r;
  bool kill_sent = false;
  const auto kill_now = [&] {
    run_free();
    if (sleep_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    ::kill(pid, SIGKILL);
    kill_sent = true;
  };
  if (kill_after_acks < 0) run_free();
  if (kill_after_acks == 0) kill_now();
  std::string buffer;
  char chunk[4096];
  for (;;) {
    const auto n = ::read(out[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      const std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (line.rfind("ack ", 0) == 0) {
        r.acked = std::atoll(line.c_str() + 4);
        ++r.acks;
        if (!kill_sent && r.acks == kill_after_acks) {
          // The random part of a batch is measured in this run's batches so far
          // (a run over work already done goes faster than the first).
          if (r.acks > 1) {
            const auto per_batch = (std::chrono::steady_clock::now() - first_ack) / (r.acks - 1);
            sleep_us = static_cast<std::int64_t>(
                sleep_share * static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(per_batch).count()));
          }
          kill_now();
        } else if (release >= 0 && ::write(release, "g", 1) != 1) {
          run_free();
        }
        if (r.acks == 1) first_ack = std::chrono::steady_clock::now();
      } else if (line.rfind("gyms ", 0) == 0) {
        r.gyms_acked = true;
      } else if (line.rfind("done ", 0) == 0) {
        r.done = true;
        r.report = line.substr(5);
      }
    }
  }
  run_free();
  ::close(out[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  r.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (!r.killed) {
    // Not killed: it must have finished cleanly.
    INFO("crash_child exit status " << status);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(r.done);
  }
  return r;
}

// ---- the database, read directly -----------------------------------------

std::set<std::string> strings(SQLite::Database& db, const std::string& sql) {
  std::set<std::string> out;
  SQLite::Statement q(db, sql);
  while (q.executeStep()) out.insert(q.getColumn(0).getString());
  return out;
}

std::int64_t count(SQLite::Database& db, const std::string& table) {
  return db.execAndGet("SELECT count(*) FROM " + table).getInt64();
}

bool has_table(SQLite::Database& db, const std::string& table) {
  SQLite::Statement q(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
  q.bind(1, table);
  return q.executeStep();
}

// What a kill may never leave behind: a damaged file or a dangling reference.
// Any answer of integrity_check but "ok" fails (schema version 9 removed the
// false alarm SQLite 3.40 gave for WITHOUT ROWID tables not declared
// key-first). The limit on messages is raised so that none hides another.
void check_integrity(SQLite::Database& db) {
  SQLite::Statement ic(db, "PRAGMA integrity_check(100000000)");
  std::vector<std::string> problems;
  while (ic.executeStep()) {
    const std::string message = ic.getColumn(0).getString();
    if (message != "ok") problems.push_back(message);
  }
  INFO("integrity_check: " << (problems.empty() ? std::string("ok") : problems.front()));
  REQUIRE(problems.empty());
  SQLite::Statement fk(db, "PRAGMA foreign_key_check");
  REQUIRE_FALSE(fk.executeStep());
}

// A copy of the database as the kill left it (the file and its WAL), to be
// checked: opening the file itself would recover its WAL and checkpoint it on
// closing, and the next run is to find what the killed one left.
std::string snapshot(const std::string& db, const std::string& to) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(to + suffix, ec);
  std::filesystem::copy_file(db, to);
  for (const char* suffix : {"-wal", "-journal"})
    if (std::filesystem::exists(db + suffix)) std::filesystem::copy_file(db + suffix, to + suffix);
  return to;
}

// The rows of a table as sorted text, without the columns that hold ids the
// library makes up (a lead's, a call's: random per run); a lead id is shown
// as the lead's external id, a call id as the provider's.
std::vector<std::string> table_dump(SQLite::Database& db, const std::string& table) {
  std::vector<std::string> columns;
  {
    SQLite::Statement info(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid");
    info.bind(1, table);
    while (info.executeStep()) {
      const std::string c = info.getColumn(0).getString();
      if (c == "id" || c == "seq") continue;
      // A history entry of a call names the call by our id in its reason.
      if (table == "lead_history" && c == "reason") continue;
      if (c == "lead_id")
        columns.push_back("(SELECT external_id || '@' || gym_id FROM leads l WHERE l.id = t.lead_id)");
      else if (c == "call_id")
        columns.push_back("(SELECT provider_call_id FROM calls c WHERE c.id = t.call_id)");
      else
        columns.push_back("quote(t." + c + ")");
    }
  }
  REQUIRE_FALSE(columns.empty());
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < columns.size(); ++i) sql += (i ? " || '|' || " : "") + std::string("coalesce(") +
                                                          columns[i] + ", 'NULL')";
  sql += " FROM " + table + " t";
  std::vector<std::string> rows;
  SQLite::Statement q(db, sql);
  while (q.executeStep()) rows.push_back(q.getColumn(0).getString());
  std::sort(rows.begin(), rows.end());
  return rows;
}

// The tables that must come out the same with and without kills.
const char* const kComparedTables[] = {"gyms",         "leads",           "lead_tags",        "lead_history",
                                       "calls",        "call_events",     "call_results",     "rollup_call_days",
                                       "rollup_call_hours", "rollup_lead_days", "bulk_dropped_indexes"};

void check_same_as_reference(const std::string& db_path, const std::string& ref_path) {
  SQLite::Database db(db_path, SQLite::OPEN_READWRITE);
  SQLite::Database ref(ref_path, SQLite::OPEN_READWRITE);
  for (const std::string table : kComparedTables) {
    CAPTURE(table);
    if (!has_table(ref, table)) continue;
    const auto got = table_dump(db, table);
    const auto want = table_dump(ref, table);
    CHECK(got.size() == want.size());
    const auto diff = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
    if (diff.first != got.end() || diff.second != want.end()) {
      FAIL_CHECK("first difference: " << (diff.first != got.end() ? *diff.first : std::string("(none)"))
                                      << " vs reference " << (diff.second != want.end() ? *diff.second : std::string("(none)")));
    }
  }
  // Every index is there: none left dropped by a bulk load a kill cut short.
  const auto indexes = "SELECT name || ' ' || sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL";
  CHECK(strings(db, indexes) == strings(ref, indexes));
}

// ---- the reference data set ------------------------------------------------

struct DataSet {
  std::string dir;
  boost::json::object manifest;
  std::vector<std::string> row_leads;  // per data row of leads.csv: "external_id@gym_id" ("" for a malformed row)
  std::vector<std::string> event_ids;  // per non-blank line of calls.jsonl
  std::int64_t gyms = 0;
};

DataSet load_data_set(const std::string& dir) {
  DataSet d;
  d.dir = dir;
  d.manifest = boost::json::parse(read_text(dir + "/manifest.json")).as_object();
  {
    std::ifstream in(dir + "/leads.csv", std::ios::binary);
    csv::Reader reader(in);
    REQUIRE(reader.next() == csv::ReadStatus::Record);
    const auto header = reader.fields();
    std::size_t ext = header.size(), gym = header.size();
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == "external_id") ext = i;
      if (header[i] == "gym_id") gym = i;
    }
    REQUIRE(ext < header.size());
    REQUIRE(gym < header.size());
    for (;;) {
      const auto status = reader.next();
      if (status == csv::ReadStatus::End) break;
      const auto fields = reader.fields();
      if (status == csv::ReadStatus::Record && fields.size() > std::max(ext, gym))
        d.row_leads.push_back(trimmed(fields[ext]) + "@" + trimmed(fields[gym]));
      else
        d.row_leads.emplace_back();
    }
  }
  {
    std::ifstream in(dir + "/calls.jsonl", std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      boost::system::error_code ec;
      const auto v = boost::json::parse(line, ec);
      d.event_ids.push_back(!ec && v.is_object() && v.as_object().contains("event_id")
                                ? std::string(v.at("event_id").as_string())
                                : std::string());
    }
  }
  {
    std::ifstream in(dir + "/gyms.csv", std::ios::binary);
    std::string line;
    while (std::getline(in, line))
      if (!trimmed(line).empty()) ++d.gyms;
    --d.gyms;  // the header
  }
  return d;
}

std::int64_t manifest_int(const DataSet& d, const char* section, const char* key) {
  return d.manifest.at(section).at(key).to_number<std::int64_t>();
}

std::unique_ptr<Runtime> open_runtime(const std::string& path) {
  RuntimeOptions o;
  o.storage = "sqlite:" + path;
  o.worker_threads = 1;
  o.log_level = LogLevel::Error;
  o.clock = std::make_shared<ManualClock>(parse_timestamp("2026-11-20T12:00:00Z"));  // as crash_child's
  return Runtime::open(o);
}

// An uninterrupted import and ingest, in this process, with the child's
// batch sizes and clock; returns the seconds per lead and per event batch.
std::pair<double, double> write_reference(const DataSet& d, const std::string& path) {
  auto rt = open_runtime(path);
  std::ifstream gyms(d.dir + "/gyms.csv", std::ios::binary);
  REQUIRE(rt->gyms().import_gyms(gyms).rejected == 0);
  std::ifstream leads(d.dir + "/leads.csv", std::ios::binary);
  ImportOptions io;
  io.batch_size = kLeadBatch;
  const auto imported = rt->leads().import_leads(leads, io);
  REQUIRE(imported.imported == manifest_int(d, "import", "imported"));
  std::ifstream calls(d.dir + "/calls.jsonl", std::ios::binary);
  IngestOptions go;
  go.batch_size = kEventBatch;
  const auto ingested = rt->calls().ingest_jsonl(calls, go);
  REQUIRE(ingested.rejected == 0);
  const auto batches = [](std::size_t n, int per) { return static_cast<double>((n + per - 1) / per); };
  return {imported.seconds / batches(d.row_leads.size(), kLeadBatch),
          ingested.seconds / batches(d.event_ids.size(), kEventBatch)};
}

// The per-gym dashboards against the manifest, and the rollups kept through
// every kill against their rebuild.
void check_dashboards(const DataSet& d, const std::string& path) {
  auto rt = open_runtime(path);
  const auto& per_gym = d.manifest.at("per_gym").as_object();
  REQUIRE(!per_gym.empty());
  for (const auto& [gym_id, expected] : per_gym) {
    CAPTURE(std::string(gym_id));
    AnalyticsQuery q;
    q.gym_id = gym_id;
    q.from = "2020-01-01";
    q.to = "2029-12-31";
    const auto got = boost::json::parse(dashboard_json(rt->analytics().dashboard(q))).as_object();
    for (const auto& [field, value] : expected.as_object()) {
      CAPTURE(std::string(field));
      REQUIRE(got.contains(field));
      if (value.is_object())
        CHECK(boost::json::serialize(got.at(field)) == boost::json::serialize(value));
      else if (value.is_double())
        CHECK(got.at(field).to_number<double>() == value.as_double());
      else
        CHECK(got.at(field).to_number<std::int64_t>() == value.to_number<std::int64_t>());
    }
  }
  AnalyticsQuery every;
  every.from = "2020-01-01";
  every.to = "2029-12-31";
  const auto before = rt->analytics().dashboard(every);
  CHECK(before.leads == manifest_int(d, "import", "imported"));
  CHECK(before.calls.calls == manifest_int(d, "calls", "unique_calls"));
  rt->analytics().rebuild("");
  CHECK(dashboard_json(rt->analytics().dashboard(every)) == dashboard_json(before));
}

struct KillPoint {
  int after = 0;          // acknowledged batches before the kill
  double share = 0;       // then this share of a batch's time
  std::int64_t first_us = 0;  // that share of the reference's batch, before this run's are measured
};

struct KillStats {
  int mid_work = 0;      // killed before the child finished
  int after_done = 0;    // the child had printed its report already
  int left_dropped = 0;  // left a bulk load's dropped indexes for the next open to rebuild
  void count_dropped(SQLite::Database& db) {
    if (has_table(db, "bulk_dropped_indexes") && count(db, "bulk_dropped_indexes") > 0) ++left_dropped;
  }
};

}  // namespace

TEST_CASE("SIGKILL during an import and during a call ingest loses no acknowledged batch") {
  const auto script = find_datagen();
  if (script.empty()) {
    MESSAGE("the reference data generator (../shared/datagen/gen.py) is not there; skipped");
    return;
  }
  const char* child_env = std::getenv("GYMDASH_CRASH_CHILD");
  if (!child_env || !*child_env) {
    MESSAGE("GYMDASH_CRASH_CHILD (the crash_child program) is not set: run this test through ctest; skipped");
    return;
  }
  const std::string child = child_env;
  REQUIRE(std::filesystem::exists(child));
  // A child that dies while we release it must not take this process with it.
  ::signal(SIGPIPE, SIG_IGN);

  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("GYMDASH_CRASH_SEED"); s && *s) seed = std::strtoull(s, nullptr, 10);
  MESSAGE("crash_test seed " << seed << " (GYMDASH_CRASH_SEED=" << seed << " replays its kill points)");
  std::mt19937_64 rng(seed);

  test::TempPath scratch("crash");
  const std::string dir = scratch.str() + ".d";
  std::filesystem::create_directories(dir);
  const auto cmd = "python3 " + script.string() + " --leads 1000 --seed 11 --out " + dir + " > /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const DataSet d = load_data_set(dir);
  REQUIRE(static_cast<std::int64_t>(d.row_leads.size()) == d.manifest.at("rows").to_number<std::int64_t>());
  REQUIRE(static_cast<std::int64_t>(d.event_ids.size()) == manifest_int(d, "calls", "events_delivered"));

  test::TempPath ref_db("crash-reference");
  const auto [lead_batch_s, event_batch_s] = write_reference(d, ref_db.str());
  std::set<std::string> ref_leads;
  {
    SQLite::Database ref(ref_db.str(), SQLite::OPEN_READWRITE);
    ref_leads = strings(ref, "SELECT external_id || '@' || gym_id FROM leads");
  }
  REQUIRE(static_cast<std::int64_t>(ref_leads.size()) == manifest_int(d, "import", "imported"));

  test::TempPath db_file("crash-killed");
  const std::string db = db_file.str();
  test::TempPath probe("crash-probe");  // where each kill's database is checked
  // A kill point: after a random number of acknowledged batches (0: while
  // starting), then a random share of one batch's time (up to 1.5 batches).
  const auto kill_point = [&](std::size_t units, int per_batch, double batch_s) {
    KillPoint k;
    const int batches = static_cast<int>((units + per_batch - 1) / per_batch);
    k.after = static_cast<int>(rng() % static_cast<std::uint64_t>(batches));
    k.share = static_cast<double>(rng() % 1500) / 1000.0;
    k.first_us = static_cast<std::int64_t>(k.share * batch_s * 1e6);
    return k;
  };

  // ---- the import, killed 20 times -----------------------------------------
  KillStats import_kills;
  std::int64_t acked_rows = 0;  // the longest prefix of rows any run acknowledged
  bool gyms_acked = false;
  for (int round = 0; round < kKills; ++round) {
    const bool bulk = round % 2 == 1;  // every other run takes the store's bulk-load path
    const KillPoint k = kill_point(d.row_leads.size(), kLeadBatch, lead_batch_s);
    CAPTURE(round);
    CAPTURE(k.after);
    CAPTURE(k.share);
    CAPTURE(bulk);
    std::vector<std::string> args{"import", db, dir + "/gyms.csv", dir + "/leads.csv", std::to_string(kLeadBatch)};
    if (bulk) args.emplace_back("bulk");
    const auto r = run_child(child, args, k.after, k.share, k.first_us);
    (r.done ? import_kills.after_done : import_kills.mid_work) += 1;
    acked_rows = std::max(acked_rows, r.acked);
    REQUIRE(acked_rows <= static_cast<std::int64_t>(d.row_leads.size()));
    gyms_acked = gyms_acked || r.gyms_acked;

    if (!std::filesystem::exists(db)) {
      // Killed before the file was made: nothing was acknowledged.
      REQUIRE_FALSE(gyms_acked);
      continue;
    }
    SQLite::Database check(snapshot(db, probe.str()), SQLite::OPEN_READWRITE);
    check_integrity(check);
    import_kills.count_dropped(check);
    if (!has_table(check, "leads")) {
      // Killed while the schema was being made: nothing was acknowledged.
      REQUIRE_FALSE(gyms_acked);
      continue;
    }
    if (gyms_acked) CHECK(count(check, "gyms") == d.gyms);
    const auto present = strings(check, "SELECT external_id || '@' || gym_id FROM leads");
    CHECK(static_cast<std::int64_t>(present.size()) <= manifest_int(d, "import", "imported"));
    std::int64_t missing = 0;
    for (std::int64_t i = 0; i < acked_rows; ++i) {
      const auto& key = d.row_leads[static_cast<std::size_t>(i)];
      if (ref_leads.contains(key) && !present.contains(key)) ++missing;
    }
    INFO("acknowledged rows: " << acked_rows);
    CHECK(missing == 0);
  }

  // The import again, uninterrupted: it completes with the manifest's counts.
  {
    std::int64_t before = 0;
    {
      SQLite::Database check(snapshot(db, probe.str()), SQLite::OPEN_READWRITE);
      if (has_table(check, "leads")) before = count(check, "leads");
    }
    const auto r = run_child(child, {"import", db, dir + "/gyms.csv", dir + "/leads.csv", std::to_string(kLeadBatch)},
                             -1, 0, 0);
    const auto report = boost::json::parse(r.report).as_object();
    const auto& m = d.manifest.at("import").as_object();
    CHECK(report.at("rows").to_number<std::int64_t>() == static_cast<std::int64_t>(d.row_leads.size()));
    CHECK(report.at("imported").to_number<std::int64_t>() == m.at("imported").to_number<std::int64_t>() - before);
    CHECK(report.at("imported").to_number<std::int64_t>() + report.at("merged_duplicates").to_number<std::int64_t>() ==
          m.at("imported").to_number<std::int64_t>() + m.at("merged_duplicates").to_number<std::int64_t>());
    CHECK(report.at("rejected").to_number<std::int64_t>() == m.at("rejected").to_number<std::int64_t>());
    CHECK(boost::json::serialize(report.at("rejected_by_reason")) == boost::json::serialize(m.at("rejected_by_reason")));
    SQLite::Database check(db, SQLite::OPEN_READWRITE);
    check_integrity(check);
    CHECK(count(check, "leads") == m.at("imported").to_number<std::int64_t>());
  }

  // ---- the call ingest, killed 20 times --------------------------------------
  KillStats ingest_kills;
  std::int64_t acked_events = 0;
  for (int round = 0; round < kKills; ++round) {
    const bool bulk = round % 2 == 1;
    const KillPoint k = kill_point(d.event_ids.size(), kEventBatch, event_batch_s);
    CAPTURE(round);
    CAPTURE(k.after);
    CAPTURE(k.share);
    CAPTURE(bulk);
    std::vector<std::string> args{"ingest", db, dir + "/calls.jsonl", std::to_string(kEventBatch)};
    if (bulk) args.emplace_back("bulk");
    const auto r = run_child(child, args, k.after, k.share, k.first_us);
    (r.done ? ingest_kills.after_done : ingest_kills.mid_work) += 1;
    acked_events = std::max(acked_events, r.acked);
    REQUIRE(acked_events <= static_cast<std::int64_t>(d.event_ids.size()));

    SQLite::Database check(snapshot(db, probe.str()), SQLite::OPEN_READWRITE);
    check_integrity(check);
    ingest_kills.count_dropped(check);
    const auto present = strings(check, "SELECT event_id FROM call_events");
    std::int64_t missing = 0;
    for (std::int64_t i = 0; i < acked_events; ++i)
      if (!present.contains(d.event_ids[static_cast<std::size_t>(i)])) ++missing;
    INFO("acknowledged events: " << acked_events);
    CHECK(missing == 0);
    CHECK(count(check, "leads") == manifest_int(d, "import", "imported"));
  }

  // The ingest again, uninterrupted: every event counted once.
  {
    const auto unique_events =
        manifest_int(d, "calls", "events_delivered") - manifest_int(d, "calls", "duplicate_deliveries");
    std::int64_t before = 0;
    {
      SQLite::Database check(snapshot(db, probe.str()), SQLite::OPEN_READWRITE);
      before = count(check, "call_events");
    }
    const auto r = run_child(child, {"ingest", db, dir + "/calls.jsonl", std::to_string(kEventBatch)}, -1, 0, 0);
    const auto report = boost::json::parse(r.report).as_object();
    CHECK(report.at("events").to_number<std::int64_t>() == manifest_int(d, "calls", "events_delivered"));
    CHECK(report.at("rejected").to_number<std::int64_t>() == 0);
    CHECK(report.at("applied").to_number<std::int64_t>() == unique_events - before);
    SQLite::Database check(db, SQLite::OPEN_READWRITE);
    check_integrity(check);
    CHECK(count(check, "call_events") == unique_events);
    CHECK(count(check, "calls") == manifest_int(d, "calls", "unique_calls"));
    CHECK(count(check, "leads WHERE do_not_call <> 0") == d.manifest.at("do_not_call_leads").to_number<std::int64_t>());
  }

  check_dashboards(d, db);
  check_same_as_reference(db, ref_db.str());

  MESSAGE("import: " << import_kills.mid_work << " of " << kKills << " kills mid-work, " << import_kills.left_dropped
                     << " with a bulk load's indexes dropped; ingest: " << ingest_kills.mid_work << " of " << kKills
                     << ", " << ingest_kills.left_dropped);
  // The kill points are drawn inside the work: nearly every kill lands there.
  CHECK(import_kills.mid_work >= kKills * 3 / 4);
  CHECK(ingest_kills.mid_work >= kKills * 3 / 4);
  std::filesystem::remove_all(dir);
}
