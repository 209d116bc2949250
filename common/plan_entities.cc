// The per-entity sections of a plan: mappings, dedup and validation. Each
// name they mention is checked against the model and the sources.

#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "common/pattern.h"
#include "common/plan_yaml.h"

namespace sluice::plan_yaml {
namespace {

bool IsDateLike(FieldType t) { return t == FieldType::kDate || t == FieldType::kTimestamp; }

// The directives common/datetime.h understands.
void CheckFormat(const std::string& format, const std::string& path,
                 std::vector<PlanIssue>* issues) {
  constexpr std::string_view kDirectives = "dmYyHMSfbz%";
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (i + 1 == format.size()) {
      AddIssue(issues, path, "format ends with a lone '%'");
      return;
    }
    if (kDirectives.find(format[++i]) == std::string::npos) {
      AddIssue(issues, path, std::string("unsupported directive '%") + format[i] + "'");
    }
  }
}

// A default or a value-map output of an enum field must be one of its values
// ("" in a map means "no value"). Whether other types' values cast is
// checked where they are cast, by the transformer, with the mapping's
// formats and separators.
void CheckEnumValue(const ModelField& field, const std::string& value, const std::string& path,
                    std::vector<PlanIssue>* issues) {
  if (field.type != FieldType::kEnum || value.empty()) return;
  for (const std::string& v : field.enum_values) {
    if (v == value) return;
  }
  AddIssue(issues, path, "'" + value + "' is not a value of enum '" + field.name + "'");
}

FieldMapping ParseFieldMapping(const std::string& name, const YAML::Node& node,
                               const std::string& path, const Entity* entity,
                               const PlanContext& ctx) {
  std::vector<PlanIssue>* issues = ctx.issues;
  FieldMapping fm;
  fm.target = name;
  fm.yaml_path = path;
  const ModelField* field = ctx.FindField(entity, name, path);
  if (field != nullptr && !ctx.Typed(*entity, *field)) field = nullptr;  // no type checks
  if (node.IsScalar()) {
    fm.from = node.Scalar();
    if (fm.from.empty()) AddIssue(issues, path, "must not be empty");
    return fm;
  }
  if (!node.IsMap()) {
    AddIssue(issues, path, "must be a column name or a mapping");
    return fm;
  }
  CheckKeys(node, path,
            {"from", "trim", "format", "formats", "map", "default", "true_values", "false_values",
             "decimal_point", "group_separator"},
            issues);
  fm.from = ReadText(node, "from", path, Need::kOptional, issues).value_or("");
  fm.trim = ReadBool(node, "trim", path, issues).value_or(true);
  fm.default_value = ReadText(node, "default", path, Need::kOptional, issues);
  if (fm.from.empty() && !fm.default_value) AddIssue(issues, path, "needs 'from' or 'default'");
  if (field != nullptr && fm.default_value) {
    CheckEnumValue(*field, *fm.default_value, Child(path, "default"), issues);
  }

  auto format = ReadText(node, "format", path, Need::kOptional, issues);
  auto formats = ReadTextList(node, "formats", path, Need::kOptional, false, issues);
  if (format && formats) AddIssue(issues, path, "use 'format' or 'formats', not both");
  const char* format_key = format ? "format" : "formats";
  if (format) fm.formats = {*format};
  if (formats) fm.formats.insert(fm.formats.end(), formats->begin(), formats->end());
  if (formats && formats->empty()) AddIssue(issues, Child(path, "formats"), "must not be empty");
  if ((format || formats) && field != nullptr && !IsDateLike(field->type)) {
    AddIssue(issues, Child(path, format_key), "only for date and timestamp fields");
  }
  for (size_t i = 0; i < fm.formats.size(); ++i) {
    CheckFormat(fm.formats[i], format ? Child(path, "format") : Item(Child(path, "formats"), i),
                issues);
  }

  if (auto map = ReadTextMap(node, "map", path, issues)) {
    fm.has_value_map = true;
    for (auto& [from, to] : *map) {
      if (field != nullptr) CheckEnumValue(*field, to, Child(Child(path, "map"), from), issues);
      fm.value_map.emplace(from, to);
    }
  }

  for (const char* key : {"true_values", "false_values"}) {
    auto values = ReadTextList(node, key, path, Need::kOptional, false, issues);
    if (!values) continue;
    if (field != nullptr && field->type != FieldType::kBool) {
      AddIssue(issues, Child(path, key), "only for bool fields");
    } else if (values->empty()) {
      AddIssue(issues, Child(path, key), "must not be empty");
    }
    (std::string(key) == "true_values" ? fm.true_values : fm.false_values) = std::move(*values);
  }

  auto point = ReadChar(node, "decimal_point", path, false, issues);
  auto group = ReadChar(node, "group_separator", path, true, issues);
  if ((point || group) && field != nullptr && field->type != FieldType::kDecimal) {
    AddIssue(issues, Child(path, point ? "decimal_point" : "group_separator"),
             "only for decimal fields");
  }
  if (point) fm.decimal_point = *point;
  if (group) fm.group_separator = *group;
  if (fm.decimal_point == fm.group_separator) {
    AddIssue(issues, path, "decimal_point and group_separator must differ");
  }
  return fm;
}

Mapping ParseMapping(const YAML::Node& node, const std::string& path, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  Mapping m;
  m.yaml_path = path;
  if (!ExpectMap(node, path, issues)) return m;
  CheckKeys(node, path, {"entity", "source", "fields"}, issues);
  const Entity* entity = nullptr;
  if (auto name = ReadText(node, "entity", path, Need::kRequired, issues)) {
    m.entity = *name;
    entity = ctx->FindEntity(*name, Child(path, "entity"));
  }
  if (auto name = ReadText(node, "source", path, Need::kRequired, issues)) {
    m.source = *name;
    ctx->FindSource(*name, Child(path, "source"));
  }
  const std::string fields_path = Child(path, "fields");
  YAML::Node fields = Get(node, "fields");
  if (!fields.IsDefined()) {
    AddIssue(issues, fields_path, "missing");
    return m;
  }
  if (!ExpectMap(fields, fields_path, issues)) return m;
  std::set<std::string> seen;
  for (const auto& kv : fields) {
    if (!kv.first.IsScalar()) {
      AddIssue(issues, fields_path, "keys must be text");
      continue;
    }
    const std::string& name = kv.first.Scalar();
    if (!seen.insert(name).second) {
      AddIssue(issues, fields_path, "duplicate field '" + name + "'");
      continue;
    }
    m.fields.push_back(ParseFieldMapping(name, kv.second, Child(fields_path, name), entity, *ctx));
  }
  if (entity == nullptr) return m;
  for (const ModelField& f : entity->fields) {
    if (!f.required) continue;
    bool filled = false;
    for (const FieldMapping& fm : m.fields) {
      filled = filled || (fm.target == f.name && (!fm.from.empty() || fm.default_value));
    }
    if (!filled) {
      AddIssue(issues, fields_path,
               "required field '" + f.name + "' has no mapping and no default");
    }
  }
  return m;
}

// Validation rules.

constexpr const char* kRuleKinds[] = {"required", "type",  "max_length", "regex",
                                      "picklist", "range", "date_range"};

// Which kinds read each optional key.
bool KindUses(const std::string& kind, const std::string& key) {
  if (key == "min") return kind == "range" || kind == "date_range";
  if (key == "max") return kind == "range" || kind == "date_range" || kind == "max_length";
  if (key == "pattern") return kind == "regex";
  if (key == "values") return kind == "picklist";
  if (key == "type") return kind == "type";
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
            {"name", "kind", "field", "severity", "min", "max", "pattern", "values", "type"},
            issues);
  rule.kind = ReadText(node, "kind", path, Need::kRequired, issues).value_or("");
  bool known = false;
  for (const char* k : kRuleKinds) known = known || rule.kind == k;
  if (!rule.kind.empty() && !known) {
    AddIssue(issues, Child(path, "kind"),
             "unknown rule kind '" + rule.kind +
                 "' (required, type, max_length, regex, picklist, range, date_range)");
  }
  const ModelField* field = nullptr;
  if (auto name = ReadText(node, "field", path, Need::kRequired, issues)) {
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
  rule.name =
      ReadText(node, "name", path, Need::kOptional, issues).value_or(rule.kind + "_" + rule.field);
  if (!names->insert(rule.name).second) {
    AddIssue(issues, Child(path, "name"), "duplicate rule name '" + rule.name + "'");
  }
  if (!known) return rule;
  for (const char* key : {"min", "max", "pattern", "values", "type"}) {
    if (Get(node, key).IsDefined() && !KindUses(rule.kind, key)) {
      AddIssue(issues, Child(path, key), "not used by kind '" + rule.kind + "'");
    }
  }

  if (rule.kind == "regex") {
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
  } else if (rule.kind == "date_range") {
    if (field != nullptr && !IsDateLike(field->type)) {
      AddIssue(issues, Child(path, "field"), "date_range needs a date or timestamp field");
    }
    FieldSpec bound{rule.field, FieldType::kDate};
    CheckBounds(node, &bound, &rule, issues);
  }
  return rule;
}

}  // namespace

