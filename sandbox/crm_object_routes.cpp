// CRM records (contract §4): list with paging, get by id or email, create (with associations),
// PATCH and DELETE on contacts, tasks and engagements; the record's search, batch and association routes are
// passed on to search.cpp, crm_batch_routes.cpp and association_routes.cpp.

#include "sandbox/crm_routes.hpp"

namespace tandem::sandbox {

namespace {

class ObjectRoutes : public CrmCall {
 public:
  using CrmCall::CrmCall;

  std::optional<http::Response> route(ObjectType t, const std::vector<std::string>& rest) {
    const auto& m = c_.request.method;
    if (rest.empty()) {
      if (m == "GET") {
        if (auto e = require_object_scope(c_, t, false)) return e;
        return list(t);
      }
      if (m == "POST") {
        if (auto e = require_object_scope(c_, t, true)) return e;
        return create(t);
      }
      return std::nullopt;
    }
    if (rest.size() == 1 && rest[0] == "search" && m == "POST") {
      if (auto e = require_object_scope(c_, t, false)) return e;
      return search_objects(s_, c_, t);
    }
    if (rest.size() == 2 && rest[0] == "batch" && m == "POST") return serve_object_batch(s_, c_, t, rest[1]);
    if (rest.size() == 1 && rest[0] == "merge" && m == "POST") {
      if (auto e = require_object_scope(c_, t, true)) return e;
      return merge(t);
    }
    if (rest.size() == 1) {
      if (m == "GET") {
        if (auto e = require_object_scope(c_, t, false)) return e;
        return get(t, rest[0]);
      }
      if (m == "PATCH") {
        if (auto e = require_object_scope(c_, t, true)) return e;
        return update(t, rest[0]);
      }
      if (m == "DELETE") {
        if (auto e = require_object_scope(c_, t, true)) return e;
        const auto* o = s_.crm.find(p_, t, rest[0], "");
        if (o) s_.crm.archive(p_, t, o->id, c_.now_ms, c_.source, c_.events);
        return http::Response{204, {}, {}};  // HubSpot answers 204 even when the record is already gone
      }
      return std::nullopt;
    }
    if (rest.size() >= 3 && rest[1] == "associations") return serve_record_associations(s_, c_, t, rest);
    return std::nullopt;
  }

 private:
  json with_associations(ObjectType t, const CrmObject& o, json obj, const std::vector<std::string>& assoc) {
    if (assoc.empty()) return obj;
    json out = json::object();
    const auto* edges = s_.crm.associations(p_, t, o.id);
    for (const auto& name : assoc) {
      auto to = parse_object_type(name);
      if (!to) continue;
      json results = json::array();
      if (edges)
        for (const auto& e : *edges)
          if (e.to_type == *to) results.push_back({{"id", std::to_string(e.to_id)}, {"type", association_label(t, *to)}});
      if (!results.empty()) out[std::string(object_type_name(*to))] = {{"results", results}};
    }
    if (!out.empty()) obj["associations"] = out;
    return obj;
  }


  http::Response list(ObjectType t) {
    auto limit = to_int(c_.query.get("limit").value_or("10"));
    if (!limit || *limit < 1 || *limit > 100) return error_response(400, "VALIDATION_ERROR", "limit must be between 1 and 100");
    std::int64_t after = 0;
    if (auto a = c_.query.get("after")) {
      auto v = to_int(*a);
      if (!v) return error_response(400, "VALIDATION_ERROR", "invalid after: " + *a);
      after = *v;
    }
    bool archived = c_.query.get("archived").value_or("false") == "true";
    auto props = c_.query.list("properties");
    auto assoc = c_.query.list("associations");
    auto with_history = c_.query.list("propertiesWithHistory");
    const auto& objs = p_.objects[static_cast<int>(t)];
    json results = json::array();
    auto it = objs.upper_bound(after);
    std::int64_t last = 0;
    for (; it != objs.end() && static_cast<std::int64_t>(results.size()) < *limit; ++it) {
      if (it->second.archived != archived) continue;
      json j = s_.crm.to_public(p_, t, it->second, props);
      if (!with_history.empty()) j["propertiesWithHistory"] = s_.crm.history_json(p_, t, it->second, with_history);
      results.push_back(with_associations(t, it->second, std::move(j), assoc));
      last = it->first;
    }
    while (it != objs.end() && it->second.archived != archived) ++it;
    json body = {{"results", results}};
    if (it != objs.end()) {
      std::string next = std::to_string(last);
      body["paging"] = {{"next", {{"after", next}, {"link", "?after=" + next}}}};
    }
    return json_response(200, body);
  }

