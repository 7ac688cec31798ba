// Opt-out phrases: a lead who says "stop calling me" on a call is put on the
// do-not-call list, whatever outcome the voice system reported. The phrase
// list and the matching rules are in docs/calls.md.
#pragma once

#include <span>
#include <string_view>

namespace gymdash::opt_out {

/** The phrases, lower case, apostrophes as ASCII '. */
std::span<const std::string_view> phrases();

/**
 * True if the lead's side of `transcript` holds one of the phrases. Lines
 * that start with a speaker label are read only when the speaker is the lead
 * (`user:`, `customer:`, `lead:`, `caller:`, `human:`); lines of the agent
 * (`agent:`, `assistant:`, `ai:`, `bot:`) never count. A transcript without
 * labels is read whole. Case, punctuation, runs of spaces and typographic
 * apostrophes do not matter.
 */
bool asks_not_to_be_called(std::string_view transcript);

}  // namespace gymdash::opt_out
