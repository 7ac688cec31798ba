// Fuzz target: phone normalization, differential.
//
// Input: the first byte picks the region (US, GB, CA: byte % 3), the rest is
// the number as a person typed it. The production path (the NANP fast path,
// falling back to libphonenumber) must give exactly what libphonenumber alone
// gives: the same E.164 number, or the same error text (the contract of
// src/core/phone_fast.hpp, which tests/phone_fast_test.cpp checks on
// generated inputs). The public functions must agree with it: normalize_phone
// returns that number or throws InvalidArgumentError naming the field, and
// try_normalize_phone returns it or nullopt. Any mismatch aborts.
#include "core/phone_fast.hpp"

#include <gymdash/error.hpp>
#include <gymdash/phone.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

namespace {

const char* const kRegions[] = {"US", "GB", "CA"};

[[noreturn]] void mismatch(const char* what, std::string_view raw, const char* region, const std::string& a,
                           const std::string& b) {
  std::fprintf(stderr, "fuzz_phone: %s for \"%.*s\" in %s:\n  %s\n  %s\n", what, static_cast<int>(raw.size()),
               raw.data(), region, a.c_str(), b.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const char* region = kRegions[data[0] % 3];
  const std::string_view raw(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string ref_error, got_error;
  const std::string ref = gymdash::phone_detail::normalize_reference(raw, region, &ref_error);
  const std::string got = gymdash::phone_detail::normalize(raw, region, &got_error);
  if (got != ref) mismatch("fast path and libphonenumber give other numbers", raw, region, got, ref);
  if (got_error != ref_error) mismatch("fast path and libphonenumber give other errors", raw, region, got_error, ref_error);
  if (ref.empty() == ref_error.empty()) mismatch("neither a number nor an error (or both)", raw, region, ref, ref_error);

  const auto tried = gymdash::try_normalize_phone(raw, region);
  if (tried.value_or("") != ref) mismatch("try_normalize_phone disagrees", raw, region, tried.value_or("(none)"), ref);

  try {
    const std::string e164 = gymdash::normalize_phone(raw, region, "phone");
    if (e164 != ref) mismatch("normalize_phone disagrees", raw, region, e164, ref);
    (void)gymdash::mask_phone(e164);
  } catch (const gymdash::InvalidArgumentError& e) {
    if (!ref.empty()) mismatch("normalize_phone refused a valid number", raw, region, e.what(), ref);
    if (e.field() != "phone") mismatch("normalize_phone's error names another field", raw, region, e.field(), "phone");
  } catch (const std::exception& e) {
    mismatch("normalize_phone threw something else", raw, region, e.what(), ref);
  }
  (void)gymdash::mask_phone(raw);
  return 0;
}
