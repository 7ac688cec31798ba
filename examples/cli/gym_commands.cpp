// gyms create, gyms get, gyms list, gyms import.
#include "command.hpp"
#include "output.hpp"

#include "file_import.hpp"

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/gym.hpp>

#include <boost/json.hpp>

#include <map>
#include <ostream>

namespace gymdash::cli {

namespace {

namespace json = boost::json;

// Gym fields by the option that sets them, to reword the library's errors.
const std::map<std::string, std::string, std::less<>> kGymOptions = {
    {"id", "id"},       {"name", "name"},           {"timezone", "timezone"},   {"region", "region"},
    {"state", "state"}, {"call_hours", "call-hours"}, {"call_days", "call-days"}, {"caller_ids", "caller-ids"}};

std::string join(const std::vector<std::string>& items, std::string_view sep = ",") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

// The gym's JSON as the library writes it, for both printing styles.
json::object gym_json(const Gym& gym) { return json::value_from(gym).as_object(); }

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string hours(const json::object& o) {
  const auto* h = o.if_contains("call_hours");
  if (h == nullptr || !h->is_object()) return {};
  return str(h->get_object(), "start") + "-" + str(h->get_object(), "end");
}

std::string strings(const json::object& o, std::string_view key) {
  std::vector<std::string> items;
  if (const auto* a = o.if_contains(key); a != nullptr && a->is_array())
    for (const auto& v : a->get_array())
      if (v.is_string()) items.emplace_back(v.get_string());
  return join(items);
}

void print_gym(Context& ctx, const Gym& gym) {
  const auto o = gym_json(gym);
  if (ctx.json()) {
    print_json(ctx.out, o);
    return;
  }
  print_fields(ctx.out, {{"id", str(o, "id")},
                         {"name", str(o, "name")},
                         {"timezone", str(o, "timezone")},
                         {"region", str(o, "region")},
                         {"state", str(o, "state")},
                         {"call hours", hours(o)},
                         {"call days", strings(o, "call_days")},
                         {"caller ids", strings(o, "caller_ids")},
                         {"created", short_time(str(o, "created_at"))},
                         {"updated", short_time(str(o, "updated_at"))}});
}

}  // namespace

int gyms_create(Context& ctx) {
  ctx.args.at_most(0);
  json::object request;
  if (const auto id = ctx.args.get("id")) request["id"] = *id;
  request["name"] = ctx.args.require("name");
  request["timezone"] = ctx.args.require("timezone");
  if (const auto region = ctx.args.get("region")) request["region"] = *region;
  if (const auto state = ctx.args.get("state")) request["state"] = *state;
  if (const auto h = ctx.args.get("call-hours")) {
    const auto dash = h->find('-');
    if (dash == std::string::npos) throw UsageError("--call-hours: expected START-END, like 09:00-20:00");
    request["call_hours"] = json::object{{"start", h->substr(0, dash)}, {"end", h->substr(dash + 1)}};
  }
  if (ctx.args.has("call-days")) request["call_days"] = json::value_from(ctx.args.list("call-days"));
  if (ctx.args.has("caller-ids")) request["caller_ids"] = json::value_from(ctx.args.list("caller-ids"));
  // The library reads and validates the request as it would from any host.
  Gym gym;
  try {
    gym = json::value_to<Gym>(json::value(request));
  } catch (const Error& e) {
    rethrow_as_option(e, kGymOptions);
  }
  // Left out: the configuration's hours and days for this gym (its `defaults`, or `gyms.<id>`).
  const auto& policy = ctx.runtime().config().policy(gym.id);
  if (!request.contains("call_hours")) gym.call_hours = policy.call_hours;
  if (!request.contains("call_days")) gym.call_days = policy.call_days;
  Gym created;
  try {
    created = ctx.runtime().gyms().create_gym(gym);
  } catch (const InvalidArgumentError& e) {
    rethrow_as_option(e, kGymOptions);
  }
  print_gym(ctx, created);
  return 0;
}

int gyms_get(Context& ctx) {
  const std::string id = ctx.args.positional(0, "ID");
  ctx.args.at_most(1);
  print_gym(ctx, ctx.runtime().gyms().get_gym(id));
  return 0;
}

int gyms_list(Context& ctx) {
  ctx.args.at_most(0);
  const auto gyms = ctx.runtime().gyms().list_gyms();
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(gyms));
    return 0;
  }
  Table table({"id", "name", "timezone", "region", "call hours", "call days"});
  for (const auto& gym : gyms) {
    const auto o = gym_json(gym);
    table.add({str(o, "id"), str(o, "name"), str(o, "timezone"), str(o, "region"), hours(o), strings(o, "call_days")});
  }
  table.print(ctx.out);
  return 0;
}

int gyms_import(Context& ctx) {
  const std::string path = ctx.args.positional(0, "FILE");
  ctx.args.at_most(1);
  auto file = capi::open_input_file("FILE", path);
  GymImportReport report;
  try {
    report = ctx.runtime().gyms().import_gyms(file.stream);
  } catch (const InvalidArgumentError& e) {
    if (e.field() != "header") throw;
    throw_error(e.code(), path + ": " + e.what(), "FILE");
  }
  capi::check_read_to_end("FILE", file);
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(report));
    return 0;
  }
  ctx.out << report.rows << (report.rows == 1 ? " row: " : " rows: ") << report.created << " created, "
          << report.updated << " updated, " << report.rejected << " rejected\n";
  if (report.rejected_rows.empty()) return 0;
  Table table({"line", "error"});
  for (const auto& [line, error] : report.rejected_rows) table.add({std::to_string(line), error});
  table.print(ctx.out);
  return 0;
}

}  // namespace gymdash::cli
