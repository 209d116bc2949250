// `segments:` (issue 17, docs/reconciliation.md#segments): the fields by
// whose values the reconciler compares record counts and decimal sums.
//
//   segments:
//     hcp: [country, specialty]
#include "common/plan/plan_yaml.h"

namespace sluice {

std::vector<std::string> SegmentFields(const Plan& plan, const Entity& entity) {
  if (auto it = plan.segments.find(entity.name); it != plan.segments.end()) return it->second;
  std::vector<std::string> fields;
  for (const ModelField& f : entity.fields) {
    if (f.type == FieldType::kEnum) fields.push_back(f.name);
  }
  return fields;
}

namespace plan_yaml {

void ParseSegments(const YAML::Node& root, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  Plan& plan = *ctx->plan;
  YAML::Node node = Get(root, "segments");
  if (!node.IsDefined()) return;
  if (!ExpectMap(node, "segments", issues)) return;
  for (const auto& entry : node) {
    const std::string name = entry.first.as<std::string>();
    const std::string path = "segments." + name;
    const Entity* entity = plan.model.Find(name);
    if (entity == nullptr) {
      AddIssue(issues, path, "no entity '" + name + "' in the model");
      continue;
    }
    auto fields = ReadTextList(node, name, "segments", Need::kRequired, true, issues);
    if (!fields) continue;
    std::vector<std::string>& kept = plan.segments[name];
    for (size_t i = 0; i < fields->size(); ++i) {
      const std::string& field = (*fields)[i];
      const ModelField* f = nullptr;
      for (const ModelField& candidate : entity->fields) {
        if (candidate.name == field) f = &candidate;
      }
      if (f == nullptr) {
        AddIssue(issues, path + "[" + std::to_string(i) + "]",
                 "no field '" + field + "' in entity '" + name + "'");
      } else {
        kept.push_back(field);
      }
    }
  }
}

}  // namespace plan_yaml
}  // namespace sluice
