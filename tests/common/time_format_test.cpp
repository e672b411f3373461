#include <catch2/catch.hpp>

#include "common/time_format.hpp"

using namespace tandem;

TEST_CASE("HubSpot's timestamp forms parse to epoch milliseconds") {
  CHECK(parse_timestamp_ms("1564113600000") == 1564113600000);
  CHECK(parse_timestamp_ms("2019-07-26T04:00:00Z") == 1564113600000);
  CHECK(parse_timestamp_ms("2019-07-26T04:00:00.000Z") == 1564113600000);
  CHECK(parse_timestamp_ms("2019-07-26T06:00:00+02:00") == 1564113600000);
  CHECK(parse_timestamp_ms("2019-10-30T03:30:17.883Z") == 1572406217883);
  CHECK(parse_timestamp_ms("2019-07-26") == 1564099200000);
  CHECK(parse_timestamp_ms("1969-12-31T23:59:59.999Z") == -1);
  CHECK(parse_timestamp_ms("-1") == -1);
}

TEST_CASE("anything else is refused") {
  for (const char* bad : {"", "yesterday", "2019-13-01", "2019-07-26T25:00:00Z", "2019-07-26T04:00:00Zjunk",
                          "2019-07-26T04:00:00.Z", "9999999999999999", "-"}) {
    INFO(bad);
    CHECK_FALSE(parse_timestamp_ms(bad));
  }
}

TEST_CASE("timestamps format as HubSpot's CRM API returns them") {
  CHECK(format_iso8601_ms(1572406217883) == "2019-10-30T03:30:17.883Z");
  CHECK(format_iso8601_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601_ms(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(parse_timestamp_ms(format_iso8601_ms(1796000000123)) == 1796000000123);
}

TEST_CASE("to the second, milliseconds are dropped, rounding down also before 1970") {
  CHECK(format_iso8601_s(1572406217883) == "2019-10-30T03:30:17Z");
  CHECK(format_iso8601_s(1572406217999) == "2019-10-30T03:30:17Z");
  CHECK(format_iso8601_s(0) == "1970-01-01T00:00:00Z");
  CHECK(format_iso8601_s(-1) == "1969-12-31T23:59:59Z");
  CHECK(format_iso8601_s(-1000) == "1969-12-31T23:59:59Z");
  CHECK(format_iso8601_s(-1001) == "1969-12-31T23:59:58Z");
  CHECK(format_iso8601_ms(-1001) == "1969-12-31T23:59:58.999Z");
  CHECK(format_iso8601_ms(253402300799999) == "9999-12-31T23:59:59.999Z");
}
