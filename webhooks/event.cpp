#include "webhooks/event.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>

#include <simdjson.h>

namespace tandem::webhooks {
namespace {

// hubspot-contract.md §3.3 (classic types from the subscription API enum, generic object.*).
constexpr std::string_view kKnownTypes[] = {
    "contact.creation", "contact.deletion", "contact.merge", "contact.associationChange", "contact.restore",
    "contact.privacyDeletion", "contact.propertyChange",
    "company.creation", "company.deletion", "company.propertyChange", "company.associationChange", "company.restore",
    "company.merge",
    "deal.creation", "deal.deletion", "deal.propertyChange", "deal.associationChange", "deal.restore", "deal.merge",
    "ticket.creation", "ticket.deletion", "ticket.propertyChange", "ticket.associationChange", "ticket.restore",
    "ticket.merge",
    "product.creation", "product.deletion", "product.propertyChange", "product.restore", "product.merge",
    "line_item.creation", "line_item.deletion", "line_item.propertyChange", "line_item.associationChange",
    "line_item.restore", "line_item.merge",
    "conversation.creation", "conversation.deletion", "conversation.privacyDeletion", "conversation.propertyChange",
    "conversation.newMessage",
    "object.creation", "object.deletion", "object.merge", "object.restore", "object.propertyChange",
    "object.associationChange", "event.completed"};

}  // namespace

// The byte ranges of the top-level array elements of `body`, which the caller has already parsed
// as a JSON array (so strings are terminated and brackets balance), by scanning its text.
std::vector<std::string_view> detail::scan_top_level_elements(std::string_view body) {
  std::vector<std::string_view> out;
  std::size_t i = body.find('[');
  if (i == std::string_view::npos) return out;
  ++i;
  int depth = 0;
  bool in_string = false;
  std::size_t start = std::string_view::npos;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  for (; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      // Jump to the next quote (memchr is vectorised); it closes the string unless an odd number
      // of backslashes precedes it.
      const void* quote = std::memchr(body.data() + i, '"', body.size() - i);
      if (quote == nullptr) return out;
      i = static_cast<std::size_t>(static_cast<const char*>(quote) - body.data());
      std::size_t backslashes = 0;
      while (backslashes < i && body[i - 1 - backslashes] == '\\') ++backslashes;
      if (backslashes % 2 == 0) in_string = false;
      continue;
    }
    if (start == std::string_view::npos && !is_space(c) && c != ',' && c != ']') start = i;
    switch (c) {
      case '"': in_string = true; break;
      case '{': case '[': ++depth; break;
      case '}': --depth; break;
      case ']':
        if (depth == 0) {
          if (start != std::string_view::npos) out.push_back(body.substr(start, i - start));
          return out;
        }
        --depth;
        break;
      case ',':
        if (depth == 0 && start != std::string_view::npos) {
          out.push_back(body.substr(start, i - start));
          start = std::string_view::npos;
        }
        break;
      default: break;
    }
  }
  return out;
}

namespace {

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\n' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}

std::string event_error(std::size_t index, std::string_view what) {
  return "event " + std::to_string(index) + ": " + std::string(what);
}

}  // namespace

bool is_known_subscription_type(std::string_view type) {
  for (auto known : kKnownTypes) {
    if (known == type) return true;
  }
  return false;
}

