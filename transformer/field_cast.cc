#include "transformer/field_cast.h"

#include <unicode/dcfmtsym.h>
#include <unicode/locid.h>

#include <filesystem>
#include <utility>

#include "common/core/datetime.h"
#include "transformer/reference_data.h"

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
  if (!mapping.locale.empty()) {
    Status st = c.ApplyLocale(mapping.locale);
    if (!st.ok()) return Status::InvalidArgument(mapping.yaml_path + ".locale: " + st.message());
  }
  if (!mapping.timezone.empty()) c.timezone_ = mapping.timezone;
  c.ambiguous_first_ = mapping.ambiguous_first;

  CastFailure failure;
  if (mapping.default_value) {
    // The default is model-side: it skips the value map but is cast with the
    // mapping's formats and separators, like a source value.
    if (!c.Cast(*mapping.default_value, &c.default_, &failure)) {
      return Status::InvalidArgument(mapping.yaml_path + ".default: " + failure.reason);
    }
    c.has_default_ = true;
    c.empty_ = c.default_;
  } else if (mapping.null_policy == "empty") {
    c.default_ = c.empty_ = Value::Str("");
  } else if (mapping.null_policy == "keep") {
    c.empty_ = Value::Str("");
  }
  c.has_value_map_ = mapping.has_value_map || !mapping.map_file.empty();
  c.map_name_ = "map of " + field.name;
  auto add_entry = [&](const std::string& from, const std::string& to,
                       const std::string& at) -> Status {
    Value v = c.default_;  // an empty output means "no value": default or NULL
    if (!to.empty() && !c.Cast(to, &v, &failure)) {
      return Status::InvalidArgument(at + ": " + failure.reason);
    }
    c.value_map_.emplace(from, std::move(v));  // the first entry wins: inline before file
    return Status::Ok();
  };
  for (const auto& [from, to] : mapping.value_map) {
    SLUICE_RETURN_IF_ERROR(add_entry(from, to, mapping.yaml_path + ".map." + from));
  }
  if (!mapping.map_file.empty()) {
    const std::string at = mapping.yaml_path + ".map_file";
    SLUICE_ASSIGN_OR_RETURN(auto entries, LoadValueMapFile(mapping.map_file, at));
    for (const auto& [from, to] : entries) {
      SLUICE_RETURN_IF_ERROR(add_entry(from, to, at + " '" + from + "'"));
    }
    c.map_name_ += " (" + std::filesystem::path(mapping.map_file).filename().string() + ")";
  }
  return c;
}

Status FieldCaster::ApplyLocale(const std::string& locale) {
  icu::Locale loc = icu::Locale::createFromName(locale.c_str());
  int32_t count = 0;
  const icu::Locale* known = icu::Locale::getAvailableLocales(count);
  bool found = false;
  for (int32_t i = 0; i < count && !found; ++i) found = loc == known[i];
  if (loc.isBogus() || !found) return Status::InvalidArgument("unknown locale '" + locale + "'");
  UErrorCode st = U_ZERO_ERROR;
  icu::DecimalFormatSymbols symbols(loc, st);
  if (U_FAILURE(st)) return Status::InvalidArgument("no number symbols for '" + locale + "'");
  std::string point, group;
  symbols.getSymbol(icu::DecimalFormatSymbols::kDecimalSeparatorSymbol).toUTF8String(point);
  symbols.getSymbol(icu::DecimalFormatSymbols::kGroupingSeparatorSymbol).toUTF8String(group);
  if (point.size() != 1) {
    return Status::InvalidArgument("decimal separator '" + point + "' of '" + locale +
                                   "' is not one character; use decimal_point");
  }
  decimal_point_ = point[0];
  if (group == "\u00a0" || group == "\u202f") {  // fr_FR and others: a no-break space
    group_separator_ = ' ';
    nbsp_groups_ = true;
  } else if (group.size() == 1) {
    group_separator_ = group[0];
  } else {
    return Status::InvalidArgument("group separator '" + group + "' of '" + locale +
                                   "' is not one character; use group_separator");
  }
  return Status::Ok();
}