  http::Response get(ObjectType t, const std::string& id) {
    std::string id_property = c_.query.get("idProperty").value_or("");
    bool archived = c_.query.get("archived").value_or("false") == "true";
    if (!id_property.empty() && id_property != "email" && id_property != "hs_object_id") {
      return error_response(400, "VALIDATION_ERROR", "idProperty " + id_property + " is not a unique property");
    }
    const auto* o = s_.crm.find(p_, t, id, id_property, archived);
    if (!o) return not_found(id);
    json j = s_.crm.to_public(p_, t, *o, c_.query.list("properties"));
    if (auto names = c_.query.list("propertiesWithHistory"); !names.empty())
      j["propertiesWithHistory"] = s_.crm.history_json(p_, t, *o, names);
    return json_response(200, with_associations(t, *o, std::move(j), c_.query.list("associations")));
  }

  http::Response create(ObjectType t) {
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (!body.contains("properties")) return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: 'properties' is required");
    auto assoc = parse_associations(body, t);
    if (auto* r = std::get_if<http::Response>(&assoc)) return std::move(*r);
    auto r = s_.crm.create(p_, t, body.at("properties"), std::get<std::vector<AssociationInput>>(assoc), c_.now_ms, c_.source,
                             c_.events);
    if (auto* e = std::get_if<ApiError>(&r)) return from_error(*e);
    return json_response(201, s_.crm.to_public(p_, t, *std::get<const CrmObject*>(r), {}, true));
  }

  // POST …/contacts/merge {"primaryObjectId","objectIdToMerge"} -> 200 with the merged record.
  http::Response merge(ObjectType t) {
    if (t != ObjectType::kContact) return error_response(400, "VALIDATION_ERROR", "the sandbox merges contacts only");
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (!body.contains("primaryObjectId") || !body.contains("objectIdToMerge"))
      return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: 'primaryObjectId' and 'objectIdToMerge' are required");
    auto primary = json_id(body.at("primaryObjectId"));
    auto merged = json_id(body.at("objectIdToMerge"));
    if (!primary || !merged) return error_response(400, "VALIDATION_ERROR", "primaryObjectId and objectIdToMerge must be record ids");
    auto r = s_.crm.merge_contacts(p_, *primary, *merged, c_.now_ms, c_.source, c_.events);
    if (auto* e = std::get_if<ApiError>(&r)) return from_error(*e);
    return json_response(200, s_.crm.to_public(p_, t, *std::get<const CrmObject*>(r), {}, true));
  }

  http::Response update(ObjectType t, const std::string& id) {
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (!body.contains("properties")) return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: 'properties' is required");
    std::string id_property = c_.query.get("idProperty").value_or("");
    const auto* o = s_.crm.find(p_, t, id, id_property);
    if (!o) return not_found(id);
    auto r = s_.crm.update(p_, t, o->id, body.at("properties"), c_.now_ms, c_.source, c_.events);
    if (auto* e = std::get_if<ApiError>(&r)) return from_error(*e);
    return json_response(200, s_.crm.to_public(p_, t, *std::get<const CrmObject*>(r), {}, true));
  }

};

}  // namespace

std::optional<http::Response> serve_objects(SandboxRouter& s, ApiContext& c, ObjectType t,
                                            const std::vector<std::string>& rest) {
  return ObjectRoutes(s, c).route(t, rest);
}

}  // namespace tandem::sandbox
