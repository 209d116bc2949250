#include "reconciler/reconcile.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>

#include "common/core/hash.h"
#include "common/core/value.h"

namespace sluice {
namespace {

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

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

// Orders (source, key) pairs as the target's ORDER BY source, key does:
// bytewise.
int CompareKeys(std::string_view source_a, std::string_view key_a, std::string_view source_b,
                std::string_view key_b) {
  const int c = source_a.compare(source_b);
  return c != 0 ? c : key_a.compare(key_b);
}

// Finds target rows among the sorted expected loads. Rows that come in the
// same order cost a comparison or two each; a row out of order is found by
// binary search, so any order gives the same answer.
class ExpectedCursor {
 public:
  static constexpr size_t kAbsent = static_cast<size_t>(-1);
  explicit ExpectedCursor(const std::vector<const ExpectedLoad*>& loads) : loads_(loads) {}

  // The index of (source, key) in the loads, or kAbsent.
  size_t Find(std::string_view source, std::string_view key) {
    auto less = [&](size_t i) { return Compare(i, source, key) < 0; };
    const size_t size = loads_.size();
    size_t at = next_;
    if (next_ > 0 && !less(next_ - 1)) {
      at = LowerBound(0, next_, less);  // out of order: behind the cursor
    } else if (next_ < size && less(next_)) {
      // Ahead of the cursor: gallop while the loads are less, then search
      // the last stride. Everything up to `low` is less.
      size_t low = next_, step = 1;
      while (low + step < size && less(low + step)) {
        low += step;
        step *= 2;
      }
      at = LowerBound(low + 1, std::min(size, low + step), less);
    }
    if (at >= next_) next_ = at;
    if (at == size || Compare(at, source, key) != 0) return kAbsent;
    if (at == next_) ++next_;
    return at;
  }

 private:
  int Compare(size_t i, std::string_view source, std::string_view key) const {
    return CompareKeys(loads_[i]->source, loads_[i]->key, source, key);
  }
  // The first index in [low, high) whose load is not less(), or high.
  template <typename Less>
  static size_t LowerBound(size_t low, size_t high, const Less& less) {
    while (low < high) {
      const size_t mid = low + (high - low) / 2;
      if (less(mid)) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    return low;
  }

  const std::vector<const ExpectedLoad*>& loads_;
  size_t next_ = 0;  // where the next row in order is expected
};

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
bool HasLoadedValues(const ExpectedLoad& load) {
  return !load.loaded_values.empty() && Hash64(load.loaded_values) == load.content_hash;
}

// The loaded values of `load`, when HasLoadedValues.
std::optional<std::vector<Value>> LoadedValues(const Schema& schema, const ExpectedLoad& load) {
  if (!HasLoadedValues(load)) return std::nullopt;
  auto values = DecodeCanonical(schema, load.loaded_values);
  if (!values.ok()) return std::nullopt;
  return std::move(values).value();
}

// What was loaded for a MISSING_TARGET: the values, else the content hash.
std::string Loaded(const Schema& schema, const ExpectedLoad& load) {
  if (auto values = LoadedValues(schema, load)) return ShowRecord(schema, *values);
  return "content hash " + Hex(load.content_hash);
}

// One UNEXPECTED_TARGET per row that no entry owns (key: its target id), or
// one for them all when the target cannot list them.
Status AddRowsWithoutEntry(const Entity& entity, const Schema& schema, uint64_t owned,
                           uint64_t rows, Target* target, DifferenceLog* differences) {
  Status listed = target->ScanRowsWithoutEntry(entity, [&](const TargetRow& row) {
    differences->Add({"", "row " + std::to_string(row.target_id), kUnexpectedTarget, "", "no row",
                      ShowRecord(schema, row.values)});
  });
  if (listed.code() != StatusCode::kFailedPrecondition) {
    return listed.WithContext("reconcile " + entity.name + ": rows without an entry");
  }
  differences->Add({"*", "*", kUnexpectedTarget, "", std::to_string(owned) + " rows",
                    std::to_string(rows) + " rows"});
  return Status::Ok();
}

// Per source: merged records and those that reach no loaded row.
nlohmann::ordered_json SurvivorsJson(const SurvivorCheck& check) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [source, c] : check.by_source) {
    out[source] = {{"merged", c.merged}, {"unresolved", c.unresolved}};
  }
  return out;
}

}  // namespace

