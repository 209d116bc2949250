#include "validator/validate.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <utility>

#include "common/runtime/review_item.h"
#include "validator/rule.h"
#include "validator/unique_index.h"

namespace sluice {
namespace {

constexpr const char* kStage = "validate";
constexpr const char* kStewardStage = "steward";

std::string DayText(int64_t ms) {
  if (ms <= 0) return "";
  return FormatDate(ms / 86400000);
}

class RuleValidator final : public EntityValidator {
 public:
  RuleValidator(const Entity& entity, std::vector<CompiledRule> rules,
                const ValidatorOptions& options)
      : entity_(entity.name),
        schema_(entity.ToSchema()),
        rules_(std::move(rules)),
        options_(options) {
    indexes_ = IndexesFor(schema_);
    for (size_t i = 0; i < schema_.fields.size(); ++i) identity_.push_back(static_cast<int>(i));
    for (const auto& r : rules_) has_unique_ = has_unique_ || r.is_unique();
    if (options.decisions != nullptr) {
      for (const auto& d : options.decisions->records()) {
        if (d.entity() == entity_) decisions_[{d.source(), d.key()}] = &d;
      }
    }
  }

  Status OpenIndex() {
    if (!has_unique_) return Status::Ok();
    std::string path = options_.unique_index_path.empty() ? ":memory:" : options_.unique_index_path;
    SLUICE_ASSIGN_OR_RETURN(unique_, UniqueIndex::Open(path));
    return Status::Ok();
  }

  Status Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates,
               std::vector<v1::ReviewItem>* items) override;
  std::optional<v1::Fate> Judge(const Record& rec, const Schema& schema,
                                v1::ReviewItem* item) override;

 private:
  // Where the rules find their values in records of one schema.
  struct Columns {
    const Schema* schema = nullptr;
    std::vector<int> indexes;  // per rule, in `schema` (-1 when absent)
    std::vector<int> map;      // entity field -> column of `schema` (-1 when absent)
  };
  // How the record-level rules and the steward's decision judge a record.
  struct Verdict {
    const Record* rec = nullptr;  // as checked: the original, or as a steward corrected it
    int error = -1;               // first failing error rule
    int review = -1;              // first failing review rule (-1 once a steward released it)
    bool settled = false;         // rejected by a steward: the fate is the last in `fates`
  };
  Columns ColumnsOf(const Schema& schema) const;
  // Applies the steward's corrections (into `*corrected`), the record-level
  // rules (their warnings, and the steward's fates, go to `fates`) and the
  // steward's decision to `original`. Apply and Judge share it, so that the
  // deduper's judgement is the validator's.
  Verdict Check(const Record& original, const Columns& columns, Record* corrected,
                std::vector<v1::Fate>* fates);
  // The terminal fate of rule `terminal` for `rec`, with its review item
  // into `items` (when not null) for a REVIEW fate. `owner`: a unique rule's
  // owner of the value.
  v1::Fate TerminalFate(int terminal, const Record& rec, const Columns& columns,
                        const std::pair<std::string, std::string>& owner,
                        std::vector<v1::ReviewItem>* items) const;
  static const Value& ValueAt(const Record& rec, int idx) {
    static const Value kNull;
    return idx >= 0 && static_cast<size_t>(idx) < rec.values.size() ? rec.values[idx] : kNull;
  }
  // Position of each rule's field in `schema` (-1 when absent).
  std::vector<int> IndexesFor(const Schema& schema) const {
    std::vector<int> idx;
    idx.reserve(rules_.size());
    for (const auto& r : rules_) idx.push_back(r.field().empty() ? -1 : schema.IndexOf(r.field()));
    return idx;
  }
  v1::Fate MakeFate(const CompiledRule& rule, const Record& rec, const Value& value) const;
  v1::Fate RecordFate(const CompiledRule& rule, const Record& rec, v1::FateKind kind) const;
  // The fate of an expression rule that is false for `rec`: the values of
  // its fields, and its message or the expression.
  v1::Fate ExpressionFate(const CompiledRule& rule, const Record& rec, v1::FateKind kind,
                          const std::vector<int>& map) const;
  // "field=value, field=value" of entity fields `fields` of `values`.
  std::string FieldsText(const std::vector<int>& fields, const std::vector<Value>& values,
                         const std::vector<int>& map) const;
  // Applies a steward's corrections to `rec`; false (with a rejection in
  // `fates`) when a correction does not parse.
  bool Correct(const v1::RecordDecision& d, const Schema& schema, Record* rec,
               std::vector<v1::Fate>* fates) const;

