#pragma once
// The whole sandbox state as one JSON document, for GET /_sandbox/snapshot, POST /_sandbox/restore
// and the --state file: {"version":1, "portals":[...], "oauth":{"codes", "accessTokens",
// "refreshTokens"}}. Records, owners, teams and associations come from CrmState, tokens from
// OAuthGrants; schemas and portal settings come from the configuration on restore.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/crm_state.hpp"
#include "sandbox/oauth_grants.hpp"

namespace tandem::sandbox {

[[nodiscard]] nlohmann::json take_snapshot(const CrmState& crm, const OAuthGrants& grants);
// Replaces both from `snapshot`; on error neither changes and the message says why.
std::optional<std::string> restore_snapshot(const nlohmann::json& snapshot, CrmState& crm, OAuthGrants& grants);

}  // namespace tandem::sandbox
