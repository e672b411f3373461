#include "oauth/install_flow.hpp"

#include <map>
#include <optional>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "oauth/account_setup.hpp"

namespace tandem::oauth {

namespace net = boost::asio;

namespace {

constexpr const char* kCookie = "tandem_install";

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// A page for a person: a title, paragraphs (escaped here), no script, nothing from outside.
http::Response page(int status, const std::string& title, const std::vector<std::string>& paragraphs,
                    const std::string& link_href = {}, const std::string& link_text = {}) {
  std::string body = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
                     " · Tandem</title>\n<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;color:#222}"
                     "h1{font-size:1.4em}a{color:#0b63ce}</style></head>\n<body>\n<h1>" +
                     html_escape(title) + "</h1>\n";
  for (const auto& p : paragraphs) body += "<p>" + html_escape(p) + "</p>\n";
  if (!link_href.empty()) body += "<p><a href=\"" + html_escape(link_href) + "\">" + html_escape(link_text) + "</a></p>\n";
  body += "</body></html>\n";
  http::Response r = http::Response::text(status, std::move(body), "text/html; charset=utf-8");
  r.headers.set("Cache-Control", "no-store");
  r.headers.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  r.headers.set("X-Content-Type-Options", "nosniff");
  r.headers.set("Referrer-Policy", "no-referrer");
  return r;
}

std::string form_get(const std::vector<std::pair<std::string, std::string>>& form, std::string_view name) {
  for (const auto& [k, v] : form)
    if (k == name) return v;
  return {};
}

bool form_has(const std::vector<std::pair<std::string, std::string>>& form, std::string_view name) {
  for (const auto& kv : form)
    if (kv.first == name) return true;
  return false;
}

std::optional<std::string> cookie(const http::Request& request, std::string_view name) {
  for (const auto& h : request.headers.all()) {
    if (!http::iequals(h.name, "Cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      auto semi = rest.find(';');
      std::string_view part = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      auto eq = part.find('=');
      if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
    }
  }
  return std::nullopt;
}

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) out += (out.empty() ? "" : " ") + s;
  return out;
}

}  // namespace

struct InstallFlow::State : std::enable_shared_from_this<State> {
  struct Pending {
    std::string browser_hash;  // SHA-256 of the cookie's value
    std::int64_t expires_at;   // epoch ms
  };

  State(net::io_context& io, TokenEndpoint& endpoint, TokenStore& store, AccountTokenSource& tokens,
        hubspot::HubSpotClient& client, MetricsRegistry& metrics, const Clock& clock, InstallOptions options)
      : io(io), endpoint(endpoint), store(store), tokens(tokens), client(client), metrics(metrics), clock(clock),
        options(std::move(options)) {}
  ~State() { pool.join(); }

  net::io_context& io;
  TokenEndpoint& endpoint;
  TokenStore& store;
  AccountTokenSource& tokens;
  hubspot::HubSpotClient& client;
  MetricsRegistry& metrics;
  const Clock& clock;
  InstallOptions options;
  net::thread_pool pool{1};
  std::map<std::string, Pending> pending;  // state -> its browser (on io's thread)
  ConnectedListener listener;
  Logger log{"oauth"};

  std::int64_t now_ms() const { return to_epoch_ms(clock.now()); }
  bool secure() const { return options.redirect_uri.rfind("https://", 0) == 0; }

  template <class F>
  net::awaitable<std::invoke_result_t<F>> on_pool(F f) {
    using R = std::invoke_result_t<F>;
    co_return co_await net::co_spawn(
        pool, [f = std::move(f)]() -> net::awaitable<R> { co_return f(); }, net::use_awaitable);
  }

  void count(const char* outcome) {
    metrics.counter("tandem_oauth_installs_total", "Install callbacks by outcome", {{"outcome", outcome}}).inc();
  }

