#include <gymdash/error.hpp>

#include <doctest/doctest.h>

using namespace gymdash;

TEST_CASE("error codes are stable negative ints") {
  CHECK(static_cast<int>(ErrorCode::Ok) == 0);
  CHECK(static_cast<int>(ErrorCode::NotFound) == -1);
  CHECK(static_cast<int>(ErrorCode::InvalidArgument) == -2);
  CHECK(static_cast<int>(ErrorCode::AlreadyExists) == -3);
  CHECK(static_cast<int>(ErrorCode::Conflict) == -4);
  CHECK(static_cast<int>(ErrorCode::ComplianceBlocked) == -5);
  CHECK(static_cast<int>(ErrorCode::RateLimited) == -6);
  CHECK(static_cast<int>(ErrorCode::ProviderError) == -7);
  CHECK(static_cast<int>(ErrorCode::StorageError) == -8);
  CHECK(static_cast<int>(ErrorCode::Unavailable) == -9);
  CHECK(static_cast<int>(ErrorCode::Internal) == -10);
}

TEST_CASE("throw_error throws the matching type with code and field") {
  const ErrorCode codes[] = {ErrorCode::NotFound,     ErrorCode::InvalidArgument, ErrorCode::AlreadyExists,
                             ErrorCode::Conflict,     ErrorCode::ComplianceBlocked, ErrorCode::RateLimited,
                             ErrorCode::ProviderError, ErrorCode::StorageError,   ErrorCode::Unavailable,
                             ErrorCode::Internal};
  for (auto code : codes) {
    try {
      throw_error(code, "x: broken", "x");
      FAIL("no throw");
    } catch (const Error& e) {
      CHECK(e.code() == code);
      CHECK(e.field() == "x");
      CHECK(std::string(e.what()) == "x: broken");
      CHECK((e.error_code() == make_error_code(code)));
    }
  }
  CHECK_THROWS_AS(throw_error(ErrorCode::NotFound, "m"), NotFoundError);
  CHECK_THROWS_AS(throw_error(ErrorCode::Conflict, "m"), ConflictError);
  CHECK_THROWS_AS(throw_error(ErrorCode::Ok, "m"), InternalError);
}

TEST_CASE("error category") {
  std::error_code ec = ErrorCode::NotFound;  // is_error_code_enum
  CHECK(ec.category().name() == std::string("gymdash"));
  CHECK(ec.message() == "not found");
  CHECK((ec == std::errc::no_such_file_or_directory));
  CHECK(std::string(error_code_name(ErrorCode::ComplianceBlocked)) == "compliance_blocked");
}

TEST_CASE("throw_invalid names the field") {
  try {
    throw_invalid("phone", "is empty");
  } catch (const InvalidArgumentError& e) {
    CHECK(std::string(e.what()) == "phone: is empty");
    CHECK(e.field() == "phone");
  }
}
