// The memory backend: ordered maps behind one recursive mutex, with the same
// semantics and the same errors as the SQLite backend (the conformance suite
// holds both to it).
//
// Transactions keep an undo log instead of copying the state: each change made
// inside transact() records how to reverse itself, and a failing level replays
// its part of the log backwards. A nested level is a savepoint, as in SQLite:
// it undoes only its own changes when it throws.

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <gymdash/error.hpp>
#include <gymdash/store.hpp>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/dial_order.hpp"
#include "store/memory/memory_analytics.hpp"

namespace gymdash {
namespace {

// Case folding of the search: ASCII only, exactly what SQLite's lower() does.
std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool contains_folded(std::string_view haystack, const std::string& folded_needle) {
  return ascii_lower(haystack).find(folded_needle) != std::string::npos;
}

template <class T>
bool any_of_or_empty(const std::vector<T>& wanted, const T& value) {
  return wanted.empty() || std::find(wanted.begin(), wanted.end(), value) != wanted.end();
}

bool matches(const Lead& lead, const LeadFilter& filter, const std::string& folded_search) {
  if (!any_of_or_empty(filter.statuses, lead.status)) return false;
  if (!any_of_or_empty(filter.qualifications, lead.qualification)) return false;
  for (const auto& tag : filter.tags)
    if (std::find(lead.tags.begin(), lead.tags.end(), tag) == lead.tags.end()) return false;
  if (!filter.source.empty() && lead.source != filter.source) return false;
  if (filter.created_from && lead.created_at < *filter.created_from) return false;
  if (filter.created_to && !(lead.created_at < *filter.created_to)) return false;
  if (!folded_search.empty() &&
      !contains_folded(lead.first_name + " " + lead.last_name, folded_search) &&
      !contains_folded(lead.phone, folded_search) && !contains_folded(lead.email, folded_search))
    return false;
  return true;
}

class MemoryStore;

class MemoryGyms final : public GymRepository {
 public:
  explicit MemoryGyms(MemoryStore& store) : store_(store) {}
  void insert(const Gym& gym) override;
  std::optional<Gym> find(std::string_view gym_id) override;
  std::vector<Gym> list() override;
  void update(const Gym& gym) override;

 private:
  MemoryStore& store_;
};

class MemoryLeads final : public LeadRepository {
 public:
  explicit MemoryLeads(MemoryStore& store) : store_(store) {}
  void insert(const Lead& lead) override;
  bool insert_if_absent(const Lead& lead) override;
  std::optional<Lead> find(std::string_view gym_id, std::string_view lead_id) override;
  std::optional<Lead> find_by_phone(std::string_view gym_id, std::string_view e164) override;
  std::optional<Lead> find_by_external_id(std::string_view gym_id, std::string_view external_id) override;
  void update(const Lead& lead) override;
  void update_call_state(const Lead& lead) override { update(lead); }
  bool set_active_call(std::string_view gym_id, std::string_view lead_id, std::string_view expected,
                       std::string_view next) override;
  bool remove(std::string_view gym_id, std::string_view lead_id) override;
  std::optional<ErasedLeadRows> remove_counted(std::string_view gym_id, std::string_view lead_id) override;
  std::int64_t append_erasure(const LeadErasure& erasure) override;
  std::vector<LeadErasure> erasures(std::string_view gym_id, int limit, int offset) override;
  LeadPage list(std::string_view gym_id, const LeadFilter& filter) override;
  std::int64_t append_history(std::string_view gym_id, const LeadEvent& event) override;
  std::vector<LeadEvent> history(std::string_view gym_id, std::string_view lead_id) override;
  std::vector<Lead> dial_candidates(std::string_view gym_id, const DialQuery& query) override;
  std::vector<std::pair<std::string, std::string>> dial_groups(std::string_view gym_id) override;
  DueCounts count_due(std::string_view gym_id, Timestamp now, int max_attempts, Timestamp last_call_before) override;
  std::vector<Lead> find_by_phone_any_gym(std::string_view e164) override;
  void put_call_result(std::string_view gym_id, std::string_view lead_id, const CallResult& result) override;
  std::vector<CallResult> call_results(std::string_view gym_id, std::string_view lead_id) override;

 private:
  MemoryStore& store_;
};

class MemoryCalls final : public CallRepository {
 public:
  explicit MemoryCalls(MemoryStore& store) : store_(store) {}
  bool record_event(std::string_view gym_id, std::string_view event_id, std::string_view call_id,
                    Timestamp received_at) override;
  bool has_event(std::string_view gym_id, std::string_view event_id) override;
  void put(const Call& call) override;
  std::optional<Call> find(std::string_view gym_id, std::string_view call_id) override;
  std::optional<Call> find_by_provider_id(std::string_view gym_id, std::string_view provider_call_id) override;
  CallPage list(std::string_view gym_id, const CallFilter& filter) override;
  std::vector<Call> for_lead(std::string_view gym_id, std::string_view lead_id) override;
  std::int64_t purge_recordings(std::string_view gym_id, Timestamp cutoff, Timestamp now) override;
  std::int64_t purge_lead_recordings(std::string_view gym_id, std::string_view lead_id, Timestamp now) override;
  ErasedCalls remove_for_lead(std::string_view gym_id, std::string_view lead_id) override;
  std::vector<Call> open_calls(Timestamp started_before, int limit) override;

 private:
  MemoryStore& store_;
};

class MemoryCampaigns final : public CampaignRepository {
 public:
  explicit MemoryCampaigns(MemoryStore& store) : store_(store) {}
  void insert(const Campaign& campaign) override;
  std::optional<Campaign> find(std::string_view gym_id, std::string_view campaign_id) override;
  CampaignPage list(std::string_view gym_id, const CampaignFilter& filter) override;
  std::vector<Campaign> in_state(CampaignState state) override;
  void update(const Campaign& campaign) override;
  bool remove(std::string_view gym_id, std::string_view campaign_id) override;
  std::int64_t enrol(std::string_view gym_id, std::string_view campaign_id, const std::vector<std::string>& lead_ids,
                     Timestamp at) override;
  std::int64_t enrol_matching(std::string_view gym_id, std::string_view campaign_id, const CampaignTarget& target,
                              Timestamp at) override;
  std::int64_t unenrol(std::string_view gym_id, std::string_view campaign_id,
                       const std::vector<std::string>& lead_ids) override;
  std::optional<CampaignLead> enrolment(std::string_view gym_id, std::string_view campaign_id,
                                        std::string_view lead_id) override;
  bool record_attempt(std::string_view gym_id, std::string_view campaign_id, std::string_view lead_id,
                      Timestamp at) override;
  EnrolmentCounts enrolment_counts(std::string_view gym_id, std::string_view campaign_id, int max_attempts) override;

