// The command line's small argument parser: `--name value`, `--name=value`,
// boolean flags (`--force`, `--force=false`), `--` ending options, and
// positionals in order. Each command declares the options it takes; anything
// else is a usage error.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gymdash::cli {

/** A mistake on the command line: printed as `gymdash: <message>`, exit status 2. */
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/** One option a command accepts. */
struct OptionSpec {
  std::string_view name;     ///< without the dashes: `gym`, `page-size`
  bool takes_value = true;   ///< false: a boolean flag
  std::string_view help;     ///< one line for the usage text, `VALUE  what it is`
};

/** What was parsed: positionals in order, options by name (flags as "true"/"false"). */
class Args {
 public:
  const std::vector<std::string>& positionals() const { return positionals_; }
  bool has(std::string_view name) const { return values_.find(name) != values_.end(); }
  std::optional<std::string> get(std::string_view name) const;
  /** The option's value; missing is UsageError naming it. */
  std::string require(std::string_view name) const;
  /** A boolean flag: absent is false. */
  bool flag(std::string_view name) const;
  /** An integer option in [min, max], or `fallback` when absent; anything else is UsageError. */
  int integer(std::string_view name, int fallback, int min, int max) const;
  /** A comma-separated option as its trimmed, non-empty items (empty when absent). */
  std::vector<std::string> list(std::string_view name) const;
  /** Positional `i`; missing is UsageError naming `what`. Extra positionals are UsageError too. */
  std::string positional(std::size_t i, std::string_view what) const;
  /** UsageError unless there are at most `n` positionals. */
  void at_most(std::size_t n) const;

 private:
  friend Args parse_args(std::span<const std::string>, std::span<const OptionSpec>);
  std::vector<std::string> positionals_;
  std::map<std::string, std::string, std::less<>> values_;
};

/** Parses `tokens` against `specs`; an unknown option or a missing value is UsageError. */
Args parse_args(std::span<const std::string> tokens, std::span<const OptionSpec> specs);

/** Splits "a,b , c" into {"a","b","c"}. */
std::vector<std::string> split_list(std::string_view text);

}  // namespace gymdash::cli
