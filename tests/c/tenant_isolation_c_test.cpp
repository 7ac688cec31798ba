// tenant_isolation_c_test.cpp — tenant isolation through the C ABI
// (docs/hardening.md, "Tenant isolation").
//
// Uses gymdash.h alone and links only libgymdash_c, as a host does. Sets up
// gyms A and B (B's leads share numbers and external ids with A's; B has
// calls with recordings, campaigns with enrolments, its own do-not-call list
// and an erased lead), then drives random C calls with gym A as the gym
// argument — among them calls that pass B's lead, call and campaign ids,
// numbers, external ids and event ids — and checks that
//   - a call naming one of B's ids under A fails with GYMDASH_E_NOT_FOUND,
//     `*out` NULL, and the last error agrees;
//   - every JSON returned for A names gym A only (every "gym_id" and "scope")
//     and holds none of B's ids or texts (each of B's texts carries a marker);
//   - a snapshot of B read through the C getters and lists (gym, leads,
//     history, calls, explain, campaigns and performance, do-not-call list
//     and checks, erasures, who to call next, dashboards as JSON and CSV) is
//     byte-identical every 25 operations and at the end.
// Memory and SQLite. The seed is printed; GYMDASH_PROPERTY_SEED replays one.
// Exits non-zero if a check failed.
#include <gymdash.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

int g_checks = 0;
int g_failures = 0;
std::string g_context;  // the backend and operation, printed with a failure

void fail(int line, const std::string& what) {
  ++g_failures;
  std::fprintf(stderr, "tenant_isolation_c_test.cpp:%d: FAILED [%s]: %s\n", line, g_context.c_str(), what.c_str());
  if (gymdash_last_error_code() != 0)
    std::fprintf(stderr, "    last error %d (%s): %s\n", gymdash_last_error_code(),
                 gymdash_error_name(gymdash_last_error_code()), gymdash_last_error_message());
}