 private:
  MemoryStore& store_;
};

class MemoryDnc final : public DncRepository {
 public:
  explicit MemoryDnc(MemoryStore& store) : store_(store) {}
  bool add(const DncEntry& entry) override;
  bool remove(std::string_view scope, std::string_view e164) override;
  std::optional<DncEntry> find(std::string_view scope, std::string_view e164) override;
  std::vector<DncEntry> list(std::string_view scope, int limit, int offset) override;
  std::int64_t count(std::string_view scope) override;

 private:
  MemoryStore& store_;
};

// The dialable set of DialQuery (see store.hpp).
bool dialable(const Lead& l, const DialQuery& q) {
  const bool open_status = l.status == LeadStatus::New || l.status == LeadStatus::Contacted ||
                           l.status == LeadStatus::Qualified || l.status == LeadStatus::TrialBooked;
  return l.consent.given && !l.do_not_call && !l.dnc_listed && !l.phone_invalid && open_status &&
         l.active_call_id.empty() && l.attempts < q.max_attempts && (!l.blocked_until || *l.blocked_until <= q.now);
}

class MemoryStore final : public Store {
 public:
  std::string_view backend() const override { return "memory"; }
  bool serializes_writers() const override { return true; }
  int schema_version() const override { return 0; }
  GymRepository& gyms() override { return gyms_; }
  LeadRepository& leads() override { return leads_; }
  DncRepository& dnc() override { return dnc_; }
  CallRepository& calls() override { return call_repo_; }
  AnalyticsRepository& analytics() override { return *analytics_; }
  CampaignRepository& campaigns() override { return campaign_repo_; }
  void begin_bulk_load(std::int64_t, BulkLoad) override {}
  void end_bulk_load() override {}

  void transact(const std::function<void()>& fn) override {
    // Held for the whole transaction: other threads wait, as with SQLite.
    std::lock_guard lock(mutex_);
    const std::size_t mark = undo_.size();
    ++depth_;
    try {
      fn();
    } catch (...) {
      rollback_to(mark);
      --depth_;
      throw;
    }
    --depth_;
    // Committed: nothing left that could need undoing.
    if (depth_ == 0) undo_.clear();
  }

  void transact_joined(const std::function<void()>& fn) override {
    std::lock_guard lock(mutex_);  // recursive: held already when this thread has a transaction open
    if (depth_ > 0) fn();
    else transact(fn);
  }

 private:
  friend class MemoryGyms;
  friend class MemoryLeads;
  friend class MemoryDnc;
  friend class MemoryCalls;
  friend class MemoryCampaigns;

  // A campaign's enrolments, by lead id.
  using Enrolments = std::map<std::string, CampaignLead, std::less<>>;

  void put_campaign(const std::string& id, std::optional<Campaign> next) {
    std::optional<Campaign> previous;
    if (auto it = campaigns_.find(id); it != campaigns_.end()) {
      previous = std::move(it->second);
      campaigns_.erase(it);
    }
    if (next) campaigns_.emplace(id, std::move(*next));
    on_rollback([this, id, previous = std::move(previous)]() mutable {
      campaigns_.erase(id);
      if (previous) campaigns_.emplace(id, std::move(*previous));
    });
  }

  void put_enrolment(const std::string& campaign_id, const std::string& lead_id, std::optional<CampaignLead> next) {
    std::optional<CampaignLead> previous;
    auto& enrolled = enrolments_[campaign_id];
    if (auto it = enrolled.find(lead_id); it != enrolled.end()) {
      previous = std::move(it->second);
      enrolled.erase(it);
    }
    if (next) enrolled.emplace(lead_id, std::move(*next));
    if (enrolled.empty()) enrolments_.erase(campaign_id);
    on_rollback([this, campaign_id, lead_id, previous = std::move(previous)]() mutable {
      auto& e = enrolments_[campaign_id];
      e.erase(lead_id);
      if (previous) e.emplace(lead_id, std::move(*previous));
      if (e.empty()) enrolments_.erase(campaign_id);
    });
  }

  void drop_enrolments(const std::string& campaign_id) {
    auto it = enrolments_.find(campaign_id);
    if (it == enrolments_.end()) return;
    auto enrolled = std::move(it->second);
    enrolments_.erase(it);
    on_rollback([this, campaign_id, enrolled = std::move(enrolled)]() mutable {
      enrolments_[campaign_id] = std::move(enrolled);
    });
  }

  // A lead's enrolments go with it, as in SQLite (ON DELETE CASCADE).
  void drop_lead_enrolments(const std::string& lead_id) {
    std::vector<std::string> campaigns;
    for (const auto& [campaign_id, enrolled] : enrolments_)
      if (enrolled.contains(lead_id)) campaigns.push_back(campaign_id);
    for (const auto& campaign_id : campaigns) put_enrolment(campaign_id, lead_id, std::nullopt);
  }

  const Campaign* campaign_in(std::string_view gym_id, std::string_view campaign_id) const {
    auto it = campaigns_.find(campaign_id);
    return it == campaigns_.end() || it->second.gym_id != gym_id ? nullptr : &it->second;
  }

  const CampaignLead* enrolment_of(std::string_view gym_id, std::string_view campaign_id,
                                   std::string_view lead_id) const {
    if (!campaign_in(gym_id, campaign_id)) return nullptr;
    auto c = enrolments_.find(campaign_id);
    if (c == enrolments_.end()) return nullptr;
    auto it = c->second.find(lead_id);
    return it == c->second.end() ? nullptr : &it->second;
  }

  void put_call_record(const Call& call) {
    std::optional<Call> previous;
    if (auto it = call_records_.find(call.id); it != call_records_.end()) previous = it->second;
    if (previous) call_by_provider_.erase({previous->gym_id, previous->provider_call_id});
    call_records_[call.id] = call;
    call_by_provider_[{call.gym_id, call.provider_call_id}] = call.id;
    on_rollback([this, call, previous]() {
      call_by_provider_.erase({call.gym_id, call.provider_call_id});
      if (previous) {
        call_records_[call.id] = *previous;
        call_by_provider_[{previous->gym_id, previous->provider_call_id}] = previous->id;
      } else {
        call_records_.erase(call.id);
      }
    });
  }

