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
        "tandem_commit_seconds_bucket{le=\"0.10000000000000001\"} 2\n"
        "tandem_commit_seconds_bucket{le=\"+Inf\"} 3\n"
        "tandem_commit_seconds_sum 3.0550000000000002\n"
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
