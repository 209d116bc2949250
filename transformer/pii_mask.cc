#include "transformer/pii_mask.h"

#include <algorithm>

#include "common/core/redact.h"
#include "common/runtime/review_item.h"
#include "transformer/field_cast.h"

namespace sluice {
namespace {

// What a real value is replaced by where no pseudonym fits (drop, a
// reason quoting part of a value).
constexpr std::string_view kWithheld = "***";

// At most `max` code points of `text`.
std::string Truncated(std::string text, std::optional<int64_t> max) {
  if (!max || *max <= 0) return text;
  int64_t points = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (points++ == *max) return text.substr(0, i);
  }
  return text;
}

void ReplaceAll(std::string* text, const std::string& real, const std::string& masked) {
  for (size_t at = text->find(real); at != std::string::npos;
       at = text->find(real, at + masked.size())) {
    text->replace(at, real.size(), masked);
  }
}

}  // namespace

Result<std::unique_ptr<PiiMask>> PiiMask::Create(const Plan& plan, const Entity& entity,
                                                 const Mapping& mapping,
                                                 const Schema& source_schema) {
  if (!plan.pii.active()) return std::unique_ptr<PiiMask>();
  std::vector<Field> fields(entity.fields.size());
  bool any = false;
  const Schema schema = entity.ToSchema();
  for (size_t f = 0; f < entity.fields.size(); ++f) {
    const ModelField& mf = entity.fields[f];
    Field& field = fields[f];
    field.pii = mf.pii;
    field.shape = PiiShapeOf(plan, entity, mf);
    field.spec = schema.fields[f];
    field.enum_values = mf.enum_values;
    field.max_length = mf.max_length;
    any = any || mf.pii;
  }
  if (!any) return std::unique_ptr<PiiMask>();
  std::optional<Pseudonymiser> pseudonymiser;
  if (plan.pii.mode == PiiMode::kPseudonymise) {
    auto p = Pseudonymiser::Create(plan.pii.key);
    if (!p.ok()) return p.status().WithContext("pii.key");
    pseudonymiser.emplace(std::move(p).value());
  }
  std::vector<PiiColumn> columns;
  for (const FieldMapping& fm : mapping.fields) {
    const int f = schema.IndexOf(fm.target);
    if (f < 0 || !fields[f].pii) continue;
    for (const std::string& name : fm.ValueColumns()) {
      const int c = source_schema.IndexOf(name);
      if (c < 0) continue;
      bool seen = false;
      for (const PiiColumn& pc : columns) seen = seen || pc.index == c;
      if (!seen) columns.push_back({c, static_cast<size_t>(f)});
    }
  }
  return std::unique_ptr<PiiMask>(new PiiMask(plan.pii.mode, std::move(pseudonymiser), entity.name,
                                              std::move(fields), source_schema,
                                              std::move(columns)));
}

std::string PiiMask::Pseudonym(size_t f, std::string_view text, const Record& src) const {
  const Field& field = fields_[f];
  const Pseudonymiser& p = *pseudonymiser_;
  switch (field.shape) {
    case PiiShape::kName:
      return Truncated(p.Name(text), field.max_length);
    case PiiShape::kEmail: {
      std::string email = p.Email(text);  // "<16 hex>@example.invalid"
      const std::string_view domain = "@example.invalid";
      if (field.max_length && *field.max_length < static_cast<int64_t>(email.size())) {
        const int64_t local =
            std::max<int64_t>(1, *field.max_length - static_cast<int64_t>(domain.size()));
        email = email.substr(0, local) + std::string(domain);
      }
      return email;
    }
    case PiiShape::kPhone:
      return p.Phone(text);
    case PiiShape::kDate: {
      // A date, or a timestamp's date part, moved by an offset derived from
      // its year and month: the same date gets the same pseudonym in every
      // source (so dedup still joins the same person) and dates of one month
      // keep their distance. Anything else keeps only its pattern.
      if (text.size() >= 10 && text[4] == '-' && text[7] == '-') {
        const std::string day(text.substr(0, 10));
        const std::string moved = p.Date(day, text.substr(0, 7));
        if (moved != day) return moved + std::string(text.substr(10));
      }
      return p.Identifier(text);
    }
    case PiiShape::kEnum: {
      const auto& values = field.enum_values;
      if (values.empty() || std::find(values.begin(), values.end(), text) == values.end()) {
        return p.Identifier(text);
      }
      return values[p.Mac("enum", text)[0] % values.size()];
    }
    case PiiShape::kBool: {
      // One bit is the same whatever the key: drawn per record instead.
      const auto mac = p.Mac("bool", entity_ + '\0' + src.source + '\0' + src.key);
      return mac[0] & 1 ? "true" : "false";
    }
    case PiiShape::kIdentifier:
      break;
  }
  return Truncated(p.Identifier(text), field.max_length);
}

std::optional<std::string> PiiMask::MaskText(size_t f, const std::optional<std::string>& text,
                                             const Record& src) const {
  if (!text || !Masks(f)) return text;
  if (mode_ == PiiMode::kDrop) return std::nullopt;
  return Pseudonym(f, *text, src);
}

