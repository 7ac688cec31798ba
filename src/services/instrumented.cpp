#include "services/instrumented.hpp"

#include <chrono>

namespace gymdash {

namespace {

using Clock = std::chrono::steady_clock;

// What one operation is about, for its log record.
struct Scope {
  std::string_view gym_id;
  std::string_view lead_id;
};

// One instrumented operation: its counters are resolved once, at construction.
class Op {
 public:
  Op(Metrics* metrics, std::string name, LogLevel success_level)
      : name_(std::move(name)), metrics_(metrics ? &metrics->operation(name_) : nullptr), level_(success_level) {}

  template <class Fn>
  auto run(Logger& log, Scope scope, Fn&& fn) -> decltype(fn()) {
    const auto start = Clock::now();
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        finish(log, scope, start, ErrorCode::Ok, "ok");
      } else {
        auto result = fn();
        finish(log, scope, start, ErrorCode::Ok, "ok");
        return result;
      }
    } catch (const Error& e) {
      finish(log, scope, start, e.code(), e.what());
      throw;
    } catch (const std::exception& e) {
      finish(log, scope, start, ErrorCode::Internal, e.what());
      throw;
    } catch (...) {
      finish(log, scope, start, ErrorCode::Internal, "unknown exception");
      throw;
    }
  }

 private:
  void finish(Logger& log, Scope scope, Clock::time_point start, ErrorCode code, std::string_view message) {
    const auto elapsed = Clock::now() - start;
    if (metrics_) metrics_->record(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed), code);
    // Caller mistakes (bad input, unknown ids) are routine; storage and internal failures are not.
    LogLevel level = level_;
    if (code != ErrorCode::Ok)
      level = (code == ErrorCode::StorageError || code == ErrorCode::Internal || code == ErrorCode::Unavailable)
                  ? LogLevel::Error
                  : LogLevel::Info;
    if (!log.enabled(level)) return;
    LogRecord r;
    r.level = level;
    r.operation = name_;
    r.gym_id = std::string(scope.gym_id.substr(0, 64));
    r.lead_id = std::string(scope.lead_id.substr(0, 64));
    r.code = code;
    r.message = std::string(message);
    r.duration_ms = std::chrono::duration<double, std::milli>(elapsed).count();
    log.log(std::move(r));
  }

  std::string name_;
  OperationMetrics* metrics_;
  LogLevel level_;
};

class InstrumentedGymService final : public GymService {
 public:
  InstrumentedGymService(std::unique_ptr<GymService> inner, std::shared_ptr<Logger> logger,
                         std::shared_ptr<Metrics> metrics)
      : inner_(std::move(inner)),
        log_(std::move(logger)),
        metrics_(std::move(metrics)),
        create_(metrics_.get(), "gym.create", LogLevel::Info),
        get_(metrics_.get(), "gym.get", LogLevel::Debug),
        list_(metrics_.get(), "gym.list", LogLevel::Debug),
        update_(metrics_.get(), "gym.update", LogLevel::Info),
        import_(metrics_.get(), "gyms.import", LogLevel::Info) {}

  Gym create_gym(const Gym& gym) override {
    return create_.run(*log_, {gym.id, {}}, [&] { return inner_->create_gym(gym); });
  }
  Gym get_gym(std::string_view id) override {
    return get_.run(*log_, {id, {}}, [&] { return inner_->get_gym(id); });
  }
  std::vector<Gym> list_gyms() override {
    return list_.run(*log_, {}, [&] { return inner_->list_gyms(); });
  }
  Gym update_gym(const Gym& gym) override {
    return update_.run(*log_, {gym.id, {}}, [&] { return inner_->update_gym(gym); });
  }
  GymImportReport import_gyms(std::istream& csv) override {
    return import_.run(*log_, {}, [&] { return inner_->import_gyms(csv); });
  }

 private:
  std::unique_ptr<GymService> inner_;
  std::shared_ptr<Logger> log_;
  std::shared_ptr<Metrics> metrics_;
  Op create_, get_, list_, update_, import_;
};

