#pragma once
// Cryptographic primitives over OpenSSL, for HubSpot's webhook signatures (v1/v2: SHA-256 hex;
// v3: HMAC-SHA256 Base64), token encryption and random identifiers.

#include <optional>
#include <string>
#include <string_view>

namespace tandem::crypto {

std::string sha256(std::string_view data);                         // 32 raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string to_hex(std::string_view bytes);                        // lowercase
// The one hex decoder (digests, %XX escapes). Either case is accepted.
// 0-15 for a hex digit, -1 for any other character.
constexpr int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// The byte two hex digits spell ('2', 'F' -> '/'); nullopt unless both are hex digits.
constexpr std::optional<char> hex_byte(char high, char low) {
  const int h = hex_digit_value(high);
  const int l = hex_digit_value(low);
  if (h < 0 || l < 0) return std::nullopt;
  return static_cast<char>(h * 16 + l);
}
// The inverse of to_hex; nullopt for an odd length or a character that is not a hex digit.
std::optional<std::string> from_hex(std::string_view text);
std::string base64_encode(std::string_view bytes);                 // standard alphabet, '=' padding
// Nullopt-free: returns false on malformed input.
bool base64_decode(std::string_view text, std::string& out);
// Cryptographically secure random bytes.
std::string random_bytes(std::size_t count);
// Random lowercase hex identifier of 2*bytes characters.
std::string random_hex(std::size_t bytes);
// RFC 4122 version 4 UUID, as HubSpot uses for correlationId.
std::string uuid_v4();

}  // namespace tandem::crypto
