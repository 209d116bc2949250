#include "common/plan/expression.h"

#include <cmath>
#include <cstdlib>

#include "common/plan/expression_node.h"

namespace sluice {
namespace {

using expr::Lower;
using expr::Op;
using expr::Type;
using expr::TypeName;
using expr::Upper;
using expr::Val;
using Node = Expression::Node;

// ---- evaluation ----

struct Context {
  const std::vector<Value>& values;
  const std::vector<int>* index;
  int64_t today;
};

Truth ToTruth(const Val& v) {
  if (v.type == Type::kNull) return Truth::kUnknown;
  return v.b ? Truth::kTrue : Truth::kFalse;
}

Val FromTruth(Truth t) {
  Val v;
  if (t == Truth::kUnknown) return v;
  v.type = Type::kBool;
  v.b = t == Truth::kTrue;
  return v;
}

// -1, 0, 1; both non-NULL and comparable (checked when compiled).
int Compare(const Val& a, const Val& b) {
  switch (a.type) {
    case Type::kNum:
      return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
    case Type::kText:
      return a.s.compare(b.s) < 0 ? -1 : a.s == b.s ? 0 : 1;
    case Type::kBool:
      return a.b == b.b ? 0 : a.b ? 1 : -1;
    case Type::kDate:
    case Type::kTime: {
      constexpr int64_t kDay = int64_t{86400000000};
      int64_t x = a.type == Type::kDate && b.type == Type::kTime ? a.i * kDay : a.i;
      int64_t y = b.type == Type::kDate && a.type == Type::kTime ? b.i * kDay : b.i;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case Type::kNull:
      return 0;
  }
  return 0;
}

long double Pow10(int n) {
  long double p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

Val Eval(const Node& n, const Context& ctx) {
  using K = Node::Kind;
  switch (n.kind) {
    case K::kLiteral:
      return n.literal;
    case K::kField: {
      int idx = ctx.index ? (*ctx.index)[n.field] : n.field;
      Val v;
      if (idx < 0 || static_cast<size_t>(idx) >= ctx.values.size()) return v;
      const Value& raw = ctx.values[idx];
      if (raw.is_null) return v;
      v.type = n.type;
      switch (n.spec.type) {
        case FieldType::kInt:
          v.n = static_cast<long double>(raw.i);
          break;
        case FieldType::kDecimal:
          // Units / 10^scale is correctly rounded, like a literal's strtold,
          // so equal decimals compare equal.
          v.n = static_cast<long double>(raw.i) / Pow10(n.spec.scale);
          break;
        case FieldType::kBool:
          v.b = raw.i != 0;
          break;
        case FieldType::kDate:
        case FieldType::kTimestamp:
          v.i = raw.i;
          break;
        default:
          v.s = raw.s;
      }
      return v;
    }
    case K::kNot: {
      Truth t = ToTruth(Eval(*n.kids[0], ctx));
      return FromTruth(t == Truth::kUnknown ? t : t == Truth::kTrue ? Truth::kFalse : Truth::kTrue);
    }
    case K::kAnd:
    case K::kOr: {
      // Every operand, as SQL: one that decides (false for and, true for
      // or) decides; otherwise any unknown makes the result unknown.
      const Truth decides = n.kind == K::kAnd ? Truth::kFalse : Truth::kTrue;
      bool unknown = false;
      for (const auto& kid : n.kids) {
        Truth t = ToTruth(Eval(*kid, ctx));
        if (t == decides) return FromTruth(t);
        unknown = unknown || t == Truth::kUnknown;
      }
      if (unknown) return FromTruth(Truth::kUnknown);
      return FromTruth(n.kind == K::kAnd ? Truth::kTrue : Truth::kFalse);
    }
    case K::kCmp: {
      Val a = Eval(*n.kids[0], ctx);
      Val b = Eval(*n.kids[1], ctx);
      if (a.type == Type::kNull || b.type == Type::kNull) return Val();
      int c = Compare(a, b);
      bool r = false;
      switch (n.op) {
        case Op::kEq:
          r = c == 0;
          break;
        case Op::kNe:
          r = c != 0;
          break;
        case Op::kLt:
          r = c < 0;
          break;
        case Op::kLe:
          r = c <= 0;
          break;
        case Op::kGt:
          r = c > 0;
          break;
        case Op::kGe:
          r = c >= 0;
          break;
      }
      return FromTruth(r ? Truth::kTrue : Truth::kFalse);
    }
    case K::kIsNull: {
      bool null = Eval(*n.kids[0], ctx).type == Type::kNull;
      return FromTruth(null != n.negate ? Truth::kTrue : Truth::kFalse);
    }
    case K::kIn: {
      Val a = Eval(*n.kids[0], ctx);
      if (a.type == Type::kNull) return Val();
      bool found = false;
      for (size_t i = 1; i < n.kids.size() && !found; ++i) {
        Val b = Eval(*n.kids[i], ctx);
        found = b.type != Type::kNull && Compare(a, b) == 0;
      }
      return FromTruth(found != n.negate ? Truth::kTrue : Truth::kFalse);
    }
    case K::kLen: {
      Val a = Eval(*n.kids[0], ctx);
      if (a.type == Type::kNull) return a;
      Val v;
      v.type = Type::kNum;
      size_t cps = 0;
      for (char c : a.s) cps += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      v.n = static_cast<long double>(cps);
      return v;
    }
    case K::kLower:
    case K::kUpper: {
      Val a = Eval(*n.kids[0], ctx);
      for (char& c : a.s) c = n.kind == K::kLower ? Lower(c) : Upper(c);
      return a;
    }
    case K::kTrim: {
      Val a = Eval(*n.kids[0], ctx);
      size_t b = a.s.find_first_not_of(" \t");
      size_t e = a.s.find_last_not_of(" \t");
      a.s = b == std::string::npos ? "" : a.s.substr(b, e - b + 1);
      return a;
    }
    case K::kToday: {
      Val v;
      v.type = Type::kDate;
      v.i = ctx.today;
      return v;
    }
  }
  return Val();
}

}  // namespace

Truth Expression::Evaluate(const std::vector<Value>& values, const std::vector<int>* index,
                           int64_t today) const {
  Context ctx{values, index, today};
  return ToTruth(Eval(*root_, ctx));
}

}  // namespace sluice
