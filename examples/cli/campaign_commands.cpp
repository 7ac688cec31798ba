// campaign create|get|list|update|delete|start|pause|resume|cancel|complete|
// enrol|status, dial, simulate: calling campaigns, the runtime's dialer and
// campaign forecasts (docs/campaigns.md).
#include "command.hpp"
#include "output.hpp"

#include <gymdash/campaign_model.hpp>
#include <gymdash/dialer.hpp>
#include <gymdash/error.hpp>
#include <gymdash/services/campaign.hpp>

#include <boost/json.hpp>

#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace gymdash::cli {

namespace {

namespace json = boost::json;

// ---- options → the JSON of CampaignInput / CampaignPatch -----------------------

// Every option that sets a member, with the member's path and how to read it.
enum class Kind { Text, Int, Number, List, Hours };
struct MemberOption {
  const char* option;   // without dashes
  const char* section;  // "" for top-level members
  const char* member;
  Kind kind;
};

constexpr MemberOption kMemberOptions[] = {
    {"name", "", "name", Kind::Text},
    {"description", "", "description", Kind::Text},
    {"provider", "", "voice_provider", Kind::Text},
    {"assistant", "", "assistant_id", Kind::Text},
    {"weight", "", "weight", Kind::Int},
    {"tags", "target", "tags", Kind::List},
    {"qualifications", "target", "qualifications", Kind::List},
    {"statuses", "target", "statuses", Kind::List},
    {"source", "target", "source", Kind::Text},
    {"start-date", "schedule", "start_date", Kind::Text},
    {"end-date", "schedule", "end_date", Kind::Text},
    {"days", "schedule", "days", Kind::List},
    {"hours", "schedule", "hours", Kind::Hours},
    {"max-concurrent", "pacing", "max_concurrent", Kind::Int},
    {"calls-per-day", "pacing", "calls_per_day", Kind::Int},
    {"calls-per-second", "pacing", "calls_per_second", Kind::Number},
    {"max-attempts", "pacing", "max_attempts", Kind::Int},
    {"retry-gap", "pacing", "retry_gap_minutes", Kind::Int},
    {"daily-budget", "budget", "daily_usd", Kind::Number},
    {"total-budget", "budget", "total_usd", Kind::Number},
    {"reserve-per-call", "budget", "reserve_per_call_usd", Kind::Number},
};

std::string member_path(const MemberOption& m) {
  return *m.section ? std::string(m.section) + "." + m.member : std::string(m.member);
}

json::value option_value(const Args& args, const MemberOption& m) {
  const std::string text = *args.get(m.option);
  const std::string opt = std::string("--") + m.option;
  switch (m.kind) {
    case Kind::Text: return json::value(text);
    case Kind::Int: {
      std::int64_t v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size())
        throw UsageError(opt + ": expected a whole number, got \"" + text + "\"");
      return json::value(v);
    }
    case Kind::Number: {
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != text.size()) throw UsageError(opt + ": expected a number, got \"" + text + "\"");
      return json::value(v);
    }
    case Kind::List: {
      json::array a;
      for (auto& item : split_list(text)) a.emplace_back(item);
      return a;
    }
    case Kind::Hours: {
      const auto dash = text.find('-');
      if (dash == std::string::npos) throw UsageError(opt + ": expected HH:MM-HH:MM, got \"" + text + "\"");
      return json::object{{"start", text.substr(0, dash)}, {"end", text.substr(dash + 1)}};
    }
  }
  return {};
}

// The members the options set, as a CampaignInput-shaped object (sections nested).
json::object options_object(const Args& args) {
  json::object o;
  for (const auto& m : kMemberOptions) {
    if (!args.has(m.option)) continue;
    if (*m.section) {
      json::value& section = o[m.section];
      if (!section.is_object()) section = json::object{};
      section.as_object()[m.member] = option_value(args, m);
    } else {
      o[m.member] = option_value(args, m);
    }
  }
  return o;
}

