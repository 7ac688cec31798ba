// dnc add, dnc remove, dnc check, dnc list, dnc import: the do-not-call lists.
#include "command.hpp"
#include "output.hpp"

#include "file_import.hpp"

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/lead.hpp>

#include <boost/json.hpp>

#include <map>
#include <ostream>

namespace gymdash::cli {

namespace {

namespace json = boost::json;

// Library fields by the option that sets them ("scope" comes from --scope, --gym or --global).
const std::map<std::string, std::string, std::less<>> kDncOptions = {
    {"scope", "scope"}, {"gym_id", "gym"}, {"phone", "phone"}, {"reason", "reason"},
    {"source", "source"}, {"actor", "actor"}, {"limit", "limit"}, {"offset", "offset"}};

template <class Fn>
auto naming_options(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    rethrow_as_option(e, kDncOptions);
  }
}

// The list a command works on: --scope G|*, --gym G or --global, exactly one.
std::string scope_of(const Args& args) {
  const int given = (args.has("scope") ? 1 : 0) + (args.has("gym") ? 1 : 0) + (args.flag("global") ? 1 : 0);
  if (given == 0) throw UsageError("give the list: --gym G, --global, or --scope G|*");
  if (given > 1) throw UsageError("give only one of --scope, --gym and --global");
  if (args.flag("global")) return "*";
  return args.has("gym") ? args.require("gym") : args.require("scope");
}

std::string list_name(std::string_view scope) {
  return scope == "*" ? std::string("the global list") : "the list of " + std::string(scope);
}

void print_entry(Context& ctx, const DncEntry& entry) {
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(entry));
    return;
  }
  print_fields(ctx.out, {{"scope", entry.scope},
                         {"phone", entry.phone},
                         {"reason", entry.reason},
                         {"source", entry.source},
                         {"added", short_time(format_timestamp(entry.added_at))}});
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

int dnc_add(Context& ctx) {
  ctx.args.at_most(0);
  const std::string scope = scope_of(ctx.args);
  const std::string phone = ctx.args.require("phone");
  const std::string reason = ctx.args.get("reason").value_or("");
  const std::string source = ctx.args.get("source").value_or("");
  print_entry(ctx, naming_options([&] { return ctx.runtime().leads().add_to_dnc(scope, phone, reason, source); }));
  return 0;
}

int dnc_remove(Context& ctx) {
  ctx.args.at_most(0);
  const std::string scope = scope_of(ctx.args);
  const std::string phone = ctx.args.require("phone");
  const std::string actor = ctx.args.get("actor").value_or("");
  const std::string reason = ctx.args.get("reason").value_or("");
  const bool removed =
      naming_options([&] { return ctx.runtime().leads().remove_from_dnc(scope, phone, actor, reason); });
  if (ctx.json()) {
    print_json(ctx.out, json::object{{"scope", scope}, {"removed", removed}});
    return 0;
  }
  ctx.out << (removed ? "removed from " : "was not on ") << list_name(scope) << "\n";
  return 0;
}

int dnc_check(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  const std::string phone = ctx.args.require("phone");
  const auto check = naming_options([&] { return ctx.runtime().leads().check_dnc(gym, phone); });
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(check));
    return 0;
  }
  print_fields(ctx.out, {{"phone", check.phone},
                         {"blocked", yes_no(check.blocked())},
                         {"gym list", yes_no(check.gym_listed)},
                         {"global list", yes_no(check.global_listed)},
                         {"lead asked", yes_no(check.lead_do_not_call)}});
  return 0;
}

int dnc_list(Context& ctx) {
  ctx.args.at_most(0);
  const std::string scope = scope_of(ctx.args);
  const int limit = ctx.args.integer("limit", 100, 1, kMaxPageSize);
  const int offset = ctx.args.integer("offset", 0, 0, 2'000'000'000);
  const auto entries = naming_options([&] { return ctx.runtime().leads().list_dnc(scope, limit, offset); });
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(entries));
    return 0;
  }
  Table table({"phone", "reason", "source", "added"});
  for (const auto& e : entries) table.add({e.phone, e.reason, e.source, short_time(format_timestamp(e.added_at))});
  table.print(ctx.out);
  return 0;
}

int dnc_import(Context& ctx) {
  const std::string path = ctx.args.positional(0, "FILE");
  ctx.args.at_most(1);
  const std::string scope = scope_of(ctx.args);
  auto file = capi::open_input_file("FILE", path);
  const auto report =
      naming_options([&] { return ctx.runtime().leads().import_dnc(scope, file.stream, file.name); });
  capi::check_read_to_end("FILE", file);
  if (ctx.json()) {
    print_json(ctx.out, boost::json::value_from(report));
    return 0;
  }
  ctx.out << report.lines << (report.lines == 1 ? " number: " : " numbers: ") << report.added << " added to "
          << list_name(scope) << ", " << report.already_listed << " already listed, " << report.rejected
          << " rejected\n";
  if (report.rejected_lines.empty()) return 0;
  Table table({"line", "error"});
  for (const auto& [line, error] : report.rejected_lines) table.add({std::to_string(line), error});
  table.print(ctx.out);
  return 0;
}

}  // namespace gymdash::cli
