#pragma once
// What `tandem inbox stats|list` prints: a plain text table for people, JSON for scripts.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "webhooks/inbox.hpp"

namespace tandem::webhooks {

std::string render_stats(const InboxStats& stats);
nlohmann::json stats_to_json(const InboxStats& stats);

// One line per event: id, state, attempts, received (UTC), portal, type, object, event id,
// occurredAt (UTC), and the last error when there is one.
std::string render_list(const std::vector<StoredEvent>& events);
nlohmann::json event_to_json(const StoredEvent& event);

// "2026-11-22T13:18:12.345Z".
std::string format_epoch_ms(std::int64_t ms);

}  // namespace tandem::webhooks
