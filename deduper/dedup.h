// Deduplication of one entity on one shard: ingest, then resolve.
//
// Matching is behind the Matcher interface so that fuzzy matching (blocking,
// comparators, Fellegi-Sunter) replaces the exact-key matcher without
// touching ingestion, clustering or survivorship.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/plan.h"
#include "common/record.h"
#include "common/status.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// A decision that records a and b are the same real-world entity.
struct MatchEdge {
  size_t a = 0;  // indexes into the shard's records
  size_t b = 0;
  std::string rule;  // "exact:national_id"
};

// Finds merge edges among a shard's records.
class Matcher {
 public:
  virtual ~Matcher() = default;
  virtual std::vector<MatchEdge> Match(const Schema& schema,
                                       const std::vector<Record>& records) = 0;
};

// Exact equality on the plan's key fields; NULL and empty keys never match.
std::unique_ptr<Matcher> MakeExactKeyMatcher(const DedupSpec& spec, const Schema& schema);

// What DedupShard::Create found in an existing shard log, for the caller to
// log: a torn tail is the normal trace of a crash mid-append, not an error.
struct ShardLogReplay {
  uint64_t batches = 0;          // batches replayed from the log
  uint64_t records = 0;          // records they hold
  uint64_t truncated_bytes = 0;  // torn last frame cut away
  // "replayed 12 batches (49152 records); truncated a torn tail of 310 bytes".
  std::string ToString() const;
};

struct Resolution {
  std::vector<RecordBatch> batches;  // survivors (and singletons), with merged keys
  std::vector<v1::Fate> fates;       // MERGED per merged record, REJECTED per duplicate key
};

// One shard's state for one entity in one run, backed by an append-only log
// so that a replacement process picks up where a killed one stopped.
class DedupShard {
 public:
  // Opens (and replays) the shard log at `log_path`, creating it and its
  // folders when missing. A torn last frame is cut away and reported in
  // replay(); a damaged frame before it fails with Corruption. Not
  // thread-safe: one shard is driven by one thread.
  static Result<std::unique_ptr<DedupShard>> Create(const Plan& plan, const std::string& entity,
                                                    const std::string& log_path);
  virtual ~DedupShard() = default;

  // Appends the batch durably (fsync) unless a batch with the same id was
  // already appended; returns whether it was appended. A schema that differs
  // from the shard's earlier batches fails with Corruption, a batch of
  // another entity or with ragged values with InvalidArgument; neither is
  // appended.
  virtual Result<bool> Ingest(const RecordBatch& batch) = 0;
  // Clusters the ingested records and builds survivors. Deterministic: the
  // same records in any arrival order give the same output batches (sorted
  // by source and key, cut every `batch_size`, ids sequence 0..n-1 with
  // source "dedup/<shard>") and the same fates. A second (source, key) seen
  // again in another batch is rejected as a duplicate source key. The
  // records move into the result (the shard keeps no second copy); calling
  // Resolve again reads them back from the log first.
  virtual Result<Resolution> Resolve(const v1::BatchId& id_template, size_t batch_size) = 0;
  virtual size_t record_count() const = 0;
  // What Create found in the existing log.
  virtual const ShardLogReplay& replay() const = 0;
};

}  // namespace sluice