// --spec: a JSON object given inline or as @FILE.
json::object spec_object(const Args& args) {
  const auto spec = args.get("spec");
  if (!spec) return {};
  std::string text = *spec;
  if (!text.empty() && text[0] == '@') {
    std::ifstream in(text.substr(1), std::ios::binary);
    if (!in) throw UsageError("--spec: cannot read " + text.substr(1));
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) throw UsageError("--spec: invalid JSON: " + ec.message());
  if (!v.is_object()) throw UsageError("--spec: expected a JSON object");
  return std::move(v.as_object());
}

// `base` with the members of `over` on top; nested objects merged member by member.
void overlay(json::object& base, const json::object& over) {
  for (const auto& kv : over) {
    json::value* mine = base.if_contains(kv.key());
    if (mine && mine->is_object() && kv.value().is_object()) overlay(mine->as_object(), kv.value().as_object());
    else base[kv.key()] = kv.value();
  }
}

// Rethrows a library error about a member the options set with the option named
// first: `--max-concurrent (pacing.max_concurrent): must be between 1 and 1000`.
[[noreturn]] void rethrow_named(const Error& e, const Args& args) {
  const std::string& field = e.field();
  const std::string message = e.what();
  for (const auto& m : kMemberOptions) {
    if (!args.has(m.option)) continue;
    const std::string path = member_path(m);
    const bool match = field == path || field.rfind(path + "[", 0) == 0 || field.rfind(path + ".", 0) == 0;
    if (!match || message.rfind(field + ": ", 0) != 0) continue;
    const std::string option = std::string("--") + m.option;
    throw_error(e.code(), option + " (" + field + ")" + message.substr(field.size()), option);
  }
  if (args.has("spec") && !field.empty() && message.rfind(field + ": ", 0) == 0)
    throw_error(e.code(), "--spec (" + field + ")" + message.substr(field.size()), field);
  throw;
}

template <class T>
T read_model(const json::object& o, const Args& args) {
  try {
    return json::value_to<T>(json::value(o));
  } catch (const Error& e) {
    rethrow_named(e, args);
  }
}

// ---- printing ------------------------------------------------------------------

std::string cell(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return {};
  return json::serialize(v);
}

void print_object(Context& ctx, const json::value& v) {
  if (ctx.json()) {
    print_json(ctx.out, v);
    return;
  }
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& [k, x] : v.as_object()) fields.emplace_back(std::string(k), cell(x));
  print_fields(ctx.out, fields);
}

void print_campaign(Context& ctx, const Campaign& c) { print_object(ctx, json::value_from(c)); }

// ---- lifecycle ---------------------------------------------------------------------

// --gym, or (without it) the gym that has campaign `id`.
std::string gym_of(Context& ctx, const std::string& id) {
  if (const auto gym = ctx.args.get("gym")) return *gym;
  auto& rt = ctx.runtime();
  for (const auto& g : rt.gyms().list_gyms()) {
    try {
      rt.campaigns().get_campaign(g.id, id);
      return g.id;
    } catch (const NotFoundError&) {
    }
  }
  throw NotFoundError("campaign: campaign " + id + " not found in any gym", "campaign");
}

int set_state(Context& ctx, CampaignState to, std::optional<CampaignState> from = std::nullopt) {
  ctx.args.at_most(0);
  const std::string id = ctx.args.require("campaign");
  const std::string gym = gym_of(ctx, id);
  auto& svc = ctx.runtime().campaigns();
  if (from) {
    const Campaign c = svc.get_campaign(gym, id);
    if (c.state != *from)
      throw ConflictError(std::string("state: campaign ") + id + " is " + to_string(c.state) + ", not " +
                              to_string(*from),
                          "state");
  }
  print_campaign(ctx, svc.set_state(gym, id, to));
  return 0;
}

