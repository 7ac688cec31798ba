// leads add, leads get, leads list, leads tag, leads status.
#include "command.hpp"
#include "output.hpp"

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/lead.hpp>

#include <boost/json.hpp>

#include <map>
#include <ostream>

namespace gymdash::cli {

namespace {

namespace json = boost::json;

using OptionNames = std::map<std::string, std::string, std::less<>>;

// Request fields by the option that sets them, to reword the library's errors.
const OptionNames kAddOptions = {{"phone", "phone"}, {"first_name", "first"}, {"last_name", "last"},
                                 {"email", "email"}, {"source", "source"},    {"tags", "tags"},
                                 {"actor", "actor"}};
const OptionNames kListOptions = {{"statuses", "status"}, {"qualifications", "qualification"}, {"tags", "tag"},
                                  {"search", "search"},   {"page", "page"},                     {"page_size", "page-size"}};
const OptionNames kStatusOptions = {{"to", "to"}, {"reason", "reason"}, {"force", "force"}, {"actor", "actor"}};
const OptionNames kTagOptions = {{"tags", "add"}, {"actor", "actor"}};

// Reads a model type from the request built from the options.
template <class T>
T request(const json::object& o, const OptionNames& names) {
  try {
    return json::value_to<T>(json::value(o));
  } catch (const Error& e) {
    rethrow_as_option(e, names);
  }
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  return {};
}

std::string tags(const json::object& o) {
  std::string out;
  if (const auto* a = o.if_contains("tags"); a != nullptr && a->is_array())
    for (const auto& v : a->get_array())
      if (v.is_string()) out += (out.empty() ? "" : ",") + std::string(v.get_string());
  return out;
}

std::string name(const json::object& o) {
  const auto first = str(o, "first_name");
  const auto last = str(o, "last_name");
  return first.empty() || last.empty() ? first + last : first + " " + last;
}

void print_lead(Context& ctx, const Lead& lead) {
  const auto o = json::value_from(lead).as_object();
  if (ctx.json()) {
    print_json(ctx.out, o);
    return;
  }
  print_fields(ctx.out, {{"id", str(o, "id")},
                         {"gym", str(o, "gym_id")},
                         {"phone", str(o, "phone")},
                         {"name", name(o)},
                         {"email", str(o, "email")},
                         {"source", str(o, "source")},
                         {"status", str(o, "status")},
                         {"qualification", str(o, "qualification")},
                         {"score", str(o, "score")},
                         {"tags", tags(o)},
                         {"created", short_time(str(o, "created_at"))},
                         {"updated", short_time(str(o, "updated_at"))}});
}

// A lead operation's errors name the option, not the request field.
template <class Fn>
auto with_options(const OptionNames& names, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const InvalidArgumentError& e) {
    rethrow_as_option(e, names);
  }
}

}  // namespace

int leads_add(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  json::object o;
  o["phone"] = ctx.args.require("phone");
  if (const auto v = ctx.args.get("first")) o["first_name"] = *v;
  if (const auto v = ctx.args.get("last")) o["last_name"] = *v;
  if (const auto v = ctx.args.get("email")) o["email"] = *v;
  if (const auto v = ctx.args.get("source")) o["source"] = *v;
  if (ctx.args.has("tags")) o["tags"] = json::value_from(ctx.args.list("tags"));
  if (const auto v = ctx.args.get("actor")) o["actor"] = *v;
  const auto input = request<LeadInput>(o, kAddOptions);
  const auto result = with_options(kAddOptions, [&] { return ctx.runtime().leads().create_lead(gym, input); });
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(result));
    return 0;
  }
  ctx.out << (result.merged ? "merged into lead " : "created lead ") << result.lead.id << "\n";
  print_lead(ctx, result.lead);
  return 0;
}

int leads_get(Context& ctx) {
  ctx.args.at_most(0);
  print_lead(ctx, ctx.runtime().leads().get_lead(ctx.args.require("gym"), ctx.args.require("lead")));
  return 0;
}

int leads_list(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  json::object o;
  if (ctx.args.has("status")) o["statuses"] = json::value_from(ctx.args.list("status"));
  if (ctx.args.has("qualification")) o["qualifications"] = json::value_from(ctx.args.list("qualification"));
  if (ctx.args.has("tag")) o["tags"] = json::value_from(ctx.args.list("tag"));
  if (const auto v = ctx.args.get("search")) o["search"] = *v;
  o["page"] = ctx.args.integer("page", 1, 1, 1000000000);
  o["page_size"] = ctx.args.integer("page-size", 50, 1, 1000);
  const auto filter = request<LeadFilter>(o, kListOptions);
  const auto page = with_options(kListOptions, [&] { return ctx.runtime().leads().list_leads(gym, filter); });
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(page));
    return 0;
  }
  Table table({"id", "phone", "name", "status", "qualification", "tags", "created"});
  for (const auto& lead : page.items) {
    const auto l = json::value_from(lead).as_object();
    table.add({str(l, "id"), str(l, "phone"), name(l), str(l, "status"), str(l, "qualification"), tags(l),
               short_time(str(l, "created_at"))});
  }
  table.print(ctx.out);
  const auto pages = page.total == 0 ? 1 : (page.total + page.page_size - 1) / page.page_size;
  ctx.out << "page " << page.page << " of " << pages << ", " << page.total << (page.total == 1 ? " lead" : " leads")
          << "\n";
  return 0;
}

int leads_tag(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  const std::string lead = ctx.args.require("lead");
  if (!ctx.args.has("add") && !ctx.args.has("remove")) throw UsageError("give --add, --remove or both");
  const std::string actor = ctx.args.get("actor").value_or("");
  auto& leads = ctx.runtime().leads();
  Lead result;
  if (ctx.args.has("add")) {
    result = with_options(kTagOptions, [&] { return leads.add_tags(gym, lead, ctx.args.list("add"), actor); });
  }
  if (ctx.args.has("remove")) {
    const OptionNames remove_options = {{"tags", "remove"}, {"actor", "actor"}};
    result = with_options(remove_options, [&] { return leads.remove_tags(gym, lead, ctx.args.list("remove"), actor); });
  }
  print_lead(ctx, result);
  return 0;
}

int leads_status(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  const std::string lead = ctx.args.require("lead");
  json::object o;
  o["to"] = ctx.args.require("to");
  if (const auto v = ctx.args.get("reason")) o["reason"] = *v;
  if (const auto v = ctx.args.get("actor")) o["actor"] = *v;
  o["force"] = ctx.args.flag("force");
  const auto change = request<StatusChange>(o, kStatusOptions);
  print_lead(ctx, with_options(kStatusOptions, [&] { return ctx.runtime().leads().change_status(gym, lead, change); }));
  return 0;
}

}  // namespace gymdash::cli