void TakeDifferences(const DifferenceLog& log, EntityReconciliation* r) {
  r->difference_count = log.count();
  r->difference_counts = log.counts();
  r->differences = log.Sample();
}

Result<EntityReconciliation> ReconcileEntity(const Entity& entity, const ReconcileInput& input,
                                             Target* target, DifferenceLog* log) {
  if (target == nullptr) return Status::InvalidArgument("reconcile " + entity.name + ": no target");
  EntityReconciliation r;
  r.entity = entity.name;
  BalanceSources(input, &r);

  DifferenceLog own_log;
  DifferenceLog& differences = log != nullptr ? *log : own_log;
  const Schema schema = entity.ToSchema();
  // The expected loads sorted by (source, key): the target hands its rows
  // over in that order too, so matching them is a merge rather than a hash
  // table of every key. The audit store holds one LOADED fate per record; a
  // repeat that disagrees with the first recorded is itself a difference.
  std::vector<const ExpectedLoad*> loads;
  loads.reserve(input.loaded.size());
  for (const ExpectedLoad& load : input.loaded) loads.push_back(&load);
  auto before = [](const ExpectedLoad* a, const ExpectedLoad* b) {
    return CompareKeys(a->source, a->key, b->source, b->key) < 0;
  };
  if (!std::is_sorted(loads.begin(), loads.end(), before)) {
    std::stable_sort(loads.begin(), loads.end(), before);
  }
  size_t unique = 0;
  for (const ExpectedLoad* load : loads) {
    const ExpectedLoad* first = unique > 0 ? loads[unique - 1] : nullptr;
    if (first == nullptr || CompareKeys(first->source, first->key, load->source, load->key) != 0) {
      loads[unique++] = load;
    } else if (first->content_hash != load->content_hash || first->target_id != load->target_id) {
      differences.Add({load->source, load->key, kRecordDiff, "(loaded fate)",
                       Hex(first->content_hash) + " id " + std::to_string(first->target_id),
                       Hex(load->content_hash) + " id " + std::to_string(load->target_id)});
    }
  }
  loads.resize(unique);
  r.expected_rows = loads.size();

  std::vector<size_t> decimals;
  for (size_t f = 0; f < schema.fields.size(); ++f) {
    if (schema.fields[f].type == FieldType::kDecimal) decimals.push_back(f);
  }
  // Wrapping sums: both sides wrap alike, so equality still means equality.
  std::vector<uint64_t> sums(decimals.size(), 0);
  std::vector<bool> seen(loads.size(), false);
  ExpectedCursor cursor(loads);
  SegmentTally segments(schema, input.segment_fields);
  bool source_segments = !segments.empty();
  for (size_t i = 0; source_segments && i < loads.size(); ++i) {
    if (!HasLoadedValues(*loads[i])) {
      source_segments = false;
      r.segments_note = "no loaded values for " + loads[i]->source + "/" + loads[i]->key;
    }
  }
  // The source side of a load whose row has its content hash is that row's
  // values (the same encoding, hashed alike): decoded only for the others.
  std::vector<bool> tallied(source_segments ? loads.size() : 0, false);

  std::set<int64_t> own_rows;  // rows with a loaded entry of their own
  Status scanned = target->ScanRows(entity, [&](const TargetRow& row) {
    if (row.merged) return;  // a merged key points at its survivor's row
    if (!row.values.empty()) own_rows.insert(row.target_id);  // an entry whose row exists
    const size_t at = cursor.Find(row.source, row.key);
    if (at == ExpectedCursor::kAbsent) {
      // Loaded by another run: not ours to judge, unless this run decided
      // the record has no row (issue 23: a stale row may not outlive its fate).
      auto unloaded = input.unloaded.find(FateKey(row.source, row.key));
      if (unloaded != input.unloaded.end()) {
        differences.Add({row.source, row.key, kUnexpectedTarget, "",
                         "no row (" + unloaded->second.kind +
                             (unloaded->second.rule.empty() ? "" : " by " + unloaded->second.rule) +
                             ")",
                         "row " + std::to_string(row.target_id)});
      }
      return;
    }
    const ExpectedLoad& want = *loads[at];
    if (seen[at]) {
      differences.Add({row.source, row.key, kUnexpectedTarget, "", "1 row", "more than 1"});
      return;
    }
    seen[at] = true;
    if (row.values.empty()) {  // the entry's row is gone
      differences.Add({row.source, row.key, kMissingTarget, "", Loaded(schema, want),
                       "no row " + std::to_string(row.target_id)});
      return;
    }
    if (row.values.size() != schema.fields.size()) {
      differences.Add({row.source, row.key, kRecordDiff, "(fields)",
                       std::to_string(schema.fields.size()) + " fields",
                       std::to_string(row.values.size()) + " fields"});
      return;
    }
    bool equal = true;
    const uint64_t actual = ContentHash(schema, row.values);
    if (actual != want.content_hash) {
      equal = false;
      const uint64_t before = differences.count();
      if (auto loaded = LoadedValues(schema, want)) {
        AddRecordDiffs(schema, row.source, row.key, *loaded, row.values, &differences);
      }
      if (differences.count() == before) {  // nothing to compare with
        differences.Add({row.source, row.key, kRecordDiff, "(content hash)", Hex(want.content_hash),
                         Hex(actual)});
      }
    }
    if (row.recorded_hash != want.content_hash) {
      equal = false;
      differences.Add({row.source, row.key, kRecordDiff, "(cross-reference hash)",
                       Hex(want.content_hash), Hex(row.recorded_hash)});
    }
    if (want.target_id != 0 && row.target_id != want.target_id) {
      equal = false;
      differences.Add({row.source, row.key, kRecordDiff, "(target id)",
                       std::to_string(want.target_id), std::to_string(row.target_id)});
    }
    if (equal) ++r.matched_rows;
    if (source_segments) {
      segments.AddTarget(row.values);
      if (actual == want.content_hash) {
        segments.AddSource(row.values);
        tallied[at] = true;
      }
    }
    for (size_t d = 0; d < decimals.size(); ++d) {
      const Value& v = row.values[decimals[d]];
      if (!v.is_null) sums[d] += static_cast<uint64_t>(v.i);
    }
  });
  SLUICE_RETURN_IF_ERROR(scanned.WithContext("reconcile " + entity.name + ": reading the target"));

  // The target holds no row that no record calls its own (issue 23: a
  // record merged or rejected later would otherwise leave it behind).
  auto rows = target->CountRows(entity);
  if (rows.ok() && *rows > own_rows.size()) {
    SLUICE_RETURN_IF_ERROR(
        AddRowsWithoutEntry(entity, schema, own_rows.size(), *rows, target, &differences));
  } else if (!rows.ok() && rows.status().code() != StatusCode::kFailedPrecondition) {
    return rows.status().WithContext("reconcile " + entity.name + ": counting the target's rows");
  }
  for (size_t i = 0; source_segments && i < loads.size(); ++i) {
    if (tallied[i]) continue;
    if (auto values = LoadedValues(schema, *loads[i])) segments.AddSource(*values);
  }
  for (size_t i = 0; i < loads.size(); ++i) {
    if (!seen[i]) {
      differences.Add({loads[i]->source, loads[i]->key, kMissingTarget, "",
                       Loaded(schema, *loads[i]), "absent"});
    }
  }

  for (size_t d = 0; d < decimals.size(); ++d) {
    const FieldSpec& field = schema.fields[decimals[d]];
    const int64_t want = ValueOr<int64_t>(input.decimal_sums, field.name, 0);
    const int64_t got = static_cast<int64_t>(sums[d]);
    r.decimal_sums[field.name] = {want, got};
    r.decimal_scales[field.name] = field.scale;
    if (want != got) {
      differences.Add({"*", "*", kSumMismatch, field.name, FormatDecimalUnits(want, field.scale),
                       FormatDecimalUnits(got, field.scale)});
    }
  }
  TakeDifferences(differences, &r);
  if (source_segments) r.segments = segments.Rows();

  r.passed = r.difference_count == 0 && std::all_of(r.conservation.begin(), r.conservation.end(),
                                                    [](const auto& c) { return c.second; });
  return r;
}

