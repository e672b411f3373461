// The CRM half of the HubSpot surface (contract §4-§6): which resource file serves a path under
// /crm/v3/..., /crm/v4/..., /crm/{objects,associations,owners,properties}/2026-03/...,
// /settings/v3/..., /account-info/... and /appinstalls/..., and the pieces those files share.

#include <charconv>

#include "sandbox/crm_routes.hpp"

namespace tandem::sandbox {

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> json_id(const json& j) {
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_string()) return to_int(j.get_ref<const std::string&>());
  return std::nullopt;
}

// HubSpot's default deal pipeline (CONTRACT-ADDITIONS.md §6.4): stage ids, labels, order and
// metadata as strings, probability 1.0 won and 0.0 lost [COMMUNITY]; createdAt 0 for defaults [SPEC].
static json deal_pipelines_json() {
  struct Stage {
    const char* id;
    const char* label;
    const char* probability;
    bool closed;
  };
  static const Stage kStages[] = {{"appointmentscheduled", "Appointment Scheduled", "0.2", false},
                                  {"qualifiedtobuy", "Qualified To Buy", "0.4", false},
                                  {"presentationscheduled", "Presentation Scheduled", "0.6", false},
                                  {"decisionmakerboughtin", "Decision Maker Bought-In", "0.8", false},
                                  {"contractsent", "Contract Sent", "0.9", false},
                                  {"closedwon", "Closed Won", "1.0", true},
                                  {"closedlost", "Closed Lost", "0.0", true}};
  const std::string epoch = "1970-01-01T00:00:00Z";
  json stages = json::array();
  int order = 0;
  for (const auto& s : kStages)
    stages.push_back({{"id", s.id},
                      {"label", s.label},
                      {"displayOrder", order++},
                      {"metadata", {{"isClosed", s.closed ? "true" : "false"}, {"probability", s.probability}}},
                      {"createdAt", epoch},
                      {"updatedAt", epoch},
                      {"archived", false}});
  return {{"results", json::array({{{"id", "default"},
                                    {"label", "Sales Pipeline"},
                                    {"displayOrder", 0},
                                    {"stages", stages},
                                    {"createdAt", epoch},
                                    {"updatedAt", epoch},
                                    {"archived", false}}})}};
}

std::optional<http::Response> require_object_scope(const ApiContext& c, ObjectType t, bool write) {
  // Deals have scopes of their own (CONTRACT-ADDITIONS.md §6.5).
  if (t == ObjectType::kDeal) return c.require_scope({write ? kDealsWrite : kDealsRead});
  if (auto e = c.require_scope({write ? kContactsWrite : kContactsRead})) return e;
  if (t == ObjectType::kEmail) return c.require_scope({kSalesEmailRead});
  return std::nullopt;
}

http::Response not_found(std::string_view id) {
  auto e = not_found_error(id);
  return json_response(e.status, e.body);
}

http::Response from_error(const ApiError& e) { return json_response(e.status, e.body); }

std::string association_label(ObjectType from, ObjectType to) {
  return std::string(object_type_singular(from)) + "_to_" + std::string(object_type_singular(to));
}

std::variant<std::vector<AssociationInput>, http::Response> parse_associations(const json& body, ObjectType from) {
  std::vector<AssociationInput> out;
  if (!body.contains("associations")) return out;
  const auto& list = body.at("associations");
  if (!list.is_array()) return error_response(400, "VALIDATION_ERROR", "associations must be an array");
  for (const auto& a : list) {
    auto id = json_id(a.at("to").at("id"));
    if (!id) return error_response(400, "VALIDATION_ERROR", "associations[].to.id must be a record id");
    for (const auto& t : a.at("types")) {
      AssociationInput in;
      in.to_id = *id;
      in.type_id = t.at("associationTypeId").get<int>();
      // From a contact the type id names the other object (203 tasks, 193 calls, ...); an
      // unknown id is reported by validation as an invalid association type.
      in.to_type = from == ObjectType::kContact ? contact_association_target(in.type_id).value_or(ObjectType::kTask)
                                                : ObjectType::kContact;
      in.category = t.at("associationCategory").get<std::string>();
      out.push_back(in);
    }
  }
  return out;
}

json batch_envelope(std::int64_t now_ms, json results) {
  return {{"status", "COMPLETE"},
          {"results", std::move(results)},
          {"startedAt", iso8601_ms(now_ms)},
          {"completedAt", iso8601_ms(now_ms)}};
}

