// gymdash — the command-line tool: configuration, metrics, gyms and leads,
// CSV imports, who to call and the do-not-call lists, over the C++ library.
//
//   gymdash [--db URI] [--config FILE] [--log-level LEVEL] [--json] COMMAND [ARGS]
//
// Output goes to stdout (tables, or the library's JSON with --json); errors go
// to stderr as `gymdash: <message>`. Exit status: 0 ok, 1 the operation
// failed, 2 a usage error. `gymdash help` lists the commands (command.hpp,
// commands.cpp hold the table).
#include "command.hpp"

#include <gymdash/error.hpp>
#include <gymdash/version.hpp>

#include <algorithm>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace gymdash::cli;

// Each line of a (possibly multi-line) message as `gymdash: <line>`.
void print_error(std::string_view message) {
  while (true) {
    const auto nl = message.find('\n');
    std::cerr << "gymdash: " << message.substr(0, nl) << '\n';
    if (nl == std::string_view::npos) break;
    message.remove_prefix(nl + 1);
  }
}

const OptionSpec* global_spec(std::string_view name) {
  for (const auto& o : global_options())
    if (o.name == name) return &o;
  return nullptr;
}

// The command named by the first words of `tokens` (global options may come
// before it). Removes its words from `tokens`; nullptr when there are none.
const Command* select_command(std::vector<std::string>& tokens) {
  std::vector<std::size_t> words;  // indices of the leading words
  for (std::size_t i = 0; i < tokens.size() && words.size() < 2; ++i) {
    const std::string& t = tokens[i];
    if (t == "--") break;
    if (t.rfind("--", 0) == 0) {
      const auto eq = t.find('=');
      const OptionSpec* spec = global_spec(std::string_view(t).substr(2, eq == std::string::npos ? t.npos : eq - 2));
      if (spec == nullptr) {
        if (words.empty()) throw UsageError("unknown option " + t.substr(0, eq) + " (a command's options follow it)");
        break;
      }
      if (spec->takes_value && eq == std::string::npos) ++i;
      continue;
    }
    words.push_back(i);
  }
  if (words.empty()) return nullptr;
  const auto erase = [&](std::size_t n) {
    for (std::size_t k = n; k-- > 0;) tokens.erase(tokens.begin() + static_cast<std::ptrdiff_t>(words[k]));
  };
  const std::string first = tokens[words[0]];
  const std::string both = words.size() > 1 ? first + " " + tokens[words[1]] : std::string();
  for (const auto& c : commands()) {
    if (!both.empty() && c.path == both) {
      erase(2);
      return &c;
    }
  }
  for (const auto& c : commands()) {
    if (c.path == first) {
      erase(1);
      return &c;
    }
  }
  // A known group with an unknown or missing subcommand: say which exist.
  std::string group_commands;
  for (const auto& c : commands()) {
    if (c.path.rfind(first + " ", 0) == 0) {
      group_commands += (group_commands.empty() ? "" : ", ") + std::string(c.path.substr(first.size() + 1));
    }
  }
  if (!group_commands.empty()) {
    throw UsageError((both.empty() ? "missing " + first + " command" : "unknown command \"" + both + "\"") + " (" +
                     first + " commands: " + group_commands + ")");
  }
  throw UsageError("unknown command \"" + first + "\" (see gymdash help)");
}

int run(std::vector<std::string> tokens) {
  const Command* command = select_command(tokens);
  if (command == nullptr) {
    const Args args = parse_args(tokens, global_options());
    args.at_most(0);
    if (args.flag("help")) {
      Context ctx(args, std::cout);
      return help(ctx);
    }
    throw UsageError("missing command (see gymdash help)");
  }
  std::vector<OptionSpec> specs(global_options().begin(), global_options().end());
  specs.insert(specs.end(), command->options.begin(), command->options.end());
  const Args args = parse_args(tokens, specs);
  if (args.flag("help")) {
    // `gymdash leads list --help` is `gymdash help leads list`.
    const std::vector<OptionSpec> none;
    std::vector<std::string> help_tokens;
    const auto space = command->path.find(' ');
    help_tokens.emplace_back(command->path.substr(0, space));
    if (space != std::string_view::npos) help_tokens.emplace_back(command->path.substr(space + 1));
    const Args help_args = parse_args(help_tokens, none);
    Context ctx(help_args, std::cout);
    return help(ctx);
  }
  Context ctx(args, std::cout);
  const int status = command->run(ctx);
  std::cout.flush();
  if (!std::cout) throw std::runtime_error("cannot write to stdout");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> tokens(argv + std::min(argc, 1), argv + argc);
  if (tokens.size() == 1 && tokens[0] == "--version") {
    std::cout << "gymdash " << gymdash::version() << '\n';
    return 0;
  }
  try {
    return run(std::move(tokens));
  } catch (const UsageError& e) {
    print_error(e.what());
    return 2;
  } catch (const gymdash::Error& e) {
    print_error(e.what());
    return 1;
  } catch (const std::exception& e) {
    print_error(e.what());
    return 1;
  } catch (...) {
    print_error("unknown error");
    return 1;
  }
}
