// The order of each tier of the call order (DialQuery::Tier), shared by the
// storage backends and the lead service so that a merge of several groups
// and the SQL's ORDER BY agree.
#pragma once

#include <gymdash/store.hpp>

namespace gymdash::dial_order {

/**
 * Whether `a` comes before `b` in `tier`'s order: Callback by callback_at,
 * Fresh newest first (created_at, then id, descending), Retry by attempts,
 * then last_call_at; ties broken by id as the SQL does (byte order).
 */
inline bool before(DialQuery::Tier tier, const Lead& a, const Lead& b) {
  switch (tier) {
    case DialQuery::Tier::Callback:
      if (a.callback_at != b.callback_at) return a.callback_at < b.callback_at;
      return a.id < b.id;
    case DialQuery::Tier::Fresh:
      if (a.created_at != b.created_at) return a.created_at > b.created_at;
      return a.id > b.id;
    case DialQuery::Tier::Retry:
      if (a.attempts != b.attempts) return a.attempts < b.attempts;
      if (a.last_call_at != b.last_call_at) return a.last_call_at < b.last_call_at;
      return a.id < b.id;
  }
  return false;
}

}  // namespace gymdash::dial_order
