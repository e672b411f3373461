#include "common/time_format.hpp"

#include <charconv>
#include <cstdio>

namespace tandem {
namespace {

constexpr std::int64_t kMsPerMinute = 60'000;
constexpr std::int64_t kMsPerDay = 86'400'000;

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t yy = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yy + (m <= 2));
}

std::optional<std::int64_t> parse_timestamp_ms(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty() || s.size() > 40) return std::nullopt;
  std::string_view unsigned_part = s.front() == '-' ? s.substr(1) : s;
  bool all_digits = !unsigned_part.empty();
  for (char c : unsigned_part) all_digits = all_digits && c >= '0' && c <= '9';
  if (all_digits) {
    if (unsigned_part.size() > 15) return std::nullopt;  // beyond year 33000: not a timestamp
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
  int y, mo, d;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' || !digits(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  std::int64_t ms = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * kMsPerDay;
  std::size_t p = 10;
  if (p == s.size()) return ms;
  if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') return std::nullopt;
  ++p;
  int hh, mm, ss = 0;
  if (!digits(s, p, 2, hh) || p + 2 >= s.size() || s[p + 2] != ':' || !digits(s, p + 3, 2, mm)) return std::nullopt;
  if (hh > 23 || mm > 59) return std::nullopt;
  p += 5;
  if (p < s.size() && s[p] == ':') {
    if (!digits(s, p + 1, 2, ss) || ss > 60) return std::nullopt;
    p += 3;
  }
  int frac_ms = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int n = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      if (n < 3) frac_ms = frac_ms * 10 + (s[p] - '0');
      ++n;
      ++p;
    }
    if (n == 0) return std::nullopt;
    for (int i = n; i < 3; ++i) frac_ms *= 10;
  }
  ms += (hh * 3600LL + mm * 60LL + ss) * 1000 + frac_ms;
  if (p == s.size()) return ms;
  if (s[p] == 'Z' || s[p] == 'z') return p + 1 == s.size() ? std::optional<std::int64_t>(ms) : std::nullopt;
  if (s[p] == '+' || s[p] == '-') {
    int oh, om = 0;
    const int sign = s[p] == '+' ? 1 : -1;
    if (!digits(s, p + 1, 2, oh)) return std::nullopt;
    std::size_t q = p + 3;
    if (q < s.size() && s[q] == ':') ++q;
    if (q < s.size()) {
      if (!digits(s, q, 2, om)) return std::nullopt;
      q += 2;
    }
    if (q != s.size()) return std::nullopt;
    return ms - sign * (oh * 60LL + om) * kMsPerMinute;
  }
  return std::nullopt;
}

namespace {

// Every ISO-8601 text Tandem writes comes from here, so that logs, reports, explanations and the
// sandbox agree on one form.
std::string format_iso8601(std::int64_t epoch_ms, bool with_ms) {
  const std::int64_t day = floor_div(epoch_ms, kMsPerDay);
  const std::int64_t rem = epoch_ms - day * kMsPerDay;
  int y;
  unsigned m, d;
  civil_from_days(day, y, m, d);
  char buf[48];
  const int hh = static_cast<int>(rem / 3'600'000);
  const int mm = static_cast<int>(rem % 3'600'000 / kMsPerMinute);
  const int ss = static_cast<int>(rem % kMsPerMinute / 1000);
  if (with_ms) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, hh, mm, ss,
                  static_cast<int>(rem % 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, m, d, hh, mm, ss);
  }
  return buf;
}

}  // namespace

std::string format_iso8601_ms(std::int64_t epoch_ms) { return format_iso8601(epoch_ms, true); }

std::string format_iso8601_s(std::int64_t epoch_ms) { return format_iso8601(epoch_ms, false); }

}  // namespace tandem
