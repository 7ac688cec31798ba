// The command table, the global options, the runtime they describe, and help.
#include "command.hpp"

#include <gymdash/config.hpp>
#include <gymdash/error.hpp>
#include <gymdash/version.hpp>

#include <ostream>

namespace gymdash::cli {

namespace {

const OptionSpec kGlobalOptions[] = {
    {"db", true, "URI        storage (default sqlite:gymdash.db; memory: keeps nothing)"},
    {"config", true, "FILE       configuration document (docs/operations.md); --db overrides its storage"},
    {"log-level", true, "LEVEL      trace, debug, info, warn (default), error, off; records go to stderr"},
    {"json", false, "           print the library's JSON instead of a table"},
    {"help", false, "           show the usage of a command"},
};

}  // namespace

std::span<const OptionSpec> global_options() { return kGlobalOptions; }

namespace {

const std::vector<OptionSpec> kCampaignIdOptions = {
    {"gym", true, "ID         the gym (default: the gym that has the campaign)"},
    {"campaign", true, "ID         the campaign"},
};

// The members of a campaign (campaign create, campaign update).
std::vector<OptionSpec> campaign_member_options() {
  return {
      {"name", true, "NAME       1–200 characters"},
      {"provider", true, "NAME       a voice provider of the configuration (voice_providers)"},
      {"assistant", true, "ID         the provider's assistant (required for retell and vapi)"},
      {"description", true, "TEXT       at most 10000 characters"},
      {"weight", true, "N          share against the gym's other active campaigns, 1–1000 (default 1)"},
      {"tags", true, "T,…        target: leads with all of these tags"},
      {"qualifications", true, "Q,…        target: hot, neutral, cold"},
      {"statuses", true, "S,…        target: new, contacted, qualified, trial_booked"},
      {"source", true, "S          target: leads from this source"},
      {"start-date", true, "DATE       first gym-local day, YYYY-MM-DD (default: from activation)"},
      {"end-date", true, "DATE       last gym-local day (default: no end)"},
      {"days", true, "DAYS       mon,tue,… (default mon-fri)"},
      {"hours", true, "HH:MM-HH:MM  lead-local hours (default 09:00-19:00)"},
      {"max-concurrent", true, "N          lines at once, 1–1000 (default 5)"},
      {"calls-per-day", true, "N          calls a gym-local day (default 500)"},
      {"calls-per-second", true, "X          start rate, 0.01–100 (default 1)"},
      {"max-attempts", true, "N          attempts per lead, 1–20 (default 4)"},
      {"retry-gap", true, "MIN        least minutes between attempts on a lead (default 240)"},
      {"daily-budget", true, "USD        per gym-local day, 0 = none"},
      {"total-budget", true, "USD        over the campaign's life, 0 = none"},
      {"reserve-per-call", true, "USD        held per call until its cost is known (default 0.50)"},
      {"spec", true, "JSON|@FILE  a CampaignInput (update: CampaignPatch) object; the options override it"},
  };
}

const std::vector<OptionSpec> kCampaignOptions = [] {
  std::vector<OptionSpec> o{{"gym", true, "ID         the gym"}};
  for (auto& m : campaign_member_options()) o.push_back(m);
  return o;
}();

const std::vector<OptionSpec> kCampaignUpdateOptions = [] {
  std::vector<OptionSpec> o = kCampaignIdOptions;
  for (auto& m : campaign_member_options()) o.push_back(m);
  return o;
}();

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"config check", "FILE [--env]",
       "read a configuration file and report every error (ok, or the normalized document with --json)",
       {{"env", false, "           also require the environment variables it names to be set"}},
       config_check},
      {"config defaults", "", "print the default configuration document", {}, config_defaults},
      {"metrics", "[--format prometheus|json]", "print this process's metrics",
       {{"format", true, "FORMAT     prometheus (default) or json"}},
       metrics_show},
      {"gyms create",
       "--name NAME --timezone TZ [--id ID --region R --state S --call-hours 09:00-20:00 --call-days mon,tue,… "
       "--caller-ids N,…]",
       "create a gym",
       {{"id", true, "ID         1–64 of A-Z a-z 0-9 . _ - (default: generated)"},
        {"name", true, "NAME       1–200 characters"},
        {"timezone", true, "TZ         IANA time zone, America/New_York"},
        {"region", true, "R          phone region, US (default)"},
        {"state", true, "S          state or province code"},
        {"call-hours", true, "HH:MM-HH:MM  gym-local calling hours (default: the configuration's)"},
        {"call-days", true, "DAYS       mon,tue,… (default: the configuration's)"},
        {"caller-ids", true, "NUMBERS    caller-ID numbers, comma-separated"}},
       gyms_create},
      {"gyms get", "ID", "show a gym", {}, gyms_get},
      {"gyms list", "", "list every gym", {}, gyms_list},
      {"gyms import", "FILE", "create or update gyms from a gyms.csv file (gym_id,name,timezone[,region,state])", {},
       gyms_import},
      {"leads add", "--gym G --phone P [--first F --last L --email E --source S --tags a,b --actor A]",
       "add a lead (merged into the gym's lead with the same number, if any)",
       {{"gym", true, "ID         the gym"},
        {"phone", true, "PHONE      as people type it; read in the gym's region"},
        {"first", true, "NAME       first name"},
        {"last", true, "NAME       last name"},
        {"email", true, "EMAIL      email address"},
        {"source", true, "SOURCE     web_form, facebook_ads, …"},
        {"tags", true, "TAGS       comma-separated"},
        {"actor", true, "WHO        recorded in the history (default api)"}},
       leads_add},
      {"leads get", "--gym G --lead ID", "show a lead",
       {{"gym", true, "ID         the gym"}, {"lead", true, "ID         the lead"}},
       leads_get},
      {"leads list",
       "--gym G [--status s,… --qualification q,… --tag t,… --search TEXT --page N --page-size N]",
       "list a gym's leads, newest first",
       {{"gym", true, "ID         the gym"},
        {"status", true, "S,…       new, contacted, qualified, trial_booked, converted, lost"},
        {"qualification", true, "Q,…       hot, neutral, cold"},
        {"tag", true, "T,…        leads with all of these tags"},
        {"search", true, "TEXT       part of a name, phone or email"},
        {"page", true, "N          1-based (default 1)"},
        {"page-size", true, "N          1–1000 (default 50)"}},
       leads_list},
      {"leads tag", "--gym G --lead ID [--add a,b] [--remove c] [--actor A]", "add and remove tags",
       {{"gym", true, "ID         the gym"},
        {"lead", true, "ID         the lead"},
        {"add", true, "TAGS       tags to add"},
        {"remove", true, "TAGS       tags to remove"},
        {"actor", true, "WHO        recorded in the history (default api)"}},
       leads_tag},
      {"leads status", "--gym G --lead ID --to STATUS [--reason R --force --actor A]", "move a lead's status",
       {{"gym", true, "ID         the gym"},
        {"lead", true, "ID         the lead"},
        {"to", true, "STATUS     new, contacted, qualified, trial_booked, converted, lost"},
        {"reason", true, "TEXT       why (required with --force)"},
        {"force", false, "           allow a move back or out of converted"},
        {"actor", true, "WHO        recorded in the history (default api)"}},
       leads_status},
      {"leads import", "FILE [--batch-size N]",
       "import leads from a CSV file (docs/import.md); a progress line on stderr when it is a terminal",
       {{"batch-size", true, "N          rows per committed batch, 1–1000000 (default 50000)"}},
       leads_import},
      {"calls ingest", "FILE [--batch-size N]",
       "apply call events from a JSON Lines file (docs/calls.md); each event_id once",
       {{"batch-size", true, "N          events per committed batch, 1–1000000 (default 50000)"}},
       calls_ingest},
      {"calls list",
       "--gym G [--lead L --status S --outcome O --direction D --from ISO --to ISO --page N --page-size N]",
       "list a gym's calls, newest first",
       {{"gym", true, "ID         the gym"},
        {"lead", true, "ID         one lead's calls"},
        {"status", true, "S          completed, no_answer, busy, failed, canceled, …"},
        {"outcome", true, "O          interested, trial_booked, …"},
        {"direction", true, "D          outbound or inbound"},
        {"from", true, "ISO8601    started at or after"},
        {"to", true, "ISO8601    started before"},
        {"page", true, "N          1-based (default 1)"},
        {"page-size", true, "N          1–1000 (default 50)"}},
       calls_list},
      {"calls get", "--gym G --call ID", "show a call (by its id or the provider's call id)",
       {{"gym", true, "ID         the gym"}, {"call", true, "ID         the call"}},
       calls_get},
      {"calls purge-expired", "[--at ISO8601]",
       "purge recordings, transcripts and summaries older than each gym's retention (docs/calls.md)",
       {{"at", true, "TIME       the moment the retention counts back from (default now)"}},
       calls_purge_expired},
      {"leads purge-recordings", "--gym G --lead ID [--actor A --reason R]",
       "purge the recordings, transcripts and summaries of a lead's calls, on request (recorded in its history)",
       {{"gym", true, "ID         the gym"},
        {"lead", true, "ID         the lead"},
        {"actor", true, "WHO        recorded in the history (default api)"},
        {"reason", true, "TEXT       why (recorded in the history)"}},
       leads_purge_recordings},
      {"leads erase", "--gym G --lead ID [--actor A --reason R]",
       "erase a lead completely: the lead, its history, calls, transcripts, recordings' metadata, call results "
       "and enrolments, leaving an audit entry without personal data (docs/hardening.md)",
       {{"gym", true, "ID         the gym"},
        {"lead", true, "ID         the lead"},
        {"actor", true, "WHO        recorded in the audit entry (default api; no email address)"},
        {"reason", true, "TEXT       why (no phone number, email address or the lead's name)"}},
       leads_erase},
      {"leads erasures", "--gym G [--limit N --offset N]", "the audit entries of a gym's erased leads, newest first",
       {{"gym", true, "ID         the gym"},
        {"limit", true, "N          1–1000 (default 100)"},
        {"offset", true, "N          entries to skip (default 0)"}},
       leads_erasures},
      {"report", "[--gym G] [--campaign C] [--from DATE --to DATE] [--timezone TZ] [--json|--csv]",
       "a dashboard of calls and leads over a period (docs/analytics.md); every gym without --gym",
       {{"gym", true, "ID         the gym (default: every gym)"},
        {"campaign", true, "ID         only this campaign's calls"},
        {"from", true, "DATE       first gym-local date, YYYY-MM-DD (default: 90 days ending --to)"},
        {"to", true, "DATE       last gym-local date (default: today)"},
        {"timezone", true, "TZ         zone whose today ends the default period (default: the gym's)"},
        {"csv", false, "           print one RFC 4180 CSV table (section,key,metric,value)"}},
       report},
      {"analytics rebuild", "[--gym G]", "recompute the analytics rollups from the stored calls and leads",
       {{"gym", true, "ID         one gym (default: every gym)"}},
       analytics_rebuild},
      {"webhook ingest",
       "--provider retell|vapi|twilio [--url URL --header 'Name: value' --headers FILE --secret-env VAR "
       "--tolerance S] FILE",
       "verify a saved provider webhook (body in FILE) and apply its call events (docs/webhooks.md)",
       {{"provider", true, "P          retell, vapi or twilio"},
        {"url", true, "URL        the full URL the provider called (Twilio signs it; may carry gym_id, lead_id)"},
        {"header", true, "'N: V'     one request header, such as the signature"},
        {"headers", true, "FILE       request headers, one 'Name: value' a line"},
        {"secret-env", true, "VAR        environment variable holding the secret (default: the configuration's)"},
        {"tolerance", true, "S          seconds a signed timestamp may be from now, 1–86400 (default 300)"}},
       webhook_ingest},
      {"leads next", "--gym G --count N [--qualification Q | --campaign C] [--exclude ID,… --at ISO8601]",
       "the leads that may be called now (or at --at), best first",
       {{"gym", true, "ID         the gym"},
        {"count", true, "N          how many, 1–1000"},
        {"qualification", true, "Q          only hot, neutral or cold leads"},
        {"campaign", true, "ID         whom this campaign's dialer would call, under its rules"},
        {"exclude", true, "IDS        lead ids to skip, comma-separated"},
        {"at", true, "TIME       ISO 8601 with Z or an offset (default now)"}},
       leads_next},
      {"leads explain", "--gym G --lead ID [--campaign C --at ISO8601]",
       "whether a lead may be called now (or at --at), and why not",
       {{"gym", true, "ID         the gym"},
        {"lead", true, "ID         the lead"},
        {"campaign", true, "ID         under this campaign's rules, as its dialer checks a lead"},
        {"at", true, "TIME       ISO 8601 with Z or an offset (default now)"}},
       leads_explain},
      {"leads after-call", "--gym G --lead ID --result JSON", "apply a call's result to a lead",
       {{"gym", true, "ID         the gym"},
        {"lead", true, "ID         the lead"},
        {"result", true, "JSON       {\"call_id\",\"started_at\",\"status\",\"answered_by\",\"outcome\",…}"}},
       leads_after_call},
      {"dnc add", "(--gym G | --global | --scope G|*) --phone P [--reason R --source S]",
       "put a number on a do-not-call list",
       {{"gym", true, "ID         the gym's list"},
        {"global", false, "           the global list"},
        {"scope", true, "SCOPE      a gym id, or * for the global list"},
        {"phone", true, "PHONE      as people type it; read in the gym's region (global: E.164, else US)"},
        {"reason", true, "TEXT       why"},
        {"source", true, "TEXT       where it came from (default api)"}},
       dnc_add},
      {"dnc remove", "(--gym G | --global | --scope G|*) --phone P [--actor A --reason R]",
       "take a number off a do-not-call list (recorded in the history of the leads it unblocks)",
       {{"gym", true, "ID         the gym's list"},
        {"global", false, "           the global list"},
        {"scope", true, "SCOPE      a gym id, or * for the global list"},
        {"phone", true, "PHONE      the number"},
        {"actor", true, "WHO        recorded in the history (default api)"},
        {"reason", true, "TEXT       why"}},
       dnc_remove},
      {"dnc check", "--gym G --phone P", "whether a number may not be called for a gym, and why",
       {{"gym", true, "ID         the gym"}, {"phone", true, "PHONE      the number"}},
       dnc_check},
      {"dnc list", "(--gym G | --global | --scope G|*) [--limit N --offset N]", "a do-not-call list, by number",
       {{"gym", true, "ID         the gym's list"},
        {"global", false, "           the global list"},
        {"scope", true, "SCOPE      a gym id, or * for the global list"},
        {"limit", true, "N          1–1000 (default 100)"},
        {"offset", true, "N          entries to skip (default 0)"}},
       dnc_list},
      {"dnc import", "FILE (--gym G | --global | --scope G|*)",
       "add a file's numbers to a do-not-call list: one per line (# comments), or CSV with a phone column",
       {{"gym", true, "ID         the gym's list"},
        {"global", false, "           the global list"},
        {"scope", true, "SCOPE      a gym id, or * for the global list"}},
       dnc_import},
      // ---- calling campaigns (docs/campaigns.md, "From the command line") ----
      {"campaign create",
       "--gym G --name N --provider P [--assistant A --description D --weight N --tags t,… --qualifications q,… "
       "--statuses s,… --source S --start-date D --end-date D --days mon,… --hours 09:00-19:00 --max-concurrent N "
       "--calls-per-day N --calls-per-second X --max-attempts N --retry-gap MIN --daily-budget USD --total-budget USD "
       "--reserve-per-call USD --spec JSON|@FILE]",
       "create a calling campaign (draft); options override --spec (a CampaignInput object)",
       kCampaignOptions, campaign_create},
      {"campaign get", "[--gym G] --campaign C", "show a campaign", kCampaignIdOptions, campaign_get},
      {"campaign list", "--gym G [--state s,… --page N --page-size N]", "list a gym's campaigns, newest first",
       {{"gym", true, "ID         the gym"},
        {"state", true, "S,…        draft, active, paused, completed, cancelled"},
        {"page", true, "N          1-based (default 1)"},
        {"page-size", true, "N          1–1000 (default 50)"}},
       campaign_list},
      {"campaign update", "[--gym G] --campaign C [the options of campaign create]",
       "change a draft or paused campaign; a section's other members are kept",
       kCampaignUpdateOptions, campaign_update},
      {"campaign delete", "[--gym G] --campaign C", "delete a draft, completed or cancelled campaign",
       kCampaignIdOptions, campaign_delete},
      {"campaign start", "[--gym G] --campaign C", "activate a draft or paused campaign", kCampaignIdOptions,
       campaign_start},
      {"campaign pause", "[--gym G] --campaign C", "pause an active campaign", kCampaignIdOptions, campaign_pause},
      {"campaign resume", "[--gym G] --campaign C", "activate a paused campaign again", kCampaignIdOptions,
       campaign_resume},
      {"campaign cancel", "[--gym G] --campaign C", "cancel a campaign (for good)", kCampaignIdOptions, campaign_cancel},
      {"campaign complete", "[--gym G] --campaign C", "mark an active or paused campaign completed", kCampaignIdOptions,
       campaign_complete},
      {"campaign enrol", "[--gym G] --campaign C [--leads ID,… | --tags t,… --qualifications q,… --statuses s,… --source S]",
       "enrol leads by id, by a filter, or (neither) by the campaign's own target",
       {{"gym", true, "ID         the gym (default: the gym that has the campaign)"},
        {"campaign", true, "ID         the campaign"},
        {"leads", true, "IDS        lead ids, comma-separated (at most 10000)"},
        {"tags", true, "T,…        leads with all of these tags"},
        {"qualifications", true, "Q,…        hot, neutral, cold"},
        {"statuses", true, "S,…        new, contacted, qualified, trial_booked"},
        {"source", true, "S          leads from this source"}},
       campaign_enrol},
      {"campaign status", "[--gym G] --campaign C", "a campaign's figures and this process's dialer's view of it",
       kCampaignIdOptions, campaign_status},
      {"dial", "[--gym G] --campaign C [--for DURATION]",
       "run the dialer for DURATION (30s, 5m, 1h), or one tick without --for; prints a JSON summary "
       "(the dialer calls every active campaign; the summary is C's)",
       {{"gym", true, "ID         the gym (default: the gym that has the campaign)"},
        {"campaign", true, "ID         the campaign (must be active)"},
        {"for", true, "DURATION   500ms, 30s, 5m, 1h (at most 24h); default: one tick"}},
       dial},
      {"simulate", "[--gym G] --campaign C [--days N --step S --provider-option KEY=VALUE,…]",
       "forecast a campaign with the simulated provider on a virtual clock (writes nothing); prints JSON",
       {{"gym", true, "ID         the gym (default: the gym that has the campaign)"},
        {"campaign", true, "ID         the campaign (any state but cancelled)"},
        {"days", true, "N          days simulated, 1–90 (default 14)"},
        {"step", true, "S          simulated seconds between ticks, 1–600 (default 30)"},
        {"provider-option", true, "K=V,…      simulated provider settings (docs/voice.md), e.g. answer_rate=0.3"}},
       simulate},
      {"help", "[COMMAND]", "show this help, or a command's", {}, help},
  };
  return table;
}

