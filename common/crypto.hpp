#pragma once
// Cryptographic primitives over OpenSSL, for HubSpot's webhook signatures (v1/v2: SHA-256 hex;
// v3: HMAC-SHA256 Base64), token encryption and random identifiers.

#include <string>
#include <string_view>

namespace tandem::crypto {

std::string sha256(std::string_view data);                         // 32 raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string to_hex(std::string_view bytes);                        // lowercase
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
