#include "transformer/field_cast.h"

#include <utility>

#include "common/datetime.h"

namespace sluice {
namespace {

const std::vector<std::string> kIsoDate{"%Y-%m-%d"};
const std::vector<std::string> kIsoTimestamp{"%Y-%m-%dT%H:%M:%S"};

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// `lower` is already lower case.
bool EqualsIgnoreCase(std::string_view text, const std::string& lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (Lower(text[i]) != lower[i]) return false;
  }
  return true;
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string TypeText(FieldType type, int precision, int scale) {
  if (type == FieldType::kDecimal && precision > 0) {
    return "decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
  }
  return FieldTypeName(type);
}

}  // namespace

std::string_view TrimBlanks(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && (text[b] == ' ' || text[b] == '\t')) ++b;
  while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t')) --e;
  return text.substr(b, e - b);
}

Result<int64_t> ParseStrictInt(std::string_view text) {
  size_t i = 0;
  bool neg = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    neg = text[0] == '-';
    i = 1;
  }
  if (i == text.size()) return Status::InvalidArgument("not an integer");
  // Accumulate negatively so that INT64_MIN parses too.
  int64_t v = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return Status::InvalidArgument("not an integer");
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, c - '0', &v)) {
      return Status::InvalidArgument("integer out of range");
    }
  }
  if (neg) return v;
  if (v == INT64_MIN) return Status::InvalidArgument("integer out of range");
  return -v;
}

Result<FieldCaster> FieldCaster::Create(const ModelField& field, const FieldMapping& mapping,
                                        const std::string& source) {
  FieldCaster c;
  c.field_name_ = field.name;
  c.source_ = source;
  c.yaml_path_ = mapping.yaml_path;
  c.type_ = field.type;
  c.precision_ = field.precision;
  c.scale_ = field.scale;
  if (field.type == FieldType::kDecimal && field.precision > 0 && field.precision <= 18) {
    c.decimal_limit_ = 1;
    for (int k = 0; k < field.precision; ++k) c.decimal_limit_ *= 10;
  }
  c.trim_ = mapping.trim;
  c.formats_ = mapping.formats;
  if (c.formats_.empty() && field.type == FieldType::kDate) c.formats_ = kIsoDate;
  if (c.formats_.empty() && field.type == FieldType::kTimestamp) c.formats_ = kIsoTimestamp;
  for (const auto& t : mapping.true_values) c.true_values_.push_back(LowerCopy(t));
  for (const auto& f : mapping.false_values) c.false_values_.push_back(LowerCopy(f));
  c.decimal_point_ = mapping.decimal_point;
  c.group_separator_ = mapping.group_separator;

  CastFailure failure;
  if (mapping.default_value) {
    // The default is model-side: it skips the value map but is cast with the
    // mapping's formats and separators, like a source value.
    if (!c.Cast(*mapping.default_value, &c.default_, &failure)) {
      return Status::InvalidArgument(mapping.yaml_path + ".default: " + failure.reason);
    }
  }
  c.has_value_map_ = mapping.has_value_map;
  for (const auto& [from, to] : mapping.value_map) {
    Value v = c.default_;  // an empty output means "no value": default or NULL
    if (!to.empty() && !c.Cast(to, &v, &failure)) {
      return Status::InvalidArgument(mapping.yaml_path + ".map." + from + ": " + failure.reason);
    }
    c.value_map_.emplace(from, std::move(v));
  }
  return c;
}

bool FieldCaster::Apply(bool null, std::string_view text, Value* out, std::string_view* evaluated,
                        CastFailure* failure) const {
  if (null) {
    *out = default_;
    return true;
  }
  std::string_view t = trim_ ? TrimBlanks(text) : text;
  *evaluated = t;
  if (t.empty()) {
    *out = default_;
    return true;
  }
  if (has_value_map_) {
    auto it = value_map_.find(t);
    if (it == value_map_.end()) {
      failure->rule = "value_map";
      failure->reason = "unmapped value '" + std::string(t) + "' in map of " + field_name_ +
                        " (source " + source_ + ")";
      failure->suggestion = "add '" + std::string(t) + "' to " + yaml_path_ + ".map";
      return false;
    }
    *out = it->second;
    return true;
  }
  return Cast(t, out, failure);
}

bool FieldCaster::Cast(std::string_view text, Value* out, CastFailure* failure) const {
  failure->rule = "cast";
  switch (type_) {
    case FieldType::kString:
    case FieldType::kEnum:
    case FieldType::kReference:
      out->is_null = false;
      out->i = 0;
      out->s.assign(text.data(), text.size());
      return true;
    case FieldType::kInt: {
      Result<int64_t> v = ParseStrictInt(text);
      if (!v.ok()) {
        failure->reason =
            "cannot parse '" + std::string(text) + "' as int: " + v.status().message();
        failure->suggestion = "fix the source value: a whole number is expected";
        return false;
      }
      *out = Value::Int(*v);
      return true;
    }
    case FieldType::kDecimal:
      return CastDecimal(text, out, failure);
    case FieldType::kDate:
    case FieldType::kTimestamp: {
      Result<int64_t> v = type_ == FieldType::kDate ? ParseDateAny(text, formats_)
                                                    : ParseTimestampAny(text, formats_, "UTC");
      if (!v.ok()) {
        failure->reason = v.status().message();
        failure->suggestion =
            "fix the source value or add its format to " + yaml_path_ + ".formats";
        return false;
      }
      *out = Value::Int(*v);
      return true;
    }
    case FieldType::kBool:
      return CastBool(text, out, failure);
  }
  failure->reason = "unsupported field type";
  return false;
}

bool FieldCaster::CastDecimal(std::string_view text, Value* out, CastFailure* failure) const {
  Result<int64_t> v = ParseDecimalUnits(text, scale_, decimal_point_, group_separator_);
  std::string problem;
  if (!v.ok()) {
    problem = v.status().message();
  } else if (decimal_limit_ != 0 && (*v >= decimal_limit_ || *v <= -decimal_limit_)) {
    problem =
        "more than " + std::to_string(precision_ - scale_) + " digits before the decimal point";
  }
  if (!problem.empty()) {
    failure->reason = "cannot parse '" + std::string(text) + "' as " +
                      TypeText(type_, precision_, scale_) + ": " + problem;
    failure->suggestion =
        std::string("fix the source value (decimal point '") + decimal_point_ + "'" +
        (group_separator_ ? std::string(", group separator '") + group_separator_ + "'"
                          : std::string()) +
        ") or the model's precision and scale";
    return false;
  }
  *out = Value::Int(*v);
  return true;
}

bool FieldCaster::CastBool(std::string_view text, Value* out, CastFailure* failure) const {
  for (const auto& t : true_values_) {
    if (EqualsIgnoreCase(text, t)) {
      *out = Value::Int(1);
      return true;
    }
  }
  for (const auto& f : false_values_) {
    if (EqualsIgnoreCase(text, f)) {
      *out = Value::Int(0);
      return true;
    }
  }
  failure->reason = "cannot parse '" + std::string(text) + "' as bool: not one of " +
                    Join(true_values_, "/") + " or " + Join(false_values_, "/");
  failure->suggestion =
      "add '" + std::string(text) + "' to " + yaml_path_ + ".true_values or .false_values";
  return false;
}

}  // namespace sluice
