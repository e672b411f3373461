#include <catch2/catch.hpp>

#include "common/host_port.hpp"

using tandem::HostPortError;
using tandem::parse_host_port;

TEST_CASE("host:port: addresses, names, bracketed IPv6 and port 0 are read") {
  struct Good {
    const char* text;
    const char* host;
    std::uint16_t port;
  };
  for (const auto& g : {Good{"127.0.0.1:8080", "127.0.0.1", 8080}, Good{"0.0.0.0:443", "0.0.0.0", 443},
                        Good{"localhost:0", "localhost", 0}, Good{"[::1]:8080", "::1", 8080},
                        Good{"[::]:65535", "::", 65535}, Good{"tandem.internal:00080", "tandem.internal", 80}}) {
    INFO(g.text);
    auto parsed = parse_host_port(g.text);
    REQUIRE(parsed.has_value());
    CHECK(parsed->host == g.host);
    CHECK(parsed->port == g.port);
  }
}

TEST_CASE("host:port: written back with brackets around an IPv6 address") {
  CHECK(parse_host_port("[::1]:8080")->to_string() == "[::1]:8080");
  CHECK(parse_host_port("127.0.0.1:9")->to_string() == "127.0.0.1:9");
}

TEST_CASE("host:port: trailing text, signs, out-of-range and missing parts are refused") {
  using Kind = HostPortError::Kind;
  struct Bad {
    const char* text;
    Kind kind;
    const char* message;
  };
  for (const auto& b : {
           Bad{"127.0.0.1:80abc", Kind::kBadPort, "the port '80abc' is not a number"},
           Bad{"127.0.0.1:+80", Kind::kBadPort, "the port '+80' is not a number"},
           Bad{"127.0.0.1:-1", Kind::kBadPort, "the port '-1' is not a number"},
           Bad{"127.0.0.1: 80", Kind::kBadPort, "the port ' 80' is not a number"},
           Bad{"127.0.0.1:123456", Kind::kBadPort, "the port '123456' is not a number"},
           Bad{"127.0.0.1:65536", Kind::kPortOutOfRange, "the port 65536 is out of range [0, 65535]"},
           Bad{"127.0.0.1:99999", Kind::kPortOutOfRange, "the port 99999 is out of range [0, 65535]"},
           Bad{"127.0.0.1", Kind::kMissingPort, "expected host:port"},
           Bad{"127.0.0.1:", Kind::kMissingPort, "the port is missing"},
           Bad{"", Kind::kMissingPort, "expected host:port"},
           Bad{":8080", Kind::kMissingHost, "the host is missing"},
           Bad{"[::1]", Kind::kMissingPort, "expected host:port"},
           Bad{"[::1]8080", Kind::kMissingPort, "expected host:port"},
           Bad{"[::1:8080", Kind::kBadHost, "without a closing ']'"},
           Bad{"[]:8080", Kind::kMissingHost, "the host is missing"},
           Bad{"::1:8080", Kind::kBadHost, "in brackets"},
           Bad{"http://127.0.0.1:8080", Kind::kBadHost, "not a URL"},
           Bad{"my host:8080", Kind::kBadHost, "is not a host name or address"},
       }) {
    INFO(b.text);
    auto parsed = parse_host_port(b.text);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().kind == b.kind);
    CHECK_THAT(parsed.error().message, Catch::Contains(b.message));
  }
}
