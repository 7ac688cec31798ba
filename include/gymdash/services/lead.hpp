/**
 * @file services/lead.hpp
 * @brief LeadService: lead data, status, tags, notes and history, scoped to a gym.
 */
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/model.hpp>
#include <gymdash/store.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash {

/** What create_lead did. */
struct CreateLeadResult {
  Lead lead;            ///< the stored lead (the existing one when merged)
  bool merged = false;  ///< true if the gym already had a lead with that number
};

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& jv, const CreateLeadResult& v);

/**
 * Lead management for the gyms of one store. Every method takes the gym's id
 * first and only ever sees that gym's leads: another gym's lead id is
 * NotFoundError.
 *
 * Errors: NotFoundError (unknown gym or lead), InvalidArgumentError naming the
 * field (bad phone, over-long text, bad enum …), ConflictError (an illegal
 * status move, or a concurrent change that could not be merged),
 * StorageError. Nothing is written when an error is thrown.
 *
 * Ownership: created by make_lead_service; holds references to the Store and
 * Clock it was given, which must outlive it.
 * Thread safety: safe for concurrent access from multiple threads without
 * external synchronization.
 */
class LeadService {
 public:
  LeadService() = default;
  LeadService(const LeadService&) = delete;
  LeadService& operator=(const LeadService&) = delete;
  virtual ~LeadService() = default;

  /**
   * Creates a lead. The phone is read in the gym's region and stored E.164.
   * If the gym already has a lead with that number the input is merged into
   * it instead (empty fields filled, tags added, earliest created_at kept,
   * consent withdrawn if the input withdraws it, do-not-call if either says
   * so) and `merged` is true.
   */
  virtual CreateLeadResult create_lead(std::string_view gym_id, const LeadInput& input) = 0;

  /** The lead; throws NotFoundError naming the id. */
  virtual Lead get_lead(std::string_view gym_id, std::string_view lead_id) = 0;

  /** Changes the fields present in `patch`; records the change in the history. */
  virtual Lead update_lead(std::string_view gym_id, std::string_view lead_id, const LeadPatch& patch) = 0;

  /** Deletes a lead and its history. Throws NotFoundError if it does not exist. */
  virtual void delete_lead(std::string_view gym_id, std::string_view lead_id) = 0;

  /** One page of the gym's leads matching `filter`, newest first. */
  virtual LeadPage list_leads(std::string_view gym_id, const LeadFilter& filter) = 0;

  /** Adds tags (trimmed, lower-cased, deduplicated); returns the lead. */
  virtual Lead add_tags(std::string_view gym_id, std::string_view lead_id,
                        const std::vector<std::string>& tags, std::string_view actor = {}) = 0;

  /** Removes tags; tags the lead does not have are ignored. Returns the lead. */
  virtual Lead remove_tags(std::string_view gym_id, std::string_view lead_id,
                           const std::vector<std::string>& tags, std::string_view actor = {}) = 0;

  /** Appends a timestamped note (1–10,000 characters) to the lead's history. */
  virtual LeadEvent add_note(std::string_view gym_id, std::string_view lead_id, std::string_view text,
                             std::string_view actor = {}) = 0;

  /**
   * Moves the lead's status. Forward moves may skip steps; any status may
   * move to `lost` except `converted`; a `lost` lead may move anywhere. A move
   * back, or out of `converted`, needs `force` and a `reason`; otherwise it is
   * ConflictError. Moving to the current status changes nothing.
   */
  virtual Lead change_status(std::string_view gym_id, std::string_view lead_id, const StatusChange& change) = 0;

  /** The lead's history, oldest first. */
  virtual std::vector<LeadEvent> get_history(std::string_view gym_id, std::string_view lead_id) = 0;
};

/** Makes the lead service over `store` and `clock` (both must outlive it). */
std::unique_ptr<LeadService> make_lead_service(Store& store, std::shared_ptr<Clock> clock);

}  // namespace gymdash