class InstrumentedLeadService final : public LeadService {
 public:
  InstrumentedLeadService(std::unique_ptr<LeadService> inner, std::shared_ptr<Logger> logger,
                          std::shared_ptr<Metrics> metrics)
      : inner_(std::move(inner)),
        log_(std::move(logger)),
        metrics_(std::move(metrics)),
        create_(metrics_.get(), "lead.create", LogLevel::Debug),
        get_(metrics_.get(), "lead.get", LogLevel::Debug),
        update_(metrics_.get(), "lead.update", LogLevel::Debug),
        delete_(metrics_.get(), "lead.delete", LogLevel::Info),
        erase_(metrics_.get(), "lead.erase", LogLevel::Info),
        erasures_(metrics_.get(), "lead.erasures", LogLevel::Debug),
        list_(metrics_.get(), "lead.list", LogLevel::Debug),
        add_tags_(metrics_.get(), "lead.add_tags", LogLevel::Debug),
        remove_tags_(metrics_.get(), "lead.remove_tags", LogLevel::Debug),
        add_note_(metrics_.get(), "lead.add_note", LogLevel::Debug),
        status_(metrics_.get(), "lead.change_status", LogLevel::Debug),
        history_(metrics_.get(), "lead.history", LogLevel::Debug),
        prioritize_(metrics_.get(), "lead.prioritize", LogLevel::Debug),
        import_(metrics_.get(), "leads.import", LogLevel::Debug),
        explain_(metrics_.get(), "lead.explain", LogLevel::Debug),
        due_jobs_(metrics_.get(), "lead.due_jobs", LogLevel::Debug),
        after_call_(metrics_.get(), "lead.after_call", LogLevel::Debug),
        after_calls_(metrics_.get(), "lead.after_calls", LogLevel::Debug),
        dnc_add_(metrics_.get(), "dnc.add", LogLevel::Info),
        dnc_remove_(metrics_.get(), "dnc.remove", LogLevel::Info),
        dnc_check_(metrics_.get(), "dnc.check", LogLevel::Debug),
        dnc_list_(metrics_.get(), "dnc.list", LogLevel::Debug),
        dnc_import_(metrics_.get(), "dnc.import", LogLevel::Info) {}

