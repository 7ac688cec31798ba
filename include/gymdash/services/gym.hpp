/**
 * @file services/gym.hpp
 * @brief GymService: create, read and update gyms.
 */
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/model.hpp>
#include <gymdash/store.hpp>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <utility>
#include <string_view>
#include <vector>

namespace gymdash {

/** What import_gyms did. */
struct GymImportReport {
  std::int64_t rows = 0;
  std::int64_t created = 0;
  std::int64_t updated = 0;
  std::int64_t rejected = 0;
  std::vector<std::pair<std::int64_t, std::string>> rejected_rows;  ///< line and message naming the field
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const GymImportReport& v);

/**
 * Gyms: the tenants every lead, call and campaign belongs to.
 * Ownership: created by make_gym_service; holds references to the Store and
 * Clock it was given, which must outlive it.
 * Thread safety: safe for concurrent access from multiple threads.
 */
class GymService {
 public:
  GymService() = default;
  GymService(const GymService&) = delete;
  GymService& operator=(const GymService&) = delete;
  virtual ~GymService() = default;

  /**
   * Creates a gym. An empty id gets a generated one. Validates the id
   * (1–64 of `A-Z a-z 0-9 . _ -`), name (1–200), IANA time zone, phone
   * region (a region libphonenumber knows), state, call hours and caller ids
   * (read in the gym's region, stored E.164). Throws InvalidArgumentError
   * naming the field, AlreadyExistsError for a taken id.
   */
  virtual Gym create_gym(const Gym& gym) = 0;
  /** Throws NotFoundError naming the id. */
  virtual Gym get_gym(std::string_view gym_id) = 0;
  /** Every gym, ordered by id. */
  virtual std::vector<Gym> list_gyms() = 0;
  /** Replaces the gym's settings (id and created_at are kept); validates as create_gym. */
  virtual Gym update_gym(const Gym& gym) = 0;
  /**
   * Creates or updates gyms from the data contract's gyms.csv
   * (`gym_id,name,timezone,region`, optional `state`). A known id gets the
   * row's name, zone, region and state; its hours are kept. A bad row is
   * reported with its line and the field, and the others still import. A
   * header without gym_id, name and timezone is InvalidArgumentError.
   */
  virtual GymImportReport import_gyms(std::istream& csv) = 0;
};

/** Makes the gym service over `store` and `clock` (both must outlive it). */
std::unique_ptr<GymService> make_gym_service(Store& store, std::shared_ptr<Clock> clock);

}  // namespace gymdash
