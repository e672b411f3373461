#pragma once
// Private to the CRM route files. crm_routes.cpp matches a path to its resource and hands it to
// the entry point of that resource's file, declared here; each returns nullopt when the method or
// the rest of the path is not theirs. Called with the router's mutex held. Below them, what more
// than one resource file uses: scopes, id parsing, the request body, error and batch envelopes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sandbox/sandbox_router.hpp"

namespace tandem::sandbox {

// --- entry points, one file each

// crm_object_routes.cpp: /crm/v3/objects/{type}/... and /crm/objects/2026-03/{type}/...: list,
// get, create, update, archive; search, batch/{op} and {id}/associations/... are passed on.
// `rest` is the path after {type}.
std::optional<http::Response> serve_objects(SandboxRouter& s, ApiContext& c, ObjectType t,
                                            const std::vector<std::string>& rest);
// crm_batch_routes.cpp: .../{type}/batch/{read,create,update,upsert,archive}.
std::optional<http::Response> serve_object_batch(SandboxRouter& s, ApiContext& c, ObjectType t, const std::string& op);
// association_routes.cpp: one record's associations in the v3, v4 and 2026-03 forms, with
// rest = {id, "associations", toType, ...}.
std::optional<http::Response> serve_record_associations(SandboxRouter& s, ApiContext& c, ObjectType t,
                                                        const std::vector<std::string>& rest);
// association_routes.cpp: /crm/v4/associations/{from}/{to}/batch/{op} and the 2026-03 twin, with
// rest = the path after "batch".
std::optional<http::Response> serve_association_batch(SandboxRouter& s, ApiContext& c, ObjectType from, ObjectType to,
                                                      const std::vector<std::string>& rest);
// owner_routes.cpp: /crm/v3/owners[/{id}] and /crm/owners/2026-03[/{id}].
std::optional<http::Response> serve_owners(SandboxRouter& s, ApiContext& c);
// property_routes.cpp: /crm/v3/properties/{type}[/{name}] and /crm/properties/2026-03/{type}[/{name}].
std::optional<http::Response> serve_properties(SandboxRouter& s, ApiContext& c);
// team_routes.cpp: GET /settings/v3/users/teams.
std::optional<http::Response> serve_teams(SandboxRouter& s, ApiContext& c);
// account_routes.cpp: GET /account-info/{v3,2026-03}/details.
std::optional<http::Response> serve_account_details(SandboxRouter& s, ApiContext& c);
// account_routes.cpp: DELETE /appinstalls/{v3,2026-03}/external-install.
std::optional<http::Response> serve_uninstall(SandboxRouter& s, ApiContext& c);

// --- shared by the resource files (crm_routes.cpp)

// The contacts scopes; HubSpot's tasks, calls, emails, meetings and notes APIs take them too.
inline constexpr std::string_view kContactsRead = "crm.objects.contacts.read";
inline constexpr std::string_view kContactsWrite = "crm.objects.contacts.write";
inline constexpr std::string_view kDealsRead = "crm.objects.deals.read";
inline constexpr std::string_view kDealsWrite = "crm.objects.deals.write";

// The emails API also lists sales-email-read with the contacts scope on every operation
// (spec PublicApiSpecs/CRM/Emails/Rollouts/424/2026-03/emails.json); the sandbox requires both.
inline constexpr std::string_view kSalesEmailRead = "sales-email-read";
// 403 MISSING_SCOPES unless the token may read (or write) records of type `t`.
std::optional<http::Response> require_object_scope(const ApiContext& c, ObjectType t, bool write);

// A whole decimal number, nothing else.
std::optional<std::int64_t> to_int(std::string_view s);
// A record id sent as a JSON number or string.
std::optional<std::int64_t> json_id(const json& j);

http::Response not_found(std::string_view id);
http::Response from_error(const ApiError& e);

// "contact_to_task", the label HubSpot gives a HUBSPOT_DEFINED association.
std::string association_label(ObjectType from, ObjectType to);
// Parses "associations": [{"to":{"id":..},"types":[{"associationCategory":..,"associationTypeId":..}]}].
std::variant<std::vector<AssociationInput>, http::Response> parse_associations(const json& body, ObjectType from);

// {"status":"COMPLETE","results":...,"startedAt","completedAt"}.
json batch_envelope(std::int64_t now_ms, json results);
// `ok_status` with the batch envelope, or 207 with numErrors and errors when there are any.
http::Response multi_status(std::int64_t now_ms, json results, json errors, int ok_status);

// What every CRM route class works on: the router, the authenticated call and its portal.
class CrmCall {
 public:
  CrmCall(SandboxRouter& s, ApiContext& c) : s_(s), c_(c), p_(*c.portal) {}

 protected:
  // Parses the request body into `out`; HubSpot's 400 unless it is a JSON object.
  std::optional<http::Response> body_or_error(json& out);

  SandboxRouter& s_;
  ApiContext& c_;
  Portal& p_;
};

}  // namespace tandem::sandbox
