// Deduplication of one entity on one shard: ingest, then resolve.
//
// Matching is behind the Matcher interface so that fuzzy matching (blocking,
// comparators, Fellegi-Sunter) replaces the exact-key matcher without
// touching ingestion, clustering or survivorship.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/core/record.h"
#include "common/core/status.h"
#include "common/plan/plan.h"
#include "deduper/packed_batches.h"
#include "deduper/packed_messages.h"
#include "deduper/shard_map.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

class EdgeDetailWriter;  // edge_detail.h

namespace guest {
class Store;
}  // namespace guest

// How a compared pair was decided.
enum class Band : uint8_t { kMerge, kReview, kDistinct };
const char* BandName(Band band);  // "merge", "review", "distinct"

// A decision that records a and b are (or may be) the same real-world
// entity. Distinct pairs are counted in MatchStats, not returned.
struct MatchEdge {
  static constexpr size_t kAbsent = SIZE_MAX;  // a record this shard does not hold
  size_t a = 0;                                // indexes into the shard's records
  size_t b = 0;
  // When a or b is kAbsent: a steward's pair, emitted by the home shards of
  // its records, which may hold only one of them; its two names (a's,
  // then b's). Null for every other edge: held inline, the two names took
  // 128 bytes of each of the millions of edges (and of every NamedEdge).
  std::shared_ptr<const std::pair<SourceKey, SourceKey>> names;
  std::string rule;  // "exact:national_id", a rule's name, "fellegi_sunter"
  Band band = Band::kMerge;
  bool scored = false;  // decided by Fellegi-Sunter weights
  double score = 0;     // total match weight (log2), when scored
  // Each comparison's level and weight, "first_name=1(jw>=0.92):+6.10; ...",
  // or the deterministic rule as written: read it with Detail(). A scored
  // edge from the fuzzy matcher holds no text here but its pattern and
  // term-frequency adjustments, and the writer that turns them into the
  // text (edge_detail.h): a quarter of the bytes.
  std::string detail;
  static constexpr size_t kAdjusted = 4;  // more marked comparisons: the text is kept
  std::shared_ptr<const EdgeDetailWriter> writer;
  uint64_t pattern = 0;
  std::array<double, kAdjusted> adjust{};  // per marked comparison (EdgeDetailWriter::marked)
  std::string Detail() const;
  // Once recorded: let go of the text (or what writes it).
  void ReleaseDetail() {
    std::string().swap(detail);
    writer.reset();
  }
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
  // Scored pairs per whole unit of match weight: floor(weight) -> pairs.
  std::map<int, uint64_t> weight_bins;
  double merge_threshold = 0, review_threshold = 0;  // of the scored comparison
  // Why the estimated m/u cannot be trusted (deduper/em_estimate.h
  // Diagnose): each names the blocking rule and comparison and suggests a
  // change. Not empty: the resolve fails unless the plan accepts it.
  std::vector<std::string> estimate_problems;
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
// Which term-frequency counts a shard's pairs read (docs/dedup.md#term-values):
// the entries of PatternCounts from `first` on are value counts, and only
// the values in `hashes[e - first]` (ascending), with the total under hash
// 0, are ever looked up. Every other count can be left out of the sum.
struct TermValuesNeeded {
  size_t first = SIZE_MAX;  // none: every entry is kept whole
  std::vector<std::vector<uint64_t>> hashes;
};
// Keeps in `counts` only what `keep` names: the term-frequency entries cut
// to the needed values (and the total); the other entries unchanged.
void KeepNeededTermValues(const TermValuesNeeded& keep, PatternCounts* counts);
// Per comparison, how many sampled pairs had each level (u estimation).
using LevelCounts = std::vector<std::vector<uint64_t>>;
// Per blocking rule, block keys (ascending): the oversize blocks.
using BlockKeys = std::vector<std::vector<uint64_t>>;

// What a matcher works on: a shard's records in canonical order (source,
// key, occurrence), which of them take part, and the shard map.
struct MatchInput {
  const Schema& schema;
  const std::vector<Record>& records;
  // Per record, 1: a later occurrence of a repeated (source, key), rejected
  // by its home shard, which takes part in no block and no sample. Empty:
  // none.
  const std::vector<uint8_t>& skip;
  const ShardMap& shards;
  // Changes whenever the records do: what round 1 computed of them (the
  // blocking keys) is reused in round 2. 0: nothing kept.
  uint64_t generation;
  // Guests (docs/dedup.md#guest-rows): per record, its index in `guests`
  // when the shard holds only its guest row (the record's values are then
  // empty), else guest::kHome. Null: every record is held whole.
  const std::vector<uint32_t>* guest_of = nullptr;
  const guest::Store* guests = nullptr;
  // Called once by Compare when it has read all it reads of the records'
  // values (blocking keys and folded rows), before the pairs are compared:
  // the caller may then let go of the values (never of the names, nor of
  // the records themselves), and must give them back before clustering
  // (docs/dedup.md#one-shards-memory). Null: nobody is told.
  std::function<void()> values_read = nullptr;
};

// Finds merge (and review) edges among a shard's records, in the phases of
// a multi-shard resolve (docs/dedup.md#scale-out); Match runs them all on
// one shard. A shard holds its home records and every member of the blocks
// it owns; each phase is computed so that the union over the shards is the
// single-shard result.
class Matcher {
 public:
  virtual ~Matcher() = default;
  // All of it, on the one shard of the run.
  // `values_read`: as MatchInput::values_read.
  std::vector<MatchEdge> Match(const Schema& schema, const std::vector<Record>& records,
                               const std::vector<uint8_t>& skip = {},
                               std::function<void()> values_read = nullptr);
  // Round 1: per blocking rule, the oversize blocks this shard owns. A
  // block's size counts every occurrence, repeats included: the owner cannot
  // yet tell which of them are repeats.
  virtual BlockKeys Oversize(const MatchInput&) { return {}; }
  // Round 2: compares the pairs of the blocks this shard owns, leaving out
  // `oversize` (every shard's, per rule; empty on one shard: found here),
  // and samples u among the home records of the virtual shards it owns.
  virtual Status Compare(const MatchInput& in, const BlockKeys& oversize) = 0;
  virtual PatternCounts Patterns() const { return {}; }
  virtual LevelCounts UCounts() const { return {}; }
  // After Compare: the term-frequency values this shard's pairs look up
  // when they are scored, so that the counts summed for Decide can be only
  // those (a shard then holds the counts of its pairs, not of the entity).
  virtual TermValuesNeeded TermValues() const { return {}; }
  // Round 3: given every shard's counts summed, estimates m and u and
  // returns the edges of this shard's pairs, and the steward pairs one of
  // whose records is one of its home records (KeepStewardEdges).
  virtual std::vector<MatchEdge> Decide(const PatternCounts& patterns, const LevelCounts& u) = 0;
  // What the last Match (or Compare and Decide) did.
  virtual const MatchStats& stats() const {
    static const MatchStats kNone;
    return kNone;
  }
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
  // Survivors (and singletons), with merged keys: held encoded until sent
  // (packed_batches.h), read back by value.
  PackedBatches batches;
  // Held serialized until sent (packed_messages.h), read back by value.
  // MERGED per merged record, REVIEW per held record, REJECTED per duplicate key.
  PackedMessages<v1::Fate> fates;
  // Every merge and review decision on a pair, with its cluster and outcome.
  PackedMessages<v1::MatchDecision> decisions;
  // Review-band pairs, the members of clusters held whole and the members
  // held by their own review rule (no member of their cluster passes
  // validation), for a steward.
  PackedMessages<v1::ReviewItem> review_items;
  // Per merged cluster, its golden record's provenance, in (source, key)
  // order of the survivors.
  PackedMessages<v1::GoldenRecord> golden;
  MatchStats stats;
  // Records this resolution accounts for: all of the shard's on a single
  // shard, its owned ones on N (out + fates, over every shard, is all).
  uint64_t in = 0;
  // The output batches of every shard's resolution, by shard (this one's
  // is batches.size()): the loader needs them all to know when an entity
  // that references itself is loaded (BatchRange.stream_batches). Empty
  // when not known (a multi-shard resolve given no round-1 summaries).
  std::vector<uint64_t> stream_batches;
};

// What a shard knows beyond its plan: the steward's decisions and the run.
struct DedupShardOptions {
  // Steward decisions on pairs of the entity (match or distinct), applied
  // before rules and scores.
  std::vector<ForcedPair> forced;
  // The steward's decisions on records (corrections, load, reject): a
  // member is judged as the validator will judge it. Not owned; must outlive
  // the shard; may be null.
  const v1::ReviewDecisions* decisions = nullptr;
  // today() of validation expressions, days since 1970-01-01: the run's
  // day (RunDay in validator/validate.h), as the validator uses.
  int64_t today = 0;
  // Test only (`--test-fault deduper:elect_invalid_survivors`): survivors
  // are elected without asking validation, as before issue 14, so that the
  // reconciler's survivor_check can be seen to fail.
  bool elect_invalid_survivors = false;
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
  // The entity's record-level validation rules (plan.rules) are compiled
  // here: a cluster's survivor is the best-ranked member they pass
  // (docs/dedup.md#clusters-and-validation); a rule that does not compile
  // fails with InvalidArgument.
  static Result<std::unique_ptr<DedupShard>> Create(const Plan& plan, const std::string& entity,
                                                    const std::string& log_path,
                                                    DedupShardOptions options);
  static Result<std::unique_ptr<DedupShard>> Create(const Plan& plan, const std::string& entity,
                                                    const std::string& log_path,
                                                    std::vector<ForcedPair> forced = {}) {
    DedupShardOptions options;
    options.forced = std::move(forced);
    return Create(plan, entity, log_path, std::move(options));
  }
  virtual ~DedupShard() = default;

