// The Asio completion-token wrappers: use_future, use_awaitable and a callback.
#include <gymdash/async.hpp>
#include <gymdash/gymdash.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <doctest/doctest.h>

#include <future>

using namespace gymdash;
namespace asio = boost::asio;

namespace {
std::unique_ptr<Runtime> open_with_gym() {
  auto rt = Runtime::open("memory:");
  Gym g;
  g.id = "gym-a";
  g.name = "A";
  g.timezone = "America/New_York";
  rt->gyms().create_gym(g);
  return rt;
}
LeadInput input(const char* phone) {
  LeadInput in;
  in.phone = phone;
  in.first_name = "Ann";
  return in;
}
}  // namespace

TEST_CASE("use_future") {
  auto rt = open_with_gym();
  auto created = async_create_lead(*rt, "gym-a", input("(212) 736-5000"), asio::use_future).get();
  CHECK(created.lead.phone == "+12127365000");
  auto got = async_get_lead(*rt, "gym-a", created.lead.id, asio::use_future).get();
  CHECK(got == created.lead);
  // Errors arrive as the same exception the synchronous call throws.
  auto missing = async_get_lead(*rt, "gym-a", "ld_missing", asio::use_future);
  CHECK_THROWS_AS(missing.get(), NotFoundError);
  auto bad = async_create_lead(*rt, "gym-a", input("nope"), asio::use_future);
  CHECK_THROWS_AS(bad.get(), InvalidArgumentError);
  async_delete_lead(*rt, "gym-a", created.lead.id, asio::use_future).get();
  CHECK(rt->leads().list_leads("gym-a", {}).total == 0);
}

TEST_CASE("use_awaitable") {
  auto rt = open_with_gym();
  asio::io_context io;
  std::string phone, error_field;
  std::int64_t total = -1;
  std::size_t tag_count = 0;
  // GCC 12 miscompiles string literals and braced lists inside co_await
  // expressions, so the coroutine's arguments are prepared up front.
  const std::string gym = "gym-a";
  const std::vector<std::string> tags{"vip"};
  const LeadInput new_lead = input("646.239.4410");
  StatusChange convert;
  convert.to = LeadStatus::Converted;
  StatusChange back;
  back.to = LeadStatus::New;
  const LeadFilter everything;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto r = co_await async_create_lead(*rt, gym, new_lead, asio::use_awaitable);
        phone = r.lead.phone;
        auto tagged = co_await async_add_tags(*rt, gym, r.lead.id, tags, asio::use_awaitable);
        tag_count = tagged.tags.size();
        auto page = co_await async_list_leads(*rt, gym, everything, asio::use_awaitable);
        total = page.total;
        try {
          co_await async_change_status(*rt, gym, r.lead.id, convert, asio::use_awaitable);
          co_await async_change_status(*rt, gym, r.lead.id, back, asio::use_awaitable);
        } catch (const ConflictError& e) {
          error_field = e.field();
        }
      },
      asio::detached);
  io.run();
  CHECK(phone == "+16462394410");
  CHECK(total == 1);
  CHECK(tag_count == 1);
  CHECK(error_field == "status");
}

TEST_CASE("callback") {
  auto rt = open_with_gym();
  std::promise<std::pair<bool, std::size_t>> done;
  async_list_gyms(*rt, [&](std::exception_ptr e, std::vector<Gym> gyms) {
    done.set_value({e == nullptr, gyms.size()});
  });
  auto [ok, n] = done.get_future().get();
  CHECK(ok);
  CHECK(n == 1);

  std::promise<bool> failed;
  async_get_gym(*rt, "gym-nope", [&](std::exception_ptr e, Gym) {
    try {
      if (e) std::rethrow_exception(e);
      failed.set_value(false);
    } catch (const NotFoundError&) {
      failed.set_value(true);
    }
  });
  CHECK(failed.get_future().get());
}

namespace {
// A runtime whose configuration names a simulated voice provider, as campaigns need one.
std::unique_ptr<Runtime> open_with_campaign_gym() {
  Config config;
  config.storage = "memory:";
  config.logging.level = LogLevel::Warn;
  VoiceProviderConfig sim;
  sim.kind = "simulated";
  config.voice_providers["sim"] = sim;
  auto rt = Runtime::open(config, std::make_shared<ManualClock>(parse_timestamp("2026-11-02T15:00:00Z")));
  Gym g;
  g.id = "gym-a";
  g.name = "A";
  g.timezone = "America/New_York";
  rt->gyms().create_gym(g);
  return rt;
}
}  // namespace