Runtime& Context::runtime() {
  if (runtime_) return *runtime_;
  Config config;
  if (const auto file = args.get("config")) {
    config = load_config_file(*file);
    if (const auto db = args.get("db")) config.storage = *db;
  } else {
    config.storage = args.get("db").value_or("sqlite:gymdash.db");
    config.worker_threads = 1;  // the tool runs one operation at a time
  }
  try {
    config.logging.level = parse_log_level(args.get("log-level").value_or("warn"), "--log-level");
  } catch (const InvalidArgumentError& e) {
    throw UsageError(e.what());
  }
  runtime_ = Runtime::open(std::move(config));
  return *runtime_;
}

std::optional<Timestamp> at_option(const Args& args) {
  const auto at = args.get("at");
  if (!at) return std::nullopt;
  return parse_timestamp(*at, "--at");
}

namespace {

void print_options(std::ostream& out, std::span<const OptionSpec> options) {
  for (const auto& o : options) out << "  --" << o.name << ' ' << o.help << '\n';
}

}  // namespace

int help(Context& ctx) {
  auto& out = ctx.out;
  ctx.args.at_most(2);
  if (!ctx.args.positionals().empty()) {
    std::string path = ctx.args.positionals()[0];
    if (ctx.args.positionals().size() > 1) path += " " + ctx.args.positionals()[1];
    for (const auto& c : commands()) {
      if (c.path != path) continue;
      out << "usage: gymdash " << c.path << (c.usage.empty() ? "" : " ") << c.usage << "\n\n" << c.summary << "\n";
      if (!c.options.empty()) {
        out << "\noptions:\n";
        print_options(out, c.options);
      }
      out << "\nglobal options:\n";
      print_options(out, global_options());
      return 0;
    }
    throw UsageError("unknown command \"" + path + "\"");
  }
  out << "gymdash " << version() << " — gyms, leads and operations from the command line\n\n"
      << "usage: gymdash [--db URI] [--config FILE] [--log-level LEVEL] [--json] COMMAND [ARGS]\n\ncommands:\n";
  for (const auto& c : commands()) out << "  " << c.path << (c.usage.empty() ? "" : " ") << c.usage << "\n      "
                                       << c.summary << '\n';
  out << "\nglobal options:\n";
  print_options(out, global_options());
  out << "\nExit status: 0 ok, 1 the operation failed, 2 a usage error. Errors go to stderr.\n";
  return 0;
}

}  // namespace gymdash::cli
