// quickstart: the main job of the README.
//
// Opens (or creates) an SQLite database, creates a gym, adds leads whose phone
// numbers are written the way people type them, then lists, filters, tags and
// moves a status, printing what the library stored. Then a short campaign end
// to end: leads imported from CSV, a campaign created and started, the dialer
// run for a simulated working day against the simulated voice provider, and
// the campaign's report.
//
// The clock is a manual one starting Monday 2026-11-02 09:30 in New York, so
// every run prints the same story.
//
//   quickstart [DATABASE]      (default: quickstart.db in the current directory)
#include <gymdash/dialer.hpp>
#include <gymdash/gymdash.hpp>
#include <gymdash/voice.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

namespace gd = gymdash;

static void print_lead(const gd::Lead& l) {
  std::string tags;
  for (const auto& t : l.tags) tags += (tags.empty() ? "" : ",") + t;
  std::printf("  %-30s %-14s %-22s %-12s %-8s [%s]\n", l.id.c_str(), l.phone.c_str(),
              (l.first_name + " " + l.last_name).c_str(), gd::to_string(l.status), gd::to_string(l.qualification),
              tags.c_str());
}

// Import, run, report: a campaign over a simulated working day.
static void run_campaign(gd::Runtime& rt, const std::shared_ptr<gd::ManualClock>& clock, const gd::Gym& gym) {
  std::printf("\n--- a campaign, end to end ---\n");
  // 1. Import: October's leads from an ad platform's CSV export.
  std::ostringstream csv;
  csv << "external_id,gym_id,first_name,last_name,phone,email,source,created_at,interest,timeline,consent,tags\n";
  const char* firsts[] = {"Ana", "Ben", "Chloe", "Dev", "Emma", "Femi", "Gia", "Hugo", "Ines", "Jon"};
  for (int i = 0; i < 40; ++i)
    csv << "FB-" << 1000 + i << "," << gym.id << "," << firsts[i % 10] << ",Lead" << i << ",(917) 555-"
        << 2000 + i << ",,facebook_ads,2026-10-" << (10 + i % 20) << "T18:00:00Z,strength,asap,"
        << (i % 13 == 5 ? "no" : "yes") << ",october\n";
  std::istringstream in(csv.str());
  const auto imported = rt.leads().import_leads(in);
  std::printf("imported %lld leads (%lld rejected)\n", static_cast<long long>(imported.imported),
              static_cast<long long>(imported.rejected));

  // 2. A campaign for them: weekdays 09:30-17:00 their time, 3 lines, 4 tries, $20 a day.
  gd::CampaignInput ci;
  ci.name = "October Facebook leads";
  ci.voice_provider = "sim";
  ci.target.tags = {"october"};
  ci.schedule.days = gd::kWeekdays;
  ci.schedule.hours = {9 * 60 + 30, 17 * 60};
  ci.pacing = gd::CampaignPacing{3, 200, 0.5, 4, 120};
  ci.budget = gd::CampaignBudget{20.0, 100.0, 0.5};
  auto campaign = rt.campaigns().create_campaign(gym.id, ci);
  const auto enrolled = rt.campaigns().enrol_by_filter(gym.id, campaign.id);
  campaign = rt.campaigns().set_state(gym.id, campaign.id, gd::CampaignState::Active);
  std::printf("campaign %s: %lld leads enrolled, %s\n", campaign.name.c_str(),
              static_cast<long long>(enrolled.enrolled), gd::to_string(campaign.state));

  // 3. Run: the dialer ticks once a simulated minute until 17:30; the simulated
  //    provider plays each call in virtual time on this thread's io_context.
  boost::asio::io_context io;
  auto provider = gd::make_voice_provider(rt.config().voice_providers.at("sim"), io.get_executor(), clock);
  gd::DialerContext dc;
  dc.store = &rt.store();
  dc.leads = &rt.leads();
  dc.calls = &rt.calls();
  dc.campaigns = &rt.campaigns();
  dc.clock = clock;
  dc.config = std::make_shared<gd::Config>(rt.config());
  dc.provider = [&](std::string_view) -> gd::VoiceProvider* { return provider.get(); };
  dc.executor = io.get_executor();
  gd::DialerOptions options;
  options.tick = std::chrono::seconds{60};
  auto dialer = gd::make_dialer(std::move(dc), options);
  const auto end = gd::parse_timestamp("2026-11-02T22:30:00Z");
  std::int64_t placed = 0;
  while (clock->now() < end) {
    placed += dialer->tick().placed;
    io.restart();
    while (io.poll() > 0) {
    }
    clock->advance(std::chrono::minutes{1});
  }
  dialer.reset();
  std::printf("dialer placed %lld calls by 17:30\n", static_cast<long long>(placed));
  if (placed == 0) throw gd::InternalError("the campaign placed no call: check the gym's hours and caller ids");

  // 4. Report: the campaign's counters and its dashboard for the day.
  const auto perf = rt.campaigns().performance(gym.id, campaign.id);
  std::printf("performance: %s\n", gd::to_json(perf).c_str());
  gd::AnalyticsQuery q;
  q.gym_id = gym.id;
  q.campaign_id = campaign.id;
  q.from = "2026-11-02";
  q.to = "2026-11-02";
  const auto d = rt.analytics().dashboard(q);
  std::printf("report: calls %lld, connected %lld (%.0f%%), voicemail %lld, talk %lld s, cost $%.2f\n",
              static_cast<long long>(d.calls.calls), static_cast<long long>(d.calls.connected),
              d.calls.connect_rate * 100, static_cast<long long>(d.calls.voicemail),
              static_cast<long long>(d.calls.talk_s), d.calls.cost_usd);
  for (const auto& [outcome, n] : d.calls.outcomes) std::printf("  %-20s %lld\n", outcome.c_str(), static_cast<long long>(n));
}

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "quickstart.db";
  // Start from an empty file so every run prints the same story.
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);

  try {
    gd::Config config;
    config.storage = "sqlite:" + path;
    config.logging.level = gd::LogLevel::Warn;
    gd::VoiceProviderConfig sim;
    sim.kind = "simulated";
    sim.options = {{"seed", "7"}};
    config.voice_providers["sim"] = sim;
    auto clock = std::make_shared<gd::ManualClock>(gd::parse_timestamp("2026-11-02T14:30:00Z"));
    auto rt = gd::Runtime::open(config, clock);
    std::printf("gymdash %s on sqlite:%s\n", gd::version(), path.c_str());

    gd::Gym gym;
    gym.id = "gym-nyc-01";
    gym.name = "Iron Temple Manhattan";
    gym.timezone = "America/New_York";
    gym.region = "US";
    gym.state = "NY";
    gym.call_hours = {9 * 60, 20 * 60};
    gym.call_days = gd::kWeekdays;
    gym.caller_ids = {"+12125550100"};
    gym = rt->gyms().create_gym(gym);
    std::printf("created %s\n", gd::to_json(gym).c_str());

    // The same people write their numbers in many ways; all become E.164.
    struct Row {
      const char *phone, *first, *last, *source, *timeline;
    };
    const Row rows[] = {
        {"(212) 736-5000", "Maria", "Garcia", "web_form", "asap"},
        {"646.239.4410", "Wei", "Chen", "facebook_ads", "this week"},
        {"+1 917 882 0934", "Aisha", "Khan", "google_ads", "this month"},
        {"1-718-230-4521", "Liam", "O'Brien", "instagram", "just browsing"},
        {" 212 736 5000 ", "Maria", "Garcia", "referral", ""},  // same person again: merged
    };
    std::vector<gd::Lead> leads;
    for (const auto& r : rows) {
      gd::LeadInput in;
      in.phone = r.phone;
      in.first_name = r.first;
      in.last_name = r.last;
      in.source = r.source;
      in.timeline = r.timeline;
      in.consent = gd::Consent{true, rt->clock().now(), "web_form", "quickstart"};
      auto res = rt->leads().create_lead(gym.id, in);
      std::printf("%-18s -> %s%s\n", r.phone, res.lead.phone.c_str(), res.merged ? "  (merged into existing lead)" : "");
      if (!res.merged) leads.push_back(res.lead);
    }

    // A number that is not a phone number is refused, naming the field.
    try {
      gd::LeadInput bad;
      bad.phone = "call me maybe";
      rt->leads().create_lead(gym.id, bad);
    } catch (const gd::InvalidArgumentError& e) {
      std::printf("rejected: %s (code %d)\n", e.what(), static_cast<int>(e.code()));
    }

    rt->leads().add_tags(gym.id, leads[0].id, {"trial-pass", "VIP"});
    rt->leads().add_tags(gym.id, leads[2].id, {"trial-pass"});
    rt->leads().change_status(gym.id, leads[0].id, {gd::LeadStatus::Contacted, "front-desk", "called back", false});
    rt->leads().change_status(gym.id, leads[0].id, {gd::LeadStatus::TrialBooked, "front-desk", "booked Friday", false});
    rt->leads().add_note(gym.id, leads[0].id, "Prefers evening classes", "front-desk");
    try {
      rt->leads().change_status(gym.id, leads[0].id, {gd::LeadStatus::New, "front-desk", "", false});
    } catch (const gd::ConflictError& e) {
      std::printf("refused: %s\n", e.what());
    }

    std::printf("\nall leads of %s:\n", gym.id.c_str());
    auto page = rt->leads().list_leads(gym.id, {});
    for (const auto& l : page.items) print_lead(l);
    std::printf("  total %lld\n", static_cast<long long>(page.total));

    gd::LeadFilter tagged;
    tagged.tags = {"trial-pass"};
    std::printf("\ntagged trial-pass:\n");
    for (const auto& l : rt->leads().list_leads(gym.id, tagged).items) print_lead(l);

    gd::LeadFilter search;
    search.search = "chen";
    std::printf("\nsearch \"chen\":\n");
    for (const auto& l : rt->leads().list_leads(gym.id, search).items) print_lead(l);

    std::printf("\nhistory of %s:\n", leads[0].id.c_str());
    for (const auto& e : rt->leads().get_history(gym.id, leads[0].id))
      std::printf("  %s %-8s %-12s -> %-14s by %s%s%s\n", gd::format_timestamp(e.at).c_str(), e.kind.c_str(),
                  e.from.c_str(), e.to.c_str(), e.actor.c_str(), e.reason.empty() ? "" : ": ", e.reason.c_str());

    std::printf("\n%s\n", gd::to_json(rt->leads().get_lead(gym.id, leads[0].id)).c_str());
    run_campaign(*rt, clock, gym);
    std::printf("quickstart: done\n");
    return 0;
  } catch (const gd::Error& e) {
    std::fprintf(stderr, "quickstart: %s (%s)\n", e.what(), gd::error_code_name(e.code()));
    return 1;
  }
}
