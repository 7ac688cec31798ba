#include "services/call/opt_out.hpp"

#include <array>
#include <string>

namespace gymdash::opt_out {
namespace {

constexpr std::array<std::string_view, 16> kPhrases{
    "stop calling me",
    "stop calling this number",
    "quit calling me",
    "take me off your list",
    "take me off the list",
    "take me off your call list",
    "take my number off",
    "remove me from your list",
    "remove me from the list",
    "remove my number",
    "don't call again",
    "don't call me again",
    "do not call me again",
    "do not call again",
    "never call me again",
    "put me on your do not call list",
};

enum class Speaker { Unlabelled, Lead, Agent };

// A line's speaker, from a leading "label:" of at most 20 characters.
Speaker speaker_of(std::string_view line, std::string_view& rest) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon > 20) return Speaker::Unlabelled;
  std::string label;
  for (char c : line.substr(0, colon)) {
    if (c == ' ' || c == '\t') continue;
    label.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  rest = line.substr(colon + 1);
  if (label == "user" || label == "customer" || label == "lead" || label == "caller" || label == "human")
    return Speaker::Lead;
  if (label == "agent" || label == "assistant" || label == "ai" || label == "bot") return Speaker::Agent;
  rest = line;  // not a speaker we know: ordinary text ("I said: …")
  return Speaker::Unlabelled;
}

// Lower case; letters, digits and apostrophes kept; everything else one space.
void normalize_into(std::string_view text, std::string& out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    // U+2019 RIGHT SINGLE QUOTATION MARK (E2 80 99) and U+2018 read as '.
    if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(text[i + 2]) == 0x99 || static_cast<unsigned char>(text[i + 2]) == 0x98)) {
      out.push_back('\'');
      i += 2;
      continue;
    }
    char ch;
    if (c >= 'A' && c <= 'Z') ch = static_cast<char>(c - 'A' + 'a');
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'') ch = static_cast<char>(c);
    else ch = ' ';
    if (ch == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(ch);
  }
  if (!out.empty() && out.back() != ' ') out.push_back(' ');
}

bool holds_phrase(const std::string& normalized) {
  // Whole words only: the text is padded with spaces and so is each phrase.
  const std::string text = " " + normalized;
  for (auto p : kPhrases) {
    std::string needle = " ";
    needle += p;
    needle += ' ';
    if (text.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::span<const std::string_view> phrases() { return kPhrases; }

bool asks_not_to_be_called(std::string_view transcript) {
  if (transcript.empty()) return false;
  std::string lead_side;
  std::string whole;
  bool labelled = false;
  Speaker current = Speaker::Unlabelled;  // a line without a label continues the speaker before it
  std::size_t pos = 0;
  while (pos <= transcript.size()) {
    auto end = transcript.find('\n', pos);
    if (end == std::string_view::npos) end = transcript.size();
    const std::string_view line = transcript.substr(pos, end - pos);
    std::string_view rest = line;
    if (const Speaker s = speaker_of(line, rest); s != Speaker::Unlabelled) {
      labelled = true;
      current = s;
    }
    if (current == Speaker::Lead) normalize_into(rest, lead_side);
    else if (current == Speaker::Unlabelled) normalize_into(line, whole);
    pos = end + 1;
  }
  return holds_phrase(labelled ? lead_side : whole);
}

}  // namespace gymdash::opt_out
