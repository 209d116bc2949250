// One model field filled from one source column: trim, default, value map and
// cast, compiled once per mapping and applied per value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/core/status.h"
#include "common/core/value.h"
#include "common/plan/plan.h"

namespace sluice {

// Why a source value could not be mapped.
struct CastFailure {
  const char* rule = "";   // "value_map", "cast", "ambiguous_date", ...
  std::string reason;      // "cannot parse 'x' as int: not an integer"
  std::string suggestion;  // how to resolve it, or empty
};

// Compiled form of one FieldMapping for one model field. Immutable after
// Create, so one instance may serve several threads.
class FieldCaster {
 public:
  // Compiles `mapping` for `field`. The default value and every value-map
  // output are cast here, once: one that does not cast to the field's type is
  // a plan error ("<yaml_path>.default: cannot parse ...").
  static Result<FieldCaster> Create(const ModelField& field, const FieldMapping& mapping,
                                    const std::string& source);

  // Maps one source text (`null` when the source value is NULL) to `*out`.
  // Returns false and fills `*failure` when the value must be rejected;
  // `*evaluated` is then the (trimmed) text that failed.
  // `*rule` (when given) is set to the lineage rule of a step that replaced
  // the value ("map", "default", "null_policy"), or nullptr when the value
  // was only cast.
  bool Apply(bool null, std::string_view text, Value* out, std::string_view* evaluated,
             CastFailure* failure, const char** rule = nullptr) const;

  // Casts a model-side text (an enrichment value): no map, no default.
  bool CastModelValue(std::string_view text, Value* out, CastFailure* failure) const {
    return Cast(text, out, failure);
  }

  // The value used for NULL or empty source values: the cast default, or NULL.
  const Value& default_value() const { return default_; }

 private:
  // Heterogeneous lookup by string_view: no allocation per value.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using ValueMap = std::unordered_map<std::string, Value, TextHash, std::equal_to<>>;

  FieldCaster() = default;
  // Casts a trimmed, non-empty text by the field type.
  bool Cast(std::string_view text, Value* out, CastFailure* failure) const;
  bool CastBool(std::string_view text, Value* out, CastFailure* failure) const;
  bool CastDecimal(std::string_view text, Value* out, CastFailure* failure) const;
  bool CastDate(std::string_view text, Value* out, CastFailure* failure) const;
  // Sets the separators from ICU's data for `locale`.
  Status ApplyLocale(const std::string& locale);

  std::string field_name_;
  std::string source_;
  std::string yaml_path_;
  FieldType type_ = FieldType::kString;
  int precision_ = 0;
  int scale_ = 0;
  int64_t decimal_limit_ = 0;  // 10^precision, or 0 when unchecked
  bool trim_ = true;
  Value default_;
  bool has_default_ = false;
  Value empty_;           // the value of an empty (not NULL) text without default
  std::string map_name_;  // "map of specialty" or "map of specialty (maps/x.csv)"
  std::string timezone_ = "UTC";
  bool ambiguous_first_ = false;
  bool nbsp_groups_ = false;  // the locale groups digits with (narrow) no-break spaces
  bool has_value_map_ = false;
  ValueMap value_map_;
  std::vector<std::string> formats_;       // date/timestamp
  std::vector<std::string> true_values_;   // lower case
  std::vector<std::string> false_values_;  // lower case
  char decimal_point_ = '.';
  char group_separator_ = '\0';
};

// Strict integer text: optional sign, digits only, no spaces, no overflow.
Result<int64_t> ParseStrictInt(std::string_view text);

// `text` without leading and trailing spaces and tabs.
std::string_view TrimBlanks(std::string_view text);

}  // namespace sluice