// "30s", "5m", "1h", "500ms", "90" (seconds) → milliseconds.
std::chrono::milliseconds parse_duration(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) ++i;
  const std::string number = text.substr(0, i);
  const std::string unit = text.substr(i);
  double v = 0;
  try {
    std::size_t used = 0;
    v = std::stod(number, &used);
    if (used != number.size()) throw std::invalid_argument("x");
  } catch (const std::exception&) {
    throw UsageError("--for: expected a duration such as 30s, 5m or 1h, got \"" + text + "\"");
  }
  double ms = 0;
  if (unit == "ms") ms = v;
  else if (unit.empty() || unit == "s") ms = v * 1000;
  else if (unit == "m") ms = v * 60'000;
  else if (unit == "h") ms = v * 3'600'000;
  else throw UsageError("--for: unknown unit \"" + unit + "\" (ms, s, m or h)");
  if (ms < 1 || ms > 24.0 * 3'600'000) throw UsageError("--for: must be between 1ms and 24h");
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

// The dialer's view of one campaign in its status JSON, or null.
json::value dialer_view(const DialerStatus& status, const std::string& campaign_id) {
  const json::value all = json::value_from(status);
  for (const auto& c : all.as_object().at("campaigns").as_array())
    if (c.as_object().at("campaign_id") == json::value(campaign_id)) return c;
  return nullptr;
}

}  // namespace

// ---- handlers ------------------------------------------------------------------------

int campaign_create(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  json::object doc = spec_object(ctx.args);
  overlay(doc, options_object(ctx.args));
  const auto input = read_model<CampaignInput>(doc, ctx.args);
  Campaign c;
  try {
    c = ctx.runtime().campaigns().create_campaign(gym, input);
  } catch (const Error& e) {
    rethrow_named(e, ctx.args);
  }
  print_campaign(ctx, c);
  return 0;
}

int campaign_get(Context& ctx) {
  ctx.args.at_most(0);
  const std::string id = ctx.args.require("campaign");
  print_campaign(ctx, ctx.runtime().campaigns().get_campaign(gym_of(ctx, id), id));
  return 0;
}

int campaign_list(Context& ctx) {
  ctx.args.at_most(0);
  const std::string gym = ctx.args.require("gym");
  CampaignFilter filter;
  for (const auto& s : ctx.args.list("state")) filter.states.push_back(parse_campaign_state(s, "--state"));
  filter.page = ctx.args.integer("page", 1, 1, 1'000'000'000);
  filter.page_size = ctx.args.integer("page-size", 50, 1, 1000);
  const auto page = ctx.runtime().campaigns().list_campaigns(gym, filter);
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(page));
    return 0;
  }
  Table table({"id", "name", "state", "provider", "weight", "created"});
  for (const auto& c : page.items)
    table.add({c.id, c.name, to_string(c.state), c.voice_provider, std::to_string(c.weight),
               short_time(format_timestamp(c.created_at))});
  table.print(ctx.out);
  const auto pages = page.total == 0 ? 1 : (page.total + page.page_size - 1) / page.page_size;
  ctx.out << "page " << page.page << " of " << pages << ", " << page.total
          << (page.total == 1 ? " campaign" : " campaigns") << "\n";
  return 0;
}

int campaign_update(Context& ctx) {
  ctx.args.at_most(0);
  const std::string id = ctx.args.require("campaign");
  const std::string gym = gym_of(ctx, id);
  auto& svc = ctx.runtime().campaigns();
  json::object patch = spec_object(ctx.args);
  const json::object opts = options_object(ctx.args);
  if (patch.empty() && opts.empty()) throw UsageError("nothing to change (give an option such as --name or --spec)");
  // A section named by an option is sent whole: the campaign's current one with the options on top.
  const json::value current = json::value_from(svc.get_campaign(gym, id));
  for (const auto& kv : opts) {
    if (kv.value().is_object()) {
      json::object section = patch.contains(kv.key()) && patch.at(kv.key()).is_object()
                                 ? patch.at(kv.key()).as_object()
                                 : current.as_object().at(kv.key()).as_object();
      overlay(section, kv.value().as_object());
      patch[kv.key()] = std::move(section);
    } else {
      patch[kv.key()] = kv.value();
    }
  }
  const auto p = read_model<CampaignPatch>(patch, ctx.args);
  Campaign c;
  try {
    c = svc.update_campaign(gym, id, p);
  } catch (const Error& e) {
    rethrow_named(e, ctx.args);
  }
  print_campaign(ctx, c);
  return 0;
}

