#include "sandbox/wire.hpp"

#include <cctype>
#include <charconv>

#include "common/crypto.hpp"
#include "common/time_format.hpp"

namespace tandem::sandbox {

// Timestamps go through common/time_format so every module agrees on the accepted forms.
std::string iso8601_ms(std::int64_t epoch_ms) { return format_iso8601_ms(epoch_ms); }

std::optional<std::int64_t> parse_datetime_ms(std::string_view text) { return parse_timestamp_ms(text); }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

json error_body(std::string_view category, std::string_view message, json errors, json context, json links) {
  json body = {{"status", "error"},
               {"message", message},
               {"correlationId", crypto::uuid_v4()},
               {"category", category}};
  if (!errors.is_null() && !errors.empty()) body["errors"] = std::move(errors);
  if (!context.is_null()) body["context"] = std::move(context);
  if (!links.is_null()) body["links"] = std::move(links);
  return body;
}

http::Response json_response(int status, const json& body) {
  return http::Response::json(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

http::Response error_response(int status, std::string_view category, std::string_view message, json errors,
                              json context, json links) {
  return json_response(status, error_body(category, message, std::move(errors), std::move(context), std::move(links)));
}

http::Response oauth_error(std::string_view error, std::string_view hubspot_status, std::string_view description) {
  json body = {{"error", error},
               {"error_description", description},
               {"status", hubspot_status},
               {"message", description},
               {"correlationId", crypto::uuid_v4()}};
  return json_response(400, body);
}

json property_errors_body(const std::vector<PropertyError>& errors, json context) {
  json inner = json::array();
  json list = json::array();
  for (const auto& e : errors) {
    inner.push_back({{"isValid", false},
                     {"message", e.message},
                     {"error", e.code},
                     {"name", e.name},
                     {"localizedErrorMessage", e.message}});
    list.push_back({{"message", e.message}, {"code", e.code}, {"context", {{"propertyName", {e.name}}}}});
  }
  std::string message = "Property values were not valid: " + inner.dump();
  return error_body("VALIDATION_ERROR", message, std::move(list), std::move(context));
}

http::Response property_errors_response(const std::vector<PropertyError>& errors) {
  return json_response(400, property_errors_body(errors));
}

std::optional<std::string> Query::get(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& [k, v] : items)
    if (k == name) out = v;
  return out;
}

std::vector<std::string> Query::list(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : items) {
    if (k != name) continue;
    for (auto& part : split_csv(v)) out.push_back(std::move(part));
  }
  return out;
}

std::optional<Query> parse_query(std::string_view query) {
  auto parsed = http::parse_form(query);
  if (!parsed) return std::nullopt;
  return Query{std::move(*parsed)};
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string seg;
    for (char c : path.substr(i, j - i)) {
      if (c == '+') seg += "%2B";  // a '+' in a path is literal, not a space
      else seg += c;
    }
    auto decoded = http::form_decode(seg);
    out.emplace_back(decoded ? *decoded : seg);
    i = j;
  }
  return out;
}

std::vector<std::string> split_csv(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= text.size()) {
    std::size_t j = text.find(',', i);
    if (j == std::string_view::npos) j = text.size();
    auto part = text.substr(i, j - i);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    i = j + 1;
  }
  return out;
}

}  // namespace tandem::sandbox
