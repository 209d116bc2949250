#include "transformer/transform.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "common/core/nearest.h"
#include "common/runtime/review_item.h"
#include "transformer/field_cast.h"
#include "transformer/output_field.h"
#include "transformer/pii_mask.h"
#include "transformer/reference_data.h"
#include "transformer/text_steps.h"

namespace sluice {
namespace {

constexpr const char* kStage = "transform";

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
  MappedEntityTransformer(std::string entity, Schema schema, Schema source_schema,
                          std::vector<OutputField> fields, const v1::ReviewDecisions* decisions,
                          std::unique_ptr<PiiMask> mask)
      : schema_(std::move(schema)),
        source_schema_(std::move(source_schema)),
        fields_(std::move(fields)),
        entity_(std::move(entity)),
        mask_(std::move(mask)) {
    if (decisions != nullptr) {
      for (const v1::RecordDecision& d : decisions->records()) {
        if (d.entity() == entity_) decisions_[{d.source(), d.key()}] = &d;
      }
    }
  }

  void Apply(const RecordBatch& in, RecordBatch* out, std::vector<v1::Fate>* fates,
             LineageWriter* lineage, std::vector<v1::ReviewItem>* items) override;

 private:
  // Maps one record into `*rec`; false (with its fate) when it is rejected
  // or held.
  bool MapRecord(const Record& src, Record* rec, std::vector<v1::Fate>* fates,
                 std::vector<v1::ReviewItem>* items);
  // A failed transformation of field `f` of `src` (`value`: the text that
  // failed, `original`: the source value as read), under the field's
  // on_error and the steward's decision on the record. True when the record
  // goes on with `*out` set (NULL, or the steward's correction); false when
  // it is rejected or held (its fate in `fates`, its item in `items`).
  bool Fail(const Record& src, size_t f, std::string_view value,
            const std::optional<std::string>& original, const CastFailure& failure, Value* out,
            std::vector<v1::Fate>* fates, std::vector<v1::ReviewItem>* items);
  // The text of column `c` of `src` in `*text` (a view into `src` or
  // `*scratch`); false when NULL or absent.
  bool ReadColumn(const Record& src, Column c, std::string* scratch, std::string_view* text);
  // Runs the text steps of `of` on `*text`; false with `*failure` when a
  // step refuses it. `*steps` receives the names of the steps that changed it.
  bool RunTextSteps(const OutputField& of, const Record& src, std::string_view* text,
                    std::string* steps, CastFailure* failure);

  Schema schema_;
  Schema source_schema_;
  std::vector<OutputField> fields_;  // one per schema_ field, in order
  std::string scratch_;              // text of a typed source value
  std::string part_scratch_;         // concat parts, region
  std::string buf_[2];               // text step outputs, alternating
  CastFailure failure_;              // reused: failures are rare but must not allocate
  std::vector<PendingChange> pending_;
  std::string entity_;
  // The steward's decisions on records of the entity, by (source, key).
  std::map<std::pair<std::string, std::string>, const v1::RecordDecision*> decisions_;
  // Warnings of steps that let a doubtful value through (a possible phone
  // number under strict: false), for the record being mapped.
  std::vector<v1::Fate> step_warnings_;
  // The plan's PII mask of this mapping (docs/privacy.md); null: none.
  std::unique_ptr<PiiMask> mask_;
};

Result<std::unique_ptr<EntityTransformer>> Build(const Plan& plan, const Entity& entity,
                                                 const Mapping& mapping,
                                                 const Schema& source_schema,
                                                 const v1::ReviewDecisions* decisions) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<OutputField> fields,
                          BuildOutputFields(entity, mapping, source_schema));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PiiMask> mask,
                          PiiMask::Create(plan, entity, mapping, source_schema));
  return std::unique_ptr<EntityTransformer>(
      new MappedEntityTransformer(entity.name, entity.ToSchema(), source_schema, std::move(fields),
                                  decisions, std::move(mask)));
}

