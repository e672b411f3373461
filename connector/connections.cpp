#include "connector/connections.hpp"

#include <future>
#include <map>
#include <mutex>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "connector/account_properties.hpp"
#include "connector/service.hpp"
#include "hubspot/tandem_properties.hpp"
#include "oauth/account_setup.hpp"
#include "oauth/uninstall_notices.hpp"

namespace tandem::connector {

namespace net = boost::asio;

WritePathOptions write_path_options(const TandemConfig& config) {
  WritePathOptions o;
  o.http.extra_ca_pem = config.hubspot.extra_ca_pem;
  o.http.request_timeout = config.outbox.request_timeout;
  o.client.base_url = config.hubspot.api_base_url;
  o.client.api_version = config.hubspot.api_version;
  o.client.timeout = config.outbox.request_timeout;
  o.limits = config.outbox.limits;
  o.writer = config.outbox.writer;
  return o;
}

namespace {

http::ClientOptions token_http_options(const TandemConfig& config) {
  http::ClientOptions o;
  o.extra_ca_pem = config.hubspot.extra_ca_pem;
  o.body_limit = 1024 * 1024;
  return o;
}
oauth::TokenEndpointConfig endpoint_config(const TandemConfig& config) {
  oauth::TokenEndpointConfig c;
  c.origin = config.hubspot.api_base_url;
  c.path = config.oauth.token_path;
  c.client_id = config.hubspot.client_id;
  c.client_secret = config.hubspot.client_secret.value_or(Secret());
  c.redirect_uri = config.hubspot.redirect_url;
  return c;
}

}  // namespace

struct Connections::State {
  State(Service& service, const TandemConfig& config, oauth::TokenStore& store, hubspot::Outbox& outbox,
        MetricsRegistry& metrics, const Clock& clock, ConnectionsOptions options)
      : service(service),
        config(config),
        store(store),
        outbox(outbox),
        metrics(metrics),
        clock(clock),
        options(std::move(options)),
        token_http(service.io(), token_http_options(config)),
        endpoint(token_http, endpoint_config(config)),
        tokens(service.io(), store, endpoint, metrics, clock,
               oauth::AccountTokensOptions{config.oauth.refresh_before, config.oauth.retry_base, config.oauth.retry_cap}),
        write_path(service.io(), outbox, tokens, metrics, clock, write_path_options(config)),
        properties(hubspot::tandem_property_definitions(this->options.score_properties)),
        install(service.io(), endpoint, store, tokens, write_path.client(), metrics, clock, install_options(config, properties)) {
    if (config.oauth.uninstall_notices && config.hubspot.client_secret) {
      oauth::UninstallNoticesOptions o;
      o.api_origin = config.hubspot.api_base_url;
      o.endpoint = endpoint_config(config);
      o.http = token_http_options(config);
      o.app_id = std::atoll(config.hubspot.app_id.c_str());
      uninstall_notices = std::make_unique<oauth::UninstallNotices>(store, metrics, clock, std::move(o));
    }
  }

  static oauth::InstallOptions install_options(const TandemConfig& config, const std::vector<hubspot::PropertyDefinition>& properties) {
    oauth::InstallOptions o;
    o.authorize_url = config.hubspot.auth_base_url + "/oauth/authorize";
    o.client_id = config.hubspot.client_id;
    o.redirect_uri = config.hubspot.redirect_url;
    o.scopes = config.hubspot.scopes;
    o.optional_scopes = config.hubspot.optional_scopes;
    o.install_path = config.oauth.install_path;
    o.callback_path = config.oauth.callback_path;
    o.state_ttl = config.oauth.state_ttl;
    o.properties = properties;
    return o;
  }

  Service& service;
  const TandemConfig& config;
  oauth::TokenStore& store;
  hubspot::Outbox& outbox;
  MetricsRegistry& metrics;
  const Clock& clock;
  ConnectionsOptions options;
  http::HttpClient token_http;
  oauth::TokenEndpoint endpoint;
  oauth::AccountTokenSource tokens;
  WritePath write_path;
  std::vector<hubspot::PropertyDefinition> properties;
  oauth::InstallFlow install;
  std::unique_ptr<oauth::UninstallNotices> uninstall_notices;  // null when oauth.uninstall_notices is off
  Logger log{"accounts"};
  // The accounts as the last sync saw them (job thread only): updated_at and status.
  std::map<std::int64_t, std::pair<std::int64_t, oauth::AccountStatus>> seen;
  // The accounts' time zones, for the pipeline (any thread).
  mutable std::mutex zones_mutex;
  std::map<std::int64_t, std::string> zones;
  std::vector<std::function<void(std::int64_t)>> connected_listeners;
  std::vector<std::function<void(std::int64_t, oauth::AccountStatus)>> status_listeners;

