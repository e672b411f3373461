#pragma once
// The connected HubSpot accounts and their OAuth tokens, as the install flow and the token source
// see them. store/sqlite_token_store.hpp keeps them in the store's SQLite database, the tokens
// encrypted (oauth/key_ring.hpp); tests may fake it.
//
// What is secret (the access and refresh tokens) is only ever in a Tokens value; an Account holds
// nothing that may not be printed by `tandem accounts`.

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/secret.hpp"

namespace tandem::oauth {

enum class AccountStatus {
  kConnected,             // tokens stored and working
  kNeedsReauthorisation,  // HubSpot refused the refresh token (revoked, uninstalled): writes pause
  kDisconnected,          // uninstalled or disconnected by an admin: tokens deleted
};
// "connected", "needs_reauthorisation", "disconnected".
std::string_view to_string(AccountStatus status);
std::optional<AccountStatus> parse_account_status(std::string_view text);

struct Tokens {
  Secret access_token;
  Secret refresh_token;
  std::int64_t expires_at = 0;  // the access token's expiry, epoch ms (from expires_in)
};

struct Account {
  std::int64_t portal_id = 0;
  AccountStatus status = AccountStatus::kConnected;
  std::string hub_domain;             // e.g. "acme.com", when HubSpot said
  std::string time_zone;              // IANA name from the account's details; empty when unknown
  std::vector<std::string> scopes;    // granted at the last install
  std::int64_t installed_by_user = 0; // HubSpot user id of the installing user, 0 when unknown
  std::int64_t installed_at = 0;      // epoch ms of the last install
  std::int64_t updated_at = 0;        // epoch ms of the last change of this row
  std::int64_t access_expires_at = 0; // epoch ms; a copy of Tokens::expires_at that may be shown
  std::int64_t last_refresh_at = 0;   // epoch ms of the last successful refresh, 0 for none
  std::string status_reason;          // why it needs re-authorisation or was disconnected
  std::int64_t disconnected_at = 0;   // epoch ms, for retention
  bool properties_ready = false;      // Tandem's property group and properties exist in the account
  std::string properties_error;       // why creating them failed, when it did
};

struct TokenStoreError {
  enum class Kind {
    kStorage,  // the database failed
    kKey,      // the tokens cannot be decrypted with the configured keys (another key, or tampered)
  };
  Kind kind = Kind::kStorage;
  std::string message;  // never contains a token or a key
  friend std::ostream& operator<<(std::ostream& os, const TokenStoreError& e) { return os << e.message; }
};

template <class T>
using TokenStoreResult = Result<T, TokenStoreError>;

// Thread-safe. Every write is durable when it returns.
class TokenStore {
 public:
  virtual ~TokenStore() = default;

  // An install, first or again: the account as given (status kConnected, reason cleared,
  // disconnected_at 0; properties_ready kept from an earlier row unless given true) and its
  // tokens, encrypted with the current key.
  virtual TokenStoreResult<void> save_install(const Account& account, const Tokens& tokens) = 0;
  // A refresh: replaces the tokens (store the refresh token HubSpot returned, rotated or not)
  // and sets access_expires_at and last_refresh_at = now. False when the account has no tokens
  // (disconnected meanwhile): nothing is written.
  virtual TokenStoreResult<bool> save_refresh(std::int64_t portal, const Tokens& tokens, std::int64_t now) = 0;
  // The account's tokens; nullopt when it has none (never installed, or disconnected).
  // kKey when they cannot be decrypted.
  virtual TokenStoreResult<std::optional<Tokens>> tokens(std::int64_t portal) = 0;

  virtual TokenStoreResult<std::optional<Account>> account(std::int64_t portal) = 0;
  // Every account, by portal id.
  virtual TokenStoreResult<std::vector<Account>> accounts() = 0;

  // kNeedsReauthorisation with a reason (the tokens are kept: an admin may still disconnect, and
  // a new install replaces them). False for an unknown account.
  virtual TokenStoreResult<bool> mark_needs_reauthorisation(std::int64_t portal, std::string reason, std::int64_t now) = 0;
  // Deletes the tokens and marks the account kDisconnected (its row is kept for retention).
  // False for an unknown or already disconnected account.
  virtual TokenStoreResult<bool> disconnect(std::int64_t portal, std::string reason, std::int64_t now) = 0;
  // Records whether Tandem's properties exist in the account (and why not).
  virtual TokenStoreResult<void> set_properties(std::int64_t portal, bool ready, std::string error, std::int64_t now) = 0;
  // Deletes the account's row and tokens now. False for an unknown account.
  virtual TokenStoreResult<bool> forget(std::int64_t portal) = 0;
  // Deletes accounts disconnected for longer than `retention`; returns their portal ids so that
  // the caller deletes their other data.
  virtual TokenStoreResult<std::vector<std::int64_t>> purge_disconnected(std::chrono::milliseconds retention,
                                                                         std::int64_t now) = 0;
  // How far the app's Webhooks Journal has been read (its last handled offset); empty before the
  // first entry, or to read again from the earliest.
  virtual TokenStoreResult<std::string> journal_offset() = 0;
  virtual TokenStoreResult<void> save_journal_offset(std::string offset, std::int64_t now) = 0;
  // Re-encrypts every stored token with the current key (key rotation); returns how many
  // accounts' tokens were rewritten. kKey when some tokens cannot be decrypted with any key.
  virtual TokenStoreResult<std::size_t> rotate_key() = 0;
};

}  // namespace tandem::oauth
