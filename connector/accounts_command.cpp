// `tandem accounts list|show|disconnect`: the HubSpot accounts Tandem is installed in, for admins.
// Human-readable tables, or --json. Nothing printed here is secret: tokens stay in the store.

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/crypto.hpp"
#include "common/http_client.hpp"
#include "common/metrics.hpp"
#include "common/time_format.hpp"
#include "connector/account_store.hpp"
#include "connector/commands.hpp"
#include "connector/config.hpp"
#include "oauth/key_ring.hpp"
#include "oauth/token_endpoint.hpp"
#include "store/database.hpp"
#include "store/sqlite_contact_states.hpp"
#include "store/sqlite_outbox.hpp"
#include "store/sqlite_token_store.hpp"

namespace tandem::connector {
namespace {

using oauth::Account;
using oauth::AccountStatus;

struct AccountsArgs {
  std::string config_path;
  bool json = false;
  std::int64_t portal = 0;
  bool keep_installed = false;
  bool delete_data = false;
};

using Loaded = LoadedStore;

std::optional<Loaded> open(const AccountsArgs& args, bool need_key) {
  return open_store(args.config_path, need_key, "tandem accounts");
}

std::string when(std::int64_t ms) { return ms == 0 ? "-" : format_iso8601_s(ms); }

std::string relative(std::int64_t at, std::int64_t now) {
  const std::int64_t s = (at - now) / 1000;
  std::ostringstream out;
  auto span = [&](std::int64_t v) {
    v = v < 0 ? -v : v;
    if (v < 120) out << v << " s";
    else if (v < 7200) out << v / 60 << " min";
    else out << v / 3600 << " h";
  };
  if (s >= 0) {
    out << "in ";
    span(s);
  } else {
    span(s);
    out << " ago";
  }
  return out.str();
}

nlohmann::json to_json(const Account& a) {
  return {{"portal_id", a.portal_id},
          {"status", std::string(oauth::to_string(a.status))},
          {"status_reason", a.status_reason},
          {"hub_domain", a.hub_domain},
          {"time_zone", a.time_zone},
          {"scopes", a.scopes},
          {"installed_by_user", a.installed_by_user},
          {"installed_at", a.installed_at ? nlohmann::json(format_iso8601_ms(a.installed_at)) : nlohmann::json(nullptr)},
          {"updated_at", a.updated_at ? nlohmann::json(format_iso8601_ms(a.updated_at)) : nlohmann::json(nullptr)},
          {"access_token_expires_at",
           a.status != AccountStatus::kDisconnected && a.access_expires_at ? nlohmann::json(format_iso8601_ms(a.access_expires_at))
                                                                          : nlohmann::json(nullptr)},
          {"last_refresh_at", a.last_refresh_at ? nlohmann::json(format_iso8601_ms(a.last_refresh_at)) : nlohmann::json(nullptr)},
          {"disconnected_at", a.disconnected_at ? nlohmann::json(format_iso8601_ms(a.disconnected_at)) : nlohmann::json(nullptr)},
          {"properties_ready", a.properties_ready},
          {"properties_error", a.properties_error}};
}

int list(const AccountsArgs& args) {
  auto loaded = open(args, false);
  if (!loaded) return 1;
  auto accounts = loaded->store->tokens.accounts();
  if (!accounts) {
    std::cerr << "tandem accounts: " << accounts.error().message << '\n';
    return 1;
  }
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& a : *accounts) out.push_back(to_json(a));
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  if (accounts->empty()) {
    std::cout << "No HubSpot account is connected yet. An admin installs Tandem at "
              << loaded->config.webhooks.public_base_url << loaded->config.oauth.install_path << "\n";
    return 0;
  }
  const std::int64_t now = to_epoch_ms(SystemClock::instance().now());
  std::cout << std::left << std::setw(12) << "ACCOUNT" << std::setw(23) << "STATUS" << std::setw(24) << "DOMAIN"
            << std::setw(22) << "TIME ZONE" << std::setw(22) << "INSTALLED" << "TOKEN\n";
  for (const auto& a : *accounts) {
    std::string token = a.status == AccountStatus::kConnected ? "expires " + relative(a.access_expires_at, now) : "-";
    std::cout << std::left << std::setw(12) << a.portal_id << std::setw(23) << oauth::to_string(a.status) << std::setw(24)
              << (a.hub_domain.empty() ? "-" : a.hub_domain) << std::setw(22) << (a.time_zone.empty() ? "-" : a.time_zone)
              << std::setw(22) << when(a.installed_at) << token << '\n';
  }
  return 0;
}

int show(const AccountsArgs& args) {
  auto loaded = open(args, false);
  if (!loaded) return 1;
  auto account = loaded->store->tokens.account(args.portal);
  if (!account) {
    std::cerr << "tandem accounts: " << account.error().message << '\n';
    return 1;
  }
  if (!*account) {
    std::cerr << "tandem accounts: no account " << args.portal << " (tandem accounts list shows the connected ones)\n";
    return 1;
  }
  const Account& a = **account;
  const std::int64_t now = to_epoch_ms(SystemClock::instance().now());
  std::int64_t pending = 0, dead = 0;
  if (auto stats = loaded->store->outbox.stats(now))
    for (const auto& l : stats->lanes)
      if (l.portal_id == a.portal_id) {
        pending += l.pending;
        dead += l.dead;
      }
  std::optional<pipeline::BackfillProgress> backfill;
  if (auto all = loaded->store->contacts.backfills())
    for (const auto& p : *all)
      if (p.portal_id == a.portal_id) backfill = p;
  if (args.json) {
    auto j = to_json(a);
    j["outbox"] = {{"pending", pending}, {"dead", dead}};
    if (backfill)
      j["backfill"] = {{"contacts", backfill->contacts},
                       {"started_at", format_iso8601_ms(backfill->started_at)},
                       {"finished_at", backfill->finished_at ? nlohmann::json(format_iso8601_ms(backfill->finished_at)) : nlohmann::json(nullptr)},
                       {"last_error", backfill->last_error}};
    std::cout << j.dump(2) << '\n';
    return 0;
  }
  std::string scopes;
  for (const auto& s : a.scopes) scopes += (scopes.empty() ? "" : " ") + s;
  auto line = [](const std::string& k, const std::string& v) { std::cout << std::left << std::setw(20) << k + ":" << v << '\n'; };
  line("Account", std::to_string(a.portal_id) + (a.hub_domain.empty() ? "" : " (" + a.hub_domain + ")"));
  std::string status(oauth::to_string(a.status));
  if (a.status == AccountStatus::kNeedsReauthorisation)
    status += " - " + a.status_reason + "; writes are paused until an admin installs Tandem again at " +
              loaded->config.webhooks.public_base_url + loaded->config.oauth.install_path;
  else if (a.status == AccountStatus::kDisconnected)
    status += " since " + when(a.disconnected_at) + (a.status_reason.empty() ? "" : " - " + a.status_reason);
  line("Status", status);
  line("Time zone", a.time_zone.empty() ? "unknown" : a.time_zone);
  line("Installed", when(a.installed_at) + (a.installed_by_user ? " by HubSpot user " + std::to_string(a.installed_by_user) : ""));
  line("Scopes", scopes.empty() ? "-" : scopes);
  if (a.status != AccountStatus::kDisconnected) {
    line("Access token", "expires " + when(a.access_expires_at) + " (" + relative(a.access_expires_at, now) + ")");
    line("Last refresh", a.last_refresh_at ? when(a.last_refresh_at) + " (" + relative(a.last_refresh_at, now) + ")" : "none yet");
  }
  line("Properties", a.properties_ready ? "created (group \"Tandem\")" : "not created" + (a.properties_error.empty() ? "" : ": " + a.properties_error));
  if (!backfill)
    line("Backfill", "not started (it starts when the account is connected)");
  else if (backfill->finished_at)
    line("Backfill", "done: " + std::to_string(backfill->contacts) + " existing contacts evaluated, finished " +
                         when(backfill->finished_at));
  else
    line("Backfill", "running: " + std::to_string(backfill->contacts) + " contacts evaluated so far, started " +
                         when(backfill->started_at) + (backfill->last_error.empty() ? "" : "; last error: " + backfill->last_error));
  line("Outbox", std::to_string(pending) + " writes pending, " + std::to_string(dead) + " dead (tandem outbox list --portal " +
                     std::to_string(a.portal_id) + ")");
  return 0;
}

// Tells HubSpot (best effort): uninstalls the app from the account, and revokes the refresh
// token (contract §2.4). Returns what happened, for the admin.
std::vector<std::string> tell_hubspot(const TandemConfig& c, const oauth::Tokens& tokens, bool keep_installed) {
  std::vector<std::string> out;
  http::ClientOptions options;
  options.extra_ca_pem = c.hubspot.extra_ca_pem;
  const std::int64_t now = to_epoch_ms(SystemClock::instance().now());
  const std::string secret(c.hubspot.client_secret ? c.hubspot.client_secret->reveal() : std::string_view());
  if (!keep_installed) {
    Secret access = tokens.access_token;
    if (now >= tokens.expires_at - 60'000) {
      http::Request r;
      r.method = "POST";
      r.target = c.oauth.token_path;
      r.headers.set("Content-Type", "application/x-www-form-urlencoded");
      r.body = "grant_type=refresh_token&client_id=" + http::form_encode(c.hubspot.client_id) +
               "&client_secret=" + http::form_encode(secret) + "&refresh_token=" + http::form_encode(tokens.refresh_token.reveal());
      auto answer = http::fetch(c.hubspot.api_base_url, std::move(r), options);
      if (answer) {
        auto grant = oauth::parse_grant_response(*answer);
        if (grant) access = grant->access_token;
      }
    }
    http::Request r;
    r.method = "DELETE";
    r.target = "/appinstalls/" + c.hubspot.api_version + "/external-install";
    r.headers.set("Authorization", "Bearer " + std::string(access.reveal()));
    auto answer = http::fetch(c.hubspot.api_base_url, std::move(r), options);
    if (answer && answer->status / 100 == 2) out.push_back("uninstalled the app from the account in HubSpot");
    else
      out.push_back("could not uninstall the app in HubSpot (" +
                    (answer ? "HTTP " + std::to_string(answer->status) : std::string("no answer")) +
                    "): remove it under Settings > Integrations > Connected apps");
  }
  http::Request r;
  r.method = "POST";
  r.target = c.oauth.token_path + "/revoke";
  r.headers.set("Content-Type", "application/x-www-form-urlencoded");
  r.body = "client_id=" + http::form_encode(c.hubspot.client_id) + "&client_secret=" + http::form_encode(secret) +
           "&token=" + http::form_encode(tokens.refresh_token.reveal()) + "&token_type_hint=refresh_token";
  auto answer = http::fetch(c.hubspot.api_base_url, std::move(r), options);
  if (answer && answer->status / 100 == 2) out.push_back("revoked the refresh token at HubSpot");
  else out.push_back("could not revoke the refresh token at HubSpot (" +
                     (answer ? "HTTP " + std::to_string(answer->status) : std::string("no answer")) + "); it is deleted here");
  return out;
}

int disconnect(const AccountsArgs& args) {
  auto loaded = open(args, true);
  if (!loaded) return 1;
  auto& s = *loaded->store;
  auto account = s.tokens.account(args.portal);
  if (!account || !*account) {
    std::cerr << "tandem accounts: no account " << args.portal << '\n';
    return 1;
  }
  std::vector<std::string> done;
  if ((*account)->status != AccountStatus::kDisconnected) {
    auto tokens = s.tokens.tokens(args.portal);
    if (!tokens) {
      std::cerr << "tandem accounts: " << tokens.error().message << '\n';
      if (tokens.error().kind == oauth::TokenStoreError::Kind::kStorage) return 1;
    } else if (*tokens) {
      done = tell_hubspot(loaded->config, **tokens, args.keep_installed);
    }
    const std::int64_t now = to_epoch_ms(SystemClock::instance().now());
    auto r = s.tokens.disconnect(args.portal, "disconnected by an admin (tandem accounts disconnect)", now);
    if (!r) {
      std::cerr << "tandem accounts: " << r.error().message << '\n';
      return 1;
    }
    done.push_back("deleted the account's tokens; a running tandem serve stops its work within seconds");
  }
  if (args.delete_data) {
    auto dropped = s.outbox.drop(std::nullopt, args.portal);
    auto forgot = s.tokens.forget(args.portal);
    if (!dropped || !forgot) {
      std::cerr << "tandem accounts: deleting the account's data failed\n";
      return 1;
    }
    done.push_back("deleted its data: " + std::to_string(*dropped) + " pending writes and the account's record");
  } else {
    done.push_back("kept its data (pending writes, the account's record) for oauth.disconnected_retention; --delete-data deletes it now");
  }
  if (args.json) {
    std::cout << nlohmann::json{{"portal_id", args.portal}, {"done", done}}.dump(2) << '\n';
  } else {
    std::cout << "Account " << args.portal << " disconnected:\n";
    for (const auto& d : done) std::cout << "  - " << d << '\n';
  }
  return 0;
}

}  // namespace

