// calls purge-expired, leads purge-recordings: retention and purges on
// request (docs/calls.md, "Recordings and retention"); leads erase, leads
// erasures: erasing a lead completely, and the audit entries it leaves
// (docs/hardening.md, "Erasing a lead").
#include "command.hpp"
#include "output.hpp"

#include <gymdash/model.hpp>
#include <gymdash/services/call.hpp>
#include <gymdash/services/lead.hpp>

#include <boost/json.hpp>

#include <ostream>

namespace gymdash::cli {

int calls_purge_expired(Context& ctx) {
  ctx.args.at_most(0);
  const auto at = at_option(ctx.args);  // before the runtime: a bad --at opens no database
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

namespace {
void print_erasure_row(Table& table, const LeadErasure& e) {
  table.add({std::to_string(e.seq), e.lead_id, short_time(format_timestamp(e.at)), e.actor,
             std::to_string(e.calls), std::to_string(e.history_entries), std::to_string(e.call_results),
             std::to_string(e.enrolments), e.reason});
}
const std::vector<std::string> kErasureColumns{"seq",     "lead",    "at",         "actor", "calls",
                                               "history", "results", "enrolments", "reason"};
}  // namespace

int leads_erase(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  const std::string lead = ctx.args.require("lead");
  const LeadErasure erasure = ctx.runtime().leads().erase_lead(gym, lead, ctx.args.get("actor").value_or(""),
                                                               ctx.args.get("reason").value_or(""));
  if (ctx.json()) {
    print_json(ctx.out, boost::json::value_from(erasure));
    return 0;
  }
  ctx.out << "lead " << lead << " erased: " << erasure.calls << (erasure.calls == 1 ? " call" : " calls") << " ("
          << erasure.recordings << " with a recording, " << erasure.transcripts << " with a transcript), "
          << erasure.history_entries << " history entries, " << erasure.call_results << " call results, "
          << erasure.enrolments << " campaign enrolments; audit entry " << erasure.seq << "\n";
  return 0;
}

int leads_erasures(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  const int limit = ctx.args.integer("limit", 100, 1, kMaxPageSize);
  const int offset = ctx.args.integer("offset", 0, 0, 2'000'000'000);
  const auto entries = ctx.runtime().leads().list_erasures(gym, limit, offset);
  if (ctx.json()) {
    print_json(ctx.out, boost::json::value_from(entries));
    return 0;
  }
  Table table(kErasureColumns);
  for (const auto& e : entries) print_erasure_row(table, e);
  table.print(ctx.out);
  return 0;
}

}  // namespace gymdash::cli