void MappedEntityTransformer::Apply(const RecordBatch& in, RecordBatch* out,
                                    std::vector<v1::Fate>* fates, LineageWriter* lineage,
                                    std::vector<v1::ReviewItem>* items) {
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
    const size_t first_fate = fates->size();
    const size_t first_item = items != nullptr ? items->size() : 0;
    const bool passed = MapRecord(src, &rec, fates, items);
    if (mask_ != nullptr) {
      // Before the record leaves, or anything about it is written.
      mask_->Scrub(src, passed ? &rec : nullptr, fates, first_fate, items, first_item);
      if (passed) mask_->MaskRecord(src, &rec);
      for (PendingChange& c : pending_) {
        c.before = mask_->MaskText(c.field, c.before, src);
        c.after = mask_->MaskText(c.field, c.after, src);
      }
    }
    if (passed) {
      ++used;
      rec.content_hash = ContentHash(schema_, rec.values);
    }
    // A record that does not pass keeps only its failed field's original
    // value (MapRecord leaves just that one).
    if (lineage == nullptr) continue;
    for (const PendingChange& c : pending_) {
      std::optional<std::string_view> before, after;
      if (c.before) before = *c.before;
      if (c.after) after = *c.after;
      lineage->Add(src.key, schema_.fields[c.field].name, c.rule, before, after);
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
    const PhoneCheck check = PhoneFormatter::Parse(*text, region, &o, &failure->reason);
    if (check == PhoneCheck::kPossible && !of.phone_strict) {
      // strict: false keeps a number of the right length for its country.
      v1::Fate& w = step_warnings_.emplace_back();
      w.set_kind(v1::FATE_WARNING);
      w.set_rule("phone");
      w.set_value(std::string(*text));
      w.set_reason(failure->reason + "; kept as " + o + " (phone strict: false)");
      w.set_suggestion("check the number with its owner");
    } else if (check != PhoneCheck::kValid) {
      failure->rule = "phone";
      failure->suggestion =
          check == PhoneCheck::kUnparseable
              ? "fix the source value" + std::string(region.empty() ? " or set a region" : "")
          : check == PhoneCheck::kPossible
              ? "fix the source value, or keep possible numbers with phone: {strict: false}"
              : "fix the source value";
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

bool MappedEntityTransformer::Fail(const Record& src, size_t f, std::string_view value,
                                   const std::optional<std::string>& original,
                                   const CastFailure& failure, Value* out,
                                   std::vector<v1::Fate>* fates,
                                   std::vector<v1::ReviewItem>* items) {
  const OutputField& of = fields_[f];
  const std::string& field = schema_.fields[f].name;
  OnError policy = of.on_error;
  std::string released;  // a steward's load: the field goes NULL
  if (!decisions_.empty()) {
    auto d = decisions_.find({src.source, src.key});
    if (d != decisions_.end()) {
      const v1::RecordDecision& decision = *d->second;
      for (const v1::FieldCorrection& c : decision.corrections()) {
        if (c.field() != field) continue;
        Result<Value> v = Value::Null();
        if (!c.null()) v = ParseCanonical(schema_.fields[f], c.value());
        if (!v.ok()) break;  // the validator rejects the correction, naming it
        *out = std::move(v).value();
        pending_.push_back({f, std::string(failure.rule) + " (steward correction)", original,
                            FormatValue(schema_.fields[f], *out)});
        return true;
      }
      if (decision.decision() == "reject") {
        v1::Fate& fate = fates->emplace_back();
        fate.set_kind(v1::FATE_REJECTED);
        fate.set_source(src.source);
        fate.set_key(src.key);
        fate.set_stage("steward");
        fate.set_rule("steward_reject");
        fate.set_field(field);
        fate.set_value(std::string(value));
        fate.set_reason("rejected by steward " + decision.steward() + " (" + failure.reason + ")");
        fate.set_line(src.line);
        pending_.clear();
        pending_.push_back({f, std::string(failure.rule) + " (steward reject)", original, {}});
        return false;
      }
      released = "released by steward " + decision.steward();
      policy = OnError::kNull;
    }
  }
  v1::Fate& fate = fates->emplace_back();
  fate.set_source(src.source);
  fate.set_key(src.key);
  fate.set_stage(kStage);
  fate.set_rule(failure.rule);
  fate.set_field(field);
  fate.set_value(std::string(value));
  fate.set_line(src.line);
  fate.set_suggestion(failure.suggestion);
  if (policy == OnError::kNull) {
    fate.set_kind(v1::FATE_WARNING);
    fate.set_reason(failure.reason + "; loaded with " + field + " NULL (" +
                    (released.empty() ? "on_error: null" : released) + ")");
    *out = Value::Null();
    pending_.push_back({f, std::string(failure.rule) + " (on_error: null)", original, {}});
    return true;
  }
  fate.set_reason(failure.reason);
  pending_.clear();
  if (policy == OnError::kReject) {
    fate.set_kind(v1::FATE_REJECTED);
    pending_.push_back({f, std::string(failure.rule) + " (on_error: reject)", original, {}});
    return false;
  }
  fate.set_kind(v1::FATE_REVIEW);
  fate.set_suggestion((failure.suggestion.empty() ? "" : failure.suggestion + "; or ") +
                      "decide it with sluice review export/import: a corrected " + field +
                      ", load (with " + field + " NULL) or reject");
  pending_.push_back({f, std::string(failure.rule) + " (on_error: review)", original, {}});
  if (items != nullptr) {
    // The record as it came from the source: it was not mapped.
    items->push_back(RecordReviewItem(entity_, fate, RecordJson(source_schema_, src)));
  }
  return false;
}

bool MappedEntityTransformer::MapRecord(const Record& src, Record* rec,
                                        std::vector<v1::Fate>* fates,
                                        std::vector<v1::ReviewItem>* items) {
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
      std::optional<std::string> before;
      if (!null) before.emplace(TrimBlanks(text));
      if (!Fail(src, f, evaluated, before, failure_, &value, fates, items)) return false;
      continue;
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
    step_warnings_.clear();
    if (!null && !RunTextSteps(of, src, &text, &steps, &failure_)) {
      if (!Fail(src, f, evaluated, before, failure_, &value, fates, items)) return false;
      continue;
    }
    for (v1::Fate& w : step_warnings_) {
      w.set_source(src.source);
      w.set_key(src.key);
      w.set_stage(kStage);
      w.set_field(schema_.fields[f].name);
      w.set_line(src.line);
      fates->push_back(std::move(w));
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
          if (!Fail(src, f, *found, before, failure_, &value, fates, items)) return false;
          continue;
        }
        if (!steps.empty()) steps += '+';
        steps += "enrich";
        done = true;
      }
    }
    if (!done && !of.caster->Apply(null, text, &value, &evaluated, &failure_, &rule)) {
      if (!Fail(src, f, evaluated, before, failure_, &value, fates, items)) return false;
      continue;
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

Result<std::unique_ptr<EntityTransformer>> EntityTransformer::Create(
    const Plan& plan, const std::string& entity, const std::string& source,
    const Schema& source_schema, const v1::ReviewDecisions* decisions) {
  const Entity* e = plan.model.Find(entity);
  if (e == nullptr) return Status::InvalidArgument("unknown entity '" + entity + "'");
  const Mapping* mapping = plan.FindMapping(entity, source);
  if (mapping == nullptr) {
    return Status::NotFound("no mapping for entity " + entity + " from source " + source);
  }
  return Build(plan, *e, *mapping, source_schema, decisions);
}

}  // namespace sluice
