#pragma once
// The HubSpot client's token source over the token store: each account's access token, refreshed
// before it expires (oauth.refresh_before ahead of expires_in; HubSpot says a 401 is not a
// reliable signal, contract §2.2), one refresh at a time per account — callers who want a token
// while it runs wait for it and share its result — with exponential backoff after a failed one.
//
// A refresh token HubSpot refuses (revoked, the app uninstalled) marks the account "needs
// re-authorisation" in the store: callers get kNeedsReauthorisation (the outbox writer pauses the
// account and keeps its items) until a new install replaces the tokens (installed()).
//
// Threads: every call runs on `io` (the HTTP client's io_context), and the per-account state
// lives there without locks; store calls (SQLite, blocking) run on a thread of the source's own.
// invalidate() may be called from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "hubspot/token_source.hpp"
#include "oauth/token_endpoint.hpp"
#include "oauth/token_store.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::oauth {

struct AccountTokensOptions {
  std::chrono::milliseconds refresh_before{std::chrono::minutes(5)};
  std::chrono::milliseconds retry_base{std::chrono::seconds(1)};
  std::chrono::milliseconds retry_cap{std::chrono::minutes(5)};
};

class AccountTokenSource final : public hubspot::TokenSource {
 public:
  // Called on io's thread when an account turns to needs re-authorisation (the write path pauses it).
  using StatusListener = std::function<void(std::int64_t portal, AccountStatus status)>;

  // Everything given must outlive the source.
  AccountTokenSource(boost::asio::io_context& io, TokenStore& store, TokenEndpoint& endpoint, MetricsRegistry& metrics,
                     const Clock& clock, AccountTokensOptions options = {});
  ~AccountTokenSource() override;
  AccountTokenSource(const AccountTokenSource&) = delete;
  AccountTokenSource& operator=(const AccountTokenSource&) = delete;

  hubspot::Awaitable<Result<Secret, hubspot::TokenError>> access_token(std::int64_t portal) override;
  hubspot::Awaitable<Result<Secret, hubspot::TokenError>> refresh(std::int64_t portal, const Secret& rejected) override;

  // A new install's tokens (already stored or about to be): used from now on, any refresh state
  // and needs re-authorisation cleared. On io's thread.
  void installed(std::int64_t portal, Tokens tokens);
  // Forget what is cached for `portal` (disconnected, or changed by another process): the next
  // call reads the store again. Thread-safe.
  void invalidate(std::int64_t portal);
  void on_status_change(StatusListener listener);

  // Refreshes attempted so far (every outcome), for tests.
  [[nodiscard]] std::uint64_t refreshes() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace tandem::oauth
