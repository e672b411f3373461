#include <catch2/catch.hpp>

#include "tests/webhooks/webhook_test_support.hpp"
#include "webhooks/event.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>

using namespace tandem::webhooks;

namespace {

std::vector<Event> parse_ok(std::string_view body, ParseOptions options = {}) {
  auto result = parse_events(body, options);
  if (auto* error = std::get_if<ParseError>(&result)) FAIL("unexpected parse error: " << error->reason);
  return std::get<std::vector<Event>>(result);
}

std::string parse_error(std::string_view body, ParseOptions options = {}) {
  auto result = parse_events(body, options);
  REQUIRE(std::holds_alternative<ParseError>(result));
  return std::get<ParseError>(result).reason;
}

}  // namespace

TEST_CASE("parses HubSpot's legacy doc example, which names the type eventType") {
  auto events = parse_ok(R"([ { "objectId": 1246965, "propertyName": "lifecyclestage", "propertyValue": "subscriber", "changeSource": "ACADEMY",
    "eventId": 3816279340, "subscriptionId": 25, "portalId": 33, "appId": 1160452, "occurredAt": 1462216307945,
    "eventType": "contact.propertyChange", "attemptNumber": 0 },
  { "objectId": 1246978, "changeSource": "IMPORT", "eventId": 3816279480, "subscriptionId": 22, "portalId": 33,
    "appId": 1160452, "occurredAt": 1462216307945, "eventType": "contact.creation", "attemptNumber": 0 } ])");
  REQUIRE(events.size() == 2);
  CHECK(events[0].object_id == 1246965);
  CHECK(events[0].event_id == 3816279340);  // beyond int32
  CHECK(events[0].subscription_type == "contact.propertyChange");
  CHECK(events[0].property_name == "lifecyclestage");
  CHECK(events[0].property_value == "subscriber");
  CHECK(events[0].change_source == "ACADEMY");
  CHECK(events[0].portal_id == 33);
  CHECK(events[0].app_id == 1160452);
  CHECK(events[0].occurred_at == 1462216307945);
  CHECK(events[0].known_type);
  CHECK_FALSE(events[0].own_echo);
  CHECK(events[1].subscription_type == "contact.creation");
  CHECK_FALSE(events[1].property_name.has_value());
  CHECK(nlohmann::json::parse(events[1].payload).at("eventId") == 3816279480);
}

TEST_CASE("parses a generic object event and prefers subscriptionType over eventType") {
  auto events = parse_ok(R"([{"eventId":1765889350,"subscriptionId":7662269,"portalId":247279312,"appId":51879189,"occurredAt":1788597072520,
  "subscriptionType":"object.propertyChange","eventType":"contact.creation","attemptNumber":0,"objectId":546500061938,"objectTypeId":"0-1",
  "propertyName":"email","propertyValue":"bhalli@hubspot.com","changeSource":"CRM_UI","sourceId":"userId:98499705","isSensitive":false}])");
  REQUIRE(events.size() == 1);
  CHECK(events[0].subscription_type == "object.propertyChange");
  CHECK(events[0].object_id == 546500061938);
  CHECK(events[0].object_type_id == "0-1");
  CHECK(events[0].source_id == "userId:98499705");
}

TEST_CASE("int64 ids: the full range, and ids sent as strings") {
  auto events = parse_ok(
      R"([{"eventId":9223372036854775807,"portalId":"62515","occurredAt":1,"subscriptionType":"contact.creation","objectId":"9007199254740993"}])");
  CHECK(events[0].event_id == INT64_MAX);
  CHECK(events[0].portal_id == 62515);
  CHECK(events[0].object_id == 9007199254740993);  // not representable as a double
  CHECK(parse_error(R"([{"eventId":9223372036854775808,"portalId":1,"occurredAt":1,"subscriptionType":"x"}])") ==
        "event 0: eventId is not an int64");
  CHECK(parse_error(R"([{"eventId":1.5,"portalId":1,"occurredAt":1,"subscriptionType":"x"}])") ==
        "event 0: eventId is not an int64");
  CHECK(parse_error(R"([{"eventId":"12a","portalId":1,"occurredAt":1,"subscriptionType":"x"}])") ==
        "event 0: eventId is not an int64");
}

TEST_CASE("unknown subscription types are kept and marked") {
  auto events = parse_ok(R"([{"eventId":1,"portalId":1,"occurredAt":1,"subscriptionType":"contact.somethingNew"}])");
  REQUIRE(events.size() == 1);
  CHECK_FALSE(events[0].known_type);
}