TEST_CASE("campaigns and analytics with use_future") {
  auto rt = open_with_campaign_gym();
  auto a = async_create_lead(*rt, "gym-a", input("(212) 736-5000"), asio::use_future).get().lead;
  auto b = async_create_lead(*rt, "gym-a", input("(212) 736-5001"), asio::use_future).get().lead;

  CampaignInput in;
  in.name = "Winter push";
  in.voice_provider = "sim";
  const auto c = async_create_campaign(*rt, "gym-a", in, asio::use_future).get();
  CHECK(c.state == CampaignState::Draft);
  CHECK(async_get_campaign(*rt, "gym-a", c.id, asio::use_future).get() == c);
  CHECK(async_list_campaigns(*rt, "gym-a", CampaignFilter{}, asio::use_future).get().items.size() == 1);
  CampaignPatch patch;
  patch.name = "Spring push";
  CHECK(async_update_campaign(*rt, "gym-a", c.id, patch, asio::use_future).get().name == "Spring push");

  CHECK(async_enrol_leads(*rt, "gym-a", c.id, {a.id}, asio::use_future).get().enrolled == 1);
  const auto by_filter = async_enrol_by_filter(*rt, "gym-a", c.id, std::nullopt, asio::use_future).get();
  CHECK(by_filter.enrolled == 1);  // b; a was enrolled already
  CHECK(by_filter.already_enrolled == 1);
  CHECK(async_get_enrolment(*rt, "gym-a", c.id, b.id, asio::use_future).get().has_value());
  CHECK(async_campaign_performance(*rt, "gym-a", c.id, asio::use_future).get().enrolled == 2);

  // The campaign's dashboard counts its enrolled leads (both created today, in the default period).
  AnalyticsQuery q;
  q.gym_id = "gym-a";
  q.campaign_id = c.id;
  CHECK(async_dashboard(*rt, q, asio::use_future).get().leads == 2);
  CHECK(async_remove_campaign_leads(*rt, "gym-a", c.id, {b.id}, asio::use_future).get() == 1);
  CHECK_FALSE(async_get_enrolment(*rt, "gym-a", c.id, b.id, asio::use_future).get().has_value());
  CHECK(async_dashboard(*rt, q, asio::use_future).get().leads == 1);
  q.campaign_id.clear();
  CHECK(async_dashboard(*rt, q, asio::use_future).get().leads == 2);
  const auto rebuilt = async_rebuild_analytics(*rt, "gym-a", asio::use_future).get();
  CHECK(rebuilt.gyms == 1);
  CHECK(rebuilt.leads == 2);

  // Errors arrive as the exception the synchronous call throws.
  q.to = "2026-13-01";
  CHECK_THROWS_AS(async_dashboard(*rt, q, asio::use_future).get(), InvalidArgumentError);
  CHECK_THROWS_AS(async_set_campaign_state(*rt, "gym-a", c.id, CampaignState::Paused, asio::use_future).get(),
                  ConflictError);
  CHECK(async_set_campaign_state(*rt, "gym-a", c.id, CampaignState::Cancelled, asio::use_future).get().state ==
        CampaignState::Cancelled);
  async_delete_campaign(*rt, "gym-a", c.id, asio::use_future).get();
  CHECK_THROWS_AS(async_get_campaign(*rt, "gym-a", c.id, asio::use_future).get(), NotFoundError);
}

TEST_CASE("campaigns and analytics with a callback") {
  auto rt = open_with_campaign_gym();
  CampaignInput in;
  in.name = "Callbacks";
  in.voice_provider = "sim";
  std::promise<std::string> created;
  async_create_campaign(*rt, "gym-a", in, [&](std::exception_ptr e, Campaign c) {
    created.set_value(e ? std::string("error") : c.id);
  });
  const auto id = created.get_future().get();
  REQUIRE(id.rfind("cmp_", 0) == 0);

  std::promise<std::pair<bool, std::int64_t>> performance;
  async_campaign_performance(*rt, "gym-a", id, [&](std::exception_ptr e, CampaignPerformance p) {
    performance.set_value({e == nullptr, p.enrolled});
  });
  CHECK(performance.get_future().get() == std::pair<bool, std::int64_t>{true, 0});

  std::promise<std::string> unknown;
  AnalyticsQuery q;
  q.gym_id = "gym-a";
  q.campaign_id = "cmp_missing";
  async_dashboard(*rt, q, [&](std::exception_ptr e, Dashboard) {
    try {
      if (e) std::rethrow_exception(e);
      unknown.set_value("no error");
    } catch (const NotFoundError& err) {
      unknown.set_value(std::string(err.field()));
    }
  });
  CHECK(unknown.get_future().get() == "campaign_id");

  std::promise<std::int64_t> calls;
  q.campaign_id = id;
  async_dashboard(*rt, q, [&](std::exception_ptr e, Dashboard d) { calls.set_value(e ? -1 : d.calls.calls); });
  CHECK(calls.get_future().get() == 0);
}
