// `pii:` of a plan (issue 19, docs/privacy.md): what a run does to the model
// fields marked `pii: true`, and the checks that keep a real value from
// reaching an output by another way (a key column, a column that also fills
// a field not marked pii).

#include <algorithm>
#include <cctype>

#include "common/plan/plan_yaml.h"

namespace sluice {

const char* PiiModeName(PiiMode mode) {
  switch (mode) {
    case PiiMode::kPseudonymise:
      return "pseudonymise";
    case PiiMode::kDrop:
      return "drop";
    case PiiMode::kNone:
      break;
  }
  return "none";
}

namespace {

constexpr PiiShape kShapes[] = {PiiShape::kName,       PiiShape::kEmail, PiiShape::kPhone,
                                PiiShape::kIdentifier, PiiShape::kDate,  PiiShape::kEnum,
                                PiiShape::kBool};

bool Contains(const std::string& name, std::string_view part) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find(part) != std::string::npos;
}

// The shapes a field of `type` may take.
bool ShapeFits(PiiShape shape, FieldType type) {
  switch (type) {
    case FieldType::kDate:
    case FieldType::kTimestamp:
      return shape == PiiShape::kDate;
    case FieldType::kEnum:
      return shape == PiiShape::kEnum || shape == PiiShape::kIdentifier;
    case FieldType::kBool:
      return shape == PiiShape::kBool;
    case FieldType::kInt:
    case FieldType::kDecimal:
      return shape == PiiShape::kIdentifier;
    case FieldType::kReference:
      return false;
    case FieldType::kString:
      break;
  }
  return shape == PiiShape::kName || shape == PiiShape::kEmail || shape == PiiShape::kPhone ||
         shape == PiiShape::kIdentifier;
}

}  // namespace

const char* PiiShapeName(PiiShape shape) {
  switch (shape) {
    case PiiShape::kName:
      return "name";
    case PiiShape::kEmail:
      return "email";
    case PiiShape::kPhone:
      return "phone";
    case PiiShape::kDate:
      return "date";
    case PiiShape::kEnum:
      return "enum";
    case PiiShape::kBool:
      return "bool";
    case PiiShape::kIdentifier:
      break;
  }
  return "identifier";
}

PiiShape PiiShapeOf(const Plan& plan, const Entity& entity, const ModelField& field) {
  auto set = plan.pii.shapes.find(entity.name + "." + field.name);
  if (set != plan.pii.shapes.end()) return set->second;
  switch (field.type) {
    case FieldType::kDate:
    case FieldType::kTimestamp:
      return PiiShape::kDate;
    case FieldType::kEnum:
      return PiiShape::kEnum;
    case FieldType::kBool:
      return PiiShape::kBool;
    case FieldType::kString:
      break;
    default:
      return PiiShape::kIdentifier;
  }
  for (const Mapping* m : plan.MappingsFor(entity.name)) {
    for (const FieldMapping& fm : m->fields) {
      if (fm.target != field.name) continue;
      if (fm.email) return PiiShape::kEmail;
      if (fm.phone) return PiiShape::kPhone;
      if (fm.split == "name") return PiiShape::kName;
    }
  }
  if (Contains(field.name, "mail")) return PiiShape::kEmail;
  for (std::string_view part : {"phone", "mobile", "fax"}) {
    if (Contains(field.name, part)) return PiiShape::kPhone;
  }
  if (Contains(field.name, "name")) return PiiShape::kName;
  return PiiShape::kIdentifier;
}