  void sync() {
    auto accounts = store.accounts();
    if (!accounts) {
      log.warn("reading the accounts failed", {{"error", accounts.error().message}});
      return;
    }
    for (const auto& a : *accounts) {
      auto it = seen.find(a.portal_id);
      const bool changed = it == seen.end() || it->second.first != a.updated_at || it->second.second != a.status;
      if (changed && it != seen.end()) {
        // Changed by someone else (a disconnect from the command line, another instance's
        // install) or by this process: either way the cached tokens are read again.
        tokens.invalidate(a.portal_id);
        if (a.status == oauth::AccountStatus::kConnected) write_path.writer().resume(a.portal_id);
        log.info("account changed", {{"portal", a.portal_id}, {"status", std::string(oauth::to_string(a.status))}});
        if (it->second.second != a.status)
          for (auto& f : status_listeners) f(a.portal_id, a.status);
      }
      seen[a.portal_id] = {a.updated_at, a.status};
      remember_zone(a);
    }
  }

  void remember_zone(const oauth::Account& a) {
    std::lock_guard lock(zones_mutex);
    zones[a.portal_id] = a.time_zone;
  }

  void refresh_gauges() {
    auto accounts = store.accounts();
    if (!accounts) return;
    const std::int64_t now = to_epoch_ms(clock.now());
    for (const auto& a : *accounts) {
      const std::string portal = std::to_string(a.portal_id);
      for (auto s : {oauth::AccountStatus::kConnected, oauth::AccountStatus::kNeedsReauthorisation, oauth::AccountStatus::kDisconnected}) {
        metrics
            .gauge("tandem_account_status", "1 for each account's current status (connected, needs_reauthorisation, disconnected)",
                   {{"portal", portal}, {"status", std::string(oauth::to_string(s))}})
            .set(a.status == s ? 1 : 0);
      }
      metrics
          .gauge("tandem_account_token_expires_in_seconds", "Seconds until the account's access token expires (negative: expired)",
                 {{"portal", portal}})
          .set(a.status == oauth::AccountStatus::kDisconnected ? 0 : static_cast<double>(a.access_expires_at - now) / 1000.0);
      metrics.gauge("tandem_account_properties_ready", "1 when Tandem's contact properties exist in the account", {{"portal", portal}})
          .set(a.properties_ready ? 1 : 0);
    }
  }

  nlohmann::json readiness_detail() {
    auto accounts = store.accounts();
    if (!accounts) return nlohmann::json{{"error", accounts.error().message}};
    nlohmann::json connected = nlohmann::json::array(), needs = nlohmann::json::array();
    std::size_t disconnected = 0;
    for (const auto& a : *accounts) {
      switch (a.status) {
        case oauth::AccountStatus::kConnected: connected.push_back(a.portal_id); break;
        case oauth::AccountStatus::kNeedsReauthorisation:
          needs.push_back(nlohmann::json{{"portal", a.portal_id}, {"reason", a.status_reason}});
          break;
        case oauth::AccountStatus::kDisconnected: ++disconnected; break;
      }
    }
    return nlohmann::json{{"connected", connected}, {"needs_reauthorisation", needs}, {"disconnected", disconnected}};
  }

  void purge() {
    auto gone = store.purge_disconnected(config.oauth.disconnected_retention, to_epoch_ms(clock.now()));
    if (!gone) {
      log.warn("purging disconnected accounts failed", {{"error", gone.error().message}});
      return;
    }
    for (auto portal : *gone) {
      auto dropped = outbox.drop(std::nullopt, portal);
      log.info("deleted what was kept of a disconnected account",
               {{"portal", portal}, {"outbox_items", dropped ? static_cast<std::int64_t>(*dropped) : -1}});
    }
  }