int campaign_delete(Context& ctx) {
  ctx.args.at_most(0);
  const std::string id = ctx.args.require("campaign");
  ctx.runtime().campaigns().delete_campaign(gym_of(ctx, id), id);
  if (ctx.json()) print_json(ctx.out, json::object{{"deleted", id}});
  else ctx.out << "deleted " << id << "\n";
  return 0;
}

int campaign_start(Context& ctx) { return set_state(ctx, CampaignState::Active); }
int campaign_pause(Context& ctx) { return set_state(ctx, CampaignState::Paused); }
int campaign_resume(Context& ctx) { return set_state(ctx, CampaignState::Active, CampaignState::Paused); }
int campaign_cancel(Context& ctx) { return set_state(ctx, CampaignState::Cancelled); }
int campaign_complete(Context& ctx) { return set_state(ctx, CampaignState::Completed); }

int campaign_enrol(Context& ctx) {
  ctx.args.at_most(0);
  const std::string id = ctx.args.require("campaign");
  const std::string gym = gym_of(ctx, id);
  auto& svc = ctx.runtime().campaigns();
  const auto leads = ctx.args.list("leads");
  const json::object opts = options_object(ctx.args);
  EnrolReport report;
  try {
    if (!leads.empty()) {
      if (!opts.empty()) throw UsageError("--leads and a filter (--tags, --statuses …): choose one");
      report = svc.enrol_leads(gym, id, leads);
    } else if (opts.contains("target")) {
      report = svc.enrol_by_filter(gym, id, read_model<CampaignTarget>(opts.at("target").as_object(), ctx.args));
    } else {
      report = svc.enrol_by_filter(gym, id);
    }
  } catch (const Error& e) {
    // `tags`, `statuses[1]` of the filter: name the option.
    const std::string& field = e.field();
    for (const auto& m : kMemberOptions) {
      if (std::string(m.section) != "target" || !ctx.args.has(m.option)) continue;
      const std::string member = m.member;
      const std::string message = e.what();
      if ((field == member || field.rfind(member + "[", 0) == 0) && message.rfind(field + ": ", 0) == 0) {
        const std::string option = std::string("--") + m.option;
        throw_error(e.code(), option + " (" + field + ")" + message.substr(field.size()), option);
      }
    }
    throw;
  }
  print_object(ctx, json::value_from(report));
  return 0;
}

int campaign_status(Context& ctx) {
  ctx.args.at_most(0);
  const std::string id = ctx.args.require("campaign");
  const std::string gym = gym_of(ctx, id);
  auto& rt = ctx.runtime();
  const auto perf = rt.campaigns().performance(gym, id);
  json::object o{{"performance", json::value_from(perf)}, {"dialer", dialer_view(rt.dialer().status(), id)}};
  if (ctx.json()) {
    print_json(ctx.out, o);
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& [k, v] : o.at("performance").as_object()) fields.emplace_back(std::string(k), cell(v));
  const auto& d = o.at("dialer");
  if (d.is_null()) fields.emplace_back("dialer", "(not dialing in this process)");
  else
    for (const auto& [k, v] : d.as_object())
      if (k != "gym_id" && k != "campaign_id") fields.emplace_back("dialer." + std::string(k), cell(v));
  print_fields(ctx.out, fields);
  return 0;
}

