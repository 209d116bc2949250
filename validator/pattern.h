// Regular expressions for the regex rule, behind one small interface so that
// the engine can change (PCRE2 once libpcre2-dev is in the setup script)
// without touching the rules.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

// A compiled pattern with search semantics: Matches() is true when the
// pattern matches anywhere in the text, like grep or JSON Schema "pattern";
// anchor it with ^...$ to require a full match. Syntax: ECMAScript (std::regex).
// Immutable after Compile; Matches() may be called from several threads.
class Pattern {
 public:
  // Fails with the engine's message for a malformed pattern.
  static Result<Pattern> Compile(const std::string& pattern);

  bool Matches(std::string_view text) const;
  const std::string& text() const { return text_; }

 private:
  Pattern() = default;
  std::string text_;
  std::shared_ptr<const std::regex> re_;
};

}  // namespace sluice
