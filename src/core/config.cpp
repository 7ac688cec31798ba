// Reading, validating and printing the runtime configuration.
#include <gymdash/config.hpp>
#include <gymdash/error.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace gymdash {

namespace bj = boost::json;

const GymPolicy& Config::policy(std::string_view gym_id) const {
  auto it = gyms.find(std::string(gym_id));
  return it == gyms.end() ? defaults : it->second;
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// Collects every error instead of stopping at the first.
class Errors {
 public:
  void add(const std::string& path, const std::string& what) { list_.push_back(path + ": " + what); if (first_.empty()) first_ = path; }
  bool empty() const { return list_.empty(); }
  [[noreturn]] void raise() const {
    std::string msg;
    for (const auto& e : list_) {
      if (!msg.empty()) msg += "\n";
      msg += e;
    }
    throw InvalidArgumentError(msg, first_);
  }

 private:
  std::vector<std::string> list_;
  std::string first_;
};

const char* kind(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null: return "null";
    case bj::kind::bool_: return "a boolean";
    case bj::kind::int64:
    case bj::kind::uint64: return "an integer";
    case bj::kind::double_: return "a number";
    case bj::kind::string: return "a string";
    case bj::kind::array: return "an array";
    case bj::kind::object: return "an object";
  }
  return "a value";
}

// Walks one object; unknown keys are reported with the nearest known key.
class Section {
 public:
  Section(const bj::value& v, std::string path, Errors& errors) : path_(std::move(path)), errors_(errors) {
    if (v.is_object()) obj_ = &v.get_object();
    else errors_.add(path_.empty() ? "config" : path_, fmt::format("expected an object, got {}", kind(v)));
  }
  bool ok() const { return obj_ != nullptr; }
  const std::string& path() const { return path_; }
  std::string path(std::string_view key) const { return join_path(path_, key); }

  const bj::value* get(std::string_view key) {
    known_.emplace_back(key);
    if (!obj_) return nullptr;
    return obj_->if_contains(key);
  }

  void string(std::string_view key, std::string& out) {
    if (const auto* v = get(key)) {
      if (v->is_string()) out = std::string(v->get_string());
      else errors_.add(path(key), fmt::format("expected a string, got {}", kind(*v)));
    }
  }
  void boolean(std::string_view key, bool& out) {
    if (const auto* v = get(key)) {
      if (v->is_bool()) out = v->get_bool();
      else errors_.add(path(key), fmt::format("expected true or false, got {}", kind(*v)));
    }
  }
  template <class Int>
  void integer(std::string_view key, Int& out, long long min, long long max) {
    const auto* v = get(key);
    if (!v) return;
    long long n = 0;
    if (v->is_int64()) n = v->get_int64();
    else if (v->is_uint64() && v->get_uint64() < (1ULL << 62)) n = static_cast<long long>(v->get_uint64());
    else {
      errors_.add(path(key), fmt::format("expected an integer, got {}", kind(*v)));
      return;
    }
    if (n < min || n > max) {
      errors_.add(path(key), fmt::format("{} is out of range ({}–{})", n, min, max));
      return;
    }
    out = static_cast<Int>(n);
  }
  void finish(const std::vector<std::string>& extra_known = {}) {
    if (!obj_) return;
    for (const auto& kv : *obj_) {
      const std::string_view key = kv.key();
      if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
      if (std::find(extra_known.begin(), extra_known.end(), key) != extra_known.end()) continue;
      std::string best;
      std::size_t best_d = 1000;
      for (const auto& k : known_) {
        const auto d = edit_distance(key, k);
        if (d < best_d) {
          best_d = d;
          best = k;
        }
      }
      if (!best.empty() && best_d <= std::max<std::size_t>(2, key.size() / 3))
        errors_.add(path(key), fmt::format("unknown key (did you mean \"{}\"?)", best));
      else
        errors_.add(path(key), "unknown key");
    }
  }

