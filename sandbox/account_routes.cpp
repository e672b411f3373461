// The account the app is installed in: its details, and the app's uninstall (contract §2.4), after
// which every token of the portal stops working.

#include "sandbox/crm_routes.hpp"

namespace tandem::sandbox {

std::optional<http::Response> serve_account_details(SandboxRouter& /*s*/, ApiContext& c) {
  if (c.request.method != "GET") return std::nullopt;
  if (auto e = c.require_scope({"oauth"})) return e;
  const Portal& p = *c.portal;
  return json_response(200, json{{"portalId", p.config.id}, {"accountType", "STANDARD"}, {"timeZone", p.config.time_zone},
                                 {"companyCurrency", "USD"}, {"additionalCurrencies", json::array()}, {"utcOffset", "+00:00"},
                                 {"utcOffsetMilliseconds", 0}, {"uiDomain", "app.hubspot.com"}, {"dataHostingLocation", "na1"}});
}

std::optional<http::Response> serve_uninstall(SandboxRouter& s, ApiContext& c) {
  if (c.request.method != "DELETE") return std::nullopt;
  // The app uninstalls itself: no person started it.
  uninstall_app(s, c.portal->config.id, 0, c.now_ms);
  return http::Response{204, {}, {}};
}

}  // namespace tandem::sandbox
