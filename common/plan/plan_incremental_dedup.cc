// Which deduplicated entities a delta run may read by their delta and its
// blocks' residents (issue 18 item 3, docs/incremental_dedup.md).
#include "common/plan/incremental_dedup.h"

namespace sluice {

std::string IncrementalDedupBlocker(const Plan& plan, const std::string& entity) {
  auto it = plan.dedup.find(entity);
  if (it == plan.dedup.end()) return "not deduplicated";
  bool incremental = false;
  for (const Mapping* m : plan.MappingsFor(entity)) {
    const SourceSpec* s = plan.FindSource(m->source);
    incremental |= s != nullptr && !s->incremental_column.empty();
  }
  if (!incremental) return "no source of it is incremental";
  for (const DedupComparison& c : it->second.comparisons) {
    if (c.m.empty() || c.u.empty()) {
      return "its match weights are estimated (EM) over the records resolved (" + c.yaml_path +
             " gives no m and u)";
    }
    if (c.term_frequency) {
      return "its term frequencies are counted over the records resolved (" + c.yaml_path +
             ".term_frequency)";
    }
  }
  return "";
}

std::string PopulationSpec(const DedupSpec& spec) {
  std::string out = spec.fuzzy() ? "fuzzy" : "exact";
  out += "|key";
  for (const std::string& f : spec.key_fields) out += ":" + f;
  for (const BlockingRule& rule : spec.blocking) {
    out += "|rule:" + rule.name;
    for (const BlockingPart& part : rule.parts) {
      out += ":" + part.field + "/" + part.transform + "/" + std::to_string(part.length);
    }
  }
  out += "|placeholders";
  for (const std::string& p : spec.placeholders) out += ":" + p;
  return out;
}

}  // namespace sluice
