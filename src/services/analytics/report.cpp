// Dashboards as JSON and as CSV (RFC 4180).

#include <gymdash/services/analytics.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cstdlib>

#include "core/json_reader.hpp"

namespace gymdash {
namespace bj = boost::json;
namespace {

// `x` rounded to `places` decimals the way the data contract's manifest is
// (Python's round of the same double): the decimal text, read back.
double rounded(double x, int places) {
  const auto text = fmt::format("{:.{}f}", x, places);
  return std::strtod(text.c_str(), nullptr);
}

bj::value optional_number(const std::optional<double>& v, int places) {
  if (!v) return nullptr;
  return rounded(*v, places);
}

bj::object counts(const std::map<std::string, std::int64_t>& m) {
  bj::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

void put_call_metrics(bj::object& o, const CallMetrics& m) {
  o["calls"] = m.calls;
  o["connected"] = m.connected;
  o["voicemail"] = m.voicemail;
  o["connect_rate"] = rounded(m.connect_rate, 6);
  o["talk_s"] = m.talk_s;
  o["avg_talk_s"] = rounded(m.avg_talk_s, 3);
  o["cost_usd"] = rounded(m.cost_usd, 4);
  o["outcomes"] = counts(m.outcomes);
}

bj::array slots(const std::vector<TimeSlot>& v, const char* name) {
  bj::array a;
  for (const auto& t : v)
    a.push_back(bj::object{{name, t.slot}, {"calls", t.calls}, {"connected", t.connected},
                           {"connect_rate", rounded(t.connect_rate, 6)}});
  return a;
}

// One CSV field, quoted when it holds a comma, a quote, CR or LF (RFC 4180).
void csv_field(std::string& out, std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += v;
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

class Csv {
 public:
  Csv() { out_ = "section,key,metric,value\r\n"; }
  void row(std::string_view section, std::string_view key, std::string_view metric, std::string_view value) {
    csv_field(out_, section);
    out_.push_back(',');
    csv_field(out_, key);
    out_.push_back(',');
    csv_field(out_, metric);
    out_.push_back(',');
    csv_field(out_, value);
    out_ += "\r\n";
  }
  void row(std::string_view section, std::string_view key, std::string_view metric, std::int64_t value) {
    row(section, key, metric, std::to_string(value));
  }
  void row(std::string_view section, std::string_view key, std::string_view metric, double value, int places) {
    row(section, key, metric, fmt::format("{:.{}f}", value, places));
  }
  void row(std::string_view section, std::string_view key, std::string_view metric, const std::optional<double>& v,
           int places) {
    row(section, key, metric, v ? fmt::format("{:.{}f}", *v, places) : std::string());
  }
  void metrics(std::string_view section, std::string_view key, const CallMetrics& m) {
    row(section, key, "calls", m.calls);
    row(section, key, "connected", m.connected);
    row(section, key, "voicemail", m.voicemail);
    row(section, key, "connect_rate", m.connect_rate, 6);
    row(section, key, "talk_s", m.talk_s);
    row(section, key, "avg_talk_s", m.avg_talk_s, 3);
    row(section, key, "cost_usd", m.cost_usd, 4);
    for (const auto& [o, n] : m.outcomes) row(section, key, "outcome_" + o, n);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const AnalyticsQuery& q) {
  bj::object o;
  o["gym_id"] = q.gym_id;
  o["campaign_id"] = q.campaign_id;
  o["from"] = q.from;
  o["to"] = q.to;
  o["timezone"] = q.timezone;
  jv = std::move(o);
}

AnalyticsQuery tag_invoke(const bj::value_to_tag<AnalyticsQuery>&, const bj::value& jv) {
  json::ObjectReader r(jv, "");
  AnalyticsQuery q;
  if (auto x = r.string("gym_id")) q.gym_id = *x;
  if (auto x = r.string("campaign_id")) q.campaign_id = *x;
  if (auto x = r.string("from")) q.from = *x;
  if (auto x = r.string("to")) q.to = *x;
  if (auto x = r.string("timezone")) q.timezone = *x;
  r.finish();
  return q;
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const CallMetrics& m) {
  bj::object o;
  put_call_metrics(o, m);
  jv = std::move(o);
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const RebuildReport& r) {
  jv = bj::object{{"gyms", r.gyms}, {"leads", r.leads}, {"calls", r.calls}, {"seconds", r.seconds}};
}

void tag_invoke(const bj::value_from_tag&, bj::value& jv, const Dashboard& d) {
  bj::object o;
  o["gym_id"] = d.gym_id;
  o["campaign_id"] = d.campaign_id;
  o["from"] = d.from;
  o["to"] = d.to;
  put_call_metrics(o, d.calls);
  o["by_local_date"] = counts(d.by_local_date);
  o["leads"] = bj::object{{"total", d.leads},
                          {"by_source", counts(d.leads_by_source)},
                          {"by_status", counts(d.leads_by_status)},
                          {"by_qualification", counts(d.leads_by_qualification)}};
  bj::array funnel;
  for (const auto& s : d.funnel)
    funnel.push_back(bj::object{{"stage", s.stage},
                                {"count", s.count},
                                {"rate_from_previous", rounded(s.rate_from_previous, 6)},
                                {"rate_from_leads", rounded(s.rate_from_leads, 6)}});
  o["funnel"] = std::move(funnel);
  o["cost_per_lead"] = optional_number(d.cost_per_lead, 4);
  o["cost_per_booking"] = optional_number(d.cost_per_booking, 4);
  o["cost_per_member"] = optional_number(d.cost_per_member, 4);
  const auto& s = d.speed_to_lead;
  o["speed_to_lead"] = bj::object{{"leads", s.leads},
                                  {"called", s.called},
                                  {"median_minutes", optional_number(s.median_minutes, 1)},
                                  {"p90_minutes", optional_number(s.p90_minutes, 1)},
                                  {"within_5_minutes", s.within_5_minutes},
                                  {"share_within_5_minutes", rounded(s.share_within_5_minutes, 6)}};
  bj::object best;
  best["by_hour"] = slots(d.by_hour, "hour");
  best["by_weekday"] = slots(d.by_weekday, "weekday");
  best["best_hour"] = d.best_hour ? bj::value(*d.best_hour) : bj::value(nullptr);
  best["best_weekday"] = d.best_weekday ? bj::value(*d.best_weekday) : bj::value(nullptr);
  o["best_times"] = std::move(best);
  bj::array daily;
  for (const auto& p : d.daily) {
    bj::object day;
    day["date"] = p.date;
    put_call_metrics(day, p.metrics);
    day["leads"] = p.leads;
    day["change_day"] = optional_number(p.change_day, 6);
    day["change_week"] = optional_number(p.change_week, 6);
    day["moving_avg_7"] = optional_number(p.moving_avg_7, 3);
    day["anomaly"] = p.anomaly;
    daily.push_back(std::move(day));
  }
  o["daily"] = std::move(daily);
  bj::array anomalies;
  for (const auto& a : d.trends.anomalies) anomalies.push_back(bj::value(a));
  o["trends"] = bj::object{{"day_over_day", optional_number(d.trends.day_over_day, 6)},
                           {"week_over_week", optional_number(d.trends.week_over_week, 6)},
                           {"slope_calls_per_day", rounded(d.trends.slope_calls_per_day, 6)},
                           {"anomalies", std::move(anomalies)}};
  if (d.gym_id.empty()) {
    bj::object per_gym;
    for (const auto& [gym, m] : d.per_gym) {
      bj::object g;
      put_call_metrics(g, m);
      per_gym[gym] = std::move(g);
    }
    o["per_gym"] = std::move(per_gym);
  }
  jv = std::move(o);
}

std::string dashboard_json(const Dashboard& d) { return bj::serialize(bj::value_from(d)); }

std::string dashboard_csv(const Dashboard& d) {
  Csv csv;
  csv.row("period", "", "gym_id", d.gym_id);
  csv.row("period", "", "campaign_id", d.campaign_id);
  csv.row("period", "", "from", d.from);
  csv.row("period", "", "to", d.to);
  csv.metrics("summary", "", d.calls);
  csv.row("summary", "", "leads", d.leads);
  csv.row("summary", "", "cost_per_lead", d.cost_per_lead, 4);
  csv.row("summary", "", "cost_per_booking", d.cost_per_booking, 4);
  csv.row("summary", "", "cost_per_member", d.cost_per_member, 4);
  for (const auto& [k, n] : d.leads_by_source) csv.row("leads_by_source", k, "leads", n);
  for (const auto& [k, n] : d.leads_by_status) csv.row("leads_by_status", k, "leads", n);
  for (const auto& [k, n] : d.leads_by_qualification) csv.row("leads_by_qualification", k, "leads", n);
  for (const auto& s : d.funnel) {
    csv.row("funnel", s.stage, "count", s.count);
    csv.row("funnel", s.stage, "rate_from_previous", s.rate_from_previous, 6);
    csv.row("funnel", s.stage, "rate_from_leads", s.rate_from_leads, 6);
  }
  const auto& s = d.speed_to_lead;
  csv.row("speed_to_lead", "", "called", s.called);
  csv.row("speed_to_lead", "", "median_minutes", s.median_minutes, 1);
  csv.row("speed_to_lead", "", "p90_minutes", s.p90_minutes, 1);
  csv.row("speed_to_lead", "", "within_5_minutes", s.within_5_minutes);
  csv.row("speed_to_lead", "", "share_within_5_minutes", s.share_within_5_minutes, 6);
  for (const auto& t : d.by_hour) {
    const auto key = std::to_string(t.slot);
    csv.row("by_hour", key, "calls", t.calls);
    csv.row("by_hour", key, "connected", t.connected);
    csv.row("by_hour", key, "connect_rate", t.connect_rate, 6);
  }
  for (const auto& t : d.by_weekday) {
    const auto key = std::to_string(t.slot);
    csv.row("by_weekday", key, "calls", t.calls);
    csv.row("by_weekday", key, "connected", t.connected);
    csv.row("by_weekday", key, "connect_rate", t.connect_rate, 6);
  }
  for (const auto& p : d.daily) {
    csv.metrics("daily", p.date, p.metrics);
    csv.row("daily", p.date, "leads", p.leads);
    csv.row("daily", p.date, "change_day", p.change_day, 6);
    csv.row("daily", p.date, "change_week", p.change_week, 6);
    csv.row("daily", p.date, "moving_avg_7", p.moving_avg_7, 3);
    csv.row("daily", p.date, "anomaly", std::string_view(p.anomaly ? "true" : "false"));
  }
  csv.row("trends", "", "day_over_day", d.trends.day_over_day, 6);
  csv.row("trends", "", "week_over_week", d.trends.week_over_week, 6);
  csv.row("trends", "", "slope_calls_per_day", d.trends.slope_calls_per_day, 6);
  for (const auto& a : d.trends.anomalies) csv.row("trends", a, "anomaly", std::string_view("true"));
  for (const auto& [gym, m] : d.per_gym) csv.metrics("per_gym", gym, m);
  return csv.take();
}

}  // namespace gymdash
