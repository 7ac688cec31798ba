// Recordings and retention (docs/calls.md, "Recordings and retention").
//
// Both purges are set-based: the store empties the fields with one statement
// per gym (or per lead) and reports how many calls changed; no call is read
// into memory. The lead's audit entry says how many calls were purged, by
// whom and why, and nothing of what the calls held.

#include "services/call/recordings.hpp"

#include <gymdash/error.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <chrono>
#include <string>

#include "core/text.hpp"

namespace gymdash {

namespace recordings {

namespace {

constexpr std::size_t kMaxAuditText = 200;

}  // namespace

Kept keep_rules(Call& call) {
  Kept kept;
  if (call.purged_at) {
    call.recording_url.clear();
    call.transcript.clear();
    call.summary.clear();
  }
  if (call.recording_consent == false && !call.recording_url.empty()) {
    call.recording_url.clear();
    kept.dropped_for_consent = true;
  }
  return kept;
}

PurgeReport purge_expired(Store& store, const Config* config, Timestamp now) {
  PurgeReport report;
  report.at = now;
  static const GymPolicy kDefaults;
  for (const auto& gym : store.gyms().list()) {
    const GymPolicy& policy = config ? config->policy(gym.id) : kDefaults;
    PurgedGym part;
    part.gym_id = gym.id;
    part.retention_days = policy.recording_retention_days;
    part.cutoff = now - std::chrono::days{policy.recording_retention_days};
    store.transact([&] { part.calls = store.calls().purge_recordings(gym.id, *part.cutoff, now); });
    report.calls += part.calls;
    report.gyms.push_back(std::move(part));
  }
  return report;
}

PurgeReport purge_lead(Store& store, std::string_view gym_id, std::string_view lead_id, std::string_view actor,
                       std::string_view reason, Timestamp now) {
  std::string who = text::checked_field("actor", actor, kMaxAuditText);
  if (who.empty()) who = "api";
  const std::string why = text::checked_field("reason", reason, kMaxAuditText);
  if (!store.gyms().find(gym_id))
    throw NotFoundError(fmt::format("gym {}: not found", gym_id.substr(0, 64)), "gym_id");
  PurgeReport report;
  report.at = now;
  report.lead_id = std::string(lead_id);
  PurgedGym part;
  part.gym_id = std::string(gym_id);
  store.transact([&] {
    if (!store.leads().find(gym_id, lead_id))
      throw NotFoundError(fmt::format("lead {}: not found in gym {}", lead_id.substr(0, 64), gym_id.substr(0, 64)),
                          "lead_id");
    part.calls = store.calls().purge_lead_recordings(gym_id, lead_id, now);
    LeadEvent event;
    event.lead_id = std::string(lead_id);
    event.at = now;
    event.kind = "recordings_purged";
    event.to = std::to_string(part.calls);
    event.actor = who;
    event.reason = why;
    store.leads().append_history(gym_id, event);
  });
  report.calls = part.calls;
  report.gyms.push_back(std::move(part));
  return report;
}

}  // namespace recordings

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const PurgeReport& v) {
  boost::json::array gyms;
  gyms.reserve(v.gyms.size());
  for (const auto& g : v.gyms) {
    boost::json::object o{{"gym_id", g.gym_id}, {"calls", g.calls}, {"retention_days", g.retention_days}};
    if (g.cutoff) o["cutoff"] = format_timestamp(*g.cutoff);
    else o["cutoff"] = nullptr;
    gyms.push_back(std::move(o));
  }
  boost::json::object o{{"at", format_timestamp(v.at)}, {"calls", v.calls}, {"gyms", std::move(gyms)}};
  if (!v.lead_id.empty()) o["lead_id"] = v.lead_id;
  jv = std::move(o);
}

}  // namespace gymdash
