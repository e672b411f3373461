#include "oauth/token_store.hpp"

namespace tandem::oauth {

std::string_view to_string(AccountStatus status) {
  switch (status) {
    case AccountStatus::kConnected: return "connected";
    case AccountStatus::kNeedsReauthorisation: return "needs_reauthorisation";
    case AccountStatus::kDisconnected: return "disconnected";
  }
  return "connected";
}

std::optional<AccountStatus> parse_account_status(std::string_view text) {
  for (auto s : {AccountStatus::kConnected, AccountStatus::kNeedsReauthorisation, AccountStatus::kDisconnected})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

}  // namespace tandem::oauth
