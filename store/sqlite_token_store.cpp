#include "store/sqlite_token_store.hpp"

#include <sqlite3.h>

#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "store/sqlite.hpp"

namespace tandem::store {

using oauth::Account;
using oauth::AccountStatus;
using oauth::Tokens;
using oauth::TokenStoreError;
using oauth::TokenStoreResult;

namespace {

constexpr std::string_view kTokensV1 = R"sql(
-- What may be shown of each connected account (never a token).
CREATE TABLE oauth_accounts (
  portal_id          INTEGER PRIMARY KEY,
  status             TEXT    NOT NULL,            -- connected | needs_reauthorisation | disconnected
  hub_domain         TEXT    NOT NULL DEFAULT '',
  time_zone          TEXT    NOT NULL DEFAULT '',
  scopes             TEXT    NOT NULL DEFAULT '', -- space-separated
  installed_by_user  INTEGER NOT NULL DEFAULT 0,
  installed_at       INTEGER NOT NULL DEFAULT 0,  -- epoch ms
  updated_at         INTEGER NOT NULL DEFAULT 0,
  access_expires_at  INTEGER NOT NULL DEFAULT 0,
  last_refresh_at    INTEGER NOT NULL DEFAULT 0,
  status_reason      TEXT    NOT NULL DEFAULT '',
  disconnected_at    INTEGER NOT NULL DEFAULT 0,
  properties_ready   INTEGER NOT NULL DEFAULT 0,
  properties_error   TEXT    NOT NULL DEFAULT ''
);
-- Each account's access and refresh tokens, sealed (oauth/key_ring.hpp): key id, nonce,
-- AES-256-GCM ciphertext and tag, the account id bound in as associated data.
CREATE TABLE oauth_tokens (
  portal_id INTEGER PRIMARY KEY,
  key_id    TEXT    NOT NULL,
  sealed    BLOB    NOT NULL
);
)sql";

constexpr Migration kMigrations[] = {{1, kTokensV1}};

constexpr const char* kAccountColumns =
    "portal_id, status, hub_domain, time_zone, scopes, installed_by_user, installed_at, updated_at, access_expires_at, "
    "last_refresh_at, status_reason, disconnected_at, properties_ready, properties_error";

std::string associated_data(std::int64_t portal) { return "tandem-oauth-tokens:" + std::to_string(portal); }

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

Account account_from(Statement& s) {
  Account a;
  a.portal_id = s.column_int(0);
  a.status = oauth::parse_account_status(s.column_text(1)).value_or(AccountStatus::kConnected);
  a.hub_domain = s.column_text(2);
  a.time_zone = s.column_text(3);
  a.scopes = split(s.column_text(4));
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

TokenStoreError storage(const SqliteError& e) { return TokenStoreError{TokenStoreError::Kind::kStorage, e.what()}; }

// Plain text of a token pair, wiped by its destructor.
struct Plain {
  std::string text;
  ~Plain() { std::fill(text.begin(), text.end(), '\0'); }
};

}  // namespace

SqliteTokenStore::SqliteTokenStore(Database& db, oauth::KeyRing keys) : db_(db), keys_(std::move(keys)) {
  db_.migrate("tokens", kMigrations);
}

SqliteTokenStore::~SqliteTokenStore() = default;

template <class T, class F>
TokenStoreResult<T> SqliteTokenStore::write(F&& f) {
  std::uint64_t sequence = 0;
  std::optional<TokenStoreResult<T>> out;
  try {
    db_.with_writer([&](Connection& writer) {
      Transaction tx(writer);
      out.emplace(f(writer));
      if (!out->has_value()) return;  // rolled back
      tx.commit();
      sequence = db_.note_commit();
    });
  } catch (const SqliteError& e) {
    return storage(e);
  }
  if (sequence != 0)
    if (auto synced = db_.sync(sequence); !synced)
      return TokenStoreError{TokenStoreError::Kind::kStorage, synced.error().message};
  return std::move(*out);
}

template <class T, class F>
TokenStoreResult<T> SqliteTokenStore::read(F&& f) {
  try {
    return db_.with_reader([&](Connection& reader) -> TokenStoreResult<T> { return f(reader); });
  } catch (const SqliteError& e) {
    return storage(e);
  }
}

std::string SqliteTokenStore::seal(std::int64_t portal, const Tokens& tokens) const {
  Plain plain{nlohmann::json{{"access_token", tokens.access_token.reveal()},
                             {"refresh_token", tokens.refresh_token.reveal()},
                             {"expires_at", tokens.expires_at}}
                  .dump()};
  return keys_.seal(plain.text, associated_data(portal));
}

TokenStoreResult<void> SqliteTokenStore::save_install(const Account& a, const Tokens& tokens) {
  std::string sealed = seal(a.portal_id, tokens);
  return write<void>([&](Connection& w) -> TokenStoreResult<void> {
    Statement s(w, std::string("INSERT INTO oauth_accounts (") + kAccountColumns +
                       ") VALUES (?1, 'connected', ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, '', 0, ?9, ?10) "
                       "ON CONFLICT(portal_id) DO UPDATE SET status = 'connected', hub_domain = ?2, time_zone = ?3, "
                       "scopes = ?4, installed_by_user = ?5, installed_at = ?6, updated_at = ?7, access_expires_at = ?8, "
                       "status_reason = '', disconnected_at = 0, "
                       "properties_ready = max(properties_ready, ?9), properties_error = CASE WHEN ?9 THEN '' ELSE properties_error END");
    s.bind(1, a.portal_id).bind(2, a.hub_domain).bind(3, a.time_zone).bind(4, join(a.scopes)).bind(5, a.installed_by_user);
    s.bind(6, a.installed_at).bind(7, a.updated_at).bind(8, tokens.expires_at).bind(9, std::int64_t{a.properties_ready});
    s.bind(10, a.properties_error);
    s.step();
    Statement t(w, "INSERT INTO oauth_tokens (portal_id, key_id, sealed) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT(portal_id) DO UPDATE SET key_id = ?2, sealed = ?3");
    t.bind(1, a.portal_id).bind(2, keys_.current_key_id()).bind_blob_static(3, sealed);
    t.step();
    return {};
  });
}

TokenStoreResult<bool> SqliteTokenStore::save_refresh(std::int64_t portal, const Tokens& tokens, std::int64_t now) {
  std::string sealed = seal(portal, tokens);
  return write<bool>([&](Connection& w) -> TokenStoreResult<bool> {
    Statement t(w, "UPDATE oauth_tokens SET key_id = ?2, sealed = ?3 WHERE portal_id = ?1");
    t.bind(1, portal).bind(2, keys_.current_key_id()).bind_blob_static(3, sealed);
    t.step();
    if (w.changes() == 0) return false;
    Statement s(w, "UPDATE oauth_accounts SET access_expires_at = ?2, last_refresh_at = ?3 WHERE portal_id = ?1");
    s.bind(1, portal).bind(2, tokens.expires_at).bind(3, now);
    s.step();
    return true;
  });
}

TokenStoreResult<std::optional<Tokens>> SqliteTokenStore::tokens(std::int64_t portal) {
  return read<std::optional<Tokens>>([&](Connection& r) -> TokenStoreResult<std::optional<Tokens>> {
    Statement s(r, "SELECT sealed FROM oauth_tokens WHERE portal_id = ?1");
    s.bind(1, portal);
    if (!s.step()) return std::optional<Tokens>();
    std::string sealed(s.column_blob(0));
    auto opened = keys_.open(sealed, associated_data(portal));
    if (!opened) return TokenStoreError{TokenStoreError::Kind::kKey, "account " + std::to_string(portal) + ": " + opened.error().message};
    nlohmann::json j = nlohmann::json::parse(opened->reveal(), nullptr, false);
    if (!j.is_object() || !j.contains("access_token") || !j.contains("refresh_token"))
      return TokenStoreError{TokenStoreError::Kind::kKey, "account " + std::to_string(portal) + ": the sealed tokens are malformed"};
    Tokens t{Secret(j.at("access_token").get<std::string>()), Secret(j.at("refresh_token").get<std::string>()),
             j.value("expires_at", std::int64_t{0})};
    return std::optional<Tokens>(std::move(t));
  });
}

TokenStoreResult<std::optional<Account>> SqliteTokenStore::account(std::int64_t portal) {
  return read<std::optional<Account>>([&](Connection& r) -> TokenStoreResult<std::optional<Account>> {
    Statement s(r, std::string("SELECT ") + kAccountColumns + " FROM oauth_accounts WHERE portal_id = ?1");
    s.bind(1, portal);
    if (!s.step()) return std::optional<Account>();
    return std::optional<Account>(account_from(s));
  });
}

TokenStoreResult<std::vector<Account>> SqliteTokenStore::accounts() {
  return read<std::vector<Account>>([&](Connection& r) -> TokenStoreResult<std::vector<Account>> {
    Statement s(r, std::string("SELECT ") + kAccountColumns + " FROM oauth_accounts ORDER BY portal_id");
    std::vector<Account> out;
    while (s.step()) out.push_back(account_from(s));
    return out;
  });
}

TokenStoreResult<bool> SqliteTokenStore::mark_needs_reauthorisation(std::int64_t portal, std::string reason, std::int64_t now) {
  return write<bool>([&](Connection& w) -> TokenStoreResult<bool> {
    Statement s(w, "UPDATE oauth_accounts SET status = 'needs_reauthorisation', status_reason = ?2, updated_at = ?3 "
                   "WHERE portal_id = ?1 AND status != 'disconnected'");
    s.bind(1, portal).bind(2, reason).bind(3, now);
    s.step();
    return w.changes() != 0;
  });
}

TokenStoreResult<bool> SqliteTokenStore::disconnect(std::int64_t portal, std::string reason, std::int64_t now) {
  return write<bool>([&](Connection& w) -> TokenStoreResult<bool> {
    Statement s(w, "UPDATE oauth_accounts SET status = 'disconnected', status_reason = ?2, updated_at = ?3, disconnected_at = ?3, "
                   "access_expires_at = 0 WHERE portal_id = ?1 AND status != 'disconnected'");
    s.bind(1, portal).bind(2, reason).bind(3, now);
    s.step();
    const bool changed = w.changes() != 0;
    Statement t(w, "DELETE FROM oauth_tokens WHERE portal_id = ?1");
    t.bind(1, portal);
    t.step();
    return changed;
  });
}

TokenStoreResult<void> SqliteTokenStore::set_properties(std::int64_t portal, bool ready, std::string error, std::int64_t now) {
  return write<void>([&](Connection& w) -> TokenStoreResult<void> {
    Statement s(w, "UPDATE oauth_accounts SET properties_ready = ?2, properties_error = ?3, updated_at = ?4 WHERE portal_id = ?1");
    s.bind(1, portal).bind(2, std::int64_t{ready}).bind(3, error).bind(4, now);
    s.step();
    return {};
  });
}

TokenStoreResult<bool> SqliteTokenStore::forget(std::int64_t portal) {
  return write<bool>([&](Connection& w) -> TokenStoreResult<bool> {
    Statement t(w, "DELETE FROM oauth_tokens WHERE portal_id = ?1");
    t.bind(1, portal);
    t.step();
    Statement s(w, "DELETE FROM oauth_accounts WHERE portal_id = ?1");
    s.bind(1, portal);
    s.step();
    return w.changes() != 0;
  });
}

TokenStoreResult<std::vector<std::int64_t>> SqliteTokenStore::purge_disconnected(std::chrono::milliseconds retention,
                                                                                 std::int64_t now) {
  return write<std::vector<std::int64_t>>([&](Connection& w) -> TokenStoreResult<std::vector<std::int64_t>> {
    std::vector<std::int64_t> gone;
    Statement s(w, "SELECT portal_id FROM oauth_accounts WHERE status = 'disconnected' AND disconnected_at <= ?1");
    s.bind(1, now - retention.count());
    while (s.step()) gone.push_back(s.column_int(0));
    for (auto portal : gone) {
      Statement d(w, "DELETE FROM oauth_accounts WHERE portal_id = ?1");
      d.bind(1, portal);
      d.step();
      Statement t(w, "DELETE FROM oauth_tokens WHERE portal_id = ?1");
      t.bind(1, portal);
      t.step();
    }
    return gone;
  });
}

TokenStoreResult<std::size_t> SqliteTokenStore::rotate_key() {
  return write<std::size_t>([&](Connection& w) -> TokenStoreResult<std::size_t> {
    std::vector<std::pair<std::int64_t, std::string>> rows;
    {
      Statement s(w, "SELECT portal_id, sealed FROM oauth_tokens ORDER BY portal_id");
      while (s.step()) rows.emplace_back(s.column_int(0), std::string(s.column_blob(1)));
    }
    std::size_t rewritten = 0;
    for (const auto& [portal, sealed] : rows) {
      if (keys_.sealed_with_current(sealed)) continue;
      auto opened = keys_.open(sealed, associated_data(portal));
      if (!opened)
        return TokenStoreError{TokenStoreError::Kind::kKey,
                               "account " + std::to_string(portal) + ": " + opened.error().message + "; nothing was re-encrypted"};
      std::string resealed = keys_.seal(opened->reveal(), associated_data(portal));
      Statement u(w, "UPDATE oauth_tokens SET key_id = ?2, sealed = ?3 WHERE portal_id = ?1");
      u.bind(1, portal).bind(2, keys_.current_key_id()).bind_blob_static(3, resealed);
      u.step();
      ++rewritten;
    }
    return rewritten;
  });
}

}  // namespace tandem::store