  http::Response start_again(int status, const std::string& title, std::vector<std::string> paragraphs) {
    return page(status, title, paragraphs, options.install_path, "Start the installation again");
  }

  void expire(std::int64_t now) {
    for (auto it = pending.begin(); it != pending.end();) it = it->second.expires_at <= now ? pending.erase(it) : std::next(it);
  }

  http::Response install(const http::Request& request) {
    if (request.method != "GET" && request.method != "HEAD") {
      http::Response r = http::Response::text(405, "Method Not Allowed\n");
      r.headers.set("Allow", "GET, HEAD");
      return r;
    }
    const std::int64_t now = now_ms();
    expire(now);
    if (pending.size() >= options.max_pending_states) {
      log.warn("too many installs in progress; refusing a new one", {{"pending", pending.size()}});
      http::Response r = page(503, "Too many installations in progress", {"Please try again in a few minutes."});
      r.headers.set("Retry-After", "60");
      return r;
    }
    std::string state = crypto::random_hex(32);
    std::string browser = crypto::random_hex(32);
    pending[state] = Pending{crypto::sha256(browser), now + options.state_ttl.count()};
    std::string location = options.authorize_url + "?client_id=" + http::form_encode(options.client_id) +
                           "&scope=" + http::form_encode(join_scopes(options.scopes));
    if (!options.optional_scopes.empty()) location += "&optional_scope=" + http::form_encode(join_scopes(options.optional_scopes));
    location += "&redirect_uri=" + http::form_encode(options.redirect_uri) + "&state=" + state;
    http::Response r = http::Response::text(302, "Redirecting to HubSpot to install Tandem\n");
    r.headers.set("Location", location);
    r.headers.set("Cache-Control", "no-store");
    // SameSite=Lax: sent on HubSpot's top-level redirect back (a GET), not on cross-site subrequests.
    std::string set = std::string(kCookie) + "=" + browser + "; Path=" + options.callback_path +
                      "; Max-Age=" + std::to_string(options.state_ttl.count() / 1000) + "; HttpOnly; SameSite=Lax";
    if (secure()) set += "; Secure";
    r.headers.set("Set-Cookie", set);
    metrics.counter("tandem_oauth_install_starts_total", "Installs started at the install URL").inc();
    return r;
  }

  // The state check; on success nullopt. The state is spent whatever the outcome.
  std::optional<http::Response> check_state(const http::Request& request, const std::string& state) {
    const std::int64_t now = now_ms();
    if (state.empty()) {
      count("bad_state");
      log.warn("install callback without a state", {{"remote", request.remote_address}});
      return start_again(400, "This link did not come from a Tandem installation",
                         {"The address HubSpot sent you back with has no state, so Tandem cannot tell which "
                          "installation it belongs to. Nothing was stored."});
    }
    auto it = pending.find(state);
    if (it == pending.end()) {
      count("bad_state");
      log.warn("install callback with an unknown, used or expired state", {{"remote", request.remote_address}});
      return start_again(400, "This installation link is not valid any more",
                         {"Each installation link works once, for " + std::to_string(options.state_ttl.count() / 60000) +
                              " minutes, in the browser that started it. This one was already used, has expired, "
                              "or did not come from Tandem. Nothing was stored."});
    }
    Pending p = it->second;
    pending.erase(it);
    if (p.expires_at <= now) {
      count("bad_state");
      log.warn("install callback after its state expired", {{"remote", request.remote_address}});
      return start_again(400, "This installation link has expired",
                         {"An installation must be finished within " + std::to_string(options.state_ttl.count() / 60000) +
                          " minutes of starting it. Nothing was stored."});
    }
    auto browser = cookie(request, kCookie);
    if (!browser || !constant_time_equals(crypto::sha256(*browser), p.browser_hash)) {
      count("bad_state");
      log.warn("install callback from a browser other than the one that started it", {{"remote", request.remote_address}});
      return start_again(400, "This installation was started in another browser",
                         {"For your account's safety, an installation must be finished in the browser that started it "
                          "(Tandem checks a cookie it set there). Nothing was stored."});
    }
    return std::nullopt;
  }

