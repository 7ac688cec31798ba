// The command table of the `gymdash` tool. A command is a path of words
// ("leads list"), the options it takes, a usage line and a handler; adding one
// is a handler function plus a row in commands.cpp.
#pragma once

#include "args.hpp"

#include <gymdash/model.hpp>
#include <gymdash/runtime.hpp>

#include <iosfwd>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace gymdash::cli {

/**
 * What a handler gets: its arguments, where to write, and the runtime the
 * global options describe (opened on first use, so that `config` commands
 * need no database).
 */
class Context {
 public:
  Context(const Args& args, std::ostream& out) : args(args), out(out) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Args& args;
  std::ostream& out;

  /** True when --json asks for the library's JSON instead of tables. */
  bool json() const { return args.flag("json"); }
  /**
   * The runtime of --config FILE (if given) with --db URI as its storage
   * (default `sqlite:gymdash.db` without --config) and --log-level as its
   * level (default warn, so that stdout stays clean).
   */
  Runtime& runtime();

 private:
  std::unique_ptr<Runtime> runtime_;
};

/**
 * --at as the library reads it: ISO 8601 with Z or an offset; nullopt when
 * absent (the command means now). Anything else is InvalidArgumentError
 * naming --at.
 */
std::optional<Timestamp> at_option(const Args& args);

/** Runs a command; returns the exit status. Throws UsageError or gymdash::Error. */
using Handler = int (*)(Context&);

struct Command {
  std::string_view path;              ///< the words that select it: `leads list`
  std::string_view usage;             ///< what follows the path in the usage line
  std::string_view summary;           ///< one line
  std::vector<OptionSpec> options;    ///< its own options; the global ones are added
  Handler run = nullptr;
};

/** Every command, in the order `gymdash help` lists them. */
const std::vector<Command>& commands();
/** The options every command takes: --db, --config, --log-level, --json, --help. */
std::span<const OptionSpec> global_options();

// ---- handlers (one file per group) --------------------------------------------

int config_check(Context& ctx);
int config_defaults(Context& ctx);
int metrics_show(Context& ctx);
int gyms_create(Context& ctx);
int gyms_get(Context& ctx);
int gyms_list(Context& ctx);
int gyms_import(Context& ctx);
int leads_add(Context& ctx);
int leads_get(Context& ctx);
int leads_list(Context& ctx);
int leads_tag(Context& ctx);
int leads_status(Context& ctx);
int leads_import(Context& ctx);
int leads_next(Context& ctx);
int leads_explain(Context& ctx);
int leads_after_call(Context& ctx);
int dnc_add(Context& ctx);
int dnc_remove(Context& ctx);
int dnc_check(Context& ctx);
int dnc_list(Context& ctx);
int dnc_import(Context& ctx);
int calls_ingest(Context& ctx);
int calls_list(Context& ctx);
int calls_get(Context& ctx);
int calls_purge_expired(Context& ctx);
int leads_purge_recordings(Context& ctx);
int leads_erase(Context& ctx);
int leads_erasures(Context& ctx);
int report(Context& ctx);
int analytics_rebuild(Context& ctx);
int webhook_ingest(Context& ctx);
int campaign_create(Context& ctx);
int campaign_get(Context& ctx);
int campaign_list(Context& ctx);
int campaign_update(Context& ctx);
int campaign_delete(Context& ctx);
int campaign_start(Context& ctx);
int campaign_pause(Context& ctx);
int campaign_resume(Context& ctx);
int campaign_cancel(Context& ctx);
int campaign_complete(Context& ctx);
int campaign_enrol(Context& ctx);
int campaign_status(Context& ctx);
int dial(Context& ctx);
int simulate(Context& ctx);
int help(Context& ctx);

}  // namespace gymdash::cli
