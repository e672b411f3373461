#pragma once
// Dates, durations and the business calendar used by rule files.
//
// The account's zone is an IANA name from the system's tz database ("America/New_York", read by
// Howard Hinnant's date library, daylight saving followed) or a fixed UTC offset ("+01:00").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time_format.hpp"

namespace date {
class time_zone;
}

namespace tandem::rules {

inline constexpr std::int64_t kMsPerMinute = 60'000;
inline constexpr std::int64_t kMsPerHour = 3'600'000;
inline constexpr std::int64_t kMsPerDay = 86'400'000;

// Parses "2026-11-20", "2026-11-20T10:00", "2026-11-20T10:00:00.123Z", "...+01:00" (UTC when no
// zone is given) or an all-digit epoch-milliseconds string (HubSpot's wire format). Nullopt otherwise.
std::optional<std::int64_t> parse_date_ms(std::string_view text);
// "2026-11-20T10:00:00Z" (seconds precision, UTC).
std::string format_date(std::int64_t ms);
// A zone of the rule file's settings: a tz database name or a fixed offset ("UTC", "+01:00").
class TimeZone {
 public:
  TimeZone() = default;  // UTC
  // "America/New_York", "Europe/Berlin", "UTC", "Z", "+01:00", "-05:30". Nullopt and a message
  // for anything else (a misspelt name, an offset beyond ±14:00).
  static std::optional<TimeZone> parse(std::string_view text, std::string* error = nullptr);

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] bool named() const { return zone_ != nullptr; }
  // The zone's offset from UTC at an instant, in milliseconds (-18000000 for New York in winter).
  [[nodiscard]] std::int64_t offset_ms_at(std::int64_t utc_ms) const;
  // Wall-clock time in the zone, as milliseconds since a local 1970-01-01 00:00.
  [[nodiscard]] std::int64_t to_local(std::int64_t utc_ms) const { return utc_ms + offset_ms_at(utc_ms); }
  // The instant of a wall-clock time. A time that does not exist (skipped when clocks go forward)
  // is read with the offset before the change, so 02:30 becomes 03:30; a time that happens twice
  // (clocks go back) is the first of the two.
  [[nodiscard]] std::int64_t to_utc(std::int64_t local_ms) const;

 private:
  std::string name_ = "+00:00";
  std::int64_t fixed_offset_ms_ = 0;
  const date::time_zone* zone_ = nullptr;  // null: the fixed offset
};

// "2026-11-20" in the given zone.
std::string format_day(std::int64_t ms, const TimeZone& zone = {});
// "2026-11-20 05:00 America/New_York (10:00 UTC)"; UTC alone when the zone is UTC.
std::string format_local(std::int64_t ms, const TimeZone& zone);

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

// Working days and hours in the account's zone; days and hours are local, across DST changes.
struct BusinessCalendar {
  TimeZone zone;
  unsigned weekday_mask = 0b0111110;  // bit 0 = Sunday ... bit 6 = Saturday; Mon-Fri by default
  int day_start_minute = 9 * 60;
  int day_end_minute = 17 * 60;
  std::vector<std::int64_t> holidays;  // local day numbers (days since 1970-01-01), sorted

  [[nodiscard]] bool is_business_day(std::int64_t local_day) const;
  // Adds a duration to `from`: calendar durations add plainly; business days skip weekends and
  // holidays keeping the local time of day within business hours (a start after closing counts
  // from the close, before opening from the opening, outside a business day from the next
  // business day's opening); business hours count only working hours.
  [[nodiscard]] std::int64_t add(std::int64_t from_ms, const DurationSpec& duration) const;
};

// Days since 1970-01-01 for a civil date, and back (common/time_format.hpp).
using tandem::civil_from_days;
using tandem::days_from_civil;
using tandem::floor_div;

}  // namespace tandem::rules
