#include <catch2/catch.hpp>

#include "common/crypto.hpp"

using namespace tandem::crypto;

// Vectors from RFC 4231 (HMAC-SHA256) and FIPS 180-2 (SHA-256).
TEST_CASE("SHA-256 and HMAC-SHA256 match published vectors") {
  CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// The v1 vector of HubSpot's own SDK tests: sha256(clientSecret + body) in hex
// (HubSpot/hubspot-api-nodejs test/unit/signature.spec.ts).
TEST_CASE("HubSpot's v1 signature vector") {
  std::string body =
      R"([{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}])";
  CHECK(to_hex(sha256("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy" + body)) ==
        "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de");
}

TEST_CASE("Base64 round-trips (RFC 4648 vectors)") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  std::string out;
  REQUIRE(base64_decode("Zm8=", out));
  CHECK(out == "fo");
  REQUIRE(base64_decode("Zm9vYmFy", out));
  CHECK(out == "foobar");
  CHECK_FALSE(base64_decode("Zm9", out));
  CHECK_FALSE(base64_decode("Z!==", out));
}

TEST_CASE("hex decodes what to_hex encodes, in either case, and nothing else") {
  const std::string all = [] {
    std::string bytes;
    for (int c = 0; c < 256; ++c) bytes += static_cast<char>(c);
    return bytes;
  }();
  CHECK(from_hex(to_hex(all)) == all);
  CHECK(from_hex("") == "");
  CHECK(from_hex("DEADbeef") == "\xde\xad\xbe\xef");
  CHECK(from_hex("2F") == "/");
  CHECK_FALSE(from_hex("abc"));  // odd length
  for (const char* bad : {"0g", "g0", " 0", "0x", "-1", "0:", "@0", "`0", "0G"}) {
    INFO(bad);
    CHECK_FALSE(from_hex(bad));
  }
  CHECK(hex_byte('3', 'a') == ':');
  CHECK(hex_byte('3', 'A') == ':');
  CHECK_FALSE(hex_byte('3', 'z'));
  CHECK(hex_digit_value('f') == 15);
  CHECK(hex_digit_value('F') == 15);
  CHECK(hex_digit_value('/') == -1);
}

TEST_CASE("UUIDs are version 4 and distinct") {
  auto a = uuid_v4();
  auto b = uuid_v4();
  CHECK(a.size() == 36);
  CHECK(a[14] == '4');
  CHECK(a != b);
  CHECK(random_hex(16).size() == 32);
}
