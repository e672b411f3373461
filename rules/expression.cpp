#include "rules/expression.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace tandem::rules {
namespace {

enum class Tok { kEnd, kNumber, kDuration, kString, kIdent, kOp, kLParen, kRParen, kLBracket, kRBracket, kComma };

struct Token {
  Tok kind = Tok::kEnd;
  int offset = 0;
  int length = 0;
  std::string text;  // identifier, operator or decoded string
  double value = 0;
};

class ExpressionParser {
 public:
  ExpressionParser(std::string_view text, ExpressionError& error) : src_(text), error_(error) {}

  bool run(Expr& out) {
    if (src_.size() > kMaxExpressionLength) {
      return fail(0, "the condition is too long (limit " + std::to_string(kMaxExpressionLength) +
                         " characters); split it into several rules");
    }
    if (!lex()) return false;
    if (tokens_.size() == 1) return fail(0, "the condition is empty");
    if (!parse_or(out, 0)) return false;
    if (peek().kind != Tok::kEnd) return fail(peek().offset, "unexpected '" + token_text(peek()) + "' " + hint());
    return true;
  }

 private:
  bool fail(int offset, std::string message) {
    if (!failed_) {
      error_.offset = offset;
      error_.message = std::move(message);
      failed_ = true;
    }
    return false;
  }

  std::string hint() const { return "(conditions are joined with 'and' / 'or'; text values need double quotes)"; }

  static bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
  static bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '.'; }

