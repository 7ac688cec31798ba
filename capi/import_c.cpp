// The C ABI's imports: leads from a CSV file or from CSV text in memory, gyms
// from a gyms.csv file. The rules are LeadService::import_leads' and
// GymService::import_gyms' (docs/import.md); this file opens the input,
// reads the options and turns the host's progress callback into
// ImportOptions::progress. See capi/include/gymdash.h for the promises.
#include <gymdash.h>

#include "c_util.hpp"
#include "file_import.hpp"

#include <gymdash/error.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/services/lead.hpp>

#include "core/json_reader.hpp"

#include <boost/json.hpp>

#include <cstring>
#include <istream>
#include <streambuf>
#include <string>
#include <string_view>

namespace {

namespace bj = boost::json;
using namespace gymdash::capi;

// The options object: every member optional, read strictly (an unknown member
// or a wrong type names the member).
gymdash::ImportOptions import_options(const char* options_json, std::string default_source) {
  gymdash::ImportOptions options;
  options.source = std::move(default_source);
  if (options_json == nullptr) return options;
  const bj::value jv = json_arg("options_json", options_json);
  if (!jv.is_object()) invalid("options_json", std::string("expected a JSON object, got ") + kind_name(jv));
  gymdash::json::ObjectReader r(jv, "");
  if (const auto n = r.integer("batch_size")) {
    if (*n < 1 || *n > 1'000'000) invalid("batch_size", "must be between 1 and 1000000");
    options.batch_size = static_cast<int>(*n);
  }
  if (auto s = r.string("source")) options.source = std::move(*s);
  if (const auto n = r.integer("max_rejected_rows")) {
    if (*n < 0) invalid("max_rejected_rows", "must not be negative");
    options.max_rejected_rows = static_cast<std::size_t>(*n);
  }
  r.finish();
  return options;
}

std::string progress_json(const gymdash::ImportProgress& p) {
  return bj::serialize(bj::object{{"bytes_read", p.bytes_read},
                                  {"bytes_total", p.bytes_total},
                                  {"rows", p.rows},
                                  {"imported", p.imported},
                                  {"merged_duplicates", p.merged_duplicates},
                                  {"rejected", p.rejected}});
}

// Calls the host after each committed batch; a non-zero answer stops the
// import with ConflictError (ImportOptions::progress may throw: the batches
// already committed stay).
void attach_progress(gymdash::ImportOptions& options, gymdash_progress_fn progress, void* user) {
  if (progress == nullptr) return;
  options.progress = [progress, user](const gymdash::ImportProgress& p) {
    const std::string text = progress_json(p);
    if (progress(user, text.c_str()) != 0) {
      throw gymdash::ConflictError(
          "progress: import cancelled by the progress callback after " + std::to_string(p.rows) + " rows", "progress");
    }
  };
}

// Reads CSV text in place: no copy of up to 256 MiB.
class TextBuf : public std::streambuf {
 public:
  TextBuf(const char* data, std::size_t size) {
    char* p = const_cast<char*>(data);  // only ever read
    setg(p, p, p + size);
  }
};

}  // namespace

extern "C" {

GYMDASH_C_API int gymdash_leads_import_file(char** out, gymdash_t* db, const char* path, const char* options_json,
                                            gymdash_progress_fn progress, void* user) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const std::string file(text_arg("path", path));
    InputFile input = open_input_file("path", file);
    auto options = import_options(options_json, input.name);
    options.bytes_total = input.size;
    attach_progress(options, progress, user);
    const auto report = rt.leads().import_leads(input.stream, options);
    check_read_to_end("path", input);
    return emit_model(out, report);
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_leads_import_csv(char** out, gymdash_t* db, const char* csv_text, const char* options_json,
                                           gymdash_progress_fn progress, void* user) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    if (csv_text == nullptr) invalid("csv_text", "must not be NULL");
    // Not text_arg: the limit is GYMDASH_MAX_CSV_BYTES, and the import checks
    // the encoding row by row (bad_encoding) as it does for a file.
    const std::size_t size = ::strnlen(csv_text, std::size_t{GYMDASH_MAX_CSV_BYTES} + 1);
    if (size > GYMDASH_MAX_CSV_BYTES) invalid("csv_text", "is longer than the limit of 268435456 bytes");
    auto options = import_options(options_json, "import");
    options.bytes_total = size;
    attach_progress(options, progress, user);
    TextBuf buf(csv_text, size);
    std::istream in(&buf);
    return emit_model(out, rt.leads().import_leads(in, options));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_gyms_import_file(char** out, gymdash_t* db, const char* path) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const std::string file(text_arg("path", path));
    InputFile input = open_input_file("path", file);
    const auto report = rt.gyms().import_gyms(input.stream);
    check_read_to_end("path", input);
    return emit_model(out, report);
  } catch (...) {
    return fail_current();
  }
}

}  // extern "C"
