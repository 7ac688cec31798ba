// The SQL of the call-order queries, shared with the query-plan test.
#pragma once

#include <gymdash/store.hpp>

#include <string>

namespace gymdash::sqlite_store {

/**
 * The statement for one tier, with or without a qualification filter
 * (Retry always has one). Parameters: ?1 gym, ?2 now, ?3 max attempts,
 * ?4 limit, then Fresh/Retry: ?5 zone, ?6 state; Retry: ?7 last_call_before;
 * the qualification comes last (?5 for Callback, ?7 for Fresh, ?8 for Retry);
 * with_exclude adds ?9, a JSON array of lead ids to skip; with_campaign adds
 * ?10 the campaign id, ?11 the campaign's max attempts and ?12 the latest
 * last campaign attempt allowed (ms): only leads enrolled in that campaign
 * (probed in campaign_leads by primary key; the tier's index still drives
 * the order and the limit).
 */
const std::string& dial_sql(DialQuery::Tier tier, bool with_qualification, bool with_exclude = false,
                            bool with_campaign = false);

/**
 * The count of one tier's due leads for LeadRepository::count_due (Callback
 * or Retry): ?1 gym, ?2 now, ?3 max attempts, Retry: ?4 last_call_before.
 */
const std::string& count_due_sql(DialQuery::Tier tier);

/**
 * The callbacks that came due in a range, for
 * LeadRepository::callbacks_due_since: ?1 gym, ?2 now, ?3 max attempts,
 * ?4 limit, ?5 after (ms). Reads the range (after, now] of the callback index.
 */
const std::string& callbacks_since_sql();

}  // namespace gymdash::sqlite_store
