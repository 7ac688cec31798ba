/**
 * @file phone.hpp
 * @brief Phone numbers: reading what people type into E.164.
 */
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gymdash {

/**
 * Reads `raw` as typed by a person (`(212) 555-0123`, `+44 20 7946 0958`,
 * `0044 20 79460958` …) in `region` (ISO 3166, `US`) and returns E.164
 * (`+12125550123`). Throws InvalidArgumentError naming `field` if the text is
 * empty, unparseable, or not a valid number. Thread-safe.
 */
std::string normalize_phone(std::string_view raw, std::string_view region, std::string_view field = "phone");

/** Like normalize_phone but returns nullopt instead of throwing. */
std::optional<std::string> try_normalize_phone(std::string_view raw, std::string_view region) noexcept;

/** True if libphonenumber knows `region` (`US`, `GB` …). */
bool is_known_phone_region(std::string_view region) noexcept;

/** `…0123`: the form in which logs and error messages show a number. */
std::string mask_phone(std::string_view phone);

}  // namespace gymdash