  std::string entity_;
  Schema schema_;
  std::vector<CompiledRule> rules_;  // plan order
  std::vector<int> indexes_;         // per rule, in schema_
  std::vector<int> identity_;        // entity field i -> i
  ValidatorOptions options_;
  bool has_unique_ = false;
  std::unique_ptr<UniqueIndex> unique_;
  std::map<std::pair<std::string, std::string>, const v1::RecordDecision*> decisions_;
  std::string scratch_;
  struct {
    std::optional<Schema> schema;  // of the records Judge saw last
    Columns columns;
  } judged_;
};

v1::Fate RuleValidator::MakeFate(const CompiledRule& rule, const Record& rec,
                                 const Value& value) const {
  v1::Fate fate;
  fate.set_kind(rule.fate_kind());
  fate.set_source(rec.source);
  fate.set_key(rec.key);
  fate.set_stage(kStage);
  fate.set_rule(rule.name());
  fate.set_field(rule.field());
  fate.set_value(FormatValue(rule.field_spec(), value).value_or(""));
  fate.set_line(rec.line);
  rule.Describe(value, &fate);
  return fate;
}

v1::Fate RuleValidator::ExpressionFate(const CompiledRule& rule, const Record& rec,
                                       v1::FateKind kind, const std::vector<int>& map) const {
  v1::Fate f = RecordFate(rule, rec, kind);
  std::string values = FieldsText(rule.expression().fields(), rec.values, map);
  f.set_value(values);
  f.set_reason(rule.message().empty()
                   ? "expression `" + rule.expression().text() + "` is false for " + values
                   : rule.message() + " (" + values + ")");
  return f;
}

v1::Fate RuleValidator::RecordFate(const CompiledRule& rule, const Record& rec,
                                   v1::FateKind kind) const {
  v1::Fate fate;
  fate.set_kind(kind);
  fate.set_source(rec.source);
  fate.set_key(rec.key);
  fate.set_stage(kStage);
  fate.set_rule(rule.name());
  fate.set_field(rule.field());
  fate.set_line(rec.line);
  return fate;
}

std::string RuleValidator::FieldsText(const std::vector<int>& fields,
                                      const std::vector<Value>& values,
                                      const std::vector<int>& map) const {
  std::string out;
  for (int f : fields) {
    int idx = map[f];
    const FieldSpec& spec = schema_.fields[f];
    std::string text = "NULL";
    if (idx >= 0 && static_cast<size_t>(idx) < values.size() && !values[idx].is_null) {
      text = FormatValue(spec, values[idx]).value_or("");
    }
    out += (out.empty() ? "" : ", ") + spec.name + "=" + text;
  }
  return out;
}

bool RuleValidator::Correct(const v1::RecordDecision& d, const Schema& schema, Record* rec,
                            std::vector<v1::Fate>* fates) const {
  for (const auto& c : d.corrections()) {
    v1::Fate fate;
    fate.set_source(rec->source);
    fate.set_key(rec->key);
    fate.set_stage(kStewardStage);
    fate.set_field(c.field());
    fate.set_line(rec->line);
    int idx = schema.IndexOf(c.field());
    Result<Value> v = Value::Null();
    if (idx >= 0 && !c.null()) v = ParseCanonical(schema.fields[idx], c.value());
    if (idx < 0 || !v.ok()) {
      fate.set_kind(v1::FATE_REJECTED);
      fate.set_rule("steward_correction");
      fate.set_value(c.value());
      fate.set_reason("the correction of " + c.field() + " by steward " + d.steward() +
                      " cannot be applied: " +
                      (idx < 0 ? "the record has no such field" : v.status().message()));
      fate.set_suggestion("import a corrected value in canonical form");
      fates->push_back(std::move(fate));
      return false;
    }
    std::string before = FormatValue(schema.fields[idx], rec->values[idx]).value_or("NULL");
    rec->values[idx] = *v;
    fate.set_kind(v1::FATE_WARNING);
    fate.set_rule("steward_correction");
    fate.set_value(c.null() ? "" : c.value());
    fate.set_reason("corrected by steward " + d.steward() +
                    (d.decided_ms() ? " on " + DayText(d.decided_ms()) : "") + ": " + c.field() +
                    " '" + before + "' -> '" + (c.null() ? "NULL" : c.value()) + "'" +
                    (d.note().empty() ? "" : " (" + d.note() + ")"));
    fates->push_back(std::move(fate));
  }
  rec->content_hash = ContentHash(schema, rec->values);
  return true;
}

RuleValidator::Verdict RuleValidator::Check(const Record& original, const Columns& columns,
                                            Record* corrected, std::vector<v1::Fate>* fates) {
  Verdict v;
  v.rec = &original;
  const v1::RecordDecision* decision = nullptr;
  if (!decisions_.empty()) {
    auto d = decisions_.find({original.source, original.key});
    if (d != decisions_.end()) decision = d->second;
  }
  if (decision != nullptr && !decision->corrections().empty()) {
    *corrected = original;
    if (!Correct(*decision, *columns.schema, corrected, fates)) {
      v.settled = true;  // rejected
      return v;
    }
    v.rec = corrected;
  }
  const Record& rec = *v.rec;
  for (size_t r = 0; r < rules_.size(); ++r) {
    const CompiledRule& rule = rules_[r];
    if (rule.is_unique() || rule.is_reference()) continue;
    const v1::FateKind kind = rule.fate_kind();
    // Once the terminal fate is known only warnings still matter.
    if (v.error >= 0 && kind != v1::FATE_WARNING) continue;
    if (v.review >= 0 && kind == v1::FATE_REVIEW) continue;
    if (rule.is_expression()) {
      if (rule.expression().Evaluate(rec.values, &columns.map, options_.today) != Truth::kFalse) {
        continue;
      }
    } else if (rule.Check(ValueAt(rec, columns.indexes[r]), &scratch_)) {
      continue;
    }
    if (kind == v1::FATE_WARNING) {
      if (rule.is_expression()) {
        fates->push_back(ExpressionFate(rule, rec, kind, columns.map));
      } else {
        fates->push_back(MakeFate(rule, rec, ValueAt(rec, columns.indexes[r])));
      }
    } else if (kind == v1::FATE_REJECTED) {
      v.error = static_cast<int>(r);
    } else {
      v.review = static_cast<int>(r);
    }
  }
  // A steward's decision outranks the review rules: load releases the
  // record, reject rejects it. Error rules still reject.
  if (decision != nullptr) {
    v1::Fate f;
    f.set_source(rec.source);
    f.set_key(rec.key);
    f.set_stage(kStewardStage);
    f.set_line(rec.line);
    std::string by = "steward " + decision->steward() +
                     (decision->decided_ms() ? " on " + DayText(decision->decided_ms()) : "") +
                     (decision->note().empty() ? "" : " (" + decision->note() + ")");
    if (decision->decision() == "reject") {
      if (v.error < 0) {
        f.set_kind(v1::FATE_REJECTED);
        f.set_rule("steward_reject");
        f.set_reason("rejected by " + by);
        fates->push_back(std::move(f));
        v.settled = true;
      }
    } else {
      f.set_kind(v1::FATE_WARNING);
      f.set_rule("steward_decision");
      f.set_reason("released for loading by " + by +
                   (v.review >= 0 ? ", despite rule " + rules_[v.review].name() : ""));
      fates->push_back(std::move(f));
      v.review = -1;
    }
  }
  return v;
}

v1::Fate RuleValidator::TerminalFate(int terminal, const Record& rec, const Columns& columns,
                                     const std::pair<std::string, std::string>& owner,
                                     std::vector<v1::ReviewItem>* items) const {
  const CompiledRule& rule = rules_[terminal];
  v1::Fate fate;
  if (rule.is_unique()) {
    fate = RecordFate(rule, rec, rule.fate_kind());
    std::string values = FieldsText(rule.unique_fields(), rec.values, columns.map);
    fate.set_value(values);
    fate.set_reason(values + " already used by " + owner.first + ":" + owner.second);
    fate.set_suggestion("a duplicate of " + owner.first + ":" + owner.second +
                        ": merge them through dedup, or correct the value");
  } else if (rule.is_expression()) {
    fate = ExpressionFate(rule, rec, rule.fate_kind(), columns.map);
  } else {
    fate = MakeFate(rule, rec, ValueAt(rec, columns.indexes[terminal]));
  }
  if (fate.kind() == v1::FATE_REVIEW && items != nullptr) {
    items->push_back(RecordReviewItem(entity_, fate, RecordJson(*columns.schema, rec)));
  }
  return fate;
}

RuleValidator::Columns RuleValidator::ColumnsOf(const Schema& schema) const {
  Columns c;
  c.schema = &schema;
  // Batches normally carry the entity schema; resolve by name otherwise, and
  // treat a field the batch lacks as NULL.
  if (schema == schema_) {
    c.indexes = indexes_;
    c.map = identity_;
    return c;
  }
  c.indexes = IndexesFor(schema);
  for (const auto& f : schema_.fields) c.map.push_back(schema.IndexOf(f.name));
  return c;
}

std::optional<v1::Fate> RuleValidator::Judge(const Record& rec, const Schema& schema,
                                             v1::ReviewItem* item) {
  if (!judged_.schema || !(schema == *judged_.schema)) {
    judged_.schema = schema;
    judged_.columns = ColumnsOf(*judged_.schema);
  }
  std::vector<v1::Fate> fates;
  Record corrected;
  const Verdict v = Check(rec, judged_.columns, &corrected, &fates);
  if (v.settled) return std::move(fates.back());  // the steward's rejection
  const int terminal = v.error >= 0 ? v.error : v.review;
  if (terminal < 0) return std::nullopt;
  std::vector<v1::ReviewItem> items;
  v1::Fate fate = TerminalFate(terminal, *v.rec, judged_.columns, {}, item ? &items : nullptr);
  if (item != nullptr && !items.empty()) *item = std::move(items.front());
  return fate;
}

Status RuleValidator::Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates,
                            std::vector<v1::ReviewItem>* items) {
  out->id = in.id;
  out->epoch = in.epoch;
  out->range = in.range;
  out->schema = in.schema;
  // The records `out` holds from an earlier batch are assigned over, not
  // cleared: their strings keep their capacity, which saves an allocation
  // and a free per value (the stage passes the same batch each time).
  out->records.reserve(in.records.size());
  size_t used = 0;
  const Columns columns = ColumnsOf(in.schema);
  const std::vector<int>& map = columns.map;
  if (unique_) SLUICE_RETURN_IF_ERROR(unique_->Begin());
  std::vector<std::pair<int, std::string>> claims;          // (rule, value) to claim
  std::vector<std::pair<std::string, std::string>> owners;  // per rule: owner on failure
  owners.resize(rules_.size());
  Record corrected;
  for (const Record& original : in.records) {
    const Verdict v = Check(original, columns, &corrected, fates);
    if (v.settled) continue;  // rejected by a steward
    const Record* rec = v.rec;
    int error = v.error;
    int review = v.review;
    // Uniqueness last: only a record that is not rejected claims its values.
    claims.clear();
    if (unique_ && error < 0) {
      for (size_t r = 0; r < rules_.size(); ++r) {
        const CompiledRule& rule = rules_[r];
        if (!rule.is_unique()) continue;
        std::string value;
        bool null = false;
        for (int f : rule.unique_fields()) {
          const Value& val = ValueAt(*rec, map[f]);
          if (val.is_null) null = true;
          value += FormatValue(schema_.fields[f], val).value_or("");
          value.push_back('\x1f');
        }
        if (null) continue;  // like SQL: NULLs never collide
        SLUICE_ASSIGN_OR_RETURN(auto owner, unique_->Owner(entity_, rule.name(), value));
        if (!owner || (owner->first == rec->source && owner->second == rec->key)) {
          claims.emplace_back(static_cast<int>(r), std::move(value));
          continue;
        }
        owners[r] = *owner;
        const v1::FateKind kind = rule.fate_kind();
        if (kind == v1::FATE_WARNING) {
          v1::Fate f = RecordFate(rule, *rec, kind);
          std::string values = FieldsText(rule.unique_fields(), rec->values, map);
          f.set_value(values);
          f.set_reason(values + " already used by " + owner->first + ":" + owner->second);
          fates->push_back(std::move(f));
          claims.emplace_back(-1, "");
        } else if (kind == v1::FATE_REJECTED) {
          error = static_cast<int>(r);
          break;
        } else if (review < 0) {
          review = static_cast<int>(r);
        }
      }
      if (error < 0) {
        for (const auto& [r, value] : claims) {
          if (r < 0) continue;
          SLUICE_RETURN_IF_ERROR(
              unique_->Claim(entity_, rules_[r].name(), value, rec->source, rec->key).status());
        }
      }
    }
    int terminal = error >= 0 ? error : review;
    if (terminal < 0) {
      if (used == out->records.size()) {
        out->records.push_back(*rec);
      } else {
        out->records[used] = *rec;
      }
      ++used;
      continue;
    }
    fates->push_back(TerminalFate(terminal, *rec, columns, owners[terminal], items));
  }
  out->records.resize(used);
  if (unique_) SLUICE_RETURN_IF_ERROR(unique_->Commit());
  return Status::Ok();
}

