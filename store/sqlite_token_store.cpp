#include "store/sqlite_token_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <exception>
#include <optional>

#include <openssl/crypto.h>
#include <nlohmann/json.hpp>

#include "store/sqlite.hpp"

namespace tandem::store {

using oauth::Account;
using oauth::AccountStatus;
using oauth::Tokens;
using oauth::TokenStoreError;
using oauth::TokenStoreResult;

namespace {

constexpr std::string_view kTokensV1 = R"sql(
-- One row per HubSpot account ever installed and not yet purged: nothing secret (the tokens are in
-- oauth_tokens). scopes: the granted scopes separated by single spaces.
CREATE TABLE oauth_accounts (
  portal_id         INTEGER PRIMARY KEY,
  status            TEXT    NOT NULL,            -- to_string(AccountStatus)
  hub_domain        TEXT    NOT NULL DEFAULT '',
  time_zone         TEXT    NOT NULL DEFAULT '',
  scopes            TEXT    NOT NULL DEFAULT '',
  installed_by_user INTEGER NOT NULL DEFAULT 0,
  installed_at      INTEGER NOT NULL DEFAULT 0,  -- epoch ms, like every *_at below
  updated_at        INTEGER NOT NULL DEFAULT 0,
  access_expires_at INTEGER NOT NULL DEFAULT 0,
  last_refresh_at   INTEGER NOT NULL DEFAULT 0,
  status_reason     TEXT    NOT NULL DEFAULT '',
  disconnected_at   INTEGER NOT NULL DEFAULT 0,
  properties_ready  INTEGER NOT NULL DEFAULT 0,
  properties_error  TEXT    NOT NULL DEFAULT ''
);

-- The tokens of a connected (or needs-reauthorisation) account, sealed with AES-256-GCM
-- (oauth/key_ring.hpp). key_id: the hex id of the key that sealed them, so that an admin can see
-- what `tandem tokens rotate-key` has left to do.
CREATE TABLE oauth_tokens (
  portal_id INTEGER PRIMARY KEY,
  key_id    TEXT    NOT NULL,
  sealed    BLOB    NOT NULL
);
)sql";

// Where Tandem has read HubSpot's Webhooks Journal up to (its app lifecycle events: uninstalls);
// one row.
constexpr std::string_view kTokensV2 = R"sql(
CREATE TABLE oauth_app_journal (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  journal_offset TEXT    NOT NULL,  -- the last entry handled; '' to start from the earliest
  updated_at     INTEGER NOT NULL
);
)sql";

constexpr Migration kMigrations[] = {{1, kTokensV1}, {2, kTokensV2}};

constexpr std::string_view kAccountColumns =
    "portal_id, status, hub_domain, time_zone, scopes, installed_by_user, installed_at, updated_at, "
    "access_expires_at, last_refresh_at, status_reason, disconnected_at, properties_ready, properties_error";

// Thrown inside a write transaction to roll it back with a key error.
struct KeyFailure {
  std::string message;
};

TokenStoreError storage_error(const std::string& message) {
  return TokenStoreError{TokenStoreError::Kind::kStorage, "token store: " + message};
}

std::string associated_data(std::int64_t portal) { return "tandem-oauth-tokens:" + std::to_string(portal); }

void wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (s.empty()) continue;
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

std::vector<std::string> split_scopes(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const auto word = text.substr(0, space);
    if (!word.empty()) out.emplace_back(word);
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

// The row of `s` (selected with kAccountColumns).
Account account_of(const Statement& s) {
  Account a;
  a.portal_id = s.column_int(0);
  a.status = oauth::parse_account_status(s.column_text(1)).value_or(AccountStatus::kConnected);
  a.hub_domain = s.column_text(2);
  a.time_zone = s.column_text(3);
  a.scopes = split_scopes(s.column_text(4));
  a.installed_by_user = s.column_int(5);
  a.installed_at = s.column_int(6);
  a.updated_at = s.column_int(7);
  a.access_expires_at = s.column_int(8);
  a.last_refresh_at = s.column_int(9);
  a.status_reason = s.column_text(10);
  a.disconnected_at = s.column_int(11);
  a.properties_ready = s.column_int(12) != 0;
  a.properties_error = s.column_text(13);
  return a;
}

// The plaintext that is sealed: {"access_token", "refresh_token", "expires_at"}. The caller wipes it.
std::string encode_tokens(const Tokens& tokens) {
  nlohmann::json j = {{"access_token", std::string(tokens.access_token.reveal())},
                      {"refresh_token", std::string(tokens.refresh_token.reveal())},
                      {"expires_at", tokens.expires_at}};
  std::string out = j.dump();
  wipe(j["access_token"].get_ref<std::string&>());
  wipe(j["refresh_token"].get_ref<std::string&>());
  return out;
}

std::optional<Tokens> decode_tokens(std::string_view plaintext) {
  nlohmann::json j = nlohmann::json::parse(plaintext, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("access_token") || !j["access_token"].is_string() || !j.contains("refresh_token") ||
      !j["refresh_token"].is_string() || !j.contains("expires_at") || !j["expires_at"].is_number_integer()) {
    return std::nullopt;
  }
  Tokens t;
  auto& access = j["access_token"].get_ref<std::string&>();
  auto& refresh = j["refresh_token"].get_ref<std::string&>();
  t.access_token = Secret(access);
  t.refresh_token = Secret(refresh);
  t.expires_at = j["expires_at"].get<std::int64_t>();
  wipe(access);
  wipe(refresh);
  return t;
}

}  // namespace

