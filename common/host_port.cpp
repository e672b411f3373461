#include "common/host_port.hpp"

#include <algorithm>

namespace tandem {

std::string HostPort::to_string() const {
  std::string h = host.find(':') != std::string::npos ? '[' + host + ']' : host;
  return h + ':' + std::to_string(port);
}

Result<HostPort, HostPortError> parse_host_port(std::string_view text) {
  using Kind = HostPortError::Kind;
  constexpr const char* kExample = " (e.g. 127.0.0.1:8080 or [::1]:8080)";
  if (text.find("://") != std::string_view::npos) {
    return HostPortError{Kind::kBadHost, "expected host:port, not a URL" + std::string(kExample)};
  }
  HostPort out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return HostPortError{Kind::kBadHost, "'[' without a closing ']'"};
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return HostPortError{Kind::kMissingPort, "expected host:port" + std::string(kExample)};
    }
    port = rest.substr(1);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return HostPortError{Kind::kMissingPort, "expected host:port" + std::string(kExample)};
    }
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return HostPortError{Kind::kBadHost, "an IPv6 address is written in brackets, e.g. [::1]:8080"};
    }
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) {
    return HostPortError{Kind::kMissingHost, "the host is missing (0.0.0.0 listens on every interface)"};
  }
  if (std::any_of(out.host.begin(), out.host.end(),
                  [](unsigned char c) { return c <= ' ' || c == '/' || c == '[' || c == ']' || c == 0x7f; })) {
    return HostPortError{Kind::kBadHost, "'" + out.host + "' is not a host name or address"};
  }
  if (port.empty()) return HostPortError{Kind::kMissingPort, "the port is missing" + std::string(kExample)};
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return HostPortError{Kind::kBadPort, "the port '" + std::string(port) + "' is not a number"};
  }
  unsigned value = 0;
  for (char c : port) value = value * 10 + static_cast<unsigned>(c - '0');
  if (value > 65535) {
    return HostPortError{Kind::kPortOutOfRange, "the port " + std::string(port) + " is out of range [0, 65535]"};
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

}  // namespace tandem
