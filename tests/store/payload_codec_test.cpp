#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "store/payload_codec.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

using tandem::store::decode_payload;
using tandem::store::encode_payload;

namespace {

std::string round_trip(const std::string& json) {
  std::string stored;
  REQUIRE(encode_payload(json, stored));
  return decode_payload(stored);
}

}  // namespace

TEST_CASE("a stored payload reads back byte for byte, and is much shorter") {
  const std::string event =
      R"({"eventId":200000000001,"subscriptionId":7662269,"portalId":62515,"appId":9393361,)"
      R"("occurredAt":1763800000000,"subscriptionType":"contact.propertyChange","attemptNumber":0,)"
      R"("objectId":200000005001,"propertyName":"lifecyclestage","propertyValue":"marketingqualifiedlead",)"
      R"("changeSource":"CRM_UI","sourceId":"userId:98499705"})";
  std::string stored;
  REQUIRE(encode_payload(event, stored));
  CHECK(stored.size() * 2 < event.size());
  CHECK(decode_payload(stored) == event);
  CHECK(round_trip(tandem::testing::event_json(9, 1009)) == tandem::testing::event_json(9, 1009));
}

TEST_CASE("the substitutions are textual, so look-alikes inside strings read back too") {
  for (std::string json : {
           std::string(R"({"a":"\"eventId\":","b":"x\"eventId":1})"),
           std::string(R"({"eventId\"":"\\"eventId":"contact.creation"})"),
           std::string(R"(["contact.creationX","contact.creation","CRM_UI" , "userId:" ,"userId:1"])"),
           std::string(R"("eventId")"), std::string(R"(")"), std::string(R"("")"), std::string(),
           std::string("{\"propertyValue\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}\t\n\r "),
       }) {
    CHECK(round_trip(json) == json);
  }
}

TEST_CASE("text holding a code byte is not JSON and is refused, to be stored as it is") {
  std::string stored;
  CHECK_FALSE(encode_payload(std::string("{\"a\":\"\x01\"}"), stored));
  CHECK_FALSE(encode_payload(std::string("\x1f"), stored));
  // At every position of a word and of the tail; whitespace below 0x20 is no code.
  for (std::size_t at = 0; at < 25; ++at) {
    std::string text(25, 'a');
    text[at] = '\x05';
    CHECK_FALSE(encode_payload(text, stored));
    text[at] = '\n';
    CHECK(round_trip(text) == text);
  }
  // A NUL byte is no code: it goes through unchanged.
  const std::string with_nul("{\"eventId\":\0}", 13);
  CHECK(round_trip(with_nul) == with_nul);
}

TEST_CASE("random text made of the substituted pieces reads back exactly") {
  const char* pieces[] = {"\"", "eventId", "\":", "\"eventId\":", "contact.", "propertyChange", "\\", "\\\"",
                          "userId:", "CRM_UI", "\"CRM_UI\"", "object", "\"o", "x", "\xC3\xA9", " ", "\t", ","};
  std::mt19937 random(20261201);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int n = static_cast<int>(random() % 40);
    for (int i = 0; i < n; ++i) text += pieces[random() % std::size(pieces)];
    INFO(text);
    REQUIRE(round_trip(text) == text);
  }
}
