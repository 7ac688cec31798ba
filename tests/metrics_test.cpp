#include <gymdash/gymdash.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <map>
#include <sstream>
#include <thread>

using namespace gymdash;
using namespace std::chrono;

namespace {

// A strict reader of the Prometheus text format (0.0.4): every line is a
// comment (# HELP / # TYPE) or `name{labels} value`. Returns samples keyed by
// their full series text; throws on anything malformed.
std::map<std::string, double> parse_prometheus(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (line.rfind("# HELP ", 0) != 0 && line.rfind("# TYPE ", 0) != 0) throw std::runtime_error("bad comment: " + line);
      if (line.rfind("# TYPE ", 0) == 0) {
        auto type = line.substr(line.rfind(' ') + 1);
        if (type != "counter" && type != "gauge" && type != "summary" && type != "histogram" && type != "untyped")
          throw std::runtime_error("bad type: " + line);
      }
      continue;
    }
    std::size_t i = 0;
    auto name_char = [](char c, bool first) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
    };
    if (!name_char(line[0], true)) throw std::runtime_error("bad name: " + line);
    while (i < line.size() && name_char(line[i], i == 0)) ++i;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (line.at(i) != '}') {
        while (name_char(line.at(i), false)) ++i;
        if (line.at(i++) != '=' || line.at(i++) != '"') throw std::runtime_error("bad label: " + line);
        while (line.at(i) != '"') i += line[i] == '\\' ? 2 : 1;
        ++i;
        if (line.at(i) == ',') ++i;
      }
      ++i;
    }
    if (line.at(i) != ' ') throw std::runtime_error("no value: " + line);
    const auto series = line.substr(0, i);
    std::size_t used = 0;
    const double value = std::stod(line.substr(i + 1), &used);
    if (i + 1 + used != line.size()) throw std::runtime_error("trailing text: " + line);
    samples[series] = value;
  }
  return samples;
}

}  // namespace

TEST_CASE("counters, errors and quantiles") {
  Metrics m;
  auto& op = m.operation("lead.create");
  CHECK(&op == &m.operation("lead.create"));
  for (int i = 1; i <= 100; ++i) op.record(microseconds{i * 100});  // 0.1 ms … 10 ms
  op.record(milliseconds{1}, ErrorCode::InvalidArgument);
  op.record(milliseconds{1}, ErrorCode::InvalidArgument);
  op.record(milliseconds{1}, ErrorCode::StorageError);
  CHECK(op.calls() == 103);
  CHECK(op.errors() == 3);
  CHECK(op.errors(ErrorCode::InvalidArgument) == 2);
  CHECK(op.quantile_ms(0.5) == doctest::Approx(5.0).epsilon(0.12));
  CHECK(op.quantile_ms(0.99) == doctest::Approx(10.0).epsilon(0.12));
  CHECK(m.operation("idle").quantile_ms(0.5) == 0.0);
  m.set_gauge("dialer_lines_in_use", 3);
  m.add_gauge("dialer_lines_in_use", 2);
  CHECK(m.gauge("dialer_lines_in_use") == 5);
}

TEST_CASE("Prometheus exposition parses and moves with the counters") {
  Metrics m;
  m.operation("lead.get").record(milliseconds{2});
  m.operation("lead.get").record(milliseconds{2}, ErrorCode::NotFound);
  m.set_gauge("jobs_due", 7);
  auto samples = parse_prometheus(m.to_prometheus());
  CHECK(samples.at("gymdash_operation_calls_total{operation=\"lead.get\"}") == 2);
  CHECK(samples.at("gymdash_operation_errors_total{operation=\"lead.get\",code=\"not_found\"}") == 1);
  CHECK(samples.at("gymdash_operation_latency_seconds_count{operation=\"lead.get\"}") == 2);
  CHECK(samples.at("gymdash_operation_latency_seconds{operation=\"lead.get\",quantile=\"0.5\"}") ==
        doctest::Approx(0.002).epsilon(0.12));
  CHECK(samples.at("gymdash_jobs_due") == 7);
  m.operation("lead.get").record(milliseconds{2});
  samples = parse_prometheus(m.to_prometheus());
  CHECK(samples.at("gymdash_operation_calls_total{operation=\"lead.get\"}") == 3);

  const auto json = boost::json::parse(m.to_json());
  CHECK(json.at("operations").at(0).at("calls") == 3);
  CHECK(json.at("operations").at(0).at("errors").at("not_found") == 1);
  CHECK(json.at("gauges").at("jobs_due") == 7.0);
}

