// Owners (contract §6): list with archived/email filters and paging, get by owner id or user id.

#include <string>
#include <vector>

#include "sandbox/crm_routes.hpp"

namespace tandem::sandbox {

namespace {

class OwnerRoutes : public CrmCall {
 public:
  using CrmCall::CrmCall;

  std::optional<http::Response> route() {
    const auto& seg = c_.segments;
    if (c_.request.method != "GET") return std::nullopt;
    if (auto e = c_.require_scope({"crm.objects.owners.read", "automation"})) return e;
    return seg.size() == 3 ? owners_list() : owner_get(seg[3]);
  }

 private:
  json owner_json(const OwnerConfig& o) const {
    json teams = json::array();
    for (std::size_t i = 0; i < o.team_ids.size(); ++i) {
      std::string name;
      for (const auto& t : p_.teams)
        if (t.id == o.team_ids[i]) name = t.name;
      teams.push_back({{"id", o.team_ids[i]}, {"name", name}, {"primary", i == 0}});
    }
    json j = {{"id", o.id},
              {"email", o.email},
              {"type", o.type},
              {"firstName", o.first_name},
              {"lastName", o.last_name},
              {"userId", o.archived ? json(nullptr) : json(o.user_id)},
              {"userIdIncludingInactive", o.user_id},
              {"createdAt", "2024-01-15T09:00:00.000Z"},
              {"updatedAt", "2024-01-15T09:00:00.000Z"},
              {"archived", o.archived}};
    if (!teams.empty()) j["teams"] = teams;
    return j;
  }

  http::Response owners_list() {
    bool archived = c_.query.get("archived").value_or("false") == "true";
    auto email = c_.query.get("email");
    auto limit = to_int(c_.query.get("limit").value_or("100"));
    if (!limit || *limit < 1 || *limit > 500) return error_response(400, "VALIDATION_ERROR", "limit must be between 1 and 500");
    std::int64_t after = 0;
    if (auto a = c_.query.get("after")) {
      auto v = to_int(*a);
      if (!v || *v < 0) return error_response(400, "VALIDATION_ERROR", "invalid after");
      after = *v;
    }
    std::vector<const OwnerConfig*> matching;
    for (const auto& o : p_.owners) {
      if (o.archived != archived) continue;
      if (email && to_lower(*email) != to_lower(o.email)) continue;
      matching.push_back(&o);
    }
    json results = json::array();
    for (std::int64_t i = after; i < static_cast<std::int64_t>(matching.size()) && i < after + *limit; ++i)
      results.push_back(owner_json(*matching[static_cast<std::size_t>(i)]));
    json body = {{"results", results}};
    if (after + *limit < static_cast<std::int64_t>(matching.size())) {
      std::string next = std::to_string(after + *limit);
      body["paging"] = {{"next", {{"after", next}, {"link", "?after=" + next}}}};
    }
    return json_response(200, body);
  }

  http::Response owner_get(const std::string& id) {
    bool archived = c_.query.get("archived").value_or("false") == "true";
    std::string id_property = c_.query.get("idProperty").value_or("id");
    for (const auto& o : p_.owners) {
      if (o.archived != archived) continue;
      if ((id_property == "id" && o.id == id) || (id_property == "userId" && std::to_string(o.user_id) == id))
        return json_response(200, owner_json(o));
    }
    return error_response(404, "OBJECT_NOT_FOUND", "Owner " + id + " not found");
  }

};

}  // namespace

std::optional<http::Response> serve_owners(SandboxRouter& s, ApiContext& c) { return OwnerRoutes(s, c).route(); }

}  // namespace tandem::sandbox