  // Tandem's properties in connected accounts where creating them failed before.
  net::awaitable<void> retry_properties(std::vector<std::int64_t> portals) {
    for (auto portal : portals) {
      oauth::PropertySetup setup = co_await oauth::create_tandem_properties(write_path.client(), portal, properties);
      auto recorded = store.set_properties(portal, setup.ok, setup.error, to_epoch_ms(clock.now()));
      if (!recorded) log.warn("recording the property setup failed", {{"portal", portal}});
      if (setup.ok) log.info("Tandem's properties created", {{"portal", portal}, {"created", setup.created}});
      else log.warn("creating Tandem's properties failed again", {{"portal", portal}, {"error", setup.error}});
    }
  }
};

Connections::Connections(Service& service, const TandemConfig& config, oauth::TokenStore& store, hubspot::Outbox& outbox,
                         MetricsRegistry& metrics, const Clock& clock, ConnectionsOptions options)
    : state_(std::make_unique<State>(service, config, store, outbox, metrics, clock, std::move(options))) {
  State& s = *state_;
  service.add_route(config.oauth.install_path, s.install.install_handler());
  service.add_route(config.oauth.callback_path, s.install.callback_handler());
  s.install.on_connected([&s](std::int64_t portal) {
    // The zone the install just learned, before the backfill decides anything.
    if (auto a = s.store.account(portal); a && *a) s.remember_zone(**a);
    s.write_path.writer().resume(portal);
    for (auto& f : s.connected_listeners) f(portal);
  });
  service.add_readiness_detail("accounts", [&s] { return s.readiness_detail(); });
  service.add_metrics_refresh([&s] { s.refresh_gauges(); });
  s.sync();
  service.add_job("accounts_sync", s.options.accounts_sync_interval, [&s] { s.sync(); });
  service.add_job("accounts_purge", std::chrono::hours(1), [&s] { s.purge(); });
  if (s.uninstall_notices) {
    service.add_readiness_detail("uninstall_notices", [&s] { return s.uninstall_notices->status(); });
    // On the job thread, like sync(): an account uninstalled in HubSpot stops at once.
    service.add_job("uninstall_notices", config.oauth.uninstall_poll_interval, [&s] {
      auto gone = s.uninstall_notices->poll();
      for (auto portal : gone) s.tokens.invalidate(portal);
      if (!gone.empty()) s.sync();
    });
  }
  std::vector<std::int64_t> unready;
  if (auto accounts = store.accounts())
    for (const auto& a : *accounts)
      if (a.status == oauth::AccountStatus::kConnected && !a.properties_ready) unready.push_back(a.portal_id);
  if (!unready.empty()) {
    net::co_spawn(service.io(), s.retry_properties(std::move(unready)), [&s](std::exception_ptr e) {
      if (e) s.log.error("creating Tandem's properties failed unexpectedly");
    });
  }
  s.write_path.writer().start();
  service.add_drain([&s] {
    std::promise<void> stopped;
    auto done = stopped.get_future();
    s.write_path.writer().stop([&stopped] { stopped.set_value(); });
    done.wait();
  });
}

Connections::~Connections() = default;

oauth::AccountTokenSource& Connections::tokens() { return state_->tokens; }
WritePath& Connections::write_path() { return state_->write_path; }
std::string Connections::time_zone(std::int64_t portal) const {
  std::lock_guard lock(state_->zones_mutex);
  auto it = state_->zones.find(portal);
  return it == state_->zones.end() ? std::string() : it->second;
}
void Connections::on_connected(std::function<void(std::int64_t)> listener) {
  state_->connected_listeners.push_back(std::move(listener));
}
void Connections::on_status_changed(std::function<void(std::int64_t, oauth::AccountStatus)> listener) {
  state_->status_listeners.push_back(std::move(listener));
}

Result<std::vector<hubspot::PropertyDefinition>, std::string> read_account_properties(const TandemConfig& config,
                                                                                  oauth::TokenStore& store,
                                                                                  std::int64_t portal,
                                                                                  const std::string& object_type) {
  net::io_context io;
  MetricsRegistry metrics;
  const Clock& clock = SystemClock::instance();
  http::HttpClient token_http(io, token_http_options(config));
  oauth::TokenEndpoint endpoint(token_http, endpoint_config(config));
  oauth::AccountTokenSource tokens(io, store, endpoint, metrics, clock);
  WritePathOptions o = write_path_options(config);
  http::HttpClient http(io, o.http);
  hubspot::AccountRateLimiter limiter(io, clock, o.limits);
  hubspot::HubSpotClient client(http, tokens, limiter, metrics, o.client);
  std::optional<hubspot::ApiResult<std::vector<hubspot::PropertyDefinition>>> answer;
  std::exception_ptr failure;
  net::co_spawn(
      io, [&]() -> net::awaitable<void> { answer = co_await client.properties(portal, object_type); },
      [&](std::exception_ptr e) { failure = e; });
  io.run();  // returns when the call and everything it started are done
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  }
  if (!answer) return std::string("no answer from HubSpot");
  if (!*answer) return answer->error().describe();
  return std::move(**answer);
}

}  // namespace tandem::connector
