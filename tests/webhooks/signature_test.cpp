#include <catch2/catch.hpp>

#include "common/clock.hpp"
#include "webhooks/signature.hpp"

using namespace tandem;
using namespace tandem::webhooks;

namespace {

constexpr const char* kSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
constexpr const char* kSdkBody =
    R"([{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}])";
constexpr std::int64_t kVectorTime = 1693657560000;

WebhooksConfig vector_config() {
  WebhooksConfig c;
  c.public_base_url = "https://www.example.com";
  c.client_secret = Secret(kSecret);
  return c;
}

http::Request v3_request(std::string target, std::string body, std::string signature, std::string timestamp) {
  http::Request r;
  r.method = "POST";
  r.target = std::move(target);
  r.body = std::move(body);
  r.headers.set("X-HubSpot-Signature-v3", signature);
  r.headers.set("X-HubSpot-Request-Timestamp", timestamp);
  return r;
}

}  // namespace

// Vectors from hubspot-contract.md §3.4 (vector 6 from HubSpot's Python SDK tests).
TEST_CASE("v3 signatures match the published vectors") {
  const std::string uri = "https://www.example.com/webhook_uri";
  CHECK(sign_v3(kSecret, "POST", uri, "{'example_field':'example_value'}", "1693657560000") ==
        "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=");
  CHECK(sign_v3(kSecret, "POST", uri, R"({"example_field":"example_value"})", "1693657560000") ==
        "oaA3M5dEtt6kFsseJD/Hv/x+JNl1vsoxFj4oxmwP6Go=");
  CHECK(sign_v3(kSecret, "POST", uri, kSdkBody, "1693657560000") == "ecWWq6SLunL3htE3leWhW3cjrE6R0rZmBOcQ2bf4D40=");
  CHECK(sign_v3(kSecret, "POST", hubspot_decode_uri(uri + "?source=push%2Fv3"), R"({"example_field":"example_value"})",
                "1693657560000") == "60VJyLO4DBiQv4ucFDliDzCfcQSWcN0VrSocAUuwELc=");
}

