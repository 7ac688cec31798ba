#include <gymdash/version.hpp>

namespace gymdash {
const char* version() noexcept { return GYMDASH_VERSION_STRING; }
}  // namespace gymdash
