// Recordings and retention: what a call may keep, and the purges (retention
// per gym, and on request for one lead). The rules are in docs/calls.md,
// "Recordings and retention"; CallService calls these and holds no rule of
// its own about recordings.
#pragma once

#include <gymdash/config.hpp>
#include <gymdash/model.hpp>
#include <gymdash/services/call.hpp>
#include <gymdash/store.hpp>

#include <string_view>

namespace gymdash::recordings {

/** What keep_rules() changed on a call. */
struct Kept {
  bool dropped_for_consent = false;  ///< recording_consent is false: the recording_url was emptied
};

/**
 * Applies the rules to a merged call before it is stored: a call whose
 * recording_consent is false keeps no recording_url; a purged call
 * (purged_at set) takes no recording_url, transcript or summary again.
 */
Kept keep_rules(Call& call);

/**
 * Retention for every gym of the store: calls that started more than the
 * gym's recording_retention_days before `now` are purged, one transaction
 * per gym. `config` null means the default policy.
 */
PurgeReport purge_expired(Store& store, const Config* config, Timestamp now);

/**
 * A purge on request of one lead's calls, with its `recordings_purged`
 * history entry, in one transaction. Throws NotFoundError naming gym_id or
 * lead_id, InvalidArgumentError naming actor or reason.
 */
PurgeReport purge_lead(Store& store, std::string_view gym_id, std::string_view lead_id, std::string_view actor,
                       std::string_view reason, Timestamp now);

}  // namespace gymdash::recordings
