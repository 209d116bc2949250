// Delta runs of a source (issue 18, docs/delta.md): which column marks a
// changed row, and what a run does with the keys the source no longer holds.
//
//   incremental: {column: updated_at}
//   deletions: report | propagate | ignore
//   deletions: {mode: propagate, soft_delete: deleted_at}

#include "common/plan/plan_yaml.h"

namespace sluice::plan_yaml {
namespace {

// "report", "propagate", "ignore" -> the mode; false for anything else.
bool DeletionsNamed(const std::string& text, SourceSpec::Deletions* mode) {
  if (text == "report") {
    *mode = SourceSpec::Deletions::kReport;
  } else if (text == "propagate") {
    *mode = SourceSpec::Deletions::kPropagate;
  } else if (text == "ignore") {
    *mode = SourceSpec::Deletions::kIgnore;
  } else {
    return false;
  }
  return true;
}

void ParseIncremental(const YAML::Node& node, SourceSpec* spec, std::vector<PlanIssue>* issues) {
  const YAML::Node incremental = Get(node, "incremental");
  if (!incremental.IsDefined()) return;
  const std::string path = Child(spec->yaml_path, "incremental");
  if (!ExpectMap(incremental, path, issues)) return;
  CheckKeys(incremental, path, {"column"}, issues);
  std::optional<std::string> column =
      ReadText(incremental, "column", path, Need::kRequired, issues);
  if (!column) return;
  if (column->empty()) {
    AddIssue(issues, Child(path, "column"), "must not be empty");
    return;
  }
  if (*column == spec->Option("key")) {
    AddIssue(issues, Child(path, "column"),
             "is the key column; name a column that grows with every change (updated_at)");
    return;
  }
  spec->incremental_column = *column;
}

void ParseDeletions(const YAML::Node& node, SourceSpec* spec, std::vector<PlanIssue>* issues) {
  const YAML::Node deletions = Get(node, "deletions");
  if (!deletions.IsDefined()) return;
  const std::string path = Child(spec->yaml_path, "deletions");
  const char* kModes = "report, propagate or ignore";
  if (deletions.IsScalar()) {
    if (!DeletionsNamed(deletions.Scalar(), &spec->deletions)) {
      AddIssue(issues, path, std::string("must be ") + kModes);
    }
    return;
  }
  if (!ExpectMap(deletions, path, issues)) return;
  CheckKeys(deletions, path, {"mode", "soft_delete"}, issues);
  if (auto mode = ReadText(deletions, "mode", path, Need::kRequired, issues)) {
    if (!DeletionsNamed(*mode, &spec->deletions)) {
      AddIssue(issues, Child(path, "mode"), std::string("must be ") + kModes);
    }
  }
  if (auto field = ReadText(deletions, "soft_delete", path, Need::kOptional, issues)) {
    if (spec->deletions != SourceSpec::Deletions::kPropagate) {
      AddIssue(issues, Child(path, "soft_delete"), "only with mode: propagate");
    } else if (field->empty()) {
      AddIssue(issues, Child(path, "soft_delete"), "must not be empty");
    } else {
      spec->soft_delete_field = *field;
    }
  }
}

}  // namespace

void ParseSourceDelta(const YAML::Node& node, SourceSpec* spec, std::vector<PlanIssue>* issues) {
  ParseIncremental(node, spec, issues);
  ParseDeletions(node, spec, issues);
}

void CheckSoftDeletes(PlanContext* ctx) {
  for (const SourceSpec& source : ctx->plan->sources) {
    if (source.soft_delete_field.empty()) continue;
    const std::string path = Child(Child(source.yaml_path, "deletions"), "soft_delete");
    for (const Mapping& m : ctx->plan->mappings) {
      if (m.source != source.name) continue;
      const Entity* entity = ctx->plan->model.Find(m.entity);
      if (entity == nullptr) continue;  // reported with the mapping
      const ModelField* field = entity->Find(source.soft_delete_field);
      if (field == nullptr) {
        AddIssue(ctx->issues, path,
                 "entity " + m.entity + " has no field '" + source.soft_delete_field + "'");
      } else if (field->type != FieldType::kTimestamp && field->type != FieldType::kDate) {
        AddIssue(ctx->issues, path,
                 "field " + m.entity + "." + field->name + " must be a timestamp or a date");
      } else if (field->required) {
        AddIssue(ctx->issues, path,
                 "field " + m.entity + "." + field->name + " must not be required");
      }
    }
  }
}

}  // namespace sluice::plan_yaml
