// The one place where secrets are taken out of text that leaves a process.
//
// A plan's `${env:...}` and `${file:...}` secrets are resolved by the plan
// parser, which registers each value here (common/plan/plan_env.cc); every
// log line goes through Redact (common/core/log.cc), as do the messages the
// coordinator stores or prints (RedactSecrets in common/plan/plan.h). So a
// secret that ends up inside an error message (a database's "no such column:
// <secret>", a path in "empty file: <path>") is never written in clear.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

// Remembers `secret` for the life of the process; "" is ignored.
void RegisterSecret(std::string_view secret);

// `text` with every registered secret replaced by "***".
std::string Redact(std::string text);

// Every word of `real` (a run of 3 or more letters, digits or non-ASCII
// bytes) that `*text` quotes replaced by "***", longest first: the parts of
// a personal value a message may quote ("bad domain 'hopital-nord'").
void RedactWordsOf(std::string_view real, std::string* text);

}  // namespace sluice
