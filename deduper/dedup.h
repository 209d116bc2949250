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
#include "deduper/shard_map.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// How a compared pair was decided.
enum class Band : uint8_t { kMerge, kReview, kDistinct };
const char* BandName(Band band);  // "merge", "review", "distinct"

// A decision that records a and b are (or may be) the same real-world
// entity. Distinct pairs are counted in MatchStats, not returned.
struct MatchEdge {
  size_t a = 0;  // indexes into the shard's records
  size_t b = 0;
  std::string rule;  // "exact:national_id", a rule's name, "fellegi_sunter"
  Band band = Band::kMerge;
  bool scored = false;  // decided by Fellegi-Sunter weights
  double score = 0;     // total match weight (log2), when scored
  // Each comparison's level and weight, "first_name=1(jw>=0.92):+6.10; ...",
  // or the deterministic rule as written.
  std::string detail;
};

// What a matcher did, for the operator and the audit store.
struct MatchStats {
  uint64_t comparisons = 0;        // candidate pairs compared (each pair once)
  double compare_seconds = 0;      // wall time of the comparison pass
  double compare_cpu_seconds = 0;  // CPU time of the comparison pass (its thread)
  struct Rule {
    std::string name;
    uint64_t blocked = 0;          // records with a usable key
    uint64_t blocks = 0;           // blocks of two or more
    uint64_t pairs = 0;            // new candidate pairs (not blocked by an earlier rule)
    uint64_t oversize_blocks = 0;  // blocks above max_block_size, not compared
    uint64_t oversize_records = 0;
  };
  std::vector<Rule> blocking;
  uint64_t merge = 0, review = 0, distinct = 0;  // pairs per band
  std::vector<std::string> notes;                // oversize blocks, estimated m/u, ...
};

// A steward's decision on a pair, from the review store: applies before any
// rule or score.
struct ForcedPair {
  SourceKey a, b;
  bool link = false;  // true: match, false: distinct
  std::string decided_by;
};

// Per blocking rule, the comparison patterns of the compared pairs that no
// deterministic rule decided, with how many pairs had each (ascending).
using PatternCounts = std::vector<std::vector<std::pair<uint64_t, uint64_t>>>;
// The per-rule sum of several shards' counts, in the same form.
PatternCounts SumPatterns(const std::vector<PatternCounts>& shards);

// Finds merge (and review) edges among a shard's records.
class Matcher {
 public:
  virtual ~Matcher() = default;
  // All of it, on the one shard of the run.
  virtual std::vector<MatchEdge> Match(const Schema& schema,
                                       const std::vector<Record>& records) = 0;
  // The same in phases, on one shard of N that all hold every record
  // (docs/dedup.md#scale-out). Compare compares the candidate pairs that
  // `shards` gives this shard; Patterns is what estimation needs of them;
  // Decide, given the patterns of every shard summed, estimates m and
  // returns the edges of this shard's pairs. Compare then Decide(Patterns())
  // on a one-shard map is Match. The default, for a matcher that estimates
  // nothing, matches everything and keeps the edges whose first record's
  // home is this shard.
  virtual Status Compare(const Schema& schema, const std::vector<Record>& records,
                         const ShardMap& shards);
  virtual PatternCounts Patterns() const { return {}; }
  virtual std::vector<MatchEdge> Decide(const PatternCounts& all);
  // What the last Match (or Compare and Decide) did.
  virtual const MatchStats& stats() const {
    static const MatchStats kNone;
    return kNone;
  }

 private:
  std::vector<MatchEdge> compared_;  // the default Compare's edges
};

// Exact equality on the plan's key fields; NULL and empty keys never match.
std::unique_ptr<Matcher> MakeExactKeyMatcher(const DedupSpec& spec, const Schema& schema);

// Blocking, deterministic rules and Fellegi-Sunter scoring as the plan's
// dedup section says (docs/dedup.md); `forced` pairs override both. Fails
// with InvalidArgument when the spec names fields `schema` lacks.
Result<std::unique_ptr<Matcher>> MakeFuzzyMatcher(const DedupSpec& spec, const Schema& schema,
                                                  std::vector<ForcedPair> forced = {});

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
  // MERGED per merged record, REVIEW per held record, REJECTED per duplicate key.
  std::vector<v1::Fate> fates;
  // Every merge and review decision on a pair, with its cluster and outcome.
  std::vector<v1::MatchDecision> decisions;
  // Review-band pairs and the members of clusters held whole, for a steward.
  std::vector<v1::ReviewItem> review_items;
  MatchStats stats;
  // Records this resolution accounts for: all of the shard's on a single
  // shard, its owned ones on N (out + fates, over every shard, is all).
  uint64_t in = 0;
};

// One shard's state for one entity in one run, backed by an append-only log
// so that a replacement process picks up where a killed one stopped.
class DedupShard {
 public:
  // Opens (and replays) the shard log at `log_path`, creating it and its
  // folders when missing. A torn last frame is cut away and reported in
  // replay(); a damaged frame before it fails with Corruption. Not
  // thread-safe: one shard is driven by one thread.
  // `forced`: steward decisions on pairs of this entity (match or distinct),
  // applied before rules and scores.
  static Result<std::unique_ptr<DedupShard>> Create(const Plan& plan, const std::string& entity,
                                                    const std::string& log_path,
                                                    std::vector<ForcedPair> forced = {});
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

  // The same resolution on N > 1 shards that all hold every record, in the
  // three rounds the coordinator relays between (docs/dedup.md#scale-out):
  // 1. compare the candidate pairs `shards` gives this shard; returns their
  //    pattern counts and a fingerprint of the records;
  // 2. given every shard's counts: estimate m on their sum, return the
  //    merge/review edges of this shard's pairs (runs round 1 first if this
  //    process has not);
  // 3. given every shard's edges: cluster them all as Resolve does and
  //    return what this shard owns (output batches "dedup/<shard>").
  // Every shard computing the same from the same inputs is what makes the
  // result independent of N. Fails with Corruption when the shards' records
  // differ.
  virtual Result<v1::DedupPatterns> ComparePairs(const ShardMap& shards) = 0;
  virtual Result<v1::DedupEdges> DecidePairs(const ShardMap& shards,
                                             const std::vector<v1::DedupPatterns>& all) = 0;
  virtual Result<Resolution> ResolveWith(const ShardMap& shards, const v1::DedupEdges& all,
                                         const v1::BatchId& id_template, size_t batch_size) = 0;
  // What Create found in the existing log.
  virtual const ShardLogReplay& replay() const = 0;
};

}  // namespace sluice
