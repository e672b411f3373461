#pragma once
// HubSpot wire formats shared by every sandbox route: error bodies (contract §8, §2.5, §7),
// ISO-8601 timestamps and request parsing helpers.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http.hpp"

namespace tandem::sandbox {

using nlohmann::json;

// "2026-11-22T12:00:00.000Z", the format HubSpot uses for createdAt/updatedAt and datetime values.
std::string iso8601_ms(std::int64_t epoch_ms);
// Accepts epoch milliseconds ("1767225600000"), "YYYY-MM-DD" and "YYYY-MM-DDTHH:MM:SS[.fff]Z"
// (or with +00:00). Nullopt when the text is neither.
std::optional<std::int64_t> parse_datetime_ms(std::string_view text);

std::string to_lower(std::string_view s);

// The standard error body: {status:"error", message, correlationId, category, [subCategory], errors[], [context], [links]}.
json error_body(std::string_view category, std::string_view message, json errors = json::array(),
                json context = nullptr, json links = nullptr);
http::Response error_response(int status, std::string_view category, std::string_view message,
                              json errors = json::array(), json context = nullptr, json links = nullptr);
http::Response json_response(int status, const json& body);

// Token-endpoint error (contract §2.5): RFC 6749 fields plus HubSpot's legacy status/message.
http::Response oauth_error(std::string_view error, std::string_view hubspot_status, std::string_view description);

// A validation error about one property, in the "Property values were not valid: [...]" form.
struct PropertyError {
  std::string name;
  std::string code;  // PROPERTY_DOESNT_EXIST, INVALID_OPTION, READ_ONLY_VALUE, INVALID_EMAIL, ...
  std::string message;
};
json property_errors_body(const std::vector<PropertyError>& errors, json context = nullptr);
http::Response property_errors_response(const std::vector<PropertyError>& errors);

// Query parameters, last value wins; multi-valued ones ("properties=a&properties=b", or
// "properties=a,b") are read with query_list.
struct Query {
  std::vector<std::pair<std::string, std::string>> items;
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> list(std::string_view name) const;
};
std::optional<Query> parse_query(std::string_view query);

// Splits "/a/b/c" into {"a","b","c"}; an empty segment from a trailing slash is dropped.
std::vector<std::string> split_path(std::string_view path);
std::vector<std::string> split_csv(std::string_view text);

}  // namespace tandem::sandbox
