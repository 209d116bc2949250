#include "validator/validate.h"

#include <utility>

#include "validator/rule.h"

namespace sluice {
namespace {

constexpr const char* kStage = "validate";

class RuleValidator final : public EntityValidator {
 public:
  RuleValidator(Schema schema, std::vector<CompiledRule> rules)
      : schema_(std::move(schema)), rules_(std::move(rules)) {
    indexes_ = IndexesFor(schema_);
  }

  void Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates) override;

 private:
  // Position of each rule's field in `schema` (-1 when absent).
  std::vector<int> IndexesFor(const Schema& schema) const {
    std::vector<int> idx;
    idx.reserve(rules_.size());
    for (const auto& r : rules_) idx.push_back(schema.IndexOf(r.field()));
    return idx;
  }

  v1::Fate MakeFate(const CompiledRule& rule, const Record& rec, const Value& value) const;

  Schema schema_;
  std::vector<CompiledRule> rules_;  // plan order
  std::vector<int> indexes_;         // per rule, in schema_
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

void RuleValidator::Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates) {
  out->id = in.id;
  out->epoch = in.epoch;
  out->range = in.range;
  out->schema = in.schema;
  out->records.clear();
  out->records.reserve(in.records.size());
  // Batches normally carry the entity schema; resolve by name otherwise, and
  // treat a field the batch lacks as NULL.
  const std::vector<int> batch_indexes =
      in.schema == schema_ ? std::vector<int>() : IndexesFor(in.schema);
  const std::vector<int>& indexes = batch_indexes.empty() ? indexes_ : batch_indexes;
  static const Value kNull;

  for (const Record& rec : in.records) {
    int error = -1;   // first failing error rule
    int review = -1;  // first failing review rule
    for (size_t r = 0; r < rules_.size(); ++r) {
      const CompiledRule& rule = rules_[r];
      const v1::FateKind kind = rule.fate_kind();
      // Once the terminal fate is known only warnings still matter.
      if (error >= 0 && kind != v1::FATE_WARNING) continue;
      if (review >= 0 && kind == v1::FATE_REVIEW) continue;
      const int idx = indexes[r];
      const Value& value =
          idx >= 0 && static_cast<size_t>(idx) < rec.values.size() ? rec.values[idx] : kNull;
      if (rule.Check(value, &scratch_)) continue;
      if (kind == v1::FATE_WARNING) {
        fates->push_back(MakeFate(rule, rec, value));
      } else if (kind == v1::FATE_REJECTED) {
        error = static_cast<int>(r);
      } else {
        review = static_cast<int>(r);
      }
    }
    int terminal = error >= 0 ? error : review;
    if (terminal < 0) {
      out->records.push_back(rec);
      continue;
    }
    const int idx = indexes[terminal];
    const Value& value =
        idx >= 0 && static_cast<size_t>(idx) < rec.values.size() ? rec.values[idx] : kNull;
    fates->push_back(MakeFate(rules_[terminal], rec, value));
  }
}

}  // namespace

Result<std::unique_ptr<EntityValidator>> EntityValidator::Create(const Plan& plan,
                                                                 const std::string& entity) {
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
      rules.push_back(std::move(rule).value());
    }
  }
  if (!problems.empty()) return Status::InvalidArgument(problems);
  return std::unique_ptr<EntityValidator>(new RuleValidator(e->ToSchema(), std::move(rules)));
}

}  // namespace sluice