void PiiMask::MaskRecord(const Record& src, Record* mapped) const {
  for (size_t f = 0; f < fields_.size() && f < mapped->values.size(); ++f) {
    Value& v = mapped->values[f];
    if (!fields_[f].pii || v.is_null) continue;
    if (mode_ == PiiMode::kDrop) {
      v = Value::Null();
      continue;
    }
    const std::optional<std::string> text = FormatValue(fields_[f].spec, v);
    if (!text) continue;
    Result<Value> masked = ParseCanonical(fields_[f].spec, Pseudonym(f, *text, src));
    // A pseudonym its type refuses (an int with a leading zero digit that
    // reads back shorter is fine; a decimal out of range is not) goes NULL
    // rather than letting the real value through.
    v = masked.ok() ? std::move(masked).value() : Value::Null();
  }
}

std::optional<std::string> PiiMask::ColumnText(const Record& src, int c) const {
  if (c < 0 || static_cast<size_t>(c) >= src.values.size() || src.values[c].is_null) {
    return std::nullopt;
  }
  const Value& v = src.values[c];
  if (IsIntegral(source_schema_.fields[c].type)) return FormatValue(source_schema_.fields[c], v);
  return std::string(TrimBlanks(v.s));
}

std::vector<std::pair<std::string, std::string>> PiiMask::RealTexts(const Record& src,
                                                                    const Record* mapped) const {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](size_t f, std::optional<std::string> real) {
    if (!real || real->size() < 2) return;
    out.emplace_back(*real, MaskText(f, real, src).value_or(std::string(kWithheld)));
  };
  for (const PiiColumn& c : columns_) {
    add(c.field, ColumnText(src, c.index));
    // The value as the source holds it, blanks included.
    const Value& raw =
        src.values.size() > static_cast<size_t>(c.index) ? src.values[c.index] : Value::Null();
    if (!raw.is_null && !IsIntegral(source_schema_.fields[c.index].type)) add(c.field, raw.s);
  }
  for (size_t f = 0; mapped != nullptr && f < fields_.size(); ++f) {
    if (!fields_[f].pii || f >= mapped->values.size() || mapped->values[f].is_null) continue;
    add(f, FormatValue(fields_[f].spec, mapped->values[f]));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  return out;
}

void PiiMask::Scrub(const Record& src, const Record* mapped, std::vector<v1::Fate>* fates,
                    size_t first_fate, std::vector<v1::ReviewItem>* items,
                    size_t first_item) const {
  const bool any_fate = fates != nullptr && fates->size() > first_fate;
  const bool any_item = items != nullptr && items->size() > first_item;
  if (!any_fate && !any_item) return;
  const auto reals = RealTexts(src, mapped);
  // Whole values first, then any word of one a message quotes alone.
  auto scrub = [&](std::string* text) {
    for (const auto& [real, masked] : reals) ReplaceAll(text, real, masked);
    for (const auto& [real, masked] : reals) RedactWordsOf(real, text);
  };
  // The value of a failed pii field: its masked form (first, so that its
  // text is also replaced in the reason).
  auto mask_value = [&](const std::string& field, std::string* value) {
    const int f = [&] {
      for (size_t i = 0; i < fields_.size(); ++i) {
        if (fields_[i].spec.name == field) return static_cast<int>(i);
      }
      return -1;
    }();
    if (f < 0 || !Masks(f) || value->empty()) return std::string();
    const std::string real = *value;
    *value = MaskText(f, real, src).value_or(std::string(kWithheld));
    return real;
  };
  for (size_t i = first_fate; any_fate && i < fates->size(); ++i) {
    v1::Fate& fate = (*fates)[i];
    const std::string real = mask_value(fate.field(), fate.mutable_value());
    if (!real.empty()) ReplaceAll(fate.mutable_reason(), real, fate.value());
    scrub(fate.mutable_value());
    scrub(fate.mutable_reason());
    scrub(fate.mutable_suggestion());
  }
  for (size_t i = first_item; any_item && i < items->size(); ++i) {
    v1::ReviewItem& item = (*items)[i];
    const std::string real = mask_value(item.field(), item.mutable_value());
    if (!real.empty()) ReplaceAll(item.mutable_reasons(), real, item.value());
    scrub(item.mutable_value());
    scrub(item.mutable_reasons());
    scrub(item.mutable_suggestion());
    item.set_record_json(RecordJson(source_schema_, MaskSource(src)));
  }
}

Record PiiMask::MaskSource(const Record& src) const {
  Record out = src;
  for (const PiiColumn& c : columns_) {
    if (static_cast<size_t>(c.index) >= out.values.size()) continue;
    Value& v = out.values[c.index];
    if (v.is_null) continue;
    const FieldSpec& spec = source_schema_.fields[c.index];
    const std::optional<std::string> masked =
        MaskText(c.field, IsIntegral(spec.type) ? FormatValue(spec, v) : v.s, src);
    if (!masked) {
      v = Value::Null();
      continue;
    }
    Result<Value> parsed =
        IsIntegral(spec.type) ? ParseCanonical(spec, *masked) : Result<Value>(Value::Str(*masked));
    v = parsed.ok() ? std::move(parsed).value() : Value::Null();
  }
  return out;
}

}  // namespace sluice
