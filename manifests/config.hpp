#pragma once
// The `manifest:` section of tandem.yaml: what `tandem manifest` writes into the HubSpot developer
// project besides what follows from the rules and the rest of the configuration (the app's name,
// description and support contacts, the webhook concurrency).

#include <string>

#include "common/config.hpp"

namespace tandem::manifests {

struct ManifestConfig {
  std::string project_name = "tandem";
  std::string app_uid = "tandem";
  std::string app_name = "Tandem";
  std::string description =
      "Keeps the lead agreement between marketing and sales: qualifies, hands over, returns to nurture and "
      "follows up leads as the shared rules say.";
  std::string support_email;
  std::string documentation_url;
  std::string support_url;
  std::string support_phone;
  // HubSpot's upper bound on concurrent webhook requests to Tandem (contract §9.1).
  int max_concurrent_requests = 10;
};

ManifestConfig read_manifest_config(config::ConfigSection section);

}  // namespace tandem::manifests
