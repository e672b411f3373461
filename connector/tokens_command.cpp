// `tandem tokens rotate-key --config FILE`: re-encrypts every stored OAuth token with
// oauth.token_key, after an admin moved the old key to oauth.previous_token_keys (examples/tandem.yaml).

#include <filesystem>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "common/config.hpp"
#include "common/metrics.hpp"
#include "connector/commands.hpp"
#include "connector/config.hpp"
#include "oauth/key_ring.hpp"
#include "store/database.hpp"
#include "store/sqlite_token_store.hpp"

namespace tandem::connector {
namespace {

// The database and the token store in it, in the order they close.
struct OpenTokenStore {
  OpenTokenStore(const store::StoreConfig& config, oauth::KeyRing keys)
      : database(config, metrics), tokens(database, std::move(keys)) {}
  MetricsRegistry metrics;
  store::Database database;
  store::SqliteTokenStore tokens;
};

int rotate_key(const std::string& config_path) {
  auto loaded_config = load_config(config_path);
  if (!loaded_config) return 1;
  TandemConfig config = std::move(*loaded_config);
  if (!config.oauth.token_key) {
    std::cerr << "tandem tokens rotate-key: oauth.token_key is not set: give the new key there (and the old one "
                 "under oauth.previous_token_keys)\n";
    return 1;
  }
  auto keys = oauth::KeyRing::from_secrets(*config.oauth.token_key, config.oauth.previous_token_keys);
  if (!keys) {
    std::cerr << "tandem tokens rotate-key: " << keys.error().message << '\n';
    return 1;
  }
  // As for `tandem outbox`: a mistyped path must be an error, not a new, empty database.
  if (!std::filesystem::exists(config.store.path)) {
    std::cerr << "tandem tokens rotate-key: no database at " << config.store.path << " (tandem serve creates it)\n";
    return 1;
  }
  const std::string key_id = keys->current_key_id();
  std::unique_ptr<OpenTokenStore> store;
  try {
    store = std::make_unique<OpenTokenStore>(config.store, std::move(*keys));
  } catch (const std::exception& e) {
    std::cerr << "tandem tokens rotate-key: " << e.what() << '\n';
    return 1;
  }
  auto rotated = store->tokens.rotate_key();
  if (!rotated) {
    std::cerr << "tandem tokens rotate-key: " << rotated.error().message << '\n';
    return 1;
  }
  std::cout << "re-encrypted " << *rotated << " accounts' tokens with key " << key_id << '\n';
  return 0;
}

}  // namespace

void add_tokens_command(CLI::App& app, int& exit_code) {
  static std::string config_path;
  config_path.clear();  // run_cli() may run more than once in a process (the tests)
  auto* tokens = app.add_subcommand("tokens", "Manage the OAuth tokens stored for the connected accounts");
  tokens->require_subcommand(1);
  auto* rotate =
      tokens->add_subcommand("rotate-key",
                             "Re-encrypt every stored token with oauth.token_key (after moving the old key to "
                             "oauth.previous_token_keys)");
  rotate->add_option("--config,-c", config_path, "Configuration file")->required()->check(CLI::ExistingFile);
  rotate->callback([&exit_code] { exit_code = rotate_key(config_path); });
}

}  // namespace tandem::connector
