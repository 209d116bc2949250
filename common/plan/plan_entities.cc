// The per-entity sections of a plan: mappings and validation (dedup is in
// plan_dedup.cc). Each name they mention is checked against the model and
// the sources.

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "common/core/datetime.h"
#include "common/plan/pattern.h"
#include "common/plan/plan_yaml.h"

namespace sluice::plan_yaml {
namespace {

bool IsDateLike(FieldType t) { return t == FieldType::kDate || t == FieldType::kTimestamp; }

// The directives common/core/datetime.h understands.
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

bool IsTextLike(FieldType t) {
  return t == FieldType::kString || t == FieldType::kEnum || t == FieldType::kReference;
}

// "a|b|c" -> true when `value` is one of them.
bool OneOf(const std::string& value, std::initializer_list<std::string_view> allowed) {
  for (auto a : allowed) {
    if (value == a) return true;
  }
  return false;
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return p.lexically_normal().string();
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// A file the transformer will read: resolved against the plan's folder and
// checked to exist, so that a typo shows at `sluice check`.
std::string ReadFilePath(const YAML::Node& node, std::string_view key, const std::string& path,
                         Need need, const PlanContext& ctx) {
  auto text = ReadText(node, key, path, need, ctx.issues);
  if (!text || text->empty()) return "";
  std::string resolved = ResolvePath(ctx.plan->base_dir, *text);
  std::error_code ec;
  if (!std::filesystem::exists(resolved, ec)) {
    AddIssue(ctx.issues, Child(path, key), "file not found: " + resolved);
  }
  return resolved;
}

// The transformations of docs/transformations.md beyond casts. `field` is
// null when its type is unknown: type checks are then skipped.
void ParseTransformKeys(const YAML::Node& node, const std::string& path, const ModelField* field,
                        const PlanContext& ctx, FieldMapping* fm) {
  std::vector<PlanIssue>* issues = ctx.issues;
  auto only_text = [&](const char* key) {
    if (field != nullptr && !IsTextLike(field->type)) {
      AddIssue(issues, Child(path, key), "only for string, enum and reference fields");
    }
  };
  if (auto concat = ReadTextList(node, "concat", path, Need::kOptional, false, issues)) {
    if (concat->empty()) AddIssue(issues, Child(path, "concat"), "must not be empty");
    if (!fm->from.empty()) AddIssue(issues, path, "use 'from' or 'concat', not both");
    fm->concat = std::move(*concat);
  }
  auto separator = ReadText(node, "separator", path, Need::kOptional, issues);
  if (YAML::Node sep = Get(node, "separator"); sep.IsDefined() && sep.IsScalar()) {
    separator = sep.Scalar();  // keep blanks: " " is the usual separator
  }
  if (separator) fm->separator = *separator;
  fm->split = ReadText(node, "split", path, Need::kOptional, issues).value_or("");
  fm->part = ReadText(node, "part", path, Need::kOptional, issues).value_or("");
  if (!fm->split.empty()) {
    const std::string part_path = Child(path, "part");
    if (fm->from.empty()) AddIssue(issues, Child(path, "split"), "needs 'from'");
    if (fm->split == "name") {
      if (!OneOf(fm->part, {"first", "last"})) AddIssue(issues, part_path, "must be first or last");
    } else if (fm->split == "address") {
      if (!OneOf(fm->part, {"street", "postcode", "city"})) {
        AddIssue(issues, part_path, "must be street, postcode or city");
      }
    } else if (fm->split == "separator") {
      if (!separator || separator->empty()) {
        AddIssue(issues, Child(path, "separator"), "missing (split: separator needs it)");
      }
      bool digits = !fm->part.empty() && fm->part.size() < 6;
      for (char c : fm->part) digits = digits && c >= '0' && c <= '9';
      if (!digits) AddIssue(issues, part_path, "must be a piece number: 0, 1, ...");
    } else {
      AddIssue(issues, Child(path, "split"), "must be name, address or separator");
    }
    only_text("split");
  } else if (!fm->part.empty()) {
    AddIssue(issues, Child(path, "part"), "only with 'split'");
  }
  if (separator && fm->concat.empty() && fm->split != "separator") {
    AddIssue(issues, Child(path, "separator"), "only with 'concat' or 'split: separator'");
  }
  fm->extract = ReadText(node, "extract", path, Need::kOptional, issues).value_or("");
  if (!fm->extract.empty()) {
    if (auto p = Pattern::Compile(fm->extract); !p.ok()) {
      AddIssue(issues, Child(path, "extract"), p.status().message());
    }
  }
  if (auto group = ReadInt(node, "group", path, Need::kOptional, issues)) {
    if (fm->extract.empty()) AddIssue(issues, Child(path, "group"), "only with 'extract'");
    if (*group < 0 || *group > 99) AddIssue(issues, Child(path, "group"), "must be 0 to 99");
    fm->extract_group = static_cast<int>(*group);
  }
  fm->normalize = ReadText(node, "normalize", path, Need::kOptional, issues).value_or("");
  if (!fm->normalize.empty()) {
    if (!OneOf(fm->normalize, {"nfc", "nfkc"})) {
      AddIssue(issues, Child(path, "normalize"), "must be nfc or nfkc");
    }
    only_text("normalize");
  }
  if (YAML::Node phone = Get(node, "phone"); phone.IsDefined() && phone.IsMap()) {
    // phone: {strict: false}
    const std::string at = Child(path, "phone");
    CheckKeys(phone, at, {"strict"}, issues);
    fm->phone_strict = ReadBool(phone, "strict", at, issues).value_or(true);
    fm->phone = true;
    only_text("phone");
  }
  for (const char* key : {"match_key", "email", "phone"}) {
    if (std::string_view(key) == "phone" && fm->phone) continue;  // the map form, above
    if (!ReadBool(node, key, path, issues).value_or(false)) continue;
    only_text(key);
    (std::string_view(key) == "match_key" ? fm->match_key
     : std::string_view(key) == "email"   ? fm->email
                                          : fm->phone) = true;
  }
  if ((fm->email ? 1 : 0) + (fm->phone ? 1 : 0) + (fm->match_key ? 1 : 0) > 1) {
    AddIssue(issues, path, "use one of phone, email and match_key");
  }
  fm->region = ReadText(node, "region", path, Need::kOptional, issues).value_or("");
  fm->region_from = ReadText(node, "region_from", path, Need::kOptional, issues).value_or("");
  if (!fm->region.empty() &&
      (fm->region.size() != 2 || !std::isupper(fm->region[0]) || !std::isupper(fm->region[1]))) {
    AddIssue(issues, Child(path, "region"), "must be an ISO 3166 code such as FR");
  }
  for (const char* key : {"region", "region_from"}) {
    if (Get(node, key).IsDefined() && !fm->phone) {
      AddIssue(issues, Child(path, key), "only with 'phone: true'");
    }
  }
  // `on_error: null` reads as a YAML null, which Get takes for no value.
  bool null_policy_written = false;
  for (const auto& kv : node) {
    if (kv.first.IsScalar() && kv.first.Scalar() == "on_error") {
      null_policy_written = kv.second.IsNull();
      break;
    }
  }
  if (null_policy_written) {
    fm->on_error = "null";
  } else if (auto on_error = ReadText(node, "on_error", path, Need::kOptional, issues)) {
    if (!OneOf(*on_error, {"reject", "review", "null"})) {
      AddIssue(issues, Child(path, "on_error"), "must be reject, review or null");
    } else {
      fm->on_error = *on_error;
    }
  }
  fm->map_file = ReadFilePath(node, "map_file", path, Need::kOptional, ctx);
  fm->null_policy = ReadText(node, "null_policy", path, Need::kOptional, issues).value_or("");
  if (!fm->null_policy.empty()) {
    if (!OneOf(fm->null_policy, {"null", "empty", "keep"})) {
      AddIssue(issues, Child(path, "null_policy"), "must be null, empty or keep");
    } else if (fm->null_policy != "null") {
      only_text("null_policy");
    }
  }
  fm->timezone = ReadText(node, "timezone", path, Need::kOptional, issues).value_or("");
  if (!fm->timezone.empty()) {
    if (field != nullptr && field->type != FieldType::kTimestamp) {
      AddIssue(issues, Child(path, "timezone"), "only for timestamp fields");
    } else if (auto t = ParseTimestamp("2000-01-01", "%Y-%m-%d", fm->timezone); !t.ok()) {
      AddIssue(issues, Child(path, "timezone"), "unknown time zone '" + fm->timezone + "'");
    }
  }
  if (auto amb = ReadText(node, "ambiguous", path, Need::kOptional, issues)) {
    if (!OneOf(*amb, {"reject", "first"})) {
      AddIssue(issues, Child(path, "ambiguous"), "must be reject or first");
    } else if (field != nullptr && !IsDateLike(field->type)) {
      AddIssue(issues, Child(path, "ambiguous"), "only for date and timestamp fields");
    }
    fm->ambiguous_first = *amb == "first";
  }
  fm->locale = ReadText(node, "locale", path, Need::kOptional, issues).value_or("");
  if (!fm->locale.empty() && field != nullptr && field->type != FieldType::kDecimal) {
    AddIssue(issues, Child(path, "locale"), "only for decimal fields");
  }
  YAML::Node enrich = Get(node, "enrich");
  if (enrich.IsDefined()) {
    const std::string at = Child(path, "enrich");
    if (ExpectMap(enrich, at, issues)) {
      CheckKeys(enrich, at, {"file", "table", "key", "by", "column"}, issues);
      FieldMapping::Enrichment e;
      e.file = ReadFilePath(enrich, "file", at, Need::kRequired, ctx);
      e.table = ReadText(enrich, "table", at, Need::kOptional, issues).value_or("");
      e.key = ReadText(enrich, "key", at, Need::kRequired, issues).value_or("");
      e.by = ReadText(enrich, "by", at, Need::kRequired, issues).value_or("");
      e.column = ReadText(enrich, "column", at, Need::kRequired, issues).value_or("");
      fm->enrich = std::move(e);
    }
  }
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
  CheckKeys(
      node, path,
      {"from",        "trim",         "format",        "formats",         "map",       "default",
       "true_values", "false_values", "decimal_point", "group_separator", "concat",    "separator",
       "split",       "part",         "extract",       "group",           "normalize", "match_key",
       "email",       "phone",        "region",        "region_from",     "map_file",  "enrich",
       "null_policy", "timezone",     "ambiguous",     "locale",          "on_error"},
      issues);
  fm.from = ReadText(node, "from", path, Need::kOptional, issues).value_or("");
  fm.trim = ReadBool(node, "trim", path, issues).value_or(true);
  fm.default_value = ReadText(node, "default", path, Need::kOptional, issues);
  ParseTransformKeys(node, path, field, ctx, &fm);
  if (fm.from.empty() && !fm.default_value && fm.concat.empty() && !fm.enrich) {
    AddIssue(issues, path, "needs 'from' or 'default' (or 'concat', 'enrich')");
  }
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
  if ((point || group) && !fm.locale.empty()) {
    AddIssue(issues, Child(path, "locale"), "use 'locale' or decimal_point/group_separator");
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
  const SourceSpec* source = ctx->plan->FindSource(m.source);
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
    if (source != nullptr) m.fields.back().source_region = source->Option("region");
  }
  if (entity == nullptr) return m;
  for (const ModelField& f : entity->fields) {
    if (!f.required) continue;
    bool filled = false;
    for (const FieldMapping& fm : m.fields) {
      filled = filled || (fm.target == f.name && (!fm.from.empty() || fm.default_value ||
                                                  !fm.concat.empty() || fm.enrich));
    }
    if (!filled) {
      AddIssue(issues, fields_path,
               "required field '" + f.name + "' has no mapping and no default");
    }
  }
  return m;
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

// ParseDedup is in plan_dedup.cc, ParseValidation in plan_validation.cc.

}  // namespace sluice::plan_yaml
