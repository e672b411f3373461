// Teams (contract §6): each team with the users whose primary team it is and those for whom it is
// a secondary one.

#include <algorithm>

#include "sandbox/crm_routes.hpp"

namespace tandem::sandbox {

namespace {

class TeamRoutes : public CrmCall {
 public:
  using CrmCall::CrmCall;

  std::optional<http::Response> route() {
    if (c_.request.method != "GET") return std::nullopt;
    if (auto e = c_.require_scope({"settings.users.teams.read"})) return e;
    json results = json::array();
    for (const auto& t : p_.teams) {
      json primary = json::array(), secondary = json::array();
      for (const auto& o : p_.owners) {
        if (o.archived || o.team_ids.empty()) continue;
        if (o.team_ids.front() == t.id) primary.push_back(std::to_string(o.user_id));
        else if (std::find(o.team_ids.begin(), o.team_ids.end(), t.id) != o.team_ids.end())
          secondary.push_back(std::to_string(o.user_id));
      }
      results.push_back({{"id", t.id}, {"name", t.name}, {"userIds", primary}, {"secondaryUserIds", secondary}});
    }
    return json_response(200, json{{"results", results}});
  }
};

}  // namespace

std::optional<http::Response> serve_teams(SandboxRouter& s, ApiContext& c) { return TeamRoutes(s, c).route(); }

}  // namespace tandem::sandbox