  net::awaitable<http::Response> callback(http::Request request) {
    if (request.method != "GET") {
      http::Response r = http::Response::text(405, "Method Not Allowed\n");
      r.headers.set("Allow", "GET");
      co_return r;
    }
    auto query = http::parse_form(request.query());
    if (!query) {
      count("bad_request");
      co_return start_again(400, "This link is malformed", {"The address HubSpot sent you back with cannot be read. Nothing was stored."});
    }
    if (auto refused = check_state(request, form_get(*query, "state"))) co_return *refused;
    if (form_has(*query, "error")) {
      std::string error = form_get(*query, "error");
      std::string description = form_get(*query, "error_description");
      log.warn("HubSpot sent the installing user back with an error", {{"error", error}, {"description", description}});
      if (error == "access_denied") {
        count("denied");
        co_return start_again(403, "Tandem was not installed",
                              {"The installation was cancelled in HubSpot, so Tandem has no access to the account. Nothing was stored.",
                               "To install it, start again and choose Connect app."});
      }
      count("hubspot_error");
      co_return start_again(400, "HubSpot did not authorise the installation",
                            {"HubSpot said: " + error + (description.empty() ? "" : " (" + description + ")") + ". Nothing was stored."});
    }
    std::string code = form_get(*query, "code");
    if (code.empty()) {
      count("bad_request");
      co_return start_again(400, "HubSpot sent no authorization code", {"Nothing was stored."});
    }
    GrantResult grant = co_await endpoint.exchange_code(std::move(code));
    if (!grant) {
      const GrantError& e = grant.error();
      log.warn("exchanging the authorization code failed", {{"error", e.message}});
      switch (e.kind) {
        case GrantError::Kind::kRefused:
          count("code_refused");
          co_return start_again(400, "HubSpot refused the authorization code",
                                {"Codes are single-use and short-lived: this one was already used, has expired, or was issued "
                                 "for another redirect URL. Nothing was stored."});
        case GrantError::Kind::kClient:
          count("client_refused");
          co_return page(502, "Tandem's app credentials were refused",
                         {"HubSpot did not accept Tandem's client id or secret. An administrator of this Tandem deployment "
                          "must check hubspot.client_id and hubspot.client_secret. Nothing was stored."});
        case GrantError::Kind::kUnavailable:
          count("exchange_failed");
          co_return start_again(502, "HubSpot could not be reached",
                                {"HubSpot's token service did not answer as expected, so the installation could not be finished. "
                                 "Nothing was stored. Please try again in a minute."});
      }
    }
    const std::int64_t now = now_ms();
    Tokens fresh{grant->access_token, grant->refresh_token, now + grant->expires_in_s * 1000};
    std::int64_t portal = grant->hub_id;
    // The account's details: its time zone (and its id when the token answer had none).
    std::optional<hubspot::AccountDetails> details;
    if (portal != 0) {
      tokens.installed(portal, fresh);
      auto d = co_await client.account_details(portal);
      if (d) details = *d;
      else log.warn("reading the account's details failed; its time zone stays unknown", {{"portal", portal}, {"error", d.error().describe()}});
    }
    if (portal == 0) {
      count("exchange_failed");
      log.warn("the token answer did not say which account was installed");
      co_return start_again(502, "HubSpot did not say which account was installed", {"Nothing was stored. Please try again."});
    }
    Account account;
    account.portal_id = portal;
    account.status = AccountStatus::kConnected;
    account.scopes = grant->scopes;
    account.installed_by_user = grant->user_id;
    account.installed_at = now;
    account.updated_at = now;
    account.access_expires_at = fresh.expires_at;
    if (details) account.time_zone = details->time_zone;
    // The account's own domain (acme.com), to tell accounts apart in `tandem accounts`; the
    // details' uiDomain is HubSpot's (app.hubspot.com).
    auto info = co_await endpoint.introspect(fresh.access_token);
    if (info) account.hub_domain = info->hub_domain;
    auto saved = co_await on_pool([&] { return store.save_install(account, fresh); });
    if (!saved) {
      count("storage_failed");
      tokens.invalidate(portal);
      log.error("storing the new account's tokens failed", {{"portal", portal}, {"error", saved.error().message}});
      co_return start_again(500, "Tandem could not store the connection",
                            {"The account was authorised, but Tandem could not save its tokens, so it is not connected. "
                             "Please try again; if it happens again, an administrator should look at Tandem's log."});
    }
    tokens.installed(portal, fresh);
    PropertySetup setup = co_await create_tandem_properties(client, portal, options.properties);
    auto recorded = co_await on_pool([&] { return store.set_properties(portal, setup.ok, setup.error, now); });
    if (!recorded) log.warn("recording the property setup failed", {{"portal", portal}, {"error", recorded.error().message}});
    if (!setup.ok) log.warn("creating Tandem's properties failed", {{"portal", portal}, {"error", setup.error}});
    count("connected");
    log.info("account connected", {{"portal", portal}, {"time_zone", account.time_zone}, {"scopes", join_scopes(account.scopes)},
                                   {"properties_created", setup.created}, {"properties_existing", setup.existed}});
    if (listener) listener(portal);
    std::string who = "HubSpot account " + std::to_string(portal) + (account.hub_domain.empty() ? "" : " (" + account.hub_domain + ")");
    std::vector<std::string> text = {
        who + " is connected to Tandem.",
        "What happens next: Tandem now receives this account's contact changes, applies the shared lead rules to "
        "them, and writes lifecycle stages and follow-up tasks back to HubSpot, where sales reps and managers see them.",
    };
    if (setup.ok) {
      text.push_back("Tandem's contact properties (hand-off time, return reason, times returned, cool-off end, rules version and "
                     "the scores) are in the property group \"Tandem\", for HubSpot's lists, reports and workflows.");
    } else {
      text.push_back("Tandem could not create its contact properties: " + setup.error +
                     ". Writes to them will fail until this is fixed; Tandem tries again at its next start.");
    }
    text.push_back("Time zone used for business hours and due dates: " +
                   (account.time_zone.empty() ? std::string("unknown (the rules' own setting applies)") : account.time_zone) + ".");
    co_return page(200, "Tandem is installed", text);
  }
};

