#pragma once
// Plain HTTP message types shared by the server and the client. No Asio or Beast here: modules
// that only build or read messages (the sandbox's routes, the webhook receiver) include this file.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::http {

struct Header {
  std::string name;
  std::string value;
};

// Ordered header list with case-insensitive lookup (RFC 9110 §5.1).
class Headers {
 public:
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
  // Replaces every header of that name.
  void set(std::string_view name, std::string_view value);
  void add(std::string_view name, std::string_view value);
  void remove(std::string_view name);
  [[nodiscard]] const std::vector<Header>& all() const { return list_; }
  [[nodiscard]] bool empty() const { return list_.empty(); }

 private:
  std::vector<Header> list_;
};

struct Request {
  std::string method = "GET";
  // Origin-form target: path plus optional query, exactly as received or to be sent.
  std::string target = "/";
  Headers headers;
  std::string body;
  // Filled by the server: "ip:port" of the peer.
  std::string remote_address;

  // Path without the query string.
  [[nodiscard]] std::string_view path() const;
  // Raw query string without the '?', empty when there is none.
  [[nodiscard]] std::string_view query() const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  static Response text(int status, std::string body, std::string_view content_type = "text/plain; charset=utf-8");
  static Response json(int status, std::string body) { return text(status, std::move(body), "application/json;charset=utf-8"); }
};

bool iequals(std::string_view a, std::string_view b);
std::string_view reason_phrase(int status);

// Percent-decodes a query component ('+' is a space, as in application/x-www-form-urlencoded).
// Returns nullopt on a malformed escape.
std::optional<std::string> form_decode(std::string_view component);
// Parses "a=1&b=2" (query strings and form bodies). Malformed escapes make the whole parse fail.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view form);
// Encodes for application/x-www-form-urlencoded and query strings (RFC 3986 unreserved kept, space as %20).
std::string form_encode(std::string_view value);

}  // namespace tandem::http