http::Response multi_status(std::int64_t now_ms, json results, json errors, int ok_status) {
  json body = batch_envelope(now_ms, std::move(results));
  if (errors.empty()) return json_response(ok_status, body);
  body["numErrors"] = errors.size();
  body["errors"] = std::move(errors);
  return json_response(207, body);
}

std::optional<http::Response> CrmCall::body_or_error(json& out) {
  auto parsed = parse_json_body(c_.request);
  if (auto* r = std::get_if<http::Response>(&parsed)) return std::move(*r);
  out = std::move(std::get<json>(parsed));
  if (!out.is_object()) return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: expected an object");
  return std::nullopt;
}

std::optional<http::Response> handle_crm(SandboxRouter& s, ApiContext& ctx) {
  const auto& seg = ctx.segments;
  // /crm/v3/objects/{type}/... and /crm/objects/2026-03/{type}/...
  if (seg.size() >= 4 && seg[0] == "crm" &&
      ((seg[1] == "v3" && seg[2] == "objects") || (seg[1] == "objects" && seg[2] == "2026-03") ||
       (seg[1] == "v4" && seg[2] == "objects"))) {
    auto type = parse_object_type(seg[3]);
    if (!type) return error_response(400, "VALIDATION_ERROR", "Unable to infer object type from: " + seg[3]);
    std::vector<std::string> rest(seg.begin() + 4, seg.end());
    // v4 only has association routes: {id}/associations/{toType}[...]
    if (seg[1] == "v4") {
      if (rest.size() >= 3 && rest[1] == "associations") return serve_record_associations(s, ctx, *type, rest);
      return std::nullopt;
    }
    return serve_objects(s, ctx, *type, rest);
  }
  // /crm/v4/associations/{from}/{to}/batch/... and /crm/associations/2026-03/{from}/{to}/batch/...
  if (seg.size() >= 7 && seg[0] == "crm" &&
      ((seg[1] == "v4" && seg[2] == "associations") || (seg[1] == "associations" && seg[2] == "2026-03")) &&
      seg[5] == "batch") {
    auto from = parse_object_type(seg[3]);
    auto to = parse_object_type(seg[4]);
    if (!from || !to) return error_response(400, "VALIDATION_ERROR", "Unknown object type");
    return serve_association_batch(s, ctx, *from, *to, std::vector<std::string>(seg.begin() + 6, seg.end()));
  }
  // /crm/v3/owners[/id] and /crm/owners/2026-03[/id]
  if (seg.size() >= 3 && seg[0] == "crm" &&
      ((seg[1] == "v3" && seg[2] == "owners") || (seg[1] == "owners" && seg[2] == "2026-03"))) {
    return serve_owners(s, ctx);
  }
  // /crm/v3/properties/{type}[/name] and /crm/properties/2026-03/{type}[/name]
  if (seg.size() >= 4 && seg[0] == "crm" &&
      ((seg[1] == "v3" && seg[2] == "properties") || (seg[1] == "properties" && seg[2] == "2026-03"))) {
    return serve_properties(s, ctx);
  }
  // /crm/v3/pipelines/deals and /crm/pipelines/2026-03/deals: the default pipeline (read only).
  if (seg.size() == 4 && seg[0] == "crm" &&
      ((seg[1] == "v3" && seg[2] == "pipelines") || (seg[1] == "pipelines" && seg[2] == "2026-03")) &&
      parse_object_type(seg[3]) == ObjectType::kDeal && ctx.request.method == "GET") {
    if (auto e = ctx.require_scope({kDealsRead})) return e;
    return json_response(200, deal_pipelines_json());
  }
  if (seg.size() == 3 && seg[0] == "account-info" && (seg[1] == "v3" || seg[1] == "2026-03") && seg[2] == "details") {
    return serve_account_details(s, ctx);
  }
  if (seg.size() == 4 && seg[0] == "settings" && seg[1] == "v3" && seg[2] == "users" && seg[3] == "teams") {
    return serve_teams(s, ctx);
  }
  if (seg.size() == 3 && seg[0] == "appinstalls" && (seg[1] == "v3" || seg[1] == "2026-03") &&
      seg[2] == "external-install") {
    return serve_uninstall(s, ctx);
  }
  return std::nullopt;
}

bool is_search_route(const http::Request& request, const std::vector<std::string>& seg) {
  return request.method == "POST" && seg.size() == 5 && seg[0] == "crm" && seg[4] == "search";
}

}  // namespace tandem::sandbox
