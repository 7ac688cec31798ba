// A mixed workload on one database from many threads, and the reconciliation
// of what it acknowledged with what the database holds afterwards
// (docs/hardening.md, "Load"). Used by bench/load_bench.cpp (the figures) and
// tests/load_test.cpp (a short run, checked on every change).
//
// Each thread draws operations by weight until the time is up:
//   create      LeadService::create_lead, a new number           (write)
//   import      import_leads of a 20-row CSV: 18 new leads, a repeat
//               of one of them (merged) and a bad number (rejected)  (write)
//   note        add_note on one lead every thread shares          (write, contention)
//   get         get_lead of a lead it knows                       (read)
//   list        list_leads, a page of 50                          (read)
//   prioritize  get_prioritized_leads, 50 leads                   (read, the dialer's question)
//   call_event  CallService::process_event: a new call's event,
//               or one already applied sent again (a duplicate)   (write)
//   report      AnalyticsService::dashboard of a gym, 90 days      (read)
// and counts what each acknowledged operation created. An error with a code
// the services document for concurrent use (Conflict, Unavailable,
// RateLimited: the operation wrote nothing and may be retried) is counted by
// code; any other error, or a result other than the one asked for (a new
// number merged, a row not rejected), fails the run. Afterwards the database
// must hold exactly what was acknowledged: leads, calls, call events, notes,
// and the analytics rollups' lead and call counts.
//
// No fmt: the tests link without it.
#pragma once

#include <gymdash/gymdash.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace gymdash::load {

enum Kind : int { kCreate, kImport, kNote, kGet, kList, kPrioritize, kCallEvent, kReport, kKinds };

inline const char* kind_name(int k) {
  static const char* const names[kKinds] = {"create", "import", "note",       "get",
                                            "list",   "prioritize", "call_event", "report"};
  return names[k];
}

/** What to run. */
struct Options {
  std::string storage;          ///< e.g. `sqlite:/tmp/load.db` (a new file)
  double seconds = 2;           ///< how long the threads draw operations
  int threads = 8;
  std::uint64_t seed = 1;
  int gyms = 4;
  int preload_leads = 2000;     ///< leads imported before the threads start, over all gyms
  int min_ops_per_thread = 16;  ///< each thread goes on past the time until it has done this many (the kinds in turn)
  /** Relative weights of the kinds, in Kind order. */
  std::array<int, kKinds> weights{10, 3, 5, 25, 10, 12, 25, 10};
};

/** The figures of one kind. */
struct KindStats {
  std::int64_t ops = 0;     ///< acknowledged
  std::int64_t items = 0;   ///< leads returned (list, prioritize), leads written (create, import), events (call_event)
  std::map<std::string, std::int64_t> errors;  ///< documented errors, by code name
  double p50_us = 0, p99_us = 0, max_us = 0;
};

/** What a run did and whether the database agrees. */
struct Result {
  double seconds = 0;  ///< wall time of the threads
  int threads = 0;
  std::array<KindStats, kKinds> kinds;
  std::int64_t ops = 0;
  std::vector<std::string> failures;  ///< undocumented errors and wrong results (at most 20 kept)
  std::int64_t failures_total = 0;
  // Reconciliation: acknowledged against the database.
  std::int64_t preloaded = 0;
  std::int64_t leads_created = 0, leads_imported = 0, rows_merged = 0, rows_rejected = 0;
  std::int64_t events_applied = 0, events_duplicate = 0, notes = 0;
  std::int64_t db_leads = 0, db_calls = 0, db_events = 0, db_notes = 0;
  std::int64_t rollup_leads = 0, rollup_calls = 0;
  bool reconciled = false;
  std::vector<std::string> mismatches;
  bool ok() const { return failures_total == 0 && reconciled; }
};

