#pragma once
// The token store (oauth/token_store.hpp) as two tables of the store's SQLite database (component
// "tokens"):
//   oauth_accounts  one row per portal: every non-secret Account field, in the clear (what
//                   `tandem accounts` prints);
//   oauth_tokens    one row per portal with tokens: the id of the key that sealed them and the
//                   sealed value (oauth/key_ring.hpp) of {access_token, refresh_token, expires_at}
//                   as JSON, with "tandem-oauth-tokens:<portal id>" as associated data, so that a
//                   sealed value copied onto another portal's row does not open.
// A token is never written to the file (nor its WAL) in the clear: each save seals afresh.
//
// Beyond the interface's contract: mark_needs_reauthorisation() returns false for a disconnected
// account as well as for an unknown one (a refresh that fails after an admin disconnected must
// not bring the account back).

#include "oauth/key_ring.hpp"
#include "oauth/token_store.hpp"
#include "store/database.hpp"

namespace tandem::store {

class SqliteTokenStore final : public oauth::TokenStore {
 public:
  // Migrates the tables (a start-up error, SqliteError, on failure). db must outlive it.
  SqliteTokenStore(Database& db, oauth::KeyRing keys);

  oauth::TokenStoreResult<void> save_install(const oauth::Account& account, const oauth::Tokens& tokens) override;
  oauth::TokenStoreResult<bool> save_refresh(std::int64_t portal, const oauth::Tokens& tokens,
                                             std::int64_t now) override;
  oauth::TokenStoreResult<std::optional<oauth::Tokens>> tokens(std::int64_t portal) override;
  oauth::TokenStoreResult<std::optional<oauth::Account>> account(std::int64_t portal) override;
  oauth::TokenStoreResult<std::vector<oauth::Account>> accounts() override;
  oauth::TokenStoreResult<bool> mark_needs_reauthorisation(std::int64_t portal, std::string reason,
                                                           std::int64_t now) override;
  oauth::TokenStoreResult<bool> disconnect(std::int64_t portal, std::string reason, std::int64_t now) override;
  oauth::TokenStoreResult<void> set_properties(std::int64_t portal, bool ready, std::string error,
                                               std::int64_t now) override;
  oauth::TokenStoreResult<bool> forget(std::int64_t portal) override;
  oauth::TokenStoreResult<std::string> journal_offset() override;
  oauth::TokenStoreResult<void> save_journal_offset(std::string offset, std::int64_t now) override;
  oauth::TokenStoreResult<std::vector<std::int64_t>> purge_disconnected(std::chrono::milliseconds retention,
                                                                        std::int64_t now) override;
  oauth::TokenStoreResult<std::size_t> rotate_key() override;

 private:
  // f(writer) in a write transaction of its own, durable before this returns.
  template <class T, class F>
  oauth::TokenStoreResult<T> write(F&& f);
  // Seals tokens for `portal` and writes its oauth_tokens row (insert or replace).
  void put_tokens(Connection& writer, std::int64_t portal, const oauth::Tokens& tokens);

  Database& db_;
  const oauth::KeyRing keys_;
};

}  // namespace tandem::store
