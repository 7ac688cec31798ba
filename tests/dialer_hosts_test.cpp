// Several hosts dialing one PostgreSQL database (docs/campaigns.md, "Several
// hosts"): four dialer_host processes run dialers over the same campaigns of
// the same gyms for some seconds (hours of a scaled clock) — until the log
// shows a Florida lead at its cap and enough calls to have contended, however
// fast this machine runs them, within a bound; then the call
// log is checked against what the claim must guarantee whoever places the
// call: no lead on two calls at once, no campaign's or gym's attempts
// exceeded, the retry gap and Florida's 3 calls in 24 hours respected, each
// call begun by one host once, each enrolment attempt counted once, no lead
// left claimed by a call that ended. Skipped when GYMDASH_TEST_POSTGRES_URI
// is not set.

#include <doctest/doctest.h>

#include <gymdash/dialer.hpp>
#include <gymdash/gymdash.hpp>
#include <gymdash/voice.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#ifdef GYMDASH_TEST_WITH_POSTGRES

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dialer_hosts.hpp"
#include "postgres_backend.hpp"

using namespace gymdash;
namespace hosts = gymdash::test::hosts;

namespace {

struct GymSpec {
  const char* id;
  const char* zone;
  const char* state;
  const char* area;
};

constexpr GymSpec kGyms[] = {
    {"gym-nyc", "America/New_York", "NY", "212"},
    {"gym-mia", "America/New_York", "FL", "305"},
    {"gym-chi", "America/Chicago", "IL", "312"},
};
constexpr int kLeadsPerGym = 15;
constexpr int kHosts = 4;

std::string phone(const char* area, int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+1%s555%04d", area, n % 10000);
  return buf;
}

// Gyms, leads and two campaigns per gym over every lead, all active.
std::map<std::string, Campaign> populate(Store& store) {
  auto clock = std::make_shared<ManualClock>(hosts::start_time() - std::chrono::hours{2});
  auto config = hosts::config(1);
  auto gyms = make_gym_service(store, clock);
  auto leads = make_lead_service(store, clock, config);
  auto campaigns = make_campaign_service(store, clock, config);
  std::map<std::string, Campaign> out;
  for (const auto& g : kGyms) {
    Gym gi;
    gi.id = g.id;
    gi.name = g.id;
    gi.timezone = g.zone;
    gi.state = g.state;
    gi.call_hours = LocalWindow{8 * 60, 21 * 60};
    gi.call_days = kAllDays;
    gi.caller_ids = {phone(g.area, 1)};
    gyms->create_gym(gi);
    for (int i = 0; i < kLeadsPerGym; ++i) {
      LeadInput in;
      in.phone = phone(g.area, 1000 + i);
      in.first_name = "Lead";
      in.source = "web_form";
      in.created_at = clock->now() - std::chrono::hours{1 + i};
      in.consent = Consent{true, clock->now() - std::chrono::hours{500}, "web_form", "form"};
      leads->create_lead(g.id, in);
    }
    CampaignInput a;
    a.name = "every day";
    a.voice_provider = "sim";
    a.schedule.days = kAllDays;
    a.schedule.hours = LocalWindow{8 * 60, 21 * 60};
    a.pacing = CampaignPacing{4, 500, 100.0, 4, 10};
    a.weight = 2;
    CampaignInput b;
    b.name = "second look";
    b.voice_provider = "sim";
    b.schedule.days = kAllDays;
    b.schedule.hours = LocalWindow{8 * 60, 21 * 60};
    b.pacing = CampaignPacing{3, 500, 100.0, 3, 15};
    b.weight = 1;
    for (auto* in : {&a, &b}) {
      auto cmp = campaigns->create_campaign(g.id, *in);
      campaigns->enrol_by_filter(g.id, cmp.id);
      cmp = campaigns->set_state(g.id, cmp.id, CampaignState::Active);
      out.emplace(cmp.id, cmp);
    }
  }
  return out;
}

struct Child {
  pid_t pid = -1;
  int out = -1;
  int in = -1;  // the child's standard input: closing it stops its dialing
  std::string text;  // all it wrote
  std::thread reader;
};

void start_child(Child& c, const std::string& program, const std::vector<std::string>& args) {
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  int in_fds[2];
  REQUIRE(::pipe2(in_fds, O_CLOEXEC) == 0);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  c.pid = ::fork();
  REQUIRE(c.pid >= 0);
  if (c.pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(in_fds[0], STDIN_FILENO);
    ::execv(program.c_str(), argv.data());
    std::_Exit(127);
  }
  ::close(pipe_fds[1]);
  ::close(in_fds[0]);
  c.out = pipe_fds[0];
  c.in = in_fds[1];
  c.reader = std::thread([&c] {
    char chunk[4096];
    for (;;) {
      const auto n = ::read(c.out, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      c.text.append(chunk, static_cast<std::size_t>(n));
    }
  });
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("several hosts on one PostgreSQL database: no lead called twice at once, no job run twice") {
  const std::string uri = test::postgres_test_uri();
  const char* program = std::getenv("GYMDASH_DIALER_HOST");
  if (uri.empty() || !program) {
    MESSAGE("GYMDASH_TEST_POSTGRES_URI or GYMDASH_DIALER_HOST (run through ctest) is not set: skipped");
    return;
  }
  test::PostgresBackend backend;
  auto store = backend.open();
  const auto campaigns = populate(*store);

  // The hosts start together on one clock and dial until the log holds a
  // Florida lead with 3 calls and 120 calls in all — at least 4 s (two hours
  // of the clock), at most 16 s (eight hours, before the gyms close), so a slow
  // machine runs longer rather than showing less.
  const std::int64_t epoch = hosts::steady_ns() + 300'000'000;
  const std::int64_t min_stop = epoch + 4'000'000'000LL;
  const std::int64_t stop_at = epoch + 16'000'000'000LL;
  Child children[kHosts];
  for (int i = 0; i < kHosts; ++i)
    start_child(children[i], program,
                {uri, backend.schema, std::to_string(101 + i), std::to_string(epoch), std::to_string(stop_at)});
  {
    auto config = hosts::config(1);
    auto clock = std::make_shared<ManualClock>(hosts::start_time());
    auto leads = make_lead_service(*store, clock, config);
    auto calls = make_call_service(*store, clock, *leads, config);
    LeadFilter f;
    f.page_size = 1000;
    std::vector<std::pair<std::string, std::string>> lead_ids;  // gym, lead
    for (const auto& g : kGyms)
      for (const auto& lead : leads->list_leads(g.id, f).items) lead_ids.emplace_back(g.id, lead.id);
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds{250});
      const auto now = hosts::steady_ns();
      if (now >= stop_at) break;
      if (now < min_stop) continue;
      std::size_t in_log = 0;
      bool florida_capped = false;
      for (const auto& [gym, id] : lead_ids) {
        const auto n = calls->lead_calls(gym, id).size();
        in_log += n;
        if (gym == "gym-mia" && n >= 3) florida_capped = true;
      }
      if (florida_capped && in_log >= 120) break;
    }
  }
  for (auto& c : children) ::close(c.in);
  std::map<std::string, int> begun_by;  // call id → host
  int begun_twice = 0;
  std::int64_t begun = 0;
  for (int i = 0; i < kHosts; ++i) {
    auto& c = children[i];
    int status = 0;
    REQUIRE(::waitpid(c.pid, &status, 0) == c.pid);
    c.reader.join();
    ::close(c.out);
    INFO("host " << i << " wrote:\n" << c.text.substr(0, 4000));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    bool done = false;
    for (const auto& line : lines_of(c.text)) {
      if (line.rfind("begun ", 0) == 0) {
        ++begun;
        if (!begun_by.emplace(line.substr(6), i).second) ++begun_twice;
      } else if (line.rfind("error ", 0) == 0) {
        FAIL_CHECK("host " << i << ": " << line);
      } else if (line.rfind("done ", 0) == 0) {
        done = true;
      }
    }
    CHECK(done);
  }
  CHECK(begun_twice == 0);
  MESSAGE("calls begun by the hosts: " << begun);
  // Enough calls that the hosts contended for the same leads all along.
  REQUIRE(begun > 60);

  auto config = hosts::config(1);
  auto clock = std::make_shared<ManualClock>(hosts::start_time());
  auto leads = make_lead_service(*store, clock, config);
  auto calls = make_call_service(*store, clock, *leads, config);
  auto campaign_service = make_campaign_service(*store, clock, config);
  std::int64_t logged = 0, florida_leads_capped = 0, gaps_checked = 0;
  std::set<std::string> hosts_used;
  for (const auto& g : kGyms) {
    LeadFilter f;
    f.page_size = 1000;
    for (const auto& lead : leads->list_leads(g.id, f).items) {
      CAPTURE(lead.id);
      CHECK_MESSAGE(lead.active_call_id.empty(), "lead " << lead.id << " still claimed by " << lead.active_call_id);
      const auto log = calls->lead_calls(g.id, lead.id);
      std::map<std::string, int> per_campaign;
      CHECK(static_cast<int>(log.size()) <= config->defaults.max_attempts);
      for (std::size_t i = 0; i < log.size(); ++i) {
        const Call& call = log[i];
        ++logged;
        const auto by = begun_by.find(call.id);
        CHECK_MESSAGE(by != begun_by.end(), "call " << call.id << " was begun by no host");
        if (by != begun_by.end()) hosts_used.insert(std::to_string(by->second));
        CHECK(is_terminal(call.status));
        REQUIRE(call.ended_at);
        const auto& cmp = campaigns.at(call.campaign_id);
        CHECK(++per_campaign[call.campaign_id] <= cmp.pacing.max_attempts);
        if (i > 0) {
          const Call& prev = log[i - 1];
          // Never two calls at once.
          CHECK_MESSAGE(call.started_at >= *prev.ended_at,
                        "lead " << lead.id << ": call " << call.id << " at " << format_timestamp(call.started_at)
                                << " while " << prev.id << " ran until " << format_timestamp(*prev.ended_at));
          // The gap after the last call (of the campaign placing this one), or the callback asked for.
          if (prev.callback_at) {
            CHECK(call.started_at >= *prev.callback_at);
          } else {
            ++gaps_checked;
            CHECK_MESSAGE(call.started_at >= prev.started_at + std::chrono::minutes{cmp.pacing.retry_gap_minutes},
                          "lead " << lead.id << ": call " << call.id << " at " << format_timestamp(call.started_at)
                                  << " only " << (call.started_at - prev.started_at).count() / 1000
                                  << " s after " << prev.id);
          }
        }
        // Florida: at most 3 calls in any 24 hours.
        if (lead.local_state == "FL") {
          int in_day = 0;
          for (const auto& other : log)
            if (other.started_at <= call.started_at && other.started_at > call.started_at - std::chrono::hours{24})
              ++in_day;
          CHECK_MESSAGE(in_day <= 3, "lead " << lead.id << ": " << in_day << " calls in 24 hours in Florida");
          if (in_day == 3) ++florida_leads_capped;
        }
      }
      // Each attempt counted once in its enrolment.
      for (const auto& [cid, cmp] : campaigns) {
        if (cmp.gym_id != g.id) continue;
        const auto e = campaign_service->enrolment(g.id, cid, lead.id);
        REQUIRE(e);
        CHECK(e->attempts == per_campaign[cid]);
      }
    }
  }
  MESSAGE("calls in the log " << logged << ", gaps checked " << gaps_checked << ", Florida leads at their cap "
                              << florida_leads_capped);
  CHECK(logged == static_cast<std::int64_t>(begun_by.size()));
  CHECK(hosts_used.size() == static_cast<std::size_t>(kHosts));
  CHECK(gaps_checked > 20);
  CHECK(florida_leads_capped > 0);
}

#else

TEST_CASE("several hosts on one PostgreSQL database (built without PostgreSQL: skipped)") {
  MESSAGE("built without the PostgreSQL backend: skipped");
}

#endif