 private:
  const bj::object* obj_ = nullptr;
  std::string path_;
  Errors& errors_;
  std::vector<std::string> known_;
};

std::optional<int> parse_time(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (int i : {0, 1, 3, 4})
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

std::string format_time(int minute) { return fmt::format("{:02}:{:02}", minute / 60, minute % 60); }

constexpr const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

void read_policy(const bj::value& v, const std::string& path, GymPolicy& p, Errors& errors) {
  Section s(v, path, errors);
  if (!s.ok()) return;
  if (const auto* hv = s.get("call_hours")) {
    Section h(*hv, s.path("call_hours"), errors);
    LocalWindow w = p.call_hours;
    bool good = true;
    for (const char* key : {"start", "end"}) {
      std::string text;
      const auto* tv = h.get(key);
      if (!tv) continue;
      if (!tv->is_string()) {
        errors.add(h.path(key), fmt::format("expected a time string (HH:MM), got {}", kind(*tv)));
        good = false;
        continue;
      }
      text = std::string(tv->get_string());
      auto minute = parse_time(text);
      if (!minute) {
        errors.add(h.path(key), fmt::format("\"{}\" is not a time (HH:MM, 00:00–24:00)", text.substr(0, 32)));
        good = false;
        continue;
      }
      (std::string_view(key) == "start" ? w.start_minute : w.end_minute) = *minute;
    }
    h.finish();
    if (good && h.ok()) {
      if (w.start_minute >= w.end_minute) errors.add(h.path(), "start must be before end");
      else p.call_hours = w;
    }
  }
  if (const auto* dv = s.get("call_days")) {
    if (!dv->is_array()) {
      errors.add(s.path("call_days"), fmt::format("expected an array of days, got {}", kind(*dv)));
    } else {
      DayMask mask = 0;
      bool good = true;
      std::size_t i = 0;
      for (const auto& d : dv->get_array()) {
        const auto item_path = fmt::format("{}[{}]", s.path("call_days"), i++);
        bool found = false;
        if (d.is_string())
          for (int k = 0; k < 7; ++k)
            if (d.get_string() == kDays[k]) {
              mask |= static_cast<DayMask>(1u << k);
              found = true;
            }
        if (!found) {
          errors.add(item_path, "is not a day (mon, tue, wed, thu, fri, sat, sun)");
          good = false;
        }
      }
      if (good && mask == 0) errors.add(s.path("call_days"), "must name at least one day");
      else if (good) p.call_days = mask;
    }
  }
  s.integer("hot_threshold", p.hot_threshold, 0, 100);
  s.integer("cold_threshold", p.cold_threshold, 0, 100);
  s.integer("max_attempts", p.max_attempts, 1, 100);
  s.integer("retry_gap_minutes", p.retry_gap_minutes, 1, 60 * 24 * 30);
  s.integer("recording_retention_days", p.recording_retention_days, 1, 3650);
  s.integer("lines", p.lines, 1, 10000);
  if (const auto* bv = s.get("daily_budget_usd")) {
    if (!bv->is_number())
      errors.add(s.path("daily_budget_usd"), fmt::format("expected a number, got {}", kind(*bv)));
    else if (const double d = bv->to_number<double>(); !(d >= 0) || d > 1e9)
      errors.add(s.path("daily_budget_usd"), fmt::format("{} is out of range (0–1000000000; 0 = no cap)", d));
    else
      p.daily_budget_usd = d;
  }
  s.finish();
  if (p.cold_threshold > p.hot_threshold)
    errors.add(s.path("cold_threshold"),
               fmt::format("{} is above hot_threshold ({})", p.cold_threshold, p.hot_threshold));
}

bool valid_env_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return !(name[0] >= '0' && name[0] <= '9');
}

