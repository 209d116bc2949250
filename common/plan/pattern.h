// Regular expressions for the regex rule and the plan parser's check of it,
// behind one small interface so that both use the same engine (PCRE2).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/core/status.h"

struct pcre2_real_code_8;

namespace sluice {

// A compiled pattern with search semantics: Matches() is true when the
// pattern matches anywhere in the text, like grep or JSON Schema "pattern";
// anchor it with ^...$ to require a full match ($ matches only at the very
// end, not before a final newline). Syntax: PCRE2 in UTF-8 mode; \d, \s, \w
// and [[:alpha:]] stay ASCII. JIT-compiled when the platform supports it.
// Immutable after Compile and cheap to copy (copies share the compiled code);
// Matches() may be called from several threads at once.
class Pattern {
 public:
  // Fails with "bad regex '<pattern>': <PCRE2's message> at offset <n>" for
  // a malformed pattern (or one that is not valid UTF-8).
  static Result<Pattern> Compile(const std::string& pattern);

  // False, rather than an error, when the text is not valid UTF-8 or the
  // match gives up on PCRE2's backtracking or memory limits.
  bool Matches(std::string_view text) const;
  const std::string& text() const { return text_; }

 private:
  Pattern() = default;
  std::string text_;
  std::shared_ptr<const pcre2_real_code_8> code_;
};

}  // namespace sluice
