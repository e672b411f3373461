#include "connector/write_path.hpp"

#include <boost/asio/io_context.hpp>

#include "common/log.hpp"
#include "connector/service.hpp"

namespace tandem::connector {

WritePath::WritePath(boost::asio::io_context& io, hubspot::Outbox& outbox, hubspot::TokenSource& tokens,
                     MetricsRegistry& metrics, const Clock& clock, WritePathOptions options)
    : http_(std::make_unique<http::HttpClient>(io, options.http)),
      limiter_(std::make_unique<hubspot::AccountRateLimiter>(io, clock, options.limits)),
      client_(std::make_unique<hubspot::HubSpotClient>(*http_, tokens, *limiter_, metrics, options.client)),
      writer_(std::make_unique<hubspot::OutboxWriter>(io, outbox, *client_, *limiter_, metrics, clock, options.writer)) {}

WritePath::~WritePath() = default;

void add_outbox(Service& service, hubspot::Outbox& outbox, MetricsRegistry& metrics, const Clock& clock,
                const hubspot::OutboxConfig& config) {
  service.add_metrics_refresh([&outbox, &metrics, &clock] {
    auto stats = outbox.stats(to_epoch_ms(clock.now()));
    if (!stats) {
      Logger("outbox").warn("outbox stats failed", {{"error", stats.error().message}});
      metrics.counter("tandem_outbox_storage_errors_total", "Outbox calls that failed on storage").inc();
      return;
    }
    for (const auto& l : stats->lanes) {
      Labels labels{{"portal", std::to_string(l.portal_id)}, {"lane", std::string(hubspot::to_string(l.lane))}};
      metrics.gauge("tandem_outbox_pending", "Outbox items not yet written to HubSpot (in flight included)", labels)
          .set(static_cast<double>(l.pending));
      metrics.gauge("tandem_outbox_dead", "Outbox items HubSpot refused or that failed too often", labels)
          .set(static_cast<double>(l.dead));
      metrics
          .gauge("tandem_outbox_oldest_pending_age_seconds", "Age of the oldest outbox item not yet written", labels)
          .set(static_cast<double>(l.oldest_pending_age.count()) / 1000.0);
    }
  });
  service.add_job("outbox_purge", std::chrono::hours(1), [&outbox, &clock, retention = config.retention] {
    auto purged = outbox.purge(retention, to_epoch_ms(clock.now()));
    if (!purged) Logger("outbox").warn("outbox purge failed", {{"error", purged.error().message}});
  });
}

}  // namespace tandem::connector
