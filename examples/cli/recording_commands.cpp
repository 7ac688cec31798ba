// calls purge-expired, leads purge-recordings: retention and purges on
// request (docs/calls.md, "Recordings and retention").
#include "command.hpp"
#include "output.hpp"

#include <gymdash/model.hpp>
#include <gymdash/services/call.hpp>

#include <boost/json.hpp>

#include <optional>
#include <ostream>

namespace gymdash::cli {

int calls_purge_expired(Context& ctx) {
  ctx.args.at_most(0);
  std::optional<Timestamp> at;
  if (const auto v = ctx.args.get("at")) at = parse_timestamp(*v, "--at");
  const PurgeReport report = ctx.runtime().calls().purge_expired_recordings(at);
  if (ctx.json()) {
    print_json(ctx.out, boost::json::value_from(report));
    return 0;
  }
  Table table({"gym", "retention", "cutoff", "purged"});
  for (const auto& g : report.gyms)
    table.add({g.gym_id, std::to_string(g.retention_days) + " days",
               g.cutoff ? short_time(format_timestamp(*g.cutoff)) : "", std::to_string(g.calls)});
  table.print(ctx.out);
  ctx.out << report.calls << (report.calls == 1 ? " call" : " calls") << " purged\n";
  return 0;
}

int leads_purge_recordings(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  const std::string lead = ctx.args.require("lead");
  const PurgeReport report = ctx.runtime().calls().purge_lead_recordings(
      gym, lead, ctx.args.get("actor").value_or(""), ctx.args.get("reason").value_or(""));
  if (ctx.json()) {
    print_json(ctx.out, boost::json::value_from(report));
    return 0;
  }
  ctx.out << report.calls << (report.calls == 1 ? " call" : " calls") << " of lead " << lead
          << " purged (recording, transcript, summary)\n";
  return 0;
}

}  // namespace gymdash::cli
