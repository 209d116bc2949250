// The pipeline, defined once: every stage a batch passes through, the role
// of the workers that commit it, and which stage feeds which. The
// coordinator's ledger, its wave scheduler and roster, the audit store and
// the workers read this table; nothing else spells the pipeline's order.
//
// A stage's name is what travels in Commit.stage and what the audit store
// records. The dedup shard that made a commit travels beside it, in
// Commit.dedup_shard, never inside the name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/v1/control.pb.h"

namespace sluice {

enum class Stage : uint8_t {
  kExtract,        // extractor: source rows into raw batches
  kTransform,      // transformer: a raw batch mapped onto the canonical model
  kDedupIngest,    // deduper: a transformed batch appended to one shard's log
  kDedupClaims,    // deduper on N > 1 shards, fuzzy: the pre-round's key claims
  kDedupWants,     // the pre-round's wants: the blocks that pair across shards
  kDedupGuests,    // the pre-round's guest rows taken
  kDedupBlocks,    // deduper on N > 1 shards: resolve round 1, block summaries
  kDedupPatterns,  // round 2: comparison pattern counts
  kDedupEdges,     // round 3: merge and review edges
  kDedupResolve,   // deduper: an entity resolved (fates, decisions, survivors)
  kDedupOutput,    // deduper: one output batch of survivors emitted
  kValidate,       // validator: rules on an output batch
  kLoad,           // loader: an output batch written to the target
  kReconcile,      // reconciler: a wave proved against the target
};

// What a stage works on. A batch's life has two phases: the raw batches of
// an entity's sources (extract, transform, dedup ingest), then the deduper's
// output batches (dedup output, validate, load). The rest concern a whole
// entity (the resolve and its rounds) or a wave (reconcile).
enum class BatchPhase { kIngest, kOutput, kWhole };

struct StageInfo {
  Stage stage;
  std::string_view name;  // Commit.stage, the audit store's stage, logs
  std::string_view role;  // the role of the workers that commit it
  // The stage whose output this one takes in, within one batch.
  std::optional<Stage> upstream;
  BatchPhase phase;
  // Its commits answer a lease of the coordinator's (the extraction of a
  // source or batch, a resolve, a resend), which one worker holds; the
  // other stages take their batches from the data plane.
  bool leased;
};

// The row of `stage` in the table.
const StageInfo& InfoOf(Stage stage);
inline std::string_view StageName(Stage stage) { return InfoOf(stage).name; }
// The stage called `name`; nullopt for a name not in the table.
std::optional<Stage> StageNamed(std::string_view name);
// The stage fed by `stage` within a batch; nullopt at the end of a phase.
std::optional<Stage> DownstreamOf(Stage stage);
// The stages of a batch phase, in pipeline order.
const std::vector<Stage>& StagesOf(BatchPhase phase);

// What names a stage's commit in the audit store and in messages for
// people: the stage's name, and for the ingest of dedup shard s > 0
// "dedup_ingest/<s>" (each shard's ingest is a row of its own).
std::string StageLabel(Stage stage, uint32_t dedup_shard);
// The label of `commit`, whose stage must be in the table (else its name).
std::string StageLabel(const v1::Commit& commit);

// The worker roles, in pipeline order: extractor, transformer, deduper,
// validator, loader, reconciler.
const std::vector<std::string_view>& Roles();
// The stage a worker of `role` takes its input batches into (its first);
// nullopt for an unknown role.
std::optional<Stage> InputStageOf(std::string_view role);
// The role whose workers serve `role`'s input batches ("" for the extractor
// and the reconciler, which take none).
std::string_view UpstreamRole(std::string_view role);

// A fate kind as the audit store and the reports spell it ("loaded",
// "merged", "rejected", "review", "warning"); "unknown" for anything else.
const char* FateKindName(v1::FateKind kind);

}  // namespace sluice
