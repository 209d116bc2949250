// The syntax tree of a validation expression, shared by its parser
// (expression_parse.cc) and its evaluator (expression.cc). Internal to those
// two files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/plan/expression.h"

namespace sluice {
namespace expr {

enum class Type { kBool, kNum, kText, kDate, kTime, kNull };

inline const char* TypeName(Type t) {
  switch (t) {
    case Type::kBool:
      return "a condition (true/false)";
    case Type::kNum:
      return "a number";
    case Type::kText:
      return "text";
    case Type::kDate:
      return "a date";
    case Type::kTime:
      return "a timestamp";
    case Type::kNull:
      return "null";
  }
  return "?";
}

// A value while evaluating. Dates are days, timestamps microseconds.
struct Val {
  Type type = Type::kNull;  // kNull: NULL (unknown)
  bool b = false;
  long double n = 0;
  int64_t i = 0;
  std::string s;
};

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };

inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
inline char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

}  // namespace expr

struct Expression::Node {
  enum class Kind {
    kLiteral,
    kField,
    kNot,
    kAnd,
    kOr,
    kCmp,
    kIsNull,
    kIn,
    kLen,
    kLower,
    kUpper,
    kTrim,
    kToday
  };
  Kind kind = Kind::kLiteral;
  expr::Type type = expr::Type::kNull;
  expr::Val literal;            // kLiteral
  int field = -1;               // kField: index in the entity
  FieldSpec spec;               // kField
  expr::Op op = expr::Op::kEq;  // kCmp
  bool negate = false;          // kIsNull (is not null), kIn (not in)
  // Operands: kAnd and kOr have two or more, the others a fixed number.
  std::vector<std::shared_ptr<Node>> kids;
};

}  // namespace sluice
