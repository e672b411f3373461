#include "oauth/config.hpp"

namespace tandem::oauth {

namespace {

void check_path(config::ConfigSection& s, const std::string& key, const std::string& value) {
  if (value.empty() || value.front() != '/' || value.find_first_of("?# ") != std::string::npos)
    s.error(key, "expected a path such as /oauth/callback");
}

}  // namespace

OAuthConfig read_oauth_config(config::ConfigSection s, bool require_key) {
  OAuthConfig c;
  c.token_key = s.secret("token_key", require_key);
  auto previous = s.section("previous_token_keys");
  for (const auto& name : previous.keys())
    if (auto key = previous.secret(name, true)) c.previous_token_keys.push_back(std::move(*key));
  previous.finish();
  c.install_path = s.string("install_path", c.install_path);
  check_path(s, "install_path", c.install_path);
  c.callback_path = s.string("callback_path", c.callback_path);
  check_path(s, "callback_path", c.callback_path);
  if (c.install_path == c.callback_path) s.error("callback_path", "must differ from install_path");
  c.token_path = s.string("token_path", c.token_path);
  check_path(s, "token_path", c.token_path);
  c.state_ttl = s.duration("state_ttl", c.state_ttl);
  if (c.state_ttl < std::chrono::seconds(30) || c.state_ttl > std::chrono::hours(1))
    s.error("state_ttl", "must be between 30s and 1h");
  c.refresh_before = s.duration("refresh_before", c.refresh_before);
  if (c.refresh_before > std::chrono::minutes(25)) s.error("refresh_before", "must be at most 25m (access tokens live 30m)");
  c.retry_base = s.duration("retry_base", c.retry_base);
  c.retry_cap = s.duration("retry_cap", c.retry_cap);
  if (c.retry_cap < c.retry_base) s.error("retry_cap", "must be at least retry_base");
  c.disconnected_retention = s.duration("disconnected_retention", c.disconnected_retention);
  c.uninstall_notices = s.boolean("uninstall_notices", c.uninstall_notices);
  c.uninstall_poll_interval = s.duration("uninstall_poll_interval", c.uninstall_poll_interval);
  // The journal keeps 3 days: a slower poll could miss an uninstall.
  if (c.uninstall_poll_interval < std::chrono::seconds(1) || c.uninstall_poll_interval > std::chrono::hours(24))
    s.error("uninstall_poll_interval", "must be between 1s and 24h (HubSpot's journal keeps 3 days)");
  s.finish();
  return c;
}

}  // namespace tandem::oauth
