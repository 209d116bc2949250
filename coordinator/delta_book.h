// What a delta run keeps besides the ledger (issue 18, docs/delta.md): the
// high-water marks it extracts above, and its deletion scans. A scan
// compares the keys the target holds for a source (the audit store's
// KnownKeys) with the source's keys, bucket by bucket (common/core/
// key_buckets.h): the extractor answers with the buckets that differ and
// the source's keys in them, and the keys known there but absent from the
// source are the source's deletions. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/audit/audit_store.h"
#include "sluice/v1/control.pb.h"

namespace sluice::coordination {

// The sequence of a scan's batch id: beyond any extraction batch.
inline constexpr uint64_t kScanSequence = uint64_t{1} << 48;

class DeltaBook {
 public:
  // The marks the run extracts above, by (entity, source); none for a full run.
  void SetMarks(AuditStore::Marks marks) { marks_ = std::move(marks); }
  const AuditStore::Marks& marks() const { return marks_; }
  // The mark of (entity, source); "" when the run reads it whole.
  std::string MarkOf(const std::string& entity, const std::string& source) const;
  // Adds the mark of its (entity, source) to an extraction lease, when the
  // run has one: a batch is read again under the mark it was read under.
  // A lease of the residents' batches gets their key list instead.
  void Fill(v1::Lease* lease) const;

  // ---- incremental dedup (issue 18 item 3, residents.cc) ----
  // `entity` reads its delta and the residents of the delta's blocks.
  void SetIncrementalDedup(const std::string& entity) { incremental_dedup_.insert(entity); }
  bool IncrementalDedup(const std::string& entity) const {
    return incremental_dedup_.count(entity) > 0;
  }
  // The residents of (entity, source) are extracted by `keys` (sorted) as
  // the batches from sequence `first` on.
  void SetResidents(const std::string& entity, const std::string& source, uint64_t first,
                    std::vector<std::string> keys);
  // Whether batch `id` is one of the residents' (else of the delta).
  bool IsResidentBatch(const v1::BatchId& id) const;
  // Counts `records` residents extracted from (entity, source).
  void ResidentsRead(const std::string& entity, const std::string& source, uint64_t records);
  // The residents extracted from (entity, source) so far.
  uint64_t ResidentsOf(const std::string& entity, const std::string& source) const;

  // The scan lease (KIND_SCAN_KEYS, no epoch yet) of the source of `id`
  // (run, wave, entity, source) against `known`, the keys the target holds
  // (kept until the answer), in KeyBucketsFor(known.size()) buckets.
  v1::Lease BeginScan(v1::BatchId id, std::vector<std::string> known);
  // Records the epoch `lease` (from BeginScan or PendingScans) went out under.
  void Leased(const v1::Lease& lease);
  // The scans not answered yet, to lease again when an extractor died.
  std::vector<v1::Lease> PendingScans() const;
  // Takes the answer of a scan: false (and nothing changes) when it answers
  // none pending, or an older lease of it.
  bool OnScanned(const v1::Commit& commit);
  // Every scan of `entity` was answered (true when it has none).
  bool Scanned(const std::string& entity) const;
  // By source, the keys of `entity` the target holds that its scan did not
  // find at the source, sorted.
  std::map<std::string, std::vector<std::string>> Deleted(const std::string& entity) const;
  // The buckets the scan of (entity, source) compares; 0 when none.
  uint32_t BucketsOf(const std::string& entity, const std::string& source) const;
  // The source's key count as scanned, by source.
  std::map<std::string, uint64_t> SourceKeys(const std::string& entity) const;
  // Forgets the scans and residents of `entity` (it finished).
  void Forget(const std::string& entity);

 private:
  struct Scan {
    v1::Lease lease;
    // The keys the target holds and, in the same order, their buckets:
    // flat, not a node or a vector per bucket (1M keys a night).
    std::vector<std::string> known;
    std::vector<uint32_t> known_bucket;
    uint32_t buckets = 0;
    bool done = false;
    std::vector<std::string> deleted;
    uint64_t source_keys = 0;
  };
  AuditStore::Marks marks_;
  struct Residents {
    uint64_t first = 0;  // the first batch sequence that reads them
    std::vector<std::string> keys;
    uint64_t read = 0;
  };
  std::set<std::string> incremental_dedup_;
  std::map<std::pair<std::string, std::string>, Residents> residents_;  // by (entity, source)
  std::map<std::pair<std::string, std::string>, Scan> scans_;           // by (entity, source)
};

}  // namespace sluice::coordination
