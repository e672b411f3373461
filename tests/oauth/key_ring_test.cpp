// oauth/key_ring.hpp: AES-256-GCM sealing of tokens, key ids, rotation and key decoding.

#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include "common/crypto.hpp"
#include "oauth/key_ring.hpp"

using namespace tandem;
using tandem::oauth::KeyRing;

namespace {

// The key id as the header describes it, computed here independently of key_ring.cpp.
std::string expected_id(const std::string& raw) {
  return crypto::to_hex(crypto::sha256("tandem-token-key" + raw).substr(0, 8));
}

// Opens a sealed value with OpenSSL directly, following the layout in the header:
// 'T' | key id (8) | nonce (12) | ciphertext | tag (16). Nullopt when the tag does not verify.
std::optional<std::string> open_by_hand(const std::string& sealed, const std::string& key, const std::string& ad) {
  REQUIRE(sealed.size() >= 37);
  const std::string nonce = sealed.substr(9, 12);
  const std::string ciphertext = sealed.substr(21, sealed.size() - 37);
  std::string tag = sealed.substr(sealed.size() - 16);
  std::string out(ciphertext.size(), '\0');
  auto u = [](const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int n = 0;
  int f = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx, nullptr, nullptr, u(key), u(nonce)) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &n, u(ad), static_cast<int>(ad.size())) == 1 &&
            EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n, u(ciphertext),
                              static_cast<int>(ciphertext.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + n, &f) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  return out;
}

std::string revealed(const Result<Secret, oauth::KeyError>& r) {
  if (!r) FAIL("unexpected error: " << r.error().message);
  return std::string(r->reveal());
}

}  // namespace

TEST_CASE("key ring seals and opens a value as AES-256-GCM in the documented layout") {
  const std::string key = crypto::random_bytes(32);
  const KeyRing ring = KeyRing::from_raw(key);
  const std::string plaintext = R"({"access_token":"a-token","refresh_token":"r-token","expires_at":1})";
  const std::string sealed = ring.seal(plaintext, "tandem-oauth-tokens:62515");

  CHECK(sealed.size() == 1 + 8 + 12 + plaintext.size() + 16);
  CHECK(sealed[0] == 'T');
  CHECK(crypto::to_hex(sealed.substr(1, 8)) == expected_id(key));
  CHECK(ring.current_key_id() == expected_id(key));
  CHECK(sealed.find("a-token") == std::string::npos);
  CHECK(ring.sealed_with_current(sealed));

  CHECK(revealed(ring.open(sealed, "tandem-oauth-tokens:62515")) == plaintext);
  // An independent AES-256-GCM decryption agrees: the value is what the header says it is.
  auto by_hand = open_by_hand(sealed, key, "tandem-oauth-tokens:62515");
  REQUIRE(by_hand.has_value());
  CHECK(*by_hand == plaintext);
  CHECK_FALSE(open_by_hand(sealed, key, "tandem-oauth-tokens:1").has_value());
  // The empty plaintext seals too.
  CHECK(revealed(ring.open(ring.seal("", "ad"), "ad")).empty());
}

TEST_CASE("key ring uses a fresh nonce for every seal") {
  const KeyRing ring = KeyRing::from_raw(crypto::random_bytes(32));
  const std::string a = ring.seal("same plaintext", "ad");
  const std::string b = ring.seal("same plaintext", "ad");
  CHECK(a != b);
  CHECK(a.substr(9, 12) != b.substr(9, 12));
  CHECK(revealed(ring.open(a, "ad")) == revealed(ring.open(b, "ad")));
}

TEST_CASE("key ring refuses another associated data and any altered byte") {
  const KeyRing ring = KeyRing::from_raw(crypto::random_bytes(32));
  const std::string sealed = ring.seal("the refresh token", "tandem-oauth-tokens:1");

  auto wrong_ad = ring.open(sealed, "tandem-oauth-tokens:2");
  REQUIRE_FALSE(wrong_ad.has_value());
  CHECK_THAT(wrong_ad.error().message, Catch::Contains("failed authentication"));
  CHECK_THAT(wrong_ad.error().message, Catch::Contains("altered"));
  CHECK_THAT(wrong_ad.error().message, !Catch::Contains("refresh token"));

  // Every byte after the key id (nonce, ciphertext, tag): flipping one bit fails authentication.
  for (std::size_t i = 9; i < sealed.size(); ++i) {
    std::string altered = sealed;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    auto opened = ring.open(altered, "tandem-oauth-tokens:1");
    INFO("byte " << i);
    REQUIRE_FALSE(opened.has_value());
    CHECK_THAT(opened.error().message, Catch::Contains("failed authentication"));
  }
}

