#include "transformer/transform.h"

#include <optional>
#include <set>
#include <utility>

#include "transformer/field_cast.h"

namespace sluice {
namespace {

constexpr const char* kStage = "transform";

// How one output field is filled.
struct OutputField {
  int source_index = -1;              // column of the source schema; -1: no column
  bool source_integral = false;       // the source column carries typed ints
  std::optional<FieldCaster> caster;  // empty: the model field has no mapping (NULL)
};

class MappedEntityTransformer final : public EntityTransformer {
 public:
  MappedEntityTransformer(Schema schema, Schema source_schema, std::vector<OutputField> fields)
      : schema_(std::move(schema)),
        source_schema_(std::move(source_schema)),
        fields_(std::move(fields)) {}

  void Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates) override;

 private:
  // Maps one record into `*rec`; false (with a fate) when it is rejected.
  bool MapRecord(const Record& src, Record* rec, std::vector<v1::Fate>* fates);

  Schema schema_;
  Schema source_schema_;
  std::vector<OutputField> fields_;  // one per schema_ field, in order
  std::string scratch_;              // text of a typed source value
  CastFailure failure_;              // reused: failures are rare but must not allocate
};

Result<std::unique_ptr<EntityTransformer>> Build(const Entity& entity, const Mapping& mapping,
                                                 const Schema& source_schema) {
  std::vector<std::string> problems;
  std::vector<OutputField> fields(entity.fields.size());
  std::set<std::string> seen;
  for (const FieldMapping& fm : mapping.fields) {
    const std::string path = mapping.yaml_path + ".fields." + fm.target;
    if (!seen.insert(fm.target).second) {
      problems.push_back(path + ": field mapped more than once");
      continue;
    }
    int target = -1;
    for (size_t i = 0; i < entity.fields.size(); ++i) {
      if (entity.fields[i].name == fm.target) target = static_cast<int>(i);
    }
    if (target < 0) {
      problems.push_back(path + ": entity " + entity.name + " has no field '" + fm.target + "'");
      continue;
    }
    OutputField& out = fields[target];
    if (!fm.from.empty()) {
      out.source_index = source_schema.IndexOf(fm.from);
      if (out.source_index < 0) {
        problems.push_back(path + ".from: source has no column '" + fm.from + "'");
        continue;
      }
      out.source_integral = IsIntegral(source_schema.fields[out.source_index].type);
    }
    Result<FieldCaster> caster = FieldCaster::Create(entity.fields[target], fm, mapping.source);
    if (!caster.ok()) {
      problems.push_back(caster.status().message());
      continue;
    }
    out.caster = std::move(caster).value();
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
    return Status::InvalidArgument(message);
  }
  return std::unique_ptr<EntityTransformer>(
      new MappedEntityTransformer(entity.ToSchema(), source_schema, std::move(fields)));
}

void MappedEntityTransformer::Apply(const RecordBatch& in, RecordBatch* out,
                                    std::vector<v1::Fate>* fates) {
  out->id = in.id;
  out->epoch = in.epoch;
  out->range = in.range;
  out->schema = schema_;
  out->records.clear();
  out->records.reserve(in.records.size());
  for (const Record& src : in.records) {
    Record& rec = out->records.emplace_back();
    if (!MapRecord(src, &rec, fates)) {
      out->records.pop_back();
      continue;
    }
    rec.content_hash = ContentHash(schema_, rec.values);
  }
}

bool MappedEntityTransformer::MapRecord(const Record& src, Record* rec,
                                        std::vector<v1::Fate>* fates) {
  rec->values.resize(fields_.size());
  for (size_t f = 0; f < fields_.size(); ++f) {
    const OutputField& of = fields_[f];
    Value& value = rec->values[f];
    if (!of.caster) continue;  // unmapped model field: NULL
    const bool has_column =
        of.source_index >= 0 && static_cast<size_t>(of.source_index) < src.values.size();
    const Value* in = has_column ? &src.values[of.source_index] : nullptr;
    bool null = in == nullptr || in->is_null;
    std::string_view text;
    if (!null && of.source_integral) {
      // A typed source column (e.g. an SQLite INTEGER): map its canonical text.
      scratch_ = FormatValue(source_schema_.fields[of.source_index], *in).value_or("");
      text = scratch_;
    } else if (!null) {
      text = in->s;
    }
    std::string_view evaluated = text;
    if (of.caster->Apply(null, text, &value, &evaluated, &failure_)) continue;
    v1::Fate& fate = fates->emplace_back();
    fate.set_kind(v1::FATE_REJECTED);
    fate.set_source(src.source);
    fate.set_key(src.key);
    fate.set_stage(kStage);
    fate.set_rule(failure_.rule);
    fate.set_field(schema_.fields[f].name);
    fate.set_value(std::string(evaluated));
    fate.set_reason(failure_.reason);
    fate.set_suggestion(failure_.suggestion);
    fate.set_line(src.line);
    return false;
  }
  rec->source = src.source;
  rec->key = src.key;
  rec->line = src.line;
  return true;
}

}  // namespace

Result<std::unique_ptr<EntityTransformer>> EntityTransformer::Create(const Plan& plan,
                                                                     const std::string& entity,
                                                                     const std::string& source,
                                                                     const Schema& source_schema) {
  const Entity* e = plan.model.Find(entity);
  if (e == nullptr) return Status::InvalidArgument("unknown entity '" + entity + "'");
  const Mapping* mapping = plan.FindMapping(entity, source);
  if (mapping == nullptr) {
    return Status::NotFound("no mapping for entity " + entity + " from source " + source);
  }
  return Build(*e, *mapping, source_schema);
}

}  // namespace sluice
