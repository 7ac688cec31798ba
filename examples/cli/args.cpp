#include "args.hpp"

#include <algorithm>
#include <charconv>

namespace gymdash::cli {

namespace {

const OptionSpec* find_spec(std::span<const OptionSpec> specs, std::string_view name) {
  const auto it = std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == name; });
  return it == specs.end() ? nullptr : &*it;
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

}  // namespace

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<std::string> Args::get(std::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::require(std::string_view name) const {
  auto v = get(name);
  if (!v) throw UsageError("missing --" + std::string(name));
  return *v;
}

bool Args::flag(std::string_view name) const { return get(name).value_or("false") == "true"; }

int Args::integer(std::string_view name, int fallback, int min, int max) const {
  const auto v = get(name);
  if (!v) return fallback;
  int n = 0;
  const auto* end = v->data() + v->size();
  const auto [p, ec] = std::from_chars(v->data(), end, n);
  if (ec != std::errc() || p != end || v->empty()) {
    throw UsageError("--" + std::string(name) + ": \"" + *v + "\" is not an integer");
  }
  if (n < min || n > max) {
    throw UsageError("--" + std::string(name) + ": " + *v + " is out of range (" + std::to_string(min) + "–" +
                     std::to_string(max) + ")");
  }
  return n;
}

std::vector<std::string> Args::list(std::string_view name) const {
  const auto v = get(name);
  return v ? split_list(*v) : std::vector<std::string>{};
}

std::string Args::positional(std::size_t i, std::string_view what) const {
  if (i >= positionals_.size()) throw UsageError("missing " + std::string(what));
  return positionals_[i];
}

void Args::at_most(std::size_t n) const {
  if (positionals_.size() > n) throw UsageError("unexpected argument \"" + positionals_[n] + "\"");
}

Args parse_args(std::span<const std::string> tokens, std::span<const OptionSpec> specs) {
  Args args;
  bool options_done = false;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    if (options_done || token.size() < 2 || token.compare(0, 2, "--") != 0) {
      if (!options_done && token.size() > 1 && token[0] == '-' && token != "-") {
        throw UsageError("unknown option " + token + " (options are spelled --name)");
      }
      args.positionals_.push_back(token);
      continue;
    }
    if (token == "--") {
      options_done = true;
      continue;
    }
    const auto eq = token.find('=');
    const std::string name = token.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const OptionSpec* spec = find_spec(specs, name);
    if (spec == nullptr) throw UsageError("unknown option --" + name);
    std::string value;
    if (spec->takes_value) {
      if (eq != std::string::npos) {
        value = token.substr(eq + 1);
      } else if (i + 1 < tokens.size()) {
        value = tokens[++i];
      } else {
        throw UsageError("--" + name + " needs a value");
      }
    } else if (eq == std::string::npos) {
      value = "true";
    } else {
      value = token.substr(eq + 1);
      if (value == "yes" || value == "1") value = "true";
      if (value == "no" || value == "0") value = "false";
      if (value != "true" && value != "false") throw UsageError("--" + name + ": expected true or false");
    }
    args.values_[name] = std::move(value);
  }
  return args;
}

}  // namespace gymdash::cli
