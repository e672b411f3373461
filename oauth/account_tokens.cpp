#include "oauth/account_tokens.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"

namespace tandem::oauth {

namespace net = boost::asio;
using hubspot::TokenError;
using TokenResult = Result<Secret, TokenError>;

namespace {

TokenResult token_error(TokenError::Kind kind, std::string message) { return TokenResult(TokenError{kind, std::move(message)}); }

}  // namespace

struct AccountTokenSource::State : std::enable_shared_from_this<State> {
  // One refresh (or first load) of one account in progress; callers that arrive meanwhile wait on
  // `done`, which is cancelled when `result` is set.
  struct Flight {
    explicit Flight(net::io_context& io) : done(io) { done.expires_at(net::steady_timer::time_point::max()); }
    net::steady_timer done;
    std::optional<TokenResult> result;
  };
  struct Entry {
    bool loaded = false;
    std::optional<Tokens> tokens;
    bool needs_reauthorisation = false;
    std::string reason;
    std::shared_ptr<Flight> flight;
    std::int64_t retry_not_before = 0;  // epoch ms
    int failures = 0;
    std::uint64_t generation = 0;  // bumped by installed() and invalidate(): a flight's result for an older one is stale
  };

  State(net::io_context& io, TokenStore& store, TokenEndpoint& endpoint, MetricsRegistry& metrics, const Clock& clock,
        AccountTokensOptions options)
      : io(io), store(store), endpoint(endpoint), metrics(metrics), clock(clock), options(options), rng(std::random_device{}()) {}
  ~State() { pool.join(); }

  net::io_context& io;
  TokenStore& store;
  TokenEndpoint& endpoint;
  MetricsRegistry& metrics;
  const Clock& clock;
  AccountTokensOptions options;
  net::thread_pool pool{1};
  std::map<std::int64_t, Entry> entries;  // on io's thread only; references stay valid
  std::atomic<std::uint64_t> refreshes{0};
  StatusListener listener;
  std::mt19937_64 rng;
  Logger log{"oauth"};

  std::int64_t now_ms() const { return to_epoch_ms(clock.now()); }

  template <class F>
  net::awaitable<std::invoke_result_t<F>> on_pool(F f) {
    using R = std::invoke_result_t<F>;
    co_return co_await net::co_spawn(
        pool, [f = std::move(f)]() -> net::awaitable<R> { co_return f(); }, net::use_awaitable);
  }

  bool fresh(const Entry& e, std::int64_t now) const {
    return e.loaded && e.tokens && !e.needs_reauthorisation && now < e.tokens->expires_at - options.refresh_before.count();
  }

  void count(std::int64_t portal, const char* outcome) {
    metrics
        .counter("tandem_oauth_refreshes_total", "Access token refreshes by outcome (ok, unavailable, refused, client)",
                 {{"portal", std::to_string(portal)}, {"outcome", outcome}})
        .inc();
  }

  net::awaitable<TokenResult> shared(std::int64_t portal, bool force, Secret rejected) {
    Entry& e = entries[portal];
    if (auto f = e.flight) {
      while (!f->result) co_await f->done.async_wait(net::as_tuple(net::use_awaitable));
      co_return *f->result;
    }
    auto f = std::make_shared<Flight>(io);
    e.flight = f;
    TokenResult r = co_await fly(portal, force, rejected);
    f->result = r;
    if (entries[portal].flight == f) entries[portal].flight.reset();
    f->done.cancel();
    co_return r;
  }

