// The process dialer_hosts_test starts several of: one host of a deployment
// that shares a PostgreSQL database with the others. It runs a dialer over
// every active campaign of the database, with the simulated provider, on the
// shared scaled clock (tests/dialer_hosts.hpp), until the parent closes its
// standard input or, at the latest, a steady time the parent chose; then it
// lets its calls end and exits.
//
//   dialer_host URI SCHEMA SEED EPOCH_NS STOP_NS
//
// It writes one line per call it began (`begun CALL_ID`, from the dialer's
// events), one per error the dialer reported (`error MESSAGE`) and at the end
// `status …` (ticks, calls placed, each campaign's last waiting reason) and
// `done BEGUN`. Exit status: 0 done, 1 error, 2 usage.
#include <gymdash/dialer.hpp>
#include <gymdash/gymdash.hpp>
#include <gymdash/voice.hpp>

#include <boost/asio/io_context.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "dialer_hosts.hpp"

namespace gd = gymdash;
namespace hosts = gymdash::test::hosts;

namespace {

std::mutex say_mutex;

// Whether the host is still placing calls: only then does the end of its
// standard input stop the io_context (not while the last calls end).
std::mutex dialing_mutex;
bool dialing = true;

void say(const std::string& line) {
  std::lock_guard lock(say_mutex);
  std::string text = line + "\n";
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const auto n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) std::_Exit(3);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: dialer_host URI SCHEMA SEED EPOCH_NS STOP_NS\n");
    return 2;
  }
  try {
    const int seed = std::atoi(argv[3]);
    const std::int64_t epoch = std::atoll(argv[4]);
    const std::int64_t stop_at = std::atoll(argv[5]);
    gd::PostgresOptions po;
    po.uri = argv[1];
    po.schema = argv[2];
    po.pool_size = 4;
    auto store = gd::make_postgres_store(po);
    auto clock = std::make_shared<hosts::ScaledClock>(epoch);
    auto config = hosts::config(seed);
    auto leads = gd::make_lead_service(*store, clock, config);
    auto calls = gd::make_call_service(*store, clock, *leads, config);
    auto campaigns = gd::make_campaign_service(*store, clock, config);
    boost::asio::io_context io;
    auto provider = gd::make_voice_provider(config->voice_providers.at("sim"), io.get_executor(), clock);

    gd::DialerContext dc;
    dc.store = store.get();
    dc.leads = leads.get();
    dc.calls = calls.get();
    dc.campaigns = campaigns.get();
    dc.clock = clock;
    dc.config = config;
    dc.provider = [&](std::string_view name) -> gd::VoiceProvider* { return name == "sim" ? provider.get() : nullptr; };
    dc.executor = io.get_executor();
    gd::DialerOptions o;
    o.tick = std::chrono::milliseconds{50};
    o.idle_recheck = std::chrono::milliseconds{0};
    o.queue_max_age = std::chrono::seconds{1};
    auto dialer = gd::make_dialer(std::move(dc), o);
    std::int64_t begun = 0;
    dialer->set_observer([&](const gd::DialerEvent& e) {
      if (e.kind == gd::DialerEvent::Kind::Placed || e.kind == gd::DialerEvent::Kind::Refused) {
        ++begun;
        say("begun " + e.call_id);
      } else if (e.kind == gd::DialerEvent::Kind::Error) {
        say("error " + e.message);
      }
    });
    dialer->start();
    // The parent closes our standard input when it has seen enough calls.
    std::thread stop_on_eof([&io] {
      char c;
      for (;;) {
        const auto n = ::read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
      }
      std::lock_guard lock(dialing_mutex);
      if (dialing) io.stop();
    });
    stop_on_eof.detach();
    const auto left = stop_at - hosts::steady_ns();
    if (left > 0) io.run_for(std::chrono::nanoseconds{left});
    {
      std::lock_guard lock(dialing_mutex);
      dialing = false;
    }
    // No new calls; the calls in flight end (a call lasts at most about
    // 11 minutes of the clock: a third of a second here).
    {
      // For the parent's messages: how far this host came, and why each campaign waited last.
      const auto st = dialer->status();
      std::string line = "status ticks " + std::to_string(st.ticks) + " placed " + std::to_string(st.placed);
      for (const auto& c : st.campaigns) line += " " + c.campaign_id + ":" + (c.waiting.empty() ? "-" : c.waiting);
      say(line);
    }
    dialer->stop();
    io.restart();
    io.run_for(std::chrono::milliseconds{1500});
    dialer.reset();
    io.restart();
    io.run_for(std::chrono::milliseconds{200});
    say("done " + std::to_string(begun));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dialer_host: %s\n", e.what());
    return 1;
  }
}