  CreateLeadResult create_lead(std::string_view gym_id, const LeadInput& input) override {
    return create_.run(*log_, {gym_id, {}}, [&] { return inner_->create_lead(gym_id, input); });
  }
  Lead get_lead(std::string_view gym_id, std::string_view lead_id) override {
    return get_.run(*log_, {gym_id, lead_id}, [&] { return inner_->get_lead(gym_id, lead_id); });
  }
  Lead update_lead(std::string_view gym_id, std::string_view lead_id, const LeadPatch& patch) override {
    return update_.run(*log_, {gym_id, lead_id}, [&] { return inner_->update_lead(gym_id, lead_id, patch); });
  }
  void delete_lead(std::string_view gym_id, std::string_view lead_id) override {
    delete_.run(*log_, {gym_id, lead_id}, [&] { inner_->delete_lead(gym_id, lead_id); });
  }
  LeadErasure erase_lead(std::string_view gym_id, std::string_view lead_id, std::string_view actor,
                         std::string_view reason) override {
    return erase_.run(*log_, {gym_id, lead_id}, [&] { return inner_->erase_lead(gym_id, lead_id, actor, reason); });
  }
  std::vector<LeadErasure> list_erasures(std::string_view gym_id, int limit, int offset) override {
    return erasures_.run(*log_, {gym_id, {}}, [&] { return inner_->list_erasures(gym_id, limit, offset); });
  }
  LeadPage list_leads(std::string_view gym_id, const LeadFilter& filter) override {
    return list_.run(*log_, {gym_id, {}}, [&] { return inner_->list_leads(gym_id, filter); });
  }
  Lead add_tags(std::string_view gym_id, std::string_view lead_id, const std::vector<std::string>& tags,
                std::string_view actor) override {
    return add_tags_.run(*log_, {gym_id, lead_id}, [&] { return inner_->add_tags(gym_id, lead_id, tags, actor); });
  }
  Lead remove_tags(std::string_view gym_id, std::string_view lead_id, const std::vector<std::string>& tags,
                   std::string_view actor) override {
    return remove_tags_.run(*log_, {gym_id, lead_id},
                            [&] { return inner_->remove_tags(gym_id, lead_id, tags, actor); });
  }
  LeadEvent add_note(std::string_view gym_id, std::string_view lead_id, std::string_view text,
                     std::string_view actor) override {
    return add_note_.run(*log_, {gym_id, lead_id}, [&] { return inner_->add_note(gym_id, lead_id, text, actor); });
  }
  Lead change_status(std::string_view gym_id, std::string_view lead_id, const StatusChange& change) override {
    return status_.run(*log_, {gym_id, lead_id}, [&] { return inner_->change_status(gym_id, lead_id, change); });
  }
  std::vector<LeadEvent> get_history(std::string_view gym_id, std::string_view lead_id) override {
    return history_.run(*log_, {gym_id, lead_id}, [&] { return inner_->get_history(gym_id, lead_id); });
  }
  ImportReport import_leads(std::istream& csv, const ImportOptions& options) override {
    // One record at the start, one every few seconds, one at the end: never one per row.
    ImportOptions wrapped = options;
    auto last = std::chrono::steady_clock::now();
    const auto start = last;
    log_->log(LogRecord{{}, LogLevel::Info, "leads.import", {}, {}, {}, ErrorCode::Ok,
                        "import started", -1, {{"source", options.source}}});
    wrapped.progress = [&, user = options.progress](const ImportProgress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last >= std::chrono::seconds{5}) {
        last = now;
        log_->log(LogRecord{{}, LogLevel::Info, "leads.import", {}, {}, {}, ErrorCode::Ok, "import progress",
                            std::chrono::duration<double, std::milli>(now - start).count(),
                            {{"rows", std::to_string(p.rows)},
                             {"imported", std::to_string(p.imported)},
                             {"merged_duplicates", std::to_string(p.merged_duplicates)},
                             {"rejected", std::to_string(p.rejected)}}});
      }
      if (user) user(p);
    };
    return import_.run(*log_, {}, [&] {
      auto report = inner_->import_leads(csv, wrapped);
      log_->log(LogRecord{{}, LogLevel::Info, "leads.import", {}, {}, {}, ErrorCode::Ok, "import finished",
                          report.seconds * 1000,
                          {{"rows", std::to_string(report.rows)},
                           {"imported", std::to_string(report.imported)},
                           {"merged_duplicates", std::to_string(report.merged_duplicates)},
                           {"rejected", std::to_string(report.rejected)}}});
      return report;
    });
  }
  std::vector<Lead> get_prioritized_leads(std::string_view gym_id, int count, std::optional<Qualification> q,
                                          const std::vector<std::string>& exclude,
                                          std::optional<Timestamp> at) override {
    return prioritize_.run(*log_, {gym_id, {}},
                           [&] { return inner_->get_prioritized_leads(gym_id, count, q, exclude, at); });
  }
  std::vector<Lead> get_prioritized_leads(std::string_view gym_id, int count, const DialScope& scope,
                                          const std::vector<std::string>& exclude,
                                          std::optional<Timestamp> at) override {
    return prioritize_.run(*log_, {gym_id, {}},
                           [&] { return inner_->get_prioritized_leads(gym_id, count, scope, exclude, at); });
  }
  DueCounts due_jobs(std::string_view gym_id, std::optional<Timestamp> at) override {
    return due_jobs_.run(*log_, {gym_id, {}}, [&] { return inner_->due_jobs(gym_id, at); });
  }
  DialDecision explain(std::string_view gym_id, std::string_view lead_id, std::optional<Timestamp> at) override {
    return explain_.run(*log_, {gym_id, lead_id}, [&] { return inner_->explain(gym_id, lead_id, at); });
  }
  DialDecision explain(std::string_view gym_id, std::string_view lead_id, const DialScope& scope,
                       std::optional<Timestamp> at) override {
    return explain_.run(*log_, {gym_id, lead_id}, [&] { return inner_->explain(gym_id, lead_id, scope, at); });
  }
  Lead update_lead_after_call(std::string_view gym_id, std::string_view lead_id, const CallResult& result) override {
    return after_call_.run(*log_, {gym_id, lead_id},
                           [&] { return inner_->update_lead_after_call(gym_id, lead_id, result); });
  }
  std::vector<Lead> update_leads_after_calls(std::string_view gym_id,
                                             const std::vector<LeadCallResults>& batch) override {
    return after_calls_.run(*log_, {gym_id, {}}, [&] { return inner_->update_leads_after_calls(gym_id, batch); });
  }
  DncEntry add_to_dnc(std::string_view scope, std::string_view phone, std::string_view reason,
                      std::string_view source) override {
    return dnc_add_.run(*log_, {scope == "*" ? std::string_view{} : scope, {}},
                        [&] { return inner_->add_to_dnc(scope, phone, reason, source); });
  }
  bool remove_from_dnc(std::string_view scope, std::string_view phone, std::string_view actor,
                       std::string_view reason) override {
    return dnc_remove_.run(*log_, {scope == "*" ? std::string_view{} : scope, {}},
                           [&] { return inner_->remove_from_dnc(scope, phone, actor, reason); });
  }
  DncCheck check_dnc(std::string_view gym_id, std::string_view phone) override {
    return dnc_check_.run(*log_, {gym_id, {}}, [&] { return inner_->check_dnc(gym_id, phone); });
  }
  DncImportReport import_dnc(std::string_view scope, std::istream& file, std::string_view source) override {
    return dnc_import_.run(*log_, {scope == "*" ? std::string_view{} : scope, {}},
                           [&] { return inner_->import_dnc(scope, file, source); });
  }
  std::vector<DncEntry> list_dnc(std::string_view scope, int limit, int offset) override {
    return dnc_list_.run(*log_, {scope, {}}, [&] { return inner_->list_dnc(scope, limit, offset); });
  }

 private:
  std::unique_ptr<LeadService> inner_;
  std::shared_ptr<Logger> log_;
  std::shared_ptr<Metrics> metrics_;
  Op create_, get_, update_, delete_, erase_, erasures_, list_, add_tags_, remove_tags_, add_note_, status_, history_;
  Op prioritize_, import_, explain_, due_jobs_, after_call_, after_calls_, dnc_add_, dnc_remove_, dnc_check_, dnc_list_, dnc_import_;
};

