#include <charconv>
#include <limits>
#include <string_view>

#include <catch2/catch.hpp>

#include "common/metrics.hpp"

using namespace tandem;

TEST_CASE("metrics render in the Prometheus text format") {
  MetricsRegistry registry;
  registry.counter("tandem_webhook_requests_total", "Webhook requests by status", {{"status", "200"}}).inc(3);
  registry.counter("tandem_webhook_requests_total", "Webhook requests by status", {{"status", "401"}}).inc();
  registry.gauge("tandem_inbox_depth", "Events waiting").set(7);
  auto& h = registry.histogram("tandem_commit_seconds", "Commit latency", {0.01, 0.1});
  h.observe(0.005);
  h.observe(0.05);
  h.observe(3);
  CHECK(registry.render() ==
        "# HELP tandem_commit_seconds Commit latency\n"
        "# TYPE tandem_commit_seconds histogram\n"
        "tandem_commit_seconds_bucket{le=\"0.01\"} 1\n"
        "tandem_commit_seconds_bucket{le=\"0.1\"} 2\n"
        "tandem_commit_seconds_bucket{le=\"+Inf\"} 3\n"
        "tandem_commit_seconds_sum 3.055\n"
        "tandem_commit_seconds_count 3\n"
        "# HELP tandem_inbox_depth Events waiting\n"
        "# TYPE tandem_inbox_depth gauge\n"
        "tandem_inbox_depth 7\n"
        "# HELP tandem_webhook_requests_total Webhook requests by status\n"
        "# TYPE tandem_webhook_requests_total counter\n"
        "tandem_webhook_requests_total{status=\"200\"} 3\n"
        "tandem_webhook_requests_total{status=\"401\"} 1\n");
}

TEST_CASE("registering a metric twice returns the same one") {
  MetricsRegistry registry;
  auto& a = registry.counter("x_total", "x");
  auto& b = registry.counter("x_total", "x");
  a.inc();
  CHECK(&a == &b);
  CHECK(b.value() == 1);
}

TEST_CASE("numbers print as the shortest text that reads back as the same double") {
  MetricsRegistry registry;
  auto& h = registry.histogram("lat_seconds", "Latency", MetricsRegistry::latency_buckets());
  h.observe(0.0003);
  registry.gauge("ratio", "A ratio").set(1.0 / 3.0);
  registry.gauge("not_a_number", "NaN").set(std::numeric_limits<double>::quiet_NaN());
  registry.gauge("big", "Big").set(1e21);
  registry.gauge("below_a_million", "g").set(123456);
  registry.gauge("a_million_and_more", "g").set(1234567);
  registry.gauge("tiny", "g").set(0.00001);
  registry.gauge("negative", "g").set(-2.5);
  registry.gauge("negative_zero", "g").set(-0.0);
  const std::string text = registry.render();
  CHECK_THAT(text, Catch::Contains("lat_seconds_bucket{le=\"0.0005\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("lat_seconds_bucket{le=\"0.0025\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("lat_seconds_bucket{le=\"2.5\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("lat_seconds_bucket{le=\"10\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("lat_seconds_sum 0.0003\n"));
  CHECK_THAT(text, Catch::Contains("ratio 0.3333333333333333\n"));
  CHECK_THAT(text, Catch::Contains("not_a_number NaN\n"));
  // The layout of the Prometheus client libraries (Go's FormatFloat 'g', -1).
  CHECK_THAT(text, Catch::Contains("big 1e+21\n"));
  CHECK_THAT(text, Catch::Contains("below_a_million 123456\n"));
  CHECK_THAT(text, Catch::Contains("a_million_and_more 1.234567e+06\n"));
  CHECK_THAT(text, Catch::Contains("tiny 1e-05\n"));
  CHECK_THAT(text, Catch::Contains("negative -2.5\n"));
  CHECK_THAT(text, Catch::Contains("negative_zero 0\n"));
  // Every bound reads back exactly.
  std::size_t at = 0;
  for (double bound : MetricsRegistry::latency_buckets()) {
    at = text.find("lat_seconds_bucket{le=\"", at);
    REQUIRE(at != std::string::npos);
    at += std::string_view("lat_seconds_bucket{le=\"").size();
    double parsed = 0;
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + text.size(), parsed);
    CHECK(ec == std::errc{});
    CHECK(*end == '"');
    CHECK(parsed == bound);
  }
}