void read_provider(const bj::value& v, const std::string& path, VoiceProviderConfig& p, Errors& errors) {
  Section s(v, path, errors);
  if (!s.ok()) return;
  s.string("kind", p.kind);
  s.string("base_url", p.base_url);
  s.string("api_key_env", p.api_key_env);
  s.string("webhook_secret_env", p.webhook_secret_env);
  s.string("account_sid", p.account_sid);
  s.integer("timeout_ms", p.timeout_ms, 100, 600000);
  s.integer("max_retries", p.max_retries, 0, 20);
  if (const auto* o = s.get("options")) {
    if (!o->is_object()) {
      errors.add(s.path("options"), fmt::format("expected an object of strings, got {}", kind(*o)));
    } else {
      for (const auto& kv : o->get_object()) {
        const auto& ov = kv.value();
        const auto key = std::string(kv.key());
        if (ov.is_string()) p.options[key] = std::string(ov.get_string());
        else if (ov.is_double()) p.options[key] = fmt::format("{}", ov.get_double());  // 0.45, not 4.5E-1
        else if (ov.is_number() || ov.is_bool()) p.options[key] = bj::serialize(ov);
        else errors.add(s.path("options") + "." + key, fmt::format("expected a string, number or boolean, got {}", kind(ov)));
      }
    }
  }
  if (const auto* av = s.get("assistants")) {
    if (!av->is_array()) {
      errors.add(s.path("assistants"), fmt::format("expected an array of strings, got {}", kind(*av)));
    } else {
      std::size_t i = 0;
      for (const auto& a : av->get_array()) {
        const auto item_path = fmt::format("{}[{}]", s.path("assistants"), i++);
        if (!a.is_string()) errors.add(item_path, fmt::format("expected a string, got {}", kind(a)));
        else if (a.get_string().empty()) errors.add(item_path, "is empty");
        else p.assistants.emplace_back(a.get_string());
      }
    }
  }
  // A secret written into the document is refused outright: it would end up in files and logs.
  for (const char* key : {"api_key", "webhook_secret", "auth_token", "secret"}) {
    if (s.get(key)) errors.add(s.path(key), fmt::format("secrets are not accepted in the document; set {}_env to the name of an environment variable", std::string_view(key) == "auth_token" || std::string_view(key) == "secret" ? "api_key" : key));
  }
  s.finish();
  static const char* kinds[] = {"simulated", "retell", "vapi", "twilio"};
  if (p.kind.empty()) errors.add(s.path("kind"), "is required (simulated, retell, vapi or twilio)");
  else if (std::find(std::begin(kinds), std::end(kinds), p.kind) == std::end(kinds))
    errors.add(s.path("kind"), fmt::format("\"{}\" is not a provider (simulated, retell, vapi, twilio)", p.kind));
  if (!p.api_key_env.empty() && !valid_env_name(p.api_key_env))
    errors.add(s.path("api_key_env"), "is not an environment variable name");
  if (!p.webhook_secret_env.empty() && !valid_env_name(p.webhook_secret_env))
    errors.add(s.path("webhook_secret_env"), "is not an environment variable name");
  if (p.kind != "simulated" && !p.kind.empty() && p.api_key_env.empty())
    errors.add(s.path("api_key_env"), fmt::format("is required for a {} provider", p.kind));
  if (!p.base_url.empty() && p.base_url.rfind("https://", 0) != 0 && p.base_url.rfind("http://", 0) != 0)
    errors.add(s.path("base_url"), "must start with https:// or http://");
}

}  // namespace

