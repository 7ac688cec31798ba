#include <gymdash/config.hpp>
#include <gymdash/error.hpp>

#include <doctest/doctest.h>

#include <cstdlib>

using namespace gymdash;

namespace {
std::string errors_of(std::string_view json) {
  try {
    parse_config(json);
  } catch (const InvalidArgumentError& e) {
    return e.what();
  }
  return "<accepted>";
}
}  // namespace

TEST_CASE("empty document gives the defaults; defaults round-trip") {
  const Config c = parse_config("{}");
  CHECK(c.storage == "sqlite:gymdash.db");
  CHECK(c.worker_threads == 2);
  CHECK(c.defaults.hot_threshold == 70);
  CHECK(c.logging.level == LogLevel::Info);
  CHECK(c.metrics.enabled);
  const Config again = parse_config(default_config_json());
  CHECK(again.defaults == c.defaults);
  CHECK(again.storage == c.storage);
  CHECK(again.limits.max_request_bytes == c.limits.max_request_bytes);
}

TEST_CASE("per-gym overrides inherit the defaults whatever the key order") {
  const Config c = parse_config(R"({
    "gyms": {"gym-mia-01": {"call_hours": {"start": "10:00"}, "max_attempts": 3}},
    "defaults": {"call_hours": {"start": "08:30", "end": "19:00"}, "retry_gap_minutes": 60}
  })");
  const auto& mia = c.policy("gym-mia-01");
  CHECK(mia.call_hours.start_minute == 600);
  CHECK(mia.call_hours.end_minute == 19 * 60);
  CHECK(mia.max_attempts == 3);
  CHECK(mia.retry_gap_minutes == 60);
  CHECK(c.policy("gym-other").call_hours.start_minute == 8 * 60 + 30);
}

TEST_CASE("every error is reported by its key path") {
  const auto msg = errors_of(R"({
    "storage": "ftp://x",
    "worker_threads": 0,
    "gyms": {"gym-nyc-01": {"call_hours": {"start": "25:00"}, "call_days": ["mon", "funday"]}},
    "logging": {"level": "loud", "sink": "file"},
    "limits": {"max_page_size": "big"},
    "voice_providers": {"main": {"kind": "retel", "api_key": "sk-123"}},
    "metrics": {"enabeld": true},
    "loging": {}
  })");
  for (auto expected : {"storage: \"ftp://x\" is not a storage URI",
                        "worker_threads: 0 is out of range",
                        "gyms.gym-nyc-01.call_hours.start: \"25:00\" is not a time",
                        "gyms.gym-nyc-01.call_days[1]: is not a day",
                        "logging.level: \"loud\" is not a log level",
                        "logging.file: is required when logging.sink is \"file\"",
                        "limits.max_page_size: expected an integer, got a string",
                        "voice_providers.main.kind: \"retel\" is not a provider",
                        "voice_providers.main.api_key: secrets are not accepted",
                        "metrics.enabeld: unknown key (did you mean \"enabled\"?)",
                        "loging: unknown key (did you mean \"logging\"?)"}) {
    CAPTURE(expected);
    CHECK(msg.find(expected) != std::string::npos);
  }
  CHECK(msg.find("sk-123") == std::string::npos);  // a secret is never echoed
  try {
    parse_config(R"({"worker_threads": "two"})");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "worker_threads");
  }
  CHECK(errors_of("[]").find("config: expected an object") == 0);
  CHECK(errors_of("{").find("config: invalid JSON") == 0);
  CHECK(errors_of(R"({"defaults": {"hot_threshold": 30, "cold_threshold": 50}})").find("defaults.cold_threshold") == 0);
}

TEST_CASE("secrets come from environment variables, by name") {
  Config c = parse_config(R"({"voice_providers": {"retell": {"kind": "retell", "api_key_env": "GYMDASH_TEST_RETELL_KEY",
                                                               "webhook_secret_env": "GYMDASH_TEST_UNSET_SECRET"}}})");
  ::setenv("GYMDASH_TEST_RETELL_KEY", "key_abc", 1);
  ::unsetenv("GYMDASH_TEST_UNSET_SECRET");
  try {
    resolve_secrets(c);
    FAIL("missing variable accepted");
  } catch (const InvalidArgumentError& e) {
    CHECK(e.field() == "voice_providers.retell.webhook_secret_env");
    CHECK(std::string(e.what()).find("GYMDASH_TEST_UNSET_SECRET is not set") != std::string::npos);
  }
  ::setenv("GYMDASH_TEST_UNSET_SECRET", "whsec", 1);
  resolve_secrets(c);
  CHECK(c.voice_providers.at("retell").api_key == "key_abc");
  const auto printed = to_json(c);
  CHECK(printed.find("key_abc") == std::string::npos);
  CHECK(printed.find("GYMDASH_TEST_RETELL_KEY") != std::string::npos);
  CHECK(errors_of(R"({"voice_providers": {"t": {"kind": "twilio"}}})").find("voice_providers.t.api_key_env: is required") == 0);
}

TEST_CASE("unreadable file names its path") {
  try {
    load_config_file("/nonexistent/gymdash.json");
    FAIL("accepted");
  } catch (const InvalidArgumentError& e) {
    CHECK(std::string(e.what()).find("/nonexistent/gymdash.json") != std::string::npos);
  }
}
