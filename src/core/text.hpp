// Text helpers: UTF-8 validation, lengths in code points, trimming.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gymdash::text {

/** True if `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF). */
bool is_valid_utf8(std::string_view s) noexcept;

/** Number of code points in valid UTF-8 `s`. */
std::size_t code_points(std::string_view s) noexcept;

/** `s` without leading and trailing ASCII whitespace. */
std::string_view trim(std::string_view s) noexcept;

/** ASCII lower-case copy. */
std::string ascii_lower(std::string_view s);

/**
 * Validates a text field: valid UTF-8 and at most `max_code_points` after
 * trimming; returns the trimmed copy. Throws InvalidArgumentError naming `field`.
 */
std::string checked_field(std::string_view field, std::string_view value, std::size_t max_code_points);

}  // namespace gymdash::text
