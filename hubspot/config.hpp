#pragma once
// The `outbox:` section of tandem.yaml: how the write path drains the outbox into HubSpot
// (examples/tandem.yaml documents every key).

#include <chrono>

#include "common/config.hpp"
#include "hubspot/outbox_writer.hpp"
#include "hubspot/rate_limiter.hpp"

namespace tandem::hubspot {

struct OutboxConfig {
  RateLimits limits;
  WriterConfig writer;
  // Deadline of one HubSpot call; the writer's settle delay must exceed it.
  std::chrono::milliseconds request_timeout{30'000};
  // Written task creations (with their HubSpot ids) and the keys of every intent are kept this
  // long; an intent recorded again within it is a no-op.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 30)};
};

// Absent keys keep their defaults; problems land in the section's document.
OutboxConfig read_outbox_config(config::ConfigSection section);

}  // namespace tandem::hubspot