namespace plan_yaml {

namespace {

// Under a mode, a PII value must have no way around the mask: not through
// the record key (fates, lineage and `sluice trace` name records by it), not
// through a field not marked pii, not as a reference.
void CheckPiiPaths(PlanContext* ctx) {
  const Plan& plan = *ctx->plan;
  for (const Entity& e : plan.model.entities) {
    for (const ModelField& f : e.fields) {
      if (f.pii && f.type == FieldType::kReference) {
        AddIssue(ctx->issues, "pii",
                 "field " + e.name + "." + f.name +
                     " is a reference marked pii: references are record keys, kept as they "
                     "are; remove its pii mark or the mode");
      }
    }
  }
  for (const Mapping& m : plan.mappings) {
    const Entity* e = plan.model.Find(m.entity);
    const SourceSpec* source = plan.FindSource(m.source);
    if (e == nullptr) continue;
    // Column -> the pii field that reads it.
    std::map<std::string, std::string> pii_columns;
    for (const FieldMapping& fm : m.fields) {
      const ModelField* f = e->Find(fm.target);
      if (f == nullptr || !f->pii) continue;
      for (const std::string& c : fm.ValueColumns()) pii_columns.emplace(c, fm.target);
    }
    for (const FieldMapping& fm : m.fields) {
      const ModelField* f = e->Find(fm.target);
      if (f == nullptr) continue;
      for (const std::string& c : fm.ValueColumns()) {
        auto pii = pii_columns.find(c);
        if (pii == pii_columns.end()) continue;
        if (source != nullptr && c == source->Option("key")) {
          AddIssue(ctx->issues, fm.yaml_path,
                   "column " + c + " is the key of source " + m.source +
                       ", which fates, lineage and sluice trace keep as it is: a pii field "
                       "cannot be filled from it");
        } else if (!f->pii) {
          AddIssue(ctx->issues, fm.yaml_path,
                   "column " + c + " also fills pii field " + m.entity + "." + pii->second +
                       ": its value would reach the target as it is; mark " + m.entity + "." +
                       fm.target + " pii too");
        }
      }
    }
  }
}

}  // namespace

void ParsePii(const YAML::Node& root, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  Plan& plan = *ctx->plan;
  YAML::Node node = Get(root, "pii");
  if (!node.IsDefined()) return;
  if (!ExpectMap(node, "pii", issues)) return;
  CheckKeys(node, "pii", {"mode", "key", "shapes"}, issues);
  plan.pii.set = true;
  const std::string mode =
      ReadText(node, "mode", "pii", Need::kRequired, issues).value_or("pseudonymise");
  if (mode == "pseudonymise" || mode == "pseudonymize") {
    plan.pii.mode = PiiMode::kPseudonymise;
  } else if (mode == "drop") {
    plan.pii.mode = PiiMode::kDrop;
  } else if (mode != "none") {
    AddIssue(issues, "pii.mode", "unknown mode '" + mode + "' (pseudonymise, drop or none)");
    return;
  }
  std::optional<std::string> key = ReadText(node, "key", "pii", Need::kOptional, issues);
  if (plan.pii.mode != PiiMode::kPseudonymise) {
    if (key) AddIssue(issues, "pii.key", "only with mode: pseudonymise");
  } else if (!key) {
    AddIssue(issues, "pii.key",
             "missing: pseudonymise needs a key, such as key: ${env:SLUICE_PII_KEY}");
  } else if (key->find("${") != std::string::npos) {
    // Unresolved: a note (plan check) or an issue already says why.
  } else if (std::find(plan.secret_values.begin(), plan.secret_values.end(), *key) ==
             plan.secret_values.end()) {
    AddIssue(issues, "pii.key",
             "must be a secret (${env:NAME} or ${file:PATH}): a key written in the plan is "
             "shipped and stored with it");
  } else if (key->size() < 16) {
    AddIssue(issues, "pii.key",
             "the key must be at least 16 bytes, got " + std::to_string(key->size()) +
                 " (a short key can be guessed, and every pseudonym reversed)");
  } else {
    plan.pii.key = *key;
  }
  if (auto shapes = ReadTextMap(node, "shapes", "pii", issues)) {
    for (const auto& [name, shape_text] : *shapes) {
      const std::string at = Child("pii.shapes", name);
      const size_t dot = name.find('.');
      const Entity* e =
          dot == std::string::npos ? nullptr : ctx->FindEntity(name.substr(0, dot), at);
      const ModelField* f = e == nullptr ? nullptr : ctx->FindField(e, name.substr(dot + 1), at);
      if (dot == std::string::npos) AddIssue(issues, at, "must name entity.field");
      if (f == nullptr) continue;
      if (!f->pii) {
        AddIssue(issues, at, "field " + name + " is not marked pii: true");
        continue;
      }
      const PiiShape* shape = nullptr;
      for (const PiiShape& s : kShapes) {
        if (shape_text == PiiShapeName(s)) shape = &s;
      }
      if (shape == nullptr) {
        AddIssue(issues, at,
                 "unknown shape '" + shape_text +
                     "' (name, email, phone, identifier, date, enum, bool)");
      } else if (!ShapeFits(*shape, f->type)) {
        AddIssue(issues, at,
                 std::string("shape ") + PiiShapeName(*shape) + " does not fit a " +
                     FieldTypeName(f->type) + " field");
      } else {
        plan.pii.shapes[name] = *shape;
      }
    }
  }
  if (plan.pii.active()) CheckPiiPaths(ctx);
}

}  // namespace plan_yaml
}  // namespace sluice
