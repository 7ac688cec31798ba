#include <gymdash/clock.hpp>
#include <gymdash/log.hpp>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include "test_util.hpp"

#include <fstream>

using namespace gymdash;

TEST_CASE("redact masks phone numbers and emails") {
  CHECK(redact("call +1 (212) 736-5000 now") == "call ***5000 now");
  CHECK(redact("2127365000") == "***5000");
  CHECK(redact("+442079460958, 646.239.4410") == "***0958, ***4410");
  CHECK(redact("mail maria.garcia+gym@example.co.uk please") == "mail [email] please");
  CHECK(redact("lead ld_01M8BMK5CM2M6HTAN0VW7VHWQ1 ok") == "lead ld_01M8BMK5CM2M6HTAN0VW7VHWQ1 ok");
  CHECK(redact("imported 123456 rows in 2026-10-13") == "imported 123456 rows in 2026-10-13");
  CHECK(redact("id E7-000000001") == "id E7-000000001");
  CHECK(redact("") == "");
}

TEST_CASE("records format as JSON lines and logfmt") {
  LogRecord r;
  r.time = parse_timestamp("2026-11-01T12:00:00Z");
  r.level = LogLevel::Warn;
  r.operation = "lead.create";
  r.gym_id = "gym-a";
  r.code = ErrorCode::InvalidArgument;
  r.message = "phone: \"***0000\" is not a phone number";
  r.duration_ms = 1.5;
  r.fields = {{"rows", "12"}};
  const auto json = format_log_record(r, LogFormat::Json);
  const auto v = boost::json::parse(json);
  CHECK(v.at("level") == "warn");
  CHECK(v.at("op") == "lead.create");
  CHECK(v.at("gym") == "gym-a");
  CHECK(v.at("error") == "invalid_argument");
  CHECK(v.at("ms").as_double() == doctest::Approx(1.5));
  CHECK(v.at("rows") == "12");
  CHECK(v.at("time") == "2026-11-01T12:00:00Z");
  CHECK_FALSE(v.as_object().contains("lead"));
  const auto lf = format_log_record(r, LogFormat::Logfmt);
  CHECK(lf.find("level=warn op=lead.create gym=gym-a error=invalid_argument ms=1.500 msg=\"phone:") == 45 - 45 + lf.find("level="));
  CHECK(lf.rfind("time=2026-11-01T12:00:00Z", 0) == 0);
  CHECK(lf.find("rows=12") != std::string::npos);
}

TEST_CASE("logger filters by level and redacts before the sink") {
  auto sink = std::make_shared<MemoryLogSink>();
  Logger log(sink, LogLevel::Info);
  log.log(LogLevel::Debug, "x", "hidden");
  log.log(LogLevel::Info, "lead.create", "created lead for 212-736-5000 (ann@example.com)");
  LogRecord r;
  r.level = LogLevel::Error;
  r.fields = {{"phone", "+12127365000"}};
  log.log(r);
  auto lines = sink->lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("***5000") != std::string::npos);
  CHECK(lines[0].find("736-5000") == std::string::npos);
  CHECK(lines[0].find("example.com") == std::string::npos);
  CHECK(lines[1].find("***5000") != std::string::npos);
  log.set_level(LogLevel::Off);
  log.log(LogLevel::Error, "x", "dropped");
  CHECK(sink->lines().size() == 2);
}

TEST_CASE("file and callback sinks") {
  test::TempPath path("log");
  {
    Logger log(make_file_log_sink(path.str(), LogFormat::Logfmt), LogLevel::Debug);
    log.log(LogLevel::Info, "runtime.open", "hello");
  }
  std::ifstream in(path.str());
  std::string line;
  std::getline(in, line);
  CHECK(line.find("op=runtime.open msg=hello") != std::string::npos);
  CHECK_THROWS_AS(make_file_log_sink("/nonexistent-dir/x.log"), InvalidArgumentError);
  try {
    make_file_log_sink("/nonexistent-dir/x.log", LogFormat::Json, "logging.file");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "logging.file");
  }

  std::vector<std::string> seen;
  Logger cb(make_callback_log_sink([&](const LogRecord& r, std::string_view line) {
    seen.push_back(r.operation + "|" + std::string(line));
  }));
  cb.log(LogLevel::Warn, "op", "m");
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].rfind("op|{", 0) == 0);
}

TEST_CASE("level and format names") {
  CHECK(parse_log_level("warn") == LogLevel::Warn);
  CHECK(parse_log_level("warning") == LogLevel::Warn);
  CHECK_THROWS_AS(parse_log_level("loud"), InvalidArgumentError);
  CHECK(parse_log_format("logfmt") == LogFormat::Logfmt);
  CHECK_THROWS_AS(parse_log_format("xml"), InvalidArgumentError);
}
