#include "webhooks/inbox.hpp"

namespace tandem::webhooks {

std::string_view to_string(EventState state) {
  switch (state) {
    case EventState::kPending: return "pending";
    case EventState::kClaimed: return "claimed";
    case EventState::kDone: return "done";
    case EventState::kDead: return "dead";
    case EventState::kSkipped: return "skipped";
  }
  return "unknown";
}

std::optional<EventState> parse_event_state(std::string_view text) {
  for (auto s : {EventState::kPending, EventState::kClaimed, EventState::kDone, EventState::kDead, EventState::kSkipped}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

}  // namespace tandem::webhooks
