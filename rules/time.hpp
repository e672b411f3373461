#pragma once
// Dates, durations and the business calendar used by rule files.
//
// Time zones are kept deliberately simple: the account's zone is a fixed UTC offset from the rule
// file's settings (e.g. "+01:00"). Daylight-saving changes are not modelled; a due date can be an
// hour off across a DST switch. This is stated in examples/rules/README.md.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time_format.hpp"

namespace tandem::rules {

inline constexpr std::int64_t kMsPerMinute = 60'000;
inline constexpr std::int64_t kMsPerHour = 3'600'000;
inline constexpr std::int64_t kMsPerDay = 86'400'000;

// Parses "2026-11-20", "2026-11-20T10:00", "2026-11-20T10:00:00.123Z", "...+01:00" (UTC when no
// zone is given) or an all-digit epoch-milliseconds string (HubSpot's wire format). Nullopt otherwise.
std::optional<std::int64_t> parse_date_ms(std::string_view text);
// "2026-11-20T10:00:00Z" (seconds precision, UTC).
std::string format_date(std::int64_t ms);
// "2026-11-20" in the given offset.
std::string format_day(std::int64_t ms, int offset_minutes = 0);

// A duration as written in a rule file: "30d", "14 days", "2 business days", "4 business hours",
// "12h", "2w", "90 minutes", "20 seconds" (seconds are for rehearsals: a demo or a test that plays
// a week in a minute).
struct DurationSpec {
  double amount = 0;
  enum class Unit { kSeconds, kMinutes, kHours, kDays, kWeeks } unit = Unit::kDays;
  bool business = false;
  [[nodiscard]] std::int64_t calendar_ms() const;  // ignores `business`
  [[nodiscard]] std::string to_string() const;     // "2 business days"
};
// Nullopt and an error message when malformed.
std::optional<DurationSpec> parse_duration(std::string_view text, std::string* error = nullptr);

// Working days and hours in the account's zone (a fixed UTC offset).
struct BusinessCalendar {
  int offset_minutes = 0;
  unsigned weekday_mask = 0b0111110;  // bit 0 = Sunday ... bit 6 = Saturday; Mon-Fri by default
  int day_start_minute = 9 * 60;
  int day_end_minute = 17 * 60;
  std::vector<std::int64_t> holidays;  // local day numbers (days since 1970-01-01), sorted

  [[nodiscard]] bool is_business_day(std::int64_t local_day) const;
  // Adds a duration to `from`: calendar durations add plainly; business days skip weekends and
  // holidays keeping the local time of day (a start outside a business day counts from the next
  // business day's opening); business hours count only working hours.
  [[nodiscard]] std::int64_t add(std::int64_t from_ms, const DurationSpec& duration) const;
};

// Days since 1970-01-01 for a civil date, and back (common/time_format.hpp).
using tandem::civil_from_days;
using tandem::days_from_civil;
using tandem::floor_div;

}  // namespace tandem::rules
