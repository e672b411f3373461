#pragma once
// The webhook event model (hubspot-contract.md §3.2) and the parser from a request body.
// JSON stays at this edge: the rest of Tandem sees typed events.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tandem::webhooks {

struct Event {
  std::int64_t event_id = 0;         // not unique on its own: see DedupKey
  std::int64_t subscription_id = 0;  // 0 when absent
  std::int64_t portal_id = 0;
  std::int64_t app_id = 0;           // 0 when absent
  std::int64_t occurred_at = 0;      // epoch ms
  std::string subscription_type;     // "subscriptionType", falling back to legacy "eventType"
  std::int64_t attempt_number = 0;
  std::int64_t object_id = 0;        // 0 when absent (some association events)
  std::optional<std::string> property_name;
  std::optional<std::string> property_value;  // the new value, as a string
  std::string change_source;
  std::string source_id;
  std::string object_type_id;  // generic object.* events
  // False for subscription types Tandem does not know; such events are stored and counted.
  bool known_type = true;
  // changeSource INTEGRATION with sourceId == our app id: caused by Tandem's own write.
  bool own_echo = false;
  // The event object as received (compact JSON), so nothing HubSpot sent is lost.
  std::string payload;
};

struct ParseOptions {
  std::size_t max_events = 100;
  std::string own_app_id;  // empty: no event is an own echo
};

struct ParseError {
  std::string reason;  // sent back in the 400 body; never contains secrets
};

using ParseResult = std::variant<std::vector<Event>, ParseError>;

// Parses a delivery: a JSON array of event objects, UTF-8, at most max_events. The whole body is
// validated (UTF-8, JSON syntax, numbers), including fields Tandem does not read.
// Required per event: eventId, portalId, occurredAt and subscriptionType (or eventType).
// Ids are int64 (JSON integers, or strings of digits). Never throws.
ParseResult parse_events(std::string_view body, const ParseOptions& options);

// One event object, as stored in Event::payload: the typed fields parsed back, own_echo false (it
// depends on the app id; the inbox keeps it). nullopt when it is not a valid event object.
std::optional<Event> parse_event(std::string_view object_json);

bool is_known_subscription_type(std::string_view type);

namespace detail {
// The top-level elements of a valid JSON array, found by scanning its text: what parse_events()
// falls back to should simdjson's structural index ever not give them. Exposed for its test.
std::vector<std::string_view> scan_top_level_elements(std::string_view body);
}  // namespace detail

}  // namespace tandem::webhooks