namespace detail {

// The fixed moment of the run: Tuesday 12:00 in New York, inside every calling window.
inline Timestamp run_time() { return parse_timestamp("2026-11-24T17:00:00Z"); }

// A valid NANP number, distinct for each k below 7,900,000: exchange 200–999
// without N11 and 555, then the line.
inline std::string phone_of(const char* area, std::int64_t k) {
  int index = static_cast<int>(k / 10000);
  int exchange = 199;
  for (int i = 0; i <= index;) {
    ++exchange;
    if (exchange % 100 != 11 && exchange != 555) ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "+1%s%03d%04d", area, exchange, static_cast<int>(k % 10000));
  return buf;
}

inline std::string gym_id(int g) { return "gym-load-" + std::to_string(g); }

struct Known {
  std::string gym_id, lead_id, phone;
};

struct Thread {
  int index = 0;
  std::mt19937_64 rng;
  std::int64_t next_number = 0;  // this thread's next fresh number
  std::int64_t next_event = 0;
  std::vector<Known> own;        // leads this thread created
  std::vector<CallEvent> applied;  // events applied, for re-sending
  std::array<std::vector<float>, kKinds> latency_us;
  std::array<std::int64_t, kKinds> ops{};
  std::array<std::int64_t, kKinds> items{};
  std::array<std::map<std::string, std::int64_t>, kKinds> errors;
  std::vector<std::string> failures;
  std::int64_t failures_total = 0;
  std::int64_t created = 0, imported = 0, merged = 0, rejected = 0, applied_n = 0, duplicates = 0, notes = 0;
};

inline void fail(Thread& t, const std::string& what) {
  ++t.failures_total;
  if (t.failures.size() < 20) t.failures.push_back("thread " + std::to_string(t.index) + ": " + what);
}

inline double percentile(std::vector<float>& v, double p) {
  if (v.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

}  // namespace detail

/** Runs the workload on a new database and reconciles; never throws for an operation's error (it is counted). */
inline Result run(const Options& o) {
  using namespace detail;
  using Clock = std::chrono::steady_clock;
  Result res;
  res.threads = o.threads;
  RuntimeOptions ro;
  ro.storage = o.storage;
  ro.worker_threads = 1;
  ro.log_level = LogLevel::Error;
  ro.clock = std::make_shared<ManualClock>(run_time());
  auto rt = Runtime::open(ro);

  // Gyms calling every day, all day (the federal hours still apply).
  for (int g = 0; g < o.gyms; ++g) {
    Gym gym;
    gym.id = gym_id(g);
    gym.name = "Load " + std::to_string(g);
    gym.timezone = "America/New_York";
    gym.call_hours = {8 * 60, 21 * 60};
    rt->gyms().create_gym(gym);
  }
  // Preloaded leads (area 646), with consent: the call order has work to do.
  std::vector<Known> preloaded;
  {
    std::ostringstream csv;
    csv << "external_id,gym_id,first_name,phone,source,created_at,consent\n";
    for (int i = 0; i < o.preload_leads; ++i)
      csv << "pre-" << i << "," << gym_id(i % o.gyms) << ",Pre" << i << "," << phone_of("646", i)
          << ",web_form,2026-11-2" << (i % 3) << "T1" << (i % 10) << ":00:00Z,yes\n";
    std::istringstream in(csv.str());
    const auto r = rt->leads().import_leads(in);
    res.preloaded = r.imported;
    for (int g = 0; g < o.gyms; ++g) {
      LeadFilter f;
      f.page_size = 1000;
      for (f.page = 1;; ++f.page) {
        const auto page = rt->leads().list_leads(gym_id(g), f);
        for (const auto& l : page.items) preloaded.push_back({l.gym_id, l.id, l.phone});
        if (page.items.size() < 1000u) break;
      }
    }
  }
  if (preloaded.empty()) throw InvalidArgumentError("preload_leads: at least one lead is needed", "preload_leads");
  const Known hot = preloaded.front();  // every thread writes notes on this lead

  const int total_weight = [&] {
    int s = 0;
    for (int w : o.weights) s += w;
    return s;
  }();
  std::vector<Thread> threads(static_cast<std::size_t>(o.threads));
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> workers;
  for (int ti = 0; ti < o.threads; ++ti) {
    Thread& t = threads[static_cast<std::size_t>(ti)];
    t.index = ti;
    t.rng.seed(o.seed * 1000003u + static_cast<std::uint64_t>(ti));
    t.next_number = static_cast<std::int64_t>(ti) * 900000;  // area 212: 900,000 numbers a thread
    workers.emplace_back([&, ti] {
      Thread& me = threads[static_cast<std::size_t>(ti)];
      auto& leads = rt->leads();
      auto& calls = rt->calls();
      auto& analytics = rt->analytics();
      const auto pick_known = [&]() -> const Known& {
        const auto n = preloaded.size() + me.own.size();
        const auto i = static_cast<std::size_t>(me.rng() % n);
        return i < preloaded.size() ? preloaded[i] : me.own[i - preloaded.size()];
      };
      std::int64_t done = 0;
      while (Clock::now() < deadline || done < o.min_ops_per_thread) {
        int kind;
        if (done < std::max<std::int64_t>(kKinds, o.min_ops_per_thread)) {
          // The kinds in turn (in a rotated order) until the thread has done
          // its minimum: with a minimum of n kinds' worth, every kind n times.
          kind = static_cast<int>((done + ti) % kKinds);
        } else {
          int r = static_cast<int>(me.rng() % static_cast<std::uint64_t>(total_weight));
          kind = 0;
          while (r >= o.weights[static_cast<std::size_t>(kind)]) r -= o.weights[static_cast<std::size_t>(kind++)];
        }
        ++done;
        std::int64_t items = 1;
        const auto t0 = Clock::now();
        try {
          switch (kind) {
            case kCreate: {
              const int g = static_cast<int>(me.rng() % static_cast<std::uint64_t>(o.gyms));
              LeadInput in;
              in.phone = phone_of("212", me.next_number++);
              in.first_name = "Load";
              in.source = "web_form";
              in.consent = Consent{true, run_time(), "web_form", "load"};
              in.created_at = parse_timestamp("2026-11-23T12:00:00Z");
              const auto r = leads.create_lead(gym_id(g), in);
              if (r.merged) fail(me, "create_lead of a new number merged into " + r.lead.id);
              else {
                ++me.created;
                me.own.push_back({r.lead.gym_id, r.lead.id, r.lead.phone});
              }
              break;
            }
            case kImport: {
              const int g = static_cast<int>(me.rng() % static_cast<std::uint64_t>(o.gyms));
              std::ostringstream csv;
              csv << "external_id,gym_id,first_name,phone,source,created_at,consent\n";
              const auto first = me.next_number;
              for (int i = 0; i < 18; ++i)
                csv << "imp-" << ti << "-" << (first + i) << "," << gym_id(g) << ",Imp," << phone_of("212", first + i)
                    << ",facebook_ads,2026-11-23T10:00:00Z,yes\n";
              csv << "imp-" << ti << "-" << first << "-again," << gym_id(g) << ",Imp," << phone_of("212", first)
                  << ",facebook_ads,2026-11-23T10:00:00Z,yes\n";
              csv << "imp-bad," << gym_id(g) << ",Bad,12345,facebook_ads,2026-11-23T10:00:00Z,yes\n";
              me.next_number += 18;
              std::istringstream in(csv.str());
              ImportOptions io;
              io.source = "load";
              const auto r = leads.import_leads(in, io);
              if (r.imported != 18 || r.merged_duplicates != 1 || r.rejected != 1)
                fail(me, "import of 18 new rows, a repeat and a bad row gave imported " + std::to_string(r.imported) +
                             ", merged " + std::to_string(r.merged_duplicates) + ", rejected " +
                             std::to_string(r.rejected));
              items = r.imported + r.merged_duplicates;
              me.imported += r.imported;
              me.merged += r.merged_duplicates;
              me.rejected += r.rejected;
              break;
            }
            case kNote: {
              leads.add_note(hot.gym_id, hot.lead_id, "load note " + std::to_string(ti) + "-" + std::to_string(done));
              ++me.notes;
              break;
            }
            case kGet: {
              const Known& k = pick_known();
              const auto l = leads.get_lead(k.gym_id, k.lead_id);
              if (l.phone != k.phone) fail(me, "get_lead " + k.lead_id + " returned another number");
              break;
            }
            case kList: {
              LeadFilter f;
              f.page = 1 + static_cast<int>(me.rng() % 3);
              f.page_size = 50;
              const int g = static_cast<int>(me.rng() % static_cast<std::uint64_t>(o.gyms));
              const auto page = leads.list_leads(gym_id(g), f);
              items = static_cast<std::int64_t>(page.items.size());
              for (const auto& l : page.items)
                if (l.gym_id != gym_id(g)) fail(me, "list_leads of " + gym_id(g) + " returned a lead of " + l.gym_id);
              break;
            }
            case kPrioritize: {
              const int g = static_cast<int>(me.rng() % static_cast<std::uint64_t>(o.gyms));
              const auto got = leads.get_prioritized_leads(gym_id(g), 50, std::nullopt, {}, run_time());
              items = static_cast<std::int64_t>(got.size());
              for (const auto& l : got)
                if (l.gym_id != gym_id(g) || !l.consent.given) fail(me, "get_prioritized_leads returned " + l.id);
              break;
            }
            case kCallEvent: {
              const bool resend = !me.applied.empty() && me.rng() % 10 == 0;
              if (resend) {
                const auto& e = me.applied[static_cast<std::size_t>(me.rng() % me.applied.size())];
                const auto r = calls.process_event(e);
                if (r.kind != ProcessResult::Kind::Duplicate) fail(me, "event " + e.event_id + " applied twice");
                else ++me.duplicates;
                break;
              }
              const Known& k = pick_known();
              CallEvent e;
              const auto n = me.next_event++;
              e.event_id = "ev-" + std::to_string(ti) + "-" + std::to_string(n);
              e.call_id = "call-" + std::to_string(ti) + "-" + std::to_string(n);
              e.gym_id = k.gym_id;
              e.lead_id = k.lead_id;
              e.to = k.phone;
              // After every lead's creation (2026-11-23T12:00Z at the latest), before the run's moment.
              e.started_at = run_time() - std::chrono::hours{1 + n % 20};
              const bool answered = me.rng() % 3 == 0;
              e.status = answered ? CallStatus::Completed : CallStatus::NoAnswer;
              e.ended_at = *e.started_at + std::chrono::seconds{answered ? 95 : 25};
              if (answered) {
                e.answered_by = AnsweredBy::Human;
                e.duration_s = 95;
                e.outcome = me.rng() % 2 ? CallOutcome::Interested : CallOutcome::NotInterested;
              }
              e.cost_usd = 0.05;
              const auto r = calls.process_event(e);
              if (r.kind != ProcessResult::Kind::Applied) fail(me, "new event " + e.event_id + " not applied");
              else {
                ++me.applied_n;
                me.applied.push_back(std::move(e));
              }
              break;
            }
            case kReport: {
              AnalyticsQuery q;
              q.gym_id = gym_id(static_cast<int>(me.rng() % static_cast<std::uint64_t>(o.gyms)));
              q.from = "2026-08-27";
              q.to = "2026-11-24";
              (void)analytics.dashboard(q);
              break;
            }
          }
          me.ops[static_cast<std::size_t>(kind)]++;
          me.items[static_cast<std::size_t>(kind)] += items;
          me.latency_us[static_cast<std::size_t>(kind)].push_back(static_cast<float>(
              std::chrono::duration<double, std::micro>(Clock::now() - t0).count()));
        } catch (const Error& e) {
          const auto code = e.code();
          if (code == ErrorCode::Conflict || code == ErrorCode::Unavailable || code == ErrorCode::RateLimited)
            me.errors[static_cast<std::size_t>(kind)][error_code_name(code)]++;
          else
            fail(me, std::string(kind_name(kind)) + ": " + error_code_name(code) + ": " + e.what());
        } catch (const std::exception& e) {
          fail(me, std::string(kind_name(kind)) + ": " + e.what());
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  res.seconds = std::chrono::duration<double>(Clock::now() - started).count();

  for (auto& t : threads) {
    for (int k = 0; k < kKinds; ++k) {
      res.kinds[static_cast<std::size_t>(k)].ops += t.ops[static_cast<std::size_t>(k)];
      res.kinds[static_cast<std::size_t>(k)].items += t.items[static_cast<std::size_t>(k)];
      for (const auto& [code, n] : t.errors[static_cast<std::size_t>(k)])
        res.kinds[static_cast<std::size_t>(k)].errors[code] += n;
    }
    res.failures_total += t.failures_total;
    for (auto& f : t.failures)
      if (res.failures.size() < 20) res.failures.push_back(f);
    res.leads_created += t.created;
    res.leads_imported += t.imported;
    res.rows_merged += t.merged;
    res.rows_rejected += t.rejected;
    res.events_applied += t.applied_n;
    res.events_duplicate += t.duplicates;
    res.notes += t.notes;
  }
  for (int k = 0; k < kKinds; ++k) {
    std::vector<float> all;
    for (auto& t : threads) {
      auto& v = t.latency_us[static_cast<std::size_t>(k)];
      all.insert(all.end(), v.begin(), v.end());
    }
    auto& ks = res.kinds[static_cast<std::size_t>(k)];
    ks.p50_us = percentile(all, 0.50);
    ks.p99_us = percentile(all, 0.99);
    ks.max_us = all.empty() ? 0 : *std::max_element(all.begin(), all.end());
    res.ops += ks.ops;
  }

  // Reconciliation, through the public services.
  AnalyticsQuery every;
  every.from = "2026-01-01";
  every.to = "2026-12-31";
  const auto dash = rt->analytics().dashboard(every);
  res.rollup_leads = dash.leads;
  res.rollup_calls = dash.calls.calls;
  for (int g = 0; g < o.gyms; ++g) {
    LeadFilter f;
    f.page_size = 1;
    res.db_leads += rt->leads().list_leads(gym_id(g), f).total;
    CallFilter cf;
    cf.page_size = 1;
    res.db_calls += rt->calls().list_calls(gym_id(g), cf).total;
  }
  for (const auto& e : rt->leads().get_history(hot.gym_id, hot.lead_id))
    if (e.kind == "note") ++res.db_notes;
  // Every event applied, and every one sent again, is known as applied: sending them all once more is all duplicates.
  for (auto& t : threads)
    for (const auto& e : t.applied)
      if (rt->calls().process_event(e).kind == ProcessResult::Kind::Duplicate) ++res.db_events;

  const auto expect = [&](const char* what, std::int64_t got, std::int64_t want) {
    if (got != want)
      res.mismatches.push_back(std::string(what) + ": database " + std::to_string(got) + ", acknowledged " +
                               std::to_string(want));
  };
  const auto leads_acked = res.preloaded + res.leads_created + res.leads_imported;
  expect("leads", res.db_leads, leads_acked);
  expect("rollup leads", res.rollup_leads, leads_acked);
  expect("calls", res.db_calls, res.events_applied);
  expect("rollup calls", res.rollup_calls, res.events_applied);
  expect("call events", res.db_events, res.events_applied);
  expect("notes", res.db_notes, res.notes);
  res.reconciled = res.mismatches.empty();
  return res;
}

/** The result as one JSON object (the benchmark's output). */
inline std::string to_json(const Result& r) {
  std::ostringstream out;
  char num[64];
  const auto fixed = [&](double v, int decimals) {
    std::snprintf(num, sizeof num, "%.*f", decimals, v);
    return std::string(num);
  };
  out << "{\"seconds\":" << fixed(r.seconds, 3) << ",\"threads\":" << r.threads << ",\"ops\":" << r.ops
      << ",\"ops_per_s\":" << fixed(static_cast<double>(r.ops) / r.seconds, 1) << ",\"kinds\":{";
  for (int k = 0; k < kKinds; ++k) {
    const auto& ks = r.kinds[static_cast<std::size_t>(k)];
    out << (k ? "," : "") << "\"" << kind_name(k) << "\":{\"ops\":" << ks.ops << ",\"items\":" << ks.items
        << ",\"ops_per_s\":" << fixed(static_cast<double>(ks.ops) / r.seconds, 1) << ",\"p50_us\":" << fixed(ks.p50_us, 0)
        << ",\"p99_us\":" << fixed(ks.p99_us, 0) << ",\"max_us\":" << fixed(ks.max_us, 0) << ",\"errors\":{";
    bool first = true;
    for (const auto& [code, n] : ks.errors) {
      out << (first ? "" : ",") << "\"" << code << "\":" << n;
      first = false;
    }
    out << "}}";
  }
  out << "},\"failures\":" << r.failures_total << ",\"failure_examples\":[";
  for (std::size_t i = 0; i < r.failures.size(); ++i) {
    std::string s;
    for (char c : r.failures[i]) {
      if (c == '"' || c == '\\') s += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) s += c;
    }
    out << (i ? "," : "") << "\"" << s << "\"";
  }
  out << "],\"reconciliation\":{\"ok\":" << (r.reconciled ? "true" : "false") << ",\"preloaded_leads\":" << r.preloaded
      << ",\"leads_created\":" << r.leads_created << ",\"leads_imported\":" << r.leads_imported
      << ",\"rows_merged\":" << r.rows_merged << ",\"rows_rejected\":" << r.rows_rejected
      << ",\"events_applied\":" << r.events_applied << ",\"events_duplicate\":" << r.events_duplicate
      << ",\"notes\":" << r.notes << ",\"db_leads\":" << r.db_leads << ",\"rollup_leads\":" << r.rollup_leads
      << ",\"db_calls\":" << r.db_calls << ",\"rollup_calls\":" << r.rollup_calls << ",\"db_call_events\":" << r.db_events
      << ",\"db_notes\":" << r.db_notes << ",\"mismatches\":[";
  for (std::size_t i = 0; i < r.mismatches.size(); ++i) out << (i ? "," : "") << "\"" << r.mismatches[i] << "\"";
  out << "]}}";
  return out.str();
}

}  // namespace gymdash::load
