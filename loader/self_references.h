// References of an entity to itself (`hcp.parent_id`, an account
// hierarchy). The parent of a record may come later in the same entity's
// load: in the same batch, in a later batch (the deduper emits survivors in
// (source, key) order, not parents first), or merged into a survivor that
// loads later. So the loader settles self-references in two passes inside
// the entity:
//
//  1. Each batch loads at once the records with no self-reference (NULL or
//     empty); the others are held, with the batch's commit.
//  2. After every load, the held records whose parents are now in the
//     cross-reference (loaded, or merged into a loaded survivor) are loaded,
//     their self-reference rewritten to the parent's target id, in a load
//     of their own (one transaction, idempotent, with rollback data, like
//     any batch). This repeats while it loads something: a chain of
//     grandchildren settles level by level.
//  3. Once the target holds every output batch of the entity (the deduper
//     stamps on each batch the number of every dedup shard's stream, as each
//     shard counted them), a held record whose parent is not
//     among the held records is an orphan, decided by the field's
//     `reference` rule as for references to other entities (error rejects,
//     warning loads it with the reference NULL, review holds it); records
//     that only wait for each other (a cycle in the data) are orphans too.
//
// A batch's commit leaves only when all of its records are settled, so the
// ledger sees each record once with its final values: its LOADED fate's
// content hash is that of the row as it stays. Nothing is written with a
// dangling key, not even for a moment. A crash loses only the held commits:
// the coordinator sends the batches again, the loads already applied are
// found applied (each part's name is derived from its records), and the
// rest is settled again from the target.
//
// Not thread-safe; one per loader.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/connectors/connector.h"
#include "common/core/record.h"
#include "common/plan/plan.h"
#include "loader/references.h"

namespace sluice {

// A batch whose records are all settled: what its load commit needs.
struct SettledBatch {
  RecordBatch batch;    // the values as loaded
  LoadOutcome outcome;  // per record of `batch`; rejects hold every fate but LOADED
  std::vector<v1::ReviewItem> review_items;
};

class SelfReferences {
 public:
  SelfReferences(const Plan* plan, std::string run_id, Target* target)
      : plan_(plan), run_id_(std::move(run_id)), target_(target) {}

  // Per record of `batch`: whether it must wait (a self-reference is set and
  // the record was not refused already, per `refused`).
  static std::vector<bool> Deferred(const Entity& entity, const RecordBatch& batch,
                                    const std::vector<bool>& refused);

  // Notes the records of `batch_id`'s entity just loaded: children waiting
  // for them are looked up at the next Settle.
  void Loaded(const v1::BatchId& batch_id, const std::vector<Record>& records);

  // Holds `batch`, whose records not `deferred` are loaded (`outcome` and
  // `refs` are per record of the whole batch), until its deferred records
  // are settled. A batch held already (sent again under a new epoch)
  // replaces the earlier copy.
  void Hold(const Entity& entity, RecordBatch batch, LoadOutcome outcome,
            std::vector<v1::ReviewItem> review_items, const std::vector<bool>& deferred);

  // Loads the held records of `batch_id`'s entity whose parents are in the
  // target, decides the orphans once the whole entity is loaded (every
  // dedup output stream: BatchRange.stream_batches; batches without them
  // from several streams wait), and returns the batches now complete.
  // Fails when the target fails.
  Result<std::vector<SettledBatch>> Settle(const Entity& entity, const v1::BatchId& batch_id);

  // Whether records of `batch_id`'s entity (run, wave, entity) are held.
  bool Holding(const v1::BatchId& batch_id) const;

  // Forgets everything held (the run halted).
  void Clear() { streams_.clear(); }

 private:
  struct Pending {
    size_t record = 0;
    size_t column = 0;
    std::string source;    // the parent's source
    std::string key;       // the parent's key in it
    int64_t id = 0;        // the parent's target id, once known
    bool checked = false;  // looked up at least once
    bool nulled = false;   // an orphan under a warning rule: loaded NULL
  };
  struct Held {
    RecordBatch batch;
    LoadOutcome outcome;
    std::vector<v1::ReviewItem> review_items;
    std::vector<bool> waiting;  // per record
    std::vector<Pending> pending;
    size_t waiting_count = 0;
  };
  struct Stream {
    // By (source, sequence): one entity's batches, from one dedup output
    // stream (`dedup/0`) or several.
    std::map<std::pair<std::string, uint64_t>, Held> held;
    // Keys (and merged keys) loaded since the last lookup: only references
    // to them can have become resolvable.
    std::set<std::pair<std::string, std::string>> recent;
    bool looked_at_all = false;  // complete, and every open reference looked up again
  };

  // "run/wave/entity/source/": the names of the stream's batches start so.
  static std::string StreamPrefix(const v1::BatchId& id);
  // "run/wave/entity/": the records held for one entity, whatever stream.
  static std::string EntityPrefix(const v1::BatchId& id);

  // Looks up the open references never looked up, or to recently loaded
  // keys (`all`: every open reference).
  Status Resolve(const Entity& entity, Stream& stream, bool all);
  // Loads the waiting records of `held` whose references are all known.
  Result<bool> LoadReady(const Entity& entity, Stream& stream, Held& held);
  // Whether the target holds every output batch of the entity: every
  // stream's count from stream_batches, else one stream's output_batches
  // (several streams without stream_batches are never called complete).
  Result<bool> Complete(const Stream& stream);
  // Decides the orphans of a complete entity; true when some were decided.
  bool DecideOrphans(const Entity& entity, Stream& stream);
  void Orphan(const Entity& entity, Held& held, Pending& p, const std::string& why);

  const Plan* plan_;
  std::string run_id_;
  Target* target_;
  std::map<std::string, Stream> streams_;  // by EntityPrefix
};

}  // namespace sluice
