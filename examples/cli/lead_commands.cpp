// leads add, leads get, leads list, leads tag, leads status, leads import,
// leads next, leads explain, leads after-call.
#include "command.hpp"
#include "output.hpp"

#include "file_import.hpp"

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/dialer.hpp>
#include <gymdash/services/campaign.hpp>
#include <gymdash/services/lead.hpp>

#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
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

// ---- leads import ----------------------------------------------------------------

namespace {

// 383 B, 12.3 kB, 29.1 MB, 2.4 GB.
std::string bytes_text(std::uint64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " B";
  const char* units[] = {"kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes) / 1000;
  std::size_t unit = 0;
  while (value >= 1000 && unit + 1 < std::size(units)) {
    value /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", value, units[unit]);
  return buf;
}

std::string plural(std::int64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// One line on stderr, rewritten after each committed batch: how far, how fast.
// Only for a terminal: a log or a pipe gets nothing.
class ProgressBar {
 public:
  ProgressBar() : start_(std::chrono::steady_clock::now()) {}

  void update(const ImportProgress& p) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const auto rate = seconds > 0 ? static_cast<long long>(static_cast<double>(p.rows) / seconds) : 0LL;
    std::string line = "\r";
    if (p.bytes_total > 0) {
      const double done = std::min(1.0, static_cast<double>(p.bytes_read) / static_cast<double>(p.bytes_total));
      constexpr int kWidth = 24;
      const int filled = static_cast<int>(done * kWidth);
      char pct[16];
      std::snprintf(pct, sizeof pct, "%3d%% ", static_cast<int>(done * 100));
      line += pct;
      line += "[" + std::string(static_cast<std::size_t>(filled), '#') +
              std::string(static_cast<std::size_t>(kWidth - filled), '.') + "] ";
      line += bytes_text(p.bytes_read) + " of " + bytes_text(p.bytes_total);
    } else {
      line += bytes_text(p.bytes_read);
    }
    line += "  " + plural(p.rows, "row", "rows") + "  " + std::to_string(rate) + " rows/s";
    const std::size_t width = line.size();
    if (width < last_width_) line += std::string(last_width_ - width, ' ');
    last_width_ = width;
    std::cerr << line << std::flush;
    shown_ = true;
  }

  /** Ends the line (if one was drawn), also when the import failed. */
  ~ProgressBar() {
    if (shown_) std::cerr << '\n' << std::flush;
  }

 private:
  std::chrono::steady_clock::time_point start_;
  std::size_t last_width_ = 0;
  bool shown_ = false;
};

// How many rejected rows the human output lists (--json lists them all).
constexpr std::size_t kRejectsShown = 20;

}  // namespace

int leads_import(Context& ctx) {
  const std::string path = ctx.args.positional(0, "FILE");
  ctx.args.at_most(1);
  ImportOptions options;
  options.batch_size = ctx.args.integer("batch-size", options.batch_size, 1, 1'000'000);
  auto file = capi::open_input_file("FILE", path);
  options.bytes_total = file.size;
  options.source = file.name;
  std::optional<ProgressBar> bar;
  if (::isatty(STDERR_FILENO) == 1) {
    bar.emplace();
    options.progress = [&bar](const ImportProgress& p) { bar->update(p); };
  }
  auto& leads = ctx.runtime().leads();
  const ImportReport report = [&] {
    try {
      return leads.import_leads(file.stream, options);
    } catch (const InvalidArgumentError& e) {
      // "header: missing required column: phone" names the file instead.
      if (e.field() != "header") throw;
      throw_error(e.code(), path + ": " + e.what(), "FILE");
    }
  }();
  bar.reset();
  capi::check_read_to_end("FILE", file);
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(report));
    return 0;
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", report.seconds);
  ctx.out << plural(report.rows, "row", "rows") << " in " << seconds << " s: " << report.imported << " imported, "
          << report.merged_duplicates << " merged into known leads, " << report.rejected << " rejected\n";
  if (report.rejected == 0) return 0;
  const std::size_t shown = print_rejects(ctx.out, report.rejected_by_reason, report.rejected_rows, kRejectsShown);
  if (static_cast<std::int64_t>(shown) < report.rejected) {
    const std::string listed = report.rejected_rows_truncated
                                   ? "the first " + std::to_string(report.rejected_rows.size())
                                   : std::string("them all");
    ctx.out << "… and " << report.rejected - static_cast<std::int64_t>(shown) << " more (--json lists " << listed
            << ")\n";
  }
  return 0;
}

// ---- who to call -----------------------------------------------------------------

namespace {

// Fields of the calling commands by the option that sets them; errors of any
// kind about them (an unknown gym is NotFound naming gym_id) name the option.
const OptionNames kCallOptions = {{"gym_id", "gym"}, {"lead_id", "lead"}, {"count", "count"},
                                  {"qualification", "qualification"}, {"exclude_leads", "exclude"}, {"at", "at"}, {"campaign_id", "campaign"}};

template <class Fn>
auto naming_options(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    rethrow_as_option(e, kCallOptions);
  }
}

// --campaign: the rules that campaign's dialer asks and checks its leads under.
DialScope campaign_scope(Context& ctx, const std::string& gym, const std::string& campaign) {
  return dial_scope_of(ctx.runtime().campaigns().get_campaign(gym, campaign));
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

int leads_next(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  if (!ctx.args.has("count")) throw UsageError("missing --count");
  const int count = ctx.args.integer("count", 0, 1, kMaxPageSize);
  std::optional<Qualification> qualification;
  if (const auto q = ctx.args.get("qualification")) qualification = parse_qualification(*q, "--qualification");
  const auto exclude = ctx.args.list("exclude");
  const auto at = at_option(ctx.args);
  const auto campaign = ctx.args.get("campaign");
  if (campaign && qualification)
    throw UsageError("--qualification: with --campaign the campaign's target decides; leave it out");
  const auto leads = naming_options([&] {
    if (campaign)
      return ctx.runtime().leads().get_prioritized_leads(gym, count, campaign_scope(ctx, gym, *campaign), exclude, at);
    return ctx.runtime().leads().get_prioritized_leads(gym, count, qualification, exclude, at);
  });
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(leads));
    return 0;
  }
  if (leads.empty()) {
    ctx.out << "no lead of " << gym << " may be called " << (at ? "at " + format_timestamp(*at) : std::string("now"))
            << "\n";
    return 0;
  }
  Table table({"id", "external id", "phone", "name", "status", "qualification", "score", "attempts"});
  for (const auto& lead : leads) {
    const auto l = json::value_from(lead).as_object();
    table.add({str(l, "id"), str(l, "external_id"), str(l, "phone"), name(l), str(l, "status"),
               str(l, "qualification"), str(l, "score"), str(l, "attempts")});
  }
  table.print(ctx.out);
  return 0;
}

