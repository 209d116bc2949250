#include "transformer/transform.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "transformer/field_cast.h"
#include "transformer/reference_data.h"
#include "transformer/text_steps.h"

namespace sluice {
namespace {

constexpr const char* kStage = "transform";

enum class SplitKind { kNone, kName, kAddress, kSeparator };

// A source column read by a field.
struct Column {
  int index = -1;
  bool integral = false;  // the source column carries typed ints
};

// How one output field is filled.
struct OutputField {
  Column from;                  // index -1: no column
  std::vector<Column> concat;   // instead of `from`
  std::string separator = " ";  // concat, split: separator
  SplitKind split = SplitKind::kNone;
  std::string part;  // first|last, street|postcode|city
  size_t piece = 0;  // split: separator
  std::unique_ptr<RegexExtractor> extract;
  std::unique_ptr<UnicodeFolder> folder;  // normalize and/or match_key
  bool normalize = false;
  bool match_key = false;
  bool email = false;
  bool phone = false;
  std::string region;  // phone: field or source region
  Column region_from;
  std::string region_column;
  std::shared_ptr<const ReferenceDataset> enrich;
  Column enrich_by;
  std::optional<FieldCaster> caster;  // empty: the model field has no mapping (NULL)
  // True when any step beyond trim, map, default and cast runs.
  bool has_text_steps = false;
};

// A change of one field of the record being mapped, kept until the record
// is known to pass (a rejected record's changes are not lineage).
struct PendingChange {
  size_t field = 0;
  std::string rule;
  std::optional<std::string> before;
  std::optional<std::string> after;
};

class MappedEntityTransformer final : public EntityTransformer {
 public:
  MappedEntityTransformer(Schema schema, Schema source_schema, std::vector<OutputField> fields)
      : schema_(std::move(schema)),
        source_schema_(std::move(source_schema)),
        fields_(std::move(fields)) {}

  void Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates,
             LineageWriter* lineage) override;

 private:
  // Maps one record into `*rec`; false (with a fate) when it is rejected.
  bool MapRecord(const Record& src, Record* rec, std::vector<v1::Fate>* fates);
  // The text of column `c` of `src` in `*text` (a view into `src` or
  // `*scratch`); false when NULL or absent.
  bool ReadColumn(const Record& src, Column c, std::string* scratch, std::string_view* text);
  // Runs the text steps of `of` on `*text`; false with `*failure` when a
  // step refuses it. `*steps` receives the names of the steps that changed it.
  bool RunTextSteps(const OutputField& of, const Record& src, std::string_view* text,
                    std::string* steps, CastFailure* failure);
  void Reject(const Record& src, size_t field, std::string_view value, const CastFailure& failure,
              std::vector<v1::Fate>* fates);

