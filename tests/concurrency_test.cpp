// Eight threads create and update leads on one SQLite database; every write is there afterwards.
#include <gymdash/gymdash.hpp>

#include "test_util.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace gymdash;

TEST_CASE("8 threads writing one SQLite database") {
  test::TempPath path("concurrency");
  auto rt = Runtime::open("sqlite:" + path.str());
  Gym g;
  g.id = "gym-a";
  g.name = "A";
  g.timezone = "America/New_York";
  rt->gyms().create_gym(g);

  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  std::atomic<int> failures{0};
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kPerThread; ++i) {
          LeadInput in;
          // Distinct valid NANP numbers: 212-736-XXXX with XXXX = t*1000+i.
          char phone[32];
          std::snprintf(phone, sizeof phone, "(212) 736-%04d", t * 1000 + i);
          in.phone = phone;
          in.first_name = "T" + std::to_string(t);
          auto lead = rt->leads().create_lead("gym-a", in).lead;
          ids[t].push_back(lead.id);
          rt->leads().add_tags("gym-a", lead.id, {"thread-" + std::to_string(t)});
          if (i % 2 == 0) rt->leads().change_status("gym-a", lead.id, {LeadStatus::Contacted, "", "", false});
          // Everyone also touches one shared lead: updates must serialize, not get lost.
          rt->leads().add_note("gym-a", ids[t].front(), "note " + std::to_string(i));
        }
      } catch (const std::exception& e) {
        ++failures;
        MESSAGE(e.what());
      }
    });
  }
  for (auto& th : threads) th.join();
  REQUIRE(failures == 0);

  // Reopen: everything was committed.
  rt.reset();
  rt = Runtime::open("sqlite:" + path.str());
  CHECK(rt->leads().list_leads("gym-a", {}).total == kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    LeadFilter f;
    f.tags = {"thread-" + std::to_string(t)};
    f.page_size = 1000;
    auto page = rt->leads().list_leads("gym-a", f);
    CHECK(page.total == kPerThread);
    LeadFilter contacted = f;
    contacted.statuses = {LeadStatus::Contacted};
    CHECK(rt->leads().list_leads("gym-a", contacted).total == kPerThread / 2);
    auto history = rt->leads().get_history("gym-a", ids[t].front());
    int notes = 0;
    for (const auto& e : history) notes += e.kind == "note";
    CHECK(notes == kPerThread);
  }
}
