// The C ABI's calls: call events (one, or a calls.jsonl file) and the call
// records. The rules are CallService's (docs/calls.md); this file only
// translates. See capi/include/gymdash.h for the promises.
#include <gymdash.h>

#include "c_util.hpp"
#include "file_import.hpp"

#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/call.hpp>

#include "core/json_reader.hpp"

#include <boost/json.hpp>

#include <string>

namespace {

namespace bj = boost::json;
using namespace gymdash::capi;

// {"batch_size":50000,"max_rejected_lines":100000}, every member optional.
gymdash::IngestOptions ingest_options(const char* options_json) {
  gymdash::IngestOptions options;
  if (options_json == nullptr) return options;
  const bj::value jv = json_arg("options_json", options_json);
  if (!jv.is_object()) invalid("options_json", std::string("expected a JSON object, got ") + kind_name(jv));
  gymdash::json::ObjectReader r(jv, "");
  if (const auto n = r.integer("batch_size")) {
    if (*n < 1 || *n > 1'000'000) invalid("batch_size", "must be between 1 and 1000000");
    options.batch_size = static_cast<int>(*n);
  }
  if (const auto n = r.integer("max_rejected_lines")) {
    if (*n < 0) invalid("max_rejected_lines", "must not be negative");
    options.max_rejected_lines = static_cast<std::size_t>(*n);
  }
  r.finish();
  return options;
}

}  // namespace

extern "C" {

GYMDASH_C_API int gymdash_calls_ingest_file(char** out, gymdash_t* db, const char* path, const char* options_json,
                                            gymdash_progress_fn progress, void* user) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const std::string file(text_arg("path", path));
    InputFile input = open_input_file("path", file);
    auto options = ingest_options(options_json);
    if (progress != nullptr) {
      options.progress = [progress, user](const gymdash::IngestProgress& p) {
        const std::string text = bj::serialize(bj::object{
            {"events", p.events}, {"duplicates", p.duplicates}, {"applied", p.applied}, {"rejected", p.rejected}});
        if (progress(user, text.c_str()) != 0)
          throw gymdash::ConflictError(
              "progress: ingest cancelled by the progress callback after " + std::to_string(p.events) + " events",
              "progress");
      };
    }
    const auto report = rt.calls().ingest_jsonl(input.stream, options);
    check_read_to_end("path", input);
    return emit_model(out, report);
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_call_process_event(char** out, gymdash_t* db, const char* event_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto event = model_arg<gymdash::CallEvent>("event_json", event_json);
    return emit_model(out, rt.calls().process_event(event));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_call_get(char** out, gymdash_t* db, const char* gym_id, const char* call_id) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto cid = text_arg("call_id", call_id);
    return emit_model(out, rt.calls().get_call(gid, cid));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_calls_list(char** out, gymdash_t* db, const char* gym_id, const char* filter_json) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto filter =
        filter_json == nullptr ? gymdash::CallFilter{} : model_arg<gymdash::CallFilter>("filter_json", filter_json);
    return emit_model(out, rt.calls().list_calls(gid, filter));
  } catch (...) {
    return fail_current();
  }
}

GYMDASH_C_API int gymdash_lead_calls(char** out, gymdash_t* db, const char* gym_id, const char* lead_id) {
  try {
    clear_error();
    init_out(out);
    auto& rt = runtime_of(db);
    const auto gid = text_arg("gym_id", gym_id);
    const auto lid = text_arg("lead_id", lead_id);
    return emit_model(out, rt.calls().lead_calls(gid, lid));
  } catch (...) {
    return fail_current();
  }
}

}  // extern "C"