int dial(Context& ctx) {
  ctx.args.at_most(0);
  const std::string id = ctx.args.require("campaign");
  const std::string gym = gym_of(ctx, id);
  const auto duration = ctx.args.get("for");
  const auto length = duration ? std::optional(parse_duration(*duration)) : std::nullopt;
  auto& rt = ctx.runtime();
  const Campaign c = rt.campaigns().get_campaign(gym, id);
  if (c.state != CampaignState::Active)
    throw ConflictError(std::string("campaign: ") + id + " is " + to_string(c.state) +
                            ", not active (start it with: gymdash campaign start)",
                        "campaign");

  // Every event of this campaign; placements are counted for every campaign to know when they settled.
  std::mutex m;
  std::condition_variable cv;
  json::array calls;
  std::int64_t placed = 0, refused = 0, ended = 0, errors = 0, settled_all = 0;
  std::vector<std::string> messages;
  auto& dialer = rt.dialer();
  dialer.set_observer([&](const DialerEvent& e) {
    std::lock_guard lock(m);
    if (e.kind == DialerEvent::Kind::Placed || e.kind == DialerEvent::Kind::Refused) ++settled_all;
    if (e.campaign_id == id) {
      switch (e.kind) {
        case DialerEvent::Kind::Placed:
          ++placed;
          calls.push_back(json::object{{"call_id", e.call_id}, {"lead_id", e.lead_id}, {"at", format_timestamp(e.at)}});
          break;
        case DialerEvent::Kind::Refused: ++refused; messages.push_back(e.message); break;
        case DialerEvent::Kind::Ended: ++ended; break;
        case DialerEvent::Kind::Completed: messages.push_back("completed: " + e.message); break;
        case DialerEvent::Kind::Error: ++errors; messages.push_back(e.message); break;
      }
    }
    cv.notify_all();
  });
  const auto began = std::chrono::steady_clock::now();
  std::int64_t begun = 0;
  if (length) {
    dialer.start();
    std::this_thread::sleep_for(*length);
    dialer.stop();
    begun = dialer.status().placed;
  } else {
    begun = dialer.tick().placed;
  }
  {
    // Calls begun are accepted or refused by their provider shortly after; wait (at most 10 s) for each answer.
    std::unique_lock lock(m);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return settled_all >= begun; });
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  const DialerStatus status = dialer.status();
  dialer.set_observer({});
  std::lock_guard lock(m);
  json::array msgs;
  for (const auto& s : messages) msgs.emplace_back(s);
  json::object summary{{"gym_id", gym},
                       {"campaign_id", id},
                       {"mode", length ? "run" : "tick"},
                       {"seconds", seconds},
                       {"ticks", status.ticks},
                       {"placed", placed},
                       {"refused", refused},
                       {"ended", ended},
                       {"errors", errors},
                       {"calls", std::move(calls)},
                       {"messages", std::move(msgs)},
                       {"campaign", dialer_view(status, id)},
                       {"dialer", json::object{{"running", status.running},
                                               {"ticks", status.ticks},
                                               {"placed", status.placed},
                                               {"refused", status.refused},
                                               {"lines_in_use", status.lines_in_use}}},
                       {"performance", json::value_from(rt.campaigns().performance(gym, id))}};
  print_json(ctx.out, summary);
  return 0;
}

int simulate(Context& ctx) {
  ctx.args.at_most(0);
  const std::string id = ctx.args.require("campaign");
  const std::string gym = gym_of(ctx, id);
  ForecastOptions options;
  options.days = ctx.args.integer("days", options.days, 1, 90);
  options.step_seconds = ctx.args.integer("step", options.step_seconds, 1, 600);
  for (const auto& kv : ctx.args.list("provider-option")) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--provider-option: expected KEY=VALUE, got \"" + kv + "\"");
    options.provider_options[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto& rt = ctx.runtime();
  const Forecast f = forecast_campaign(rt.store(), rt.config(), gym, id, rt.clock().now(), options);
  print_json(ctx.out, json::value_from(f));
  return 0;
}

}  // namespace gymdash::cli
