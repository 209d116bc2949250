#include "validator/rule.h"

#include <utility>

#include "validator/suggest.h"

namespace sluice {
namespace {

constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsStringLike(FieldType t) {
  return t == FieldType::kString || t == FieldType::kEnum || t == FieldType::kReference;
}

// Optional sign then digits: the canonical int text, with a leading '+' too.
bool IsIntText(std::string_view t) {
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) t.remove_prefix(1);
  if (t.empty()) return false;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Optional sign, digits, optional '.' and digits; at least one digit.
bool IsDecimalText(std::string_view t) {
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) t.remove_prefix(1);
  bool digit = false, point = false;
  for (char c : t) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      return false;
    }
  }
  return digit;
}

bool IsBoolText(std::string_view t) {
  static const char* const kWords[] = {"true", "false", "1", "0", "yes", "no", "y", "n", "t", "f"};
  for (const char* w : kWords) {
    std::string_view word(w);
    if (word.size() != t.size()) continue;
    bool same = true;
    for (size_t i = 0; i < t.size() && same; ++i) same = Lower(t[i]) == word[i];
    if (same) return true;
  }
  return false;
}

Result<v1::FateKind> SeverityKind(const std::string& severity) {
  if (severity == "error") return v1::FATE_REJECTED;
  if (severity == "review") return v1::FATE_REVIEW;
  if (severity == "warning") return v1::FATE_WARNING;
  return Status::InvalidArgument("unknown severity '" + severity +
                                 "' (expected error, review or warning)");
}

std::string Join(const std::vector<std::string>& items, size_t limit) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > limit) out += ", ...";
  return out;
}

}  // namespace

