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
