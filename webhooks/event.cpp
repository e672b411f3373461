#include "webhooks/event.hpp"

#include <array>
#include <charconv>
#include <limits>

#include <nlohmann/json.hpp>

namespace tandem::webhooks {
namespace {

using nlohmann::json;

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

// Reads an int64 from a JSON integer or a string of decimal digits.
bool read_int64(const json& value, std::int64_t& out) {
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    out = value.get<std::int64_t>();
    return true;
  }
  if (value.is_number_unsigned()) {
    auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(u);
    return true;
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (s.empty() || s.size() > 19) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
  }
  return false;
}

// Scalars become their string form; null and absent become nullopt.
std::optional<std::string> read_text(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_structured()) return it->dump();
  return it->dump();
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

bool is_valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;  // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;                                              // surrogate
    i += len;
  }
  return true;
}

ParseResult parse_events(std::string_view body, const ParseOptions& options) {
  if (!is_valid_utf8(body)) return ParseError{"body is not valid UTF-8"};
  json document = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return ParseError{"body is not valid JSON"};
  if (!document.is_array()) return ParseError{"body is not a JSON array of events"};
  if (document.size() > options.max_events) {
    return ParseError{"too many events: " + std::to_string(document.size()) + " > " +
                      std::to_string(options.max_events)};
  }
  std::vector<Event> events;
  events.reserve(document.size());
  for (std::size_t i = 0; i < document.size(); ++i) {
    const json& item = document[i];
    if (!item.is_object()) return ParseError{event_error(i, "not a JSON object")};
    Event e;
    auto required_int = [&](const char* key, std::int64_t& out) -> std::optional<ParseError> {
      auto it = item.find(key);
      if (it == item.end()) return ParseError{event_error(i, std::string("missing ") + key)};
      if (!read_int64(*it, out)) return ParseError{event_error(i, std::string(key) + " is not an int64")};
      return std::nullopt;
    };
    auto optional_int = [&](const char* key, std::int64_t& out) -> std::optional<ParseError> {
      auto it = item.find(key);
      if (it == item.end() || it->is_null()) return std::nullopt;
      if (!read_int64(*it, out)) return ParseError{event_error(i, std::string(key) + " is not an int64")};
      return std::nullopt;
    };
    if (auto err = required_int("eventId", e.event_id)) return *err;
    if (auto err = required_int("portalId", e.portal_id)) return *err;
    if (auto err = required_int("occurredAt", e.occurred_at)) return *err;
    if (auto err = optional_int("subscriptionId", e.subscription_id)) return *err;
    if (auto err = optional_int("appId", e.app_id)) return *err;
    if (auto err = optional_int("attemptNumber", e.attempt_number)) return *err;
    if (auto err = optional_int("objectId", e.object_id)) return *err;
    auto type = item.find("subscriptionType");
    if (type == item.end() || type->is_null()) type = item.find("eventType");
    if (type == item.end() || !type->is_string() || type->get_ref<const std::string&>().empty()) {
      return ParseError{event_error(i, "missing subscriptionType")};
    }
    e.subscription_type = type->get<std::string>();
    e.property_name = read_text(item, "propertyName");
    e.property_value = read_text(item, "propertyValue");
    e.change_source = read_text(item, "changeSource").value_or("");
    e.source_id = read_text(item, "sourceId").value_or("");
    e.object_type_id = read_text(item, "objectTypeId").value_or("");
    e.known_type = is_known_subscription_type(e.subscription_type);
    e.own_echo = !options.own_app_id.empty() && e.change_source == "INTEGRATION" && e.source_id == options.own_app_id;
    e.payload = item.dump();
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace tandem::webhooks