bool FieldCaster::Apply(bool null, std::string_view text, Value* out, std::string_view* evaluated,
                        CastFailure* failure, const char** rule) const {
  const char* unused = nullptr;
  if (rule == nullptr) rule = &unused;
  *rule = nullptr;
  if (null) {
    *out = default_;
    if (!default_.is_null) *rule = has_default_ ? "default" : "null_policy";
    return true;
  }
  std::string_view t = trim_ ? TrimBlanks(text) : text;
  *evaluated = t;
  if (t.empty()) {
    *out = empty_;
    // "" to NULL (or kept) is the same "no value", not recorded.
    if (has_default_) *rule = "default";
    return true;
  }
  if (has_value_map_) {
    auto it = value_map_.find(t);
    if (it == value_map_.end()) {
      failure->rule = "value_map";
      failure->reason =
          "unmapped value '" + std::string(t) + "' in " + map_name_ + " (source " + source_ + ")";
      failure->suggestion = "add '" + std::string(t) + "' to " + yaml_path_ +
                            (map_name_.back() == ')' ? ".map_file" : ".map");
      return false;
    }
    *out = it->second;
    if (out->is_null || IsIntegral(type_) || out->s != t) *rule = "map";
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
      if (formats_.size() > 1 && !ambiguous_first_) return CastDate(text, out, failure);
      Result<int64_t> v = type_ == FieldType::kDate ? ParseDateAny(text, formats_)
                                                    : ParseTimestampAny(text, formats_, timezone_);
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

// Several formats: every one is tried, and two that read the same text as
// different instants make the value ambiguous (03/04/2020 with %d/%m/%Y and
// %m/%d/%Y), which a migration must not decide silently.
bool FieldCaster::CastDate(std::string_view text, Value* out, CastFailure* failure) const {
  const bool date = type_ == FieldType::kDate;
  std::optional<int64_t> first;
  size_t first_format = 0;
  for (size_t i = 0; i < formats_.size(); ++i) {
    Result<int64_t> v =
        date ? ParseDate(text, formats_[i]) : ParseTimestamp(text, formats_[i], timezone_);
    if (!v.ok()) continue;
    if (!first) {
      first = *v;
      first_format = i;
      continue;
    }
    if (*v == *first) continue;
    FieldSpec spec{field_name_, type_, 0, 0};
    failure->rule = "ambiguous_date";
    failure->reason = "ambiguous " + std::string(FieldTypeName(type_)) + " '" + std::string(text) +
                      "': " + FormatValue(spec, Value::Int(*first)).value_or("") + " with " +
                      formats_[first_format] + ", " +
                      FormatValue(spec, Value::Int(*v)).value_or("") + " with " + formats_[i];
    failure->suggestion = "fix the source value, or set " + yaml_path_ +
                          ".ambiguous: first to prefer " + formats_[first_format];
    return false;
  }
  if (first) {
    *out = Value::Int(*first);
    return true;
  }
  Result<int64_t> v =
      date ? ParseDateAny(text, formats_) : ParseTimestampAny(text, formats_, timezone_);
  failure->rule = "cast";
  failure->reason = v.status().message();
  failure->suggestion = "fix the source value or add its format to " + yaml_path_ + ".formats";
  return false;
}

bool FieldCaster::CastDecimal(std::string_view text, Value* out, CastFailure* failure) const {
  std::string spaced;
  if (nbsp_groups_ && (text.find('\xc2') != std::string_view::npos ||
                       text.find('\xe2') != std::string_view::npos)) {
    // "1 234,56" written with no-break spaces, as fr_FR does.
    spaced.assign(text.data(), text.size());
    for (const char* nbsp : {"\u00a0", "\u202f"}) {
      for (size_t at; (at = spaced.find(nbsp)) != std::string::npos;) {
        spaced.replace(at, std::string_view(nbsp).size(), " ");
      }
    }
    text = spaced;
  }
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
