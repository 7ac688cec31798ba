// report (a dashboard as a table, JSON or CSV), analytics rebuild.
#include "command.hpp"
#include "output.hpp"

#include <gymdash/services/analytics.hpp>

#include <boost/json.hpp>

#include <cstdarg>
#include <cstdio>
#include <ostream>

namespace gymdash::cli {

namespace {

// printf-style text (the tool links only the library's public API).
std::string text(const char* format, ...) {
  char buf[256];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return buf;
}

}  // namespace

int report(Context& ctx) {
  ctx.args.at_most(0);
  AnalyticsQuery q;
  q.gym_id = ctx.args.get("gym").value_or("");
  q.campaign_id = ctx.args.get("campaign").value_or("");
  q.from = ctx.args.get("from").value_or("");
  q.to = ctx.args.get("to").value_or("");
  q.timezone = ctx.args.get("timezone").value_or("");
  const bool csv = ctx.args.flag("csv");
  if (csv && ctx.json()) throw UsageError("--json and --csv: choose one");
  const Dashboard d = ctx.runtime().analytics().dashboard(q);
  if (csv) {
    ctx.out << dashboard_csv(d);
    return 0;
  }
  if (ctx.json()) {
    ctx.out << dashboard_json(d) << '\n';
    return 0;
  }
  auto money = [](std::optional<double> v) { return v ? text("%.2f", *v) : std::string("-"); };
  std::vector<std::pair<std::string, std::string>> fields{
      {"gym", d.gym_id.empty() ? "(every gym)" : d.gym_id},
      {"campaign", d.campaign_id.empty() ? "(every call)" : d.campaign_id},
      {"period", d.from + " to " + d.to},
      {"calls", std::to_string(d.calls.calls)},
      {"connected", text("%lld (%.1f%%)", static_cast<long long>(d.calls.connected), 100 * d.calls.connect_rate)},
      {"voicemail", std::to_string(d.calls.voicemail)},
      {"talk time", text("%lld s (avg %.1f s)", static_cast<long long>(d.calls.talk_s), d.calls.avg_talk_s)},
      {"cost", text("%.2f USD", d.calls.cost_usd)},
      {"leads", std::to_string(d.leads)},
      {"cost per lead / booking / member",
       money(d.cost_per_lead) + " / " + money(d.cost_per_booking) + " / " + money(d.cost_per_member)},
  };
  std::string funnel;
  for (const auto& s : d.funnel)
    funnel += (funnel.empty() ? "" : " → ") + s.stage + " " + std::to_string(s.count);
  fields.emplace_back("funnel", funnel);
  const auto& s = d.speed_to_lead;
  fields.emplace_back("speed to lead",
                      s.median_minutes ? text("median %.0f min, p90 %.0f min, %.1f%% within 5 min", *s.median_minutes,
                                              *s.p90_minutes, 100 * s.share_within_5_minutes)
                                       : std::string("-"));
  static const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  fields.emplace_back("best hour / weekday",
                      (d.best_hour ? text("%02d:00", *d.best_hour) : std::string("-")) + " / " +
                          (d.best_weekday ? kDays[*d.best_weekday] : "-"));
  fields.emplace_back("trend", text("%+.2f calls/day; week over week ", d.trends.slope_calls_per_day) +
                                   (d.trends.week_over_week ? text("%+.1f%%", 100 * *d.trends.week_over_week)
                                                            : std::string("-")));
  std::string anomalies;
  for (const auto& a : d.trends.anomalies) anomalies += (anomalies.empty() ? "" : ", ") + a;
  fields.emplace_back("anomalies", anomalies.empty() ? "-" : anomalies);
  print_fields(ctx.out, fields);
  return 0;
}

int analytics_rebuild(Context& ctx) {
  ctx.args.at_most(0);
  const auto r = ctx.runtime().analytics().rebuild(ctx.args.get("gym").value_or(""));
  if (ctx.json()) {
    print_json(ctx.out, boost::json::value_from(r));
    return 0;
  }
  ctx.out << text("rebuilt the rollups of %lld gyms from %lld leads and %lld calls in %.1f s\n",
                  static_cast<long long>(r.gyms), static_cast<long long>(r.leads), static_cast<long long>(r.calls),
                  r.seconds);
  return 0;
}

}  // namespace gymdash::cli
