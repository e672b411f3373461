#pragma once
// Timestamps as HubSpot writes them: epoch milliseconds (in webhooks and many property values)
// or ISO-8601 (createdAt, date properties). One parser and one formatter for every module.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tandem {

// Parses an all-digit epoch-milliseconds string (optionally negative), or ISO-8601:
// "2026-11-20", "2026-11-20T10:00", "2026-11-20T10:00:00.123Z", "2026-11-20T10:00:00+01:00"
// (UTC when no zone is given). Nullopt for anything else.
std::optional<std::int64_t> parse_timestamp_ms(std::string_view text);
// "2026-11-20T10:00:00.123Z", the form HubSpot's CRM API returns.
std::string format_iso8601_ms(std::int64_t epoch_ms);
// "2026-11-20T10:00:00Z": the same instant to the second, milliseconds dropped (rounded down, also
// before 1970), for text people read (rule explanations).
std::string format_iso8601_s(std::int64_t epoch_ms);

// Days since 1970-01-01 for a proleptic Gregorian date, and back (Howard Hinnant's algorithms,
// public domain: http://howardhinnant.github.io/date_algorithms.html).
std::int64_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d);

// Floor division, for days before the epoch.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace tandem