TEST_CASE("v1 and v2 signatures match the SDK vectors") {
  CHECK(sign_v1(kSecret, kSdkBody) == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de");
  CHECK(sign_v2(kSecret, "GET", "https://www.example.com/webhook_uri", "") ==
        "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e");
  CHECK(sign_v2(kSecret, "POST", "https://www.example.com/webhook_uri", R"({"example_field":"example_value"})") ==
        "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900");
}

TEST_CASE("the URI decoding applies exactly HubSpot's table") {
  CHECK(hubspot_decode_uri("https://h/p?a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B") == "https://h/p?a=:/?@!$'()*,;");
  CHECK(hubspot_decode_uri("/p?a=%3a%2f") == "/p?a=:/");  // either hex case
  CHECK(hubspot_decode_uri("/p?a=%20%25%26%3D%2B") == "/p?a=%20%25%26%3D%2B");  // not in the table: kept
  CHECK(hubspot_decode_uri("/p?a=%2") == "/p?a=%2");
  CHECK(hubspot_decode_uri("/p?a=%") == "/p?a=%");
  CHECK(hubspot_decode_uri("/p?a=%zz") == "/p?a=%zz");
  CHECK(hubspot_decode_uri("/p?a=%252F") == "/p?a=%252F");  // one level only
}

TEST_CASE("the verifier accepts a v3 vector and rejects every alteration") {
  ManualClock clock{from_epoch_ms(kVectorTime + 1000)};
  WebhooksConfig config = vector_config();
  SignatureVerifier verifier(config, clock);
  const std::string body = R"({"example_field":"example_value"})";
  const std::string good = "oaA3M5dEtt6kFsseJD/Hv/x+JNl1vsoxFj4oxmwP6Go=";

  CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "1693657560000")).ok());
  // The query is part of the signed URI, decoded per the table.
  CHECK(verifier.verify(v3_request("/webhook_uri?source=push%2Fv3", body, "60VJyLO4DBiQv4ucFDliDzCfcQSWcN0VrSocAUuwELc=",
                                   "1693657560000"))
            .ok());
  // A trailing slash in the configured base URL changes nothing.
  config.public_base_url = "https://www.example.com/";
  CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "1693657560000")).ok());
  config.public_base_url = "https://www.example.com";

  SECTION("a '+' that arrived as a space still matches") {
    std::string spaced = good;
    for (char& c : spaced) {
      if (c == '+') c = ' ';
    }
    CHECK(verifier.verify(v3_request("/webhook_uri", body, spaced, "1693657560000")).ok());
  }
  SECTION("forged signature") {
    CHECK(verifier.verify(v3_request("/webhook_uri", body, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "1693657560000"))
              .failure == SignatureFailure::kMismatch);
    CHECK(verifier.verify(v3_request("/webhook_uri", body, "", "1693657560000")).failure == SignatureFailure::kMismatch);
  }
  SECTION("wrong secret") {
    config.client_secret = Secret("another-secret");
    CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "1693657560000")).failure ==
          SignatureFailure::kMismatch);
  }
  SECTION("wrong method, path, host or timestamp value") {
    auto r = v3_request("/webhook_uri", body, good, "1693657560000");
    r.method = "PUT";
    CHECK(verifier.verify(r).failure == SignatureFailure::kMismatch);
    CHECK(verifier.verify(v3_request("/other_uri", body, good, "1693657560000")).failure == SignatureFailure::kMismatch);
    config.public_base_url = "http://www.example.com";
    CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "1693657560000")).failure == SignatureFailure::kMismatch);
    config.public_base_url = "https://www.example.com";
    CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "1693657560001")).failure == SignatureFailure::kMismatch);
  }
  SECTION("one byte of the body changed, or the body truncated") {
    for (std::size_t i = 0; i < body.size(); ++i) {
      std::string changed = body;
      changed[i] = static_cast<char>(changed[i] ^ 0x01);
      CHECK(verifier.verify(v3_request("/webhook_uri", changed, good, "1693657560000")).failure ==
            SignatureFailure::kMismatch);
      CHECK(verifier.verify(v3_request("/webhook_uri", body.substr(0, i), good, "1693657560000")).failure ==
            SignatureFailure::kMismatch);
    }
  }
  SECTION("missing, malformed, stale and future timestamps") {
    auto r = v3_request("/webhook_uri", body, good, "1693657560000");
    r.headers.remove("X-HubSpot-Request-Timestamp");
    CHECK(verifier.verify(r).failure == SignatureFailure::kBadTimestamp);
    CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "")).failure == SignatureFailure::kBadTimestamp);
    CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "169365756000x")).failure ==
          SignatureFailure::kBadTimestamp);
    CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "-1")).failure == SignatureFailure::kBadTimestamp);
    CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "99999999999999999999999")).failure ==
          SignatureFailure::kBadTimestamp);

    // Exactly 5 minutes old is still accepted; one millisecond more is not.
    clock.set(from_epoch_ms(kVectorTime + 300'000));
    CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "1693657560000")).ok());
    clock.set(from_epoch_ms(kVectorTime + 300'001));
    CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "1693657560000")).failure == SignatureFailure::kStale);
    clock.set(from_epoch_ms(kVectorTime - 300'000));
    CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "1693657560000")).ok());
    clock.set(from_epoch_ms(kVectorTime - 300'001));
    CHECK(verifier.verify(v3_request("/webhook_uri", body, good, "1693657560000")).failure == SignatureFailure::kFuture);
  }
}

TEST_CASE("v1 and v2 are accepted only when enabled, and never rescue a bad v3") {
  ManualClock clock{from_epoch_ms(kVectorTime)};
  WebhooksConfig config = vector_config();
  SignatureVerifier verifier(config, clock);
  http::Request r;
  r.method = "POST";
  r.target = "/webhook_uri";
  r.body = kSdkBody;
  r.headers.set("X-HubSpot-Signature", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de");
  r.headers.set("X-HubSpot-Signature-Version", "v1");
  CHECK(verifier.verify(r).failure == SignatureFailure::kVersionDisabled);
  config.accept_v1 = true;
  CHECK(verifier.verify(r).ok());
  r.body += " ";
  CHECK(verifier.verify(r).failure == SignatureFailure::kMismatch);
  r.body = kSdkBody;
  r.headers.set("X-HubSpot-Signature-v3", "AAAA");
  r.headers.set("X-HubSpot-Request-Timestamp", std::to_string(kVectorTime));
  CHECK(verifier.verify(r).failure == SignatureFailure::kMismatch);

  http::Request v2;
  v2.method = "POST";
  v2.target = "/webhook_uri";
  v2.body = R"({"example_field":"example_value"})";
  v2.headers.set("x-hubspot-signature", "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900");
  v2.headers.set("x-hubspot-signature-version", "v2");
  CHECK(verifier.verify(v2).failure == SignatureFailure::kVersionDisabled);
  config.accept_v2 = true;
  CHECK(verifier.verify(v2).ok());
  v2.method = "PUT";
  CHECK(verifier.verify(v2).failure == SignatureFailure::kMismatch);

  http::Request none;
  none.method = "POST";
  none.target = "/webhook_uri";
  CHECK(verifier.verify(none).failure == SignatureFailure::kMissing);
}
