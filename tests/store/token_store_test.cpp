// store/sqlite_token_store.hpp: accounts and their sealed tokens in the store's SQLite file.

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>

#include "common/crypto.hpp"
#include "common/file.hpp"
#include "oauth/key_ring.hpp"
#include "store/database.hpp"
#include "store/sqlite_token_store.hpp"
#include "tests/support/file_inbox.hpp"
#include "tests/support/read_file_or_fail.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

using namespace tandem;
using namespace tandem::oauth;
using tandem::testing::ok;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kPortal = 62515;
constexpr std::int64_t kOther = 77001;
constexpr std::int64_t kT0 = 1'700'000'000'000;

// A token store on a database of its own; reopen() closes both and opens the file again with a
// key ring, as a restarted (or reconfigured) process does.
struct Fixture {
  testing::TempDir dir;
  store::StoreConfig config;
  MetricsRegistry metrics;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::SqliteTokenStore> store;
  explicit Fixture(KeyRing keys) {
    config.path = dir.file("tandem.db");
    open(std::move(keys));
  }
  void open(KeyRing keys) {
    db = std::make_unique<store::Database>(config, metrics);
    store = std::make_unique<store::SqliteTokenStore>(*db, std::move(keys));
  }
  void reopen(KeyRing keys) {
    store.reset();
    db.reset();
    open(std::move(keys));
  }
  TokenStore* operator->() { return store.get(); }
};

Account account_of(std::int64_t portal, std::string hub_domain = "acme.com") {
  Account a;
  a.portal_id = portal;
  a.hub_domain = std::move(hub_domain);
  a.time_zone = "Europe/Berlin";
  a.scopes = {"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write"};
  a.installed_by_user = 4242;
  a.installed_at = kT0;
  a.updated_at = kT0;
  return a;
}

Tokens tokens_of(std::string access, std::string refresh, std::int64_t expires_at) {
  return Tokens{Secret(std::move(access)), Secret(std::move(refresh)), expires_at};
}

void check_tokens(const std::optional<Tokens>& got, std::string_view access, std::string_view refresh,
                  std::int64_t expires_at) {
  REQUIRE(got.has_value());
  CHECK(got->access_token.reveal() == access);
  CHECK(got->refresh_token.reveal() == refresh);
  CHECK(got->expires_at == expires_at);
}

std::string random_token(std::size_t length) {
  // Letters and digits, like HubSpot's tokens; random so that no other data in the file matches.
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-";
  std::string out;
  for (unsigned char b : crypto::random_bytes(length)) out += kAlphabet[b % kAlphabet.size()];
  return out;
}

std::string raw_key() { return crypto::random_bytes(32); }

std::string hex_id(const std::string& raw) { return KeyRing::from_raw(raw).current_key_id(); }

}  // namespace