Result<CompiledRule> CompiledRule::Create(const RuleSpec& spec, const Entity& entity) {
  CompiledRule r;
  r.name_ = spec.name.empty() ? spec.kind + "_" + spec.field : spec.name;
  SLUICE_ASSIGN_OR_RETURN(r.fate_kind_, SeverityKind(spec.severity));
  const std::string& k = spec.kind;
  if (k == "unique" || k == "expression" || k == "reference") {
    // Record-level kinds; `field` (optional for these) files the failures.
    if (!spec.field.empty()) {
      const ModelField* mf = entity.Find(spec.field);
      if (mf == nullptr) {
        return Status::InvalidArgument("entity " + entity.name + " has no field '" + spec.field +
                                       "'");
      }
      r.field_ = {mf->name, mf->type, mf->precision, mf->scale};
    }
    if (k == "reference") {
      r.kind_ = Kind::kReference;
    } else if (k == "unique") {
      r.kind_ = Kind::kUnique;
      std::vector<std::string> fields = spec.fields;
      if (fields.empty() && !spec.field.empty()) fields = {spec.field};
      if (fields.empty()) return Status::InvalidArgument("unique without fields");
      for (const auto& f : fields) {
        const ModelField* mf = entity.Find(f);
        if (mf == nullptr) {
          return Status::InvalidArgument("entity " + entity.name + " has no field '" + f + "'");
        }
        r.unique_fields_.push_back(static_cast<int>(mf - entity.fields.data()));
      }
      if (spec.field.empty()) {
        const ModelField& first = entity.fields[r.unique_fields_.front()];
        r.field_ = {first.name, first.type, first.precision, first.scale};
      }
      if (spec.name.empty() && fields.size() > 1) {
        r.name_ = "unique";
        for (const auto& f : fields) r.name_ += "_" + f;
      }
    } else {
      r.kind_ = Kind::kExpression;
      if (spec.name.empty()) return Status::InvalidArgument("an expression rule needs a name");
      Result<Expression> e = Expression::Compile(spec.expression, entity);
      if (!e.ok()) return Status::InvalidArgument("expression: " + e.status().message());
      r.expression_ = std::move(e).value();
      r.message_ = spec.message;
      if (spec.field.empty() && !r.expression_->fields().empty()) {
        const ModelField& first = entity.fields[r.expression_->fields().front()];
        r.field_ = {first.name, first.type, first.precision, first.scale};
      }
    }
    return r;
  }
  const ModelField* mf = entity.Find(spec.field);
  if (mf == nullptr) {
    return Status::InvalidArgument("entity " + entity.name + " has no field '" + spec.field + "'");
  }
  r.field_ = {mf->name, mf->type, mf->precision, mf->scale};
  if (k == "required") {
    r.kind_ = Kind::kRequired;
  } else if (k == "type") {
    r.kind_ = Kind::kType;
    r.type_ = spec.type;
    if (IsStringLike(spec.type)) {
      return Status::InvalidArgument("type must be int, decimal, date, timestamp or bool");
    }
  } else if (k == "max_length") {
    r.kind_ = Kind::kMaxLength;
    int64_t n = spec.max_length > 0 ? spec.max_length : mf->max_length.value_or(0);
    if (n <= 0) return Status::InvalidArgument("max_length must be a positive number");
    r.max_length_ = static_cast<size_t>(n);
  } else if (k == "regex") {
    r.kind_ = Kind::kRegex;
    if (spec.pattern.empty()) return Status::InvalidArgument("regex rule without a pattern");
    SLUICE_ASSIGN_OR_RETURN(Pattern p, Pattern::Compile(spec.pattern));
    r.pattern_ = std::move(p);
  } else if (k == "picklist") {
    r.kind_ = Kind::kPicklist;
    r.allowed_ = spec.values.empty() ? mf->enum_values : spec.values;
    if (r.allowed_.empty()) {
      return Status::InvalidArgument("picklist without values, and " + mf->name +
                                     " is not an enum with values");
    }
    r.allowed_set_.insert(r.allowed_.begin(), r.allowed_.end());
  } else if (k == "range" || k == "date_range") {
    bool dates = k == "date_range";
    r.kind_ = dates ? Kind::kDateRange : Kind::kRange;
    bool ok_type = dates ? (mf->type == FieldType::kDate || mf->type == FieldType::kTimestamp)
                         : (mf->type == FieldType::kInt || mf->type == FieldType::kDecimal);
    if (!ok_type) {
      return Status::InvalidArgument(k + " needs " +
                                     (dates ? "a date or timestamp" : "an int or decimal") +
                                     " field; " + mf->name + " is " + FieldTypeName(mf->type));
    }
    if (!spec.min && !spec.max) return Status::InvalidArgument(k + " without min or max");
    // Bounds are canonical text of the field's type (dates: ISO days).
    FieldSpec bound_field = r.field_;
    if (dates) bound_field.type = FieldType::kDate;
    auto parse_bound = [&](const std::optional<std::string>& text, const char* which,
                           std::optional<int64_t>* out, std::string* out_text) -> Status {
      if (!text) return Status::Ok();
      Result<Value> v = ParseCanonical(bound_field, *text);
      if (!v.ok()) {
        return Status::InvalidArgument(std::string(which) + " '" + *text +
                                       "': " + v.status().message());
      }
      *out = v->i;
      *out_text = *FormatValue(bound_field, *v);
      return Status::Ok();
    };
    SLUICE_RETURN_IF_ERROR(parse_bound(spec.min, "min", &r.min_, &r.min_text_));
    SLUICE_RETURN_IF_ERROR(parse_bound(spec.max, "max", &r.max_, &r.max_text_));
    if (r.min_ && r.max_ && *r.min_ > *r.max_) {
      return Status::InvalidArgument("min " + r.min_text_ + " is above max " + r.max_text_);
    }
    if (dates && mf->type == FieldType::kTimestamp) {
      // Whole days: from the start of min to the end of max.
      if (r.min_) *r.min_ *= kMicrosPerDay;
      if (r.max_) *r.max_ = (*r.max_ + 1) * kMicrosPerDay - 1;
    }
  } else {
    return Status::InvalidArgument("unknown rule kind '" + k + "'");
  }
  return r;
}

std::string_view CompiledRule::Text(const Value& value, std::string* scratch) const {
  if (!IsIntegral(field_.type)) return value.s;
  *scratch = FormatValue(field_, value).value_or("");
  return *scratch;
}

