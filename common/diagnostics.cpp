#include "common/diagnostics.hpp"

#include <algorithm>

namespace tandem {

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kNote: return "note";
  }
  return "error";
}

namespace {

// The length of the well-formed UTF-8 sequence starting at s[i], or 0 when the bytes there are not
// one (a stray continuation byte, a truncated or overlong sequence, a surrogate, beyond U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

int character_column(std::string_view line, int byte_column) {
  if (byte_column <= 0) return byte_column;
  const auto end = std::min(static_cast<std::size_t>(byte_column - 1), line.size());
  int column = 1;
  for (std::size_t i = 0; i < end;) {
    const std::size_t n = utf8_sequence(line, i);
    i += n == 0 ? 1 : n;
    ++column;
  }
  // A column beyond the line's end (just after its last character) keeps its distance to it.
  return column + (byte_column - 1 > static_cast<int>(line.size()) ? byte_column - 1 - static_cast<int>(line.size()) : 0);
}

std::string Diagnostic::format() const {
  // Positions are kept in bytes; people count characters. The output is valid UTF-8 whatever the
  // file held, so a terminal or a log viewer never shows half a character.
  const int char_column = character_column(source_line, column);
  std::string out = valid_utf8(file);
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(char_column);
  }
  out += ": ";
  out += to_string(severity);
  out += ": ";
  out += valid_utf8(message);
  out += '\n';
  if (!source_line.empty()) {
    const std::string shown = valid_utf8(source_line);
    out += "  " + shown + '\n';
    if (column > 0) {
      // One space per character before the column; tabs are kept so the caret lines up under the
      // same characters in a terminal.
      std::string pad;
      const auto end = std::min(static_cast<std::size_t>(column - 1), source_line.size());
      for (std::size_t i = 0; i < end;) {
        const std::size_t n = utf8_sequence(source_line, i);
        pad += source_line[i] == '\t' ? '\t' : ' ';
        i += n == 0 ? 1 : n;
      }
      out += "  " + pad + "^\n";
    }
  }
  return out;
}

void Diagnostics::error(std::string file, int line, int column, std::string message, std::string source_line) {
  list_.push_back({Severity::kError, std::move(file), line, column, std::move(message), std::move(source_line)});
}

void Diagnostics::warning(std::string file, int line, int column, std::string message, std::string source_line) {
  list_.push_back({Severity::kWarning, std::move(file), line, column, std::move(message), std::move(source_line)});
}

void Diagnostics::append(const Diagnostics& other) {
  list_.insert(list_.end(), other.list_.begin(), other.list_.end());
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

std::size_t Diagnostics::error_count() const {
  return static_cast<std::size_t>(
      std::count_if(list_.begin(), list_.end(), [](const Diagnostic& d) { return d.severity == Severity::kError; }));
}

std::size_t Diagnostics::warning_count() const {
  return static_cast<std::size_t>(
      std::count_if(list_.begin(), list_.end(), [](const Diagnostic& d) { return d.severity == Severity::kWarning; }));
}

std::string Diagnostics::format() const {
  std::string out;
  for (const auto& d : list_) out += d.format();
  return out;
}

std::string Diagnostics::report(std::string_view where) const {
  return format() + std::to_string(error_count()) + " error(s) in " + std::string(where) + '\n';
}

std::string source_line_of(std::string_view text, int line) {
  if (line < 1) return {};
  std::size_t start = 0;
  for (int i = 1; i < line; ++i) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  auto end = text.find('\n', start);
  auto result = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  if (!result.empty() && result.back() == '\r') result.remove_suffix(1);
  return std::string(result);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
  // neighbours each cost 1, so "evn" is one typo away from "env".
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string nearest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& candidate : candidates) {
    auto d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  // A suggestion helps only when it is a plausible typo: at most a third of the word changed.
  auto allowed = std::max<std::size_t>(1, std::max(word.size(), best.size()) / 3);
  if (best_distance == std::string::npos || best_distance > allowed) return {};
  return best;
}

}  // namespace tandem
