#include "reconciler/reconcile.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <string_view>

#include "common/connectors/keyed_rows.h"
#include "common/core/hash.h"
#include "common/core/target_ids.h"
#include "common/core/value.h"

namespace sluice {
namespace {

// "FATE_LOADED", "loaded" and "Loaded" all name the terminal kind "loaded";
// anything else (warnings) is not a terminal fate and gives "".
std::string TerminalKind(const std::string& kind) {
  std::string k;
  for (char c : kind) k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (k.rfind("fate_", 0) == 0) k.erase(0, 5);
  if (k == "loaded" || k == "merged" || k == "rejected" || k == "review") return k;
  return "";
}

template <typename V>
V ValueOr(const std::map<std::string, V>& m, const std::string& key, V fallback) {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

void BalanceSources(const ReconcileInput& input, EntityReconciliation* r) {
  std::set<std::string> sources;
  for (const auto& [s, n] : input.extracted) sources.insert(s);
  for (const auto& [s, n] : input.extracted_checksum) sources.insert(s);
  for (const auto& [s, kinds] : input.fate_counts) sources.insert(s);
  for (const auto& [s, sum] : input.fate_checksum) sources.insert(s);
  for (const std::string& source : sources) {
    SourceBalance b;
    b.extracted = ValueOr<uint64_t>(input.extracted, source, 0);
    b.extracted_checksum = ValueOr<uint64_t>(input.extracted_checksum, source, 0);
    b.fate_checksum = ValueOr<uint64_t>(input.fate_checksum, source, 0);
    if (auto it = input.fate_counts.find(source); it != input.fate_counts.end()) {
      for (const auto& [kind, n] : it->second) {
        const std::string terminal = TerminalKind(kind);
        if (terminal.empty()) continue;
        b.fates[terminal] += n;
        b.accounted += n;
      }
    }
    r->conservation[source] = b.extracted == b.accounted && b.extracted_checksum == b.fate_checksum;
    r->balances[source] = std::move(b);
  }
}

// Whether the loader sent `load`'s values and they are the ones its content
// hash was taken of.
bool HasLoadedValues(const KeyedFate& load) {
  return !load.loaded_values.empty() && Hash64(load.loaded_values) == load.content_hash;
}

// The loaded values of `load`, when HasLoadedValues.
std::optional<std::vector<Value>> LoadedValues(const Schema& schema, const KeyedFate& load) {
  if (!HasLoadedValues(load)) return std::nullopt;
  auto values = DecodeCanonical(schema, load.loaded_values);
  if (!values.ok()) return std::nullopt;
  return std::move(values).value();
}

// What was loaded for a MISSING_TARGET: the values, else the content hash.
std::string Loaded(const Schema& schema, const KeyedFate& load) {
  if (auto values = LoadedValues(schema, load)) return ShowRecord(schema, *values);
  return "content hash " + ShowHash(load.content_hash);
}

// The fates of one key in the sorted stream: its first LOADED fate (a
// repeat is compared with it) and its last rejection or hold.
struct KeyFates {
  std::string source, key;
  bool has_load = false;
  KeyedFate load;
  std::string unloaded_kind, unloaded_rule;  // "" when none
};

// The merge of the sorted fates with the target's rows, both in (source,
// key) order: each key's fates are read once, as the rows reach them, and
// nothing of a key is kept once the rows have passed it.
class RowMerge {
 public:
  RowMerge(const Entity& entity, const ReconcileInput& input, SortedFates* fates,
           DifferenceLog* differences, std::map<std::string, RecordFate>* survivors,
           EntityReconciliation* r)
      : input_(input),
        schema_(entity.ToSchema()),
        fates_(fates),
        differences_(*differences),
        survivors_(survivors),
        r_(*r),
        segments_(schema_, input.segment_fields),
        source_segments_(!segments_.empty()) {
    for (size_t f = 0; f < schema_.fields.size(); ++f) {
      if (schema_.fields[f].type == FieldType::kDecimal) decimals_.push_back(f);
    }
    sums_.assign(decimals_.size(), 0);
  }

  Status Start() {
    SLUICE_ASSIGN_OR_RETURN(has_next_, fates_->Next(&next_));
    return Status::Ok();
  }

  // One target row; the target hands them over in (source, key) order.
  void OnRow(const TargetRow& row) {
    if (!status_.ok()) return;
    const int order = have_row_ ? CompareKeys(last_source_, last_key_, row.source, row.key) : -1;
    if (order > 0) {
      status_ = Status::Corruption("the target's rows are not in key order: " + row.source + "/" +
                                   row.key + " after " + last_source_ + "/" + last_key_);
      return;
    }
    if (order < 0) {
      last_source_.assign(row.source);
      last_key_.assign(row.key);
      have_row_ = true;
      taken_ = last_matched_ = last_unloaded_ = false;
    }
    if (row.merged) return;  // a merged key points at its survivor's row
    if (!row.values.empty()) owned_.Insert(row.target_id);  // an entry whose row exists
    if (taken_) {  // the key's second row: its fates were taken by the first
      if (last_matched_) {
        differences_.Add({row.source, row.key, kUnexpectedTarget, "", "1 row", "more than 1"});
      } else if (last_unloaded_) {
        Stale(row, group_);
      }
      return;
    }
    taken_ = true;
    // The keys before this row have no row.
    while (status_.ok() && has_next_ && CompareFateKeys(next_, row.source, row.key) < 0) {
      if (TakeGroup(&group_)) Absent(group_);
    }
    if (!status_.ok()) return;
    const bool ours = has_next_ && CompareFateKeys(next_, row.source, row.key) == 0;
    if (!ours || !TakeGroup(&group_)) return;  // loaded by another run: not ours to judge
    if (group_.has_load) {
      last_matched_ = true;
      Matched(group_, row);
    } else if (!group_.unloaded_kind.empty()) {
      // This run decided the record has no row (issue 23: a stale row may
      // not outlive its fate).
      last_unloaded_ = true;
      Stale(row, group_);
    }
  }

  // After the last row: the keys left have no row; then the checks over
  // the whole entity. `by_key`: the rows were read by the fates' keys, not
  // all of them.
  Status Finish(const Entity& entity, Target* target, bool by_key) {
    while (status_.ok() && has_next_) {
      if (TakeGroup(&group_)) Absent(group_);
    }
    SLUICE_RETURN_IF_ERROR(status_);
    SLUICE_RETURN_IF_ERROR(by_key ? ListRowsWithoutEntry(entity, target)
                                  : CheckOwnedRows(entity, target));
    for (size_t d = 0; d < decimals_.size(); ++d) {
      const FieldSpec& field = schema_.fields[decimals_[d]];
      const int64_t want = ValueOr<int64_t>(input_.decimal_sums, field.name, 0);
      const int64_t got = static_cast<int64_t>(sums_[d]);
      r_.decimal_sums[field.name] = {want, got};
      r_.decimal_scales[field.name] = field.scale;
      if (want != got) {
        differences_.Add({"*", "*", kSumMismatch, field.name, FormatDecimalUnits(want, field.scale),
                          FormatDecimalUnits(got, field.scale)});
      }
    }
    if (source_segments_) r_.segments = segments_.Rows();
    return Status::Ok();
  }

  // Where the stream or the target failed.
  const Status& status() const { return status_; }

 private:
  static int CompareKeys(std::string_view source_a, std::string_view key_a,
                         std::string_view source_b, std::string_view key_b) {
    const int c = source_a.compare(source_b);
    return c != 0 ? c : key_a.compare(key_b);
  }

  // Reads every fate of the next key into `g`; false when the stream
  // failed (status_ says why).
  bool TakeGroup(KeyFates* g) {
    g->source = next_.source;
    g->key = next_.key;
    g->has_load = false;
    g->unloaded_kind.clear();
    g->unloaded_rule.clear();
    RecordFate* survivor = nullptr;
    if (survivors_ != nullptr) {
      auto it = survivors_->find(FateKey(g->source, g->key));
      if (it != survivors_->end()) survivor = &it->second;
    }
    while (has_next_ && next_.source == g->source && next_.key == g->key) {
      if (!next_.loaded()) {
        g->unloaded_kind = next_.kind;
        g->unloaded_rule = next_.rule;
      } else if (!g->has_load) {
        g->has_load = true;
        std::swap(g->load, next_);
      } else if (g->load.content_hash != next_.content_hash ||
                 g->load.target_id != next_.target_id) {
        // The audit store holds one LOADED fate per record; a repeat that
        // disagrees with the first recorded is itself a difference.
        differences_.Add(
            {g->source, g->key, kRecordDiff, "(loaded fate)",
             ShowHash(g->load.content_hash) + " id " + std::to_string(g->load.target_id),
             ShowHash(next_.content_hash) + " id " + std::to_string(next_.target_id)});
      }
      auto more = fates_->Next(&next_);
      if (!more.ok()) {
        status_ = more.status();
        has_next_ = false;
        return false;
      }
      has_next_ = *more;
    }
    if (survivor != nullptr) {  // the chains' ends: a loaded fate before any other
      if (g->has_load) {
        survivor->kind = "loaded";
        survivor->target_id = g->load.target_id;
      } else if (!g->unloaded_kind.empty()) {
        survivor->kind = g->unloaded_kind;
        survivor->rule = g->unloaded_rule;
      }
    }
    if (g->has_load) ++r_.expected_rows;
    return true;
  }

  void Stale(const TargetRow& row, const KeyFates& g) {
    differences_.Add({row.source, row.key, kUnexpectedTarget, "",
                      "no row (" + g.unloaded_kind +
                          (g.unloaded_rule.empty() ? "" : " by " + g.unloaded_rule) + ")",
                      "row " + std::to_string(row.target_id)});
  }

  // The source side of a segment tally from the loaded values, while every
  // load so far came with them.
  void TallySource(const KeyedFate& load, const std::vector<Value>* row_values) {
    if (!source_segments_) return;
    if (!HasLoadedValues(load)) {
      source_segments_ = false;
      r_.segments_note = "no loaded values for " + load.source + "/" + load.key;
      return;
    }
    // A row with the load's content hash holds the same values: no decode.
    if (row_values != nullptr) {
      segments_.AddSource(*row_values);
    } else if (auto values = LoadedValues(schema_, load)) {
      segments_.AddSource(*values);
    }
  }

  void Absent(const KeyFates& g) {
    if (!g.has_load) return;
    differences_.Add({g.source, g.key, kMissingTarget, "", Loaded(schema_, g.load), "absent"});
    TallySource(g.load, nullptr);
  }

  void Matched(const KeyFates& g, const TargetRow& row) {
    const KeyedFate& want = g.load;
    if (row.values.empty()) {  // the entry's row is gone
      differences_.Add({row.source, row.key, kMissingTarget, "", Loaded(schema_, want),
                        "no row " + std::to_string(row.target_id)});
      TallySource(want, nullptr);
      return;
    }
    if (row.values.size() != schema_.fields.size()) {
      differences_.Add({row.source, row.key, kRecordDiff, "(fields)",
                        std::to_string(schema_.fields.size()) + " fields",
                        std::to_string(row.values.size()) + " fields"});
      TallySource(want, nullptr);
      return;
    }
    bool equal = true;
    const uint64_t actual = ContentHash(schema_, row.values);
    if (actual != want.content_hash) {
      equal = false;
      const uint64_t before = differences_.count();
      if (auto loaded = LoadedValues(schema_, want)) {
        AddRecordDiffs(schema_, row.source, row.key, *loaded, row.values, &differences_);
      }
      if (differences_.count() == before) {  // nothing to compare with
        differences_.Add({row.source, row.key, kRecordDiff, "(content hash)",
                          ShowHash(want.content_hash), ShowHash(actual)});
      }
    }
    if (row.recorded_hash != want.content_hash) {
      equal = false;
      differences_.Add({row.source, row.key, kRecordDiff, "(cross-reference hash)",
                        ShowHash(want.content_hash), ShowHash(row.recorded_hash)});
    }
    if (want.target_id != 0 && row.target_id != want.target_id) {
      equal = false;
      differences_.Add({row.source, row.key, kRecordDiff, "(target id)",
                        std::to_string(want.target_id), std::to_string(row.target_id)});
    }
    if (equal) ++r_.matched_rows;
    TallySource(want, actual == want.content_hash ? &row.values : nullptr);
    if (source_segments_) segments_.AddTarget(row.values);
    for (size_t d = 0; d < decimals_.size(); ++d) {
      const Value& v = row.values[decimals_[d]];
      if (!v.is_null) sums_[d] += static_cast<uint64_t>(v.i);
    }
  }

  // The target holds no row that no record calls its own (issue 23: a
  // record merged or rejected later would otherwise leave it behind).
  Status CheckOwnedRows(const Entity& entity, Target* target) {
    auto rows = target->CountRows(entity);
    if (!rows.ok()) {
      if (rows.status().code() == StatusCode::kFailedPrecondition) return Status::Ok();
      return rows.status().WithContext("reconcile " + entity.name + ": counting the target's rows");
    }
    // Distinct rows, not entries: two entries on one row must not hide a
    // row that has none.
    if (*rows <= owned_.size()) return Status::Ok();
    Status listed = ListStrays(entity, target);
    if (listed.code() != StatusCode::kFailedPrecondition) return listed;
    differences_.Add({"*", "*", kUnexpectedTarget, "", std::to_string(owned_.size()) + " rows",
                      std::to_string(*rows) + " rows"});
    return Status::Ok();
  }

  // The same check when the rows were read by key (owned_ then holds the
  // run's rows only): the target lists its rows without an entry, which are
  // exactly those CheckOwnedRows finds, by an anti-join in the database.
  Status ListRowsWithoutEntry(const Entity& entity, Target* target) {
    Status listed = ListStrays(entity, target);
    if (listed.code() != StatusCode::kFailedPrecondition) return listed;
    return Status::FailedPrecondition("reconcile " + entity.name +
                                      ": a target read by key must list its rows without an entry");
  }

  // Each row without an entry of its own, as a difference.
  Status ListStrays(const Entity& entity, Target* target) {
    Status listed = target->ScanRowsWithoutEntry(entity, [&](const TargetRow& row) {
      differences_.Add({"", "row " + std::to_string(row.target_id), kUnexpectedTarget, "", "no row",
                        ShowRecord(schema_, row.values)});
    });
    if (listed.code() == StatusCode::kFailedPrecondition) return listed;
    return listed.WithContext("reconcile " + entity.name + ": rows without an entry");
  }

  const ReconcileInput& input_;
  const Schema schema_;
  SortedFates* fates_;
  DifferenceLog& differences_;
  std::map<std::string, RecordFate>* survivors_;
  EntityReconciliation& r_;
  SegmentTally segments_;
  bool source_segments_;
  std::vector<size_t> decimals_;
  // Wrapping sums: both sides wrap alike, so equality still means equality.
  std::vector<uint64_t> sums_;
  TargetIdSet owned_;  // rows with an entry of their own
  KeyedFate next_;     // the stream's next fate, when has_next_
  bool has_next_ = false;
  KeyFates group_;                      // the last key taken
  std::string last_source_, last_key_;  // of the last row
  bool have_row_ = false;
  bool taken_ = false;  // the last row's key had its fates taken
  bool last_matched_ = false, last_unloaded_ = false;
  Status status_;
};

// The survivors `merged` names, with no fate yet.
std::map<std::string, RecordFate> NamedSurvivors(const std::vector<MergedLink>& merged) {
  std::map<std::string, RecordFate> fates;
  for (const MergedLink& link : merged) {
    fates.emplace(FateKey(link.survivor_source, link.survivor_key), RecordFate{});
  }
  return fates;
}

// Finishes the survivors' fates: a merged fate before any other; a
// survivor with no fate at all stays out (the check says so).
void SettleSurvivors(const std::vector<MergedLink>& merged,
                     std::map<std::string, RecordFate>* fates) {
  for (const MergedLink& link : merged) {
    auto it = fates->find(FateKey(link.source, link.key));
    if (it == fates->end()) continue;
    it->second.kind = "merged";
    it->second.survivor_source = link.survivor_source;
    it->second.survivor_key = link.survivor_key;
  }
  for (auto it = fates->begin(); it != fates->end();) {
    it = it->second.kind.empty() ? fates->erase(it) : std::next(it);
  }
}

// `input`'s loaded and unloaded fates (the in-memory form) as a sorted
// stream, held in memory.
Result<std::unique_ptr<SortedFates>> SortInMemory(const ReconcileInput& input) {
  auto fates = std::make_unique<SortedFates>(SortedFates::Options{"", SIZE_MAX});
  for (const ExpectedLoad& load : input.loaded) {
    SLUICE_RETURN_IF_ERROR(fates->Add({load.source, load.key, "loaded", "", load.content_hash,
                                       load.target_id, load.loaded_values}));
  }
  for (const auto& [key, fate] : input.unloaded) {
    const size_t cut = key.find('\x1f');
    SLUICE_RETURN_IF_ERROR(
        fates->Add({key.substr(0, cut), cut == std::string::npos ? "" : key.substr(cut + 1),
                    fate.kind, fate.rule, 0, 0, ""}));
  }
  SLUICE_RETURN_IF_ERROR(fates->Finish());
  return fates;
}

// The target's reader by key when reading the fates' rows by key costs less
// than scanning the table (a delta run decides few of its rows); nullptr to
// scan. A probe costs about kProbeRows scanned rows; the fates are held in
// memory meanwhile, so at most kMaxFatesByKey of them.
constexpr uint64_t kProbeRows = 8;
constexpr uint64_t kMaxFatesByKey = 100000;

Result<KeyedRowReader*> ReaderByKey(const Entity& entity, const SortedFates& fates,
                                    Target* target) {
  auto* reader = dynamic_cast<KeyedRowReader*>(target);
  if (reader == nullptr || fates.size() > kMaxFatesByKey) return nullptr;
  SLUICE_ASSIGN_OR_RETURN(uint64_t rows, reader->RowsAtMost(entity));
  return fates.size() * kProbeRows < rows ? reader : nullptr;
}

// Reads `fates` (Finish()ed) into a stream held in memory, in the same
// order, and their keys into `keys` (sorted, without repeats).
Result<std::unique_ptr<SortedFates>> HoldFates(SortedFates* fates, std::vector<SourceKey>* keys) {
  auto held = std::make_unique<SortedFates>(SortedFates::Options{"", SIZE_MAX});
  KeyedFate fate;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool more, fates->Next(&fate));
    if (!more) break;
    if (keys->empty() || keys->back().source != fate.source || keys->back().key != fate.key) {
      keys->push_back({fate.source, fate.key});
    }
    SLUICE_RETURN_IF_ERROR(held->Add(std::move(fate)));
  }
  SLUICE_RETURN_IF_ERROR(held->Finish());
  return held;
}

}  // namespace

