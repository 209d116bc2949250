#include "validator/validate.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

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

 private:
  // Position of each rule's field in `schema` (-1 when absent).
  std::vector<int> IndexesFor(const Schema& schema) const {
    std::vector<int> idx;
    idx.reserve(rules_.size());
    for (const auto& r : rules_) idx.push_back(r.field().empty() ? -1 : schema.IndexOf(r.field()));
    return idx;
  }
  v1::Fate MakeFate(const CompiledRule& rule, const Record& rec, const Value& value) const;
  v1::Fate RecordFate(const CompiledRule& rule, const Record& rec, v1::FateKind kind) const;
  // "field=value, field=value" of entity fields `fields` of `values`.
  std::string FieldsText(const std::vector<int>& fields, const std::vector<Value>& values,
                         const std::vector<int>& map) const;
  std::string RecordJson(const Record& rec, const Schema& schema) const;
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

std::string RuleValidator::RecordJson(const Record& rec, const Schema& schema) const {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < schema.fields.size() && i < rec.values.size(); ++i) {
    auto text = FormatValue(schema.fields[i], rec.values[i]);
    j[schema.fields[i].name] = text ? nlohmann::json(*text) : nlohmann::json(nullptr);
  }
  return j.dump();
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
  // Batches normally carry the entity schema; resolve by name otherwise, and
  // treat a field the batch lacks as NULL.
  const bool same = in.schema == schema_;
  const std::vector<int> batch_indexes = same ? std::vector<int>() : IndexesFor(in.schema);
  const std::vector<int>& indexes = same ? indexes_ : batch_indexes;
  std::vector<int> batch_map;  // entity field -> batch column
  if (!same) {
    for (const auto& f : schema_.fields) batch_map.push_back(in.schema.IndexOf(f.name));
  }
  const std::vector<int>& map = same ? identity_ : batch_map;
  static const Value kNull;
  auto value_of = [&](const Record& rec, int idx) -> const Value& {
    return idx >= 0 && static_cast<size_t>(idx) < rec.values.size() ? rec.values[idx] : kNull;
  };
  if (unique_) SLUICE_RETURN_IF_ERROR(unique_->Begin());
  std::vector<std::pair<int, std::string>> claims;          // (rule, value) to claim
  std::vector<std::pair<std::string, std::string>> owners;  // per rule: owner on failure
  owners.resize(rules_.size());
  for (const Record& original : in.records) {
    const Record* rec = &original;
    Record corrected;
    const v1::RecordDecision* decision = nullptr;
    if (!decisions_.empty()) {
      auto d = decisions_.find({original.source, original.key});
      if (d != decisions_.end()) decision = d->second;
    }
    if (decision != nullptr && !decision->corrections().empty()) {
      corrected = original;
      if (!Correct(*decision, in.schema, &corrected, fates)) continue;  // rejected
      rec = &corrected;
    }
    int error = -1;   // first failing error rule
    int review = -1;  // first failing review rule
    for (size_t r = 0; r < rules_.size(); ++r) {
      const CompiledRule& rule = rules_[r];
      if (rule.is_unique() || rule.is_reference()) continue;
      const v1::FateKind kind = rule.fate_kind();
      // Once the terminal fate is known only warnings still matter.
      if (error >= 0 && kind != v1::FATE_WARNING) continue;
      if (review >= 0 && kind == v1::FATE_REVIEW) continue;
      if (rule.is_expression()) {
        if (rule.expression().Evaluate(rec->values, &map, options_.today) != Truth::kFalse) {
          continue;
        }
      } else if (rule.Check(value_of(*rec, indexes[r]), &scratch_)) {
        continue;
      }
      if (kind == v1::FATE_WARNING) {
        if (rule.is_expression()) {
          v1::Fate f = RecordFate(rule, *rec, kind);
          std::string values = FieldsText(rule.expression().fields(), rec->values, map);
          f.set_value(values);
          f.set_reason(rule.message().empty()
                           ? "expression `" + rule.expression().text() + "` is false for " + values
                           : rule.message() + " (" + values + ")");
          fates->push_back(std::move(f));
        } else {
          fates->push_back(MakeFate(rule, *rec, value_of(*rec, indexes[r])));
        }
      } else if (kind == v1::FATE_REJECTED) {
        error = static_cast<int>(r);
      } else {
        review = static_cast<int>(r);
      }
    }
    // A steward's decision outranks the review rules: load releases the
    // record, reject rejects it. Error rules still reject.
    bool steward_reject = false;
    if (decision != nullptr) {
      v1::Fate f;
      f.set_source(rec->source);
      f.set_key(rec->key);
      f.set_stage(kStewardStage);
      f.set_line(rec->line);
      std::string by = "steward " + decision->steward() +
                       (decision->decided_ms() ? " on " + DayText(decision->decided_ms()) : "") +
                       (decision->note().empty() ? "" : " (" + decision->note() + ")");
      if (decision->decision() == "reject") {
        steward_reject = error < 0;
        f.set_kind(v1::FATE_REJECTED);
        f.set_rule("steward_reject");
        f.set_reason("rejected by " + by);
      } else {
        f.set_kind(v1::FATE_WARNING);
        f.set_rule("steward_decision");
        f.set_reason("released for loading by " + by +
                     (review >= 0 ? ", despite rule " + rules_[review].name() : ""));
        review = -1;
      }
      if (f.kind() == v1::FATE_WARNING) fates->push_back(f);
      if (steward_reject) {
        fates->push_back(std::move(f));
        continue;
      }
    }
    // Uniqueness last: only a record that is not rejected claims its values.
    claims.clear();
    if (unique_ && error < 0) {
      for (size_t r = 0; r < rules_.size(); ++r) {
        const CompiledRule& rule = rules_[r];
        if (!rule.is_unique()) continue;
        std::string value;
        bool null = false;
        for (int f : rule.unique_fields()) {
          const Value& v = value_of(*rec, map[f]);
          if (v.is_null) null = true;
          value += FormatValue(schema_.fields[f], v).value_or("");
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
    const CompiledRule& rule = rules_[terminal];
    v1::Fate fate;
    if (rule.is_unique()) {
      fate = RecordFate(rule, *rec, rule.fate_kind());
      std::string values = FieldsText(rule.unique_fields(), rec->values, map);
      const auto& owner = owners[terminal];
      fate.set_value(values);
      fate.set_reason(values + " already used by " + owner.first + ":" + owner.second);
      fate.set_suggestion("a duplicate of " + owner.first + ":" + owner.second +
                          ": merge them through dedup, or correct the value");
    } else if (rule.is_expression()) {
      fate = RecordFate(rule, *rec, rule.fate_kind());
      std::string values = FieldsText(rule.expression().fields(), rec->values, map);
      fate.set_value(values);
      fate.set_reason(rule.message().empty()
                          ? "expression `" + rule.expression().text() + "` is false for " + values
                          : rule.message() + " (" + values + ")");
    } else {
      fate = MakeFate(rule, *rec, value_of(*rec, indexes[terminal]));
    }
    if (fate.kind() == v1::FATE_REVIEW && items != nullptr) {
      v1::ReviewItem item;
      item.set_kind("record");
      item.set_entity(entity_);
      item.set_source(rec->source);
      item.set_key(rec->key);
      item.set_stage(kStage);
      item.set_rule(fate.rule());
      item.set_field(fate.field());
      item.set_value(fate.value());
      item.set_reasons(fate.reason());
      item.set_suggestion(fate.suggestion());
      item.set_record_json(RecordJson(*rec, in.schema));
      items->push_back(std::move(item));
    }
    fates->push_back(std::move(fate));
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