class InstrumentedCallService final : public CallService {
 public:
  InstrumentedCallService(std::unique_ptr<CallService> inner, std::shared_ptr<Logger> logger,
                          std::shared_ptr<Metrics> metrics)
      : inner_(std::move(inner)),
        log_(std::move(logger)),
        metrics_(std::move(metrics)),
        event_(metrics_.get(), "call.event", LogLevel::Debug),
        ingest_(metrics_.get(), "calls.ingest", LogLevel::Debug),
        get_(metrics_.get(), "call.get", LogLevel::Debug),
        list_(metrics_.get(), "calls.list", LogLevel::Debug),
        lead_calls_(metrics_.get(), "lead.calls", LogLevel::Debug),
        purge_expired_(metrics_.get(), "calls.purge_expired", LogLevel::Info),
        purge_lead_(metrics_.get(), "lead.purge_recordings", LogLevel::Info),
        begin_(metrics_.get(), "call.begin_outbound", LogLevel::Debug),
        attach_(metrics_.get(), "call.attach_provider_id", LogLevel::Debug),
        abandon_(metrics_.get(), "call.abandon", LogLevel::Info),
        abandon_stale_(metrics_.get(), "calls.abandon_stale", LogLevel::Info) {}

  Call begin_outbound_call(const OutboundCall& call) override {
    return begin_.run(*log_, {call.gym_id, call.lead_id}, [&] { return inner_->begin_outbound_call(call); });
  }
  Call attach_provider_call_id(std::string_view gym_id, std::string_view call_id,
                               std::string_view provider_call_id) override {
    return attach_.run(*log_, {gym_id, {}},
                       [&] { return inner_->attach_provider_call_id(gym_id, call_id, provider_call_id); });
  }
  Call abandon_call(std::string_view gym_id, std::string_view call_id, std::string_view end_reason) override {
    return abandon_.run(*log_, {gym_id, {}}, [&] { return inner_->abandon_call(gym_id, call_id, end_reason); });
  }
  std::int64_t abandon_stale_calls(Timestamp started_before, std::string_view end_reason) override {
    return abandon_stale_.run(*log_, {}, [&] { return inner_->abandon_stale_calls(started_before, end_reason); });
  }

