#include "coordinator/failures_json.h"

namespace sluice::coordination {

nlohmann::json FailuresByRuleJson(AuditStore& audit, const std::string& run_id, int wave,
                                  size_t examples) {
  nlohmann::json out = nlohmann::json::array();
  if (auto by_rule = audit.FailuresByRule(run_id, wave, examples); by_rule.ok()) {
    for (const auto& f : *by_rule) {
      nlohmann::json shown = nlohmann::json::array();
      for (const auto& e : f.examples) {
        shown.push_back({{"source", e.source()},
                         {"key", e.key()},
                         {"field", e.field()},
                         {"value", e.value()},
                         {"reason", e.reason()},
                         {"suggestion", e.suggestion()}});
      }
      out.push_back({{"entity", f.count.entity},
                     {"rule", f.count.rule},
                     {"kind", f.count.kind},
                     {"count", f.count.count},
                     {"examples", shown}});
    }
  }
  return out;
}

}  // namespace sluice::coordination
