#include <gymdash/gymdash.hpp>

#include <cstdio>

int main() {
  auto rt = gymdash::Runtime::open("memory:");
  gymdash::Gym gym;
  gym.id = "gym-den-01";
  gym.name = "Mile High Fitness";
  gym.timezone = "America/Denver";
  rt->gyms().create_gym(gym);
  gymdash::LeadInput in;
  in.phone = "303.861.1234";
  auto lead = rt->leads().create_lead("gym-den-01", in).lead;
  std::printf("gymdash %s (headers %s): lead %s\n", gymdash::version(), GYMDASH_VERSION_STRING, lead.phone.c_str());
  return lead.phone == "+13038611234" ? 0 : 1;
}
