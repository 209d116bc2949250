// The validation section of a plan: rules per entity, each checked against
// the model, and per-entity halt thresholds. The validator compiles the same
// RuleSpecs again (validator/rule.cc); this parser reports every mistake with
// its YAML path before any worker starts.

#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "common/plan/expression.h"
#include "common/plan/pattern.h"
#include "common/plan/plan_yaml.h"

namespace sluice::plan_yaml {
namespace {

bool IsDateLike(FieldType t) { return t == FieldType::kDate || t == FieldType::kTimestamp; }

// Validation rules.

// `reference` (parent existence) is checked by the loader, which resolves
// references through the cross-reference; its severity decides an orphan's
// fate there (loader/references.cc).
constexpr const char* kRuleKinds[] = {"required",   "type",     "max_length", "regex",
                                      "picklist",   "range",    "date_range", "unique",
                                      "expression", "reference"};

// Which kinds read each optional key.
bool KindUses(const std::string& kind, const std::string& key) {
  if (key == "min") return kind == "range" || kind == "date_range";
  if (key == "max") return kind == "range" || kind == "date_range" || kind == "max_length";
  if (key == "pattern") return kind == "regex";
  if (key == "values") return kind == "picklist";
  if (key == "type") return kind == "type";
  if (key == "fields") return kind == "unique";
  if (key == "expression" || key == "message") return kind == "expression";
  return true;
}

// "int", "decimal(12,2)", "date (YYYY-MM-DD)": how a bound must be written.
std::string BoundType(const FieldSpec& bound) {
  if (bound.type == FieldType::kDecimal) {
    return "decimal(" + std::to_string(bound.precision) + "," + std::to_string(bound.scale) + ")";
  }
  if (bound.type == FieldType::kDate) return "date (YYYY-MM-DD)";
  return FieldTypeName(bound.type);
}

// min/max of a range or date_range rule. Like the validator, bounds are
// canonical text of `bound` (the field's type; dates for date_range); with no
// `bound` (the field is unknown) they need only be numbers.
void CheckBounds(const YAML::Node& node, const FieldSpec* bound, RuleSpec* rule,
                 std::vector<PlanIssue>* issues) {
  const std::string& path = rule->yaml_path;
  auto read = [&](const char* key, std::optional<std::string>* text) -> std::optional<double> {
    *text = ReadText(node, key, path, Need::kOptional, issues);
    if (!*text) return std::nullopt;
    if (bound != nullptr) {
      Result<Value> v = ParseCanonical(*bound, **text);
      if (v.ok()) return static_cast<double>(v->i);
      AddIssue(issues, Child(path, key), "'" + **text + "' is not a valid " + BoundType(*bound));
      return std::nullopt;
    }
    char* end = nullptr;
    double v = std::strtod((*text)->c_str(), &end);
    if (!(*text)->empty() && end == (*text)->c_str() + (*text)->size()) return v;
    AddIssue(issues, Child(path, key), "must be a number");
    return std::nullopt;
  };
  std::optional<double> lo = read("min", &rule->min);
  std::optional<double> hi = read("max", &rule->max);
  if (!rule->min && !rule->max) AddIssue(issues, path, rule->kind + " needs min or max");
  if (lo && hi && *lo > *hi) AddIssue(issues, path, "min is greater than max");
}

RuleSpec ParseRule(const YAML::Node& node, const std::string& path, const Entity* entity,
                   const PlanContext& ctx, std::set<std::string>* names) {
  std::vector<PlanIssue>* issues = ctx.issues;
  RuleSpec rule;
  rule.yaml_path = path;
  if (!ExpectMap(node, path, issues)) return rule;
  CheckKeys(node, path,
            {"name", "kind", "field", "fields", "severity", "min", "max", "pattern", "values",
             "type", "expression", "message"},
            issues);
  rule.kind = ReadText(node, "kind", path, Need::kRequired, issues).value_or("");
  bool known = false;
  for (const char* k : kRuleKinds) known = known || rule.kind == k;
  if (!rule.kind.empty() && !known) {
    AddIssue(issues, Child(path, "kind"),
             "unknown rule kind '" + rule.kind +
                 "' (required, type, max_length, regex, picklist, range, date_range, unique, "
                 "expression, reference)");
  }
  const ModelField* field = nullptr;
  // unique names its fields (`field` or `fields`); expression reads the
  // fields it mentions, and `field` only says where to file its failures.
  const bool field_optional = rule.kind == "unique" || rule.kind == "expression";
  if (rule.kind == "unique") {
    if (auto list = ReadTextList(node, "fields", path, Need::kOptional, true, issues)) {
      rule.fields = *list;
      for (size_t i = 0; i < rule.fields.size(); ++i) {
        ctx.FindField(entity, rule.fields[i], Item(Child(path, "fields"), i));
      }
    }
    if (Get(node, "field").IsDefined() && Get(node, "fields").IsDefined()) {
      AddIssue(issues, path, "give field or fields, not both");
    } else if (!Get(node, "field").IsDefined() && rule.fields.empty()) {
      AddIssue(issues, Child(path, "fields"), "missing (the fields whose values must be unique)");
    }
  }
  if (auto name = ReadText(node, "field", path, field_optional ? Need::kOptional : Need::kRequired,
                           issues)) {
    rule.field = *name;
    field = ctx.FindField(entity, *name, Child(path, "field"));
    if (field != nullptr && !ctx.Typed(*entity, *field)) field = nullptr;
  }
  if (auto sev = ReadText(node, "severity", path, Need::kOptional, issues)) {
    if (*sev != "error" && *sev != "warning" && *sev != "review") {
      AddIssue(issues, Child(path, "severity"), "must be error, warning or review");
    }
    rule.severity = *sev;
  }
  if (rule.kind == "unique") {
    if (rule.fields.empty() && !rule.field.empty()) rule.fields = {rule.field};
    if (rule.field.empty() && !rule.fields.empty()) rule.field = rule.fields.front();
  }
  std::string default_name = rule.kind + "_" + rule.field;
  if (rule.kind == "unique" && rule.fields.size() > 1) {
    default_name = "unique";
    for (const auto& f : rule.fields) default_name += "_" + f;
  }
  if (rule.kind == "expression" && rule.field.empty()) default_name = "";
  rule.name = ReadText(node, "name", path, Need::kOptional, issues).value_or(default_name);
  if (rule.name.empty()) AddIssue(issues, Child(path, "name"), "an expression rule needs a name");
  if (!names->insert(rule.name).second) {
    AddIssue(issues, Child(path, "name"), "duplicate rule name '" + rule.name + "'");
  }
  if (!known) return rule;
  for (const char* key : {"min", "max", "pattern", "values", "type"}) {
    if (Get(node, key).IsDefined() && !KindUses(rule.kind, key)) {
      AddIssue(issues, Child(path, key), "not used by kind '" + rule.kind + "'");
    }
  }

  if (rule.kind == "expression") {
    rule.message = ReadText(node, "message", path, Need::kOptional, issues).value_or("");
    if (auto text = ReadText(node, "expression", path, Need::kRequired, issues)) {
      rule.expression = *text;
      // The validator compiles it again; this reports a mistake with its
      // YAML path and its position in the expression.
      if (entity != nullptr) {
        if (auto e = Expression::Compile(*text, *entity); !e.ok()) {
          AddIssue(issues, Child(path, "expression"), e.status().message());
        } else if (rule.field.empty() && !e->fields().empty()) {
          rule.field = entity->fields[e->fields().front()].name;
        }
      }
    }
  } else if (rule.kind == "regex") {
    rule.pattern = ReadText(node, "pattern", path, Need::kRequired, issues).value_or("");
    if (!rule.pattern.empty()) {
      // The validator compiles it again with the same engine; this reports
      // a bad pattern with its YAML path before any worker starts.
      if (auto p = Pattern::Compile(rule.pattern); !p.ok()) {
        AddIssue(issues, Child(path, "pattern"), p.status().message());
      }
    }
  } else if (rule.kind == "max_length") {
    // Without `max`, the model field's max_length applies.
    const bool from_model = field == nullptr || field->max_length.has_value();
    if (auto max = ReadInt(node, "max", path, Need::kOptional, issues)) {
      if (*max < 1) AddIssue(issues, Child(path, "max"), "must be at least 1");
      rule.max_length = *max;
    } else if (!Get(node, "max").IsDefined() && !from_model) {
      AddIssue(issues, Child(path, "max"),
               "missing; field '" + field->name + "' has no max_length in the model");
    }
  } else if (rule.kind == "type") {
    if (auto type = ReadText(node, "type", path, Need::kRequired, issues)) {
      ModelField parsed;
      Status st = ParseFieldType(*type, &parsed);
      const bool text_like = parsed.type == FieldType::kString || parsed.type == FieldType::kEnum ||
                             parsed.type == FieldType::kReference;
      if (!st.ok()) {
        AddIssue(issues, Child(path, "type"), st.message());
      } else if (text_like) {
        AddIssue(issues, Child(path, "type"), "must be int, decimal, date, timestamp or bool");
      }
      rule.type = parsed.type;
    }
  } else if (rule.kind == "picklist") {
    auto values = ReadTextList(node, "values", path, Need::kOptional, false, issues);
    if (values) rule.values = std::move(*values);
    if (rule.values.empty() && field != nullptr && field->type != FieldType::kEnum) {
      AddIssue(issues, Child(path, "values"),
               "missing; field '" + field->name + "' is not an enum");
    }
  } else if (rule.kind == "range") {
    const bool numeric =
        field != nullptr && (field->type == FieldType::kInt || field->type == FieldType::kDecimal);
    if (field != nullptr && !numeric) {
      AddIssue(issues, Child(path, "field"), "range needs an int or decimal field");
    }
    FieldSpec bound;
    if (numeric) bound = {field->name, field->type, field->precision, field->scale};
    CheckBounds(node, numeric ? &bound : nullptr, &rule, issues);
  } else if (rule.kind == "reference") {
    if (field != nullptr && field->references.empty()) {
      AddIssue(issues, Child(path, "field"),
               "reference needs a reference field (type: reference, entity: ...)");
    }
  } else if (rule.kind == "date_range") {
    if (field != nullptr && !IsDateLike(field->type)) {
      AddIssue(issues, Child(path, "field"), "date_range needs a date or timestamp field");
    }
    FieldSpec bound{rule.field, FieldType::kDate};
    CheckBounds(node, &bound, &rule, issues);
  }
  return rule;
}

// validation.<entity>.halt: {reject_rate: 0.05, review_rate: 0.01}.
void ParseHalt(const YAML::Node& node, const std::string& path, const std::string& entity,
               PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  if (!node.IsDefined() || !ExpectMap(node, path, issues)) return;
  CheckKeys(node, path, {"reject_rate", "review_rate"}, issues);
  ValidationHalt halt;
  halt.yaml_path = path;
  auto rate = [&](const char* key) -> std::optional<double> {
    auto text = ReadText(node, key, path, Need::kOptional, issues);
    if (!text) return std::nullopt;
    char* end = nullptr;
    double v = std::strtod(text->c_str(), &end);
    if (text->empty() || end != text->c_str() + text->size() || v < 0 || v > 1) {
      AddIssue(issues, Child(path, key), "must be a fraction from 0 to 1 (0.05 is 5%)");
      return std::nullopt;
    }
    return v;
  };
  halt.reject_rate = rate("reject_rate");
  halt.review_rate = rate("review_rate");
  if (!halt.any()) {
    AddIssue(issues, path, "needs reject_rate or review_rate");
    return;
  }
  ctx->plan->validation_halts[entity] = halt;
}

}  // namespace

void ParseValidation(const YAML::Node& root, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  YAML::Node validation = Get(root, "validation");
  if (!validation.IsDefined() || !ExpectMap(validation, "validation", issues)) return;
  for (const auto& kv : validation) {
    if (!kv.first.IsScalar()) {
      AddIssue(issues, "validation", "keys must be text");
      continue;
    }
    const std::string& name = kv.first.Scalar();
    const std::string path = Child("validation", name);
    if (ctx->plan->rules.count(name)) {
      AddIssue(issues, "validation", "duplicate key '" + name + "'");
      continue;
    }
    const Entity* entity = ctx->FindEntity(name, path);
    std::vector<RuleSpec>& rules = ctx->plan->rules[name];
    // Either the list of rules, or {rules: [...], halt: {...}}. (yaml-cpp
    // nodes are references: assigning one overwrites what it points at, so
    // the list is chosen, not reassigned.)
    const bool sectioned = kv.second.IsMap();
    if (sectioned) {
      CheckKeys(kv.second, path, {"rules", "halt"}, issues);
      ParseHalt(Get(kv.second, "halt"), Child(path, "halt"), name, ctx);
    }
    const YAML::Node list = sectioned ? Get(kv.second, "rules") : kv.second;
    const std::string list_path = sectioned ? Child(path, "rules") : path;
    if (sectioned && !list.IsDefined()) continue;
    if (!ExpectList(list, list_path, issues)) continue;
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      rules.push_back(ParseRule(list[i], Item(list_path, i), entity, *ctx, &names));
    }
  }
}

}  // namespace sluice::plan_yaml
