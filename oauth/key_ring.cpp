#include "oauth/key_ring.hpp"

#include <openssl/evp.h>

#include <cctype>
#include <memory>

#include "common/crypto.hpp"

namespace tandem::oauth {

namespace {

constexpr char kVersion = 'T';
constexpr std::size_t kIdSize = 8, kNonceSize = 12, kTagSize = 16, kKeySize = 32;
constexpr std::size_t kHeader = 1 + kIdSize + kNonceSize;

std::string key_id(std::string_view raw) { return crypto::sha256("tandem-token-key" + std::string(raw)).substr(0, kIdSize); }

struct CipherContext {
  CipherContext() : ctx(EVP_CIPHER_CTX_new()) {}
  ~CipherContext() { EVP_CIPHER_CTX_free(ctx); }
  EVP_CIPHER_CTX* ctx;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Secret, KeyError> decode_key(std::string_view text) {
  text = trim(text);
  if (text.size() == 2 * kKeySize) {
    if (auto raw = crypto::from_hex(text)) return Secret(std::move(*raw));
  }
  std::string raw;
  if (crypto::base64_decode(text, raw) && raw.size() == kKeySize) return Secret(std::move(raw));
  if (text.empty()) return KeyError{"the key is empty: make one with `openssl rand -hex 32`"};
  return KeyError{"expected 32 bytes as 64 hex digits or Base64 (`openssl rand -hex 32`), got " + std::to_string(text.size()) +
                  " characters that are neither"};
}

Result<KeyRing, KeyError> KeyRing::from_secrets(const Secret& current, const std::vector<Secret>& previous) {
  KeyRing ring;
  auto add = [&ring](const Secret& s, const std::string& which) -> std::optional<KeyError> {
    auto raw = decode_key(s.reveal());
    if (!raw) return KeyError{which + ": " + raw.error().message};
    ring.keys_.push_back(Key{key_id(raw->reveal()), std::string(raw->reveal())});
    return std::nullopt;
  };
  if (auto e = add(current, "the current key")) return *e;
  for (std::size_t i = 0; i < previous.size(); ++i)
    if (auto e = add(previous[i], "previous key " + std::to_string(i + 1))) return *e;
  return ring;
}

KeyRing KeyRing::from_raw(std::string current_key, std::vector<std::string> previous_keys) {
  KeyRing ring;
  ring.keys_.push_back(Key{key_id(current_key), std::move(current_key)});
  for (auto& k : previous_keys) ring.keys_.push_back(Key{key_id(k), std::move(k)});
  return ring;
}

std::string KeyRing::seal(std::string_view plaintext, std::string_view associated_data) const {
  const Key& key = keys_.front();
  std::string out;
  out.reserve(kHeader + plaintext.size() + kTagSize);
  out.push_back(kVersion);
  out += key.id;
  out += crypto::random_bytes(kNonceSize);
  CipherContext c;
  int len = 0;
  EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize), nullptr);
  EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, reinterpret_cast<const unsigned char*>(key.raw.data()),
                     reinterpret_cast<const unsigned char*>(out.data() + 1 + kIdSize));
  EVP_EncryptUpdate(c.ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(associated_data.data()),
                    static_cast<int>(associated_data.size()));
  std::string body(plaintext.size() + 16, '\0');
  EVP_EncryptUpdate(c.ctx, reinterpret_cast<unsigned char*>(body.data()), &len,
                    reinterpret_cast<const unsigned char*>(plaintext.data()), static_cast<int>(plaintext.size()));
  int total = len;
  EVP_EncryptFinal_ex(c.ctx, reinterpret_cast<unsigned char*>(body.data()) + total, &len);
  total += len;
  body.resize(static_cast<std::size_t>(total));
  char tag[kTagSize];
  EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag);
  out += body;
  out.append(tag, kTagSize);
  return out;
}

Result<Secret, KeyError> KeyRing::open(std::string_view sealed, std::string_view associated_data) const {
  if (sealed.size() < kHeader + kTagSize || sealed[0] != kVersion)
    return KeyError{"not a sealed token (the store holds something Tandem did not write)"};
  std::string_view id = sealed.substr(1, kIdSize);
  const Key* key = nullptr;
  for (const auto& k : keys_)
    if (k.id == id) key = &k;
  if (!key)
    return KeyError{"the tokens were sealed with key " + crypto::to_hex(id) +
                    ", which is not configured (oauth.token_key or oauth.previous_token_keys): the store was written with "
                    "another key"};
  std::string_view nonce = sealed.substr(1 + kIdSize, kNonceSize);
  std::string_view body = sealed.substr(kHeader, sealed.size() - kHeader - kTagSize);
  std::string tag(sealed.substr(sealed.size() - kTagSize));
  CipherContext c;
  int len = 0;
  EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize), nullptr);
  EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, reinterpret_cast<const unsigned char*>(key->raw.data()),
                     reinterpret_cast<const unsigned char*>(nonce.data()));
  EVP_DecryptUpdate(c.ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(associated_data.data()),
                    static_cast<int>(associated_data.size()));
  std::string plain(body.size() + 16, '\0');
  EVP_DecryptUpdate(c.ctx, reinterpret_cast<unsigned char*>(plain.data()), &len,
                    reinterpret_cast<const unsigned char*>(body.data()), static_cast<int>(body.size()));
  int total = len;
  EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag.data());
  if (EVP_DecryptFinal_ex(c.ctx, reinterpret_cast<unsigned char*>(plain.data()) + total, &len) != 1) {
    std::fill(plain.begin(), plain.end(), '\0');
    return KeyError{"the tokens sealed with key " + crypto::to_hex(id) +
                    " failed authentication: the value or the account it belongs to was altered"};
  }
  total += len;
  plain.resize(static_cast<std::size_t>(total));
  return Secret(std::move(plain));
}

std::string KeyRing::current_key_id() const { return crypto::to_hex(keys_.front().id); }

bool KeyRing::sealed_with_current(std::string_view sealed) const {
  return sealed.size() >= kHeader && sealed[0] == kVersion && sealed.substr(1, kIdSize) == keys_.front().id;
}

}  // namespace tandem::oauth
