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

namespace {

// The pii fields some mapping fills ("hcp.email", with " as <shape>" when
// `shapes`), in model order; their sources into `*sources`.
std::vector<std::string> FilledPiiFields(const Plan& plan, bool shapes,
                                         std::set<std::string>* sources) {
  std::vector<std::string> fields;
  for (const Entity& e : plan.model.entities) {
    for (const ModelField& f : e.fields) {
      if (!f.pii) continue;
      bool filled = false;
      for (const Mapping* m : plan.MappingsFor(e.name)) {
        for (const FieldMapping& fm : m->fields) {
          if (fm.target != f.name) continue;
          filled = true;
          sources->insert(m->source);
        }
      }
      if (!filled) continue;
      std::string name = e.name + "." + f.name;
      if (shapes) name += std::string(" as ") + PiiShapeName(PiiShapeOf(plan, e, f));
      fields.push_back(std::move(name));
    }
  }
  return fields;
}

template <typename Names>
std::string List(const Names& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::string PiiProfileRefusal(const Plan& plan) {
  if (!plan.pii.active()) return "";
  std::set<std::string> sources;
  const std::vector<std::string> fields = FilledPiiFields(plan, false, &sources);
  if (fields.empty()) return "";
  const std::string who = plan.environment.empty() ? "the plan" : "environment " + plan.environment;
  return "profile refused: " + who + " masks pii (mode " + PiiModeName(plan.pii.mode) +
         "), and a profile shows the real values (top values, min and max, shapes) of the "
         "columns of " +
         List(sources) + " that fill " + List(fields) +
         ": profile on the production side, without --env or in an environment without a pii "
         "mode (docs/privacy.md)";
}

std::vector<std::string> PiiCheckLines(const std::string& plan_path, const Plan& plan) {
  std::set<std::string> sources;
  const std::vector<std::string> fields =
      FilledPiiFields(plan, plan.pii.mode == PiiMode::kPseudonymise, &sources);
  if (fields.empty()) return {};
  auto list = [](const auto& names) { return List(names); };
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