#define CHECK(cond)                          \
  do {                                       \
    ++g_checks;                              \
    if (!(cond)) fail(__LINE__, #cond);      \
  } while (0)

constexpr const char* kA = "gym-a";
constexpr const char* kB = "gym-b";
constexpr const char* kMarker = "bsecret";
constexpr int kOperations = 300;
constexpr int kSnapshotEvery = 25;
constexpr int kPhones = 12;

std::string iso(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
std::string day(std::time_t t) { return iso(t).substr(0, 10); }

std::string pool_phone(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+1212736%04d", 4000 + i);
  return buf;
}

// The result of one C call: its code and its output (empty when NULL).
struct Result {
  int rc = 0;
  bool out_null = true;
  std::string text;
};

Result call(const std::function<int(char**)>& fn) {
  char* out = reinterpret_cast<char*>(1);  // a failure must reset it to NULL
  Result r;
  r.rc = fn(&out);
  r.out_null = out == nullptr;
  if (out && r.rc == GYMDASH_OK) r.text = out;
  if (r.rc == GYMDASH_OK) gymdash_string_free(out);
  return r;
}

// The values of every "key":"value" string member in a JSON text.
std::vector<std::string> values_of(const std::string& json, const std::string& key) {
  std::vector<std::string> out;
  const std::string needle = "\"" + key + "\":\"";
  for (auto p = json.find(needle); p != std::string::npos; p = json.find(needle, p + 1)) {
    const auto start = p + needle.size();
    const auto end = json.find('"', start);
    if (end == std::string::npos) break;
    out.push_back(json.substr(start, end - start));
  }
  return out;
}

struct World {
  gymdash_t* db = nullptr;
  std::mt19937_64 rng;
  std::time_t now = std::time(nullptr);
  std::string at;  // a fixed time for explain and who-to-call
  std::string from_day, to_day;
  std::vector<std::string> b_leads, b_calls, b_campaigns, b_events, b_ext_only, a_campaigns;
  std::set<std::string> forbidden;
  std::set<std::string> a_dnc;
  int counter = 0;
  std::set<std::string> a_used_b_events;  // B's event ids A has applied events under

  World(const std::string& storage, std::uint64_t seed) : rng(seed) {
    const std::string config = "{\"storage\":\"" + storage +
                               "\",\"worker_threads\":1,\"logging\":{\"level\":\"error\"},\"voice_providers\":{\"sim\":{\"kind\":\"simulated\"}}}";
    if (gymdash_open(&db, config.c_str()) != GYMDASH_OK) {
      fail(__LINE__, "gymdash_open");
      std::exit(1);
    }
    gymdash_set_log_level(db, GYMDASH_LOG_ERROR);  // the operations below are refused on purpose
    at = iso(now + 3600);
    from_day = day(now - 40 * 86400);
    to_day = day(now + 2 * 86400);
    for (const char* id : {kA, kB})
      must(__LINE__, [&](char** o) {
        const std::string g = std::string("{\"id\":\"") + id + "\",\"name\":\"" + id +
                              "\",\"timezone\":\"America/New_York\",\"region\":\"US\"}";
        return gymdash_gym_create(o, db, g.c_str());
      });
    seed_b();
    seed_a();
  }
  ~World() { gymdash_close(db); }

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  bool chance(int percent) { return pick(100) < percent; }
  template <class V>
  const typename V::value_type& one_of(const V& v) {
    return v[static_cast<std::size_t>(pick(static_cast<int>(v.size())))];
  }

  std::string must(int line, const std::function<int(char**)>& fn) {
    const auto r = call(fn);
    ++g_checks;
    if (r.rc != GYMDASH_OK) fail(line, "a call expected to succeed failed");
    return r.text;
  }
  // One of B's ids under A: NOT_FOUND, *out NULL, the last error agrees.
  void not_found(int line, const char* what, const std::function<int(char**)>& fn) {
    const auto r = call(fn);
    ++g_checks;
    if (r.rc != GYMDASH_E_NOT_FOUND || !r.out_null || gymdash_last_error_code() != GYMDASH_E_NOT_FOUND) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "%s: expected NOT_FOUND, got %d (%s)", what, r.rc, gymdash_error_name(r.rc));
      fail(line, buf);
    }
  }
  // One of A's own operations: it may be refused by a rule of the domain.
  std::string allowed(int line, const char* what, const std::function<int(char**)>& fn) {
    const auto r = call(fn);
    ++g_checks;
    if (r.rc != GYMDASH_OK && r.rc != GYMDASH_E_INVALID_ARGUMENT && r.rc != GYMDASH_E_CONFLICT &&
        r.rc != GYMDASH_E_ALREADY_EXISTS) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "%s: unexpected %d (%s)", what, r.rc, gymdash_error_name(r.rc));
      fail(line, buf);
    }
    if (r.rc == GYMDASH_OK) mine(line, what, r.text);
    return r.text;
  }
  // A result for gym A: gym A's only, nothing of B's.
  void mine(int line, const char* what, const std::string& json) {
    for (const char* key : {"gym_id", "scope"})
      for (const auto& v : values_of(json, key)) {
        ++g_checks;
        if (v != kA) fail(line, std::string(what) + ": a result for gym A names " + key + " " + v);
      }
    for (const auto& token : forbidden) {
      ++g_checks;
      if (json.find(token) != std::string::npos)
        fail(line, std::string(what) + ": a result for gym A holds " + token + ": " + json.substr(0, 2000));
    }
  }

  std::string event_json(const std::string& gym, const std::string& lead_key, const std::string& lead,
                         const std::string& event_id, const std::string& call_id, std::time_t started,
                         const std::string& outcome, const std::string& text, const std::string& campaign = "") {
    std::string e = "{\"event_id\":\"" + event_id + "\",\"call_id\":\"" + call_id + "\",\"gym_id\":\"" + gym +
                    "\",\"" + lead_key + "\":\"" + lead + "\",\"to\":\"+12127364000\",\"started_at\":\"" +
                    iso(started) + "\",\"ended_at\":\"" + iso(started + 120) + "\",\"status\":\"completed\"";
    if (outcome == "voicemail") {
      e += ",\"answered_by\":\"machine\"";
    } else {
      e += ",\"answered_by\":\"human\",\"duration_s\":120,\"outcome\":\"" + outcome + "\"";
      if (outcome == "callback_requested") e += ",\"callback_at\":\"" + iso(started + 86400) + "\"";
    }
    e += ",\"cost_usd\":0.25,\"recording_url\":\"https://recordings.example.test/" + text + "/" + call_id +
         ".wav\",\"recording_consent\":true,\"transcript\":\"agent: hello " + text + "\",\"summary\":\"summary " +
         text + "\"";
    if (!campaign.empty()) e += ",\"campaign_id\":\"" + campaign + "\"";
    return e + "}";
  }

  void seed_b() {
    for (int i = 0; i < 8; ++i) {
      const std::string ext = i < 4 ? "ext-" + std::to_string(i) : "ext-bsecret-" + std::to_string(i);
      const std::string lead = "{\"phone\":\"" + pool_phone(i) + "\",\"external_id\":\"" + ext +
                               "\",\"first_name\":\"Bsecret\",\"last_name\":\"Bsecret" + std::to_string(i) +
                               "\",\"email\":\"b" + std::to_string(i) +
                               "@bsecret.example\",\"source\":\"bsecret_source\",\"notes\":\"bsecret notes\","
                               "\"tags\":[\"bsecret-vip\"],\"custom_fields\":{\"bsecret_key\":\"bsecret\"},"
                               "\"consent\":{\"given\":true,\"method\":\"web_form\",\"source\":\"bsecret form\"},"
                               "\"created_at\":\"" + iso(now - 86400 * (i + 1)) + "\",\"actor\":\"bsecret-actor\"}";
      const auto out = must(__LINE__, [&](char** o) { return gymdash_lead_create(o, db, kB, lead.c_str()); });
      const auto ids = values_of(out, "id");
      if (ids.empty()) std::exit(1);
      b_leads.push_back(ids.front());
      if (i >= 4) b_ext_only.push_back(ext);
    }
    must(__LINE__, [&](char** o) { return gymdash_lead_add_note_by(o, db, kB, b_leads[0].c_str(), "bsecret note", "bsecret-actor"); });
    must(__LINE__, [&](char** o) { return gymdash_lead_add_tags(o, db, kB, b_leads[1].c_str(), "[\"bsecret-gold\"]"); });
    must(__LINE__, [&](char** o) {
      return gymdash_lead_change_status(o, db, kB, b_leads[2].c_str(), "{\"to\":\"contacted\",\"actor\":\"bsecret-actor\"}");
    });
    const char* outcomes[] = {"interested", "voicemail", "trial_booked", "do_not_call", "callback_requested", "interested"};
    for (int i = 0; i < 6; ++i) {
      const std::string ev = event_json(kB, "lead_id", b_leads[static_cast<std::size_t>(i)], "ev-b-" + std::to_string(i),
                                        "pc-" + std::to_string(i), now - 3600 * (2 + i), outcomes[i], kMarker);
      const auto out = must(__LINE__, [&](char** o) { return gymdash_call_process_event(o, db, ev.c_str()); });
      b_events.push_back("ev-b-" + std::to_string(i));
      for (const auto& id : values_of(out, "id")) b_calls.push_back(id);
    }
    for (int c = 0; c < 2; ++c) {
      const std::string in = "{\"name\":\"bsecret campaign " + std::to_string(c) +
                             "\",\"description\":\"bsecret\",\"voice_provider\":\"sim\"}";
      const auto out = must(__LINE__, [&](char** o) { return gymdash_campaign_create(o, db, kB, in.c_str()); });
      const auto id = values_of(out, "id").at(0);
      b_campaigns.push_back(id);
      const std::string enrol = "{\"lead_ids\":[\"" + b_leads[0] + "\",\"" + b_leads[1] + "\",\"" + b_leads[5] + "\"]}";
      must(__LINE__, [&](char** o) { return gymdash_campaign_enrol(o, db, kB, id.c_str(), enrol.c_str()); });
    }
    must(__LINE__, [&](char** o) { return gymdash_campaign_set_state(o, db, kB, b_campaigns[0].c_str(), "active"); });
    must(__LINE__, [&](char** o) { return gymdash_campaign_set_state(o, db, kB, b_campaigns[0].c_str(), "paused"); });
    const std::string ev = event_json(kB, "lead_id", b_leads[5], "ev-b-cmp", "pc-cmp", now - 1800, "interested",
                                      kMarker, b_campaigns[0]);
    const auto out = must(__LINE__, [&](char** o) { return gymdash_call_process_event(o, db, ev.c_str()); });
    b_events.push_back("ev-b-cmp");
    for (const auto& id : values_of(out, "id")) b_calls.push_back(id);
    for (int i : {1, 9})
      must(__LINE__, [&](char** o) {
        return gymdash_dnc_add(o, db, kB, pool_phone(i).c_str(), "bsecret reason", "bsecret source");
      });
    const auto gone = must(__LINE__, [&](char** o) {
      return gymdash_lead_create(o, db, kB, "{\"phone\":\"+12127364999\",\"first_name\":\"Bsecret\"}");
    });
    const auto gone_id = values_of(gone, "id").at(0);
    must(__LINE__, [&](char** o) { return gymdash_lead_erase(o, db, kB, gone_id.c_str(), "dpo-7", "request 4411"); });
    b_leads.push_back(gone_id);

    forbidden.insert(kB);
    forbidden.insert(kMarker);
    for (const auto* ids : {&b_leads, &b_calls, &b_campaigns, &b_ext_only}) forbidden.insert(ids->begin(), ids->end());
  }

  void seed_a() {
    for (int i : {0, 1, 2, 3, 8, 9, 10, 11}) {
      std::string lead = "{\"phone\":\"" + pool_phone(i) + "\",\"first_name\":\"Ann\",\"email\":\"a" +
                         std::to_string(i) + "@a.example\",\"consent\":{\"given\":true,\"method\":\"web_form\"}";
      if (i < 4) lead += ",\"external_id\":\"ext-" + std::to_string(i) + "\"";
      lead += "}";
      must(__LINE__, [&](char** o) { return gymdash_lead_create(o, db, kA, lead.c_str()); });
    }
    const auto out = must(__LINE__, [&](char** o) {
      return gymdash_campaign_create(o, db, kA, "{\"name\":\"A spring\",\"voice_provider\":\"sim\"}");
    });
    a_campaigns.push_back(values_of(out, "id").at(0));
  }

  std::vector<std::string> a_leads() {
    const auto out = must(__LINE__, [&](char** o) { return gymdash_lead_list(o, db, kA, "{\"page_size\":1000}"); });
    return values_of(out, "id");
  }
  std::string a_lead() {
    const auto ids = a_leads();
    if (ids.empty()) std::exit(1);
    return one_of(ids);
  }

  // ---- gym B through the C getters -----------------------------------------

  std::string snapshot_b() {
    std::string s;
    auto add = [&](const char* what, const std::function<int(char**)>& fn) {
      s += what;
      s += '\n';
      s += must(__LINE__, fn);
      s += '\n';
    };
    add("gym", [&](char** o) { return gymdash_gym_get(o, db, kB); });
    std::string leads;
    add("leads", [&](char** o) {
      const int rc = gymdash_lead_list(o, db, kB, "{\"page_size\":1000}");
      if (rc == GYMDASH_OK) leads = *o;
      return rc;
    });
    for (const auto& id : values_of(leads, "id")) {
      add("lead", [&](char** o) { return gymdash_lead_get(o, db, kB, id.c_str()); });
      add("history", [&](char** o) { return gymdash_lead_history(o, db, kB, id.c_str()); });
      add("calls", [&](char** o) { return gymdash_lead_calls(o, db, kB, id.c_str()); });
      add("explain", [&](char** o) { return gymdash_lead_explain(o, db, kB, id.c_str(), at.c_str()); });
    }
    std::string calls;
    add("call list", [&](char** o) {
      const int rc = gymdash_calls_list(o, db, kB, "{\"page_size\":1000}");
      if (rc == GYMDASH_OK) calls = *o;
      return rc;
    });
    for (const auto& id : values_of(calls, "id"))
      add("call", [&](char** o) { return gymdash_call_get(o, db, kB, id.c_str()); });
    add("campaigns", [&](char** o) { return gymdash_campaign_list(o, db, kB, nullptr); });
    for (const auto& id : b_campaigns) {
      add("campaign", [&](char** o) { return gymdash_campaign_get(o, db, kB, id.c_str()); });
      add("performance", [&](char** o) { return gymdash_campaign_performance(o, db, kB, id.c_str()); });
      const std::string q = std::string("{\"gym_id\":\"") + kB + "\",\"campaign_id\":\"" + id + "\",\"from\":\"" +
                            from_day + "\",\"to\":\"" + to_day + "\"}";
      add("campaign report", [&](char** o) { return gymdash_analytics_report(o, db, q.c_str(), "json"); });
    }
    add("dnc", [&](char** o) { return gymdash_dnc_list(o, db, kB, 1000, 0); });
    for (int i = 0; i < kPhones; ++i)
      add("dnc check", [&](char** o) { return gymdash_dnc_check(o, db, kB, pool_phone(i).c_str()); });
    add("erasures", [&](char** o) { return gymdash_lead_erasures(o, db, kB, 1000, 0); });
    const std::string next = "{\"count\":100,\"at\":\"" + at + "\"}";
    add("next", [&](char** o) { return gymdash_leads_next(o, db, kB, next.c_str()); });
    const std::string q = std::string("{\"gym_id\":\"") + kB + "\",\"from\":\"" + from_day + "\",\"to\":\"" + to_day + "\"}";
    add("report", [&](char** o) { return gymdash_analytics_report(o, db, q.c_str(), "json"); });
    add("report csv", [&](char** o) { return gymdash_analytics_report(o, db, q.c_str(), "csv"); });
    return s;
  }

  // ---- one random C call with gym A's scope ----------------------------------

  void step() {
    const int op = pick(26);
    g_context += " op" + std::to_string(op);
    const std::string& b_lead = one_of(b_leads);
    const std::string& b_call = one_of(b_calls);
    const std::string& b_campaign = one_of(b_campaigns);
    switch (op) {
      case 0: {
        std::string lead = "{\"phone\":\"" + pool_phone(pick(kPhones)) + "\",\"first_name\":\"Ann\",\"email\":\"n" +
                           std::to_string(++counter) + "@a.example\"";
        if (chance(50)) lead += ",\"external_id\":\"ext-" + std::to_string(pick(4)) + "\"";
        lead += "}";
        allowed(__LINE__, "lead_create", [&](char** o) { return gymdash_lead_create(o, db, kA, lead.c_str()); });
        break;
      }
      case 1: {
        const auto id = a_lead();
        allowed(__LINE__, "lead_get", [&](char** o) { return gymdash_lead_get(o, db, kA, id.c_str()); });
        not_found(__LINE__, "lead_get", [&](char** o) { return gymdash_lead_get(o, db, kA, b_lead.c_str()); });
        break;
      }
      case 2: {
        const std::string patch = "{\"phone\":\"" + pool_phone(pick(kPhones)) + "\",\"notes\":\"a\"}";
        not_found(__LINE__, "lead_update", [&](char** o) { return gymdash_lead_update(o, db, kA, b_lead.c_str(), patch.c_str()); });
        const auto id = a_lead();
        allowed(__LINE__, "lead_update", [&](char** o) { return gymdash_lead_update(o, db, kA, id.c_str(), patch.c_str()); });
        break;
      }
      case 3: {
        const char* id = b_lead.c_str();
        switch (pick(5)) {
          case 0: not_found(__LINE__, "add_tags", [&](char** o) { return gymdash_lead_add_tags(o, db, kA, id, "[\"x\"]"); }); break;
          case 1: not_found(__LINE__, "remove_tags", [&](char** o) { return gymdash_lead_remove_tags(o, db, kA, id, "[\"bsecret-vip\"]"); }); break;
          case 2: not_found(__LINE__, "add_note", [&](char** o) { return gymdash_lead_add_note(o, db, kA, id, "x"); }); break;
          case 3: not_found(__LINE__, "change_status", [&](char** o) {
                    return gymdash_lead_change_status(o, db, kA, id, "{\"to\":\"lost\",\"reason\":\"x\",\"force\":true}");
                  }); break;
          default: not_found(__LINE__, "history", [&](char** o) { return gymdash_lead_history(o, db, kA, id); }); break;
        }
        break;
      }
      case 4: {
        const auto id = a_lead();
        allowed(__LINE__, "add_tags", [&](char** o) { return gymdash_lead_add_tags(o, db, kA, id.c_str(), "[\"spring\"]"); });
        allowed(__LINE__, "add_note", [&](char** o) { return gymdash_lead_add_note(o, db, kA, id.c_str(), "a note"); });
        const char* statuses[] = {"new", "contacted", "qualified", "trial_booked", "converted", "lost"};
        const std::string change = std::string("{\"to\":\"") + statuses[pick(6)] + "\",\"reason\":\"r\",\"force\":" +
                                   (chance(50) ? "true" : "false") + "}";
        allowed(__LINE__, "change_status", [&](char** o) { return gymdash_lead_change_status(o, db, kA, id.c_str(), change.c_str()); });
        allowed(__LINE__, "history", [&](char** o) { return gymdash_lead_history(o, db, kA, id.c_str()); });
        break;
      }
      case 5: {
        const char* filters[] = {"{\"search\":\"Bsecret\"}", "{\"search\":\"bsecret.example\"}",
                                 "{\"tags\":[\"bsecret-vip\"]}", "{\"source\":\"bsecret_source\"}"};
        const int which = pick(5);
        const std::string f = which < 4 ? filters[which]
                                        : "{\"search\":\"" + pool_phone(pick(8)).substr(2) + "\",\"page_size\":1000}";
        const auto out = allowed(__LINE__, "lead_list", [&](char** o) { return gymdash_lead_list(o, db, kA, f.c_str()); });
        if (which < 4) CHECK(out.find("\"total\":0") != std::string::npos);
        break;
      }
      case 6: {
        const std::string req = "{\"count\":50,\"exclude\":[\"" + b_lead + "\"],\"at\":\"" + at + "\"}";
        allowed(__LINE__, "leads_next", [&](char** o) { return gymdash_leads_next(o, db, kA, req.c_str()); });
        not_found(__LINE__, "explain", [&](char** o) { return gymdash_lead_explain(o, db, kA, b_lead.c_str(), at.c_str()); });
        const auto id = a_lead();
        allowed(__LINE__, "explain", [&](char** o) { return gymdash_lead_explain(o, db, kA, id.c_str(), at.c_str()); });
        break;
      }
      case 7: {
        std::string csv = "gym_id,phone,first_name,external_id\n";
        for (int r = 0; r < 3; ++r)
          csv += std::string(kA) + "," + pool_phone(pick(kPhones)) + ",Imported," +
                 (chance(50) ? "ext-" + std::to_string(pick(4)) : "") + "\n";
        const auto out = allowed(__LINE__, "import", [&](char** o) {
          return gymdash_leads_import_csv(o, db, csv.c_str(), nullptr, nullptr, nullptr);
        });
        CHECK(out.find("\"rejected\":0") != std::string::npos);
        break;
      }
      case 8: {
        if (chance(50))
          not_found(__LINE__, "erase", [&](char** o) { return gymdash_lead_erase(o, db, kA, b_lead.c_str(), "a-dpo", "request"); });
        else
          not_found(__LINE__, "delete", [&](char** o) { *o = nullptr; return gymdash_lead_delete(db, kA, b_lead.c_str()); });
        const std::string result = "{\"call_id\":\"x-" + std::to_string(++counter) + "\",\"started_at\":\"" +
                                   iso(now - 600) + "\",\"status\":\"completed\",\"answered_by\":\"human\","
                                   "\"outcome\":\"not_interested\"}";
        not_found(__LINE__, "after_call", [&](char** o) {
          return gymdash_lead_after_call(o, db, kA, b_lead.c_str(), result.c_str());
        });
        break;
      }
      case 9: {  // erase one of A's leads now and then
        const auto ids = a_leads();
        if (ids.size() < 6 || !chance(30)) break;
        const auto id = one_of(ids);
        allowed(__LINE__, "erase A's", [&](char** o) { return gymdash_lead_erase(o, db, kA, id.c_str(), "a-dpo", "request"); });
        allowed(__LINE__, "erasures", [&](char** o) { return gymdash_lead_erasures(o, db, kA, 1000, 0); });
        break;
      }
      case 10: {  // gym A's do-not-call list, with B's numbers
        const auto phone = pool_phone(pick(kPhones));
        if (chance(60)) {
          allowed(__LINE__, "dnc_add", [&](char** o) { return gymdash_dnc_add(o, db, kA, phone.c_str(), "asked", "api"); });
          a_dnc.insert(phone);
        } else {
          int removed = -1;
          ++g_checks;
          if (gymdash_dnc_remove(&removed, db, kA, phone.c_str(), "a-user", "mistake") != GYMDASH_OK)
            fail(__LINE__, "dnc_remove");
          CHECK(removed == (a_dnc.count(phone) ? 1 : 0));
          a_dnc.erase(phone);
        }
        const auto list = allowed(__LINE__, "dnc_list", [&](char** o) { return gymdash_dnc_list(o, db, kA, 1000, 0); });
        CHECK(values_of(list, "scope").size() == a_dnc.size());
        break;
      }
      case 11: {
        const auto phone = pool_phone(pick(kPhones));
        const auto out = allowed(__LINE__, "dnc_check", [&](char** o) { return gymdash_dnc_check(o, db, kA, phone.c_str()); });
        CHECK(out.find(a_dnc.count(phone) ? "\"gym_listed\":true" : "\"gym_listed\":false") != std::string::npos);
        CHECK(out.find("\"global_listed\":false") != std::string::npos);
        // lead_do_not_call: only A's own leads with the number count.
        bool a_lead_dnc = false;
        const auto leads = must(__LINE__, [&](char** o) {
          const std::string f = "{\"search\":\"" + phone.substr(2) + "\",\"page_size\":1000}";
          return gymdash_lead_list(o, db, kA, f.c_str());
        });
        if (leads.find("\"do_not_call\":true") != std::string::npos) a_lead_dnc = true;
        CHECK(out.find(a_lead_dnc ? "\"lead_do_not_call\":true" : "\"lead_do_not_call\":false") != std::string::npos);
        break;
      }
      case 12:
      case 13:
      case 14: {  // an event of A's own lead; its call id may be one of B's provider ids
        const auto id = a_lead();
        const bool reuse = chance(10);
        const std::string event_id = reuse ? one_of(b_events) : "ev-a-" + std::to_string(++counter);
        const std::string call_id = chance(50) ? "pc-" + std::to_string(pick(6)) : "pa-" + std::to_string(pick(20));
        const char* outcomes[] = {"interested", "voicemail", "do_not_call", "callback_requested", "not_interested"};
        const std::string campaign = chance(20) ? (chance(50) ? b_campaign : one_of(a_campaigns)) : "";
        const auto ev = event_json(kA, "lead_id", id, event_id, call_id, now - 60 * (5 + pick(600)),
                                   outcomes[pick(5)], "gym a", campaign);
        // A campaign id in an event is the host's label of the call (calls.jsonl
        // names campaigns the store may not hold): once A's call carries B's
        // campaign id, that text is A's data too.
        if (!campaign.empty() && campaign == b_campaign) forbidden.erase(b_campaign);
        // Event ids are unique per gym (docs/calls.md): one of B's is A's own
        // under A, applied the first time A uses it.
        if (!reuse || !a_used_b_events.count(event_id)) {
          const auto out = allowed(__LINE__, "process_event", [&](char** o) { return gymdash_call_process_event(o, db, ev.c_str()); });
          if (!out.empty()) CHECK(out.find("\"result\":\"applied\"") != std::string::npos);
          if (!out.empty() && reuse) a_used_b_events.insert(event_id);
          break;
        }
        // After that it is a duplicate, applies nothing, and answers with A's
        // call of that call id or an empty call (gym_id ""), never B's.
        const auto r = call([&](char** o) { return gymdash_call_process_event(o, db, ev.c_str()); });
        CHECK(r.rc == GYMDASH_OK);
        CHECK(r.text.find("\"result\":\"duplicate\"") != std::string::npos);
        for (const auto& v : values_of(r.text, "gym_id")) CHECK((v == kA || v.empty()));
        for (const auto& token : forbidden) CHECK(r.text.find(token) == std::string::npos);
        break;
      }
      case 15: {  // events naming B's lead by id or by an external id only B has
        const bool by_id = chance(50);
        const auto ev = event_json(kA, by_id ? "lead_id" : "lead_external_id", by_id ? b_lead : one_of(b_ext_only),
                                   "ev-a-" + std::to_string(++counter),
                                   chance(50) ? "pc-" + std::to_string(pick(6)) : "pa-x", now - 300, "interested", "gym a");
        not_found(__LINE__, "process_event with B's lead", [&](char** o) { return gymdash_call_process_event(o, db, ev.c_str()); });
        break;
      }
      case 16: {
        not_found(__LINE__, "call_get", [&](char** o) { return gymdash_call_get(o, db, kA, b_call.c_str()); });
        not_found(__LINE__, "call_get by B's provider id", [&](char** o) { return gymdash_call_get(o, db, kA, "pc-cmp"); });
        not_found(__LINE__, "lead_calls", [&](char** o) { return gymdash_lead_calls(o, db, kA, b_lead.c_str()); });
        const std::string f = "{\"lead_id\":\"" + b_lead + "\"}";
        const auto out = allowed(__LINE__, "calls_list", [&](char** o) { return gymdash_calls_list(o, db, kA, f.c_str()); });
        CHECK(out.find("\"total\":0") != std::string::npos);
        const auto all = allowed(__LINE__, "calls_list", [&](char** o) {
          return gymdash_calls_list(o, db, kA, "{\"page_size\":1000}");
        });
        for (const auto& id : values_of(all, "id"))
          if (id.rfind("call_", 0) == 0)
            allowed(__LINE__, "call_get", [&](char** o) { return gymdash_call_get(o, db, kA, id.c_str()); });
        break;
      }
      case 17: {
        not_found(__LINE__, "purge_recordings", [&](char** o) {
          return gymdash_lead_purge_recordings(o, db, kA, b_lead.c_str(), "a-user", "asked");
        });
        const auto id = a_lead();
        allowed(__LINE__, "purge A's", [&](char** o) {
          return gymdash_lead_purge_recordings(o, db, kA, id.c_str(), "a-user", "asked");
        });
        break;
      }
      case 18: {
        const std::string in = "{\"name\":\"A campaign " + std::to_string(++counter) + "\",\"voice_provider\":\"sim\"}";
        const auto out = allowed(__LINE__, "campaign_create", [&](char** o) { return gymdash_campaign_create(o, db, kA, in.c_str()); });
        if (!out.empty()) a_campaigns.push_back(values_of(out, "id").at(0));
        const auto list = allowed(__LINE__, "campaign_list", [&](char** o) {
          return gymdash_campaign_list(o, db, kA, "{\"page_size\":1000}");
        });
        CHECK(list.find("\"total\":" + std::to_string(a_campaigns.size())) != std::string::npos);
        break;
      }
      case 19: {
        const char* id = b_campaign.c_str();
        const std::string enrol = "{\"lead_ids\":[\"" + a_lead() + "\"]}";
        switch (pick(8)) {
          case 0: not_found(__LINE__, "campaign_get", [&](char** o) { return gymdash_campaign_get(o, db, kA, id); }); break;
          case 1: not_found(__LINE__, "set_state", [&](char** o) { return gymdash_campaign_set_state(o, db, kA, id, "active"); }); break;
          case 2: not_found(__LINE__, "enrol", [&](char** o) { return gymdash_campaign_enrol(o, db, kA, id, enrol.c_str()); }); break;
          case 3: not_found(__LINE__, "enrol by filter", [&](char** o) { return gymdash_campaign_enrol(o, db, kA, id, "{}"); }); break;
          case 4: not_found(__LINE__, "performance", [&](char** o) { return gymdash_campaign_performance(o, db, kA, id); }); break;
          case 5: not_found(__LINE__, "update", [&](char** o) { return gymdash_campaign_update(o, db, kA, id, "{\"name\":\"taken\"}"); }); break;
          case 6: not_found(__LINE__, "delete", [&](char** o) { *o = nullptr; return gymdash_campaign_delete(db, kA, id); }); break;
          default: {
            const std::string ids = "[\"" + b_lead + "\"]";
            not_found(__LINE__, "remove_leads", [&](char** o) { return gymdash_campaign_remove_leads(o, db, kA, id, ids.c_str()); });
          }
        }
        break;
      }
      case 20: {  // A's campaign: B's leads refused, all or none
        const auto cmp = one_of(a_campaigns);
        const auto before = must(__LINE__, [&](char** o) { return gymdash_campaign_performance(o, db, kA, cmp.c_str()); });
        const std::string enrol = chance(50) ? "{\"lead_ids\":[\"" + a_lead() + "\",\"" + b_lead + "\"]}"
                                             : "{\"lead_ids\":[\"" + b_lead + "\",\"" + a_lead() + "\"]}";
        not_found(__LINE__, "enrol B's lead", [&](char** o) { return gymdash_campaign_enrol(o, db, kA, cmp.c_str(), enrol.c_str()); });
        CHECK(must(__LINE__, [&](char** o) { return gymdash_campaign_performance(o, db, kA, cmp.c_str()); }) == before);
        const std::string ids = "[\"" + b_lead + "\"]";
        const auto removed = allowed(__LINE__, "remove_leads", [&](char** o) {
          return gymdash_campaign_remove_leads(o, db, kA, cmp.c_str(), ids.c_str());
        });
        CHECK(removed.find("\"removed\":0") != std::string::npos);
        break;
      }
      case 21: {  // A's campaign: enrolment and lifecycle
        const auto cmp = one_of(a_campaigns);
        switch (pick(3)) {
          case 0: allowed(__LINE__, "enrol filter", [&](char** o) { return gymdash_campaign_enrol(o, db, kA, cmp.c_str(), "{}"); }); break;
          case 1: allowed(__LINE__, "set_state", [&](char** o) {
                    return gymdash_campaign_set_state(o, db, kA, cmp.c_str(), chance(60) ? "active" : "paused");
                  }); break;
          default: {
            const std::string enrol = "{\"lead_ids\":[\"" + a_lead() + "\"]}";
            allowed(__LINE__, "enrol", [&](char** o) { return gymdash_campaign_enrol(o, db, kA, cmp.c_str(), enrol.c_str()); });
          }
        }
        allowed(__LINE__, "campaign_get", [&](char** o) { return gymdash_campaign_get(o, db, kA, cmp.c_str()); });
        allowed(__LINE__, "performance", [&](char** o) { return gymdash_campaign_performance(o, db, kA, cmp.c_str()); });
        break;
      }
      case 22: {
        const std::string q = std::string("{\"gym_id\":\"") + kA + "\",\"from\":\"" + from_day + "\",\"to\":\"" + to_day + "\"}";
        allowed(__LINE__, "report", [&](char** o) { return gymdash_analytics_report(o, db, q.c_str(), "json"); });
        allowed(__LINE__, "report csv", [&](char** o) { return gymdash_analytics_report(o, db, q.c_str(), "csv"); });
        if (chance(30)) {  // rebuilding A's rollups leaves B's alone
          const auto r = allowed(__LINE__, "rebuild", [&](char** o) { return gymdash_analytics_rebuild(o, db, kA); });
          CHECK(r.find("\"gyms\":1") != std::string::npos);
        }
        break;
      }
      case 23: {  // routing: B's lead refused; an inbound call from a number only B has is A's business alone
        const std::string req = std::string("{\"gym_id\":\"") + kA + "\",\"lead_id\":\"" + b_lead + "\"}";
        not_found(__LINE__, "route_outbound", [&](char** o) { return gymdash_route_outbound(o, db, req.c_str()); });
        const auto phone = pool_phone(4 + pick(4));
        allowed(__LINE__, "route_inbound", [&](char** o) { return gymdash_route_inbound(o, db, kA, phone.c_str(), at.c_str()); });
        break;
      }
      default: {  // A's leads and their history
        for (const auto& id : a_leads()) {
          allowed(__LINE__, "lead_get", [&](char** o) { return gymdash_lead_get(o, db, kA, id.c_str()); });
          if (chance(20))
            allowed(__LINE__, "lead_calls", [&](char** o) { return gymdash_lead_calls(o, db, kA, id.c_str()); });
        }
        allowed(__LINE__, "lead_list", [&](char** o) { return gymdash_lead_list(o, db, kA, "{\"page_size\":1000}"); });
        break;
      }
    }
  }
};

