#pragma once
// The `pipeline:` section of tandem.yaml.

#include <chrono>

#include "common/config.hpp"
#include "pipeline/pipeline.hpp"

namespace tandem::pipeline {

struct PipelineSettings {
  PipelineConfig loop;
  // Evaluate every existing contact of an account when it connects.
  bool backfill = true;
  // Audit entries and stage transitions older than this are deleted (hourly).
  std::chrono::milliseconds audit_retention{std::chrono::hours(24 * 400)};
};

PipelineSettings read_pipeline_config(config::ConfigSection section);

}  // namespace tandem::pipeline