TEST_CASE("recording from many threads loses nothing") {
  Metrics m;
  auto& op = m.operation("x");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) op.record(microseconds{50}, i % 10 ? ErrorCode::Ok : ErrorCode::Conflict);
    });
  for (auto& t : threads) t.join();
  CHECK(op.calls() == 80000);
  CHECK(op.errors(ErrorCode::Conflict) == 8000);
}

TEST_CASE("collectors run at export; one that throws is skipped") {
  Metrics m;
  int runs = 0;
  m.add_collector([&](Metrics& mm) { mm.set_gauge("answer", ++runs); });
  m.add_collector([](Metrics&) { throw std::runtime_error("down"); });
  CHECK(parse_prometheus(m.to_prometheus()).at("gymdash_answer") == 1);
  CHECK(boost::json::parse(m.to_json()).at("gauges").at("answer") == 2.0);
  m.clear_collectors();
  m.to_json();
  CHECK(runs == 2);
}

TEST_CASE("the runtime's jobs_due gauges count due callbacks and retries") {
  auto clock = std::make_shared<ManualClock>(parse_timestamp("2026-11-02T15:00:00Z"));
  RuntimeOptions options;
  options.clock = clock;
  options.log_sink = std::make_shared<MemoryLogSink>();
  auto rt = Runtime::open(options);
  Gym g;
  g.id = "gym-a";
  g.name = "A";
  g.timezone = "America/New_York";
  g.state = "NY";
  rt->gyms().create_gym(g);
  auto lead = [&](const char* phone) {
    LeadInput in;
    in.phone = phone;
    in.consent = Consent{true, clock->now(), "web_form", "test"};
    return rt->leads().create_lead("gym-a", in).lead;
  };
  const auto a = lead("(212) 736-1001");
  const auto b = lead("(212) 736-1002");
  lead("(212) 736-1003");  // never called: not a job
  CallResult cb;
  cb.call_id = "c1";
  cb.started_at = clock->now();
  cb.ended_at = clock->now() + seconds{40};
  cb.status = CallStatus::Completed;
  cb.answered_by = AnsweredBy::Human;
  cb.outcome = CallOutcome::CallbackRequested;
  cb.callback_at = clock->now() + minutes{30};
  rt->leads().update_lead_after_call("gym-a", a.id, cb);
  CallResult na;
  na.call_id = "c2";
  na.started_at = clock->now();
  na.ended_at = clock->now() + seconds{20};
  na.status = CallStatus::NoAnswer;
  rt->leads().update_lead_after_call("gym-a", b.id, na);

  auto gauges = [&] { return parse_prometheus(rt->metrics().to_prometheus()); };
  auto s = gauges();
  CHECK(s.at("gymdash_jobs_due") == 0);
  clock->advance(minutes{31});  // the callback is due; the retry gap (240 min) is not over
  s = gauges();
  CHECK(s.at("gymdash_jobs_due_callbacks") == 1);
  CHECK(s.at("gymdash_jobs_due_retries") == 0);
  clock->advance(hours{4});
  s = gauges();
  CHECK(s.at("gymdash_jobs_due_callbacks") == 1);
  CHECK(s.at("gymdash_jobs_due_retries") == 1);
  CHECK(s.at("gymdash_jobs_due") == 2);
  CHECK(s.at("gymdash_operation_calls_total{operation=\"lead.due_jobs\"}") >= 3);
}
