// Throughput of the streaming CSV reader on a generated leads-like file.
//
//   csv_bench [size_mb=100] [path]   (writes the file to path, default in /tmp, then reads it)
//   csv_bench --read path            (reads an existing file)
//
// Prints {"bytes":…,"records":…,"malformed":…,"seconds":…,"mb_per_s":…}.
#include "core/csv.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

namespace {

void write_file(const std::string& path, std::size_t bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::mt19937_64 rng(7);
  static const char* const first[] = {"Maria", "James", "Aisha", "Wei", "Olivia", "Chlo\xC3\xA9"};
  static const char* const last[] = {"Garcia", "O'Brien", "M\xC3\xBCller", "Nguyen", "Smith"};
  static const char* const sources[] = {"web_form", "facebook_ads", "google_ads", "instagram", "referral"};
  std::string row;
  std::size_t written = 0;
  out << "external_id,gym_id,first_name,last_name,phone,email,source,created_at,interest,timeline,consent,tags\r\n";
  for (std::uint64_t i = 0; written < bytes; ++i) {
    row.clear();
    const auto* f = first[rng() % 6];
    const auto* l = last[rng() % 5];
    row += "L7-" + std::to_string(10000000 + i) + ",gym-nyc-01,";
    row += f;
    row += ',';
    row += l;
    row += ",(212) " + std::to_string(200 + rng() % 800) + "-" + std::to_string(1000 + rng() % 9000) + ",";
    row += std::string(f) + "." + std::to_string(i) + "@example.com,";
    row += sources[rng() % 5];
    row += ",2026-10-13T12:21:44Z,";
    // Some fields need quotes, as an export of free text does.
    row += (i % 10 == 0) ? "\"weight loss, then strength\"" : "personal training";
    row += ",this month,yes,";
    row += (i % 7 == 0) ? "\"trial-pass;vip\"" : "student";
    row += "\r\n";
    out << row;
    written += row.size();
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = "/tmp/gymdash_csv_bench.csv";
  if (argc >= 3 && std::string(argv[1]) == "--read") {
    path = argv[2];
  } else {
    const std::size_t mb = argc >= 2 ? std::strtoul(argv[1], nullptr, 10) : 100;
    if (argc >= 3) path = argv[2];
    write_file(path, mb << 20);
  }

  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  gymdash::csv::Reader reader(in);
  std::uint64_t records = 0, malformed = 0, field_bytes = 0;
  for (;;) {
    const auto status = reader.next();
    if (status == gymdash::csv::ReadStatus::End) break;
    if (status == gymdash::csv::ReadStatus::Malformed) ++malformed;
    ++records;
    for (auto f : reader.fields()) field_bytes += f.size();  // touch every field
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto bytes = reader.bytes_consumed();
  std::printf("{\"bytes\":%llu,\"records\":%llu,\"malformed\":%llu,\"field_bytes\":%llu,\"seconds\":%.3f,"
              "\"mb_per_s\":%.1f}\n",
              static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(records),
              static_cast<unsigned long long>(malformed), static_cast<unsigned long long>(field_bytes), seconds,
              static_cast<double>(bytes) / (1 << 20) / seconds);
  return 0;
}
