// quickstart: the main job of the README.
//
// Opens (or creates) an SQLite database, creates a gym, adds leads whose phone
// numbers are written the way people type them, then lists, filters, tags and
// moves a status, printing what the library stored.
//
//   quickstart [DATABASE]      (default: quickstart.db in the current directory)
#include <gymdash/gymdash.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace gd = gymdash;

static void print_lead(const gd::Lead& l) {
  std::string tags;
  for (const auto& t : l.tags) tags += (tags.empty() ? "" : ",") + t;
  std::printf("  %-30s %-14s %-22s %-12s %-8s [%s]\n", l.id.c_str(), l.phone.c_str(),
              (l.first_name + " " + l.last_name).c_str(), gd::to_string(l.status), gd::to_string(l.qualification),
              tags.c_str());
}

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "quickstart.db";
  // Start from an empty file so every run prints the same story.
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);

  try {
    auto rt = gd::Runtime::open("sqlite:" + path);
    std::printf("gymdash %s on sqlite:%s\n", gd::version(), path.c_str());

    gd::Gym gym;
    gym.id = "gym-nyc-01";
    gym.name = "Iron Temple Manhattan";
    gym.timezone = "America/New_York";
    gym.region = "US";
    gym.state = "NY";
    gym.call_hours = {9 * 60, 20 * 60};
    gym.call_days = gd::kWeekdays;
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
    std::printf("quickstart: done\n");
    return 0;
  } catch (const gd::Error& e) {
    std::fprintf(stderr, "quickstart: %s (%s)\n", e.what(), gd::error_code_name(e.code()));
    return 1;
  }
}
