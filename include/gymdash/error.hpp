/**
 * @file error.hpp
 * @brief gymdash's error model: stable error codes, an exception per code and a
 *        std::error_category.
 *
 * Every failing operation of the C++ API throws an exception derived from
 * gymdash::Error; the C ABI returns the same code as a negative int. The values
 * of ErrorCode are part of the ABI: they are never renumbered, only appended.
 *
 * Thread safety: everything here is safe to use from any thread.
 */
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace gymdash {

/** Stable error codes shared by C++, the C ABI and Python. 0 is success. */
enum class ErrorCode : int {
  Ok = 0,
  NotFound = -1,           ///< the id does not exist (or belongs to another gym)
  InvalidArgument = -2,    ///< a field of the request is missing, malformed or out of range
  AlreadyExists = -3,      ///< an object with that id already exists
  Conflict = -4,           ///< illegal state transition or concurrent modification
  ComplianceBlocked = -5,  ///< a calling rule (consent, do-not-call, hours) forbids it
  RateLimited = -6,        ///< a pacing or provider rate limit was hit
  ProviderError = -7,      ///< the voice provider answered with an error
  StorageError = -8,       ///< the storage backend failed (I/O, corruption, schema)
  Unavailable = -9,        ///< a dependency is temporarily unreachable; retrying may succeed
  Internal = -10,          ///< a bug in gymdash; the message says where
};

/** Short stable name of a code ("not_found", "invalid_argument", ...). */
const char* error_code_name(ErrorCode code) noexcept;

/** The category of gymdash error codes; message() gives a human description. */
const std::error_category& error_category() noexcept;

/** Makes a std::error_code in gymdash's category. */
std::error_code make_error_code(ErrorCode code) noexcept;

/**
 * `message` with personal data masked, as every Error keeps it: a run that
 * reads as a phone number (7 or more digits with the punctuation people type
 * in numbers, or a leading +; bare digits only from 10 on, round numbers
 * such as limits excepted) becomes `***` and its last four digits, an email
 * address `[email]` (the rules of redact(), include/gymdash/log.hpp).
 * Never throws.
 */
std::string redact_message(std::string_view message);

/**
 * Base of every exception gymdash throws. what() is the full message, which
 * names the offending field or id; values a caller passed are quoted with
 * phone numbers masked to their last four digits and email addresses
 * removed (redact_message). field() is that field's name when there is one
 * ("phone", "gym_id", "tags[3]"), else empty.
 */
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, std::string field = {})
      : std::runtime_error(redact_message(message)), code_(code), field_(std::move(field)) {}
  ErrorCode code() const noexcept { return code_; }
  const std::string& field() const noexcept { return field_; }
  std::error_code error_code() const noexcept { return make_error_code(code_); }

 private:
  ErrorCode code_;
  std::string field_;
};

#define GYMDASH_DEFINE_ERROR(Name, Code)                                  \
  class Name : public Error {                                             \
   public:                                                                \
    explicit Name(const std::string& message, std::string field = {})     \
        : Error(ErrorCode::Code, message, std::move(field)) {}            \
  };

GYMDASH_DEFINE_ERROR(NotFoundError, NotFound)
GYMDASH_DEFINE_ERROR(InvalidArgumentError, InvalidArgument)
GYMDASH_DEFINE_ERROR(AlreadyExistsError, AlreadyExists)
GYMDASH_DEFINE_ERROR(ConflictError, Conflict)
GYMDASH_DEFINE_ERROR(ComplianceBlockedError, ComplianceBlocked)
GYMDASH_DEFINE_ERROR(RateLimitedError, RateLimited)
GYMDASH_DEFINE_ERROR(ProviderError, ProviderError)
GYMDASH_DEFINE_ERROR(StorageError, StorageError)
GYMDASH_DEFINE_ERROR(UnavailableError, Unavailable)
GYMDASH_DEFINE_ERROR(InternalError, Internal)

#undef GYMDASH_DEFINE_ERROR

/** Throws the exception type matching `code` (InternalError for Ok or unknown codes). */
[[noreturn]] void throw_error(ErrorCode code, const std::string& message, std::string field = {});

/**
 * Shorthand for the most common failure: `field` is invalid. The message reads
 * "<field>: <reason>".
 */
[[noreturn]] void throw_invalid(std::string_view field, std::string_view reason);

}  // namespace gymdash

namespace std {
template <>
struct is_error_code_enum<gymdash::ErrorCode> : true_type {};
}  // namespace std
