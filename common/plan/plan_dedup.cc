// The dedup section of a plan: the exact key, blocking rules, deterministic
// rules, Fellegi-Sunter comparisons, thresholds, clustering guardrails and
// survivorship (docs/dedup.md). Every name is checked against the model.

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/plan/alias_lines.h"
#include "common/plan/plan_yaml.h"

namespace sluice::plan_yaml {
namespace {

bool IsDateLike(FieldType t) { return t == FieldType::kDate || t == FieldType::kTimestamp; }
bool IsNumber(FieldType t) { return t == FieldType::kInt || t == FieldType::kDecimal; }
bool IsText(FieldType t) { return t == FieldType::kString || t == FieldType::kEnum; }

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

std::optional<double> ParseNumber(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<double> ReadNumber(const YAML::Node& map, std::string_view key,
                                 const std::string& path, std::vector<PlanIssue>* issues) {
  YAML::Node v = Get(map, key);
  if (!v.IsDefined()) return std::nullopt;
  std::optional<double> d = v.IsScalar() ? ParseNumber(v.Scalar()) : std::nullopt;
  if (!d) AddIssue(issues, Child(path, key), "must be a number");
  return d;
}

std::optional<std::vector<double>> ReadNumberList(const YAML::Node& map, std::string_view key,
                                                  const std::string& path,
                                                  std::vector<PlanIssue>* issues) {
  YAML::Node v = Get(map, key);
  if (!v.IsDefined()) return std::nullopt;
  const std::string at = Child(path, key);
  if (!ExpectList(v, at, issues)) return std::nullopt;
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); ++i) {
    std::optional<double> d = v[i].IsScalar() ? ParseNumber(v[i].Scalar()) : std::nullopt;
    if (!d) {
      AddIssue(issues, Item(at, i), "must be a number");
      return std::nullopt;
    }
    out.push_back(*d);
  }
  return out;
}

// "fn(arg, n)" -> fn, args; a bare name gives fn "".
bool SplitCall(const std::string& text, std::string* fn, std::vector<std::string>* args) {
  args->clear();
  size_t open = text.find('(');
  if (open == std::string::npos) {
    fn->clear();
    args->push_back(Trim(text));
    return !args->back().empty();
  }
  if (text.back() != ')') return false;
  *fn = Trim(text.substr(0, open));
  std::string inner = text.substr(open + 1, text.size() - open - 2);
  size_t start = 0;
  while (true) {
    size_t comma = inner.find(',', start);
    args->push_back(
        Trim(inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return !fn->empty() && !args->front().empty();
}

// Checks that `field` of `entity` exists and has a type the operation takes.
void CheckFieldType(const PlanContext& ctx, const Entity* entity, const std::string& field,
                    const std::string& op, const std::string& path) {
  const ModelField* f = ctx.FindField(entity, field, path);
  if (f == nullptr || !ctx.Typed(*entity, *f)) return;
  const FieldType t = f->type;
  bool ok = true;
  if (op == "date" || op == "year") ok = IsDateLike(t);
  if (op == "number") ok = IsNumber(t) || IsDateLike(t);
  if (op == "jaro_winkler" || op == "jw" || op == "levenshtein" || op == "lev" ||
      op == "damerau_levenshtein" || op == "dl" || op == "token_set" || op == "soundex" ||
      op == "phonetic" || op == "metaphone" || op == "prefix" || op == "name" ||
      op == "identifier" || op == "phone") {
    ok = IsText(t);
  }
  if (!ok) {
    AddIssue(ctx.issues, path,
             op + " does not apply to " + FieldTypeName(t) + " field '" + field + "'");
  }
}

BlockingRule ParseBlockingRule(const YAML::Node& node, const std::string& path,
                               const Entity* entity, const DedupSpec& spec,
                               const PlanContext& ctx) {
  std::vector<PlanIssue>* issues = ctx.issues;
  BlockingRule rule;
  rule.yaml_path = path;
  rule.name = "block" + std::to_string(spec.blocking.size());
  if (!ExpectMap(node, path, issues)) return rule;
  CheckKeys(node, path, {"name", "on"}, issues);
  if (auto name = ReadText(node, "name", path, Need::kOptional, issues)) rule.name = *name;
  auto parts = ReadTextList(node, "on", path, Need::kRequired, true, issues);
  if (!parts) return rule;
  if (parts->empty()) AddIssue(issues, Child(path, "on"), "must not be empty");
  const bool scalar = Get(node, "on").IsScalar();
  for (size_t i = 0; i < parts->size(); ++i) {
    const std::string at = scalar ? Child(path, "on") : Item(Child(path, "on"), i);
    std::string fn;
    std::vector<std::string> args;
    if (!SplitCall((*parts)[i], &fn, &args)) {
      AddIssue(issues, at, "cannot read '" + (*parts)[i] + "': write field or fn(field)");
      continue;
    }
    BlockingPart part;
    part.field = args[0];
    if (!fn.empty()) part.transform = fn;
    if (part.transform == "prefix") {
      std::optional<double> n = args.size() == 2 ? ParseNumber(args[1]) : std::nullopt;
      if (!n || *n < 1 || *n != std::floor(*n)) {
        AddIssue(issues, at, "prefix takes a field and a positive length: prefix(last_name, 3)");
        continue;
      }
      part.length = static_cast<int>(*n);
    } else if (args.size() != 1) {
      AddIssue(issues, at, part.transform + " takes one field");
      continue;
    }
    if (part.transform != "value" && part.transform != "soundex" && part.transform != "metaphone" &&
        part.transform != "prefix" && part.transform != "year" && part.transform != "digits" &&
        part.transform != "phone") {
      AddIssue(issues, at,
               "unknown blocking transform '" + part.transform +
                   "' (soundex, metaphone, prefix, year, digits, phone, or the field alone)");
      continue;
    }
    CheckFieldType(ctx, entity, part.field, part.transform, at);
    rule.parts.push_back(std::move(part));
  }
  return rule;
}

// "jw(last_name) >= 0.92", "national_id exact", "not soundex(last_name) exact".
bool ParseTerm(std::string text, RuleTerm* term, std::string* error) {
  text = Trim(text);
  if (text.rfind("not ", 0) == 0) {
    term->negate = true;
    text = Trim(text.substr(4));
  }
  size_t op = text.find(">=");
  if (op == std::string::npos) op = text.find("<=");
  std::string lhs;
  if (op != std::string::npos) {
    lhs = Trim(text.substr(0, op));
    term->op = text.substr(op, 2);
    std::optional<double> v = ParseNumber(Trim(text.substr(op + 2)));
    if (!v) {
      *error = "'" + text + "': the right side must be a number";
      return false;
    }
    term->value = *v;
  } else if (text.size() > 6 && text.compare(text.size() - 6, 6, " exact") == 0) {
    lhs = Trim(text.substr(0, text.size() - 6));
  } else {
    *error = "'" + text + "': write 'field exact' or 'fn(field) >= number'";
    return false;
  }
  std::vector<std::string> args;
  std::string fn;
  if (!SplitCall(lhs, &fn, &args) || args.size() != 1) {
    *error = "'" + text + "': cannot read '" + lhs + "'";
    return false;
  }
  term->field = args[0];
  term->function = fn.empty() ? "exact" : fn;
  static const std::set<std::string> kScored = {"jw", "lev", "dl", "token_set", "date", "number"};
  if (term->op.empty()) {
    if (term->function != "exact" && term->function != "soundex" && term->function != "metaphone") {
      *error = "'" + text + "': " + term->function + " needs '>= number' or '<= number'";
      return false;
    }
  } else if (!kScored.count(term->function)) {
    *error = "'" + text + "': unknown function '" + term->function +
             "' (jw, lev, dl, token_set, date, number)";
    return false;
  }
  return true;
}

MatchRuleSpec ParseMatchRule(const YAML::Node& node, const std::string& path, const Entity* entity,
                             const PlanContext& ctx, std::set<std::string>* names) {
  std::vector<PlanIssue>* issues = ctx.issues;
  MatchRuleSpec rule;
  rule.yaml_path = path;
  if (!ExpectMap(node, path, issues)) return rule;
  CheckKeys(node, path, {"name", "when", "decide"}, issues);
  auto when = ReadText(node, "when", path, Need::kRequired, issues);
  if (auto name = ReadText(node, "name", path, Need::kOptional, issues)) rule.name = *name;
  if (auto decide = ReadText(node, "decide", path, Need::kOptional, issues)) {
    if (*decide != "merge" && *decide != "review" && *decide != "distinct") {
      AddIssue(issues, Child(path, "decide"), "must be merge, review or distinct");
    }
    rule.decide = *decide;
  }
  if (!when) return rule;
  rule.text = *when;
  if (rule.name.empty()) rule.name = *when;
  if (!names->insert(rule.name).second) {
    AddIssue(issues, Child(path, "name"), "rule '" + rule.name + "' is defined twice");
  }
  const std::string at = Child(path, "when");
  std::string rest = *when;
  while (true) {
    size_t and_at = rest.find(" and ");
    RuleTerm term;
    std::string error;
    if (!ParseTerm(rest.substr(0, and_at), &term, &error)) {
      AddIssue(issues, at, error);
    } else {
      CheckFieldType(ctx, entity, term.field, term.function, at);
      rule.terms.push_back(term);
    }
    if (and_at == std::string::npos) break;
    rest = rest.substr(and_at + 5);
  }
  return rule;
}

DedupComparison ParseComparison(const YAML::Node& node, const std::string& path,
                                const Entity* entity, const PlanContext& ctx) {
  std::vector<PlanIssue>* issues = ctx.issues;
  DedupComparison c;
  c.yaml_path = path;
  if (!ExpectMap(node, path, issues)) return c;
  CheckKeys(
      node, path,
      {"name", "field", "comparator", "thresholds", "m", "u", "term_frequency", "with", "checksum"},
      issues);
  if (auto tf = ReadBool(node, "term_frequency", path, issues)) c.term_frequency = *tf;
  if (auto f = ReadText(node, "field", path, Need::kRequired, issues)) c.field = *f;
  c.name = c.field;
  if (auto n = ReadText(node, "name", path, Need::kOptional, issues)) c.name = *n;
  auto comparator = ReadText(node, "comparator", path, Need::kRequired, issues);
  if (comparator) c.comparator = *comparator;
  static const std::set<std::string> kKinds = {
      "exact",     "jaro_winkler", "levenshtein", "damerau_levenshtein",
      "token_set", "soundex",      "phonetic",    "date",
      "number",    "name",         "identifier",  "phone"};
  const bool known = comparator && kKinds.count(*comparator);
  if (comparator && !known) {
    AddIssue(issues, Child(path, "comparator"),
             "unknown comparator '" + *comparator +
                 "' (exact, jaro_winkler, levenshtein, damerau_levenshtein, token_set, soundex, "
                 "phonetic, date, number, name, identifier, phone)");
  }
  if (auto w = ReadText(node, "with", path, Need::kOptional, issues)) {
    c.with = *w;
    if (comparator && *comparator != "name") {
      AddIssue(issues, Child(path, "with"), "only the name comparator compares crosswise");
    } else if (!c.with.empty()) {
      CheckFieldType(ctx, entity, c.with, "name", Child(path, "with"));
    }
  }
  if (auto k = ReadText(node, "checksum", path, Need::kOptional, issues)) {
    c.checksum = *k;
    if (comparator && *comparator != "identifier") {
      AddIssue(issues, Child(path, "checksum"), "only the identifier comparator takes a checksum");
    } else if (c.checksum != "luhn" && c.checksum != "nir") {
      AddIssue(issues, Child(path, "checksum"),
               "unknown checksum '" + c.checksum + "' (luhn, nir)");
    }
  }
  if (known && !c.field.empty()) {
    CheckFieldType(ctx, entity, c.field, c.comparator, Child(path, "field"));
  }
  if (auto t = ReadNumberList(node, "thresholds", path, issues)) c.thresholds = *t;
  const std::string tpath = Child(path, "thresholds");
  if (known) {
    const bool similarity = c.comparator == "jaro_winkler" || c.comparator == "levenshtein" ||
                            c.comparator == "damerau_levenshtein" || c.comparator == "token_set" ||
                            c.comparator == "name";
    const bool difference = c.comparator == "date" || c.comparator == "number";
    if (!similarity && !difference && !c.thresholds.empty()) {
      const bool coded = c.comparator == "soundex" || c.comparator == "phonetic";
      AddIssue(issues, tpath,
               c.comparator + " takes no thresholds (levels: exact, " +
                   (coded ? "same code, " : "") + "else)");
    }
    for (size_t i = 0; i < c.thresholds.size(); ++i) {
      const double t = c.thresholds[i];
      if (similarity && (t <= 0 || t >= 1)) {
        AddIssue(issues, Item(tpath, i), "a similarity threshold must be between 0 and 1");
      }
      if (difference && t < 0) AddIssue(issues, Item(tpath, i), "must not be negative");
      if (i > 0 && similarity && t >= c.thresholds[i - 1]) {
        AddIssue(issues, Item(tpath, i), "similarity thresholds must be in descending order");
      }
      if (i > 0 && difference && t <= c.thresholds[i - 1]) {
        AddIssue(issues, Item(tpath, i), "difference thresholds must be in ascending order");
      }
    }
  }
  for (const char* key : {"m", "u"}) {
    auto values = ReadNumberList(node, key, path, issues);
    if (!values) continue;
    if (values->size() != c.LevelCount()) {
      AddIssue(issues, Child(path, key),
               "needs " + std::to_string(c.LevelCount()) +
                   " probabilities, one per level (exact, each threshold, else)");
    }
    for (size_t i = 0; i < values->size(); ++i) {
      if ((*values)[i] <= 0 || (*values)[i] > 1) {
        AddIssue(issues, Item(Child(path, key), i), "must be a probability in (0, 1]");
      }
    }
    (std::string(key) == "m" ? c.m : c.u) = *values;
  }
  return c;
}

void ParseSurvivorship(const YAML::Node& node, const std::string& path, const Entity* entity,
                       DedupSpec* spec, const PlanContext& ctx) {
  std::vector<PlanIssue>* issues = ctx.issues;
  if (!ExpectMap(node, path, issues)) return;
  CheckKeys(node, path, {"source_priority", "most_recent", "fields", "default"}, issues);
  auto sources = ReadTextList(node, "source_priority", path, Need::kOptional, false, issues);
  if (sources) {
    std::set<std::string> seen;
    for (size_t i = 0; i < sources->size(); ++i) {
      const std::string& s = (*sources)[i];
      const std::string at = Item(Child(path, "source_priority"), i);
      if (!seen.insert(s).second) {
        AddIssue(issues, at, "source '" + s + "' is listed twice");
      } else {
        ctx.FindSource(s, at);
      }
    }
    spec->source_priority = std::move(*sources);
  }
  if (auto recent = ReadText(node, "most_recent", path, Need::kOptional, issues)) {
    spec->most_recent_field = *recent;
    const std::string at = Child(path, "most_recent");
    const ModelField* f = ctx.FindField(entity, *recent, at);
    if (f != nullptr && ctx.Typed(*entity, *f) && !IsDateLike(f->type) &&
        f->type != FieldType::kInt) {
      AddIssue(issues, at, "must be a date, timestamp or int field");
    }
  }
  static const std::set<std::string> kFieldRules = {"survivor",       "non_null", "most_complete",
                                                    "most_frequent",  "longest",  "most_recent",
                                                    "source_priority"};
  auto check_rule = [&](const std::string& rule, const std::string& at) {
    if (!kFieldRules.count(rule)) {
      AddIssue(issues, at,
               "unknown survivorship rule '" + rule +
                   "' (survivor, non_null, most_complete, most_frequent, longest, "
                   "most_recent, source_priority)");
    } else if (rule == "most_recent" && spec->most_recent_field.empty()) {
      AddIssue(issues, at, "most_recent needs survivorship.most_recent");
    }
  };
  if (auto d = ReadText(node, "default", path, Need::kOptional, issues)) {
    check_rule(*d, Child(path, "default"));
    spec->default_field_rule = *d;
  }
  if (auto fields = ReadTextMap(node, "fields", path, issues)) {
    for (const auto& [field, rule] : *fields) {
      const std::string at = Child(Child(path, "fields"), field);
      ctx.FindField(entity, field, at);
      check_rule(rule, at);
      spec->field_rules[field] = rule;
    }
  }
}

// aliases: FILE, read now so that a file that is missing or has a bad line
// is refused at its path, and every process of a run has the same table.
void ReadAliases(const std::string& file, const std::string& base_dir, const std::string& path,
                 DedupSpec* spec, std::vector<PlanIssue>* issues) {
  spec->aliases_path = ResolvePath(base_dir, file);
  std::error_code ec;
  std::ifstream in(spec->aliases_path, std::ios::binary);
  if (!std::filesystem::is_regular_file(spec->aliases_path, ec) || !in) {
    AddIssue(issues, path, "cannot read alias file '" + spec->aliases_path + "'");
    return;
  }
  std::ostringstream text;
  text << in.rdbuf();
  spec->aliases_text = text.str();
  Status lines =
      ForEachAliasGroup(spec->aliases_text, file, [](const std::vector<std::string_view>&) {});
  if (!lines.ok()) AddIssue(issues, path, lines.message());
}

}  // namespace

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
    CheckKeys(
        node, path,
        {"key", "survivorship", "blocking", "placeholders", "max_block_size", "rules",
         "comparisons", "thresholds", "estimation", "max_cluster_size", "aliases", "guardrails"},
        issues);
    const bool fuzzy = Get(node, "blocking").IsDefined();
    if (auto keys = ReadTextList(node, "key", path, fuzzy ? Need::kOptional : Need::kRequired, true,
                                 issues)) {
      spec.key_fields = *keys;
      if (keys->empty()) AddIssue(issues, Child(path, "key"), "must not be empty");
      const bool scalar = Get(node, "key").IsScalar();
      for (size_t i = 0; i < keys->size(); ++i) {
        ctx->FindField(entity, (*keys)[i],
                       scalar ? Child(path, "key") : Item(Child(path, "key"), i));
      }
    }
    if (YAML::Node surv = Get(node, "survivorship"); surv.IsDefined()) {
      ParseSurvivorship(surv, Child(path, "survivorship"), entity, &spec, *ctx);
    }
    if (YAML::Node blocking = Get(node, "blocking"); blocking.IsDefined()) {
      const std::string at = Child(path, "blocking");
      if (ExpectList(blocking, at, issues)) {
        if (blocking.size() == 0) AddIssue(issues, at, "must not be empty");
        std::set<std::string> names;
        for (size_t i = 0; i < blocking.size(); ++i) {
          BlockingRule rule = ParseBlockingRule(blocking[i], Item(at, i), entity, spec, *ctx);
          if (!names.insert(rule.name).second) {
            AddIssue(issues, Item(at, i), "blocking rule '" + rule.name + "' is defined twice");
          }
          spec.blocking.push_back(std::move(rule));
        }
      }
    }
    if (auto p = ReadTextList(node, "placeholders", path, Need::kOptional, false, issues)) {
      spec.placeholders = *p;
    }
    if (auto n = ReadInt(node, "max_block_size", path, Need::kOptional, issues)) {
      if (*n < 2) AddIssue(issues, Child(path, "max_block_size"), "must be at least 2");
      spec.max_block_size = *n;
    }
    if (auto n = ReadInt(node, "max_cluster_size", path, Need::kOptional, issues)) {
      if (*n < 2) AddIssue(issues, Child(path, "max_cluster_size"), "must be at least 2");
      spec.max_cluster_size = *n;
    }
    if (YAML::Node guard = Get(node, "guardrails"); guard.IsDefined()) {
      const std::string gpath = Child(path, "guardrails");
      if (ExpectMap(guard, gpath, issues)) {
        CheckKeys(guard, gpath, {"on_conflict"}, issues);
        if (auto c = ReadText(guard, "on_conflict", gpath, Need::kOptional, issues)) {
          if (*c != "split" && *c != "review") {
            AddIssue(issues, Child(gpath, "on_conflict"), "must be split or review");
          }
          spec.review_on_conflict = *c == "review";
        }
      }
    }
    if (auto file = ReadText(node, "aliases", path, Need::kOptional, issues)) {
      ReadAliases(*file, ctx->plan->base_dir, Child(path, "aliases"), &spec, issues);
    }
    if (YAML::Node rules = Get(node, "rules"); rules.IsDefined()) {
      const std::string at = Child(path, "rules");
      if (ExpectList(rules, at, issues)) {
        std::set<std::string> names;
        for (size_t i = 0; i < rules.size(); ++i) {
          spec.rules.push_back(ParseMatchRule(rules[i], Item(at, i), entity, *ctx, &names));
        }
      }
    }
    if (YAML::Node comparisons = Get(node, "comparisons"); comparisons.IsDefined()) {
      const std::string at = Child(path, "comparisons");
      if (ExpectList(comparisons, at, issues)) {
        std::set<std::string> names;
        for (size_t i = 0; i < comparisons.size(); ++i) {
          DedupComparison c = ParseComparison(comparisons[i], Item(at, i), entity, *ctx);
          if (!c.name.empty() && !names.insert(c.name).second) {
            AddIssue(issues, Item(at, i), "comparison '" + c.name + "' is defined twice");
          }
          spec.comparisons.push_back(std::move(c));
        }
      }
    }
    const std::string tpath = Child(path, "thresholds");
    YAML::Node thresholds = Get(node, "thresholds");
    if (thresholds.IsDefined() && ExpectMap(thresholds, tpath, issues)) {
      CheckKeys(thresholds, tpath, {"merge", "review", "weak_link"}, issues);
      auto merge = ReadNumber(thresholds, "merge", tpath, issues);
      if (!merge) AddIssue(issues, Child(tpath, "merge"), "missing");
      spec.merge_threshold = merge.value_or(0);
      spec.review_threshold =
          ReadNumber(thresholds, "review", tpath, issues).value_or(spec.merge_threshold);
      spec.weak_link_threshold =
          ReadNumber(thresholds, "weak_link", tpath, issues).value_or(spec.merge_threshold);
      if (spec.review_threshold > spec.merge_threshold) {
        AddIssue(issues, Child(tpath, "review"), "must not be above merge");
      }
      if (spec.weak_link_threshold < spec.merge_threshold) {
        AddIssue(issues, Child(tpath, "weak_link"), "must not be below merge");
      }
    } else if (!spec.comparisons.empty()) {
      AddIssue(issues, tpath, "missing: comparisons need merge (and review) thresholds");
    }
    if (!spec.comparisons.empty() && spec.blocking.empty()) {
      AddIssue(issues, Child(path, "blocking"), "missing: comparisons need blocking rules");
    }
    if (!spec.rules.empty() && spec.blocking.empty()) {
      AddIssue(issues, Child(path, "blocking"), "missing: rules need blocking rules");
    }
    if (!spec.blocking.empty() && spec.rules.empty() && spec.comparisons.empty()) {
      AddIssue(issues, path, "blocking without rules or comparisons decides nothing");
    }
    const std::string epath = Child(path, "estimation");
    YAML::Node estimation = Get(node, "estimation");
    if (estimation.IsDefined() && ExpectMap(estimation, epath, issues)) {
      CheckKeys(estimation, epath,
                {"em_iterations", "u_sample_pairs", "prior_match", "on_degenerate"}, issues);
      if (auto d = ReadText(estimation, "on_degenerate", epath, Need::kOptional, issues)) {
        if (*d != "halt" && *d != "warn") {
          AddIssue(issues, Child(epath, "on_degenerate"), "must be halt or warn");
        }
        spec.halt_on_degenerate_estimate = *d != "warn";
      }
      if (auto n = ReadInt(estimation, "em_iterations", epath, Need::kOptional, issues)) {
        if (*n < 1) AddIssue(issues, Child(epath, "em_iterations"), "must be at least 1");
        spec.em_iterations = *n;
      }
      if (auto n = ReadInt(estimation, "u_sample_pairs", epath, Need::kOptional, issues)) {
        if (*n < 100) AddIssue(issues, Child(epath, "u_sample_pairs"), "must be at least 100");
        spec.u_sample_pairs = *n;
      }
      if (auto p = ReadNumber(estimation, "prior_match", epath, issues)) {
        if (*p <= 0 || *p >= 1) {
          AddIssue(issues, Child(epath, "prior_match"), "must be between 0 and 1");
        }
        spec.prior_match = *p;
      }
    }
    ctx->plan->dedup.emplace(spec.entity, std::move(spec));
  }
}

}  // namespace sluice::plan_yaml