TEST_CASE("token store keeps an install: account fields and tokens round trip") {
  Fixture f(KeyRing::from_raw(raw_key()));
  CHECK_FALSE(ok(f->account(kPortal)).has_value());
  CHECK_FALSE(ok(f->tokens(kPortal)).has_value());

  Account a = account_of(kPortal);
  a.status = AccountStatus::kDisconnected;  // ignored: an install connects
  a.status_reason = "stale";
  a.disconnected_at = 5;
  a.last_refresh_at = 0;
  a.properties_error = "";
  REQUIRE(f->save_install(a, tokens_of("access-1", "refresh-1", kT0 + 1'800'000)).has_value());
  REQUIRE(f->save_install(account_of(kOther, "other.example"), tokens_of("access-2", "refresh-2", kT0 + 60'000))
              .has_value());

  f.reopen(KeyRing::from_raw(raw_key()));  // the tokens need the key; the account does not
  auto got = ok(f->account(kPortal));
  REQUIRE(got.has_value());
  CHECK(got->portal_id == kPortal);
  CHECK(got->status == AccountStatus::kConnected);
  CHECK(got->hub_domain == "acme.com");
  CHECK(got->time_zone == "Europe/Berlin");
  CHECK(got->scopes == std::vector<std::string>{"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write"});
  CHECK(got->installed_by_user == 4242);
  CHECK(got->installed_at == kT0);
  CHECK(got->updated_at == kT0);
  CHECK(got->access_expires_at == kT0 + 1'800'000);
  CHECK(got->last_refresh_at == 0);
  CHECK(got->status_reason.empty());
  CHECK(got->disconnected_at == 0);
  CHECK_FALSE(got->properties_ready);

  auto all = ok(f->accounts());
  REQUIRE(all.size() == 2);
  CHECK(all[0].portal_id == kPortal);
  CHECK(all[1].portal_id == kOther);
  CHECK(all[1].hub_domain == "other.example");
  CHECK(all[1].access_expires_at == kT0 + 60'000);
}

TEST_CASE("token store returns the tokens it saved after a restart with the same key") {
  const std::string key = raw_key();
  Fixture f(KeyRing::from_raw(key));
  REQUIRE(f->save_install(account_of(kPortal), tokens_of("access-1", "refresh-1", kT0 + 1'800'000)).has_value());
  REQUIRE(f->save_install(account_of(kOther), tokens_of("access-2", "refresh-2", kT0 + 60'000)).has_value());
  f.reopen(KeyRing::from_raw(key));
  check_tokens(ok(f->tokens(kPortal)), "access-1", "refresh-1", kT0 + 1'800'000);
  check_tokens(ok(f->tokens(kOther)), "access-2", "refresh-2", kT0 + 60'000);
}

TEST_CASE("token store refresh replaces the tokens and refuses a disconnected account") {
  Fixture f(KeyRing::from_raw(raw_key()));
  REQUIRE(f->save_install(account_of(kPortal), tokens_of("access-1", "refresh-1", kT0 + 1'800'000)).has_value());
  CHECK_FALSE(ok(f->save_refresh(kOther, tokens_of("a", "r", 1), kT0)));  // never installed

  CHECK(ok(f->save_refresh(kPortal, tokens_of("access-2", "refresh-2", kT0 + 3'600'000), kT0 + 1'700'000)));
  check_tokens(ok(f->tokens(kPortal)), "access-2", "refresh-2", kT0 + 3'600'000);
  auto a = ok(f->account(kPortal));
  REQUIRE(a.has_value());
  CHECK(a->access_expires_at == kT0 + 3'600'000);
  CHECK(a->last_refresh_at == kT0 + 1'700'000);
  CHECK(a->updated_at == kT0 + 1'700'000);

  CHECK(ok(f->disconnect(kPortal, "uninstalled", kT0 + 2'000'000)));
  CHECK_FALSE(ok(f->save_refresh(kPortal, tokens_of("access-3", "refresh-3", kT0 + 9'000'000), kT0 + 2'100'000)));
  CHECK_FALSE(ok(f->tokens(kPortal)).has_value());
  CHECK(ok(f->account(kPortal))->last_refresh_at == kT0 + 1'700'000);  // nothing written
}

TEST_CASE("token store marks an account as needing re-authorisation and keeps its tokens") {
  Fixture f(KeyRing::from_raw(raw_key()));
  REQUIRE(f->save_install(account_of(kPortal), tokens_of("access-1", "refresh-1", kT0)).has_value());
  CHECK_FALSE(ok(f->mark_needs_reauthorisation(kOther, "invalid_grant", kT0 + 10)));
  CHECK(ok(f->mark_needs_reauthorisation(kPortal, "invalid_grant: refresh token revoked", kT0 + 10)));
  auto a = ok(f->account(kPortal));
  REQUIRE(a.has_value());
  CHECK(a->status == AccountStatus::kNeedsReauthorisation);
  CHECK(a->status_reason == "invalid_grant: refresh token revoked");
  CHECK(a->updated_at == kT0 + 10);
  check_tokens(ok(f->tokens(kPortal)), "access-1", "refresh-1", kT0);

  // A refresh failing after a disconnect does not bring the account back.
  CHECK(ok(f->disconnect(kPortal, "admin", kT0 + 20)));
  CHECK_FALSE(ok(f->mark_needs_reauthorisation(kPortal, "invalid_grant", kT0 + 30)));
  CHECK(ok(f->account(kPortal))->status == AccountStatus::kDisconnected);
}

TEST_CASE("token store disconnect deletes the tokens and keeps the account row") {
  Fixture f(KeyRing::from_raw(raw_key()));
  REQUIRE(f->save_install(account_of(kPortal), tokens_of("access-1", "refresh-1", kT0)).has_value());
  CHECK_FALSE(ok(f->disconnect(kOther, "admin", kT0 + 5)));
  CHECK(ok(f->disconnect(kPortal, "uninstalled from HubSpot", kT0 + 5)));
  CHECK_FALSE(ok(f->disconnect(kPortal, "again", kT0 + 6)));  // already disconnected
  CHECK_FALSE(ok(f->tokens(kPortal)).has_value());
  auto a = ok(f->account(kPortal));
  REQUIRE(a.has_value());
  CHECK(a->status == AccountStatus::kDisconnected);
  CHECK(a->status_reason == "uninstalled from HubSpot");
  CHECK(a->disconnected_at == kT0 + 5);
  // The row of tokens itself is gone, not just unreadable.
  auto rows = f.db->with_reader([](store::Connection& c) {
    store::Statement s(c, "SELECT count(*) FROM oauth_tokens");
    s.step();
    return s.column_int(0);
  });
  CHECK(rows == 0);
}

TEST_CASE("token store forget deletes the account and its tokens") {
  Fixture f(KeyRing::from_raw(raw_key()));
  REQUIRE(f->save_install(account_of(kPortal), tokens_of("access-1", "refresh-1", kT0)).has_value());
  REQUIRE(f->save_install(account_of(kOther), tokens_of("access-2", "refresh-2", kT0)).has_value());
  CHECK_FALSE(ok(f->forget(12345)));
  CHECK(ok(f->forget(kPortal)));
  CHECK_FALSE(ok(f->account(kPortal)).has_value());
  CHECK_FALSE(ok(f->tokens(kPortal)).has_value());
  CHECK_FALSE(ok(f->forget(kPortal)));
  REQUIRE(ok(f->accounts()).size() == 1);
  check_tokens(ok(f->tokens(kOther)), "access-2", "refresh-2", kT0);
}

TEST_CASE("token store purges accounts disconnected for longer than the retention") {
  Fixture f(KeyRing::from_raw(raw_key()));
  for (std::int64_t p : {1, 2, 3, 4}) REQUIRE(f->save_install(account_of(p), tokens_of("a", "r", kT0)).has_value());
  REQUIRE(ok(f->disconnect(1, "old", kT0)));
  REQUIRE(ok(f->disconnect(2, "older", kT0 - 1000)));
  REQUIRE(ok(f->disconnect(3, "recent", kT0 + 5000)));
  REQUIRE(ok(f->mark_needs_reauthorisation(4, "revoked", kT0 - 100'000)));  // not disconnected: kept

  const auto retention = std::chrono::milliseconds(10'000);
  CHECK(ok(f->purge_disconnected(retention, kT0 + 10'000)) == std::vector<std::int64_t>{2});  // exactly 10 s: kept
  CHECK(ok(f->purge_disconnected(retention, kT0 + 10'001)) == std::vector<std::int64_t>{1});
  CHECK(ok(f->purge_disconnected(retention, kT0 + 10'001)).empty());
  auto left = ok(f->accounts());
  REQUIRE(left.size() == 2);
  CHECK(left[0].portal_id == 3);
  CHECK(left[1].portal_id == 4);
  CHECK(ok(f->purge_disconnected(retention, kT0 + 1'000'000)) == std::vector<std::int64_t>{3});
  check_tokens(ok(f->tokens(4)), "a", "r", kT0);
}

TEST_CASE("token store re-install after a disconnect reconnects and keeps properties_ready") {
  Fixture f(KeyRing::from_raw(raw_key()));
  REQUIRE(f->save_install(account_of(kPortal), tokens_of("access-1", "refresh-1", kT0)).has_value());
  REQUIRE(f->set_properties(kPortal, false, "403 MISSING_SCOPES", kT0 + 1).has_value());
  CHECK(ok(f->account(kPortal))->properties_error == "403 MISSING_SCOPES");
  REQUIRE(f->set_properties(kPortal, true, "", kT0 + 2).has_value());
  REQUIRE(ok(f->disconnect(kPortal, "uninstalled", kT0 + 3)));

  Account again = account_of(kPortal, "acme.io");
  again.installed_at = kT0 + 100;
  again.updated_at = kT0 + 100;
  again.properties_ready = false;  // not known by the install flow: kept from the row
  REQUIRE(f->save_install(again, tokens_of("access-2", "refresh-2", kT0 + 1'900'000)).has_value());
  auto a = ok(f->account(kPortal));
  REQUIRE(a.has_value());
  CHECK(a->status == AccountStatus::kConnected);
  CHECK(a->status_reason.empty());
  CHECK(a->disconnected_at == 0);
  CHECK(a->properties_ready);
  CHECK(a->hub_domain == "acme.io");
  CHECK(a->installed_at == kT0 + 100);
  check_tokens(ok(f->tokens(kPortal)), "access-2", "refresh-2", kT0 + 1'900'000);
  // Not purged any more: it is connected.
  CHECK(ok(f->purge_disconnected(1ms, kT0 + 10'000'000)).empty());
}

TEST_CASE("token store seals every save afresh and binds the tokens to their account") {
  Fixture f(KeyRing::from_raw(raw_key()));
  auto sealed_of = [&](std::int64_t portal) {
    return f.db->with_reader([&](store::Connection& c) {
      store::Statement s(c, "SELECT sealed FROM oauth_tokens WHERE portal_id = ?1");
      s.bind(1, portal);
      REQUIRE(s.step());
      return std::string(s.column_blob(0));
    });
  };
  REQUIRE(f->save_install(account_of(kPortal), tokens_of("same", "same", kT0)).has_value());
  const std::string first = sealed_of(kPortal);
  REQUIRE(ok(f->save_refresh(kPortal, tokens_of("same", "same", kT0), kT0)));
  CHECK(sealed_of(kPortal) != first);

  // A sealed value copied onto another account's row does not open there.
  REQUIRE(f->save_install(account_of(kOther), tokens_of("other", "other", kT0)).has_value());
  f.db->with_writer([&](store::Connection& c) {
    store::Statement s(c, "UPDATE oauth_tokens SET sealed = ?2 WHERE portal_id = ?1");
    s.bind(1, kOther).bind_blob_static(2, first);
    s.step();
  });
  auto copied = f->tokens(kOther);
  REQUIRE_FALSE(copied.has_value());
  CHECK(copied.error().kind == TokenStoreError::Kind::kKey);
  CHECK_THAT(copied.error().message, Catch::Contains("account 77001"));
  CHECK_THAT(copied.error().message, Catch::Contains("altered"));
  CHECK_THAT(copied.error().message, !Catch::Contains("same"));
}

TEST_CASE("token store rotate_key re-seals with the current key so that the old key can go") {
  const std::string key_a = raw_key();
  const std::string key_b = raw_key();
  Fixture f(KeyRing::from_raw(key_a));
  REQUIRE(f->save_install(account_of(kPortal), tokens_of("access-1", "refresh-1", kT0)).has_value());
  REQUIRE(f->save_install(account_of(kOther), tokens_of("access-2", "refresh-2", kT0 + 1)).has_value());
  CHECK(ok(f->rotate_key()) == 0);  // everything is sealed with the current key already

  f.reopen(KeyRing::from_raw(key_b, {key_a}));
  check_tokens(ok(f->tokens(kPortal)), "access-1", "refresh-1", kT0);  // the previous key opens
  // A refresh before the rotation seals with B: rotation leaves that row alone.
  REQUIRE(ok(f->save_refresh(kOther, tokens_of("access-3", "refresh-3", kT0 + 2), kT0 + 2)));
  CHECK(ok(f->rotate_key()) == 1);
  CHECK(ok(f->rotate_key()) == 0);
  auto key_ids = f.db->with_reader([](store::Connection& c) {
    store::Statement s(c, "SELECT key_id FROM oauth_tokens ORDER BY portal_id");
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.column_text(0));
    return out;
  });
  CHECK(key_ids == std::vector<std::string>{hex_id(key_b), hex_id(key_b)});

  f.reopen(KeyRing::from_raw(key_b));
  check_tokens(ok(f->tokens(kPortal)), "access-1", "refresh-1", kT0);
  check_tokens(ok(f->tokens(kOther)), "access-3", "refresh-3", kT0 + 2);

  f.reopen(KeyRing::from_raw(key_a));
  auto refused = f->tokens(kPortal);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().kind == TokenStoreError::Kind::kKey);
  CHECK_THAT(refused.error().message, Catch::Contains("sealed with key " + hex_id(key_b)));
}

TEST_CASE("token store rotate_key changes nothing when a row opens with no configured key") {
  const std::string key_a = raw_key();
  const std::string key_b = raw_key();
  const std::string key_c = raw_key();
  Fixture f(KeyRing::from_raw(key_a));
  REQUIRE(f->save_install(account_of(1), tokens_of("access-1", "refresh-1", kT0)).has_value());
  f.reopen(KeyRing::from_raw(key_c));
  REQUIRE(f->save_install(account_of(2), tokens_of("access-2", "refresh-2", kT0)).has_value());
  f.reopen(KeyRing::from_raw(key_a));
  REQUIRE(f->save_install(account_of(3), tokens_of("access-3", "refresh-3", kT0)).has_value());

  // Ring {B, A}: rows 1 and 3 could be re-sealed, row 2 (key C) cannot: nothing is rewritten.
  f.reopen(KeyRing::from_raw(key_b, {key_a}));
  auto rotated = f->rotate_key();
  REQUIRE_FALSE(rotated.has_value());
  CHECK(rotated.error().kind == TokenStoreError::Kind::kKey);
  CHECK_THAT(rotated.error().message, Catch::Contains("account 2"));
  CHECK_THAT(rotated.error().message, Catch::Contains(hex_id(key_c)));
  f.reopen(KeyRing::from_raw(key_a));
  check_tokens(ok(f->tokens(1)), "access-1", "refresh-1", kT0);
  check_tokens(ok(f->tokens(3)), "access-3", "refresh-3", kT0);
}

TEST_CASE("token store copied without its key refuses the tokens and still lists the accounts") {
  const std::string key_a = raw_key();
  const std::string key_b = raw_key();
  Fixture f(KeyRing::from_raw(key_a));
  REQUIRE(f->save_install(account_of(kPortal), tokens_of("access-1", "refresh-1", kT0)).has_value());
  f.store.reset();
  f.db.reset();

  // The file as another deployment (or an attacker) would get it: copied, opened with key B.
  const std::string copy = f.dir.file("copy.db");
  std::filesystem::copy_file(f.config.path, copy);
  f.config.path = copy;
  f.open(KeyRing::from_raw(key_b));
  auto refused = f->tokens(kPortal);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().kind == TokenStoreError::Kind::kKey);
  CHECK(refused.error().message ==
        "the tokens of account 62515 cannot be decrypted: sealed with key " + hex_id(key_a) +
            ", which is not configured (oauth.token_key or oauth.previous_token_keys): the store was written "
            "with another key");
  auto all = ok(f->accounts());
  REQUIRE(all.size() == 1);
  CHECK(all[0].hub_domain == "acme.com");
  auto rotated = f->rotate_key();
  REQUIRE_FALSE(rotated.has_value());
  CHECK(rotated.error().kind == TokenStoreError::Kind::kKey);
}

TEST_CASE("token store never writes a token to the database file or its WAL") {
  Fixture f(KeyRing::from_raw(raw_key()));
  const std::string marker = "plaintext-marker-" + crypto::random_hex(8) + ".example";
  std::vector<std::string> secrets;
  auto fresh = [&] {
    secrets.push_back(random_token(200));
    return secrets.back();
  };
  for (std::int64_t portal : {kPortal, kOther}) {
    std::string access = fresh();
    std::string refresh = fresh();
    REQUIRE(f->save_install(account_of(portal, portal == kPortal ? marker : "other.example"),
                            tokens_of(access, refresh, kT0))
                .has_value());
    for (int i = 1; i <= 3; ++i) {
      std::string a = fresh();
      std::string r = fresh();
      REQUIRE(ok(f->save_refresh(portal, tokens_of(a, r, kT0 + i), kT0 + i)));
    }
  }

  // The database stays open: the latest writes sit in the WAL.
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string suffix : {"", "-wal", "-shm"}) {
    const std::string path = f.config.path + suffix;
    if (!std::filesystem::exists(path)) continue;
    files.emplace_back(path, testing::read_file_or_fail(path));
  }
  REQUIRE(files.size() >= 2);
  REQUIRE(files[1].first == f.config.path + "-wal");
  REQUIRE_FALSE(files[1].second.empty());

  // Whether any 16-byte piece of `needle` is in `haystack`.
  auto any_piece_in = [](const std::string& haystack, const std::string& needle) {
    for (std::size_t i = 0; i + 16 <= needle.size(); ++i)
      if (haystack.find(needle.data() + i, 0, 16) != std::string::npos) return true;
    return false;
  };
  // The search can fail: the marker (a non-secret field) is found, as a whole and in pieces.
  bool marker_found = false;
  bool marker_in_wal = false;
  for (const auto& [path, bytes] : files) {
    if (bytes.find(marker) != std::string::npos) marker_found = true;
    if (path.ends_with("-wal") && any_piece_in(bytes, marker)) marker_in_wal = true;
  }
  CHECK(marker_found);
  CHECK(marker_in_wal);

  REQUIRE(secrets.size() == 16);
  for (const auto& [path, bytes] : files) {
    for (std::size_t i = 0; i < secrets.size(); ++i) {
      INFO(path << ": token " << i);
      CHECK_FALSE(any_piece_in(bytes, secrets[i]));
    }
  }
  check_tokens(ok(f->tokens(kPortal)), secrets[6], secrets[7], kT0 + 3);  // the data is really there
}
