// Internals of phone normalization: the libphonenumber path and the fast path
// for plain NANP and United Kingdom numbers that the bulk import relies on
// (libphonenumber costs microseconds a number; an import of a million rows
// cannot pay that per row).
//
// Contract: normalize() gives exactly what normalize_reference() gives, for
// every input and region (same E.164, or the same error text);
// tests/phone_fast_test.cpp checks it on a million generated inputs.
#pragma once

#include <string>
#include <string_view>

namespace gymdash::phone_detail {

/**
 * The pure libphonenumber path: returns the E.164 form, or an empty string with
 * the reason in `*error`. Thread-safe.
 */
std::string normalize_reference(std::string_view raw, std::string_view region, std::string* error);

/** What the fast path made of an input. */
enum class FastResult {
  NotHandled,  ///< not a plain NANP number: ask libphonenumber
  Valid,       ///< `*e164` holds the number
  Invalid,     ///< libphonenumber parses it but it is not a valid number for the region
};

/**
 * The fast path. Handles, after trimming ASCII whitespace, at most 64 characters
 * made only of digits and the separators space . - ( ), holding
 * - "+1" (the plus first, the 1 right after it) and ten more digits, in any region; or
 * - in region "US" or "CA", ten digits, or eleven starting with the trunk prefix 1;
 *   where the ten-digit national number does not start with 0 or 1 (those make
 *   libphonenumber's trunk-prefix handling depend on the digits, so they are left
 *   to it); or
 * - in region "GB", "+44" (the plus first, the 44 right after it), "0044" or
 *   "0" followed by a ten-digit national number that does not start with 0.
 *   For these libphonenumber's parse strips exactly that prefix (GB's
 *   international prefix is 00, its national prefix 0 with no rewriting, and
 *   ten digits are a possible length), so the number it checks is country code
 *   44 with those ten digits; other lengths and shapes ("+44 (0)20 …", nine
 *   digits) are left to it.
 * Anything else, including "001…"/"011…" international prefixes, letters
 * (extensions, vanity numbers) or a lone "+", is NotHandled.
 *
 * NANP validity is libphonenumber's own verdict for the region, computed once per
 * region and six-digit NPA-NXX prefix from the first number seen with it and
 * memoized: in libphonenumber's NANP metadata validity depends on no digit after
 * the sixth. Thread-safe, lock-free after a prefix's first sight. GB validity
 * is libphonenumber's verdict for each number (not memoized: it depends on
 * more digits); what the path saves is the parse, two thirds of the cost.
 */
FastResult normalize_fast(std::string_view raw, std::string_view region, std::string* e164);

/** normalize_fast, falling back to normalize_reference: what normalize_phone uses. */
std::string normalize(std::string_view raw, std::string_view region, std::string* error);

}  // namespace gymdash::phone_detail
