#include "connector/account_store.hpp"

#include <filesystem>
#include <iostream>

#include "common/crypto.hpp"

namespace tandem::connector {

std::optional<LoadedStore> open_store(const std::string& config_path, bool need_key, std::string_view command) {
  auto config = load_config(config_path);
  if (!config) return std::nullopt;
  LoadedStore loaded;
  loaded.config = std::move(*config);
  const auto& c = loaded.config;
  if (!std::filesystem::exists(c.store.path)) {
    std::cerr << command << ": no database at " << c.store.path << " (tandem serve creates it)\n";
    return std::nullopt;
  }
  std::optional<oauth::KeyRing> keys;
  if (c.oauth.token_key) {
    auto ring = oauth::KeyRing::from_secrets(*c.oauth.token_key, c.oauth.previous_token_keys);
    if (!ring) {
      std::cerr << command << ": oauth.token_key: " << ring.error().message << '\n';
      return std::nullopt;
    }
    keys = std::move(*ring);
  } else if (need_key) {
    std::cerr << command << ": oauth.token_key is not set: the tokens cannot be read\n";
    return std::nullopt;
  } else {
    // Reads no token: a key of its own, never used to open anything.
    keys = oauth::KeyRing::from_raw(crypto::random_bytes(32));
  }
  try {
    loaded.store = std::make_unique<OpenedStore>(c.store, std::move(*keys));
  } catch (const std::exception& e) {
    std::cerr << command << ": " << e.what() << '\n';
    return std::nullopt;
  }
  return loaded;
}

}  // namespace tandem::connector