void add_accounts_command(CLI::App& app, int& exit_code) {
  static AccountsArgs args;
  auto* accounts = app.add_subcommand("accounts", "The HubSpot accounts Tandem is installed in");
  accounts->require_subcommand(1);
  auto common = [](CLI::App* c) {
    c->add_option("--config,-c", args.config_path, "Configuration file")->required()->check(CLI::ExistingFile);
    c->add_flag("--json", args.json, "Print JSON");
  };
  auto* list_cmd = accounts->add_subcommand("list", "Every account: status, domain, time zone, token expiry");
  common(list_cmd);
  list_cmd->callback([&exit_code] { exit_code = list(args); });
  auto* show_cmd = accounts->add_subcommand("show", "One account in detail, with its pending writes");
  common(show_cmd);
  show_cmd->add_option("portal", args.portal, "HubSpot account id")->required();
  show_cmd->callback([&exit_code] { exit_code = show(args); });
  auto* disconnect_cmd = accounts->add_subcommand(
      "disconnect", "Stop working for an account: uninstall the app in HubSpot, revoke and delete its tokens");
  common(disconnect_cmd);
  disconnect_cmd->add_option("portal", args.portal, "HubSpot account id")->required();
  disconnect_cmd->add_flag("--keep-installed", args.keep_installed, "Do not uninstall the app from the account in HubSpot");
  disconnect_cmd->add_flag("--delete-data", args.delete_data, "Also delete its pending writes and its record now");
  disconnect_cmd->callback([&exit_code] { exit_code = disconnect(args); });
}

}  // namespace tandem::connector