// How a required field could be filled: an enrichment dataset some mapping
// of the entity uses for it.
std::string FillHint(const Plan& plan, const std::string& entity, const std::string& field) {
  for (const Mapping* m : plan.MappingsFor(entity)) {
    for (const FieldMapping& fm : m->fields) {
      if (fm.target != field || !fm.enrich) continue;
      return "fill " + field + " from the enrichment dataset " +
             std::filesystem::path(fm.enrich->file).filename().string() + " (column " +
             fm.enrich->column + ", looked up by " + fm.enrich->by + ", as mapping " +
             m->yaml_path + " of source " + m->source + " does)";
    }
  }
  return "";
}

}  // namespace

int64_t RunDay(const std::string& run_id) {
  // run-YYYYMMDDTHHMMSS-xxxx
  if (run_id.size() >= 12 && run_id.rfind("run-", 0) == 0) {
    int y = 0;
    unsigned m = 0, d = 0;
    if (std::sscanf(run_id.c_str() + 4, "%4d%2u%2u", &y, &m, &d) == 3) {
      auto days = CivilDays(y, m, d);
      if (days.ok()) return *days;
    }
  }
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::hours>(now).count() / 24;
}

Result<std::unique_ptr<EntityValidator>> EntityValidator::Create(const Plan& plan,
                                                                 const std::string& entity,
                                                                 const ValidatorOptions& options) {
  const Entity* e = plan.model.Find(entity);
  if (e == nullptr) return Status::InvalidArgument("unknown entity '" + entity + "'");
  std::vector<CompiledRule> rules;
  std::string problems;
  auto it = plan.rules.find(entity);
  if (it != plan.rules.end()) {
    for (const RuleSpec& spec : it->second) {
      Result<CompiledRule> rule = CompiledRule::Create(spec, *e);
      if (!rule.ok()) {
        problems +=
            (problems.empty() ? "" : "\n") + spec.yaml_path + ": " + rule.status().message();
        continue;
      }
      if (spec.kind == "required") rule->set_fill_hint(FillHint(plan, entity, spec.field));
      rules.push_back(std::move(rule).value());
    }
  }
  if (!problems.empty()) return Status::InvalidArgument(problems);
  auto v = std::make_unique<RuleValidator>(*e, std::move(rules), options);
  SLUICE_RETURN_IF_ERROR(v->OpenIndex());
  return std::unique_ptr<EntityValidator>(std::move(v));
}

}  // namespace sluice
