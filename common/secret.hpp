#pragma once
// A value that must never reach a log line, a JSON dump or an error message: client secrets,
// access and refresh tokens, encryption keys. It has no stream operator, serialises to JSON as
// "[redacted]", and compares in constant time.

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace tandem {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  // Reads the variable; nullopt when it is unset. An empty value is a valid (empty) secret.
  static std::optional<Secret> from_env(const std::string& variable);
  // Reads the whole file, dropping one trailing newline; nullopt when it cannot be read.
  static std::optional<Secret> from_file(const std::string& path);

  // The only way to the plain value. Call it where the value is used (a signature, a header),
  // never to print.
  [[nodiscard]] std::string_view reveal() const { return value_; }
  [[nodiscard]] bool empty() const { return value_.empty(); }

  // Constant-time in the length of the longer value.
  [[nodiscard]] bool equals(std::string_view other) const;
  bool operator==(const Secret& other) const { return equals(other.value_); }

  friend std::ostream& operator<<(std::ostream&, const Secret&) = delete;

 private:
  std::string value_;
};

// Serialises as the string "[redacted]". Reading a Secret from JSON is deliberately not offered.
void to_json(nlohmann::json& j, const Secret& secret);

// Constant-time comparison of two byte strings (length leaks, contents do not).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace tandem