Result<SurvivorCheck> CheckSurvivors(const Entity& entity, const ReconcileInput& input,
                                     Target* target) {
  if (input.merged.empty()) return SurvivorCheck{};
  // Only the records a chain can reach: every survivor named.
  std::map<std::string, RecordFate> fates;
  for (const MergedLink& link : input.merged) {
    fates.emplace(FateKey(link.survivor_source, link.survivor_key), RecordFate{});
  }
  for (const MergedLink& link : input.merged) {
    auto it = fates.find(FateKey(link.source, link.key));
    if (it == fates.end()) continue;
    it->second.kind = "merged";
    it->second.survivor_source = link.survivor_source;
    it->second.survivor_key = link.survivor_key;
  }
  for (const ExpectedLoad& load : input.loaded) {
    auto it = fates.find(FateKey(load.source, load.key));
    if (it == fates.end() || !it->second.kind.empty()) continue;
    it->second.kind = "loaded";
    it->second.target_id = load.target_id;
  }
  for (const auto& [key, fate] : input.unloaded) {
    auto it = fates.find(key);
    if (it != fates.end() && it->second.kind.empty()) it->second = fate;
  }
  // A survivor with no fate at all stays out: the check says so.
  for (auto it = fates.begin(); it != fates.end();) {
    it = it->second.kind.empty() ? fates.erase(it) : std::next(it);
  }
  return CheckSurvivors(entity, input.merged, fates, target);
}

