#pragma once
// What a command-line tool opens to work on the accounts of a running Tandem: the configuration,
// the database it names, and over it the token store (keys from oauth.token_key), the outbox and
// the contact states.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/metrics.hpp"
#include "connector/config.hpp"
#include "oauth/key_ring.hpp"
#include "store/database.hpp"
#include "store/sqlite_contact_states.hpp"
#include "store/sqlite_outbox.hpp"
#include "store/sqlite_token_store.hpp"

namespace tandem::connector {

struct OpenedStore {
  OpenedStore(const store::StoreConfig& c, oauth::KeyRing keys)
      : database(c, metrics), outbox(database), tokens(database, std::move(keys)), contacts(database) {}
  MetricsRegistry metrics;
  store::Database database;
  store::SqliteOutbox outbox;
  store::SqliteTokenStore tokens;
  store::SqliteContactStates contacts;
};

struct LoadedStore {
  TandemConfig config;
  std::unique_ptr<OpenedStore> store;
};

// Nullopt after printing why on stderr, each line starting with `command`. `need_key`: the tokens
// will be read (listing accounts needs no key, and then gets one that opens nothing).
std::optional<LoadedStore> open_store(const std::string& config_path, bool need_key, std::string_view command);

}  // namespace tandem::connector