std::uint64_t property_seed() {
  if (const char* s = std::getenv("GYMDASH_PROPERTY_SEED"); s && *s) return std::strtoull(s, nullptr, 10);
  std::random_device rd;
  return (std::uint64_t(rd()) << 32) ^ rd();
}

void run(const std::string& name, const std::string& storage, std::uint64_t seed) {
  g_context = name;
  World w(storage, seed);
  const std::string before = w.snapshot_b();
  CHECK(before.find(kMarker) != std::string::npos);
  CHECK(before.find(w.b_calls.front()) != std::string::npos);
  for (int i = 1; i <= kOperations; ++i) {
    g_context = name + " operation " + std::to_string(i) + ":";
    w.step();
    if (i % kSnapshotEvery == 0 || i == kOperations) {
      const std::string now = w.snapshot_b();
      ++g_checks;
      if (now != before) {
        std::size_t at = 0;
        while (at < now.size() && at < before.size() && now[at] == before[at]) ++at;
        const std::size_t from = at > 300 ? at - 300 : 0;
        fail(__LINE__, "gym B's data changed; before: ..." + before.substr(from, 700) + "\n  now: ..." +
                           now.substr(from, 700));
        return;
      }
    }
  }
}

}  // namespace

int main() {
  const std::uint64_t seed = property_seed();
  std::printf("tenant_isolation_c_test: GYMDASH_PROPERTY_SEED=%llu\n", static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  run("memory", "memory:", seed);
  const char* tmp = std::getenv("GYMDASH_TEST_TMP");
  const std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/tenant-c-" + std::to_string(::getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  run("sqlite", "sqlite:" + path, seed);
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  std::printf("tenant_isolation_c_test: %d checks, %d failed (seed %llu)\n", g_checks, g_failures,
              static_cast<unsigned long long>(seed));
  return g_failures == 0 ? 0 : 1;
}
