// The repositories' batch methods, as loops over their single-row methods:
// what the memory and SQLite backends use (a call there costs no round trip);
// the PostgreSQL backend overrides them with one statement a batch.
#include <gymdash/error.hpp>
#include <gymdash/store.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <tuple>

namespace gymdash {

namespace {

// The distinct keys, sorted. A batch's lookups go in key order: each one
// lands next to the last in the index it descends (and, where rows were
// written in the same order as their keys, in the table), so the pages a
// batch reads are read once, in order, instead of at random.
std::vector<std::string_view> distinct_sorted(std::span<const std::string> keys) {
  std::vector<std::string_view> out(keys.begin(), keys.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// What `find` finds for each distinct key, once each, in key order.
template <class Row, class Find>
std::vector<Row> found_once(std::span<const std::string> keys, Find find) {
  std::vector<Row> out;
  for (const auto key : distinct_sorted(keys))
    if (auto row = find(key)) out.push_back(std::move(*row));
  return out;
}

}  // namespace

std::vector<Lead> LeadRepository::find_many(std::string_view gym_id, std::span<const std::string> lead_ids) {
  return found_once<Lead>(lead_ids, [&](std::string_view id) { return find(gym_id, id); });
}

std::vector<Lead> LeadRepository::find_by_external_ids(std::string_view gym_id,
                                                       std::span<const std::string> external_ids) {
  return found_once<Lead>(external_ids, [&](std::string_view id) {
    return id.empty() ? std::nullopt : find_by_external_id(gym_id, id);
  });
}

std::vector<Lead> LeadRepository::find_by_phones(std::string_view gym_id, std::span<const std::string> e164s) {
  return found_once<Lead>(e164s, [&](std::string_view phone) { return find_by_phone(gym_id, phone); });
}

std::vector<std::vector<CallResult>> LeadRepository::call_results_many(std::string_view gym_id,
                                                                       std::span<const std::string> lead_ids) {
  std::vector<std::vector<CallResult>> out;
  out.reserve(lead_ids.size());
  for (const auto& id : lead_ids) out.push_back(call_results(gym_id, id));
  return out;
}

void LeadRepository::update_many(std::span<const Lead> leads, std::span<const std::int64_t> stored_versions) {
  if (stored_versions.size() != leads.size())
    throw InvalidArgumentError(fmt::format("update_many: {} stored versions for {} leads", stored_versions.size(),
                                           leads.size()),
                               "stored_versions");
  for (std::size_t i = 0; i < leads.size(); ++i) {
    const Lead& l = leads[i];
    if (stored_versions[i] < 0 || stored_versions[i] >= l.version)
      throw InvalidArgumentError(fmt::format("update_many: lead {}: stored version {} is not below its version {}",
                                             l.id, stored_versions[i], l.version),
                                 "stored_versions");
    if (stored_versions[i] == l.version - 1) {
      update(l);
      continue;
    }
    // Several changes folded into one write: the content goes through each
    // version (update() takes one step at a time).
    Lead step = l;
    for (step.version = stored_versions[i] + 1; step.version <= l.version; ++step.version) update(step);
  }
}

void LeadRepository::update_call_state_many(std::span<const Lead> leads) {
  for (const auto& l : leads) update_call_state(l);
}

void LeadRepository::append_history_many(std::string_view gym_id, std::span<const LeadEvent> events) {
  for (const auto& e : events) append_history(gym_id, e);
}

void LeadRepository::put_call_results(std::string_view gym_id, std::span<const LeadCallResult> results) {
  for (const auto& r : results) put_call_result(gym_id, r.lead_id, r.result);
}

std::vector<bool> CallRepository::record_events(std::span<const CallEventRecord> events) {
  // Recorded in key order (gym, event id), as the table's rows are kept; of
  // two entries with one key the earlier is recorded (a stable sort).
  std::vector<std::size_t> order(events.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(events[a].gym_id, events[a].event_id) < std::tie(events[b].gym_id, events[b].event_id);
  });
  std::vector<bool> recorded(events.size());
  for (const auto i : order) {
    const auto& e = events[i];
    recorded[i] = record_event(e.gym_id, e.event_id, e.call_id, e.received_at);
  }
  return recorded;
}

std::vector<std::string> CallRepository::recorded_events(std::string_view gym_id,
                                                         std::span<const std::string> event_ids) {
  std::vector<std::string> out;
  for (const auto id : distinct_sorted(event_ids))
    if (has_event(gym_id, id)) out.emplace_back(id);
  return out;
}

std::vector<Call> CallRepository::find_by_provider_ids(std::string_view gym_id,
                                                       std::span<const std::string> provider_call_ids) {
  return found_once<Call>(provider_call_ids, [&](std::string_view id) { return find_by_provider_id(gym_id, id); });
}

void CallRepository::put_many(std::span<const Call> calls) {
  for (const auto& c : calls) put(c);
}

}  // namespace gymdash
