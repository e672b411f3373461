#pragma once
// Diagnostics for files people edit (configuration, rules, manifests): every problem at once, each
// as "file:line:col: severity: message", then the source line and a caret under the column.

#include <string>
#include <string_view>
#include <vector>

namespace tandem {

enum class Severity { kError, kWarning, kNote };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string file;  // or a pseudo-origin such as "environment"
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
  std::string message;
  std::string source_line;  // the offending line without its newline; empty when unknown

  // "file:line:col: error: message\n  source line\n  ^\n" (position and caret omitted when unknown).
  [[nodiscard]] std::string format() const;
};

std::string_view to_string(Severity severity);

class Diagnostics {
 public:
  void add(Diagnostic diagnostic) { list_.push_back(std::move(diagnostic)); }
  void error(std::string file, int line, int column, std::string message, std::string source_line = {});
  void warning(std::string file, int line, int column, std::string message, std::string source_line = {});
  void append(const Diagnostics& other);

  [[nodiscard]] bool has_errors() const;
  [[nodiscard]] std::size_t error_count() const;
  [[nodiscard]] std::size_t warning_count() const;
  [[nodiscard]] bool empty() const { return list_.empty(); }
  [[nodiscard]] const std::vector<Diagnostic>& all() const { return list_; }
  // All diagnostics, formatted, in the order they were added.
  [[nodiscard]] std::string format() const;
  // format(), then the one closing line every command that checks a file prints:
  // "2 error(s) in the configuration\n" (`where` names what was checked).
  [[nodiscard]] std::string report(std::string_view where) const;

 private:
  std::vector<Diagnostic> list_;
};

// Returns line `line` (1-based) of `text`, without its line ending; empty if out of range.
std::string source_line_of(std::string_view text, int line);

// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text);
// The 1-based column in characters (UTF-8 code points) of 1-based byte column `byte_column` of
// `line`; a malformed byte counts as one character.
int character_column(std::string_view line, int byte_column);

// Edit distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate nearest to `word` when close enough to be a plausible typo, else empty.
std::string nearest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace tandem
