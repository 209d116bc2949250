// The parser of validation expressions: text to syntax tree, every mistake
// with its position in the text.
//
// Parsing is linear in the text: `and` and `or` chains become one node with
// many operands (not a chain of nodes as deep as the expression is long, which
// the evaluator and the destructor would walk recursively), positions are
// counted once, and nesting is bounded (common/core/limits.h).
#include <cmath>
#include <cstdlib>

#include "common/core/limits.h"
#include "common/plan/expression.h"
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
using NodePtr = std::shared_ptr<Node>;

struct Token {
  enum Kind { kEnd, kIdent, kNumber, kString, kSymbol } kind = kEnd;
  std::string text;  // identifier (as written), number text, string value, symbol
  size_t pos = 0;    // byte offset
};

class Parser {
 public:
  Parser(std::string_view text, const Entity& entity) : text_(text), entity_(entity) {}

  Result<NodePtr> Parse(std::vector<int>* fields) {
    fields_ = fields;
    if (text_.size() > limits::kMaxExpressionBytes) {
      return Error(0, "the expression is too long: " + std::to_string(text_.size()) +
                          " bytes (at most " + std::to_string(limits::kMaxExpressionBytes) + ")");
    }
    Status st = Lex();
    if (!st.ok()) return st;
    if (tokens_.size() == 1) return Error(0, "the expression is empty");
    NodePtr root = ParseOr();
    if (!error_.empty()) return Status::InvalidArgument(error_);
    if (Peek().kind != Token::kEnd) {
      return Error(Peek().pos,
                   "unexpected '" + Peek().text + "'" +
                       (Peek().kind == Token::kIdent ? " (missing 'and' or 'or'?)" : ""));
    }
    if (root->type != Type::kBool) {
      return Error(0, std::string("the expression must be a condition (true or false), not ") +
                          TypeName(root->type));
    }
    return root;
  }

 private:
  // "position N" counts characters (UTF-8 code points) from 1. The count of
  // every byte is made once, on the first call.
  size_t Column(size_t byte) const {
    if (columns_.empty()) {
      columns_.reserve(text_.size() + 1);
      size_t col = 1;
      for (size_t i = 0; i < text_.size(); ++i) {
        columns_.push_back(static_cast<uint32_t>(col));
        if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++col;
      }
      columns_.push_back(static_cast<uint32_t>(col));
    }
    return columns_[std::min(byte, text_.size())];
  }
  // Counts one level of nesting (parenthesis, `not`, function call) while in
  // scope; `ok()` turns false past kMaxExpressionDepth, after reporting it.
  class Nesting {
   public:
    Nesting(Parser* p, size_t pos) : p_(p) {
      ok_ = ++p_->depth_ <= limits::kMaxExpressionDepth;
      if (!ok_) {
        p_->Fail(pos, "nested deeper than " + std::to_string(limits::kMaxExpressionDepth) +
                          " levels (parentheses, 'not' and functions)");
      }
    }
    ~Nesting() { --p_->depth_; }
    bool ok() const { return ok_; }

   private:
    Parser* p_;
    bool ok_;
  };
  Status Error(size_t byte, const std::string& message) const {
    return Status::InvalidArgument("position " + std::to_string(Column(byte)) + ": " + message);
  }
  // Records the first error; parsing unwinds with placeholder nodes.
  NodePtr Fail(size_t byte, const std::string& message) {
    if (error_.empty()) error_ = Error(byte, message).message();
    auto n = std::make_shared<Node>();
    n->type = Type::kBool;
    return n;
  }

