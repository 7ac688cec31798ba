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
        {"call-hours", true, "HH:MM-HH:MM  gym-local calling hours (default 09:00-20:00)"},
        {"call-days", true, "DAYS       mon,tue,… (default every day)"},
        {"caller-ids", true, "NUMBERS    caller-ID numbers, comma-separated"}},
       gyms_create},
      {"gyms get", "ID", "show a gym", {}, gyms_get},
      {"gyms list", "", "list every gym", {}, gyms_list},
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
