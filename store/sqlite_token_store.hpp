#pragma once
// The token store (oauth/token_store.hpp) as two tables of the store's SQLite database (component
// "tokens"): oauth_accounts, what may be shown of each account, and oauth_tokens, each account's
// access and refresh token sealed with AES-256-GCM (oauth/key_ring.hpp; the account id as
// associated data). Neither a token nor a key is ever written in clear, to the file or its WAL.

#include <memory>

#include "oauth/key_ring.hpp"
#include "oauth/token_store.hpp"
#include "store/database.hpp"

namespace tandem::store {

class SqliteTokenStore final : public oauth::TokenStore {
 public:
  // Migrates the tables (SqliteError on failure: a start-up error). db must outlive the store.
  SqliteTokenStore(Database& db, oauth::KeyRing keys);
  ~SqliteTokenStore() override;

  oauth::TokenStoreResult<void> save_install(const oauth::Account& account, const oauth::Tokens& tokens) override;
  oauth::TokenStoreResult<bool> save_refresh(std::int64_t portal, const oauth::Tokens& tokens, std::int64_t now) override;
  oauth::TokenStoreResult<std::optional<oauth::Tokens>> tokens(std::int64_t portal) override;
  oauth::TokenStoreResult<std::optional<oauth::Account>> account(std::int64_t portal) override;
  oauth::TokenStoreResult<std::vector<oauth::Account>> accounts() override;
  oauth::TokenStoreResult<bool> mark_needs_reauthorisation(std::int64_t portal, std::string reason, std::int64_t now) override;
  oauth::TokenStoreResult<bool> disconnect(std::int64_t portal, std::string reason, std::int64_t now) override;
  oauth::TokenStoreResult<void> set_properties(std::int64_t portal, bool ready, std::string error, std::int64_t now) override;
  oauth::TokenStoreResult<bool> forget(std::int64_t portal) override;
  oauth::TokenStoreResult<std::vector<std::int64_t>> purge_disconnected(std::chrono::milliseconds retention,
                                                                        std::int64_t now) override;
  oauth::TokenStoreResult<std::size_t> rotate_key() override;

 private:
  template <class T, class F>
  oauth::TokenStoreResult<T> write(F&& f);
  template <class T, class F>
  oauth::TokenStoreResult<T> read(F&& f);
  [[nodiscard]] std::string seal(std::int64_t portal, const oauth::Tokens& tokens) const;

  Database& db_;
  oauth::KeyRing keys_;
};

}  // namespace tandem::store