  ProcessResult process_event(const CallEvent& event) override {
    return event_.run(*log_, {event.gym_id, event.lead_id}, [&] { return inner_->process_event(event); });
  }
  IngestReport ingest_jsonl(std::istream& in, const IngestOptions& options) override {
    // One record when it ends, with the counts; never one per event.
    IngestReport report;
    ingest_.run(*log_, {}, [&] { report = inner_->ingest_jsonl(in, options); });
    log_->log(LogRecord{{}, LogLevel::Info, "calls.ingest", {}, {}, {}, ErrorCode::Ok, "ingest finished",
                        report.seconds * 1000,
                        {{"events", std::to_string(report.events)},
                         {"duplicates", std::to_string(report.duplicates)},
                         {"applied", std::to_string(report.applied)},
                         {"rejected", std::to_string(report.rejected)}}});
    return report;
  }
  Call get_call(std::string_view gym_id, std::string_view call_id) override {
    return get_.run(*log_, {gym_id, {}}, [&] { return inner_->get_call(gym_id, call_id); });
  }
  CallPage list_calls(std::string_view gym_id, const CallFilter& filter) override {
    return list_.run(*log_, {gym_id, {}}, [&] { return inner_->list_calls(gym_id, filter); });
  }
  std::vector<Call> lead_calls(std::string_view gym_id, std::string_view lead_id) override {
    return lead_calls_.run(*log_, {gym_id, lead_id}, [&] { return inner_->lead_calls(gym_id, lead_id); });
  }
  PurgeReport purge_expired_recordings(std::optional<Timestamp> now) override {
    return purge_expired_.run(*log_, {}, [&] { return inner_->purge_expired_recordings(now); });
  }
  PurgeReport purge_lead_recordings(std::string_view gym_id, std::string_view lead_id, std::string_view actor,
                                    std::string_view reason) override {
    return purge_lead_.run(*log_, {gym_id, lead_id},
                           [&] { return inner_->purge_lead_recordings(gym_id, lead_id, actor, reason); });
  }

 private:
  std::unique_ptr<CallService> inner_;
  std::shared_ptr<Logger> log_;
  std::shared_ptr<Metrics> metrics_;
  Op event_, ingest_, get_, list_, lead_calls_, purge_expired_, purge_lead_, begin_, attach_, abandon_, abandon_stale_;
};

class InstrumentedAnalyticsService final : public AnalyticsService {
 public:
  InstrumentedAnalyticsService(std::unique_ptr<AnalyticsService> inner, std::shared_ptr<Logger> logger,
                               std::shared_ptr<Metrics> metrics)
      : inner_(std::move(inner)),
        log_(std::move(logger)),
        metrics_(std::move(metrics)),
        dashboard_(metrics_.get(), "analytics.dashboard", LogLevel::Debug),
        rebuild_(metrics_.get(), "analytics.rebuild", LogLevel::Info) {}

  Dashboard dashboard(const AnalyticsQuery& query) override {
    return dashboard_.run(*log_, {query.gym_id, {}}, [&] { return inner_->dashboard(query); });
  }
  RebuildReport rebuild(std::string_view gym_id) override {
    return rebuild_.run(*log_, {gym_id, {}}, [&] { return inner_->rebuild(gym_id); });
  }

 private:
  std::unique_ptr<AnalyticsService> inner_;
  std::shared_ptr<Logger> log_;
  std::shared_ptr<Metrics> metrics_;
  Op dashboard_, rebuild_;
};

class InstrumentedCampaignService final : public CampaignService {
 public:
  InstrumentedCampaignService(std::unique_ptr<CampaignService> inner, std::shared_ptr<Logger> logger,
                              std::shared_ptr<Metrics> metrics)
      : inner_(std::move(inner)),
        log_(std::move(logger)),
        metrics_(std::move(metrics)),
        create_(metrics_.get(), "campaign.create", LogLevel::Info),
        get_(metrics_.get(), "campaign.get", LogLevel::Debug),
        list_(metrics_.get(), "campaigns.list", LogLevel::Debug),
        update_(metrics_.get(), "campaign.update", LogLevel::Info),
        delete_(metrics_.get(), "campaign.delete", LogLevel::Info),
        state_(metrics_.get(), "campaign.set_state", LogLevel::Info),
        enrol_filter_(metrics_.get(), "campaign.enrol_by_filter", LogLevel::Info),
        enrol_ids_(metrics_.get(), "campaign.enrol_leads", LogLevel::Info),
        remove_(metrics_.get(), "campaign.remove_leads", LogLevel::Info),
        enrolment_(metrics_.get(), "campaign.enrolment", LogLevel::Debug),
        performance_(metrics_.get(), "campaign.performance", LogLevel::Debug) {}