bool CompiledRule::TypeMatches(std::string_view text) const {
  switch (type_) {
    case FieldType::kInt:
      return IsIntText(text);
    case FieldType::kDecimal:
      return IsDecimalText(text);
    case FieldType::kBool:
      return IsBoolText(text);
    case FieldType::kDate:
    case FieldType::kTimestamp:
      return ParseCanonical({"", type_, 0, 0}, text).ok();
    default:
      return true;
  }
}

bool CompiledRule::Check(const Value& value, std::string* scratch) const {
  if (value.is_null) return kind_ != Kind::kRequired;
  switch (kind_) {
    case Kind::kRequired:
      return IsIntegral(field_.type) || !value.s.empty();
    case Kind::kType:
      return TypeMatches(Text(value, scratch));
    case Kind::kMaxLength:
      return CodePoints(Text(value, scratch)) <= max_length_;
    case Kind::kRegex:
      return pattern_->Matches(Text(value, scratch));
    case Kind::kPicklist:
      return allowed_set_.find(Text(value, scratch)) != allowed_set_.end();
    case Kind::kRange:
    case Kind::kDateRange:
      return (!min_ || value.i >= *min_) && (!max_ || value.i <= *max_);
    case Kind::kUnique:
    case Kind::kExpression:
    case Kind::kReference:
      return true;  // record-level: checked by the validator
  }
  return true;
}

void CompiledRule::Describe(const Value& value, v1::Fate* fate) const {
  const std::string text = FormatValue(field_, value).value_or("");
  const std::string& f = field_.name;
  switch (kind_) {
    case Kind::kRequired:
      fate->set_reason("required field " + f + " is " + (value.is_null ? "missing" : "empty"));
      fate->set_suggestion(!fill_hint_.empty()
                               ? fill_hint_
                               : "fill " + f + " in the source, or give its mapping a default");
      break;
    case Kind::kType: {
      fate->set_reason("value '" + text + "' of " + f + " is not a valid " + FieldTypeName(type_));
      if (type_ == FieldType::kDate || type_ == FieldType::kTimestamp) {
        std::vector<std::string> formats = FormatsThatParse(text, type_);
        fate->set_suggestion(
            formats.empty() ? "no common " + std::string(FieldTypeName(type_)) + " format reads it"
                            : "reads as a " + std::string(FieldTypeName(type_)) + " with format " +
                                  Join(formats, 10) + " (give the mapping that format)");
      }
      break;
    }
    case Kind::kMaxLength:
      fate->set_reason("value '" + text + "' of " + f + " has " + std::to_string(CodePoints(text)) +
                       " characters, more than " + std::to_string(max_length_));
      fate->set_suggestion(std::string(TruncateCodePoints(text, max_length_)));
      break;
    case Kind::kRegex:
      fate->set_reason("value '" + text + "' of " + f + " does not match pattern '" +
                       pattern_->text() + "'");
      break;
    case Kind::kPicklist: {
      fate->set_reason("value '" + text + "' not in picklist " + name_);
      std::optional<std::string> near = NearestValue(text, allowed_);
      fate->set_suggestion(near ? "did you mean '" + *near + "'?"
                                : "allowed values: " + Join(allowed_, 10));
      break;
    }
    case Kind::kRange:
    case Kind::kDateRange: {
      bool low = min_ && value.i < *min_;
      bool dates = kind_ == Kind::kDateRange;
      const char* where = low ? (dates ? " is before the minimum " : " is below the minimum ")
                              : (dates ? " is after the maximum " : " is above the maximum ");
      fate->set_reason(std::string(dates ? "date " : "value ") + text + " of " + f + where +
                       (low ? min_text_ : max_text_));
      fate->set_suggestion(low ? min_text_ : max_text_);
      break;
    }
    case Kind::kUnique:
    case Kind::kExpression:
    case Kind::kReference:
      break;  // described by the validator, which knows the record
  }
}

}  // namespace sluice
