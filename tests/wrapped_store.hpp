// A store wrapping another for tests (tests/erasure_test.cpp,
// tests/import_test.cpp): everything forwarded, with hooks to break or watch
// the lead repository.
#pragma once

#include <gymdash/error.hpp>
#include <gymdash/store.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace gymdash::test {

// The lead repository of a store, forwarding to it, with what tests need
// to watch or break: it fails on demand when an erasure's audit entry is
// written (the last write of an erasure, after every removal), and records
// the size of each insert_many_if_absent call (the import's pieces).
// Ownership: refers to `inner`, which must outlive it. Not thread-safe.
class WrappedLeads final : public LeadRepository {
 public:
  explicit WrappedLeads(LeadRepository& inner) : inner_(inner) {}
  bool fail_audit = false;
  std::vector<std::size_t> insert_many_sizes;

  std::vector<bool> insert_many_if_absent(std::span<const Lead> leads) override {
    insert_many_sizes.push_back(leads.size());
    return inner_.insert_many_if_absent(leads);
  }

  void insert(const Lead& l) override { inner_.insert(l); }
  bool insert_if_absent(const Lead& l) override { return inner_.insert_if_absent(l); }
  std::optional<Lead> find(std::string_view g, std::string_view l) override { return inner_.find(g, l); }
  std::optional<Lead> find_by_phone(std::string_view g, std::string_view p) override {
    return inner_.find_by_phone(g, p);
  }
  std::optional<Lead> find_by_external_id(std::string_view g, std::string_view e) override {
    return inner_.find_by_external_id(g, e);
  }
  void update(const Lead& l) override { inner_.update(l); }
  void update_call_state(const Lead& l) override { inner_.update_call_state(l); }
  bool set_active_call(std::string_view g, std::string_view l, std::string_view e, std::string_view n) override {
    return inner_.set_active_call(g, l, e, n);
  }
  bool remove(std::string_view g, std::string_view l) override { return inner_.remove(g, l); }
  std::optional<ErasedLeadRows> remove_counted(std::string_view g, std::string_view l) override {
    return inner_.remove_counted(g, l);
  }
  std::int64_t append_erasure(const LeadErasure& e) override {
    if (fail_audit) throw StorageError("disk I/O error (injected)");
    return inner_.append_erasure(e);
  }
  std::vector<LeadErasure> erasures(std::string_view g, int limit, int offset) override {
    return inner_.erasures(g, limit, offset);
  }
  LeadPage list(std::string_view g, const LeadFilter& f) override { return inner_.list(g, f); }
  std::int64_t append_history(std::string_view g, const LeadEvent& e) override { return inner_.append_history(g, e); }
  std::vector<LeadEvent> history(std::string_view g, std::string_view l) override { return inner_.history(g, l); }
  std::vector<Lead> dial_candidates(std::string_view g, const DialQuery& q) override {
    return inner_.dial_candidates(g, q);
  }
  std::vector<Lead> dial_candidates_in(std::string_view g, const DialQuery& q,
                                       const std::vector<std::pair<std::string, std::string>>& groups) override {
    return inner_.dial_candidates_in(g, q, groups);
  }
  DueCounts count_due(std::string_view g, Timestamp now, int max_attempts, Timestamp before) override {
    return inner_.count_due(g, now, max_attempts, before);
  }
  std::vector<std::pair<std::string, std::string>> dial_groups(std::string_view g) override {
    return inner_.dial_groups(g);
  }
  std::vector<Lead> find_by_phone_any_gym(std::string_view p) override { return inner_.find_by_phone_any_gym(p); }
  void put_call_result(std::string_view g, std::string_view l, const CallResult& r) override {
    inner_.put_call_result(g, l, r);
  }
  std::vector<CallResult> call_results(std::string_view g, std::string_view l) override {
    return inner_.call_results(g, l);
  }

 private:
  LeadRepository& inner_;
};

// A store that is the inner one except for its lead repository, and for
// its bulk_piece_rows() when `piece_rows` is set and the size of its bulk
// loads when `bulk_rows_scale` is.
// Ownership: owns the inner store. Thread safety: as the inner store's, but
// the wrapped repository's test fields are not synchronized.
class WrappedStore final : public Store {
 public:
  explicit WrappedStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)), leads_(inner_->leads()) {}
  WrappedLeads& wrapped() { return leads_; }
  std::size_t piece_rows = 0;  // 0: the inner store's
  // begin_bulk_load's expected rows are multiplied by this: a small file
  // then takes the path of a large one (indexes dropped and rebuilt).
  std::int64_t bulk_rows_scale = 1;

  std::string_view backend() const override { return inner_->backend(); }
  bool serializes_writers() const override { return inner_->serializes_writers(); }
  int schema_version() const override { return inner_->schema_version(); }
  GymRepository& gyms() override { return inner_->gyms(); }
  LeadRepository& leads() override { return leads_; }
  DncRepository& dnc() override { return inner_->dnc(); }
  CallRepository& calls() override { return inner_->calls(); }
  AnalyticsRepository& analytics() override { return inner_->analytics(); }
  CampaignRepository& campaigns() override { return inner_->campaigns(); }
  void begin_bulk_load(std::int64_t n, BulkLoad what) override { inner_->begin_bulk_load(n * bulk_rows_scale, what); }
  void end_bulk_load() override { inner_->end_bulk_load(); }
  std::size_t bulk_piece_rows() const override { return piece_rows ? piece_rows : inner_->bulk_piece_rows(); }
  void transact(const std::function<void()>& fn) override { inner_->transact(fn); }
  void transact_joined(const std::function<void()>& fn) override { inner_->transact_joined(fn); }

 private:
  std::unique_ptr<Store> inner_;
  WrappedLeads leads_;
};

}  // namespace gymdash::test
