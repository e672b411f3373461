#include "oauth/key_ring.hpp"

#include <cassert>
#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/crypto.hpp"

namespace tandem::oauth {

namespace {

constexpr char kVersion = 'T';
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kIdSize = 8;
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kHeaderSize = 1 + kIdSize + kNonceSize;
constexpr std::size_t kMinSealedSize = kHeaderSize + kTagSize;
constexpr std::string_view kIdLabel = "tandem-token-key";

// Overwrites a temporary that held key material or plaintext before it is freed.
void wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

std::string key_id_of(std::string_view raw) {
  std::string input(kIdLabel);
  input.append(raw);
  std::string digest = crypto::sha256(input);
  wipe(input);
  return digest.substr(0, kIdSize);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool all_hex(std::string_view text) {
  for (char c : text)
    if (crypto::hex_digit_value(c) < 0) return false;
  return true;
}

struct CipherContextFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextFree>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

Result<Secret, KeyError> decode_key(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty())
    return KeyError{
        "the token key is empty: expected 64 hex digits or the Base64 of 32 bytes "
        "(openssl rand -hex 32)"};
  // Hex first: a Base64 key of 32 bytes always ends in '=', which is no hex digit.
  if (all_hex(text)) {
    if (text.size() != 2 * kKeySize) {
      return KeyError{"the token key has " + std::to_string(text.size()) + " hex digits (" +
                      std::to_string(text.size() / 2) + " bytes); expected 64 (32 bytes, openssl rand -hex 32)"};
    }
    auto raw = crypto::from_hex(text);
    assert(raw);  // every character is a hex digit and the length is even
    return Secret(std::move(*raw));
  }
  std::string raw;
  if (!crypto::base64_decode(text, raw)) {
    wipe(raw);
    return KeyError{
        "the token key is neither 64 hex digits nor the Base64 of 32 bytes "
        "(make one with openssl rand -hex 32)"};
  }
  if (raw.size() != kKeySize) {
    const std::size_t size = raw.size();
    wipe(raw);
    return KeyError{"the token key is Base64 of " + std::to_string(size) +
                    " bytes; expected 32 (openssl rand -base64 32)"};
  }
  return Secret(std::move(raw));
}

Result<KeyRing, KeyError> KeyRing::from_secrets(const Secret& current, const std::vector<Secret>& previous) {
  auto decoded = decode_key(current.reveal());
  if (!decoded) return KeyError{"oauth.token_key: " + decoded.error().message};
  KeyRing ring;
  ring.keys_.push_back({key_id_of(decoded->reveal()), std::string(decoded->reveal())});
  for (std::size_t i = 0; i < previous.size(); ++i) {
    auto old = decode_key(previous[i].reveal());
    if (!old)
      return KeyError{"oauth.previous_token_keys (entry " + std::to_string(i + 1) + "): " + old.error().message};
    ring.keys_.push_back({key_id_of(old->reveal()), std::string(old->reveal())});
  }
  return ring;
}

KeyRing KeyRing::from_raw(std::string current_key, std::vector<std::string> previous_keys) {
  KeyRing ring;
  assert(current_key.size() == kKeySize);
  ring.keys_.push_back({key_id_of(current_key), current_key});
  wipe(current_key);
  for (auto& k : previous_keys) {
    assert(k.size() == kKeySize);
    ring.keys_.push_back({key_id_of(k), k});
    wipe(k);
  }
  return ring;
}

std::string KeyRing::seal(std::string_view plaintext, std::string_view associated_data) const {
  const Key& key = keys_.front();
  const std::string nonce = crypto::random_bytes(kNonceSize);
  std::string out;
  out.reserve(kHeaderSize + plaintext.size() + kTagSize);
  out.push_back(kVersion);
  out += key.id;
  out += nonce;
  out.resize(kHeaderSize + plaintext.size() + kTagSize);

  // Failures here are OpenSSL failing on valid arguments (out of memory): no outside input causes
  // them, so they are thrown, like a failing random generator.
  CipherContext ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  int final_n = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize), nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key.raw), bytes(nonce)) != 1 ||
      (!associated_data.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(associated_data),
                                                     static_cast<int>(associated_data.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), bytes(out) + kHeaderSize, &n, bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes(out) + kHeaderSize + n, &final_n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                          bytes(out) + kHeaderSize + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  assert(static_cast<std::size_t>(n + final_n) == plaintext.size());
  return out;
}

Result<Secret, KeyError> KeyRing::open(std::string_view sealed, std::string_view associated_data) const {
  if (sealed.size() < kMinSealedSize || sealed.front() != kVersion)
    return KeyError{"not a sealed token (too short or an unknown format)"};
  const std::string_view id = sealed.substr(1, kIdSize);
  const Key* key = nullptr;
  for (const Key& k : keys_)
    if (k.id == id) key = &k;
  if (key == nullptr) {
    return KeyError{"sealed with key " + crypto::to_hex(id) +
                    ", which is not configured (oauth.token_key or oauth.previous_token_keys): the store was "
                    "written with another key"};
  }
  const std::string_view nonce = sealed.substr(1 + kIdSize, kNonceSize);
  const std::string_view ciphertext = sealed.substr(kHeaderSize, sealed.size() - kMinSealedSize);
  std::string tag(sealed.substr(sealed.size() - kTagSize));
  std::string plaintext(ciphertext.size(), '\0');

  CipherContext ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  int final_n = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key->raw), bytes(nonce)) != 1) {
    throw std::runtime_error("AES-256-GCM decryption could not start");
  }
  const bool authentic =
      (associated_data.empty() || EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(associated_data),
                                                    static_cast<int>(associated_data.size())) == 1) &&
      EVP_DecryptUpdate(ctx.get(), bytes(plaintext), &n, bytes(ciphertext), static_cast<int>(ciphertext.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), bytes(plaintext) + n, &final_n) == 1;
  if (!authentic) {
    wipe(plaintext);
    return KeyError{"the token sealed with key " + crypto::to_hex(id) +
                    " failed authentication: the value or its account was altered"};
  }
  return Secret(std::move(plaintext));
}

std::string KeyRing::current_key_id() const { return crypto::to_hex(keys_.front().id); }

bool KeyRing::sealed_with_current(std::string_view sealed) const {
  return sealed.size() >= kMinSealedSize && sealed.front() == kVersion && sealed.substr(1, kIdSize) == keys_.front().id;
}

}  // namespace tandem::oauth