  Campaign create_campaign(std::string_view gym_id, const CampaignInput& input) override {
    return create_.run(*log_, {gym_id, {}}, [&] { return inner_->create_campaign(gym_id, input); });
  }
  Campaign get_campaign(std::string_view gym_id, std::string_view id) override {
    return get_.run(*log_, {gym_id, {}}, [&] { return inner_->get_campaign(gym_id, id); });
  }
  CampaignPage list_campaigns(std::string_view gym_id, const CampaignFilter& filter) override {
    return list_.run(*log_, {gym_id, {}}, [&] { return inner_->list_campaigns(gym_id, filter); });
  }
  Campaign update_campaign(std::string_view gym_id, std::string_view id, const CampaignPatch& patch) override {
    return update_.run(*log_, {gym_id, {}}, [&] { return inner_->update_campaign(gym_id, id, patch); });
  }
  void delete_campaign(std::string_view gym_id, std::string_view id) override {
    delete_.run(*log_, {gym_id, {}}, [&] { inner_->delete_campaign(gym_id, id); });
  }
  Campaign set_state(std::string_view gym_id, std::string_view id, CampaignState to) override {
    return state_.run(*log_, {gym_id, {}}, [&] { return inner_->set_state(gym_id, id, to); });
  }
  EnrolReport enrol_by_filter(std::string_view gym_id, std::string_view id,
                              const std::optional<CampaignTarget>& filter) override {
    return enrol_filter_.run(*log_, {gym_id, {}}, [&] { return inner_->enrol_by_filter(gym_id, id, filter); });
  }
  EnrolReport enrol_leads(std::string_view gym_id, std::string_view id, const std::vector<std::string>& ids) override {
    return enrol_ids_.run(*log_, {gym_id, {}}, [&] { return inner_->enrol_leads(gym_id, id, ids); });
  }
  std::int64_t remove_leads(std::string_view gym_id, std::string_view id, const std::vector<std::string>& ids) override {
    return remove_.run(*log_, {gym_id, {}}, [&] { return inner_->remove_leads(gym_id, id, ids); });
  }
  std::optional<CampaignLead> enrolment(std::string_view gym_id, std::string_view id, std::string_view lead_id) override {
    return enrolment_.run(*log_, {gym_id, lead_id}, [&] { return inner_->enrolment(gym_id, id, lead_id); });
  }
  CampaignPerformance performance(std::string_view gym_id, std::string_view id) override {
    return performance_.run(*log_, {gym_id, {}}, [&] { return inner_->performance(gym_id, id); });
  }

 private:
  std::unique_ptr<CampaignService> inner_;
  std::shared_ptr<Logger> log_;
  std::shared_ptr<Metrics> metrics_;
  Op create_, get_, list_, update_, delete_, state_, enrol_filter_, enrol_ids_, remove_, enrolment_, performance_;
};

}  // namespace

std::unique_ptr<GymService> instrument(std::unique_ptr<GymService> inner, std::shared_ptr<Logger> logger,
                                       std::shared_ptr<Metrics> metrics) {
  return std::make_unique<InstrumentedGymService>(std::move(inner), std::move(logger), std::move(metrics));
}

std::unique_ptr<LeadService> instrument(std::unique_ptr<LeadService> inner, std::shared_ptr<Logger> logger,
                                        std::shared_ptr<Metrics> metrics) {
  return std::make_unique<InstrumentedLeadService>(std::move(inner), std::move(logger), std::move(metrics));
}

std::unique_ptr<CallService> instrument(std::unique_ptr<CallService> inner, std::shared_ptr<Logger> logger,
                                        std::shared_ptr<Metrics> metrics) {
  return std::make_unique<InstrumentedCallService>(std::move(inner), std::move(logger), std::move(metrics));
}

std::unique_ptr<AnalyticsService> instrument(std::unique_ptr<AnalyticsService> inner, std::shared_ptr<Logger> logger,
                                             std::shared_ptr<Metrics> metrics) {
  return std::make_unique<InstrumentedAnalyticsService>(std::move(inner), std::move(logger), std::move(metrics));
}

std::unique_ptr<CampaignService> instrument(std::unique_ptr<CampaignService> inner, std::shared_ptr<Logger> logger,
                                            std::shared_ptr<Metrics> metrics) {
  return std::make_unique<InstrumentedCampaignService>(std::move(inner), std::move(logger), std::move(metrics));
}

}  // namespace gymdash