Config parse_config(std::string_view json) {
  boost::system::error_code ec;
  bj::parse_options opts;
  opts.max_depth = 32;
  const bj::value root = bj::parse(json, ec, {}, opts);
  if (ec) throw_invalid("config", fmt::format("invalid JSON: {}", ec.message()));

  Config c;
  Errors errors;
  Section s(root, "", errors);
  if (!s.ok()) errors.raise();
  s.string("storage", c.storage);
  if (c.storage.empty()) errors.add("storage", "is empty (memory:, sqlite:PATH or postgresql://…)");
  else if (c.storage != "memory:" && c.storage.rfind("sqlite:", 0) != 0 && c.storage.rfind("postgresql://", 0) != 0 &&
           c.storage.rfind("postgres://", 0) != 0)
    errors.add("storage", fmt::format("\"{}\" is not a storage URI (memory:, sqlite:PATH or postgresql://…)",
                                      c.storage.substr(0, 64)));
  s.integer("worker_threads", c.worker_threads, 1, 64);
  // defaults first: per-gym entries inherit from them, whatever the key order.
  if (const auto* v = s.get("defaults")) read_policy(*v, "defaults", c.defaults, errors);
  if (const auto* v = s.get("gyms")) {
    if (!v->is_object()) {
      errors.add("gyms", fmt::format("expected an object keyed by gym id, got {}", kind(*v)));
    } else {
      for (const auto& kv : v->get_object()) {
        GymPolicy p = c.defaults;
        read_policy(kv.value(), "gyms." + std::string(kv.key()), p, errors);
        c.gyms.emplace(std::string(kv.key()), p);
      }
    }
  }
  if (const auto* v = s.get("voice_providers")) {
    if (!v->is_object()) {
      errors.add("voice_providers", fmt::format("expected an object keyed by provider name, got {}", kind(*v)));
    } else {
      for (const auto& kv : v->get_object()) {
        VoiceProviderConfig p;
        read_provider(kv.value(), "voice_providers." + std::string(kv.key()), p, errors);
        c.voice_providers.emplace(std::string(kv.key()), p);
      }
    }
  }
  if (const auto* v = s.get("limits")) {
    Section l(*v, "limits", errors);
    l.integer("max_request_bytes", c.limits.max_request_bytes, 1024, 64LL << 20);
    l.integer("max_json_depth", c.limits.max_json_depth, 2, 256);
    l.integer("max_page_size", c.limits.max_page_size, 1, 1000);
    l.integer("max_batch_size", c.limits.max_batch_size, 1, 1000000);
    l.integer("max_transcript_bytes", c.limits.max_transcript_bytes, 1024, 64LL << 20);
    l.finish();
  }
  if (const auto* v = s.get("logging")) {
    Section l(*v, "logging", errors);
    std::string level = to_string(c.logging.level), format = to_string(c.logging.format);
    l.string("level", level);
    l.string("format", format);
    l.string("sink", c.logging.sink);
    l.string("file", c.logging.file);
    l.finish();
    try {
      c.logging.level = parse_log_level(level, "logging.level");
    } catch (const InvalidArgumentError& e) {
      errors.add("logging.level", std::string(e.what()).substr(std::string("logging.level: ").size()));
    }
    try {
      c.logging.format = parse_log_format(format, "logging.format");
    } catch (const InvalidArgumentError& e) {
      errors.add("logging.format", std::string(e.what()).substr(std::string("logging.format: ").size()));
    }
    if (c.logging.sink != "stderr" && c.logging.sink != "file" && c.logging.sink != "none")
      errors.add("logging.sink", fmt::format("\"{}\" is not a sink (stderr, file, none)", c.logging.sink.substr(0, 32)));
    if (c.logging.sink == "file" && c.logging.file.empty())
      errors.add("logging.file", "is required when logging.sink is \"file\"");
  }
  if (const auto* v = s.get("cache")) {
    Section cs(*v, "cache", errors);
    cs.integer("gym_ttl_ms", c.cache.gym_ttl_ms, 0, 3600000);
    cs.finish();
  }
  if (const auto* v = s.get("metrics")) {
    Section m(*v, "metrics", errors);
    m.boolean("enabled", c.metrics.enabled);
    m.finish();
  }
  s.finish();
  if (!errors.empty()) errors.raise();
  return c;
}

Config load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_invalid("config", fmt::format("cannot read \"{}\"", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (16u << 20)) throw_invalid("config", fmt::format("\"{}\" is larger than 16 MiB", path));
  return parse_config(ss.str());
}

