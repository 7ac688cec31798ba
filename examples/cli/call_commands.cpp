// calls ingest, calls list, calls get.
#include "command.hpp"
#include "output.hpp"

#include "file_import.hpp"

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/call.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>

namespace gymdash::cli {

namespace {

namespace json = boost::json;

using OptionNames = std::map<std::string, std::string, std::less<>>;
const OptionNames kListOptions = {{"lead_id", "lead"},        {"status", "status"},     {"outcome", "outcome"},
                                  {"direction", "direction"}, {"started_from", "from"}, {"started_to", "to"},
                                  {"page", "page"},           {"page_size", "page-size"}};
constexpr std::size_t kRejectsShown = 20;

std::string opt_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_double()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", v.get_double());
    return buf;
  }
  return {};
}

}  // namespace

int calls_ingest(Context& ctx) {
  const std::string path = ctx.args.positional(0, "FILE");
  ctx.args.at_most(1);
  IngestOptions options;
  options.batch_size = ctx.args.integer("batch-size", options.batch_size, 1, 1'000'000);
  auto file = capi::open_input_file("FILE", path);
  const IngestReport report = ctx.runtime().calls().ingest_jsonl(file.stream, options);
  capi::check_read_to_end("FILE", file);
  if (ctx.json()) {
    // The summary only: the same keys as the data contract's manifest.
    json::object by_reason;
    for (const auto& [reason, n] : report.rejected_by_reason) by_reason[reason] = n;
    print_json(ctx.out, json::object{{"events", report.events},
                                     {"duplicates", report.duplicates},
                                     {"applied", report.applied},
                                     {"rejected", report.rejected},
                                     {"rejected_by_reason", std::move(by_reason)}});
    return 0;
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", report.seconds);
  ctx.out << report.events << (report.events == 1 ? " event" : " events") << " in " << seconds
          << " s: " << report.applied << " applied, " << report.duplicates << " duplicates, " << report.rejected
          << " rejected\n";
  if (report.rejected == 0) return 0;
  const std::size_t shown = print_rejects(ctx.out, report.rejected_by_reason, report.rejected_lines, kRejectsShown);
  if (static_cast<std::int64_t>(shown) < report.rejected)
    ctx.out << "… and " << (report.rejected - static_cast<std::int64_t>(shown)) << " more (use --json)\n";
  return 0;
}

int calls_list(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  json::object o;
  if (const auto v = ctx.args.get("lead")) o["lead_id"] = *v;
  if (const auto v = ctx.args.get("status")) o["status"] = *v;
  if (const auto v = ctx.args.get("outcome")) o["outcome"] = *v;
  if (const auto v = ctx.args.get("direction")) o["direction"] = *v;
  if (const auto v = ctx.args.get("from")) o["started_from"] = *v;
  if (const auto v = ctx.args.get("to")) o["started_to"] = *v;
  o["page"] = ctx.args.integer("page", 1, 1, 1000000000);
  o["page_size"] = ctx.args.integer("page-size", 50, 1, 1000);
  CallFilter filter;
  try {
    filter = json::value_to<CallFilter>(json::value(o));
  } catch (const Error& e) {
    rethrow_as_option(e, kListOptions);
  }
  const auto page = ctx.runtime().calls().list_calls(gym, filter);
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(page));
    return 0;
  }
  Table table({"id", "call", "lead", "started", "status", "answered", "outcome", "duration"});
  for (const auto& call : page.items) {
    const auto c = json::value_from(call).as_object();
    table.add({opt_text(c.at("id")), opt_text(c.at("provider_call_id")), opt_text(c.at("lead_id")),
               short_time(opt_text(c.at("started_at"))), opt_text(c.at("status")), opt_text(c.at("answered_by")),
               opt_text(c.at("outcome")), opt_text(c.at("duration_s"))});
  }
  table.print(ctx.out);
  const auto pages = page.total == 0 ? 1 : (page.total + page.page_size - 1) / page.page_size;
  ctx.out << "page " << page.page << " of " << pages << ", " << page.total << (page.total == 1 ? " call" : " calls")
          << "\n";
  return 0;
}

int calls_get(Context& ctx) {
  ctx.args.at_most(0);
  const auto call = ctx.runtime().calls().get_call(ctx.args.require("gym"), ctx.args.require("call"));
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(call));
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& [k, v] : json::value_from(call).as_object()) fields.emplace_back(std::string(k), opt_text(v));
  print_fields(ctx.out, fields);
  return 0;
}

}  // namespace gymdash::cli
