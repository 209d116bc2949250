// The live comparison of legacy sources with the target (issue 18 item 4,
// docs/compare.md): `sluice compare` reads each source through the plan's
// mappings and the target through its cross-reference, loads nothing, and
// lists every difference.
//
// Both sides are spilled into a scratch SQLite file keyed by (source, key)
// and then walked in key order, so that memory does not grow with the data
// whatever order the sources come in (a CSV export is in no key order); the
// disk holds one copy of each side while the comparison runs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/audit/sqlite_util.h"
#include "common/connectors/connector.h"
#include "common/core/record.h"
#include "common/plan/plan.h"
#include "deduper/survivorship.h"
#include "reconciler/differences.h"

namespace sluice {

// A target row that no live source record accounts for: its entry's record
// is gone from the source, or the row has no entry at all (added by hand).
inline constexpr char kMissingSource[] = "MISSING_SOURCE";

// One entity's comparison. Not thread-safe.
class LiveComparison {
 public:
  // Why a source record with no target entry has none: "" when it should
  // have one (a MISSING_TARGET), else the reason it legitimately has none
  // ("rejected by last_name_required in run-..."). Fails when the audit
  // store cannot be read.
  using AbsenceReason =
      std::function<Result<std::string>(const std::string& source, const std::string& key)>;

  struct Options {
    std::string spill_path;            // the scratch file; removed by the destructor
    const DedupSpec* dedup = nullptr;  // the entity's survivorship; null: no dedup
    // Whether the golden record may take a value (the deduper's validation
    // check, GoldenRecordBuilder::Accept); empty: every value.
    GoldenRecordBuilder::Accept accept;
  };

  // Creates the scratch file (replacing one left behind).
  static Result<std::unique_ptr<LiveComparison>> Create(const Entity& entity, Options options);
  ~LiveComparison();

  // The source side: mapped records (values in the entity's field order,
  // references already rewritten to target ids), and the records the
  // pipeline would not load today, with the reason. A key seen twice keeps
  // the first, as the deduper does (a repeated source key is rejected).
  Status AddSourceRecords(const std::vector<Record>& records);
  Status AddSourceReject(const std::string& source, const std::string& key,
                         const std::string& reason);
  // The target side: every cross-reference entry (TargetRow, merged keys
  // pointing at their survivor's row), and rows no entry owns.
  Status AddTargetRow(const TargetRow& row);
  Status AddStrayRow(const TargetRow& row);

  // Compares the two sides and passes every difference to `log`:
  //   MISSING_TARGET  a source record that should have a row and has none
  //                   (no entry and no rejection in the audit store, or an
  //                   entry whose row is gone);
  //   MISSING_SOURCE  an entry whose record the sources no longer hold, or a
  //                   row with no entry;
  //   RECORD_DIFF     a field whose target value is not the source's: for a
  //                   record that stands alone its own mapped value, for a
  //                   merged cluster the golden record rebuilt from the
  //                   members' current values under the plan's
  //                   survivorship, charged to the member the field's value
  //                   comes from. A record the pipeline would now reject
  //                   whose row is still there differs in field "(record)".
  // Fails only when the scratch file or the audit store cannot be read.
  Status Compare(const AbsenceReason& absence, DifferenceLog* log);

  // After Compare: the records compared, those found equal, and those
  // legitimately without a row.
  uint64_t compared() const { return compared_; }
  uint64_t equal() const { return equal_; }
  uint64_t not_loaded() const { return not_loaded_; }

 private:
  LiveComparison(const Entity& entity, Options options, std::unique_ptr<SqliteDb> db);
  Status Prepare();
  Status CompareRecords(const AbsenceReason& absence, DifferenceLog* log);
  Status CompareClusters(DifferenceLog* log);
  Status ListMissingSources(DifferenceLog* log);
  // The golden row `target_id` against its members' current records.
  Status CompareCluster(int64_t target_id, DifferenceLog* log);
  Result<std::vector<Value>> Decode(std::string_view bytes) const;

  Entity entity_;
  Schema schema_;
  Options options_;
  std::unique_ptr<SqliteDb> db_;
  Statement insert_source_, insert_target_, insert_stray_;
  std::unique_ptr<SurvivorshipRule> survivorship_;
  std::unique_ptr<GoldenRecordBuilder> golden_;
  uint64_t compared_ = 0, equal_ = 0, not_loaded_ = 0;
  bool open_transaction_ = false;
};

}  // namespace sluice
