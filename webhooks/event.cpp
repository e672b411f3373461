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

// The byte ranges of the top-level array elements of `body`, which the caller has already parsed
// as a JSON array (so strings are terminated and brackets balance). Each event's payload is kept
// exactly as HubSpot sent it, and re-serialising every event is avoided.
std::vector<std::string_view> top_level_elements(std::string_view body) {
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
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
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

namespace {

// Builds Events straight from nlohmann's SAX events: no DOM, so a 100-event delivery costs one
// pass over the bytes (the DOM with JSON_DIAGNOSTICS was ~10x slower on the io thread).
class EventsSax {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit EventsSax(const ParseOptions& options) : options_(options) {}

  bool null() { return scalar(Value::kNull, 0, {}); }
  bool boolean(bool v) { return scalar(Value::kOther, v ? 1 : 0, {}); }
  bool number_integer(number_integer_t v) { return scalar(Value::kInt, v, {}); }
  bool number_unsigned(number_unsigned_t v) {
    if (v > static_cast<number_unsigned_t>(std::numeric_limits<std::int64_t>::max())) return scalar(Value::kBadInt, 0, {});
    return scalar(Value::kInt, static_cast<std::int64_t>(v), {});
  }
  bool number_float(number_float_t, const string_t& text) { return scalar(Value::kFloat, 0, text); }
  bool string(string_t& v) { return scalar(Value::kString, 0, v); }
  bool binary(binary_t&) { return scalar(Value::kOther, 0, {}); }

  bool start_object(std::size_t) {
    if (depth_ == 0) return fail("body is not a JSON array of events");
    if (depth_ == 1) {
      if (events_.size() == options_.max_events) return too_many();
      events_.emplace_back();
      seen_ = 0;
      type_.clear();
      legacy_type_.clear();
    } else if (depth_ == 2) {
      key_ = Key::kNone;  // a structured value of an event field: kept in the payload only
    }
    ++depth_;
    return true;
  }
  bool end_object() {
    --depth_;
    if (depth_ == 1) return finish_event();
    return true;
  }
  bool start_array(std::size_t) {
    if (depth_ == 1) return fail(event_error(events_.size(), "not a JSON object"));
    if (depth_ == 2) key_ = Key::kNone;
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    if (depth_ == 0) done_ = true;
    return true;
  }
  bool key(string_t& k) {
    if (depth_ == 2) key_ = classify(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    if (error_.empty()) error_ = "body is not valid JSON";
    return false;
  }

  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] bool done() const { return done_; }
  std::vector<Event>& events() { return events_; }

 private:
  enum class Key {
    kNone, kEventId, kSubscriptionId, kPortalId, kAppId, kOccurredAt, kSubscriptionType, kEventType,
    kAttemptNumber, kObjectId, kPropertyName, kPropertyValue, kChangeSource, kSourceId, kObjectTypeId
  };
  enum class Value { kNull, kInt, kBadInt, kFloat, kString, kOther };
  static constexpr unsigned bit(Key k) { return 1u << static_cast<unsigned>(k); }

  static Key classify(std::string_view k) {
    static const std::pair<std::string_view, Key> kKeys[] = {
        {"eventId", Key::kEventId},           {"subscriptionId", Key::kSubscriptionId},
        {"portalId", Key::kPortalId},         {"appId", Key::kAppId},
        {"occurredAt", Key::kOccurredAt},     {"subscriptionType", Key::kSubscriptionType},
        {"eventType", Key::kEventType},       {"attemptNumber", Key::kAttemptNumber},
        {"objectId", Key::kObjectId},         {"propertyName", Key::kPropertyName},
        {"propertyValue", Key::kPropertyValue}, {"changeSource", Key::kChangeSource},
        {"sourceId", Key::kSourceId},         {"objectTypeId", Key::kObjectTypeId}};
    for (const auto& [name, key] : kKeys) {
      if (name == k) return key;
    }
    return Key::kNone;
  }

  static const char* name_of(Key k) {
    switch (k) {
      case Key::kEventId: return "eventId";
      case Key::kSubscriptionId: return "subscriptionId";
      case Key::kPortalId: return "portalId";
      case Key::kAppId: return "appId";
      case Key::kOccurredAt: return "occurredAt";
      case Key::kAttemptNumber: return "attemptNumber";
      case Key::kObjectId: return "objectId";
      default: return "field";
    }
  }

  bool scalar(Value kind, std::int64_t number, std::string_view text) {
    if (depth_ == 0) return fail("body is not a JSON array of events");
    if (depth_ == 1) {
      if (events_.size() == options_.max_events) return too_many();
      return fail(event_error(events_.size(), "not a JSON object"));
    }
    if (depth_ != 2) return true;
    Event& e = events_.back();
    const Key key = key_;
    key_ = Key::kNone;
    switch (key) {
      case Key::kEventId: return integer(key, kind, number, text, e.event_id);
      case Key::kSubscriptionId: return integer(key, kind, number, text, e.subscription_id);
      case Key::kPortalId: return integer(key, kind, number, text, e.portal_id);
      case Key::kAppId: return integer(key, kind, number, text, e.app_id);
      case Key::kOccurredAt: return integer(key, kind, number, text, e.occurred_at);
      case Key::kAttemptNumber: return integer(key, kind, number, text, e.attempt_number);
      case Key::kObjectId: return integer(key, kind, number, text, e.object_id);
      case Key::kSubscriptionType:
        if (kind == Value::kString) type_.assign(text);
        return true;
      case Key::kEventType:
        if (kind == Value::kString) legacy_type_.assign(text);
        return true;
      case Key::kPropertyName: e.property_name = as_text(kind, number, text); return true;
      case Key::kPropertyValue: e.property_value = as_text(kind, number, text); return true;
      case Key::kChangeSource: e.change_source = as_text(kind, number, text).value_or(""); return true;
      case Key::kSourceId: e.source_id = as_text(kind, number, text).value_or(""); return true;
      case Key::kObjectTypeId: e.object_type_id = as_text(kind, number, text).value_or(""); return true;
      case Key::kNone: return true;
    }
    return true;
  }

  // JSON integers, or strings of decimal digits; null counts as absent.
  bool integer(Key key, Value kind, std::int64_t number, std::string_view text, std::int64_t& out) {
    if (kind == Value::kNull) return true;
    if (kind == Value::kInt) {
      out = number;
    } else if (kind == Value::kString && !text.empty() && text.size() <= 19 &&
               std::from_chars(text.data(), text.data() + text.size(), out).ptr == text.data() + text.size()) {
    } else {
      return fail(event_error(events_.size() - 1, std::string(name_of(key)) + " is not an int64"));
    }
    seen_ |= bit(key);
    return true;
  }

  static std::optional<std::string> as_text(Value kind, std::int64_t number, std::string_view text) {
    switch (kind) {
      case Value::kNull: return std::nullopt;
      case Value::kString: return std::string(text);
      case Value::kInt: return std::to_string(number);
      case Value::kFloat: return std::string(text);
      default: return number ? std::string("true") : std::string("false");
    }
  }

  bool finish_event() {
    const std::size_t index = events_.size() - 1;
    for (Key k : {Key::kEventId, Key::kPortalId, Key::kOccurredAt}) {
      if (!(seen_ & bit(k))) return fail(event_error(index, std::string("missing ") + name_of(k)));
    }
    Event& e = events_.back();
    e.subscription_type = !type_.empty() ? type_ : legacy_type_;
    if (e.subscription_type.empty()) return fail(event_error(index, "missing subscriptionType"));
    e.known_type = is_known_subscription_type(e.subscription_type);
    e.own_echo = !options_.own_app_id.empty() && e.change_source == "INTEGRATION" && e.source_id == options_.own_app_id;
    return true;
  }

  bool too_many() {
    return fail("too many events: more than " + std::to_string(options_.max_events));
  }
  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  const ParseOptions& options_;
  std::vector<Event> events_;
  std::string error_;
  std::size_t depth_ = 0;
  Key key_ = Key::kNone;
  unsigned seen_ = 0;
  std::string type_;
  std::string legacy_type_;
  bool done_ = false;
};

}  // namespace

ParseResult parse_events(std::string_view body, const ParseOptions& options) {
  if (!is_valid_utf8(body)) return ParseError{"body is not valid UTF-8"};
  EventsSax sax(options);
  const bool ok = json::sax_parse(body.begin(), body.end(), &sax, json::input_format_t::json, /*strict=*/true);
  if (!sax.error().empty()) return ParseError{sax.error()};
  if (!ok || !sax.done()) return ParseError{"body is not valid JSON"};
  std::vector<Event>& events = sax.events();
  const std::vector<std::string_view> raw = top_level_elements(body);
  if (raw.size() != events.size()) return ParseError{"body is not valid JSON"};  // cannot happen for valid JSON
  for (std::size_t i = 0; i < events.size(); ++i) events[i].payload.assign(trim(raw[i]));
  return std::move(events);
}

}  // namespace tandem::webhooks