namespace {

namespace dom = simdjson::dom;

enum class Field {
  kNone, kEventId, kSubscriptionId, kPortalId, kAppId, kOccurredAt, kSubscriptionType, kEventType,
  kAttemptNumber, kObjectId, kPropertyName, kPropertyValue, kChangeSource, kSourceId, kObjectTypeId
};
constexpr unsigned bit(Field f) { return 1u << static_cast<unsigned>(f); }

// Called for every field of every event: one comparison after a switch on the length.
Field classify(std::string_view k) {
  auto is = [k](std::string_view name, Field f) { return k == name ? f : Field::kNone; };
  switch (k.size()) {
    case 5: return is("appId", Field::kAppId);
    case 7: return is("eventId", Field::kEventId);
    case 8:
      return k[0] == 'p' ? is("portalId", Field::kPortalId)
           : k[0] == 'o' ? is("objectId", Field::kObjectId)
                         : is("sourceId", Field::kSourceId);
    case 9: return is("eventType", Field::kEventType);
    case 10: return is("occurredAt", Field::kOccurredAt);
    case 12:
      return k[0] == 'p' ? is("propertyName", Field::kPropertyName)
           : k[0] == 'c' ? is("changeSource", Field::kChangeSource)
                         : is("objectTypeId", Field::kObjectTypeId);
    case 13:
      return k[0] == 'a' ? is("attemptNumber", Field::kAttemptNumber) : is("propertyValue", Field::kPropertyValue);
    case 14: return is("subscriptionId", Field::kSubscriptionId);
    case 16: return is("subscriptionType", Field::kSubscriptionType);
    default: return Field::kNone;
  }
}

const char* name_of(Field f) {
  switch (f) {
    case Field::kEventId: return "eventId";
    case Field::kSubscriptionId: return "subscriptionId";
    case Field::kPortalId: return "portalId";
    case Field::kAppId: return "appId";
    case Field::kOccurredAt: return "occurredAt";
    case Field::kAttemptNumber: return "attemptNumber";
    case Field::kObjectId: return "objectId";
    default: return "field";
  }
}

// An id field: a JSON integer, or a string of decimal digits; null counts as absent, and so does
// a structured value (kept in the payload only). False when the value is not an int64.
bool read_integer(dom::element value, std::int64_t& out, bool& present) {
  switch (value.type()) {
    case dom::element_type::NULL_VALUE:
    case dom::element_type::ARRAY:
    case dom::element_type::OBJECT: return true;
    case dom::element_type::INT64: out = value.get_int64().value_unsafe(); break;
    case dom::element_type::STRING: {
      const std::string_view text = value.get_string().value_unsafe();
      if (text.empty() || text.size() > 19 ||
          std::from_chars(text.data(), text.data() + text.size(), out).ptr != text.data() + text.size()) {
        return false;
      }
      break;
    }
    default: return false;  // beyond int64, a fraction, a boolean
  }
  present = true;
  return true;
}

// A text field: strings as they are, numbers and booleans as their JSON text.
std::optional<std::string> read_text(dom::element value) {
  switch (value.type()) {
    case dom::element_type::STRING: return std::string(value.get_string().value_unsafe());
    case dom::element_type::INT64: return std::to_string(value.get_int64().value_unsafe());
    case dom::element_type::UINT64: return std::to_string(value.get_uint64().value_unsafe());
    case dom::element_type::DOUBLE: {
      std::array<char, 32> buffer{};
      auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value.get_double().value_unsafe());
      return ec == std::errc{} ? std::string(buffer.data(), end) : std::string();
    }
    case dom::element_type::BOOL: return std::string(value.get_bool().value_unsafe() ? "true" : "false");
    default: return std::nullopt;  // null or a structured value: absent
  }
}

// Fills `e` from one event object; returns the error (empty when the event is valid).
std::string read_event(dom::object object, std::size_t index, const ParseOptions& options, Event& e) {
  unsigned seen = 0;
  std::string_view type;
  std::string_view legacy_type;
  for (const dom::key_value_pair field : object) {
    const Field f = classify(field.key);
    std::int64_t* target = nullptr;
    switch (f) {
      case Field::kEventId: target = &e.event_id; break;
      case Field::kSubscriptionId: target = &e.subscription_id; break;
      case Field::kPortalId: target = &e.portal_id; break;
      case Field::kAppId: target = &e.app_id; break;
      case Field::kOccurredAt: target = &e.occurred_at; break;
      case Field::kAttemptNumber: target = &e.attempt_number; break;
      case Field::kObjectId: target = &e.object_id; break;
      case Field::kSubscriptionType:
        if (field.value.is_string()) type = field.value.get_string().value_unsafe();
        break;
      case Field::kEventType:
        if (field.value.is_string()) legacy_type = field.value.get_string().value_unsafe();
        break;
      case Field::kPropertyName: e.property_name = read_text(field.value); break;
      case Field::kPropertyValue: e.property_value = read_text(field.value); break;
      case Field::kChangeSource: e.change_source = read_text(field.value).value_or(""); break;
      case Field::kSourceId: e.source_id = read_text(field.value).value_or(""); break;
      case Field::kObjectTypeId: e.object_type_id = read_text(field.value).value_or(""); break;
      case Field::kNone: break;
    }
    if (target == nullptr) continue;
    bool present = false;
    if (!read_integer(field.value, *target, present)) {
      return event_error(index, std::string(name_of(f)) + " is not an int64");
    }
    if (present) seen |= bit(f);
  }
  for (Field f : {Field::kEventId, Field::kPortalId, Field::kOccurredAt}) {
    if (!(seen & bit(f))) return event_error(index, std::string("missing ") + name_of(f));
  }
  e.subscription_type = !type.empty() ? type : legacy_type;
  if (e.subscription_type.empty()) return event_error(index, "missing subscriptionType");
  e.known_type = is_known_subscription_type(e.subscription_type);
  e.own_echo = !options.own_app_id.empty() && e.change_source == "INTEGRATION" && e.source_id == options.own_app_id;
  return {};
}

