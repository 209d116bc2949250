// The wave's JSON report (ReconciliationJson, reconciler/reconcile.h).
#include <nlohmann/json.hpp>

#include "common/core/value.h"
#include "reconciler/reconcile.h"

namespace sluice {
namespace {

// Per source: merged records and those that reach no loaded row.
nlohmann::ordered_json SurvivorsJson(const SurvivorCheck& check) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [source, c] : check.by_source) {
    out[source] = {{"merged", c.merged}, {"unresolved", c.unresolved}};
  }
  return out;
}

}  // namespace

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
                          {"extracted_checksum", ShowHash(b.extracted_checksum)},
                          {"fate_checksum", ShowHash(b.fate_checksum)}};
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