  // Loads the account when needed, then refreshes when due (or when `rejected` is the current token).
  net::awaitable<TokenResult> fly(std::int64_t portal, bool force, const Secret& rejected) {
    Entry& e = entries[portal];
    const std::string who = "account " + std::to_string(portal);
    if (!e.loaded) {
      const std::uint64_t generation = e.generation;
      auto loaded = co_await on_pool([&] {
        return std::make_pair(store.account(portal), store.tokens(portal));
      });
      if (e.generation == generation && !e.loaded) {
        if (!loaded.first || !loaded.second) {
          TokenStoreError error = !loaded.second ? loaded.second.error() : loaded.first.error();
          log.error("cannot read the account's tokens", {{"portal", portal}, {"error", error.message}});
          co_return token_error(TokenError::Kind::kUnavailable, "cannot read the tokens of " + who + ": " + error.message);
        }
        e.loaded = true;
        e.tokens = *loaded.second;
        const auto& account = *loaded.first;
        e.needs_reauthorisation = account && account->status == AccountStatus::kNeedsReauthorisation;
        e.reason = account ? account->status_reason : std::string();
      }
    }
    if (!e.tokens) co_return token_error(TokenError::Kind::kUnknownAccount, who + " is not connected: install Tandem in it");
    if (e.needs_reauthorisation)
      co_return token_error(TokenError::Kind::kNeedsReauthorisation,
                            who + " needs re-authorisation (" + e.reason + "): an admin installs Tandem again");
    const std::int64_t now = now_ms();
    const bool rejected_current = force && e.tokens->access_token == rejected;
    if (now < e.tokens->expires_at - options.refresh_before.count() && !rejected_current) co_return e.tokens->access_token;
    if (now < e.retry_not_before) {
      if (now < e.tokens->expires_at && !rejected_current) co_return e.tokens->access_token;
      co_return token_error(TokenError::Kind::kUnavailable,
                            "refreshing the token of " + who + " failed; the next attempt is in " +
                                std::to_string((e.retry_not_before - now + 999) / 1000) + " s");
    }
    ++refreshes;
    const std::uint64_t generation = e.generation;
    GrantResult grant = co_await endpoint.refresh(e.tokens->refresh_token);
    if (e.generation != generation) {
      // Installed again or invalidated while the refresh ran: what it returned is not for the
      // tokens in use now.
      if (e.loaded && e.tokens && !e.needs_reauthorisation) co_return e.tokens->access_token;
      co_return token_error(TokenError::Kind::kUnavailable, "the tokens of " + who + " changed during a refresh; try again");
    }
    if (grant) {
      // From the time the request was sent: the token may have been issued a moment before the
      // answer arrived, never after.
      Tokens tokens{grant->access_token, grant->refresh_token, now + grant->expires_in_s * 1000};
      e.tokens = tokens;
      e.failures = 0;
      e.retry_not_before = 0;
      count(portal, "ok");
      auto saved = co_await on_pool([&] { return store.save_refresh(portal, tokens, now); });
      if (!saved) {
        // Kept in memory: the account keeps working. HubSpot may rotate refresh tokens, so until a
        // later refresh is saved a restart may find the old one refused.
        log.error("storing refreshed tokens failed", {{"portal", portal}, {"error", saved.error().message}});
      } else if (!*saved && e.generation == generation) {
        e.tokens.reset();
        co_return token_error(TokenError::Kind::kUnknownAccount, who + " was disconnected");
      }
      co_return tokens.access_token;
    }
    const GrantError& error = grant.error();
    switch (error.kind) {
      case GrantError::Kind::kRefused: {
        count(portal, "refused");
        e.needs_reauthorisation = true;
        e.reason = "HubSpot refused the refresh token (" + (error.code.empty() ? std::to_string(error.status) : error.code) + ")";
        log.warn("HubSpot refused the refresh token: the account needs re-authorisation; its writes pause",
                 {{"portal", portal}, {"error", error.message}});
        auto reason = e.reason;
        auto marked = co_await on_pool([&] { return store.mark_needs_reauthorisation(portal, reason, now); });
        if (!marked) log.error("recording needs re-authorisation failed", {{"portal", portal}, {"error", marked.error().message}});
        if (listener) listener(portal, AccountStatus::kNeedsReauthorisation);
        co_return token_error(TokenError::Kind::kNeedsReauthorisation, who + " needs re-authorisation: " + error.message);
      }
      case GrantError::Kind::kClient:
        count(portal, "client");
        log.error("HubSpot refused Tandem's client id or secret (hubspot.client_id, hubspot.client_secret)",
                  {{"portal", portal}, {"error", error.message}});
        break;
      case GrantError::Kind::kUnavailable:
        count(portal, "unavailable");
        log.warn("refreshing the access token failed; retrying later", {{"portal", portal}, {"error", error.message}});
        break;
    }
    ++e.failures;
    const auto base = options.retry_base.count();
    std::int64_t delay = std::min<std::int64_t>(options.retry_cap.count(), base << std::min(e.failures - 1, 20));
    delay = std::uniform_int_distribution<std::int64_t>(delay / 2, delay)(rng);
    e.retry_not_before = now + delay;
    if (now < e.tokens->expires_at && !rejected_current) co_return e.tokens->access_token;
    co_return token_error(TokenError::Kind::kUnavailable, error.message);
  }
};

AccountTokenSource::AccountTokenSource(net::io_context& io, TokenStore& store, TokenEndpoint& endpoint,
                                       MetricsRegistry& metrics, const Clock& clock, AccountTokensOptions options)
    : state_(std::make_shared<State>(io, store, endpoint, metrics, clock, options)) {}

AccountTokenSource::~AccountTokenSource() = default;

hubspot::Awaitable<TokenResult> AccountTokenSource::access_token(std::int64_t portal) {
  auto s = state_;
  if (auto it = s->entries.find(portal); it != s->entries.end() && s->fresh(it->second, s->now_ms()))
    co_return it->second.tokens->access_token;
  co_return co_await s->shared(portal, false, Secret());
}

hubspot::Awaitable<TokenResult> AccountTokenSource::refresh(std::int64_t portal, const Secret& rejected) {
  auto s = state_;
  co_return co_await s->shared(portal, true, rejected);
}

void AccountTokenSource::installed(std::int64_t portal, Tokens tokens) {
  auto& e = state_->entries[portal];
  e.loaded = true;
  e.tokens = std::move(tokens);
  e.needs_reauthorisation = false;
  e.reason.clear();
  e.failures = 0;
  e.retry_not_before = 0;
  ++e.generation;
}

void AccountTokenSource::invalidate(std::int64_t portal) {
  net::post(state_->io, [s = state_, portal] {
    auto& e = s->entries[portal];
    e.loaded = false;
    e.tokens.reset();
    e.needs_reauthorisation = false;
    ++e.generation;
  });
}

void AccountTokenSource::on_status_change(StatusListener listener) { state_->listener = std::move(listener); }

std::uint64_t AccountTokenSource::refreshes() const { return state_->refreshes.load(); }

}  // namespace tandem::oauth
