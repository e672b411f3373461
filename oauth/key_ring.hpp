#pragma once
// The keys that encrypt OAuth tokens at rest (oauth.token_key and oauth.previous_token_keys):
// AES-256-GCM through OpenSSL's EVP interface, a fresh random 96-bit nonce on every seal, and the
// caller's associated data (the account id) bound into the tag, so that a sealed value copied onto
// another account's row does not open.
//
// Sealed layout (binary): 'T' 1 | key id (8 bytes) | nonce (12) | ciphertext | tag (16).
// The key id is the first 8 bytes of SHA-256("tandem-token-key" || key): it names which key
// sealed a value without revealing anything about the key, so that an old value opens with the
// old key after rotation and a value sealed with an unknown key is refused with a clear message
// rather than an authentication failure.

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/secret.hpp"

namespace tandem::oauth {

struct KeyError {
  std::string message;  // never contains key material or plaintext
  friend std::ostream& operator<<(std::ostream& os, const KeyError& e) { return os << e.message; }
};

// A key as an admin writes it in a file or a variable: 64 hex digits, or the Base64 of 32 bytes
// (`openssl rand -hex 32`, `openssl rand -base64 32`); surrounding whitespace is ignored.
// Returns the 32 raw bytes.
Result<Secret, KeyError> decode_key(std::string_view text);

class KeyRing {
 public:
  // `current` seals; `current` and each of `previous` open. Each is text for decode_key().
  static Result<KeyRing, KeyError> from_secrets(const Secret& current, const std::vector<Secret>& previous = {});
  // From raw 32-byte keys (tests).
  static KeyRing from_raw(std::string current_key, std::vector<std::string> previous_keys = {});

  [[nodiscard]] std::string seal(std::string_view plaintext, std::string_view associated_data) const;
  // The plaintext; an error naming the key id when no configured key has it ("sealed with key
  // 1a2b3c4d5e6f7a8b, which is not configured: ..."), or saying the value or its associated data
  // was altered.
  [[nodiscard]] Result<Secret, KeyError> open(std::string_view sealed, std::string_view associated_data) const;
  // Hex key id of the current key (shown by `tandem tokens rotate-key`).
  [[nodiscard]] std::string current_key_id() const;
  // True when `sealed` was sealed with the current key (rotation skips those).
  [[nodiscard]] bool sealed_with_current(std::string_view sealed) const;

 private:
  struct Key {
    std::string id;   // 8 raw bytes
    std::string raw;  // 32 raw bytes
  };
  std::vector<Key> keys_;  // [0] is current
};

}  // namespace tandem::oauth