  Schema schema_;
  Schema source_schema_;
  std::vector<OutputField> fields_;  // one per schema_ field, in order
  std::string scratch_;              // text of a typed source value
  std::string part_scratch_;         // concat parts, region
  std::string buf_[2];               // text step outputs, alternating
  CastFailure failure_;              // reused: failures are rare but must not allocate
  std::vector<PendingChange> pending_;
};

Column ResolveColumn(const Schema& source_schema, const std::string& name, const std::string& path,
                     std::vector<std::string>* problems) {
  Column c;
  c.index = source_schema.IndexOf(name);
  if (c.index < 0) {
    problems->push_back(path + ": source has no column '" + name + "'");
  } else {
    c.integral = IsIntegral(source_schema.fields[c.index].type);
  }
  return c;
}

// Compiles the steps beyond casting of `fm` into `out`.
void BuildTextSteps(const FieldMapping& fm, const Schema& source_schema, const std::string& path,
                    std::map<std::string, std::shared_ptr<const ReferenceDataset>>* datasets,
                    OutputField* out, std::vector<std::string>* problems) {
  for (size_t i = 0; i < fm.concat.size(); ++i) {
    out->concat.push_back(ResolveColumn(source_schema, fm.concat[i],
                                        path + ".concat[" + std::to_string(i) + "]", problems));
  }
  out->separator = fm.separator;
  out->part = fm.part;
  if (fm.split == "name") out->split = SplitKind::kName;
  if (fm.split == "address") out->split = SplitKind::kAddress;
  if (fm.split == "separator") {
    out->split = SplitKind::kSeparator;
    out->piece = static_cast<size_t>(std::stoul(fm.part.empty() ? "0" : fm.part));
  }
  if (!fm.extract.empty()) {
    auto x = RegexExtractor::Create(fm.extract, fm.extract_group);
    if (x.ok()) {
      out->extract = std::move(x).value();
    } else {
      problems->push_back(path + ".extract: " + x.status().message());
    }
  }
  out->normalize = !fm.normalize.empty();
  out->match_key = fm.match_key;
  if (out->normalize || out->match_key) {
    auto f = UnicodeFolder::Create(fm.normalize, fm.match_key);
    if (f.ok()) {
      out->folder = std::move(f).value();
    } else {
      problems->push_back(path + ": " + f.status().message());
    }
  }
  out->email = fm.email;
  out->phone = fm.phone;
  if (fm.phone) {
    out->region = fm.region.empty() ? fm.source_region : fm.region;
    if (!out->region.empty() && !PhoneFormatter::KnownRegion(out->region)) {
      problems->push_back(path + ".region: unknown region '" + out->region + "'");
    }
    if (!fm.region_from.empty()) {
      out->region_from =
          ResolveColumn(source_schema, fm.region_from, path + ".region_from", problems);
      out->region_column = fm.region_from;
    }
  }
  if (fm.enrich) {
    out->enrich_by = ResolveColumn(source_schema, fm.enrich->by, path + ".enrich.by", problems);
    // Fields enriched from the same dataset column share one load.
    const std::string id = fm.enrich->file + '\x1f' + fm.enrich->table + '\x1f' + fm.enrich->key +
                           '\x1f' + fm.enrich->column;
    auto it = datasets->find(id);
    if (it == datasets->end()) {
      auto data = ReferenceDataset::Load(*fm.enrich, path + ".enrich");
      if (!data.ok()) {
        problems->push_back(data.status().message());
      } else {
        it = datasets->emplace(id, std::make_shared<ReferenceDataset>(std::move(data).value()))
                 .first;
      }
    }
    if (it != datasets->end()) out->enrich = it->second;
  }
  out->has_text_steps = !out->concat.empty() || out->split != SplitKind::kNone || out->extract ||
                        out->normalize || out->match_key || out->email || out->phone || out->enrich;
}

Result<std::unique_ptr<EntityTransformer>> Build(const Entity& entity, const Mapping& mapping,
                                                 const Schema& source_schema) {
  std::vector<std::string> problems;
  std::vector<OutputField> fields(entity.fields.size());
  std::set<std::string> seen;
  std::map<std::string, std::shared_ptr<const ReferenceDataset>> datasets;
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
      const size_t before = problems.size();
      out.from = ResolveColumn(source_schema, fm.from, path + ".from", &problems);
      if (problems.size() != before) continue;
    }
    BuildTextSteps(fm, source_schema, path, &datasets, &out, &problems);
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
                                    std::vector<v1::Fate>* fates, LineageWriter* lineage) {
  out->id = in.id;
  out->epoch = in.epoch;
  out->range = in.range;
  out->schema = schema_;
  out->positions.clear();
  // The records `out` holds from an earlier batch are mapped over, not
  // cleared: their value strings keep their capacity, which saves an
  // allocation and a free per value (the stage passes the same batch each
  // time). MapRecord sets every field of a record it passes.
  out->records.reserve(in.records.size());
  size_t used = 0;
  for (const Record& src : in.records) {
    if (used == out->records.size()) out->records.emplace_back();
    Record& rec = out->records[used];
    pending_.clear();
    if (!MapRecord(src, &rec, fates)) continue;
    ++used;
    rec.content_hash = ContentHash(schema_, rec.values);
    if (lineage == nullptr) continue;
    for (const PendingChange& c : pending_) {
      std::optional<std::string_view> before, after;
      if (c.before) before = *c.before;
      if (c.after) after = *c.after;
      lineage->Add(rec.key, schema_.fields[c.field].name, c.rule, before, after);
    }
  }
  out->records.resize(used);
}

