// One validation rule, compiled once from its RuleSpec and checked per value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/core/status.h"
#include "common/core/value.h"
#include "common/plan/expression.h"
#include "common/plan/pattern.h"
#include "common/plan/plan.h"
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

  // Record-level kinds, checked by the validator on the whole record:
  // unique (over `unique_fields`, entity field indexes) and expression.
  bool is_unique() const { return kind_ == Kind::kUnique; }
  bool is_expression() const { return kind_ == Kind::kExpression; }
  // `reference` is checked by the loader against the cross-reference; the
  // validator passes it.
  bool is_reference() const { return kind_ == Kind::kReference; }
  const std::vector<int>& unique_fields() const { return unique_fields_; }
  const Expression& expression() const { return *expression_; }
  const std::string& message() const { return message_; }
  // For required rules: how the field could be filled (an enrichment
  // dataset of the plan), used as the suggestion.
  void set_fill_hint(std::string hint) { fill_hint_ = std::move(hint); }

 private:
  enum class Kind {
    kRequired,
    kType,
    kMaxLength,
    kRegex,
    kPicklist,
    kRange,
    kDateRange,
    kUnique,
    kExpression,
    kReference
  };

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
  std::vector<int> unique_fields_;        // unique
  std::optional<Expression> expression_;  // expression
  std::string message_;                   // expression: reason on failure
  std::string fill_hint_;                 // required
};

}  // namespace sluice
