// A stage commit's key list (issue 20): the keys of the records a stage
// passed on, which the ledger reads only to name the records a batch lost
// or gained when its counts or checksums disagree. A commit carries them
// packed in one string (v1::Commit.packed_out_keys: each "source\x1fkey" as
// a varint length and its bytes), or, from an older worker, as `out_keys`.
#pragma once

#include <string>
#include <string_view>

#include "sluice/v1/control.pb.h"

namespace sluice {

// Appends "source\x1fkey" to `packed` in the packed form.
void AppendPackedKey(std::string_view source, std::string_view key, std::string* packed);

// Calls `fn(std::string_view joined)` for every out key of `commit`, packed
// or not, in order; the views live as long as the commit. False when the
// packed keys are cut short (those before the damage were given).
template <typename Fn>
bool ForEachOutKey(const v1::Commit& commit, Fn&& fn);

// Whether `message` is a commit that takes one of the worker's commit
// credits (RegisterReply.commit_credits), which the coordinator gives back
// with a CommitAck once it has taken the commit in: every stage commit but a
// streaming worker's "start" notice.
bool TakesCommitCredit(const v1::Envelope& message);

// The number of out keys of `commit`, packed or not (-1: damaged).
int64_t OutKeyCount(const v1::Commit& commit);

namespace commit_keys_internal {
// The next packed key of `rest` into `key`; false at the end or on damage
// (`*damaged` then true).
bool NextPackedKey(std::string_view* rest, std::string_view* key, bool* damaged);
}  // namespace commit_keys_internal

template <typename Fn>
bool ForEachOutKey(const v1::Commit& commit, Fn&& fn) {
  for (const std::string& k : commit.out_keys()) fn(std::string_view(k));
  std::string_view rest = commit.packed_out_keys(), key;
  bool damaged = false;
  while (commit_keys_internal::NextPackedKey(&rest, &key, &damaged)) fn(key);
  return !damaged;
}

}  // namespace sluice
