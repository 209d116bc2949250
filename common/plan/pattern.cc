#include "common/plan/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace sluice {
namespace {

// The JIT runs on its own stack; PCRE2's default (32 KiB) gives up early on
// patterns that backtrack over long values, so each thread gets a larger one.
constexpr size_t kJitStackStart = 32 * 1024;
constexpr size_t kJitStackMax = 1024 * 1024;

// Per-thread scratch for pcre2_match: Matches() only asks whether there is a
// match, so one ovector pair fits every pattern (a match with more groups
// than pairs still returns 0, "matched"). Compiled code is shared between
// threads; this is the part PCRE2 requires to be per thread.
class MatchScratch {
 public:
  MatchScratch()
      : data_(pcre2_match_data_create(1, nullptr)),
        context_(pcre2_match_context_create(nullptr)),
        jit_stack_(pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr)) {
    // Without a stack of its own (allocation failed) the JIT uses the default.
    if (context_ != nullptr && jit_stack_ != nullptr) {
      pcre2_jit_stack_assign(context_, nullptr, jit_stack_);
    }
  }
  ~MatchScratch() {
    pcre2_jit_stack_free(jit_stack_);
    pcre2_match_context_free(context_);
    pcre2_match_data_free(data_);
  }
  MatchScratch(const MatchScratch&) = delete;
  MatchScratch& operator=(const MatchScratch&) = delete;

  pcre2_match_data* data() const { return data_; }
  pcre2_match_context* context() const { return context_; }

 private:
  pcre2_match_data* data_;
  pcre2_match_context* context_;
  pcre2_jit_stack* jit_stack_;
};

std::string ErrorText(int code) {
  PCRE2_UCHAR buffer[256];
  const int n = pcre2_get_error_message(code, buffer, sizeof(buffer));
  if (n < 0) return "error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

}  // namespace

Result<Pattern> Pattern::Compile(const std::string& pattern) {
  // DOLLAR_ENDONLY keeps `^...$` a whole-value match (by default PCRE2's $
  // also matches before a trailing newline). \C could split a UTF-8
  // character, so it is refused.
  constexpr uint32_t kOptions = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C;
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   kOptions, &error, &offset, nullptr);
  if (code == nullptr) {
    return Status::InvalidArgument("bad regex '" + pattern + "': " + ErrorText(error) +
                                   " at offset " + std::to_string(offset));
  }
  // Fails harmlessly where the JIT is unavailable: matching then interprets.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  Pattern p;
  p.text_ = pattern;
  p.code_.reset(code, [](const pcre2_code* c) { pcre2_code_free(const_cast<pcre2_code*>(c)); });
  return p;
}

bool Pattern::Matches(std::string_view text) const {
  thread_local const MatchScratch scratch;
  if (scratch.data() == nullptr) return false;  // out of memory
  // The subject is UTF-checked by PCRE2 (no PCRE2_NO_UTF_CHECK): invalid
  // UTF-8 returns a negative code, like the limits, and counts as no match.
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  int rc = pcre2_match(code_.get(), subject, text.size(), 0, 0, scratch.data(), scratch.context());
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    // The interpreter keeps its backtracking state on the heap and has more room.
    rc = pcre2_match(code_.get(), subject, text.size(), 0, PCRE2_NO_JIT, scratch.data(),
                     scratch.context());
  }
  return rc >= 0;
}

}  // namespace sluice
