#include "hubspot/token_source.hpp"

#include <boost/asio/awaitable.hpp>

namespace tandem::hubspot {

void StaticTokenSource::set(std::int64_t portal, Secret token) {
  std::lock_guard lock(mutex_);
  tokens_[portal] = std::move(token);
}

int StaticTokenSource::refreshes() const {
  std::lock_guard lock(mutex_);
  return refreshes_;
}

Awaitable<Result<Secret, TokenError>> StaticTokenSource::access_token(std::int64_t portal) {
  std::unique_lock lock(mutex_);
  auto it = tokens_.find(portal);
  if (it == tokens_.end())
    co_return Result<Secret, TokenError>(TokenError{TokenError::Kind::kUnknownAccount, "no token for account " + std::to_string(portal)});
  co_return Result<Secret, TokenError>(it->second);
}

Awaitable<Result<Secret, TokenError>> StaticTokenSource::refresh(std::int64_t portal, const Secret& rejected) {
  std::unique_lock lock(mutex_);
  auto it = tokens_.find(portal);
  if (it == tokens_.end())
    co_return Result<Secret, TokenError>(TokenError{TokenError::Kind::kUnknownAccount, "no token for account " + std::to_string(portal)});
  // Someone refreshed since `rejected` was handed out: share their result.
  if (!(it->second == rejected)) co_return Result<Secret, TokenError>(it->second);
  if (!refresher_)
    co_return Result<Secret, TokenError>(
        TokenError{TokenError::Kind::kNeedsReauthorisation, "the token of account " + std::to_string(portal) + " was rejected"});
  // The refresher runs under the lock: concurrent callers wait for it instead of refreshing twice.
  auto fresh = refresher_(portal);
  if (!fresh)
    co_return Result<Secret, TokenError>(
        TokenError{TokenError::Kind::kUnavailable, "refreshing the token of account " + std::to_string(portal) + " failed"});
  ++refreshes_;
  it->second = *fresh;
  co_return Result<Secret, TokenError>(*fresh);
}

}  // namespace tandem::hubspot
