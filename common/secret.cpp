#include "common/secret.hpp"

#include <cstdlib>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include "common/file.hpp"

namespace tandem {

std::optional<Secret> Secret::from_env(const std::string& variable) {
  const char* value = std::getenv(variable.c_str());
  if (value == nullptr) return std::nullopt;
  return Secret(value);
}

std::optional<Secret> Secret::from_file(const std::string& path) {
  auto contents = read_file(path);
  if (!contents) return std::nullopt;
  std::string value = std::move(*contents);
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  return Secret(std::move(value));
}

bool Secret::equals(std::string_view other) const { return constant_time_equals(value_, other); }

void to_json(nlohmann::json& j, const Secret& /*secret*/) { j = "[redacted]"; }

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Compare over the longer length so the time does not depend on where the first difference is;
  // a length mismatch is folded into the result rather than returned early.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

}  // namespace tandem
