#pragma once
// Where the client gets an account's access token. The install issue implements it over the
// encrypted token store (refresh before expiry, one refresh at a time per account);
// StaticTokenSource serves tests and the sandbox demo.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>

#include "common/result.hpp"
#include "common/secret.hpp"
#include "hubspot/awaitable.hpp"

namespace tandem::hubspot {

struct TokenError {
  enum class Kind {
    kUnavailable,            // try again later (the token endpoint failed, a refresh is backing off)
    kNeedsReauthorisation,   // the refresh token was revoked or is invalid: pause the account
    kUnknownAccount,         // no tokens for this account
  };
  Kind kind = Kind::kUnavailable;
  std::string message;  // never contains a token
  friend std::ostream& operator<<(std::ostream& os, const TokenError& e) { return os << e.message; }
};

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // A token believed valid now. Called before every request; must be cheap when nothing is due.
  // Runs on the client's io_context.
  virtual Awaitable<Result<Secret, TokenError>> access_token(std::int64_t portal) = 0;
  // HubSpot answered 401 to `rejected`: a token other than `rejected` (refreshing if nobody has
  // since), or an error. Concurrent callers with the same rejected token share one refresh.
  virtual Awaitable<Result<Secret, TokenError>> refresh(std::int64_t portal, const Secret& rejected) = 0;
};

// Fixed tokens per account. refresh() calls `refresher` (when set) to obtain a new token, once per
// rejected token; without one it fails with kNeedsReauthorisation. Thread-safe.
class StaticTokenSource final : public TokenSource {
 public:
  using Refresher = std::function<std::optional<Secret>(std::int64_t portal)>;
  explicit StaticTokenSource(Refresher refresher = {}) : refresher_(std::move(refresher)) {}
  void set(std::int64_t portal, Secret token);
  Awaitable<Result<Secret, TokenError>> access_token(std::int64_t portal) override;
  Awaitable<Result<Secret, TokenError>> refresh(std::int64_t portal, const Secret& rejected) override;
  [[nodiscard]] int refreshes() const;

 private:
  Refresher refresher_;
  mutable std::mutex mutex_;
  std::map<std::int64_t, Secret> tokens_;
  int refreshes_ = 0;
};

}  // namespace tandem::hubspot