void TakeDifferences(const DifferenceLog& log, EntityReconciliation* r) {
  r->difference_count = log.count();
  r->difference_counts = log.counts();
  r->differences = log.Sample();
}

Result<EntityReconciliation> ReconcileSorted(const Entity& entity, const ReconcileInput& input,
                                             SortedFates* fates, Target* target, DifferenceLog* log,
                                             SurvivorCheck* survivors) {
  if (target == nullptr) return Status::InvalidArgument("reconcile " + entity.name + ": no target");
  EntityReconciliation r;
  r.entity = entity.name;
  BalanceSources(input, &r);
  DifferenceLog own_log;
  DifferenceLog& differences = log != nullptr ? *log : own_log;
  std::map<std::string, RecordFate> survivor_fates;
  if (survivors != nullptr) survivor_fates = NamedSurvivors(input.merged);
  SLUICE_ASSIGN_OR_RETURN(KeyedRowReader * by_key, ReaderByKey(entity, *fates, target));
  std::unique_ptr<SortedFates> held;
  std::vector<SourceKey> keys;
  if (by_key != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(held, HoldFates(fates, &keys));
    fates = held.get();
  }
  RowMerge merge(entity, input, fates, &differences,
                 survivors != nullptr ? &survivor_fates : nullptr, &r);
  SLUICE_RETURN_IF_ERROR(merge.Start().WithContext("reconcile " + entity.name + ": the fates"));
  auto on_row = [&](const TargetRow& row) { merge.OnRow(row); };
  Status scanned = by_key != nullptr ? by_key->ScanRowsOfKeys(entity, keys, on_row)
                                     : target->ScanRows(entity, on_row);
  SLUICE_RETURN_IF_ERROR(scanned.WithContext("reconcile " + entity.name + ": reading the target"));
  SLUICE_RETURN_IF_ERROR(
      merge.Finish(entity, target, by_key != nullptr).WithContext("reconcile " + entity.name));
  TakeDifferences(differences, &r);
  r.passed = r.difference_count == 0 && std::all_of(r.conservation.begin(), r.conservation.end(),
                                                    [](const auto& c) { return c.second; });
  if (survivors != nullptr) {
    SettleSurvivors(input.merged, &survivor_fates);
    SLUICE_ASSIGN_OR_RETURN(*survivors,
                            CheckSurvivors(entity, input.merged, survivor_fates, target));
  }
  return r;
}

Result<EntityReconciliation> ReconcileEntity(const Entity& entity, const ReconcileInput& input,
                                             Target* target, DifferenceLog* log) {
  SLUICE_ASSIGN_OR_RETURN(auto fates, SortInMemory(input));
  return ReconcileSorted(entity, input, fates.get(), target, log, nullptr);
}

Result<SurvivorCheck> CheckSurvivors(const Entity& entity, const ReconcileInput& input,
                                     Target* target) {
  if (input.merged.empty()) return SurvivorCheck{};
  // Only the records a chain can reach: every survivor named.
  std::map<std::string, RecordFate> fates = NamedSurvivors(input.merged);
  for (const ExpectedLoad& load : input.loaded) {
    auto it = fates.find(FateKey(load.source, load.key));
    if (it == fates.end() || it->second.kind == "loaded") continue;
    it->second.kind = "loaded";
    it->second.target_id = load.target_id;
  }
  for (const auto& [key, fate] : input.unloaded) {
    auto it = fates.find(key);
    if (it != fates.end() && it->second.kind.empty()) it->second = fate;
  }
  SettleSurvivors(input.merged, &fates);
  return CheckSurvivors(entity, input.merged, fates, target);
}

}  // namespace sluice