TEST_CASE("key ring tells a value that is not sealed from one sealed with an unknown key") {
  const std::string key = crypto::random_bytes(32);
  const KeyRing ring = KeyRing::from_raw(key);
  const std::string sealed = ring.seal("plaintext", "ad");

  for (const std::string& junk : {std::string(), std::string("T"), sealed.substr(0, 36), "X" + sealed.substr(1)}) {
    auto opened = ring.open(junk, "ad");
    REQUIRE_FALSE(opened.has_value());
    CHECK_THAT(opened.error().message, Catch::Contains("not a sealed token"));
  }

  const std::string other_key = crypto::random_bytes(32);
  const KeyRing other = KeyRing::from_raw(other_key);
  auto unknown = other.open(sealed, "ad");
  REQUIRE_FALSE(unknown.has_value());
  const std::string& message = unknown.error().message;
  CHECK_THAT(message, Catch::Contains("sealed with key " + expected_id(key) + ", which is not configured"));
  CHECK_THAT(message, Catch::Contains("oauth.token_key or oauth.previous_token_keys"));
  CHECK_THAT(message, Catch::Contains("written with another key"));
  CHECK_THAT(message, !Catch::Contains(crypto::to_hex(key)));
  CHECK_THAT(message, !Catch::Contains(crypto::to_hex(other_key)));
  CHECK_FALSE(other.sealed_with_current(sealed));
}

TEST_CASE("key ring opens with previous keys and seals with the current one") {
  const std::string old_key = crypto::random_bytes(32);
  const std::string new_key = crypto::random_bytes(32);
  const KeyRing before = KeyRing::from_raw(old_key);
  const std::string old_sealed = before.seal("old value", "ad");

  const KeyRing after = KeyRing::from_raw(new_key, {old_key});
  CHECK(after.current_key_id() == expected_id(new_key));
  CHECK(revealed(after.open(old_sealed, "ad")) == "old value");
  CHECK_FALSE(after.sealed_with_current(old_sealed));

  const std::string new_sealed = after.seal("new value", "ad");
  CHECK(after.sealed_with_current(new_sealed));
  CHECK(crypto::to_hex(new_sealed.substr(1, 8)) == expected_id(new_key));
  // The old key alone cannot open what the new one sealed.
  auto refused = before.open(new_sealed, "ad");
  REQUIRE_FALSE(refused.has_value());
  CHECK_THAT(refused.error().message, Catch::Contains(expected_id(new_key)));
}

TEST_CASE("decode_key accepts 64 hex digits and Base64 of 32 bytes") {
  const std::string raw = crypto::random_bytes(32);
  CHECK(revealed(oauth::decode_key(crypto::to_hex(raw))) == raw);
  std::string upper = crypto::to_hex(raw);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(revealed(oauth::decode_key(upper)) == raw);
  CHECK(revealed(oauth::decode_key("  " + crypto::to_hex(raw) + "\n")) == raw);
  CHECK(revealed(oauth::decode_key(crypto::base64_encode(raw))) == raw);
  CHECK(revealed(oauth::decode_key("\t" + crypto::base64_encode(raw) + "\r\n")) == raw);

  // from_secrets decodes both and the resulting ring is the raw keys' ring.
  const std::string old_raw = crypto::random_bytes(32);
  auto ring = KeyRing::from_secrets(Secret(crypto::base64_encode(raw)), {Secret(crypto::to_hex(old_raw) + "\n")});
  REQUIRE(ring.has_value());
  CHECK(ring->current_key_id() == expected_id(raw));
  CHECK(revealed(ring->open(KeyRing::from_raw(old_raw).seal("x", "ad"), "ad")) == "x");
}

TEST_CASE("decode_key rejects 31 and 33 bytes and junk with clear messages") {
  const std::string b31 = crypto::random_bytes(31);
  const std::string b33 = crypto::random_bytes(33);
  struct Case {
    std::string text;
    std::string says;
  };
  const std::vector<Case> cases = {
      {crypto::to_hex(b31), "62 hex digits"},
      {crypto::to_hex(b33), "66 hex digits"},
      {crypto::base64_encode(b31), "Base64 of 31 bytes"},
      {crypto::base64_encode(b33), "Base64 of 33 bytes"},
      {"not a key at all!", "neither 64 hex digits nor the Base64 of 32 bytes"},
      {"   \n", "empty"},
  };
  for (const auto& c : cases) {
    auto decoded = oauth::decode_key(c.text);
    INFO(c.says);
    REQUIRE_FALSE(decoded.has_value());
    CHECK_THAT(decoded.error().message, Catch::Contains(c.says));
    if (c.text.size() > 8) CHECK_THAT(decoded.error().message, !Catch::Contains(c.text));
  }

  auto ring = KeyRing::from_secrets(Secret(crypto::to_hex(crypto::random_bytes(32))), {Secret("short")});
  REQUIRE_FALSE(ring.has_value());
  CHECK_THAT(ring.error().message, Catch::StartsWith("oauth.previous_token_keys (entry 1): "));
  auto bad_current = KeyRing::from_secrets(Secret(crypto::to_hex(b31)));
  REQUIRE_FALSE(bad_current.has_value());
  CHECK_THAT(bad_current.error().message, Catch::StartsWith("oauth.token_key: "));
}
