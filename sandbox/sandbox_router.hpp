#pragma once
// Private to the sandbox: the router behind SandboxServer. It takes every request, applies the
// injected faults, authenticates, rate-limits, dispatches to the route files (oauth_routes.cpp,
// crm_routes.cpp and the resource files it names, search.cpp, inspect_routes.cpp), records the
// request and hands change events to the webhook dispatcher. It holds the state the routes share.

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "common/http_server.hpp"
#include "common/log.hpp"
#include "sandbox/app_journal.hpp"
#include "sandbox/crm_state.hpp"
#include "sandbox/faults.hpp"
#include "sandbox/oauth_grants.hpp"
#include "sandbox/rate_limiter.hpp"
#include "sandbox/sandbox_server.hpp"
#include "sandbox/webhook_dispatcher.hpp"
#include "sandbox/wire.hpp"

namespace tandem::sandbox {

struct SandboxRouter;

// One authenticated HubSpot API call.
struct ApiContext {
  const http::Request& request;
  std::vector<std::string> segments;
  Query query;
  Portal* portal = nullptr;
  const AccessToken* token = nullptr;
  std::vector<ChangeEvent>& events;
  std::int64_t now_ms = 0;
  WriteSource source;

  // 403 MISSING_SCOPES unless the token holds one of `scopes`.
  [[nodiscard]] std::optional<http::Response> require_scope(std::initializer_list<std::string_view> scopes) const;
};

// HubSpot's 403 MISSING_SCOPES naming `scopes` (one of them is required).
http::Response missing_scopes_response(std::initializer_list<std::string_view> scopes);

// nlohmann parse with HubSpot's 400 body on failure.
std::variant<json, http::Response> parse_json_body(const http::Request& request);

// Route entry points; each returns nullopt when the path is not theirs. Called with the
// server mutex held.
std::optional<http::Response> handle_oauth(SandboxRouter& s, const http::Request& request, const std::vector<std::string>& seg,
                                           std::int64_t now_ms);
std::optional<http::Response> handle_crm(SandboxRouter& s, ApiContext& ctx);
std::optional<http::Response> handle_inspect(SandboxRouter& s, const http::Request& request, const std::vector<std::string>& seg,
                                             std::vector<ChangeEvent>& events);
http::Response search_objects(SandboxRouter& s, ApiContext& ctx, ObjectType type);
// The Webhooks Journal (journal_routes.cpp): /webhooks-journal/... with a client-credentials
// token, and the entries' pre-signed file URLs (/_sandbox/journal-files/KEY, no Authorization).
std::optional<http::Response> handle_journal(SandboxRouter& s, const http::Request& request, const std::vector<std::string>& seg,
                                             std::int64_t now_ms);
std::optional<http::Response> serve_journal_file(SandboxRouter& s, const http::Request& request,
                                                 const std::vector<std::string>& seg, std::int64_t now_ms);
// A client-credentials grant for the app (the token endpoint's answer), or nullopt with `error`
// set to the OAuth error body when a scope is not a journal scope.
std::optional<json> issue_app_token(SandboxRouter& s, const std::vector<std::string>& scopes, std::int64_t now_ms, json& error);
// An app lifecycle event in the journal, when the app subscribed to its type; user_id 0 when no
// person started it (the app uninstalling itself).
void record_app_lifecycle(SandboxRouter& s, std::int64_t portal_id, bool uninstall, std::int64_t user_id, std::int64_t now_ms);
// The app is uninstalled from the account: its tokens stop working and the journal says so.
void uninstall_app(SandboxRouter& s, std::int64_t portal_id, std::int64_t user_id, std::int64_t now_ms);
// True for POST .../search routes, which have their own rate limit and no rate-limit headers.
bool is_search_route(const http::Request& request, const std::vector<std::string>& seg);

struct SandboxRouter : std::enable_shared_from_this<SandboxRouter> {
  SandboxRouter(boost::asio::io_context& io, SandboxOptions options);

  boost::asio::io_context& io;
  SandboxOptions options;
  const Clock& clock;
  std::mutex mutex;  // guards everything below except `webhooks` (which locks itself)
  CrmState crm;
  OAuthGrants grants;
  AppJournal journal;
  RateLimiter limiter;
  FaultInjector faults;
  std::unique_ptr<WebhookDispatcher> webhooks;
  std::deque<json> request_log;
  std::uint64_t next_request_seq = 1;
  std::unique_ptr<http::HttpServer> server;
  Logger log{"sandbox"};
  bool stopped = false;

  [[nodiscard]] std::int64_t now_ms() const { return to_epoch_ms(clock.now()); }
  void handle(http::Request request, http::Responder responder);
  http::Response api(const http::Request& request, const std::vector<std::string>& seg, std::vector<ChangeEvent>& events);
  void record(const http::Request& request, int status, std::int64_t started_ms, const std::string& fault);
  std::optional<std::string> save_state_locked();
  [[nodiscard]] json startup_info() const;
};

}  // namespace tandem::sandbox