SqliteTokenStore::SqliteTokenStore(Database& db, oauth::KeyRing keys) : db_(db), keys_(std::move(keys)) {
  db_.migrate("tokens", kMigrations);
}

template <class T, class F>
TokenStoreResult<T> SqliteTokenStore::write(F&& f) {
  std::uint64_t sequence = 0;
  std::optional<T> out;
  try {
    db_.with_writer([&](Connection& writer) {
      Transaction tx(writer);
      const auto before = sqlite3_total_changes64(writer.handle());
      out.emplace(f(writer));
      const bool changed = sqlite3_total_changes64(writer.handle()) != before;
      tx.commit();
      if (changed) sequence = db_.note_commit();
    });
  } catch (const SqliteError& e) {
    return storage_error(e.what());
  } catch (const KeyFailure& e) {
    return TokenStoreError{TokenStoreError::Kind::kKey, e.message};
  } catch (const std::exception& e) {  // OpenSSL failing to seal (out of memory, no randomness)
    return storage_error(e.what());
  }
  if (sequence != 0)
    if (auto synced = db_.sync(sequence); !synced) return storage_error(synced.error().message);
  return std::move(*out);
}

void SqliteTokenStore::put_tokens(Connection& writer, std::int64_t portal, const Tokens& tokens) {
  std::string plaintext = encode_tokens(tokens);
  const std::string sealed = keys_.seal(plaintext, associated_data(portal));
  wipe(plaintext);
  Statement s(writer, "INSERT OR REPLACE INTO oauth_tokens (portal_id, key_id, sealed) VALUES (?1, ?2, ?3)");
  s.bind(1, portal).bind(2, keys_.current_key_id()).bind_blob_static(3, sealed);
  s.step();
}

TokenStoreResult<void> SqliteTokenStore::save_install(const Account& account, const Tokens& tokens) {
  auto saved = write<bool>([&](Connection& writer) {
    // properties_ready (and its error) survive a re-install unless the caller says they are ready.
    Statement s(writer,
                "INSERT INTO oauth_accounts (" + std::string(kAccountColumns) +
                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, '', 0, ?11, ?12) "
                    "ON CONFLICT (portal_id) DO UPDATE SET status = excluded.status, hub_domain = excluded.hub_domain, "
                    "time_zone = excluded.time_zone, scopes = excluded.scopes, "
                    "installed_by_user = excluded.installed_by_user, installed_at = excluded.installed_at, "
                    "updated_at = excluded.updated_at, access_expires_at = excluded.access_expires_at, "
                    "last_refresh_at = excluded.last_refresh_at, status_reason = '', disconnected_at = 0, "
                    "properties_ready = CASE WHEN excluded.properties_ready THEN 1 ELSE properties_ready END, "
                    "properties_error = CASE WHEN excluded.properties_ready THEN excluded.properties_error "
                    "ELSE properties_error END");
    s.bind(1, account.portal_id)
        .bind(2, oauth::to_string(AccountStatus::kConnected))
        .bind(3, account.hub_domain)
        .bind(4, account.time_zone)
        .bind(5, join_scopes(account.scopes))
        .bind(6, account.installed_by_user)
        .bind(7, account.installed_at)
        .bind(8, account.updated_at != 0 ? account.updated_at : account.installed_at)
        .bind(9, tokens.expires_at)
        .bind(10, account.last_refresh_at)
        .bind(11, std::int64_t{account.properties_ready ? 1 : 0})
        .bind(12, account.properties_error);
    s.step();
    put_tokens(writer, account.portal_id, tokens);
    return true;
  });
  if (!saved) return saved.error();
  return {};
}

