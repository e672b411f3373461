#pragma once
// "host:port" as written in configuration and on command lines: "127.0.0.1:8080",
// "0.0.0.0:443", "localhost:0", "[::1]:8080" (an IPv6 address always in brackets, RFC 3986 §3.2.2).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace tandem {

struct HostPort {
  std::string host;        // without brackets: "::1"
  std::uint16_t port = 0;  // 0 asks a listener for any free port

  // Back to text, bracketing an IPv6 address: "[::1]:8080".
  [[nodiscard]] std::string to_string() const;
};

struct HostPortError {
  enum class Kind { kMissingPort, kBadPort, kPortOutOfRange, kMissingHost, kBadHost };
  Kind kind;
  std::string message;  // for a diagnostic, e.g. "the port '80abc' is not a number"
};

// Strict: the port is 1 to 5 decimal digits and at most 65535 (no sign, no spaces, no trailing
// text such as "80abc"); the host is not empty; an IPv6 host is in brackets; a URL is refused.
Result<HostPort, HostPortError> parse_host_port(std::string_view text);

}  // namespace tandem
