#include "cli/plan_pii.h"

#include <cctype>
#include <set>

namespace sluice::cli {

bool IsProductionEnvironment(const std::string& name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "prod" || lower == "production" || lower == "live" ||
         lower.rfind("prod_", 0) == 0;
}

std::vector<std::string> PiiCheckLines(const std::string& plan_path, const Plan& plan) {
  // The pii fields some mapping fills, in model order, and their sources.
  std::vector<std::string> fields;
  std::set<std::string> sources;
  for (const Entity& e : plan.model.entities) {
    for (const ModelField& f : e.fields) {
      if (!f.pii) continue;
      bool filled = false;
      for (const Mapping* m : plan.MappingsFor(e.name)) {
        for (const FieldMapping& fm : m->fields) {
          if (fm.target != f.name) continue;
          filled = true;
          sources.insert(m->source);
        }
      }
      if (!filled) continue;
      std::string name = e.name + "." + f.name;
      if (plan.pii.mode == PiiMode::kPseudonymise) {
        name += std::string(" as ") + PiiShapeName(PiiShapeOf(plan, e, f));
      }
      fields.push_back(std::move(name));
    }
  }
  if (fields.empty()) return {};
  auto list = [](const auto& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  const std::string where =
      plan.environment.empty() ? "" : " (environment " + plan.environment + ")";
  if (plan.pii.active()) {
    return {plan_path + ": note: pii: " + PiiModeName(plan.pii.mode) + where + ": " + list(fields) +
            "; the raw text of rows rejected from " + list(sources) + " is withheld"};
  }
  if (plan.pii.set || plan.environment.empty() || IsProductionEnvironment(plan.environment)) {
    return {};
  }
  return {plan_path + ": warning: environment " + plan.environment + " copies " +
          std::to_string(fields.size()) + " pii field" + (fields.size() == 1 ? "" : "s") +
          " as they are (" + list(fields) +
          "): set pii: {mode: pseudonymise, key: " + "${env:SLUICE_PII_KEY}} in environments." +
          plan.environment + ", or mode: none to copy them knowingly (docs/privacy.md)"};
}

}  // namespace sluice::cli
