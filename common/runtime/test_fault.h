// Test-only fault injection. `sluice run --test-fault ROLE:SPEC` hands SPEC,
// verbatim, to that worker in its RegisterReply (`fault`); the worker parses
// it once, here, and its stages test the fields. An empty SPEC is no fault.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/core/status.h"

namespace sluice {

struct TestFaults {
  // `sigkill_after=N`: kill -9 of the worker as it starts its N+1th batch,
  // taken in or produced (the worker runtime).
  std::optional<uint64_t> sigkill_after;
  // `sigkill_before_output=N`: a dedup shard kills itself as it starts its
  // N+1th output batch, whatever else it took.
  std::optional<uint64_t> sigkill_before_output;
  // `sigkill_in_round4`: a dedup shard dies in round 4 of a resolve, once it
  // published its members.
  bool sigkill_in_round4 = false;
  // `sigkill_in_preround`: a dedup shard dies in the pre-round's rows step
  // (docs/dedup.md#guests-by-request), once it published its guest rows and
  // before it took the others'.
  bool sigkill_in_preround = false;
  // `elect_invalid_survivors`: a dedup shard elects survivors without asking
  // validation (as before issue 14), so that the reconciler's
  // survivor_check can be seen to fail.
  bool elect_invalid_survivors = false;
  // `resolve_part_bytes=N`: a dedup shard sends its resolution in parts of
  // at most N bytes (at least one decision each; 1: one each), not 4 MiB;
  // the coordinator cuts N shards' merged resolution as small.
  std::optional<uint64_t> resolve_part_bytes;
  // `sigkill_after_resolve_parts=N`: a dedup shard sends its resolution one
  // decision per part and kills itself -9 once it has sent N parts.
  std::optional<uint64_t> sigkill_after_resolve_parts;
  // `drop_key=K`: the transformer loses the record with key K between
  // itself and the next stage without saying so.
  std::optional<std::string> drop_key;
  // `sigkill_at=WHEN` (`--test-fault coordinator:...`, issue 15): the
  // coordinator kills itself -9 at WHEN: `STAGE:N`, as it has recorded its
  // Nth commit at STAGE (extract, transform, dedup_ingest, dedup_resolve,
  // validate, load), or `resolve[:N]` / `reconcile[:N]`, as it hands out its
  // Nth lease of that kind (N defaults to 1).
  std::optional<std::string> sigkill_at;
  // `stall_at=WHEN` (same WHEN): the coordinator is busy for kStallSeconds
  // at WHEN, as with one very large commit on a loaded machine: longer than
  // a worker waits for its coordinator (WorkerOptions::coordinator_timeout).
  std::optional<std::string> stall_at;
  static constexpr int kStallSeconds = 25;
  // `sigsegv_on_key=K` (issue 23, item 8): the extractor crashes with
  // SIGSEGV, every time, as it reads the batch holding the record of key K
  // (a poisonous record), before anything of that batch is committed.
  std::optional<std::string> sigsegv_on_key;

  // A fault of the input, not of the process (sigsegv_on_key): it hits every
  // incarnation of the worker, where the others hit the first one only.
  bool OfTheInput() const { return sigsegv_on_key.has_value(); }

  bool operator==(const TestFaults&) const = default;
};

// Parses one SPEC ("" is no fault). An unknown fault, a missing or extra
// value, or a count that is not a number is InvalidArgument.
Result<TestFaults> ParseTestFaults(const std::string& spec);

}  // namespace sluice
