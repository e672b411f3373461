#pragma once
// An account's property definitions read through the HubSpot client as `tandem serve` reads
// them: the account's stored token (refreshed and saved when due), its rate limiter, HTTPS.
// For command-line tools; blocks on a private io_context.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "connector/config.hpp"
#include "hubspot/types.hpp"
#include "oauth/token_store.hpp"

namespace tandem::connector {

// `object_type`: "contacts", "deals"… The error is one line for people.
Result<std::vector<hubspot::PropertyDefinition>, std::string> read_account_properties(const TandemConfig& config,
                                                                                  oauth::TokenStore& store,
                                                                                  std::int64_t portal,
                                                                                  const std::string& object_type);

}  // namespace tandem::connector
