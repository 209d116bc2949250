// One entity in flight in the current wave, as the coordinator tracks it,
// and the rule that decides which entities of a wave may start. Entities
// that do not reference each other run at the same time; an entity starts
// once every entity of its wave it references has loaded and balanced.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/plan/plan.h"
#include "coordinator/dedup_shards.h"
#include "sluice/v1/batch.pb.h"

namespace sluice::coordination {

// The extraction stream of one source of an entity. Its leases and their
// epochs are the lease book's (lease_book.h).
struct Stream {
  std::string source;
  bool done = false;
  uint64_t batches = 0;  // known when done
};

// Where an entity is: ingesting its sources into the deduper, waiting for
// the resolution, or validating and loading the deduper's output.
enum class Phase { kIngest, kResolve, kOutput };

// The state of one entity of the current wave, from its first lease until
// it is loaded and balanced (then it leaves the coordinator's active set).
struct EntityRun {
  std::string entity;
  Phase phase = Phase::kIngest;
  std::map<std::string, Stream> streams;  // by source
  bool resolved = false;
  bool output_known = false;
  uint64_t output_batches = 0;
  v1::BatchId resolution_id;
  // On N > 1 dedup shards, the current resolve's rounds and, once resolved,
  // the output batches of every shard (dedup_shards.h).
  std::optional<DedupShards> shards;
  // validation.<entity>.halt: the validators were told to release the
  // entity's held batches to the loader (validation_gate.cc).
  bool validation_released = false;
  // Incremental dedup (issue 18 item 3, residents.cc): the residents of its
  // delta's blocks were looked up (and their extraction leased, if any).
  bool residents_leased = false;
  // Loaded and balanced, its ledger written: waiting for a loader to retire
  // the rows earlier runs loaded for the records this run rejected or held
  // (issue 23, retirement.cc).
  bool retiring = false;
};

// The entities of `wave` that may start now, in the wave's load order: not
// started yet (`started` holds the running and the finished ones) and every
// entity they reference in the wave is in `finished`. Should nothing run
// and nothing be ready while entities remain (a reference cycle, which
// `plan check` refuses), the first remaining one is returned, so a wave
// never waits forever.
std::vector<std::string> ReadyEntities(const WaveSpec& wave, const std::set<std::string>& started,
                                       const std::set<std::string>& finished);

}  // namespace sluice::coordination