TokenStoreResult<bool> SqliteTokenStore::save_refresh(std::int64_t portal, const Tokens& tokens, std::int64_t now) {
  return write<bool>([&](Connection& writer) {
    Statement has(writer, "SELECT 1 FROM oauth_tokens WHERE portal_id = ?1");
    has.bind(1, portal);
    if (!has.step()) return false;
    has.reset();
    put_tokens(writer, portal, tokens);
    Statement s(writer,
                "UPDATE oauth_accounts SET access_expires_at = ?2, last_refresh_at = ?3, updated_at = ?3 "
                "WHERE portal_id = ?1");
    s.bind(1, portal).bind(2, tokens.expires_at).bind(3, now);
    s.step();
    return true;
  });
}

TokenStoreResult<std::optional<Tokens>> SqliteTokenStore::tokens(std::int64_t portal) {
  std::optional<std::string> sealed;
  try {
    sealed = db_.with_reader([&](Connection& reader) -> std::optional<std::string> {
      Statement s(reader, "SELECT sealed FROM oauth_tokens WHERE portal_id = ?1");
      s.bind(1, portal);
      if (!s.step() || !s.column_is_blob(0)) return std::nullopt;
      return std::string(s.column_blob(0));
    });
  } catch (const SqliteError& e) {
    return storage_error(e.what());
  }
  if (!sealed) return std::optional<Tokens>();
  const std::string context = "the tokens of account " + std::to_string(portal) + " cannot be decrypted: ";
  auto opened = keys_.open(*sealed, associated_data(portal));
  if (!opened) return TokenStoreError{TokenStoreError::Kind::kKey, context + opened.error().message};
  auto decoded = decode_tokens(opened->reveal());
  if (!decoded)
    return TokenStoreError{TokenStoreError::Kind::kKey, context + "the decrypted value is not a token record"};
  return std::optional<Tokens>(std::move(*decoded));
}

TokenStoreResult<std::optional<Account>> SqliteTokenStore::account(std::int64_t portal) {
  try {
    return db_.with_reader([&](Connection& reader) -> std::optional<Account> {
      Statement s(reader, "SELECT " + std::string(kAccountColumns) + " FROM oauth_accounts WHERE portal_id = ?1");
      s.bind(1, portal);
      if (!s.step()) return std::nullopt;
      return account_of(s);
    });
  } catch (const SqliteError& e) {
    return storage_error(e.what());
  }
}

TokenStoreResult<std::vector<Account>> SqliteTokenStore::accounts() {
  try {
    return db_.with_reader([&](Connection& reader) {
      Statement s(reader, "SELECT " + std::string(kAccountColumns) + " FROM oauth_accounts ORDER BY portal_id");
      std::vector<Account> out;
      while (s.step()) out.push_back(account_of(s));
      return out;
    });
  } catch (const SqliteError& e) {
    return storage_error(e.what());
  }
}

TokenStoreResult<bool> SqliteTokenStore::mark_needs_reauthorisation(std::int64_t portal, std::string reason,
                                                                    std::int64_t now) {
  return write<bool>([&](Connection& writer) {
    Statement s(writer,
                "UPDATE oauth_accounts SET status = ?2, status_reason = ?3, updated_at = ?4 "
                "WHERE portal_id = ?1 AND status != ?5");
    s.bind(1, portal)
        .bind(2, oauth::to_string(AccountStatus::kNeedsReauthorisation))
        .bind(3, reason)
        .bind(4, now)
        .bind(5, oauth::to_string(AccountStatus::kDisconnected));
    s.step();
    return writer.changes() != 0;
  });
}

TokenStoreResult<bool> SqliteTokenStore::disconnect(std::int64_t portal, std::string reason, std::int64_t now) {
  return write<bool>([&](Connection& writer) {
    Statement s(writer,
                "UPDATE oauth_accounts SET status = ?2, status_reason = ?3, updated_at = ?4, disconnected_at = ?4 "
                "WHERE portal_id = ?1 AND status != ?2");
    s.bind(1, portal).bind(2, oauth::to_string(AccountStatus::kDisconnected)).bind(3, reason).bind(4, now);
    s.step();
    if (writer.changes() == 0) return false;
    Statement t(writer, "DELETE FROM oauth_tokens WHERE portal_id = ?1");
    t.bind(1, portal);
    t.step();
    return true;
  });
}