void resolve_secrets(Config& config) {
  Errors errors;
  for (auto& entry : config.voice_providers) {
    // Plain references, not a structured binding: clang before 16 cannot capture bindings in a lambda.
    const std::string& name = entry.first;
    auto& p = entry.second;
    const auto read = [&](const std::string& var, const char* key, std::string& out) {
      if (var.empty()) return;
      const char* value = std::getenv(var.c_str());
      if (!value || !*value)
        errors.add(fmt::format("voice_providers.{}.{}", name, key),
                   fmt::format("environment variable {} is not set", var));
      else
        out = value;
    };
    read(p.api_key_env, "api_key_env", p.api_key);
    read(p.webhook_secret_env, "webhook_secret_env", p.webhook_secret);
  }
  if (!errors.empty()) errors.raise();
}

namespace {

bj::object policy_json(const GymPolicy& p) {
  bj::array days;
  for (int k = 0; k < 7; ++k)
    if (p.call_days & (1u << k)) days.emplace_back(kDays[k]);
  return bj::object{{"call_hours", bj::object{{"start", format_time(p.call_hours.start_minute)},
                                              {"end", format_time(p.call_hours.end_minute)}}},
                    {"call_days", std::move(days)},
                    {"hot_threshold", p.hot_threshold},
                    {"cold_threshold", p.cold_threshold},
                    {"max_attempts", p.max_attempts},
                    {"retry_gap_minutes", p.retry_gap_minutes},
                    {"recording_retention_days", p.recording_retention_days},
                    {"lines", p.lines},
                    {"daily_budget_usd", p.daily_budget_usd}};
}

void pretty(std::string& out, const bj::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    std::size_t i = 0;
    for (const auto& kv : o) {
      out += pad + "  " + bj::serialize(bj::value(kv.key())) + ": ";
      pretty(out, kv.value(), indent + 1);
      out += ++i < o.size() ? ",\n" : "\n";
    }
    out += pad + "}";
  } else {
    out += bj::serialize(v);
  }
}

}  // namespace

std::string to_json(const Config& c) {
  bj::object gyms;
  for (const auto& [id, p] : c.gyms) gyms[id] = policy_json(p);
  bj::object providers;
  for (const auto& [name, p] : c.voice_providers)
    providers[name] = bj::object{{"kind", p.kind},
                                 {"base_url", p.base_url},
                                 {"api_key_env", p.api_key_env},
                                 {"webhook_secret_env", p.webhook_secret_env},
                                 {"account_sid", p.account_sid},
                                 {"timeout_ms", p.timeout_ms},
                                 {"max_retries", p.max_retries},
                                 {"options", bj::value_from(p.options)},
                                 {"assistants", bj::value_from(p.assistants)}};
  bj::object root{
      {"storage", c.storage},
      {"worker_threads", c.worker_threads},
      {"defaults", policy_json(c.defaults)},
      {"gyms", std::move(gyms)},
      {"voice_providers", std::move(providers)},
      {"limits", bj::object{{"max_request_bytes", c.limits.max_request_bytes},
                            {"max_json_depth", c.limits.max_json_depth},
                            {"max_page_size", c.limits.max_page_size},
                            {"max_batch_size", c.limits.max_batch_size},
                            {"max_transcript_bytes", c.limits.max_transcript_bytes}}},
      {"logging", bj::object{{"level", to_string(c.logging.level)},
                             {"format", to_string(c.logging.format)},
                             {"sink", c.logging.sink},
                             {"file", c.logging.file}}},
      {"metrics", bj::object{{"enabled", c.metrics.enabled}}},
      {"cache", bj::object{{"gym_ttl_ms", c.cache.gym_ttl_ms}}},
  };
  std::string out;
  pretty(out, root, 0);
  out += "\n";
  return out;
}

std::string default_config_json() { return to_json(Config{}); }

}  // namespace gymdash