InstallFlow::InstallFlow(net::io_context& io, TokenEndpoint& endpoint, TokenStore& store, AccountTokenSource& tokens,
                         hubspot::HubSpotClient& client, MetricsRegistry& metrics, const Clock& clock, InstallOptions options)
    : state_(std::make_shared<State>(io, endpoint, store, tokens, client, metrics, clock, std::move(options))) {}

InstallFlow::~InstallFlow() = default;

http::Handler InstallFlow::install_handler() {
  return [s = state_](http::Request request, http::Responder respond) { respond(s->install(request)); };
}

http::Handler InstallFlow::callback_handler() {
  return [s = state_](http::Request request, http::Responder respond) {
    auto shared = std::make_shared<http::Responder>(std::move(respond));
    net::co_spawn(s->io, s->callback(std::move(request)), [s, shared](std::exception_ptr e, http::Response response) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          s->log.error("install callback failed", {{"error", ex.what()}});
        }
        (*shared)(page(500, "Something went wrong", {"Tandem could not finish the installation. Nothing was stored."}));
        return;
      }
      (*shared)(std::move(response));
    });
  };
}

void InstallFlow::on_connected(ConnectedListener listener) { state_->listener = std::move(listener); }

const InstallOptions& InstallFlow::options() const { return state_->options; }

}  // namespace tandem::oauth
