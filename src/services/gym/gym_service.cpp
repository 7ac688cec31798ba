// GymService: validation of gym settings over the Store.
#include <gymdash/error.hpp>
#include <gymdash/phone.hpp>
#include <gymdash/services/gym.hpp>

#include "core/csv.hpp"
#include "services/factories.hpp"
#include "core/text.hpp"
#include "core/tz.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <istream>

namespace gymdash {

namespace {

bool valid_gym_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Validates and normalizes everything but id and timestamps.
void validate(Gym& g) {
  g.name = text::checked_field("name", g.name, kMaxNameLength);
  if (g.name.empty()) throw_invalid("name", "is required");
  if (g.timezone.empty()) throw_invalid("timezone", "is required (an IANA zone such as America/New_York)");
  if (!tz::is_known_zone(g.timezone))
    throw_invalid("timezone", fmt::format("\"{}\" is not an IANA time zone", g.timezone.substr(0, 64)));
  if (g.region.empty()) g.region = "US";
  if (!is_known_phone_region(g.region))
    throw_invalid("region", fmt::format("\"{}\" is not a phone region (ISO 3166, e.g. US)", g.region.substr(0, 16)));
  if (!g.state.empty()) {
    const bool ok = g.state.size() == 2 && g.state[0] >= 'A' && g.state[0] <= 'Z' && g.state[1] >= 'A' &&
                    g.state[1] <= 'Z';
    if (!ok) throw_invalid("state", fmt::format("\"{}\" is not a two-letter state code", g.state.substr(0, 16)));
  }
  const auto& h = g.call_hours;
  if (h.start_minute < 0 || h.start_minute > 24 * 60) throw_invalid("call_hours.start", "is out of range");
  if (h.end_minute < 0 || h.end_minute > 24 * 60) throw_invalid("call_hours.end", "is out of range");
  if (h.start_minute >= h.end_minute) throw_invalid("call_hours", "start must be before end");
  if ((g.call_days & kAllDays) == 0) throw_invalid("call_days", "must name at least one day");
  g.call_days &= kAllDays;
  if (g.caller_ids.size() > 100) throw_invalid("caller_ids", "has more than 100 numbers");
  for (std::size_t i = 0; i < g.caller_ids.size(); ++i)
    g.caller_ids[i] = normalize_phone(g.caller_ids[i], g.region, fmt::format("caller_ids[{}]", i));
}

class GymServiceImpl final : public GymService {
 public:
  GymServiceImpl(Store& store, std::shared_ptr<Clock> clock, std::shared_ptr<GymCache> cache,
                 std::shared_ptr<const Config> config)
      : store_(store), clock_(std::move(clock)), cache_(std::move(cache)), config_(std::move(config)) {}

  Gym create_gym(const Gym& input) override {
    Gym g = input;
    if (g.id.empty()) {
      g.id = make_id("gym_");
    } else if (!valid_gym_id(g.id)) {
      throw_invalid("id", "must be 1–64 characters of A-Z a-z 0-9 . _ -");
    }
    validate(g);
    g.created_at = g.updated_at = clock_->now();
    store_.gyms().insert(g);
    return g;
  }

  Gym get_gym(std::string_view gym_id) override {
    if (auto g = cache_->get(store_, gym_id)) return *g;
    throw NotFoundError(fmt::format("gym_id: gym \"{}\" not found", gym_id.substr(0, 64)), "gym_id");
  }

  std::vector<Gym> list_gyms() override { return store_.gyms().list(); }

  GymImportReport import_gyms(std::istream& in) override {
    csv::Reader reader(in);
    if (reader.next() != csv::ReadStatus::Record) throw_invalid("header", "the file is empty or not CSV");
    const csv::Header header(reader.fields());
    if (auto missing = header.missing({"gym_id", "name", "timezone"}); !missing.empty()) {
      std::string names;
      for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
      throw_invalid("header", "missing required columns: " + names);
    }
    const auto col = [&](std::string_view name) { return header.index(name); };
    const auto id_col = col("gym_id"), name_col = col("name"), tz_col = col("timezone"), region_col = col("region"),
               state_col = col("state");
    GymImportReport report;
    for (;;) {
      const auto status = reader.next();
      if (status == csv::ReadStatus::End) break;
      ++report.rows;
      const auto line = static_cast<std::int64_t>(reader.line());
      try {
        if (status == csv::ReadStatus::Malformed) throw_invalid("row", std::string(reader.error()));
        const auto f = reader.fields();
        if (f.size() != header.size())
          throw_invalid("row", fmt::format("{} fields where the header has {}", f.size(), header.size()));
        const auto get = [&](const std::optional<std::size_t>& i) {
          return i ? std::string(text::trim(f[*i])) : std::string();
        };
        Gym g;
        g.id = get(id_col);
        if (g.id.empty()) throw_invalid("gym_id", "is empty");
        store_.transact([&] {
          const auto existing = store_.gyms().find(g.id);
          if (existing) g = *existing;
          g.name = get(name_col);
          g.timezone = get(tz_col);
          if (region_col) g.region = get(region_col);
          if (state_col) g.state = get(state_col);
          if (existing) {
            update_gym(g);
            ++report.updated;
          } else {
            // gyms.csv has no calling hours: a new gym gets the configuration's
            // (`defaults`, or `gyms.<id>`); a known gym keeps its own.
            if (config_) {
              const auto& policy = config_->policy(g.id);
              g.call_hours = policy.call_hours;
              g.call_days = policy.call_days;
            }
            create_gym(g);
            ++report.created;
          }
        });
      } catch (const Error& e) {
        ++report.rejected;
        report.rejected_rows.emplace_back(line, e.what());
      }
    }
    return report;
  }

  Gym update_gym(const Gym& input) override {
    Gym result;
    cache_->invalidate(input.id);
    try {
      store_.transact([&] {
        Gym current = get_gym(input.id);
      Gym g = input;
      validate(g);
      g.created_at = current.created_at;
      g.updated_at = clock_->now();
        store_.gyms().update(g);
        result = std::move(g);
      });
    } catch (...) {
      cache_->clear();  // it may hold what the failed transaction read
      throw;
    }
    cache_->invalidate(input.id);
    return result;
  }

 private:
  Store& store_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<GymCache> cache_;
  std::shared_ptr<const Config> config_;  // may be null
};

}  // namespace

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const GymImportReport& r) {
  boost::json::array rows;
  for (const auto& [line, message] : r.rejected_rows)
    rows.push_back(boost::json::object{{"line", line}, {"error", message}});
  jv = boost::json::object{{"rows", r.rows},         {"created", r.created}, {"updated", r.updated},
                           {"rejected", r.rejected}, {"rejected_rows", std::move(rows)}};
}

std::unique_ptr<GymService> make_gym_service(Store& store, std::shared_ptr<Clock> clock,
                                             std::shared_ptr<GymCache> cache, std::shared_ptr<const Config> config) {
  return std::make_unique<GymServiceImpl>(store, std::move(clock), std::move(cache), std::move(config));
}

std::unique_ptr<GymService> make_gym_service(Store& store, std::shared_ptr<Clock> clock) {
  // Services built one by one share no cache, so this one keeps none.
  return make_gym_service(store, std::move(clock), std::make_shared<GymCache>(std::chrono::milliseconds{0}), nullptr);
}

}  // namespace gymdash
