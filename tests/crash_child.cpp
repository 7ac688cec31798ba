// The process crash_test kills: imports gyms and leads, or ingests call
// events, into an SQLite file, and reports on stdout every batch the library
// acknowledged (its progress callback, called after the batch's commit
// returned). Each report is one line written with write(2), so the parent has
// it the moment it is acknowledged:
//
//   crash_child import DB GYMS_CSV LEADS_CSV BATCH_SIZE [bulk]
//   crash_child ingest DB CALLS_JSONL BATCH_SIZE [bulk]
//
//   gyms CREATED UPDATED REJECTED           after the gyms import (import only)
//   ack ROWS IMPORTED MERGED REJECTED       after each committed lead batch
//   ack EVENTS DUPLICATES APPLIED REJECTED  after each committed event batch
//   done {report as JSON}                   at the end
//
// After each acknowledgment the child waits until it reads one byte from
// stdin, which the parent sends once it has read the line; when stdin ends
// (the parent closed it, or it is /dev/null) the child runs on freely. So the
// parent, which kills it a random time after releasing it from a chosen
// acknowledgment, kills it inside the work that follows, however far behind
// it is in reading (a loaded machine). The wait is in the progress callback,
// outside any transaction.
//
// `bulk` makes the store take its bulk-load path (secondary indexes dropped
// and rebuilt at the end), as it does for a large file: the lead import is
// told the input is large (ImportOptions::bytes_total), the ingest's stream
// reports a large size when asked for its end. The clock is fixed, so that
// every run writes the same times (the test compares the database with one
// written without interruption). Exit status: 0 done, 1 error, 2 usage.
#include <gymdash/gymdash.hpp>

#include <boost/json.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace gd = gymdash;

namespace {

// One line on stdout, unbuffered: what the parent reads is acknowledged.
void say(const std::string& line) {
  std::string text = line + "\n";
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const auto n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) std::_Exit(3);  // the parent went away
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

// An acknowledgment: say it, then wait for the parent's byte (until stdin ends).
void acknowledge(const std::string& line) {
  static bool free_running = false;
  say(line);
  while (!free_running) {
    char c;
    const auto n = ::read(STDIN_FILENO, &c, 1);
    if (n == 1) return;
    if (n < 0 && errno == EINTR) continue;
    free_running = true;
  }
}

// A file buffer that reports a larger size than it holds (asked the usual
// way: seek to the end, then tell), and reads as usual otherwise: an input
// the store treats as a bulk load.
class LargeLookingFile : public std::filebuf {
 public:
  explicit LargeLookingFile(std::streamoff pretend) : pretend_(pretend) {}

 protected:
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override {
    if (pretend_ > 0 && off == 0 && dir == std::ios_base::cur && at_end_) return pos_type(pretend_);
    at_end_ = pretend_ > 0 && off == 0 && dir == std::ios_base::end;
    const auto pos = std::filebuf::seekoff(off, dir, which);
    if (at_end_ && pos != pos_type(off_type(-1))) return pos_type(std::max<off_type>(pos, pretend_));
    return pos;
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    at_end_ = false;
    return std::filebuf::seekpos(pos, which);
  }

 private:
  std::streamoff pretend_;
  bool at_end_ = false;  // the last move was to the end: telling gives the pretended size
};

std::unique_ptr<gd::Runtime> open_db(const std::string& path) {
  gd::RuntimeOptions o;
  o.storage = "sqlite:" + path;
  o.worker_threads = 1;
  o.log_level = gd::LogLevel::Error;
  o.clock = std::make_shared<gd::ManualClock>(gd::parse_timestamp("2026-11-20T12:00:00Z"));
  return gd::Runtime::open(o);
}

int batch_arg(const char* s) {
  const int n = std::atoi(s);
  if (n < 1) {
    std::fprintf(stderr, "crash_child: bad batch size %s\n", s);
    std::exit(2);
  }
  return n;
}

int run_import(int argc, char** argv) {
  if (argc < 6) return 2;
  const bool bulk = argc > 6 && std::strcmp(argv[6], "bulk") == 0;
  auto rt = open_db(argv[2]);
  {
    std::ifstream gyms(argv[3], std::ios::binary);
    if (!gyms) throw gd::InvalidArgumentError(std::string("cannot read ") + argv[3], "gyms");
    const auto r = rt->gyms().import_gyms(gyms);
    say("gyms " + std::to_string(r.created) + " " + std::to_string(r.updated) + " " + std::to_string(r.rejected));
  }
  std::ifstream leads(argv[4], std::ios::binary);
  if (!leads) throw gd::InvalidArgumentError(std::string("cannot read ") + argv[4], "leads");
  gd::ImportOptions options;
  options.batch_size = batch_arg(argv[5]);
  if (bulk) options.bytes_total = 100'000'000;  // about 660,000 rows by the store's estimate
  options.progress = [](const gd::ImportProgress& p) {
    acknowledge("ack " + std::to_string(p.rows) + " " + std::to_string(p.imported) + " " +
        std::to_string(p.merged_duplicates) + " " + std::to_string(p.rejected));
  };
  const auto report = rt->leads().import_leads(leads, options);
  say("done " + boost::json::serialize(boost::json::value_from(report)));
  return 0;
}

int run_ingest(int argc, char** argv) {
  if (argc < 5) return 2;
  const bool bulk = argc > 5 && std::strcmp(argv[5], "bulk") == 0;
  auto rt = open_db(argv[2]);
  LargeLookingFile buf(bulk ? 100'000'000 : 0);  // about 250,000 events by the store's estimate
  if (!buf.open(argv[3], std::ios::in | std::ios::binary))
    throw gd::InvalidArgumentError(std::string("cannot read ") + argv[3], "calls");
  std::istream calls(&buf);
  gd::IngestOptions options;
  options.batch_size = batch_arg(argv[4]);
  options.progress = [](const gd::IngestProgress& p) {
    acknowledge("ack " + std::to_string(p.events) + " " + std::to_string(p.duplicates) + " " + std::to_string(p.applied) +
        " " + std::to_string(p.rejected));
  };
  const auto report = rt->calls().ingest_jsonl(calls, options);
  say("done " + boost::json::serialize(boost::json::value_from(report)));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    int rc = 2;
    if (mode == "import") rc = run_import(argc, argv);
    else if (mode == "ingest") rc = run_ingest(argc, argv);
    if (rc == 2)
      std::fprintf(stderr,
                   "usage: crash_child import DB GYMS_CSV LEADS_CSV BATCH_SIZE [bulk]\n"
                   "       crash_child ingest DB CALLS_JSONL BATCH_SIZE [bulk]\n");
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crash_child: %s\n", e.what());
    return 1;
  }
}
