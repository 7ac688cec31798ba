// ErrorCode names, the error category and the code → exception mapping.
#include <gymdash/error.hpp>

#include <string>

namespace gymdash {

const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::Ok: return "ok";
    case ErrorCode::NotFound: return "not_found";
    case ErrorCode::InvalidArgument: return "invalid_argument";
    case ErrorCode::AlreadyExists: return "already_exists";
    case ErrorCode::Conflict: return "conflict";
    case ErrorCode::ComplianceBlocked: return "compliance_blocked";
    case ErrorCode::RateLimited: return "rate_limited";
    case ErrorCode::ProviderError: return "provider_error";
    case ErrorCode::StorageError: return "storage_error";
    case ErrorCode::Unavailable: return "unavailable";
    case ErrorCode::Internal: return "internal";
  }
  return "unknown";
}

namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gymdash"; }
  std::string message(int value) const override {
    switch (static_cast<ErrorCode>(value)) {
      case ErrorCode::Ok: return "success";
      case ErrorCode::NotFound: return "not found";
      case ErrorCode::InvalidArgument: return "invalid argument";
      case ErrorCode::AlreadyExists: return "already exists";
      case ErrorCode::Conflict: return "conflict";
      case ErrorCode::ComplianceBlocked: return "blocked by a calling rule";
      case ErrorCode::RateLimited: return "rate limited";
      case ErrorCode::ProviderError: return "voice provider error";
      case ErrorCode::StorageError: return "storage error";
      case ErrorCode::Unavailable: return "unavailable";
      case ErrorCode::Internal: return "internal error";
    }
    return "unknown gymdash error " + std::to_string(value);
  }
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<ErrorCode>(value)) {
      case ErrorCode::NotFound: return std::errc::no_such_file_or_directory;
      case ErrorCode::InvalidArgument: return std::errc::invalid_argument;
      case ErrorCode::AlreadyExists: return std::errc::file_exists;
      case ErrorCode::Unavailable: return std::errc::resource_unavailable_try_again;
      default: return std::error_condition(value, *this);
    }
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(ErrorCode code) noexcept {
  return {static_cast<int>(code), error_category()};
}

void throw_error(ErrorCode code, const std::string& message, std::string field) {
  switch (code) {
    case ErrorCode::NotFound: throw NotFoundError(message, std::move(field));
    case ErrorCode::InvalidArgument: throw InvalidArgumentError(message, std::move(field));
    case ErrorCode::AlreadyExists: throw AlreadyExistsError(message, std::move(field));
    case ErrorCode::Conflict: throw ConflictError(message, std::move(field));
    case ErrorCode::ComplianceBlocked: throw ComplianceBlockedError(message, std::move(field));
    case ErrorCode::RateLimited: throw RateLimitedError(message, std::move(field));
    case ErrorCode::ProviderError: throw ProviderError(message, std::move(field));
    case ErrorCode::StorageError: throw StorageError(message, std::move(field));
    case ErrorCode::Unavailable: throw UnavailableError(message, std::move(field));
    case ErrorCode::Ok:
    case ErrorCode::Internal: break;
  }
  throw InternalError(message, std::move(field));
}

void throw_invalid(std::string_view field, std::string_view reason) {
  std::string message;
  message.reserve(field.size() + reason.size() + 2);
  message.append(field).append(": ").append(reason);
  throw InvalidArgumentError(message, std::string(field));
}

}  // namespace gymdash