  void drop_call_record(const std::string& call_id) {
    auto it = call_records_.find(call_id);
    if (it == call_records_.end()) return;
    Call previous = std::move(it->second);
    call_records_.erase(it);
    call_by_provider_.erase({previous.gym_id, previous.provider_call_id});
    on_rollback([this, previous = std::move(previous)]() mutable {
      call_by_provider_[{previous.gym_id, previous.provider_call_id}] = previous.id;
      auto id = previous.id;
      call_records_[id] = std::move(previous);
    });
  }

  void push_erasure(LeadErasure erasure) {
    erasures_.push_back(std::move(erasure));
    on_rollback([this] { erasures_.pop_back(); });
  }

  void put_call_event(std::pair<std::string, std::string> key, const std::string& call_id) {
    call_events_.emplace(key, call_id);
    on_rollback([this, key]() { call_events_.erase(key); });
  }

  void put_call(const std::string& lead_id, const CallResult& result) {
    auto& calls = calls_[lead_id];
    std::optional<CallResult> previous;
    if (auto it = calls.find(result.call_id); it != calls.end()) previous = it->second;
    calls[result.call_id] = result;
    on_rollback([this, lead_id, id = result.call_id, previous]() {
      auto& c = calls_[lead_id];
      if (previous) c[id] = *previous;
      else c.erase(id);
    });
  }

  void drop_calls(const std::string& lead_id) {
    auto it = calls_.find(lead_id);
    if (it == calls_.end()) return;
    auto calls = std::move(it->second);
    calls_.erase(it);
    on_rollback([this, lead_id, calls = std::move(calls)]() mutable { calls_[lead_id] = std::move(calls); });
  }

  void put_dnc(const std::pair<std::string, std::string>& key, std::optional<DncEntry> next) {
    std::optional<DncEntry> previous;
    if (auto it = dnc_entries_.find(key); it != dnc_entries_.end()) {
      previous = std::move(it->second);
      dnc_entries_.erase(it);
    }
    if (next) dnc_entries_.emplace(key, std::move(*next));
    on_rollback([this, key, previous = std::move(previous)]() mutable {
      dnc_entries_.erase(key);
      if (previous) dnc_entries_.emplace(key, std::move(*previous));
    });
  }

  // A gym's leads, with the index that enforces one lead per phone number.
  struct GymLeads {
    std::map<std::string, Lead, std::less<>> by_id;
    std::map<std::string, std::string, std::less<>> id_by_phone;
    std::map<std::pair<std::string, std::string>, int> groups;  // (local_zone, local_state) → leads
  };

  void rollback_to(std::size_t mark) noexcept {
    while (undo_.size() > mark) {
      auto undo = std::move(undo_.back());
      undo_.pop_back();
      undo();
    }
  }

  // Records how to reverse a change, when a transaction may need it.
  void on_rollback(std::function<void()> undo) {
    if (depth_ > 0) undo_.push_back(std::move(undo));
  }

  // The only functions that change the state; each records its own inverse.
  void put_gym(const std::string& id, std::optional<Gym> next) {
    std::optional<Gym> previous;
    if (auto it = gyms_by_id_.find(id); it != gyms_by_id_.end()) {
      previous = std::move(it->second);
      gyms_by_id_.erase(it);
    }
    if (next) gyms_by_id_.emplace(id, std::move(*next));
    on_rollback([this, id, previous = std::move(previous)]() mutable {
      gyms_by_id_.erase(id);
      if (previous) gyms_by_id_.emplace(id, std::move(*previous));
    });
  }

  void put_lead(const std::string& gym_id, const std::string& id, std::optional<Lead> next) {
    auto previous = take_lead(gym_id, id);
    if (next) place_lead(std::move(*next));
    on_rollback([this, gym_id, id, previous = std::move(previous)]() mutable {
      take_lead(gym_id, id);
      if (previous) place_lead(std::move(*previous));
    });
  }

  std::optional<Lead> take_lead(const std::string& gym_id, const std::string& id) {
    auto gym = leads_by_gym_.find(gym_id);
    if (gym == leads_by_gym_.end()) return std::nullopt;
    auto it = gym->second.by_id.find(id);
    if (it == gym->second.by_id.end()) return std::nullopt;
    Lead lead = std::move(it->second);
    gym->second.by_id.erase(it);
    gym->second.id_by_phone.erase(lead.phone);
    if (auto g = gym->second.groups.find({lead.local_zone, lead.local_state});
        g != gym->second.groups.end() && --g->second == 0)
      gym->second.groups.erase(g);
    gym_of_lead_.erase(id);
    return lead;
  }

  void place_lead(Lead lead) {
    auto& gym = leads_by_gym_[lead.gym_id];
    gym.id_by_phone[lead.phone] = lead.id;
    ++gym.groups[{lead.local_zone, lead.local_state}];
    gym_of_lead_[lead.id] = lead.gym_id;
    auto id = lead.id;
    gym.by_id.emplace(std::move(id), std::move(lead));
  }

  void push_event(LeadEvent event) {
    auto lead_id = event.lead_id;
    history_[lead_id].push_back(std::move(event));
    on_rollback([this, lead_id] {
      auto it = history_.find(lead_id);
      it->second.pop_back();
      if (it->second.empty()) history_.erase(it);
    });
  }

  void drop_history(const std::string& lead_id) {
    auto it = history_.find(lead_id);
    if (it == history_.end()) return;
    auto events = std::move(it->second);
    history_.erase(it);
    on_rollback([this, lead_id, events = std::move(events)]() mutable {
      history_[lead_id] = std::move(events);
    });
  }

  const Lead* lead_in(std::string_view gym_id, std::string_view lead_id) const {
    auto gym = leads_by_gym_.find(gym_id);
    if (gym == leads_by_gym_.end()) return nullptr;
    auto it = gym->second.by_id.find(lead_id);
    return it == gym->second.by_id.end() ? nullptr : &it->second;
  }