  // Appends the batch durably (fsync) unless a batch with the same id was
  // already appended; returns whether it was appended. A schema that differs
  // from the shard's earlier batches fails with Corruption, a batch of
  // another entity or with ragged values with InvalidArgument; neither is
  // appended.
  virtual Result<bool> Ingest(const RecordBatch& batch) = 0;
  // The same for a batch as it arrived: `received` (its wire form, which
  // decoded to `batch`) is appended as it is rather than encoded again, and
  // the records move into the shard.
  virtual Result<bool> IngestReceived(RecordBatch batch, const v1::RecordBatch& received) = 0;
  // Clusters the ingested records and builds survivors. Deterministic: the
  // same records in any arrival order give the same output batches (sorted
  // by source and key, cut every `batch_size`, ids sequence 0..n-1 with
  // source "dedup/<shard>") and the same fates. A second (source, key) seen
  // again in another batch is rejected as a duplicate source key. The
  // records move into the result (the shard keeps no second copy); calling
  // Resolve again reads them back from the log first.
  virtual Result<Resolution> Resolve(const v1::BatchId& id_template, size_t batch_size) = 0;
  virtual size_t record_count() const = 0;

  // The same resolution on N > 1 shards in four rounds the coordinator
  // relays between (docs/dedup.md#scale-out). Each shard holds its home
  // records and every member of the blocks it owns (ShardRouter); every
  // round is computed so that the result does not depend on N.
  //
  // Round 1: this shard's home-record fingerprint, the oversize blocks it
  // owns (per rule), and the first occurrence of each of its home keys that
  // repeats.
  virtual Result<v1::DedupBlocks> SummarizeBlocks(const ShardMap& shards) = 0;
  // Round 2: given every shard's summary: compares the pairs of the blocks
  // this shard owns (repeats' later occurrences and every shard's oversize
  // blocks left out), returns pattern counts and u level counts.
  virtual Result<v1::DedupPatterns> ComparePairs(const ShardMap& shards,
                                                 const std::vector<v1::DedupBlocks>& blocks) = 0;
  // Round 3: given the summaries and every shard's counts: EM on their sum,
  // returns this shard's merge/review edges (and the steward links it
  // owns), records named by (source, key). Runs round 2 first if this
  // process has not (a replacement).
  virtual Result<v1::DedupEdges> DecidePairs(const ShardMap& shards,
                                             const std::vector<v1::DedupBlocks>& blocks,
                                             const std::vector<v1::DedupPatterns>& all) = 0;
  // Round 4, what this shard serves: for each other shard t, the home
  // records of this shard that are members of clusters t owns and that t
  // does not hold itself, computed from the edges alone.
  virtual Result<std::map<uint32_t, RecordBatch>> MembersFor(const ShardMap& shards,
                                                             const v1::DedupEdges& all) = 0;
  // Round 4: clusters over every edge as every shard does; fetch(p)
  // returns what shard p's MembersFor gave for this shard (called for the
  // shards home to a member of a cluster this shard owns); returns the
  // fates, decisions, review items and output batches ("dedup/<shard>",
  // 0..n-1) of what it owns: its home records but those in clusters owned
  // elsewhere, and the clusters whose first member is a home record.
  // From `blocks` (every shard's round-1 summary; empty: not known) it also
  // counts every shard's output batches (Resolution::stream_batches) and
  // fails with Internal when its own count is not what it outputs.
  using MemberFetch = std::function<Result<std::vector<Record>>(uint32_t shard)>;
  virtual Result<Resolution> ResolveWith(const ShardMap& shards,
                                         const std::vector<v1::DedupBlocks>& blocks,
                                         const v1::DedupEdges& all, const MemberFetch& fetch,
                                         const v1::BatchId& id_template, size_t batch_size) = 0;
  // What Create found in the existing log.
  virtual const ShardLogReplay& replay() const = 0;
};

}  // namespace sluice
