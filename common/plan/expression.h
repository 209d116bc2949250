// The cross-field expression language of `expression` validation rules
// (docs/validation.md#expressions): comparisons, and, or, not, is [not] null,
// [not] in (...), and the functions len, lower, upper, trim and today.
//
//   created <= today()
//   account_type != 'HOSPITAL' or beds > 0
//   lower(country) in ('fr', 'de') and len(postcode) = 5
//
// Expressions are typed when compiled against an entity, so that a mistake
// (an unknown field, comparing text with a number) is found when the plan is
// checked, with its position. NULL follows SQL: a comparison with NULL is
// unknown, and a record fails the rule only when the expression is false.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/status.h"
#include "common/core/value.h"
#include "common/plan/plan.h"

namespace sluice {

enum class Truth { kFalse, kTrue, kUnknown };

class Expression {
 public:
  // Compiles `text` against the fields of `entity`. Fails with
  // "position N: <what is wrong>", N counting characters from 1.
  static Result<Expression> Compile(std::string_view text, const Entity& entity);

  // Evaluates over one record. `values` follow the entity's field order
  // unless `index` is given: then field i of the entity is values[index[i]]
  // (-1: absent, read as NULL). `today` is days since 1970-01-01.
  Truth Evaluate(const std::vector<Value>& values, const std::vector<int>* index,
                 int64_t today) const;

  // The entity fields the expression reads, in order of first mention.
  const std::vector<int>& fields() const { return fields_; }
  const std::string& text() const { return text_; }

  struct Node;  // the syntax tree, private to expression.cc

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;  // immutable, shared by copies
  std::vector<int> fields_;
};

}  // namespace sluice
