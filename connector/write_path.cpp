#include "connector/write_path.hpp"

#include <boost/asio/io_context.hpp>

namespace tandem::connector {

WritePath::WritePath(boost::asio::io_context& io, hubspot::Outbox& outbox, hubspot::TokenSource& tokens,
                     MetricsRegistry& metrics, const Clock& clock, WritePathOptions options)
    : http_(std::make_unique<http::HttpClient>(io, options.http)),
      limiter_(std::make_unique<hubspot::AccountRateLimiter>(io, clock, options.limits)),
      client_(std::make_unique<hubspot::HubSpotClient>(*http_, tokens, *limiter_, metrics, options.client)),
      writer_(std::make_unique<hubspot::OutboxWriter>(io, outbox, *client_, *limiter_, metrics, clock, options.writer)) {}

WritePath::~WritePath() = default;

}  // namespace tandem::connector