void ParseMappings(const YAML::Node& root, PlanContext* ctx) {
  YAML::Node list = Get(root, "mappings");
  if (!list.IsDefined()) {
    AddIssue(ctx->issues, "mappings", "missing");
    return;
  }
  if (!ExpectList(list, "mappings", ctx->issues)) return;
  if (list.size() == 0) AddIssue(ctx->issues, "mappings", "must not be empty");
  std::map<std::pair<std::string, std::string>, std::string> first;  // -> yaml path
  for (size_t i = 0; i < list.size(); ++i) {
    Mapping m = ParseMapping(list[i], Item("mappings", i), ctx);
    if (!m.entity.empty() && !m.source.empty()) {
      auto [it, fresh] = first.emplace(std::make_pair(m.entity, m.source), m.yaml_path);
      if (!fresh) {
        AddIssue(ctx->issues, m.yaml_path,
                 "duplicate mapping of entity '" + m.entity + "' from source '" + m.source +
                     "' (first at " + it->second + ")");
      }
    }
    ctx->plan->mappings.push_back(std::move(m));
  }
}

void ParseDedup(const YAML::Node& root, PlanContext* ctx) {
  std::vector<PlanIssue>* issues = ctx->issues;
  YAML::Node dedup = Get(root, "dedup");
  if (!dedup.IsDefined() || !ExpectMap(dedup, "dedup", issues)) return;
  for (const auto& kv : dedup) {
    if (!kv.first.IsScalar()) {
      AddIssue(issues, "dedup", "keys must be text");
      continue;
    }
    DedupSpec spec;
    spec.entity = kv.first.Scalar();
    spec.yaml_path = Child("dedup", spec.entity);
    const std::string& path = spec.yaml_path;
    if (ctx->plan->dedup.count(spec.entity)) {
      AddIssue(issues, "dedup", "duplicate key '" + spec.entity + "'");
      continue;
    }
    const Entity* entity = ctx->FindEntity(spec.entity, path);
    const YAML::Node& node = kv.second;
    if (!ExpectMap(node, path, issues)) continue;
    CheckKeys(node, path, {"key", "survivorship"}, issues);
    if (auto keys = ReadTextList(node, "key", path, Need::kRequired, true, issues)) {
      spec.key_fields = *keys;
      if (keys->empty()) AddIssue(issues, Child(path, "key"), "must not be empty");
      const bool scalar = Get(node, "key").IsScalar();
      for (size_t i = 0; i < keys->size(); ++i) {
        ctx->FindField(entity, (*keys)[i],
                       scalar ? Child(path, "key") : Item(Child(path, "key"), i));
      }
    }
    const std::string surv_path = Child(path, "survivorship");
    YAML::Node surv = Get(node, "survivorship");
    if (surv.IsDefined() && ExpectMap(surv, surv_path, issues)) {
      CheckKeys(surv, surv_path, {"source_priority", "most_recent"}, issues);
      auto sources =
          ReadTextList(surv, "source_priority", surv_path, Need::kOptional, false, issues);
      if (sources) {
        std::set<std::string> seen;
        for (size_t i = 0; i < sources->size(); ++i) {
          const std::string& s = (*sources)[i];
          const std::string at = Item(Child(surv_path, "source_priority"), i);
          if (!seen.insert(s).second) {
            AddIssue(issues, at, "source '" + s + "' is listed twice");
          } else {
            ctx->FindSource(s, at);
          }
        }
        spec.source_priority = std::move(*sources);
      }
      auto recent = ReadText(surv, "most_recent", surv_path, Need::kOptional, issues);
      if (recent) {
        spec.most_recent_field = *recent;
        const std::string at = Child(surv_path, "most_recent");
        const ModelField* f = ctx->FindField(entity, *recent, at);
        if (f != nullptr && ctx->Typed(*entity, *f) && !IsDateLike(f->type) &&
            f->type != FieldType::kInt) {
          AddIssue(issues, at, "must be a date, timestamp or int field");
        }
      }
    }
    ctx->plan->dedup.emplace(spec.entity, std::move(spec));
  }
}

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
    if (!ExpectList(kv.second, path, issues)) continue;
    std::set<std::string> names;
    for (size_t i = 0; i < kv.second.size(); ++i) {
      rules.push_back(ParseRule(kv.second[i], Item(path, i), entity, *ctx, &names));
    }
  }
}

}  // namespace sluice::plan_yaml
