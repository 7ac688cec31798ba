// Phone normalization: the NANP fast path against pure libphonenumber.
//
//   phone_bench [numbers=200000]
//
// Numbers are drawn as the reference data set draws them (datagen/gen.py): the
// gyms' area codes, random exchanges and lines, the data contract's eight
// formats, read in the gym's region. The fast path starts with a cold memo, so
// its figure includes every prefix's first libphonenumber verdict. A second
// figure, "fast_all_npa_ns_per_number", draws NPA and exchange from the whole
// plan (nearly every number a new prefix): the fast path's worst case.
//
// Prints {"numbers":N,"reference_ns_per_number":…,"fast_ns_per_number":…,"speedup":…,…}.
#include "core/phone_fast.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

struct Input {
  std::string raw;
  const char* region;
};

std::string pad(std::uint64_t v, int width) {
  std::string s = std::to_string(v);
  return std::string(static_cast<std::size_t>(width) - s.size(), '0') + s;
}

std::string format(const std::string& a, const std::string& x, const std::string& l, std::uint64_t style) {
  switch (style % 8) {
    case 0: return "(" + a + ") " + x + "-" + l;
    case 1: return a + "-" + x + "-" + l;
    case 2: return a + "." + x + "." + l;
    case 3: return a + x + l;
    case 4: return "+1 " + a + " " + x + " " + l;
    case 5: return "1-" + a + "-" + x + "-" + l;
    case 6: return "+1" + a + x + l;
    default: return " " + a + " " + x + " " + l + " ";
  }
}

std::vector<Input> contract_numbers(std::size_t n) {
  struct Gym {
    const char* region;
    std::vector<const char*> areas;
  };
  const std::vector<Gym> gyms = {{"US", {"212", "646", "917", "718"}}, {"US", {"312", "773", "872"}},
                                 {"US", {"303", "720"}},               {"US", {"602", "480", "623"}},
                                 {"US", {"310", "323", "213", "818"}}, {"US", {"206", "425"}},
                                 {"CA", {"416", "647"}},               {"US", {"808"}},
                                 {"US", {"305", "786"}}};
  std::mt19937_64 rng(7);
  std::vector<Input> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& gym = gyms[rng() % gyms.size()];
    std::uint64_t exchange = 200 + rng() % 800;
    while (exchange % 100 == 11 || exchange == 555) exchange = 200 + rng() % 800;
    out.push_back({format(gym.areas[rng() % gym.areas.size()], pad(exchange, 3), pad(rng() % 10000, 4), rng()),
                   gym.region});
  }
  return out;
}

std::vector<Input> all_npa_numbers(std::size_t n) {
  std::mt19937_64 rng(11);
  std::vector<Input> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back({format(pad(200 + rng() % 800, 3), pad(200 + rng() % 800, 3), pad(rng() % 10000, 4), rng()),
                   rng() % 4 == 0 ? "CA" : "US"});
  return out;
}

template <class F>
double ns_per_number(const std::vector<Input>& inputs, F&& normalize, std::size_t* accepted) {
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t ok = 0;
  for (const auto& in : inputs) {
    std::string error;
    if (!normalize(in.raw, in.region, &error).empty()) ++ok;
  }
  const auto t1 = std::chrono::steady_clock::now();
  *accepted = ok;
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(inputs.size());
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc >= 2 ? std::strtoull(argv[1], nullptr, 10) : 200'000;
  if (n == 0) return 2;
  using gymdash::phone_detail::normalize;
  using gymdash::phone_detail::normalize_reference;

  const auto contract = contract_numbers(n);
  std::size_t ref_ok = 0, fast_ok = 0, all_ok = 0;
  const double reference_ns = ns_per_number(contract, normalize_reference, &ref_ok);
  const double fast_ns = ns_per_number(contract, normalize, &fast_ok);
  const double warm_ns = ns_per_number(contract, normalize, &fast_ok);
  const double all_npa_ns = ns_per_number(all_npa_numbers(n), normalize, &all_ok);

  std::printf("{\"numbers\":%zu,\"reference_ns_per_number\":%.1f,\"fast_ns_per_number\":%.1f,\"speedup\":%.1f,"
              "\"fast_warm_ns_per_number\":%.1f,\"fast_all_npa_ns_per_number\":%.1f,\"accepted_reference\":%zu,"
              "\"accepted_fast\":%zu}\n",
              n, reference_ns, fast_ns, reference_ns / fast_ns, warm_ns, all_npa_ns, ref_ok, fast_ok);
  return ref_ok == fast_ok ? 0 : 1;
}
