#include "sandbox/wire.hpp"

#include <cctype>
#include <charconv>
#include <ctime>

#include "common/crypto.hpp"

namespace tandem::sandbox {

namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::string iso8601_ms(std::int64_t epoch_ms) {
  std::int64_t secs = epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000;
  int ms = static_cast<int>(epoch_ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::optional<std::int64_t> parse_datetime_ms(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool digits = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i])) && !(i == 0 && s[i] == '-')) digits = false;
  }
  if (digits) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
  }
  int y, mo, d;
  if (!read_int(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !read_int(s, 5, 2, mo) || s[7] != '-' ||
      !read_int(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  std::int64_t ms = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86'400'000;
  if (s.size() == 10) return ms;
  int h, mi, se;
  if (s[10] != 'T' || !read_int(s, 11, 2, h) || s.size() < 19 || s[13] != ':' || !read_int(s, 14, 2, mi) ||
      s[16] != ':' || !read_int(s, 17, 2, se))
    return std::nullopt;
  if (h > 23 || mi > 59 || se > 60) return std::nullopt;
  ms += (h * 3600LL + mi * 60LL + se) * 1000;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int frac = 0, n = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (n < 3) frac = frac * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (int i = n; i < 3; ++i) frac *= 10;
    ms += frac;
  }
  std::string_view rest = s.substr(pos);
  if (rest == "Z" || rest == "+00:00" || rest == "z") return ms;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh, om;
    if (!read_int(rest, 1, 2, oh) || !read_int(rest, 4, 2, om)) return std::nullopt;
    std::int64_t off = (oh * 60LL + om) * 60'000;
    return rest[0] == '+' ? ms - off : ms + off;
  }
  return std::nullopt;
}

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