  std::recursive_mutex mutex_;
  std::map<std::string, Gym, std::less<>> gyms_by_id_;
  std::map<std::string, GymLeads, std::less<>> leads_by_gym_;
  std::map<std::string, std::string, std::less<>> gym_of_lead_;         // ids are unique store-wide
  std::map<std::string, std::vector<LeadEvent>, std::less<>> history_;  // by lead id
  std::int64_t next_seq_ = 1;  // never rolled back: seq only has to increase
  int depth_ = 0;
  std::vector<std::function<void()>> undo_;
  std::map<std::string, std::map<std::string, CallResult>, std::less<>> calls_;  // lead id → call id → result
  std::map<std::pair<std::string, std::string>, DncEntry> dnc_entries_;          // (scope, phone)
  MemoryDnc dnc_{*this};
  MemoryGyms gyms_{*this};
  std::map<std::string, Call, std::less<>> call_records_;                          // call id → call
  std::map<std::pair<std::string, std::string>, std::string> call_by_provider_;   // (gym, provider id) → call id
  std::map<std::pair<std::string, std::string>, std::string> call_events_;       // (gym id, event id) → call id
  std::vector<LeadErasure> erasures_;                                              // in seq order
  MemoryLeads leads_{*this};
  MemoryCalls call_repo_{*this};
  std::map<std::string, Campaign, std::less<>> campaigns_;      // campaign id → campaign (ids unique store-wide)
  std::map<std::string, Enrolments, std::less<>> enrolments_;   // campaign id → its enrolments
  MemoryCampaigns campaign_repo_{*this};
  // analytics: rollups in maps under the same mutex and undo log (memory_analytics.cpp).
  std::unique_ptr<AnalyticsRepository> analytics_ = memory_store::make_memory_analytics(
      mutex_, [this](std::function<void()> undo) { on_rollback(std::move(undo)); }, *this,
      [this](std::string_view campaign_id) {
        std::vector<std::string> ids;
        if (auto it = enrolments_.find(campaign_id); it != enrolments_.end())
          for (const auto& [lead_id, enrolment] : it->second) ids.push_back(lead_id);
        return ids;
      });
};

// ---------------------------------------------------------------------------
// Gyms
// ---------------------------------------------------------------------------

void MemoryGyms::insert(const Gym& gym) {
  std::lock_guard lock(store_.mutex_);
  if (store_.gyms_by_id_.contains(gym.id))
    throw AlreadyExistsError(fmt::format("gym {}: already exists", gym.id), "id");
  store_.put_gym(gym.id, gym);
}

std::optional<Gym> MemoryGyms::find(std::string_view gym_id) {
  std::lock_guard lock(store_.mutex_);
  auto it = store_.gyms_by_id_.find(gym_id);
  if (it == store_.gyms_by_id_.end()) return std::nullopt;
  return it->second;
}

std::vector<Gym> MemoryGyms::list() {
  std::lock_guard lock(store_.mutex_);
  std::vector<Gym> gyms;
  gyms.reserve(store_.gyms_by_id_.size());
  for (const auto& [id, gym] : store_.gyms_by_id_) gyms.push_back(gym);
  return gyms;
}

void MemoryGyms::update(const Gym& gym) {
  std::lock_guard lock(store_.mutex_);
  if (!store_.gyms_by_id_.contains(gym.id))
    throw NotFoundError(fmt::format("gym {}: not found", gym.id), "id");
  store_.put_gym(gym.id, gym);
}

// ---------------------------------------------------------------------------
// Leads
// ---------------------------------------------------------------------------

void MemoryLeads::insert(const Lead& lead) {
  std::lock_guard lock(store_.mutex_);
  // Checked in the order the SQLite backend explains a failed insert.
  if (!store_.gyms_by_id_.contains(lead.gym_id))
    throw NotFoundError(fmt::format("gym {}: not found (storing lead {})", lead.gym_id, lead.id),
                        "gym_id");
  if (store_.gym_of_lead_.contains(lead.id))
    throw AlreadyExistsError(fmt::format("lead {}: already exists", lead.id), "id");
  if (auto gym = store_.leads_by_gym_.find(lead.gym_id); gym != store_.leads_by_gym_.end()) {
    if (auto other = gym->second.id_by_phone.find(lead.phone);
        other != gym->second.id_by_phone.end())
      throw AlreadyExistsError(fmt::format("lead {}: phone {} already belongs to lead {} in gym {}",
                                           lead.id, lead.phone, other->second, lead.gym_id),
                               "phone");
  }
  store_.put_lead(lead.gym_id, lead.id, lead);
}

bool MemoryLeads::insert_if_absent(const Lead& lead) {
  std::lock_guard lock(store_.mutex_);
  if (auto gym = store_.leads_by_gym_.find(lead.gym_id); gym != store_.leads_by_gym_.end())
    if (gym->second.id_by_phone.count(lead.phone)) return false;
  insert(lead);
  return true;
}

std::optional<Lead> MemoryLeads::find(std::string_view gym_id, std::string_view lead_id) {
  std::lock_guard lock(store_.mutex_);
  if (const Lead* lead = store_.lead_in(gym_id, lead_id)) return *lead;
  return std::nullopt;
}

std::optional<Lead> MemoryLeads::find_by_phone(std::string_view gym_id, std::string_view e164) {
  std::lock_guard lock(store_.mutex_);
  auto gym = store_.leads_by_gym_.find(gym_id);
  if (gym == store_.leads_by_gym_.end()) return std::nullopt;
  auto it = gym->second.id_by_phone.find(e164);
  if (it == gym->second.id_by_phone.end()) return std::nullopt;
  return gym->second.by_id.at(it->second);
}

std::optional<Lead> MemoryLeads::find_by_external_id(std::string_view gym_id, std::string_view external_id) {
  std::lock_guard lock(store_.mutex_);
  if (external_id.empty()) return std::nullopt;
  auto gym = store_.leads_by_gym_.find(gym_id);
  if (gym == store_.leads_by_gym_.end()) return std::nullopt;
  const Lead* best = nullptr;
  for (const auto& [id, lead] : gym->second.by_id)
    if (lead.external_id == external_id &&
        (!best || lead.created_at < best->created_at || (lead.created_at == best->created_at && lead.id < best->id)))
      best = &lead;
  if (!best) return std::nullopt;
  return *best;
}

void MemoryLeads::update(const Lead& lead) {
  std::lock_guard lock(store_.mutex_);
  const Lead* stored = store_.lead_in(lead.gym_id, lead.id);
  if (!stored)
    throw NotFoundError(fmt::format("lead {}: not found in gym {}", lead.id, lead.gym_id), "id");
  const bool expectable = lead.version != std::numeric_limits<std::int64_t>::min();
  if (!expectable || stored->version != lead.version - 1)
    throw ConflictError(
        fmt::format("lead {}: version conflict: stored version is {}, the update expects {}",
                    lead.id, stored->version,
                    expectable ? fmt::format("{}", lead.version - 1) : std::string("none")),
        "version");
  const auto& phones = store_.leads_by_gym_.find(lead.gym_id)->second.id_by_phone;
  if (auto other = phones.find(lead.phone); other != phones.end() && other->second != lead.id)
    throw AlreadyExistsError(fmt::format("lead {}: phone {} already belongs to lead {} in gym {}",
                                         lead.id, lead.phone, other->second, lead.gym_id),
                             "phone");
  if (stored->active_call_id == lead.active_call_id) {
    store_.put_lead(lead.gym_id, lead.id, lead);
  } else {
    Lead kept = lead;  // only set_active_call writes the call claim
    kept.active_call_id = stored->active_call_id;
    store_.put_lead(lead.gym_id, lead.id, std::move(kept));
  }
}

bool MemoryLeads::set_active_call(std::string_view gym_id, std::string_view lead_id, std::string_view expected,
                                  std::string_view next) {
  std::lock_guard lock(store_.mutex_);
  const Lead* stored = store_.lead_in(gym_id, lead_id);
  if (!stored || stored->active_call_id != expected) return false;
  Lead changed = *stored;
  changed.active_call_id = std::string(next);
  const std::string gym(gym_id), id(lead_id);
  store_.put_lead(gym, id, std::move(changed));
  return true;
}

bool MemoryLeads::remove(std::string_view gym_id, std::string_view lead_id) {
  std::lock_guard lock(store_.mutex_);
  if (!store_.lead_in(gym_id, lead_id)) return false;
  std::string id(lead_id);
  store_.put_lead(std::string(gym_id), id, std::nullopt);
  store_.drop_history(id);
  store_.drop_calls(id);
  store_.drop_lead_enrolments(id);
  return true;
}

std::optional<ErasedLeadRows> MemoryLeads::remove_counted(std::string_view gym_id, std::string_view lead_id) {
  std::lock_guard lock(store_.mutex_);
  if (!store_.lead_in(gym_id, lead_id)) return std::nullopt;
  ErasedLeadRows rows;
  if (auto it = store_.history_.find(lead_id); it != store_.history_.end())
    rows.history_entries = static_cast<std::int64_t>(it->second.size());
  if (auto it = store_.calls_.find(lead_id); it != store_.calls_.end())
    rows.call_results = static_cast<std::int64_t>(it->second.size());
  for (const auto& [campaign_id, enrolled] : store_.enrolments_)
    if (enrolled.contains(lead_id)) ++rows.enrolments;
  remove(gym_id, lead_id);
  return rows;
}

std::int64_t MemoryLeads::append_erasure(const LeadErasure& erasure) {
  std::lock_guard lock(store_.mutex_);
  LeadErasure stored = erasure;
  stored.seq = store_.next_seq_++;
  const auto seq = stored.seq;
  store_.push_erasure(std::move(stored));
  return seq;
}

std::vector<LeadErasure> MemoryLeads::erasures(std::string_view gym_id, int limit, int offset) {
  std::lock_guard lock(store_.mutex_);
  std::vector<LeadErasure> out;
  int skipped = 0;
  for (auto it = store_.erasures_.rbegin(); it != store_.erasures_.rend() && static_cast<int>(out.size()) < limit;
       ++it) {
    if (it->gym_id != gym_id) continue;
    if (skipped++ < offset) continue;
    out.push_back(*it);
  }
  return out;
}

LeadPage MemoryLeads::list(std::string_view gym_id, const LeadFilter& filter) {
  std::lock_guard lock(store_.mutex_);
  LeadPage page;
  page.page = filter.page;
  page.page_size = filter.page_size;
  auto gym = store_.leads_by_gym_.find(gym_id);
  if (gym == store_.leads_by_gym_.end()) return page;

  const std::string folded_search = ascii_lower(filter.search);
  std::vector<const Lead*> hits;
  for (const auto& [id, lead] : gym->second.by_id)
    if (matches(lead, filter, folded_search)) hits.push_back(&lead);
  page.total = static_cast<std::int64_t>(hits.size());

  const std::int64_t number = std::max(filter.page, 1);
  const std::int64_t size = std::max(filter.page_size, 0);
  const std::int64_t offset = (number - 1) * size;
  if (size == 0 || offset >= page.total) return page;
  const auto end = static_cast<std::size_t>(std::min(offset + size, page.total));

  auto newest_first = [](const Lead* a, const Lead* b) {
    if (a->created_at != b->created_at) return a->created_at > b->created_at;
    return a->id > b->id;
  };
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(end), hits.end(),
                    newest_first);
  page.items.reserve(end - static_cast<std::size_t>(offset));
  for (auto i = static_cast<std::size_t>(offset); i < end; ++i) page.items.push_back(*hits[i]);
  return page;
}

std::int64_t MemoryLeads::append_history(std::string_view gym_id, const LeadEvent& event) {
  std::lock_guard lock(store_.mutex_);
  if (!store_.lead_in(gym_id, event.lead_id))
    throw NotFoundError(fmt::format("lead {}: not found in gym {}", event.lead_id, gym_id),
                        "lead_id");
  LeadEvent stored = event;
  stored.seq = store_.next_seq_++;
  const auto seq = stored.seq;
  store_.push_event(std::move(stored));
  return seq;
}

std::vector<LeadEvent> MemoryLeads::history(std::string_view gym_id, std::string_view lead_id) {
  std::lock_guard lock(store_.mutex_);
  if (!store_.lead_in(gym_id, lead_id)) return {};
  auto it = store_.history_.find(lead_id);
  if (it == store_.history_.end()) return {};
  return it->second;
}

std::vector<Lead> MemoryLeads::dial_candidates(std::string_view gym_id, const DialQuery& q) {
  std::lock_guard lock(store_.mutex_);
  std::vector<const Lead*> hits;
  auto gym = store_.leads_by_gym_.find(gym_id);
  if (gym == store_.leads_by_gym_.end()) return {};
  // A campaign's query: only its enrolled leads whose campaign attempts allow another call now.
  const MemoryStore::Enrolments* enrolled = nullptr;
  if (!q.campaign_id.empty()) {
    if (!store_.campaign_in(gym_id, q.campaign_id)) return {};
    auto it = store_.enrolments_.find(q.campaign_id);
    if (it == store_.enrolments_.end()) return {};
    enrolled = &it->second;
  }
  for (const auto& [id, l] : gym->second.by_id) {
    if (!dialable(l, q)) continue;
    if (enrolled) {
      auto e = enrolled->find(l.id);
      if (e == enrolled->end() || e->second.attempts >= q.campaign_max_attempts ||
          (e->second.last_attempt_at && *e->second.last_attempt_at > q.campaign_last_attempt_before))
        continue;
    }
    if (q.qualification && l.qualification != *q.qualification) continue;
    if (std::find(q.exclude.begin(), q.exclude.end(), l.id) != q.exclude.end()) continue;
    switch (q.tier) {
      case DialQuery::Tier::Callback:
        if (!l.callback_at || *l.callback_at > q.now) continue;
        break;
      case DialQuery::Tier::Fresh:
        if (l.attempts != 0 || l.callback_at || l.local_zone != q.local_zone || l.local_state != q.local_state) continue;
        break;
      case DialQuery::Tier::Retry:
        if (l.attempts == 0 || l.callback_at || l.local_zone != q.local_zone || l.local_state != q.local_state ||
            !l.last_call_at || *l.last_call_at > q.last_call_before)
          continue;
        break;
    }
    hits.push_back(&l);
  }
  std::sort(hits.begin(), hits.end(),
            [&](const Lead* a, const Lead* b) { return dial_order::before(q.tier, *a, *b); });
  std::vector<Lead> out;
  for (std::size_t i = 0; i < hits.size() && static_cast<int>(i) < q.limit; ++i) out.push_back(*hits[i]);
  return out;
}

DueCounts MemoryLeads::count_due(std::string_view gym_id, Timestamp now, int max_attempts,
                                 Timestamp last_call_before) {
  std::lock_guard lock(store_.mutex_);
  DueCounts out;
  auto gym = store_.leads_by_gym_.find(gym_id);
  if (gym == store_.leads_by_gym_.end()) return out;
  DialQuery q;
  q.now = now;
  q.max_attempts = max_attempts;
  for (const auto& [id, l] : gym->second.by_id) {
    if (!dialable(l, q)) continue;
    if (l.callback_at) out.callbacks += *l.callback_at <= now ? 1 : 0;
    else if (l.attempts > 0 && l.last_call_at && *l.last_call_at <= last_call_before) ++out.retries;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> MemoryLeads::dial_groups(std::string_view gym_id) {
  std::lock_guard lock(store_.mutex_);
  std::vector<std::pair<std::string, std::string>> out;
  auto gym = store_.leads_by_gym_.find(gym_id);
  if (gym == store_.leads_by_gym_.end()) return out;
  for (const auto& [group, n] : gym->second.groups) out.push_back(group);  // kept sorted as leads come and go
  return out;
}

std::vector<Lead> MemoryLeads::find_by_phone_any_gym(std::string_view e164) {
  std::lock_guard lock(store_.mutex_);
  std::vector<Lead> out;
  for (const auto& [gym_id, gym] : store_.leads_by_gym_) {
    auto it = gym.id_by_phone.find(e164);
    if (it != gym.id_by_phone.end()) out.push_back(gym.by_id.find(it->second)->second);
  }
  return out;
}

void MemoryLeads::put_call_result(std::string_view gym_id, std::string_view lead_id, const CallResult& result) {
  std::lock_guard lock(store_.mutex_);
  if (!store_.lead_in(gym_id, lead_id))
    throw NotFoundError(fmt::format("lead {}: not found in gym {}", lead_id, gym_id), "lead_id");
  store_.put_call(std::string(lead_id), result);
}

std::vector<CallResult> MemoryLeads::call_results(std::string_view gym_id, std::string_view lead_id) {
  std::lock_guard lock(store_.mutex_);
  std::vector<CallResult> out;
  if (!store_.lead_in(gym_id, lead_id)) return out;
  auto it = store_.calls_.find(lead_id);
  if (it == store_.calls_.end()) return out;
  for (const auto& [id, c] : it->second) out.push_back(c);
  std::sort(out.begin(), out.end(), [](const CallResult& a, const CallResult& b) {
    return a.started_at != b.started_at ? a.started_at < b.started_at : a.call_id < b.call_id;
  });
  return out;
}

// ---- calls -------------------------------------------------------------------

bool MemoryCalls::record_event(std::string_view gym_id, std::string_view event_id, std::string_view call_id,
                               Timestamp) {
  std::lock_guard lock(store_.mutex_);
  std::pair<std::string, std::string> key{gym_id, event_id};
  if (store_.call_events_.contains(key)) return false;
  store_.put_call_event(std::move(key), std::string(call_id));
  return true;
}

bool MemoryCalls::has_event(std::string_view gym_id, std::string_view event_id) {
  std::lock_guard lock(store_.mutex_);
  return store_.call_events_.contains(std::pair<std::string, std::string>{gym_id, event_id});
}

void MemoryCalls::put(const Call& call) {
  std::lock_guard lock(store_.mutex_);
  auto it = store_.call_by_provider_.find({call.gym_id, call.provider_call_id});
  if (it != store_.call_by_provider_.end() && it->second != call.id)
    throw AlreadyExistsError(fmt::format("call {}: provider call id {} already belongs to another call of gym {}",
                                         call.id, call.provider_call_id, call.gym_id),
                             "provider_call_id");
  store_.put_call_record(call);
}

std::optional<Call> MemoryCalls::find(std::string_view gym_id, std::string_view call_id) {
  std::lock_guard lock(store_.mutex_);
  auto it = store_.call_records_.find(call_id);
  if (it == store_.call_records_.end() || it->second.gym_id != gym_id) return std::nullopt;
  return it->second;
}

std::optional<Call> MemoryCalls::find_by_provider_id(std::string_view gym_id, std::string_view provider_call_id) {
  std::lock_guard lock(store_.mutex_);
  auto it = store_.call_by_provider_.find({std::string(gym_id), std::string(provider_call_id)});
  if (it == store_.call_by_provider_.end()) return std::nullopt;
  return store_.call_records_.at(it->second);
}

CallPage MemoryCalls::list(std::string_view gym_id, const CallFilter& f) {
  std::lock_guard lock(store_.mutex_);
  CallPage page;
  page.page = std::max(f.page, 1);
  page.page_size = std::clamp(f.page_size, 1, kMaxPageSize);
  std::vector<const Call*> hits;
  for (const auto& [id, c] : store_.call_records_) {
    if (c.gym_id != gym_id) continue;
    if (!f.lead_id.empty() && c.lead_id != f.lead_id) continue;
    if (!f.campaign_id.empty() && c.campaign_id != f.campaign_id) continue;
    if (f.status && c.status != *f.status) continue;
    if (f.outcome && c.outcome != f.outcome) continue;
    if (f.direction && c.direction != *f.direction) continue;
    if (f.started_from && c.started_at < *f.started_from) continue;
    if (f.started_to && !(c.started_at < *f.started_to)) continue;
    hits.push_back(&c);
  }
  page.total = static_cast<std::int64_t>(hits.size());
  std::sort(hits.begin(), hits.end(), [](const Call* a, const Call* b) {
    return a->started_at != b->started_at ? a->started_at > b->started_at : a->id > b->id;
  });
  const auto offset = static_cast<std::int64_t>(page.page - 1) * page.page_size;
  for (auto i = offset; i < page.total && i < offset + page.page_size; ++i)
    page.items.push_back(*hits[static_cast<std::size_t>(i)]);
  return page;
}

std::vector<Call> MemoryCalls::for_lead(std::string_view gym_id, std::string_view lead_id) {
  std::lock_guard lock(store_.mutex_);
  std::vector<Call> out;
  for (const auto& [id, c] : store_.call_records_)
    if (c.gym_id == gym_id && c.lead_id == lead_id) out.push_back(c);
  std::sort(out.begin(), out.end(), [](const Call& a, const Call& b) {
    return a.started_at != b.started_at ? a.started_at < b.started_at : a.id < b.id;
  });
  return out;
}

namespace {
// What a purge empties: the recording's address and what was said.
bool holds_recording(const Call& c) { return !c.recording_url.empty() || !c.transcript.empty() || !c.summary.empty(); }
}  // namespace

std::int64_t MemoryCalls::purge_recordings(std::string_view gym_id, Timestamp cutoff, Timestamp now) {
  std::lock_guard lock(store_.mutex_);
  std::vector<Call> changed;
  for (const auto& [id, c] : store_.call_records_)
    if (c.gym_id == gym_id && c.started_at < cutoff && !c.purged_at && holds_recording(c)) changed.push_back(c);
  for (auto& c : changed) {
    c.recording_url.clear();
    c.transcript.clear();
    c.summary.clear();
    c.purged_at = now;
    c.updated_at = now;
    store_.put_call_record(c);
  }
  return static_cast<std::int64_t>(changed.size());
}

std::int64_t MemoryCalls::purge_lead_recordings(std::string_view gym_id, std::string_view lead_id, Timestamp now) {
  std::lock_guard lock(store_.mutex_);
  std::vector<Call> changed;
  for (const auto& [id, c] : store_.call_records_)
    if (c.gym_id == gym_id && c.lead_id == lead_id && holds_recording(c)) changed.push_back(c);
  for (auto& c : changed) {
    c.recording_url.clear();
    c.transcript.clear();
    c.summary.clear();
    c.purged_at = now;
    c.updated_at = now;
    store_.put_call_record(c);
  }
  return static_cast<std::int64_t>(changed.size());
}

ErasedCalls MemoryCalls::remove_for_lead(std::string_view gym_id, std::string_view lead_id) {
  std::lock_guard lock(store_.mutex_);
  ErasedCalls erased;
  std::vector<std::string> ids;
  for (const auto& [id, c] : store_.call_records_)
    if (c.gym_id == gym_id && c.lead_id == lead_id) {
      ids.push_back(id);
      ++erased.calls;
      if (!c.recording_url.empty()) ++erased.recordings;
      if (!c.transcript.empty() || !c.summary.empty()) ++erased.transcripts;
    }
  for (const auto& id : ids) store_.drop_call_record(id);
  return erased;
}

std::vector<Call> MemoryCalls::open_calls(Timestamp started_before, int limit) {
  std::lock_guard lock(store_.mutex_);
  std::vector<const Call*> hits;
  for (const auto& [id, c] : store_.call_records_)
    if ((c.status == CallStatus::Queued || c.status == CallStatus::Ringing || c.status == CallStatus::InProgress) &&
        c.started_at < started_before)
      hits.push_back(&c);
  std::sort(hits.begin(), hits.end(), [](const Call* a, const Call* b) {
    return a->started_at != b->started_at ? a->started_at < b->started_at : a->id < b->id;
  });
  std::vector<Call> out;
  for (std::size_t i = 0; i < hits.size() && static_cast<int>(i) < limit; ++i) out.push_back(*hits[i]);
  return out;
}

// ---- campaigns -----------------------------------------------------------------

void MemoryCampaigns::insert(const Campaign& campaign) {
  std::lock_guard lock(store_.mutex_);
  if (!store_.gyms_by_id_.contains(campaign.gym_id))
    throw NotFoundError(fmt::format("gym {}: not found (storing campaign {})", campaign.gym_id, campaign.id),
                        "gym_id");
  if (store_.campaigns_.contains(campaign.id))
    throw AlreadyExistsError(fmt::format("campaign {}: already exists", campaign.id), "id");
  store_.put_campaign(campaign.id, campaign);
}

std::optional<Campaign> MemoryCampaigns::find(std::string_view gym_id, std::string_view campaign_id) {
  std::lock_guard lock(store_.mutex_);
  if (const Campaign* c = store_.campaign_in(gym_id, campaign_id)) return *c;
  return std::nullopt;
}

CampaignPage MemoryCampaigns::list(std::string_view gym_id, const CampaignFilter& filter) {
  std::lock_guard lock(store_.mutex_);
  CampaignPage page;
  page.page = std::max(filter.page, 1);
  page.page_size = std::clamp(filter.page_size, 1, kMaxPageSize);
  std::vector<const Campaign*> hits;
  for (const auto& [id, c] : store_.campaigns_)
    if (c.gym_id == gym_id && any_of_or_empty(filter.states, c.state)) hits.push_back(&c);
  page.total = static_cast<std::int64_t>(hits.size());
  std::sort(hits.begin(), hits.end(), [](const Campaign* a, const Campaign* b) {
    return a->created_at != b->created_at ? a->created_at > b->created_at : a->id > b->id;
  });
  const auto offset = static_cast<std::int64_t>(page.page - 1) * page.page_size;
  for (auto i = offset; i < page.total && i < offset + page.page_size; ++i)
    page.items.push_back(*hits[static_cast<std::size_t>(i)]);
  return page;
}

std::vector<Campaign> MemoryCampaigns::in_state(CampaignState state) {
  std::lock_guard lock(store_.mutex_);
  std::vector<Campaign> out;
  for (const auto& [id, c] : store_.campaigns_)
    if (c.state == state) out.push_back(c);
  std::sort(out.begin(), out.end(), [](const Campaign& a, const Campaign& b) {
    return a.gym_id != b.gym_id ? a.gym_id < b.gym_id : a.id < b.id;
  });
  return out;
}

void MemoryCampaigns::update(const Campaign& campaign) {
  std::lock_guard lock(store_.mutex_);
  const Campaign* stored = store_.campaign_in(campaign.gym_id, campaign.id);
  if (!stored)
    throw NotFoundError(fmt::format("campaign {}: not found in gym {}", campaign.id, campaign.gym_id), "id");
  const bool expectable = campaign.version != std::numeric_limits<std::int64_t>::min();
  if (!expectable || stored->version != campaign.version - 1)
    throw ConflictError(fmt::format("campaign {}: version conflict: stored version is {}, the update expects {}",
                                    campaign.id, stored->version,
                                    expectable ? fmt::format("{}", campaign.version - 1) : std::string("none")),
                        "version");
  store_.put_campaign(campaign.id, campaign);
}

bool MemoryCampaigns::remove(std::string_view gym_id, std::string_view campaign_id) {
  std::lock_guard lock(store_.mutex_);
  if (!store_.campaign_in(gym_id, campaign_id)) return false;
  std::string id(campaign_id);
  store_.drop_enrolments(id);
  store_.put_campaign(id, std::nullopt);
  return true;
}

namespace {
[[noreturn]] void campaign_not_found(std::string_view gym_id, std::string_view campaign_id) {
  throw NotFoundError(fmt::format("campaign {}: not found in gym {}", campaign_id, gym_id), "campaign_id");
}
}  // namespace

std::int64_t MemoryCampaigns::enrol(std::string_view gym_id, std::string_view campaign_id,
                                    const std::vector<std::string>& lead_ids, Timestamp at) {
  std::lock_guard lock(store_.mutex_);
  if (!store_.campaign_in(gym_id, campaign_id)) campaign_not_found(gym_id, campaign_id);
  const std::string cid(campaign_id);
  std::int64_t added = 0;
  for (const auto& lead_id : lead_ids) {
    if (!store_.lead_in(gym_id, lead_id) || store_.enrolment_of(gym_id, campaign_id, lead_id)) continue;
    store_.put_enrolment(cid, lead_id, CampaignLead{cid, lead_id, at, 0, std::nullopt});
    ++added;
  }
  return added;
}

std::int64_t MemoryCampaigns::enrol_matching(std::string_view gym_id, std::string_view campaign_id,
                                             const CampaignTarget& target, Timestamp at) {
  std::lock_guard lock(store_.mutex_);
  if (!store_.campaign_in(gym_id, campaign_id)) campaign_not_found(gym_id, campaign_id);
  auto gym = store_.leads_by_gym_.find(gym_id);
  if (gym == store_.leads_by_gym_.end()) return 0;
  const std::string cid(campaign_id);
  std::vector<std::string> matching;
  for (const auto& [id, lead] : gym->second.by_id)
    if (matches_target(lead, target) && !store_.enrolment_of(gym_id, campaign_id, id)) matching.push_back(id);
  for (const auto& lead_id : matching)
    store_.put_enrolment(cid, lead_id, CampaignLead{cid, lead_id, at, 0, std::nullopt});
  return static_cast<std::int64_t>(matching.size());
}

std::int64_t MemoryCampaigns::unenrol(std::string_view gym_id, std::string_view campaign_id,
                                      const std::vector<std::string>& lead_ids) {
  std::lock_guard lock(store_.mutex_);
  const std::string cid(campaign_id);
  std::int64_t removed = 0;
  for (const auto& lead_id : lead_ids) {
    if (!store_.enrolment_of(gym_id, campaign_id, lead_id)) continue;  // also skips a repeated id
    store_.put_enrolment(cid, lead_id, std::nullopt);
    ++removed;
  }
  return removed;
}

std::optional<CampaignLead> MemoryCampaigns::enrolment(std::string_view gym_id, std::string_view campaign_id,
                                                       std::string_view lead_id) {
  std::lock_guard lock(store_.mutex_);
  if (const CampaignLead* e = store_.enrolment_of(gym_id, campaign_id, lead_id)) return *e;
  return std::nullopt;
}

bool MemoryCampaigns::record_attempt(std::string_view gym_id, std::string_view campaign_id, std::string_view lead_id,
                                     Timestamp at) {
  std::lock_guard lock(store_.mutex_);
  const CampaignLead* e = store_.enrolment_of(gym_id, campaign_id, lead_id);
  if (!e) return false;
  CampaignLead next = *e;
  ++next.attempts;
  next.last_attempt_at = at;
  store_.put_enrolment(std::string(campaign_id), std::string(lead_id), std::move(next));
  return true;
}

EnrolmentCounts MemoryCampaigns::enrolment_counts(std::string_view gym_id, std::string_view campaign_id,
                                                  int max_attempts) {
  std::lock_guard lock(store_.mutex_);
  EnrolmentCounts counts;
  if (!store_.campaign_in(gym_id, campaign_id)) return counts;
  auto it = store_.enrolments_.find(campaign_id);
  if (it == store_.enrolments_.end()) return counts;
  for (const auto& [lead_id, e] : it->second) {
    ++counts.enrolled;
    if (e.attempts == 0) ++counts.never_called;
    if (e.attempts >= max_attempts) ++counts.exhausted;
    counts.attempts += e.attempts;
  }
  return counts;
}

bool MemoryDnc::add(const DncEntry& entry) {
  std::lock_guard lock(store_.mutex_);
  auto key = std::make_pair(entry.scope, entry.phone);
  if (store_.dnc_entries_.count(key)) return false;
  store_.put_dnc(key, entry);
  return true;
}

bool MemoryDnc::remove(std::string_view scope, std::string_view e164) {
  std::lock_guard lock(store_.mutex_);
  auto key = std::make_pair(std::string(scope), std::string(e164));
  if (!store_.dnc_entries_.count(key)) return false;
  store_.put_dnc(key, std::nullopt);
  return true;
}

std::optional<DncEntry> MemoryDnc::find(std::string_view scope, std::string_view e164) {
  std::lock_guard lock(store_.mutex_);
  auto it = store_.dnc_entries_.find(std::make_pair(std::string(scope), std::string(e164)));
  if (it == store_.dnc_entries_.end()) return std::nullopt;
  return it->second;
}

std::vector<DncEntry> MemoryDnc::list(std::string_view scope, int limit, int offset) {
  std::lock_guard lock(store_.mutex_);
  std::vector<DncEntry> out;
  int skipped = 0;
  for (auto it = store_.dnc_entries_.lower_bound(std::make_pair(std::string(scope), std::string()));
       it != store_.dnc_entries_.end() && it->first.first == scope && static_cast<int>(out.size()) < limit; ++it) {
    if (skipped++ < offset) continue;
    out.push_back(it->second);
  }
  return out;
}

std::int64_t MemoryDnc::count(std::string_view scope) {
  std::lock_guard lock(store_.mutex_);
  std::int64_t n = 0;
  for (auto it = store_.dnc_entries_.lower_bound(std::make_pair(std::string(scope), std::string()));
       it != store_.dnc_entries_.end() && it->first.first == scope; ++it)
    ++n;
  return n;
}

}  // namespace

std::unique_ptr<Store> make_memory_store() { return std::make_unique<MemoryStore>(); }

}  // namespace gymdash
