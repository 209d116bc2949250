// One validation rule, compiled once from its RuleSpec and checked per value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/pattern.h"
#include "common/plan.h"
#include "common/status.h"
#include "common/value.h"
#include "sluice/v1/control.pb.h"

namespace sluice {

// A compiled rule. Immutable after Create; Check may run on several threads.
class CompiledRule {
 public:
  // Compiles `spec` against `entity`. Errors carry no location: the caller
  // prefixes the rule's yaml path.
  static Result<CompiledRule> Create(const RuleSpec& spec, const Entity& entity);

  // True when `value` passes. NULL passes every kind but required. `scratch`
  // holds the text of typed values for the text-based kinds.
  bool Check(const Value& value, std::string* scratch) const;

  // For a value that failed Check: the fate's reason and suggestion.
  void Describe(const Value& value, v1::Fate* fate) const;

  const std::string& name() const { return name_; }
  const std::string& field() const { return field_.name; }
  const FieldSpec& field_spec() const { return field_; }
  v1::FateKind fate_kind() const { return fate_kind_; }

 private:
  enum class Kind { kRequired, kType, kMaxLength, kRegex, kPicklist, kRange, kDateRange };

  CompiledRule() = default;
  // The value as text: the string itself, or the canonical text of a typed
  // value written into `scratch`.
  std::string_view Text(const Value& value, std::string* scratch) const;
  bool TypeMatches(std::string_view text) const;

  std::string name_;
  Kind kind_ = Kind::kRequired;
  v1::FateKind fate_kind_ = v1::FATE_REJECTED;
  FieldSpec field_;
  FieldType type_ = FieldType::kString;  // type
  size_t max_length_ = 0;                // max_length
  std::optional<Pattern> pattern_;       // regex
  std::vector<std::string> allowed_;     // picklist, in plan order (for suggestions)
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string, TextHash, std::equal_to<>> allowed_set_;
  std::optional<int64_t> min_;  // range: units at the field's scale; date_range: days
  std::optional<int64_t> max_;  //   or microseconds (timestamp fields)
  std::string min_text_;        // the bounds as canonical text
  std::string max_text_;
};

}  // namespace sluice
