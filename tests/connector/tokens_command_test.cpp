// `tandem tokens rotate-key`, run in process over a database the test fills, with the keys in
// environment variables as an admin would give them (not TANDEM_*: those are configuration
// overrides, common/config.hpp).

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "common/crypto.hpp"
#include "common/metrics.hpp"
#include "oauth/key_ring.hpp"
#include "store/database.hpp"
#include "store/sqlite_token_store.hpp"
#include "tests/support/file_inbox.hpp"
#include "tests/support/run_cli.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

using namespace tandem;
using tandem::testing::ok;

namespace {

using Ran = testing::CliRun;

Ran run(std::vector<std::string> args) { return testing::run_cli(std::move(args)); }

constexpr std::int64_t kT0 = 1'700'000'000'000;
constexpr const char* kNewVariable = "TOKENS_TEST_KEY_NEW";
constexpr const char* kOldVariable = "TOKENS_TEST_KEY_OLD";

// Sets the variables for one test and removes them after it.
struct Environment {
  Environment(const std::string& new_key, const std::string& old_key) {
    ::setenv(kNewVariable, new_key.c_str(), 1);
    ::setenv(kOldVariable, old_key.c_str(), 1);
  }
  ~Environment() {
    ::unsetenv(kNewVariable);
    ::unsetenv(kOldVariable);
  }
};

// An OpenDatabase with a token store over it, closed in order.
struct Opened {
  Opened(const std::string& path, oauth::KeyRing keys)
      : database(config_of(path), metrics), tokens(database, std::move(keys)) {}
  static store::StoreConfig config_of(const std::string& path) {
    store::StoreConfig c;
    c.path = path;
    return c;
  }
  MetricsRegistry metrics;
  store::Database database;
  store::SqliteTokenStore tokens;
};

void install(store::SqliteTokenStore& store, std::int64_t portal, const std::string& access) {
  oauth::Account a;
  a.portal_id = portal;
  a.installed_at = kT0;
  REQUIRE(store.save_install(a, oauth::Tokens{Secret(access), Secret("refresh-" + access), kT0}).has_value());
}

std::string write_config(const testing::TempDir& dir, const std::string& db, bool with_key, bool with_previous) {
  const std::string path = dir.file("tandem.yaml");
  std::ofstream out(path);
  out << "store:\n  path: " << db << "\n";
  if (with_key || with_previous) out << "oauth:\n";
  if (with_key) out << "  token_key: {env: " << kNewVariable << "}\n";
  if (with_previous) out << "  previous_token_keys:\n    2026-q3: {env: " << kOldVariable << "}\n";
  return path;
}

}  // namespace

TEST_CASE("tandem tokens rotate-key re-encrypts with the new key so that the old one can go") {
  testing::TempDir dir;
  const std::string db = dir.file("tandem.db");
  const std::string key_a = crypto::random_bytes(32);
  const std::string key_b = crypto::random_bytes(32);
  const std::string id_b = oauth::KeyRing::from_raw(key_b).current_key_id();
  {
    Opened o(db, oauth::KeyRing::from_raw(key_a));
    install(o.tokens, 1, "access-1");
    install(o.tokens, 2, "access-2");
  }
  // The new key as hex, the old one as Base64: both forms an admin may write.
  Environment env(crypto::to_hex(key_b), crypto::base64_encode(key_a));
  const std::string config = write_config(dir, db, true, true);

  Ran rotated = run({"tokens", "rotate-key", "--config", config});
  INFO(rotated.err);
  CHECK(rotated.code == 0);
  CHECK(rotated.out == "re-encrypted 2 accounts' tokens with key " + id_b + "\n");
  for (const std::string& text : {rotated.out, rotated.err}) {
    CHECK(text.find(crypto::to_hex(key_b)) == std::string::npos);
    CHECK(text.find(crypto::base64_encode(key_a)) == std::string::npos);
  }

  Ran again = run({"tokens", "rotate-key", "--config", config});
  CHECK(again.code == 0);
  CHECK(again.out == "re-encrypted 0 accounts' tokens with key " + id_b + "\n");

  // Key B alone reads everything now.
  Opened o(db, oauth::KeyRing::from_raw(key_b));
  auto t1 = ok(o.tokens.tokens(1));
  REQUIRE(t1.has_value());
  CHECK(t1->access_token.reveal() == "access-1");
  auto t2 = ok(o.tokens.tokens(2));
  REQUIRE(t2.has_value());
  CHECK(t2->refresh_token.reveal() == "refresh-access-2");
}

TEST_CASE("tandem tokens rotate-key fails clearly without the key that wrote the store") {
  testing::TempDir dir;
  const std::string db = dir.file("tandem.db");
  const std::string key_a = crypto::random_bytes(32);
  const std::string key_b = crypto::random_bytes(32);
  const std::string key_c = crypto::random_bytes(32);
  {
    Opened o(db, oauth::KeyRing::from_raw(key_a));
    install(o.tokens, 1, "access-1");
  }
  Environment env(crypto::to_hex(key_b), crypto::to_hex(key_c));  // A is not among them
  Ran refused = run({"tokens", "rotate-key", "--config", write_config(dir, db, true, true)});
  CHECK(refused.code == 1);
  CHECK(refused.out.empty());
  CHECK_THAT(refused.err, Catch::Contains("sealed with key " + oauth::KeyRing::from_raw(key_a).current_key_id() +
                                          ", which is not configured"));
  CHECK_THAT(refused.err, Catch::Contains("nothing was re-encrypted"));
  // The row is as it was: A still opens it.
  Opened o(db, oauth::KeyRing::from_raw(key_a));
  CHECK(ok(o.tokens.tokens(1)).has_value());
}

TEST_CASE("tandem tokens rotate-key needs oauth.token_key and an existing database") {
  testing::TempDir dir;
  const std::string db = dir.file("tandem.db");
  { Opened o(db, oauth::KeyRing::from_raw(crypto::random_bytes(32))); }
  Environment env(crypto::to_hex(crypto::random_bytes(32)), "not a key");

  Ran no_key = run({"tokens", "rotate-key", "--config", write_config(dir, db, false, false)});
  CHECK(no_key.code == 1);
  CHECK_THAT(no_key.err, Catch::Contains("oauth.token_key is not set"));

  Ran bad_previous = run({"tokens", "rotate-key", "--config", write_config(dir, db, true, true)});
  CHECK(bad_previous.code == 1);
  CHECK_THAT(bad_previous.err, Catch::Contains("oauth.previous_token_keys (entry 1): "));
  CHECK_THAT(bad_previous.err, !Catch::Contains("not a key"));

  const std::string missing = dir.file("missing.db");
  Ran no_db = run({"tokens", "rotate-key", "--config", write_config(dir, missing, true, false)});
  CHECK(no_db.code == 1);
  CHECK_THAT(no_db.err, Catch::Contains("no database at " + missing));
  CHECK_FALSE(std::filesystem::exists(missing));

  CHECK(run({"tokens", "rotate-key"}).code == 2);  // --config is required
}
