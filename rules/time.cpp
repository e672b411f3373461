#include "rules/time.hpp"

#include "common/time_format.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <date/tz.h>

namespace tandem::rules {

std::optional<std::int64_t> parse_date_ms(std::string_view text) {
  // Rule files and contact exports never hold dates before 1970; a negative number is a number.
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (!text.empty() && text.front() == '-') return std::nullopt;
  return parse_timestamp_ms(text);
}

std::string format_date(std::int64_t ms) { return format_iso8601_s(ms); }

std::optional<TimeZone> TimeZone::parse(std::string_view t, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<TimeZone> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  TimeZone z;
  z.name_ = std::string(t);
  if (t == "UTC" || t == "Z") return z;
  auto digit = [&](std::size_t i) { return std::isdigit(static_cast<unsigned char>(t[i])) != 0; };
  if (t.size() == 6 && (t[0] == '+' || t[0] == '-') && t[3] == ':' && digit(1) && digit(2) && digit(4) && digit(5)) {
    const int minutes = (t[1] - '0') * 600 + (t[2] - '0') * 60 + (t[4] - '0') * 10 + (t[5] - '0');
    if (minutes > 14 * 60) return fail("a time_zone offset is within ±14:00");
    z.fixed_offset_ms_ = (t[0] == '-' ? -minutes : minutes) * kMsPerMinute;
    return z;
  }
  try {
    z.zone_ = date::locate_zone(t);
    return z;
  } catch (const std::exception&) {
    return fail("'" + std::string(t) +
                "' is not a time zone: give a name from the tz database such as \"America/New_York\" or "
                "\"Europe/Berlin\", or a fixed UTC offset such as \"+01:00\"");
  }
}

std::int64_t TimeZone::offset_ms_at(std::int64_t utc_ms) const {
  if (!zone_) return fixed_offset_ms_;
  const date::sys_time<std::chrono::milliseconds> at{std::chrono::milliseconds{utc_ms}};
  return std::chrono::duration_cast<std::chrono::milliseconds>(zone_->get_info(at).offset).count();
}

std::int64_t TimeZone::to_utc(std::int64_t local_ms) const {
  if (!zone_) return local_ms - fixed_offset_ms_;
  const date::local_time<std::chrono::milliseconds> local{std::chrono::milliseconds{local_ms}};
  // For a skipped time `first` is the offset before the change; for a repeated one, the earlier.
  const auto info = zone_->get_info(local);
  return local_ms - std::chrono::duration_cast<std::chrono::milliseconds>(info.first.offset).count();
}

std::string format_day(std::int64_t ms, const TimeZone& zone) {
  int y;
  unsigned m, d;
  civil_from_days(floor_div(zone.to_local(ms), kMsPerDay), y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

std::string format_local(std::int64_t ms, const TimeZone& zone) {
  auto clock = [](std::int64_t t) {
    int y;
    unsigned m, d;
    const std::int64_t day = floor_div(t, kMsPerDay);
    civil_from_days(day, y, m, d);
    const std::int64_t minute = (t - day * kMsPerDay) / kMsPerMinute;
    char buf[24];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d", y, m, d, static_cast<int>(minute / 60),
                  static_cast<int>(minute % 60));
    return std::string(buf);
  };
  const std::int64_t offset = zone.offset_ms_at(ms);
  if (!zone.named() && offset == 0) return clock(ms) + " UTC";
  return clock(ms + offset) + " " + zone.name() + " (" + clock(ms).substr(11) + " UTC)";
}

std::int64_t DurationSpec::calendar_ms() const {
  double unit_ms = 0;
  switch (unit) {
    case Unit::kSeconds: unit_ms = 1000; break;
    case Unit::kMinutes: unit_ms = kMsPerMinute; break;
    case Unit::kHours: unit_ms = kMsPerHour; break;
    case Unit::kDays: unit_ms = kMsPerDay; break;
    case Unit::kWeeks: unit_ms = 7.0 * kMsPerDay; break;
  }
  return static_cast<std::int64_t>(std::llround(amount * unit_ms));
}

std::string DurationSpec::to_string() const {
  char num[32];
  std::snprintf(num, sizeof num, "%g", amount);
  std::string out = num;
  out += business ? " business " : " ";
  const bool one = amount == 1;
  switch (unit) {
    case Unit::kSeconds: out += one ? "second" : "seconds"; break;
    case Unit::kMinutes: out += one ? "minute" : "minutes"; break;
    case Unit::kHours: out += one ? "hour" : "hours"; break;
    case Unit::kDays: out += one ? "day" : "days"; break;
    case Unit::kWeeks: out += one ? "week" : "weeks"; break;
  }
  return out;
}

std::optional<DurationSpec> parse_duration(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<DurationSpec> {
    if (error) *error = why;
    return std::nullopt;
  };
  std::size_t p = 0;
  auto skip = [&] {
    while (p < text.size() && text[p] == ' ') ++p;
  };
  skip();
  std::size_t start = p;
  while (p < text.size() && ((text[p] >= '0' && text[p] <= '9') || text[p] == '.')) ++p;
  if (p == start) return fail("a duration starts with a number, e.g. \"30d\" or \"2 business days\"");
  DurationSpec out;
  auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + p, out.amount);
  if (ec != std::errc{} || ptr != text.data() + p || !(out.amount >= 0) || out.amount > 36500)
    return fail("the number of a duration must be between 0 and 36500");
  skip();
  std::size_t word = p;
  while (p < text.size() && text[p] != ' ') ++p;
  std::string_view unit = text.substr(word, p - word);
  if (unit == "business") {
    out.business = true;
    skip();
    word = p;
    while (p < text.size() && text[p] != ' ') ++p;
    unit = text.substr(word, p - word);
  }
  skip();
  if (p != text.size()) return fail("unexpected words after the duration's unit");
  using U = DurationSpec::Unit;
  if (unit == "s" || unit == "sec" || unit == "secs" || unit == "second" || unit == "seconds")
    out.unit = U::kSeconds;
  else if (unit == "m" || unit == "min" || unit == "mins" || unit == "minute" || unit == "minutes")
    out.unit = U::kMinutes;
  else if (unit == "h" || unit == "hour" || unit == "hours")
    out.unit = U::kHours;
  else if (unit == "d" || unit == "day" || unit == "days")
    out.unit = U::kDays;
  else if (unit == "w" || unit == "week" || unit == "weeks")
    out.unit = U::kWeeks;
  else
    return fail("a duration's unit is one of seconds, minutes, hours, days, weeks (or s, m, h, d, w)");
  if (out.business && out.unit != U::kDays && out.unit != U::kHours)
    return fail("only days and hours can be business days or business hours");
  return out;
}

bool BusinessCalendar::is_business_day(std::int64_t local_day) const {
  const int weekday = static_cast<int>(((local_day % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  if (!(weekday_mask & (1u << weekday))) return false;
  for (auto h : holidays)
    if (h == local_day) return false;
  return true;
}

std::int64_t BusinessCalendar::add(std::int64_t from_ms, const DurationSpec& duration) const {
  if (!duration.business) return from_ms + duration.calendar_ms();
  const std::int64_t local = zone.to_local(from_ms);
  if (weekday_mask == 0) return from_ms + duration.calendar_ms();  // no working days: plain time
  if (duration.unit == DurationSpec::Unit::kDays) {
    std::int64_t day = floor_div(local, kMsPerDay);
    std::int64_t tod = local - day * kMsPerDay;
    if (!is_business_day(day)) {
      while (!is_business_day(day)) ++day;
      tod = day_start_minute * kMsPerMinute;
    }
    // The time of day is kept within business hours: after closing counts from the close, before
    // opening from the opening (a task created at 18:00 is due at the close of its last day).
    if (day_end_minute > day_start_minute)
      tod = std::clamp(tod, day_start_minute * kMsPerMinute, day_end_minute * kMsPerMinute);
    const auto whole = static_cast<std::int64_t>(duration.amount);
    for (std::int64_t n = 0; n < whole; ++n) {
      ++day;
      while (!is_business_day(day)) ++day;
    }
    const double frac = duration.amount - static_cast<double>(whole);
    std::int64_t extra = 0;
    if (frac > 0) {
      DurationSpec hours{frac * (day_end_minute - day_start_minute) / 60.0, DurationSpec::Unit::kHours, true};
      return add(zone.to_utc(day * kMsPerDay + tod), hours);
    }
    return zone.to_utc(day * kMsPerDay + tod + extra);
  }
  // Business hours: walk working windows.
  std::int64_t remaining = duration.calendar_ms();
  std::int64_t day = floor_div(local, kMsPerDay);
  std::int64_t tod = local - day * kMsPerDay;
  const std::int64_t open = day_start_minute * kMsPerMinute, close = day_end_minute * kMsPerMinute;
  if (close <= open) return from_ms + remaining;
  for (int guard = 0; guard < 200000; ++guard) {
    if (is_business_day(day)) {
      if (tod < open) tod = open;
      if (tod < close) {
        const std::int64_t avail = close - tod;
        if (remaining <= avail) return zone.to_utc(day * kMsPerDay + tod + remaining);
        remaining -= avail;
      }
    }
    ++day;
    tod = 0;
  }
  return from_ms + duration.calendar_ms();
}

}  // namespace tandem::rules