bool MappedEntityTransformer::ReadColumn(const Record& src, Column c, std::string* scratch,
                                         std::string_view* text) {
  if (c.index < 0 || static_cast<size_t>(c.index) >= src.values.size()) return false;
  const Value& v = src.values[c.index];
  if (v.is_null) return false;
  if (c.integral) {
    // A typed source column (e.g. an SQLite INTEGER): map its canonical text.
    *scratch = FormatValue(source_schema_.fields[c.index], v).value_or("");
    *text = *scratch;
  } else {
    *text = v.s;
  }
  return true;
}

bool MappedEntityTransformer::RunTextSteps(const OutputField& of, const Record& src,
                                           std::string_view* text, std::string* steps,
                                           CastFailure* failure) {
  // Steps that rewrite the text write buf_[next] from a view of the other
  // buffer (or of the record), then swap.
  int next = 0;
  auto note = [&](const char* step, std::string_view before, std::string_view after) {
    if (before == after) return;
    if (!steps->empty()) *steps += '+';
    *steps += step;
  };
  if (of.split != SplitKind::kNone) {
    std::string_view piece;
    if (of.split == SplitKind::kName) {
      PersonName n = SplitPersonName(*text);
      piece = of.part == "first" ? n.first : n.last;
    } else if (of.split == SplitKind::kAddress) {
      PostalAddress a;
      if (!SplitPostalAddress(*text, &a)) {
        failure->rule = "split";
        failure->reason = "not a \"street, postcode city\" address";
        failure->suggestion = "fix the source value";
        return false;
      }
      piece = of.part == "street" ? a.street : of.part == "postcode" ? a.postcode : a.city;
    } else {
      piece = SplitPiece(*text, of.separator, of.piece);
    }
    note("split", *text, piece);
    *text = piece;  // a view into the same text
  }
  if (of.extract) {
    std::string_view group;
    if (!of.extract->Extract(*text, &group)) {
      failure->rule = "extract";
      failure->reason = "'" + std::string(*text) + "' does not match the extract pattern";
      failure->suggestion = "fix the source value or the mapping's extract pattern";
      return false;
    }
    note("extract", *text, group);
    *text = group;
  }
  if (text->empty()) return true;  // empty values go to enrich / default
  if (of.normalize) {
    std::string& o = buf_[next];
    if (!of.folder->Normalize(*text, &o)) {
      failure->rule = "normalize";
      failure->reason = "not valid UTF-8";
      failure->suggestion = "fix the source encoding";
      return false;
    }
    note("normalize", *text, o);
    *text = o;
    next = 1 - next;
  }
  if (of.phone) {
    std::string region = of.region;
    std::string_view r;
    if (ReadColumn(src, of.region_from, &part_scratch_, &r) && !TrimBlanks(r).empty()) {
      region.assign(TrimBlanks(r));
      for (char& c : region) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!PhoneFormatter::KnownRegion(region)) {
        failure->rule = "phone";
        failure->reason =
            "unknown region '" + std::string(TrimBlanks(r)) + "' in column " + of.region_column;
        failure->suggestion = "write " + of.region_column + " as an ISO 3166 code such as FR";
        return false;
      }
    }
    std::string& o = buf_[next];
    if (!PhoneFormatter::ToE164(*text, region, &o, &failure->reason)) {
      failure->rule = "phone";
      failure->suggestion =
          "fix the source value" + std::string(region.empty() ? " or set a region" : "");
      return false;
    }
    note("phone", *text, o);
    *text = o;
    next = 1 - next;
  }
  if (of.email) {
    std::string& o = buf_[next];
    if (!NormalizeEmail(*text, &o, &failure->reason)) {
      failure->rule = "email";
      failure->suggestion = "fix the source value";
      return false;
    }
    note("email", *text, o);
    *text = o;
    next = 1 - next;
  }
  if (of.match_key) {
    std::string& o = buf_[next];
    if (!of.folder->MatchKey(*text, &o)) {
      failure->rule = "match_key";
      failure->reason = "not valid UTF-8";
      failure->suggestion = "fix the source encoding";
      return false;
    }
    note("match_key", *text, o);
    *text = o;
    next = 1 - next;
  }
  return true;
}

