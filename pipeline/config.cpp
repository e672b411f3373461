#include "pipeline/config.hpp"

namespace tandem::pipeline {

PipelineSettings read_pipeline_config(config::ConfigSection s) {
  PipelineSettings c;
  c.loop.claim_batch = static_cast<std::size_t>(s.integer("claim_batch", static_cast<std::int64_t>(c.loop.claim_batch), 1, 10'000));
  c.loop.lease = s.duration("lease", c.loop.lease);
  if (c.loop.lease < std::chrono::seconds(5)) s.error("lease", "must be at least 5s: a chunk's batch read may take that long");
  c.loop.idle_poll = s.duration("idle_poll", c.loop.idle_poll);
  if (c.loop.idle_poll < std::chrono::milliseconds(10)) s.error("idle_poll", "must be at least 10ms");
  c.loop.retry_after = s.duration("retry_after", c.loop.retry_after);
  c.backfill = s.boolean("backfill", c.backfill);
  c.audit_retention = s.duration("audit_retention", c.audit_retention);
  if (c.audit_retention < std::chrono::hours(24)) s.error("audit_retention", "must be at least 24h");
  s.finish();
  return c;
}

}  // namespace tandem::pipeline
