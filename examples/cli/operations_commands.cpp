// config check, config defaults, metrics.
#include "command.hpp"
#include "output.hpp"

#include <gymdash/config.hpp>
#include <gymdash/error.hpp>

#include <boost/json.hpp>

#include <ostream>

namespace gymdash::cli {

int config_check(Context& ctx) {
  const std::string path = ctx.args.positional(0, "FILE");
  ctx.args.at_most(1);
  Config config;
  try {
    config = load_config_file(path);
    if (ctx.args.flag("env")) resolve_secrets(config);
  } catch (const Error& e) {
    // Every error on its own line, each naming the file and the key path.
    std::string message;
    std::string_view rest = e.what();
    while (true) {
      const auto nl = rest.find('\n');
      message += (message.empty() ? "" : "\n") + path + ": " + std::string(rest.substr(0, nl));
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
    throw_error(e.code(), message, e.field());
  }
  if (ctx.json()) ctx.out << to_json(config);
  else ctx.out << "ok\n";
  return 0;
}

int config_defaults(Context& ctx) {
  ctx.args.at_most(0);
  ctx.out << default_config_json();  // a JSON document either way
  return 0;
}

int metrics_show(Context& ctx) {
  ctx.args.at_most(0);
  const std::string format = ctx.args.get("format").value_or(ctx.json() ? "json" : "prometheus");
  if (format != "prometheus" && format != "json") {
    throw UsageError("--format: \"" + format + "\" is not a metrics format (prometheus, json)");
  }
  auto& metrics = ctx.runtime().metrics();
  if (format == "json") ctx.out << metrics.to_json() << '\n';
  else ctx.out << metrics.to_prometheus();
  return 0;
}

}  // namespace gymdash::cli