int leads_explain(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  const std::string lead = ctx.args.require("lead");
  const auto at = at_option(ctx.args);
  const auto campaign = ctx.args.get("campaign");
  const auto decision = naming_options([&] {
    if (campaign) return ctx.runtime().leads().explain(gym, lead, campaign_scope(ctx, gym, *campaign), at);
    return ctx.runtime().leads().explain(gym, lead, at);
  });
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(decision));
    return 0;
  }
  std::string reasons;
  for (const auto& r : decision.reasons) reasons += (reasons.empty() ? "" : ", ") + r;
  print_fields(ctx.out, {{"lead", decision.lead_id},
                         {"at", format_timestamp(decision.at)},
                         {"dialable", yes_no(decision.dialable)},
                         {"blocked by", reasons},
                         {"local time", decision.local_time},
                         {"zone", decision.local_zone},
                         {"state", decision.local_state}});
  return 0;
}

int leads_after_call(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  const std::string lead = ctx.args.require("lead");
  const std::string text = ctx.args.require("result");
  CallResult result;
  try {
    result = from_json<CallResult>(text);
  } catch (const InvalidArgumentError& e) {
    // "started_at: is required" becomes "--result started_at: is required";
    // "request: invalid JSON …" (the whole text) becomes "--result: invalid JSON …".
    const std::string_view what = e.what();
    if (e.field() == "request" && what.substr(0, 9) == "request: ")
      throw InvalidArgumentError("--result" + std::string(what.substr(7)), "--result");
    throw InvalidArgumentError("--result " + std::string(what),
                               e.field().empty() ? std::string("--result") : "--result." + e.field());
  }
  print_lead(ctx, naming_options([&] { return ctx.runtime().leads().update_lead_after_call(gym, lead, result); }));
  return 0;
}

}  // namespace gymdash::cli