  bool lex() {
    std::size_t i = 0;
    while (i < src_.size()) {
      const char c = src_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
        continue;
      }
      Token t;
      t.offset = static_cast<int>(i);
      if (c >= '0' && c <= '9') {
        std::size_t j = i;
        while (j < src_.size() && ((src_[j] >= '0' && src_[j] <= '9') || src_[j] == '.' || src_[j] == '_')) ++j;
        std::string digits;
        for (std::size_t k = i; k < j; ++k)
          if (src_[k] != '_') digits += src_[k];
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), t.value);
        if (ec != std::errc{} || p != digits.data() + digits.size() || !std::isfinite(t.value))
          return fail(t.offset, "malformed number '" + std::string(src_.substr(i, j - i)) + "'");
        t.kind = Tok::kNumber;
        auto unit_ms = [](std::string_view unit) -> double {
          if (unit == "m" || unit == "min" || unit == "minute" || unit == "minutes") return 60'000.0;
          if (unit == "h" || unit == "hour" || unit == "hours") return 3'600'000.0;
          if (unit == "d" || unit == "day" || unit == "days") return 86'400'000.0;
          if (unit == "w" || unit == "week" || unit == "weeks") return 7 * 86'400'000.0;
          return 0;
        };
        std::size_t k = j;
        while (k < src_.size() && ident_char(src_[k])) ++k;
        if (k == j) {
          // "14 days", as in the rule files' within:, due: and cool_off:: a unit word after spaces.
          std::size_t w = j;
          while (w < src_.size() && src_[w] == ' ') ++w;
          std::size_t e = w;
          while (e < src_.size() && ident_char(src_[e])) ++e;
          if (w > j && e > w && unit_ms(src_.substr(w, e - w)) > 0 && src_.substr(w, e - w).size() > 1) {
            j = w;
            k = e;
          }
        }
        if (k > j) {
          const std::string_view unit = src_.substr(j, k - j);
          const double ms = unit_ms(unit);
          if (ms == 0)
            return fail(static_cast<int>(j), "unknown duration unit '" + std::string(unit) +
                                                 "' (use m, h, d or w, or minutes, hours, days, weeks: 30d or 30 days)");
          t.kind = Tok::kDuration;
          t.value *= ms;
          j = k;
        }
        t.length = static_cast<int>(j - i);
        i = j;
      } else if (c == '"' || c == '\'') {
        std::size_t j = i + 1;
        std::string value;
        bool closed = false;
        while (j < src_.size()) {
          if (src_[j] == '\\' && j + 1 < src_.size()) {
            value += src_[j + 1];
            j += 2;
            continue;
          }
          if (src_[j] == c) {
            closed = true;
            ++j;
            break;
          }
          value += src_[j++];
        }
        if (!closed) return fail(t.offset, "this text value has no closing quote");
        t.kind = Tok::kString;
        t.text = std::move(value);
        t.length = static_cast<int>(j - i);
        i = j;
      } else if (ident_start(c)) {
        std::size_t j = i;
        while (j < src_.size() && ident_char(src_[j])) ++j;
        t.kind = Tok::kIdent;
        t.text = std::string(src_.substr(i, j - i));
        t.length = static_cast<int>(j - i);
        i = j;
      } else {
        static constexpr std::string_view two[] = {"==", "!=", "<=", ">="};
        bool matched = false;
        for (auto op : two) {
          if (src_.substr(i, 2) == op) {
            t.kind = Tok::kOp;
            t.text = std::string(op);
            t.length = 2;
            matched = true;
          }
        }
        if (!matched) {
          t.length = 1;
          switch (c) {
            case '<':
            case '>':
            case '+':
            case '-':
              t.kind = Tok::kOp;
              t.text = std::string(1, c);
              break;
            case '=':
              t.kind = Tok::kOp;
              t.text = "==";
              break;
            case '(': t.kind = Tok::kLParen; break;
            case ')': t.kind = Tok::kRParen; break;
            case '[': t.kind = Tok::kLBracket; break;
            case ']': t.kind = Tok::kRBracket; break;
            case ',': t.kind = Tok::kComma; break;
            default: {
              // The whole character, not its first byte, so the message is readable text.
              std::size_t n = 1;
              while (i + n < src_.size() && n < 4 && (static_cast<unsigned char>(src_[i + n]) & 0xC0) == 0x80) ++n;
              const std::string ch(src_.substr(i, (static_cast<unsigned char>(c) & 0x80) ? n : 1));
              static constexpr std::string_view curly[] = {"\u201C", "\u201D", "\u2018", "\u2019", "\u00AB", "\u00BB"};
              for (auto q : curly)
                if (ch == q)
                  return fail(t.offset, "unexpected character '" + ch +
                                            "': write text values between straight quotes, \"like this\" or 'like this'");
              return fail(t.offset, "unexpected character '" + ch + "'");
            }
          }
        }
        i += static_cast<std::size_t>(t.length);
      }
      tokens_.push_back(std::move(t));
      if (tokens_.size() > static_cast<std::size_t>(kMaxExpressionNodes) * 2)
        return fail(t.offset, "the condition is too large (limit " + std::to_string(kMaxExpressionNodes) +
                                  " terms); split it into several rules");
    }
    Token end;
    // Just after the last character, so "ends too early" points at the line that ends early.
    std::size_t last = src_.size();
    while (last > 0 &&
           (src_[last - 1] == ' ' || src_[last - 1] == '\n' || src_[last - 1] == '\r' || src_[last - 1] == '\t'))
      --last;
    end.offset = static_cast<int>(last);
    tokens_.push_back(end);
    return true;
  }

  static std::string token_text(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd: return "end of condition";
      case Tok::kString: return "\"" + t.text + "\"";
      case Tok::kLParen: return "(";
      case Tok::kRParen: return ")";
      case Tok::kLBracket: return "[";
      case Tok::kRBracket: return "]";
      case Tok::kComma: return ",";
      case Tok::kNumber:
      case Tok::kDuration: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", t.value);
        return buf;
      }
      default: return t.text;
    }
  }

  const Token& peek(std::size_t ahead = 0) const {
    const std::size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  bool is_word(const Token& t, std::string_view w) const { return t.kind == Tok::kIdent && t.text == w; }
  bool accept_word(std::string_view w) {
    if (is_word(peek(), w)) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool expect_word(std::string_view w, std::string_view context) {
    if (accept_word(w)) return true;
    return fail(peek().offset,
                "expected '" + std::string(w) + "' " + std::string(context) + ", found '" + token_text(peek()) + "'");
  }

  bool enter(int depth) {
    if (depth > kMaxExpressionDepth)
      return fail(peek().offset,
                  "the condition is nested too deeply (limit " + std::to_string(kMaxExpressionDepth) + " levels)");
    if (++nodes_ > kMaxExpressionNodes)
      return fail(peek().offset, "the condition is too large (limit " + std::to_string(kMaxExpressionNodes) +
                                     " terms); split it into several rules");
    return true;
  }

  void finish(Expr& e, int start) {
    e.offset = start;
    const Token& last = tokens_[pos_ > 0 ? pos_ - 1 : 0];
    e.length = last.offset + last.length - start;
  }

  bool parse_or(Expr& out, int depth) {
    if (!enter(depth)) return false;
    const int start = peek().offset;
    Expr first;
    if (!parse_and(first, depth + 1)) return false;
    if (!is_word(peek(), "or")) {
      out = std::move(first);
      return true;
    }
    out = Expr{};
    out.kind = ExprKind::kOr;
    out.args.push_back(std::move(first));
    while (accept_word("or")) {
      if (or_missing_follows()) {
        if (!or_missing(out)) return false;
        continue;
      }
      Expr next;
      if (!parse_and(next, depth + 1)) return false;
      out.args.push_back(std::move(next));
    }
    finish(out, start);
    return true;
  }

  // "... or missing" / "... or is missing" at the end of an or-group.
  bool or_missing_follows() const {
    const std::size_t n = is_word(peek(), "is") ? 1 : 0;
    if (!is_word(peek(n), "missing")) return false;
    const Token& after = peek(n + 1);
    return after.kind == Tok::kEnd || after.kind == Tok::kRParen || is_word(after, "or") || is_word(after, "and");
  }

  // "numberofemployees > 10 or missing": the comparison, or its property is missing.
  bool or_missing(Expr& group) {
    const Expr& previous = group.args.back();
    const int at = peek().offset;
    accept_word("is");
    ++pos_;  // missing
    const bool on_property = previous.kind != ExprKind::kAnd && previous.kind != ExprKind::kOr &&
                             previous.kind != ExprKind::kNot && previous.kind != ExprKind::kMissing &&
                             previous.kind != ExprKind::kIdent && !previous.args.empty() &&
                             previous.args[0].kind == ExprKind::kIdent;
    if (!on_property || is_word(peek(), "and")) {
      return fail(at, "'or missing' follows a comparison on one property, e.g. numberofemployees > 10 or missing; "
                      "otherwise write it out: (... or numberofemployees is missing)");
    }
    Expr missing;
    missing.kind = ExprKind::kMissing;
    missing.offset = at;
    missing.length = peek().offset - at;
    missing.args.push_back(previous.args[0]);  // the same property (its diagnostics point at the comparison)
    group.args.push_back(std::move(missing));
    return true;
  }

  bool parse_and(Expr& out, int depth) {
    if (!enter(depth)) return false;
    const int start = peek().offset;
    Expr first;
    if (!parse_not(first, depth + 1)) return false;
    if (!is_word(peek(), "and")) {
      out = std::move(first);
      return true;
    }
    out = Expr{};
    out.kind = ExprKind::kAnd;
    out.args.push_back(std::move(first));
    while (accept_word("and")) {
      Expr next;
      if (!parse_not(next, depth + 1)) return false;
      out.args.push_back(std::move(next));
    }
    finish(out, start);
    return true;
  }

  bool parse_not(Expr& out, int depth) {
    if (!enter(depth)) return false;
    const int start = peek().offset;
    if (accept_word("not")) {
      out = Expr{};
      out.kind = ExprKind::kNot;
      out.args.emplace_back();
      if (!parse_not(out.args.back(), depth + 1)) return false;
      finish(out, start);
      return true;
    }
    return parse_comparison(out, depth + 1);
  }

  bool parse_comparison(Expr& out, int depth) {
    if (!enter(depth)) return false;
    const int start = peek().offset;
    Expr left;
    if (!parse_sum(left, depth + 1)) return false;
    const Token& t = peek();
    auto binary = [&](ExprKind kind) {
      out = Expr{};
      out.kind = kind;
      out.args.push_back(std::move(left));
    };
    if (t.kind == Tok::kOp && t.text != "+" && t.text != "-") {
      binary(ExprKind::kCompare);
      const std::string op = t.text;
      out.cmp = op == "=="   ? CmpOp::kEq
                : op == "!=" ? CmpOp::kNe
                : op == "<"  ? CmpOp::kLt
                : op == "<=" ? CmpOp::kLe
                : op == ">"  ? CmpOp::kGt
                             : CmpOp::kGe;
      ++pos_;
      out.args.emplace_back();
      if (!parse_sum(out.args.back(), depth + 1)) return false;
    } else if (accept_word("between")) {
      binary(ExprKind::kBetween);
      out.args.emplace_back();
      if (!parse_sum(out.args.back(), depth + 1)) return false;
      if (!expect_word("and", "between the two bounds of 'between'")) return false;
      out.args.emplace_back();
      if (!parse_sum(out.args.back(), depth + 1)) return false;
    } else if (is_word(t, "domain") &&
               (is_word(peek(1), "in") || (is_word(peek(1), "not") && is_word(peek(2), "in")) ||
                (peek(1).kind == Tok::kOp && (peek(1).text == "==" || peek(1).text == "!=")))) {
      // "email domain in [...]", "email domain == "x.com"": the address's domain or a subdomain.
      binary(ExprKind::kDomainIn);
      ++pos_;
      if (peek().kind == Tok::kOp) {
        out.negated = peek().text == "!=";
        ++pos_;
        Expr item;
        if (!parse_primary(item, depth + 1)) return false;
        Expr list;
        list.kind = ExprKind::kList;
        list.offset = item.offset;
        list.length = item.length;
        list.args.push_back(std::move(item));
        out.args.push_back(std::move(list));
      } else {
        out.negated = accept_word("not");
        ++pos_;
        out.args.emplace_back();
        if (!parse_list(out.args.back(), depth + 1)) return false;
      }
    } else if (is_word(t, "in") || (is_word(t, "not") && is_word(peek(1), "in"))) {
      binary(ExprKind::kIn);
      out.negated = accept_word("not");
      ++pos_;
      out.args.emplace_back();
      if (!parse_list(out.args.back(), depth + 1)) return false;
    } else if (is_word(t, "contains") || is_word(t, "starts") || is_word(t, "ends")) {
      binary(ExprKind::kText);
      out.text_op = is_word(t, "contains") ? TextOp::kContains
                    : is_word(t, "starts") ? TextOp::kStartsWith
                                           : TextOp::kEndsWith;
      ++pos_;
      if (out.text_op != TextOp::kContains && !expect_word("with", "('starts with' / 'ends with')")) return false;
      // "contains any of [...]", "contains any word of [...]", "contains word X", "starts with any of [...]"
      bool list = false;
      if (is_word(peek(), "any") && (is_word(peek(1), "of") || (out.text_op == TextOp::kContains && is_word(peek(1), "word")))) {
        ++pos_;
        if (out.text_op == TextOp::kContains && accept_word("word")) out.text_op = TextOp::kContainsWord;
        if (!expect_word("of", "('any of [...]')")) return false;
        list = true;
      } else if (out.text_op == TextOp::kContains && is_word(peek(), "word") &&
                 (peek(1).kind == Tok::kString || peek(1).kind == Tok::kIdent)) {
        ++pos_;
        out.text_op = TextOp::kContainsWord;
      }
      out.args.emplace_back();
      if (list) {
        if (peek().kind != Tok::kLBracket) return fail(peek().offset, "expected a list after 'any of', e.g. [\"vp\", \"head of\"]");
        if (!parse_list(out.args.back(), depth + 1)) return false;
      } else if (!parse_sum(out.args.back(), depth + 1)) {
        return false;
      }
    } else if (accept_word("has")) {
      binary(ExprKind::kHas);
      out.args.emplace_back();
      if (!parse_sum(out.args.back(), depth + 1)) return false;
    } else if (accept_word("is")) {
      binary(ExprKind::kMissing);
      if (accept_word("not")) out.negated = true;
      if (accept_word("present"))
        out.negated = !out.negated;
      else if (!accept_word("missing")) {
        if (peek().kind == Tok::kString || peek().kind == Tok::kNumber)
          return fail(peek().offset, "use '==' to compare values; 'is' only goes with 'missing' or 'present'");
        return fail(peek().offset, "expected 'missing' or 'present' after 'is', found '" + token_text(peek()) + "'");
      }
    } else if (is_word(t, "within") || (is_word(t, "not") && is_word(peek(1), "within"))) {
      binary(ExprKind::kWithin);
      out.negated = accept_word("not");
      ++pos_;
      out.args.emplace_back();
      if (!parse_sum(out.args.back(), depth + 1)) return false;
    } else {
      out = std::move(left);
      return true;
    }
    finish(out, start);
    return true;
  }

  bool parse_sum(Expr& out, int depth) {
    if (!enter(depth)) return false;
    const int start = peek().offset;
    if (!parse_primary(out, depth + 1)) return false;
    while (peek().kind == Tok::kOp && (peek().text == "+" || peek().text == "-")) {
      Expr sum;
      sum.kind = ExprKind::kArith;
      sum.arith = peek().text[0];
      ++pos_;
      sum.args.push_back(std::move(out));
      sum.args.emplace_back();
      if (!enter(depth) || !parse_primary(sum.args.back(), depth + 1)) return false;
      out = std::move(sum);
      finish(out, start);
    }
    return true;
  }

  bool parse_list(Expr& out, int depth) {
    const int start = peek().offset;
    if (peek().kind != Tok::kLBracket) return fail(peek().offset, "expected a list after 'in', e.g. [\"A\", \"B\"]");
    ++pos_;
    out = Expr{};
    out.kind = ExprKind::kList;
    if (peek().kind != Tok::kRBracket) {
      while (true) {
        out.args.emplace_back();
        if (!parse_primary(out.args.back(), depth + 1)) return false;
        if (peek().kind == Tok::kComma) {
          ++pos_;
          continue;
        }
        break;
      }
    }
    if (peek().kind != Tok::kRBracket) return fail(peek().offset, "expected ',' or ']' in the list");
    ++pos_;
    finish(out, start);
    return true;
  }

  bool parse_primary(Expr& out, int depth) {
    if (!enter(depth)) return false;
    const Token& t = peek();
    out = Expr{};
    out.offset = t.offset;
    out.length = t.length;
    switch (t.kind) {
      case Tok::kNumber:
        out.kind = ExprKind::kNumber;
        out.value = t.value;
        ++pos_;
        return true;
      case Tok::kDuration:
        out.kind = ExprKind::kDuration;
        out.value = t.value;
        ++pos_;
        return true;
      case Tok::kString:
        out.kind = ExprKind::kString;
        out.text = t.text;
        ++pos_;
        return true;
      case Tok::kOp:
        if (t.text == "-" && (peek(1).kind == Tok::kNumber || peek(1).kind == Tok::kDuration)) {
          ++pos_;
          out.kind = peek().kind == Tok::kNumber ? ExprKind::kNumber : ExprKind::kDuration;
          out.value = -peek().value;
          ++pos_;
          finish(out, t.offset);
          return true;
        }
        break;
      case Tok::kIdent: {
        static constexpr std::string_view reserved[] = {"and",      "or",      "not",    "between", "in",
                                                        "contains", "starts",  "ends",   "with",    "is",
                                                        "missing",  "present", "within", "has"};
        for (auto r : reserved)
          if (t.text == r) return fail(t.offset, "expected a property or a value before '" + t.text + "'");
        if (t.text == "true" || t.text == "false") {
          out.kind = ExprKind::kBool;
          out.value = t.text == "true" ? 1 : 0;
        } else {
          out.kind = ExprKind::kIdent;
          out.text = t.text;
        }
        ++pos_;
        return true;
      }
      case Tok::kLParen: {
        ++pos_;
        if (!parse_or(out, depth + 1)) return false;
        if (peek().kind != Tok::kRParen) return fail(peek().offset, "expected ')' to close the '(' here");
        ++pos_;
        return true;
      }
      case Tok::kLBracket: return parse_list(out, depth + 1);
      default: break;
    }
    if (t.kind == Tok::kEnd) return fail(t.offset, "the condition ends too early: a value or property is missing");
    return fail(t.offset, "expected a property or a value, found '" + token_text(t) + "'");
  }

  std::string_view src_;
  ExpressionError& error_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int nodes_ = 0;
  bool failed_ = false;
};

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string duration_text(double ms) {
  const double d = 86'400'000.0, h = 3'600'000.0;
  if (std::fmod(ms, d) == 0) return number_text(ms / d) + "d";
  if (std::fmod(ms, h) == 0) return number_text(ms / h) + "h";
  return number_text(ms / 60'000.0) + "m";
}

}  // namespace

bool parse_expression(std::string_view text, Expr& out, ExpressionError& error) {
  ExpressionParser parser(text, error);
  return parser.run(out);
}

std::string to_source(const Expr& e) {
  auto child = [&](std::size_t i) {
    const Expr& a = e.args[i];
    const bool wrap = a.kind == ExprKind::kAnd || a.kind == ExprKind::kOr;
    return wrap ? "(" + to_source(a) + ")" : to_source(a);
  };
  switch (e.kind) {
    case ExprKind::kNumber: return number_text(e.value);
    case ExprKind::kDuration: return duration_text(e.value);
    case ExprKind::kString: return "\"" + e.text + "\"";
    case ExprKind::kBool: return e.value != 0 ? "true" : "false";
    case ExprKind::kIdent: return e.text;
    case ExprKind::kList: {
      std::string s = "[";
      for (std::size_t i = 0; i < e.args.size(); ++i) s += (i ? ", " : "") + to_source(e.args[i]);
      return s + "]";
    }
    case ExprKind::kNot: return "not " + child(0);
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      std::string s;
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        if (i) s += e.kind == ExprKind::kAnd ? " and " : " or ";
        s += child(i);
      }
      return s;
    }
    case ExprKind::kCompare: {
      static constexpr const char* ops[] = {"==", "!=", "<", "<=", ">", ">="};
      return child(0) + " " + ops[static_cast<int>(e.cmp)] + " " + child(1);
    }
    case ExprKind::kBetween: return child(0) + " between " + child(1) + " and " + child(2);
    case ExprKind::kIn: return child(0) + (e.negated ? " not in " : " in ") + child(1);
    case ExprKind::kDomainIn: return child(0) + (e.negated ? " domain not in " : " domain in ") + child(1);
    case ExprKind::kText: {
      static constexpr const char* ops[] = {" contains ", " starts with ", " ends with ", " contains word "};
      static constexpr const char* list_ops[] = {" contains any of ", " starts with any of ", " ends with any of ",
                                                 " contains any word of "};
      const bool list = e.args[1].kind == ExprKind::kList;
      return child(0) + (list ? list_ops : ops)[static_cast<int>(e.text_op)] + child(1);
    }
    case ExprKind::kHas: return child(0) + " has " + child(1);
    case ExprKind::kMissing: return child(0) + (e.negated ? " is present" : " is missing");
    case ExprKind::kWithin: return child(0) + (e.negated ? " not within " : " within ") + child(1);
    case ExprKind::kArith: return child(0) + " " + e.arith + " " + child(1);
  }
  return {};
}

}  // namespace tandem::rules