// The byte ranges of the top-level elements of the array `parser` has just parsed from `body`,
// when every element is an object, from the structural index simdjson's stage 1 left in the
// parser: the offsets of every bracket, comma, colon and value start, ~50 per event, where
// scanning the text visits each of its ~300 bytes (that scan took ~12% of the io thread). The
// index is simdjson's internal interface ("for benchmarking access"), so anything unexpected
// there yields false and the caller scans the text instead.
bool object_ranges(const dom::parser& parser, std::string_view body, std::vector<std::string_view>& out) {
  out.clear();
  const auto* impl = parser.implementation.get();
  if (impl == nullptr || !impl->structural_indexes) return false;
  const std::uint32_t* index = impl->structural_indexes.get();
  int depth = 0;
  std::size_t start = 0;
  for (std::uint32_t i = 0; i < impl->n_structural_indexes; ++i) {
    const std::size_t at = index[i];
    if (at >= body.size()) return false;
    switch (body[at]) {
      case '{':
        if (depth == 1) start = at;
        ++depth;
        break;
      case '[': ++depth; break;
      case '}':
        if (--depth == 1) out.push_back(body.substr(start, at + 1 - start));
        break;
      case ']': --depth; break;
      default: break;
    }
  }
  return depth == 0;
}

// One parser per thread: its buffers grow to the largest body seen (bounded by the body limit)
// and are reused, so a delivery costs no allocation inside simdjson.
dom::parser& thread_parser() {
  thread_local dom::parser parser;
  return parser;
}

}  // namespace

std::optional<Event> parse_event(std::string_view object_json) {
  dom::element root;
  dom::object object;
  if (thread_parser().parse(object_json.data(), object_json.size()).get(root) || root.get_object().get(object)) {
    return std::nullopt;
  }
  Event e;
  if (!read_event(object, 0, ParseOptions{}, e).empty()) return std::nullopt;
  e.payload.assign(object_json);
  return e;
}

ParseResult parse_events(std::string_view body, const ParseOptions& options) {
  dom::parser& parser = thread_parser();
  dom::element root;
  if (const auto error = parser.parse(body.data(), body.size()).get(root)) {
    if (error == simdjson::UTF8_ERROR) return ParseError{"body is not valid UTF-8"};
    return ParseError{"body is not valid JSON"};
  }
  dom::array array;
  if (root.get_array().get(array)) return ParseError{"body is not a JSON array of events"};
  std::vector<Event> events;
  events.reserve(std::min(array.size(), options.max_events));
  for (const dom::element element : array) {
    if (events.size() == options.max_events) {
      return ParseError{"too many events: more than " + std::to_string(options.max_events)};
    }
    dom::object object;
    if (element.get_object().get(object)) return ParseError{event_error(events.size(), "not a JSON object")};
    Event& e = events.emplace_back();
    if (std::string error = read_event(object, events.size() - 1, options, e); !error.empty()) {
      return ParseError{std::move(error)};
    }
  }
  thread_local std::vector<std::string_view> raw;
  if (!object_ranges(parser, body, raw) || raw.size() != events.size()) raw = detail::scan_top_level_elements(body);
  if (raw.size() != events.size()) return ParseError{"body is not valid JSON"};  // cannot happen for valid JSON
  for (std::size_t i = 0; i < events.size(); ++i) events[i].payload.assign(trim(raw[i]));
  return events;
}

}  // namespace tandem::webhooks