  Status Lex() {
    size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
        continue;
      }
      Token t;
      t.pos = i;
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '_')) {
          ++j;
        }
        t.kind = Token::kIdent;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '.' && i + 1 < text_.size() &&
                  std::isdigit(static_cast<unsigned char>(text_[i + 1])))) {
        size_t j = i;
        bool point = false;
        while (j < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[j])) ||
                                    (text_[j] == '.' && !point))) {
          point = point || text_[j] == '.';
          ++j;
        }
        t.kind = Token::kNumber;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else if (c == '\'' || c == '"') {
        size_t j = i + 1;
        std::string value;
        for (;;) {
          if (j >= text_.size())
            return Error(i, "text started here is not closed with " + std::string(1, c));
          if (text_[j] == c) {
            if (j + 1 < text_.size() && text_[j + 1] == c) {  // '' is a quote
              value.push_back(c);
              j += 2;
              continue;
            }
            break;
          }
          value.push_back(text_[j++]);
        }
        t.kind = Token::kString;
        t.text = std::move(value);
        i = j + 1;
      } else {
        static const char* const kSymbols[] = {"==", "!=", "<>", "<=", ">=", "(",
                                               ")",  ",",  "=",  "<",  ">"};
        bool found = false;
        for (const char* sym : kSymbols) {
          std::string_view s(sym);
          if (text_.substr(i, s.size()) == s) {
            t.kind = Token::kSymbol;
            t.text = std::string(s);
            i += s.size();
            found = true;
            break;
          }
        }
        if (!found) {
          std::string what(1, c);
          if (c == '&' || c == '|') what += " (write 'and' / 'or')";
          if (c == '!') what += " (write 'not' or '!=')";
          return Error(i, "unexpected character '" + what + "'");
        }
      }
      tokens_.push_back(std::move(t));
    }
    Token end;
    end.pos = text_.size();
    tokens_.push_back(end);
    return Status::Ok();
  }

  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
  }
  const Token& Take() {
    const Token& t = tokens_[next_];
    if (next_ + 1 < tokens_.size()) ++next_;
    return t;
  }
  static bool IsWord(const Token& t, std::string_view word) {
    if (t.kind != Token::kIdent || t.text.size() != word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (Lower(t.text[i]) != word[i]) return false;
    }
    return true;
  }
  bool IsSymbol(const Token& t, std::string_view s) const {
    return t.kind == Token::kSymbol && t.text == s;
  }
  static std::string Describe(const Token& t) {
    if (t.kind == Token::kEnd) return "the end of the expression";
    if (t.kind == Token::kString) return "'" + t.text + "'";
    return "'" + t.text + "'";
  }

  NodePtr Binary(Node::Kind kind, NodePtr a, NodePtr b) {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->type = Type::kBool;
    n->kids = {std::move(a), std::move(b)};
    return n;
  }

  // `context` names what needs the condition ("'not'"); an operand left of
  // an operator is named with the operator's position (`op_pos`), computed
  // only when the message is.
  NodePtr RequireBool(NodePtr n, size_t pos, const char* context,
                      size_t op_pos = std::string::npos) {
    if (n->type != Type::kBool) {
      std::string what = context;
      if (op_pos != std::string::npos) what += " at position " + std::to_string(Column(op_pos));
      return Fail(pos, what + " needs a condition, not " + TypeName(n->type));
    }
    return n;
  }

  // operand (word operand)*, as one node of `kind` with every operand.
  template <typename ParseOperand>
  NodePtr ParseChain(const char* word, const char* quoted, Node::Kind kind,
                     ParseOperand parse_operand) {
    size_t pos = Peek().pos;
    NodePtr first = parse_operand();
    if (!IsWord(Peek(), word)) return first;
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->type = Type::kBool;
    n->kids.push_back(RequireBool(std::move(first), pos, quoted, Peek().pos));
    while (IsWord(Peek(), word)) {
      Take();
      size_t rpos = Peek().pos;
      n->kids.push_back(RequireBool(parse_operand(), rpos, quoted));
    }
    return n;
  }

  NodePtr ParseOr() {
    return ParseChain("or", "'or'", Node::Kind::kOr, [this] { return ParseAnd(); });
  }

  NodePtr ParseAnd() {
    return ParseChain("and", "'and'", Node::Kind::kAnd, [this] { return ParseNot(); });
  }

  NodePtr ParseNot() {
    if (IsWord(Peek(), "not")) {
      Nesting nesting(this, Take().pos);
      if (!nesting.ok()) return Fail(0, "");
      size_t pos = Peek().pos;
      auto n = std::make_shared<Node>();
      n->kind = Node::Kind::kNot;
      n->type = Type::kBool;
      n->kids = {RequireBool(ParseNot(), pos, "'not'")};
      return n;
    }
    return ParseComparison();
  }

  // A text literal compared with a date or timestamp is read as one.
  NodePtr Coerce(NodePtr lit, Type to, size_t pos) {
    if (lit->kind != Node::Kind::kLiteral || lit->type != Type::kText ||
        (to != Type::kDate && to != Type::kTime)) {
      return lit;
    }
    FieldSpec spec{"", to == Type::kDate ? FieldType::kDate : FieldType::kTimestamp};
    Result<Value> v = ParseCanonical(spec, lit->literal.s);
    if (!v.ok() && to == Type::kTime) {  // a plain day also reads as its midnight
      Result<Value> d = ParseCanonical({"", FieldType::kDate}, lit->literal.s);
      if (d.ok()) v = Value::Int(d->i * int64_t{86400000000});
    }
    if (!v.ok()) {
      return Fail(pos, "'" + lit->literal.s + "' is not " + TypeName(to) +
                           (to == Type::kDate ? " (YYYY-MM-DD)" : " (YYYY-MM-DDTHH:MM:SSZ)"));
    }
    auto n = std::make_shared<Node>();
    n->type = to;
    n->literal.type = to;
    n->literal.i = v->i;
    return n;
  }

  static bool Comparable(Type a, Type b) {
    if (a == b) return true;
    return (a == Type::kDate || a == Type::kTime) && (b == Type::kDate || b == Type::kTime);
  }

  NodePtr ParseComparison() {
    size_t lpos = Peek().pos;
    NodePtr left = ParseValue();
    const Token& t = Peek();
    if (IsWord(t, "is")) {
      Take();
      bool negate = false;
      if (IsWord(Peek(), "not")) {
        Take();
        negate = true;
      }
      if (!IsWord(Peek(), "null")) {
        return Fail(Peek().pos, "expected 'null' after 'is" + std::string(negate ? " not" : "") +
                                    "', found " + Describe(Peek()));
      }
      Take();
      auto n = std::make_shared<Node>();
      n->kind = Node::Kind::kIsNull;
      n->type = Type::kBool;
      n->negate = negate;
      n->kids = {left};
      return n;
    }
    bool not_in = IsWord(t, "not") && IsWord(Peek(1), "in");
    if (IsWord(t, "in") || not_in) {
      if (not_in) Take();
      Take();
      if (!IsSymbol(Peek(), "(")) {
        return Fail(Peek().pos, "expected '(' after 'in', found " + Describe(Peek()));
      }
      Take();
      auto n = std::make_shared<Node>();
      n->kind = Node::Kind::kIn;
      n->type = Type::kBool;
      n->negate = not_in;
      n->kids = {left};
      for (;;) {
        size_t pos = Peek().pos;
        NodePtr item = Coerce(ParseValue(), left->type, pos);
        if (item->type == Type::kNull) return Fail(pos, "null cannot be in a list; use 'is null'");
        if (!Comparable(left->type, item->type)) {
          return Fail(pos, std::string("cannot compare ") + TypeName(left->type) + " with " +
                               TypeName(item->type));
        }
        n->kids.push_back(item);
        if (IsSymbol(Peek(), ",")) {
          Take();
          continue;
        }
        if (IsSymbol(Peek(), ")")) {
          Take();
          break;
        }
        return Fail(Peek().pos, "expected ',' or ')' in the list, found " + Describe(Peek()));
      }
      return n;
    }
    static const std::pair<const char*, Op> kOps[] = {
        {"=", Op::kEq}, {"==", Op::kEq}, {"!=", Op::kNe}, {"<>", Op::kNe},
        {"<", Op::kLt}, {"<=", Op::kLe}, {">", Op::kGt},  {">=", Op::kGe}};
    for (const auto& [sym, op] : kOps) {
      if (!IsSymbol(t, sym)) continue;
      size_t op_pos = Take().pos;
      size_t rpos = Peek().pos;
      NodePtr right = ParseValue();
      if (left->type == Type::kNull || right->type == Type::kNull) {
        return Fail(left->type == Type::kNull ? lpos : rpos,
                    "a comparison with null is never true; use 'is null' or 'is not null'");
      }
      left = Coerce(left, right->type, lpos);
      right = Coerce(right, left->type, rpos);
      if (!Comparable(left->type, right->type)) {
        return Fail(op_pos, std::string("cannot compare ") + TypeName(left->type) + " with " +
                                TypeName(right->type));
      }
      if (left->type == Type::kBool && op != Op::kEq && op != Op::kNe) {
        return Fail(op_pos, "conditions compare only with = and !=");
      }
      auto n = Binary(Node::Kind::kCmp, left, right);
      n->op = op;
      return n;
    }
    return left;
  }

  NodePtr ParseValue() {
    const Token t = Take();
    auto n = std::make_shared<Node>();
    switch (t.kind) {
      case Token::kEnd:
        return Fail(t.pos, "expected a value, found the end of the expression");
      case Token::kNumber: {
        n->type = Type::kNum;
        n->literal.type = Type::kNum;
        n->literal.n = std::strtold(t.text.c_str(), nullptr);
        return n;
      }
      case Token::kString:
        n->type = Type::kText;
        n->literal.type = Type::kText;
        n->literal.s = t.text;
        return n;
      case Token::kSymbol:
        if (t.text == "(") {
          Nesting nesting(this, t.pos);
          if (!nesting.ok()) return Fail(0, "");
          NodePtr inner = ParseOr();
          if (!IsSymbol(Peek(), ")")) {
            return Fail(Peek().pos, "expected ')' to close the '(' at position " +
                                        std::to_string(Column(t.pos)) + ", found " +
                                        Describe(Peek()));
          }
          Take();
          return inner;
        }
        return Fail(t.pos, "expected a value, found '" + t.text + "'");
      case Token::kIdent:
        break;
    }
    if (IsWord(t, "true") || IsWord(t, "false")) {
      n->type = Type::kBool;
      n->literal.type = Type::kBool;
      n->literal.b = IsWord(t, "true");
      return n;
    }
    if (IsWord(t, "null")) {
      n->type = Type::kNull;
      return n;
    }
    for (const char* word : {"and", "or", "not", "in", "is"}) {
      if (IsWord(t, word)) return Fail(t.pos, "expected a value, found '" + t.text + "'");
    }
    if (IsSymbol(Peek(), "(")) return ParseCall(t);
    const ModelField* f = entity_.Find(t.text);
    if (f == nullptr) {
      return Fail(t.pos, "entity " + entity_.name + " has no field '" + t.text + "'");
    }
    n->kind = Node::Kind::kField;
    n->field = static_cast<int>(f - entity_.fields.data());
    n->spec = {f->name, f->type, f->precision, f->scale};
    switch (f->type) {
      case FieldType::kInt:
      case FieldType::kDecimal:
        n->type = Type::kNum;
        break;
      case FieldType::kDate:
        n->type = Type::kDate;
        break;
      case FieldType::kTimestamp:
        n->type = Type::kTime;
        break;
      case FieldType::kBool:
        n->type = Type::kBool;
        break;
      default:
        n->type = Type::kText;
    }
    bool seen = false;
    for (int i : *fields_) seen = seen || i == n->field;
    if (!seen) fields_->push_back(n->field);
    return n;
  }

  NodePtr ParseCall(const Token& name) {
    Nesting nesting(this, Take().pos);  // (
    if (!nesting.ok()) return Fail(0, "");
    static const std::pair<const char*, Node::Kind> kFunctions[] = {{"len", Node::Kind::kLen},
                                                                    {"lower", Node::Kind::kLower},
                                                                    {"upper", Node::Kind::kUpper},
                                                                    {"trim", Node::Kind::kTrim},
                                                                    {"today", Node::Kind::kToday}};
    auto n = std::make_shared<Node>();
    bool known = false;
    for (const auto& [fn, kind] : kFunctions) {
      if (IsWord(name, fn)) {
        n->kind = kind;
        known = true;
      }
    }
    if (!known) {
      return Fail(name.pos,
                  "unknown function '" + name.text + "' (len, lower, upper, trim, today)");
    }
    if (n->kind == Node::Kind::kToday) {
      if (!IsSymbol(Peek(), ")")) return Fail(Peek().pos, "today() takes no argument");
      Take();
      n->type = Type::kDate;
      return n;
    }
    size_t pos = Peek().pos;
    NodePtr arg = ParseValue();
    if (!IsSymbol(Peek(), ")")) {
      return Fail(Peek().pos, "expected ')' after the argument of " + name.text + ", found " +
                                  Describe(Peek()));
    }
    Take();
    if (arg->type != Type::kText) {
      return Fail(pos, name.text + "() takes text, not " + TypeName(arg->type));
    }
    n->type = n->kind == Node::Kind::kLen ? Type::kNum : Type::kText;
    n->kids = {arg};
    return n;
  }

  std::string_view text_;
  const Entity& entity_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
  int depth_ = 0;  // nesting levels open (Nesting)
  std::string error_;
  mutable std::vector<uint32_t> columns_;  // Column() of every byte, once needed
  std::vector<int>* fields_ = nullptr;
};

}  // namespace

Result<Expression> Expression::Compile(std::string_view text, const Entity& entity) {
  Expression e;
  e.text_ = std::string(text);
  Parser parser(text, entity);
  SLUICE_ASSIGN_OR_RETURN(NodePtr root, parser.Parse(&e.fields_));
  e.root_ = std::move(root);
  return e;
}

}  // namespace sluice
