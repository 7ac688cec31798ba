// The tests' main: doctest's, except that the cases instantiated for the
// PostgreSQL backend (tests/postgres_backend.hpp) are left out, with a note,
// when no server is given in GYMDASH_TEST_POSTGRES_URI (scripts/test.sh
// starts one and sets it).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

namespace gymdash::test {
// Set by tests/postgres_backend.hpp in the test programs that include it.
bool postgres_cases_compiled = false;
}  // namespace gymdash::test

int main(int argc, char** argv) {
  doctest::Context context;
  const char* uri = std::getenv("GYMDASH_TEST_POSTGRES_URI");
  if (!uri || !*uri) context.addFilter("test-case-exclude", "*<PostgresBackend>*");
  context.applyCommandLine(argc, argv);
  const int failed = context.run();
  if ((!uri || !*uri) && gymdash::test::postgres_cases_compiled && !context.shouldExit())
    std::fprintf(stderr, "note: GYMDASH_TEST_POSTGRES_URI is not set: PostgreSQL cases not run\n");
  return failed;
}
