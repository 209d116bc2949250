// The reconciler's proof: the source side (extracted records and each one's
// fate in the audit store) against the actual target.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/connectors/connector.h"
#include "common/core/status.h"
#include "common/plan/plan.h"
#include "reconciler/differences.h"
#include "reconciler/ri_check.h"
#include "reconciler/segments.h"
#include "reconciler/sorted_fates.h"
#include "reconciler/survivor_check.h"

namespace sluice {

// What the audit store says must be in the target for one entity.
struct ExpectedLoad {
  std::string source;
  std::string key;
  uint64_t content_hash = 0;
  int64_t target_id = 0;
  // The loaded values' canonical encoding (issue 17): what a row that
  // differs is compared with, field by field. "" when not sent.
  std::string loaded_values;
};

struct ReconcileInput {
  std::string run_id;
  int wave = 0;
  std::string entity;
  // Per source: extracted count and key checksum (from the ledger) ...
  std::map<std::string, uint64_t> extracted;
  std::map<std::string, uint64_t> extracted_checksum;
  // ... and each terminal fate as recorded (kind per source key).
  std::map<std::string, std::map<std::string, uint64_t>> fate_counts;  // source -> kind -> n
  std::map<std::string, uint64_t> fate_checksum;  // source -> sum KeyHash over fates
  std::map<std::string, int64_t> decimal_sums;    // field -> expected sum of loaded units
  // Every MERGED fate (kept whole: the survivor check follows chains to
  // arbitrary keys; a share of the records, not all of them).
  std::vector<MergedLink> merged;
  // The in-memory form, for ReconcileEntity (the worker streams them
  // through SortedFates instead and leaves these empty): every LOADED fate,
  // and every REJECTED and REVIEW fate by FateKey (where a survivor chain
  // may end without a row).
  std::vector<ExpectedLoad> loaded;
  std::map<std::string, RecordFate> unloaded;
  // Issue 17: the fields compared segment by segment (SegmentFields).
  std::vector<std::string> segment_fields;
};

// How one source's extracted records are accounted for by their fates.
struct SourceBalance {
  uint64_t extracted = 0;
  std::map<std::string, uint64_t> fates;  // terminal kind ("loaded", ...) -> n
  uint64_t accounted = 0;                 // sum of the terminal fates
  uint64_t extracted_checksum = 0;
  uint64_t fate_checksum = 0;
};

struct EntityReconciliation {
  std::string entity;
  bool passed = false;
  std::map<std::string, bool> conservation;  // source -> extracted == sum of fates
  uint64_t expected_rows = 0;
  uint64_t matched_rows = 0;
  std::vector<FieldDifference> differences;           // a sample (kMaxReportedDifferences)
  uint64_t difference_count = 0;                      // all of them
  std::map<std::string, uint64_t> difference_counts;  // failure type -> n
  std::map<std::string, std::pair<int64_t, int64_t>> decimal_sums;  // field -> expected, actual
  std::map<std::string, SourceBalance> balances;  // source -> the numbers behind conservation
  std::map<std::string, int> decimal_scales;      // field -> scale, for the report
  // Per value of each segment field, source side against target side;
  // empty when the entity has no segment fields or a loaded record came
  // without its values (segments_note says so).
  std::vector<SegmentRow> segments;
  std::string segments_note;
  ReferenceCheck ri;  // every reference resolves (filled by the caller; FAIL fails the entity)
  SurvivorCheck survivors;  // every merged record reaches a loaded row (idem)
};

// Compares `input` with what `target` holds for `entity` in one merge of
// `fates` (input's LOADED, REJECTED and REVIEW fates, Finish()ed; read once)
// with the target's rows, both in (source, key) order, so that memory does
// not grow with the records (issue 20 item 3). Per source,
// extracted == loaded + merged + rejected + review (counts and key
// checksums; fate kinds are read case-insensitively, with or without the
// "FATE_" prefix, and warnings are ignored); every expected load present in
// the target with its content hash, cross-reference hash and target id; and
// the sums of every decimal field. Rows of other runs in the target are not
// differences; rows no cross-reference entry owns are. Every difference
// (differences.h) goes to `log` when given (the caller's sink sees them
// all), and the result holds the log's sample and counts. With
// `survivors`, the survivor check (survivor_check.h) of input.merged too,
// the chains' ends found in the same merge. A target that reads by key
// (common/connectors/keyed_rows.h) is read only at the fates' keys when
// that is cheaper than a scan (a delta run): the checks are the same, the
// rows without an entry listed by the target instead of counted. Fails when the target or the
// fates cannot be read, and (Corruption) when the target's ScanRows does
// not hand its rows over in (source, key) order: an error, never a verdict.
Result<EntityReconciliation> ReconcileSorted(const Entity& entity, const ReconcileInput& input,
                                             SortedFates* fates, Target* target,
                                             DifferenceLog* log = nullptr,
                                             SurvivorCheck* survivors = nullptr);
// The same for `input`'s in-memory form (input.loaded and input.unloaded).
Result<EntityReconciliation> ReconcileEntity(const Entity& entity, const ReconcileInput& input,
                                             Target* target, DifferenceLog* log = nullptr);
// Copies `log`'s counts and sample into `r` (after more checks added to it).
void TakeDifferences(const DifferenceLog& log, EntityReconciliation* r);

// The survivor check of `input`'s merged records against `target`
// (reconciler/survivor_check.h), the chains followed through `input`'s
// loaded, merged and unloaded fates. Fails only when the target cannot be
// read.
Result<SurvivorCheck> CheckSurvivors(const Entity& entity, const ReconcileInput& input,
                                     Target* target);

// The wave's JSON report (pretty-printed): run_id, wave, verdict "PASS" or
// "FAIL", and per entity its conservation, row matching, differences (at
// most kMaxReportedDifferences) and decimal sums.
std::string ReconciliationJson(const std::string& run_id, int wave,
                               const std::vector<EntityReconciliation>& entities);

}  // namespace sluice
