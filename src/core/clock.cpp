#include <gymdash/clock.hpp>

namespace gymdash {
namespace {
class SystemClock final : public Clock {
 public:
  Timestamp now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }
};
}  // namespace

std::shared_ptr<Clock> make_system_clock() { return std::make_shared<SystemClock>(); }
}  // namespace gymdash
