// Phone numbers through libphonenumber.
#include <gymdash/error.hpp>
#include <gymdash/phone.hpp>

#include "core/text.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <fmt/format.h>

namespace gymdash {

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

const PhoneNumberUtil& util() {
  // GetInstance is a thread-safe singleton; its const methods are thread-safe.
  static const PhoneNumberUtil* instance = PhoneNumberUtil::GetInstance();
  return *instance;
}

// Returns the E.164 form, or an error text.
std::string normalize(std::string_view raw, std::string_view region, std::string* error) {
  const auto trimmed = text::trim(raw);
  if (trimmed.empty()) {
    *error = "is empty";
    return {};
  }
  if (trimmed.size() > 64) {
    *error = "is too long to be a phone number";
    return {};
  }
  PhoneNumber number;
  const std::string region_str(region);
  const auto rc = util().Parse(std::string(trimmed), region_str, &number);
  if (rc != PhoneNumberUtil::NO_PARSING_ERROR) {
    *error = "is not a phone number";
    return {};
  }
  if (!util().IsValidNumberForRegion(number, region_str)) {
    *error = fmt::format("is not a valid number for region {}", region);
    return {};
  }
  std::string out;
  util().Format(number, PhoneNumberUtil::E164, &out);
  return out;
}

}  // namespace

std::string normalize_phone(std::string_view raw, std::string_view region, std::string_view field) {
  std::string error;
  auto out = normalize(raw, region, &error);
  if (out.empty()) {
    // Never echo the whole number: it is personal data.
    throw_invalid(field, fmt::format("\"{}\" {}", mask_phone(raw), error));
  }
  return out;
}

std::optional<std::string> try_normalize_phone(std::string_view raw, std::string_view region) noexcept {
  try {
    std::string error;
    auto out = normalize(raw, region, &error);
    if (out.empty()) return std::nullopt;
    return out;
  } catch (...) {
    return std::nullopt;
  }
}

bool is_known_phone_region(std::string_view region) noexcept {
  try {
    std::set<std::string> regions;
    util().GetSupportedRegions(&regions);
    return regions.count(std::string(region)) > 0;
  } catch (...) {
    return false;
  }
}

std::string mask_phone(std::string_view phone) {
  std::string digits;
  for (char c : phone)
    if (c >= '0' && c <= '9') digits.push_back(c);
  if (digits.size() <= 4) return "***";
  return "***" + digits.substr(digits.size() - 4);
}

}  // namespace gymdash