TEST_CASE("changes written by our own app are marked as echoes") {
  ParseOptions options;
  options.own_app_id = "9393361";
  auto events = parse_ok(R"([
    {"eventId":1,"portalId":1,"occurredAt":1,"subscriptionType":"contact.propertyChange","changeSource":"INTEGRATION","sourceId":"9393361"},
    {"eventId":2,"portalId":1,"occurredAt":1,"subscriptionType":"contact.propertyChange","changeSource":"INTEGRATION","sourceId":"1234"},
    {"eventId":3,"portalId":1,"occurredAt":1,"subscriptionType":"contact.propertyChange","changeSource":"CRM_UI","sourceId":"9393361"},
    {"eventId":4,"portalId":1,"occurredAt":1,"subscriptionType":"contact.propertyChange","changeSource":"INTEGRATION","sourceId":9393361}])",
                         options);
  CHECK(events[0].own_echo);
  CHECK_FALSE(events[1].own_echo);
  CHECK_FALSE(events[2].own_echo);
  CHECK(events[3].own_echo);  // a numeric sourceId is read as its decimal text
  CHECK_FALSE(parse_ok(R"([{"eventId":1,"portalId":1,"occurredAt":1,"subscriptionType":"contact.propertyChange","changeSource":"INTEGRATION","sourceId":""}])")[0]
                  .own_echo);
}

TEST_CASE("malformed bodies are rejected with a reason") {
  CHECK(parse_error("") == "body is not valid JSON");
  CHECK(parse_error("[{\"eventId\":1") == "body is not valid JSON");
  CHECK(parse_error("{\"eventId\":1}") == "body is not a JSON array of events");
  CHECK(parse_error("\"text\"") == "body is not a JSON array of events");
  CHECK(parse_error("[1]") == "event 0: not a JSON object");
  CHECK(parse_error("[\"\xC3\x28\"]") == "body is not valid UTF-8");
  CHECK(parse_error("[\"\xED\xA0\x80\"]") == "body is not valid UTF-8");  // a UTF-16 surrogate
  CHECK(parse_error("[\"\xC0\xAF\"]") == "body is not valid UTF-8");      // overlong
  CHECK(parse_error(R"([{"portalId":1,"occurredAt":1,"subscriptionType":"x"}])") == "event 0: missing eventId");
  CHECK(parse_error(R"([{"eventId":1,"occurredAt":1,"subscriptionType":"x"}])") == "event 0: missing portalId");
  CHECK(parse_error(R"([{"eventId":1,"portalId":1,"subscriptionType":"x"}])") == "event 0: missing occurredAt");
  CHECK(parse_error(R"([{"eventId":1,"portalId":1,"occurredAt":1}])") == "event 0: missing subscriptionType");
  CHECK(parse_error(R"([{"eventId":1,"portalId":1,"occurredAt":1,"subscriptionType":7}])") ==
        "event 0: missing subscriptionType");
  CHECK(parse_ok("[]").empty());
  CHECK(parse_ok(" [ ] \n").empty());
}

TEST_CASE("at most max_events per request") {
  ParseOptions options;
  CHECK(parse_ok(tandem::testing::events_body(100), options).size() == 100);
  CHECK(parse_error(tandem::testing::events_body(101), options) == "too many events: more than 100");
  options.max_events = 3;
  CHECK(parse_error(tandem::testing::events_body(4), options) == "too many events: more than 3");
}

TEST_CASE("valid UTF-8 passes, including 4-byte sequences, and invalid UTF-8 anywhere is rejected") {
  auto events = parse_ok(
      "[{\"eventId\":1,\"portalId\":1,\"occurredAt\":1,\"subscriptionType\":\"contact.propertyChange\","
      "\"propertyValue\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}]");
  CHECK(events[0].property_value == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  const std::string event = R"({"eventId":1,"portalId":1,"occurredAt":1,"subscriptionType":"x","other":")";
  CHECK(parse_error("[" + event + "\xF0\x9F\x98\"}]") == "body is not valid UTF-8");      // truncated
  CHECK(parse_error("[" + event + "\xF5\x80\x80\x80\"}]") == "body is not valid UTF-8");  // beyond U+10FFFF
  CHECK(parse_error("[" + event + "\x80\"}]") == "body is not valid UTF-8");               // lone continuation
  CHECK(parse_error("[" + event + "ok\"}]\xFF") == "body is not valid UTF-8");            // after the JSON
}

TEST_CASE("each event's payload is its bytes exactly as received") {
  const std::string first = R"({"eventId":1, "portalId":1,"occurredAt":1,"subscriptionType":"contact.propertyChange","propertyValue":"a,b]}[{\"c\\"})";
  const std::string second = R"({ "eventId" : 2 , "portalId":1,"occurredAt":1,"subscriptionType":"x","mergedObjectIds":[1,[2,{"d":"]"}]] })";
  auto events = parse_ok(" [ " + first + " ,\n\t" + second + "\r\n] ");
  REQUIRE(events.size() == 2);
  CHECK(events[0].payload == first);
  CHECK(events[1].payload == second);
  CHECK(events[0].property_value == "a,b]}[{\"c\\");
  auto batch = parse_ok(tandem::testing::events_body(3, 7));
  CHECK(batch[2].payload == tandem::testing::event_json(9, 1009));

  SECTION("the text scan parse_events falls back on finds the same elements") {
    const std::string body = " [ " + first + " ,\n\t" + second + "\r\n] ";
    auto scanned = tandem::webhooks::detail::scan_top_level_elements(body);
    REQUIRE(scanned.size() == 2);
    // With the whitespace before the comma or bracket, which parse_events trims.
    CHECK(scanned[0] == first + " ");
    CHECK(scanned[1] == second + "\r\n");
    CHECK(tandem::webhooks::detail::scan_top_level_elements("[]").empty());
  }
}
