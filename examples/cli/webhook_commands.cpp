// webhook ingest: one saved provider request, verified and applied.
#include "command.hpp"
#include "output.hpp"

#include "file_import.hpp"

#include <gymdash/error.hpp>
#include <gymdash/webhook.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <ostream>

namespace gymdash::cli {

namespace {

namespace json = boost::json;

std::string read_all(std::string_view field, const std::string& path) {
  auto file = capi::open_input_file(field, path);
  std::string text((std::istreambuf_iterator<char>(file.stream)), std::istreambuf_iterator<char>());
  capi::check_read_to_end(field, file);
  return text;
}

// `Name: value` (a header line as curl prints it); a line without a colon is a usage error.
void add_header(WebhookHeaders& headers, std::string_view line, std::string_view option) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0)
    throw UsageError(std::string("--") + std::string(option) + ": expected 'Name: value', got '" +
                     std::string(line.substr(0, 40)) + "'");
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  headers[std::string(line.substr(0, colon))] = std::string(value);
}

}  // namespace

int webhook_ingest(Context& ctx) {
  const std::string path = ctx.args.positional(0, "FILE");
  ctx.args.at_most(1);
  WebhookRequest request;
  request.provider = ctx.args.require("provider");
  if (request.provider != "retell" && request.provider != "vapi" && request.provider != "twilio")
    throw UsageError("--provider: expected retell, vapi or twilio, got '" + request.provider.substr(0, 32) + "'");
  request.url = ctx.args.get("url").value_or("");
  if (const auto file = ctx.args.get("headers")) {
    const std::string text = read_all("headers", *file);
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      const std::string_view line(text.data() + pos, end - pos);
      // Status lines (`HTTP/1.1 200 OK`, `POST /hook HTTP/1.1`) and blank lines are skipped.
      if (line.find(':') != std::string_view::npos && !line.starts_with("HTTP/") && line.find(" HTTP/") == std::string_view::npos)
        add_header(request.headers, line, "headers");
      pos = end + 1;
    }
  }
  if (const auto h = ctx.args.get("header")) add_header(request.headers, *h, "header");
  request.body = read_all("FILE", path);

  WebhookOptions options;
  options.tolerance = std::chrono::seconds{ctx.args.integer("tolerance", 300, 1, 86400)};
  if (const auto env = ctx.args.get("secret-env")) {
    const char* value = std::getenv(env->c_str());
    if (value == nullptr || *value == '\0')
      throw InvalidArgumentError("secret-env: environment variable " + env->substr(0, 64) + " is not set", "secret-env");
    options.secrets.emplace_back(value);
  }
  // Without --secret-env, the configuration's voice providers supply the secrets.
  const WebhookResult result = ingest_webhook(ctx.runtime(), request, options);
  if (ctx.json()) {
    print_json(ctx.out, json::value_from(result));
    return 0;
  }
  // The summary: counts and, per event, its id, outcome and the call's status.
  json::array events;
  for (const auto& r : result.results)
    events.push_back(json::object{{"event_id", r.event_id},
                                  {"result", r.kind == ProcessResult::Kind::Duplicate ? "duplicate" : "applied"},
                                  {"call_id", r.call.id},
                                  {"status", to_string(r.call.status)}});
  json::array warnings;
  for (const auto& w : result.warnings) warnings.push_back(json::string(w));
  print_json(ctx.out, json::object{{"provider", result.provider},
                                   {"kind", result.kind},
                                   {"events", result.events},
                                   {"applied", result.applied},
                                   {"duplicates", result.duplicates},
                                   {"ignored", result.ignored.empty() ? json::value(nullptr) : json::value(result.ignored)},
                                   {"warnings", std::move(warnings)},
                                   {"results", std::move(events)}});
  return 0;
}

}  // namespace gymdash::cli