TokenStoreResult<void> SqliteTokenStore::set_properties(std::int64_t portal, bool ready, std::string error,
                                                        std::int64_t now) {
  auto set = write<bool>([&](Connection& writer) {
    Statement s(writer,
                "UPDATE oauth_accounts SET properties_ready = ?2, properties_error = ?3, updated_at = ?4 "
                "WHERE portal_id = ?1");
    s.bind(1, portal).bind(2, std::int64_t{ready ? 1 : 0}).bind(3, error).bind(4, now);
    s.step();
    return true;
  });
  if (!set) return set.error();
  return {};
}

TokenStoreResult<std::string> SqliteTokenStore::journal_offset() {
  try {
    return db_.with_reader([&](Connection& reader) -> std::string {
      Statement s(reader, "SELECT journal_offset FROM oauth_app_journal WHERE id = 1");
      return s.step() ? s.column_text(0) : std::string();
    });
  } catch (const SqliteError& e) {
    return storage_error(e.what());
  }
}

TokenStoreResult<void> SqliteTokenStore::save_journal_offset(std::string offset, std::int64_t now) {
  auto saved = write<bool>([&](Connection& writer) {
    Statement s(writer,
                "INSERT INTO oauth_app_journal (id, journal_offset, updated_at) VALUES (1, ?1, ?2) "
                "ON CONFLICT (id) DO UPDATE SET journal_offset = excluded.journal_offset, updated_at = excluded.updated_at");
    s.bind(1, offset).bind(2, now);
    s.step();
    return true;
  });
  if (!saved) return saved.error();
  return {};
}

TokenStoreResult<bool> SqliteTokenStore::forget(std::int64_t portal) {
  return write<bool>([&](Connection& writer) {
    Statement t(writer, "DELETE FROM oauth_tokens WHERE portal_id = ?1");
    t.bind(1, portal);
    t.step();
    const bool had_tokens = writer.changes() != 0;
    Statement a(writer, "DELETE FROM oauth_accounts WHERE portal_id = ?1");
    a.bind(1, portal);
    a.step();
    return writer.changes() != 0 || had_tokens;
  });
}

TokenStoreResult<std::vector<std::int64_t>> SqliteTokenStore::purge_disconnected(std::chrono::milliseconds retention,
                                                                                 std::int64_t now) {
  return write<std::vector<std::int64_t>>([&](Connection& writer) {
    std::vector<std::int64_t> purged;
    {
      Statement s(writer,
                  "SELECT portal_id FROM oauth_accounts WHERE status = ?1 AND disconnected_at < ?2 "
                  "ORDER BY portal_id");
      s.bind(1, oauth::to_string(AccountStatus::kDisconnected)).bind(2, now - retention.count());
      while (s.step()) purged.push_back(s.column_int(0));
    }
    Statement t(writer, "DELETE FROM oauth_tokens WHERE portal_id = ?1");
    Statement a(writer, "DELETE FROM oauth_accounts WHERE portal_id = ?1");
    for (const std::int64_t portal : purged) {
      t.reset();
      t.bind(1, portal);
      t.step();
      a.reset();
      a.bind(1, portal);
      a.step();
    }
    return purged;
  });
}

TokenStoreResult<std::size_t> SqliteTokenStore::rotate_key() {
  return write<std::size_t>([&](Connection& writer) {
    std::vector<std::pair<std::int64_t, std::string>> stale;
    {
      Statement s(writer, "SELECT portal_id, sealed FROM oauth_tokens ORDER BY portal_id");
      while (s.step()) {
        const std::string_view sealed = s.column_is_blob(1) ? s.column_blob(1) : std::string_view();
        if (!keys_.sealed_with_current(sealed)) stale.emplace_back(s.column_int(0), std::string(sealed));
      }
    }
    Statement u(writer, "UPDATE oauth_tokens SET key_id = ?2, sealed = ?3 WHERE portal_id = ?1");
    const std::string current = keys_.current_key_id();
    for (const auto& [portal, sealed] : stale) {
      const std::string ad = associated_data(portal);
      auto opened = keys_.open(sealed, ad);
      // Thrown: the transaction rolls back and no row is rewritten.
      if (!opened) {
        throw KeyFailure{"the tokens of account " + std::to_string(portal) +
                         " cannot be decrypted: " + opened.error().message + "; nothing was re-encrypted"};
      }
      const std::string resealed = keys_.seal(opened->reveal(), ad);
      u.reset();
      u.bind(1, portal).bind(2, current).bind_blob_static(3, resealed);
      u.step();
    }
    return stale.size();
  });
}

}  // namespace tandem::store