void MappedEntityTransformer::Reject(const Record& src, size_t field, std::string_view value,
                                     const CastFailure& failure, std::vector<v1::Fate>* fates) {
  v1::Fate& fate = fates->emplace_back();
  fate.set_kind(v1::FATE_REJECTED);
  fate.set_source(src.source);
  fate.set_key(src.key);
  fate.set_stage(kStage);
  fate.set_rule(failure.rule);
  fate.set_field(schema_.fields[field].name);
  fate.set_value(std::string(value));
  fate.set_reason(failure.reason);
  fate.set_suggestion(failure.suggestion);
  fate.set_line(src.line);
}

bool MappedEntityTransformer::MapRecord(const Record& src, Record* rec,
                                        std::vector<v1::Fate>* fates) {
  rec->values.resize(fields_.size());
  for (size_t f = 0; f < fields_.size(); ++f) {
    const OutputField& of = fields_[f];
    Value& value = rec->values[f];
    if (!of.caster) {  // unmapped model field: NULL (the record may be reused)
      value.is_null = true;
      value.i = 0;
      value.s.clear();
      continue;
    }
    std::string_view text;
    bool null = !ReadColumn(src, of.from, &scratch_, &text);
    std::string_view evaluated = text;
    const char* rule = nullptr;
    if (!of.has_text_steps) {
      if (of.caster->Apply(null, text, &value, &evaluated, &failure_, &rule)) {
        if (rule != nullptr) {
          std::optional<std::string> before;
          if (!null) before.emplace(TrimBlanks(text));
          pending_.push_back({f, rule, std::move(before), FormatValue(schema_.fields[f], value)});
        }
        continue;
      }
      Reject(src, f, evaluated, failure_, fates);
      return false;
    }

    // The general path: read, derive, then empty handling, map and cast.
    std::string steps;
    std::optional<std::string> before;
    if (!of.concat.empty()) {
      part_scratch_.clear();
      std::string shown;  // the parts as read, for the lineage
      size_t parts = 0;
      null = true;
      for (const Column& c : of.concat) {
        std::string_view part;
        if (!ReadColumn(src, c, &scratch_, &part)) continue;
        null = false;
        part = TrimBlanks(part);
        if (part.empty()) continue;
        if (parts++ > 0) {
          part_scratch_ += of.separator;
          shown += " | ";
        }
        part_scratch_.append(part);
        shown.append(part);
      }
      scratch_ = part_scratch_;
      text = scratch_;
      if (parts > 1) steps = "concat";
      if (!null) before = std::move(shown);
    } else if (!null) {
      text = TrimBlanks(text);
      before.emplace(text);
    }
    evaluated = text;
    if (!null && !RunTextSteps(of, src, &text, &steps, &failure_)) {
      Reject(src, f, evaluated, failure_, fates);
      return false;
    }
    evaluated = text;
    bool done = false;
    if (of.enrich && TrimBlanks(text).empty()) {
      std::string_view by;
      const std::string* found = nullptr;
      if (ReadColumn(src, of.enrich_by, &part_scratch_, &by)) {
        found = of.enrich->Find(std::string(TrimBlanks(by)));
      }
      if (found != nullptr) {
        if (!of.caster->CastModelValue(*found, &value, &failure_)) {
          failure_.rule = "enrich";
          Reject(src, f, *found, failure_, fates);
          return false;
        }
        if (!steps.empty()) steps += '+';
        steps += "enrich";
        done = true;
      }
    }
    if (!done && !of.caster->Apply(null, text, &value, &evaluated, &failure_, &rule)) {
      Reject(src, f, evaluated, failure_, fates);
      return false;
    }
    if (rule != nullptr) {
      if (!steps.empty()) steps += '+';
      steps += rule;
    }
    if (!steps.empty()) {
      pending_.push_back(
          {f, std::move(steps), std::move(before), FormatValue(schema_.fields[f], value)});
    }
  }
  rec->source = src.source;
  rec->key = src.key;
  rec->line = src.line;
  rec->merged.clear();
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