std::string ReconciliationJson(const std::string& run_id, int wave,
                               const std::vector<EntityReconciliation>& entities) {
  using Json = nlohmann::ordered_json;
  bool passed = true;
  Json list = Json::array();
  for (const EntityReconciliation& e : entities) {
    passed = passed && e.passed;
    Json conservation = Json::object();
    for (const auto& [source, ok] : e.conservation) conservation[source] = ok;
    Json balances = Json::object();
    for (const auto& [source, b] : e.balances) {
      Json fates = Json::object();
      for (const auto& [kind, n] : b.fates) fates[kind] = n;
      balances[source] = {{"extracted", b.extracted},
                          {"accounted", b.accounted},
                          {"fates", fates},
                          {"extracted_checksum", Hex(b.extracted_checksum)},
                          {"fate_checksum", Hex(b.fate_checksum)}};
    }
    Json differences = Json::array();
    for (const FieldDifference& d : e.differences) {
      differences.push_back({{"source", d.source},
                             {"key", d.key},
                             {"failure", d.failure},
                             {"field", d.field},
                             {"expected", d.expected},
                             {"actual", d.actual}});
    }
    Json sums = Json::object();
    for (const auto& [field, pair] : e.decimal_sums) {
      Json sum = {
          {"expected", pair.first}, {"actual", pair.second}, {"equal", pair.first == pair.second}};
      if (auto it = e.decimal_scales.find(field); it != e.decimal_scales.end()) {
        sum["expected_text"] = FormatDecimalUnits(pair.first, it->second);
        sum["actual_text"] = FormatDecimalUnits(pair.second, it->second);
      }
      sums[field] = sum;
    }
    Json segments = Json::array();
    uint64_t segments_differing = 0;
    for (const SegmentRow& row : e.segments) {
      auto side = [&](const SegmentSide& s) {
        Json sums = Json::object();
        for (const auto& [field, units] : s.sums) {
          auto scale = e.decimal_scales.find(field);
          sums[field] =
              FormatDecimalUnits(units, scale == e.decimal_scales.end() ? 0 : scale->second);
        }
        return Json{{"records", s.records}, {"sums", sums}};
      };
      segments_differing += row.differs() ? 1 : 0;
      segments.push_back({{"field", row.field},
                          {"value", row.value},
                          {"source", side(row.source)},
                          {"target", side(row.target)},
                          {"differs", row.differs()}});
    }
    list.push_back({{"entity", e.entity},
                    {"passed", e.passed},
                    {"conservation", conservation},
                    {"balances", balances},
                    {"expected_rows", e.expected_rows},
                    {"matched_rows", e.matched_rows},
                    {"difference_count", e.difference_count},
                    {"differences_by_failure", e.difference_counts},
                    {"differences", differences},
                    {"decimal_sums", sums},
                    {"segments_differing", segments_differing},
                    {"segments", segments},
                    {"segments_note", e.segments_note},
                    {"ri_check", e.ri.Verdict()},
                    {"references", e.ri.references},
                    {"unresolved_references", e.ri.unresolved},
                    {"unresolved_by_field", e.ri.unresolved_by_field},
                    {"unresolved_examples", e.ri.examples},
                    {"survivor_check", e.survivors.Verdict()},
                    {"survivors", SurvivorsJson(e.survivors)},
                    {"unresolved_survivor_examples", e.survivors.examples}});
  }
  Json doc = {{"run_id", run_id},
              {"wave", wave},
              {"verdict", passed ? "PASS" : "FAIL"},
              {"entities", list}};
  return doc.dump(2);
}

}  // namespace sluice
