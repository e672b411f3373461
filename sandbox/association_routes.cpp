// Associations (contract §5.2, §5.3): one record's associations (v3 PUT/DELETE with a type id or label,
// v4 GET, labelled and default PUT) and the v4 batch routes (read, create, associate/default,
// archive), all HUBSPOT_DEFINED between contacts and their tasks and engagements.

#include "sandbox/crm_routes.hpp"

namespace tandem::sandbox {

namespace {

class AssociationRoutes : public CrmCall {
 public:
  using CrmCall::CrmCall;

  // A deal's associations also need the deals scope (CONTRACT-ADDITIONS.md §6.5, the strictest
  // reading: UNCONFIRMED whether the contacts scope alone reads a contact's deals).
  std::optional<http::Response> deal_scope(ObjectType a, ObjectType b, bool write) {
    if (a != ObjectType::kDeal && b != ObjectType::kDeal) return std::nullopt;
    return c_.require_scope({write ? kDealsWrite : kDealsRead});
  }

  std::optional<http::Response> record(ObjectType t, const std::vector<std::string>& rest) {
    const auto& m = c_.request.method;
    auto to = parse_object_type(rest[2] == "default" && rest.size() >= 4 ? rest[3] : rest[2]);
    if (!to) return error_response(400, "VALIDATION_ERROR", "Unknown object type " + rest[2]);
    const auto* from = s_.crm.find(p_, t, rest[0], "");
    if (m == "GET" && rest.size() == 3) {
      if (auto e = c_.require_scope({kContactsRead, "crm.objects.tasks.read"})) return e;
      if (auto e = deal_scope(t, *to, false)) return e;
      if (!from) return not_found(rest[0]);
      json results = json::array();
      if (const auto* edges = s_.crm.associations(p_, t, from->id)) {
        for (const auto& e : *edges) {
          if (e.to_type != *to) continue;
          results.push_back({{"toObjectId", e.to_id},
                             {"associationTypes", json::array({{{"category", e.category}, {"typeId", e.type_id}, {"label", nullptr}}})}});
        }
      }
      return json_response(200, json{{"results", results}});
    }
    if (auto e = c_.require_scope({kContactsWrite})) return e;
    if (auto e = deal_scope(t, *to, true)) return e;
    if (!from) return not_found(rest[0]);
    auto link = [&](const std::string& to_id_text, std::optional<int> type_id) -> http::Response {
      auto to_id = to_int(to_id_text);
      if (!to_id) return not_found(to_id_text);
      int expected = association_type_id(t, *to);
      if (expected == 0 || (type_id && *type_id != expected)) {
        return error_response(400, "VALIDATION_ERROR", "association type " + std::to_string(*type_id) + " is not valid from " +
                                                           std::string(object_type_name(t)) + " to " + std::string(object_type_name(*to)));
      }
      if (auto e = s_.crm.associate(p_, t, from->id, {*to, *to_id, expected, "HUBSPOT_DEFINED"})) return from_error(*e);
      s_.crm.after_association_change(p_, t, from->id, *to, *to_id, c_.now_ms, c_.events);
      return json_response(200, json{{"fromObjectTypeId", object_type_id(t)}, {"fromObjectId", from->id},
                                     {"toObjectTypeId", object_type_id(*to)}, {"toObjectId", *to_id}, {"labels", json::array()}});
    };
    if (m == "PUT" && rest.size() == 5 && rest[2] == "default") {
      auto r = link(rest[4], std::nullopt);
      if (r.status != 200) return r;
      auto to_id = to_int(rest[4]).value_or(0);
      json body = batch_envelope(c_.now_ms, json::array({{{"from", {{"id", std::to_string(from->id)}}},
                                                          {"to", {{"id", std::to_string(to_id)}}},
                                                          {"associationSpec", {{"associationCategory", "HUBSPOT_DEFINED"},
                                                                               {"associationTypeId", association_type_id(t, *to)}}}}}));
      return json_response(200, body);
    }
    if (m == "PUT" && rest.size() == 5) {
      // v3 form: {id}/associations/{toType}/{toId}/{typeId or label}
      std::optional<int> type_id = to_int(rest[4]);
      if (!type_id) {
        if (rest[4] != association_label(t, *to)) return error_response(400, "VALIDATION_ERROR", "Unknown association type " + rest[4]);
        type_id = association_type_id(t, *to);
      }
      auto r = link(rest[3], static_cast<int>(*type_id));
      if (r.status != 200) return r;
      return json_response(200, s_.crm.to_public(p_, t, *from, {}));
    }
    if (m == "PUT" && rest.size() == 4) {
      // v4 labelled form, body [{"associationCategory":..,"associationTypeId":..}]
      auto parsed = parse_json_body(c_.request);
      if (auto* r = std::get_if<http::Response>(&parsed)) return std::move(*r);
      const auto& specs = std::get<json>(parsed);
      if (!specs.is_array() || specs.empty()) return error_response(400, "VALIDATION_ERROR", "expected an array of association specs");
      for (const auto& spec : specs) {
        if (spec.value("associationCategory", "") != "HUBSPOT_DEFINED")
          return error_response(400, "VALIDATION_ERROR", "only HUBSPOT_DEFINED associations exist in the sandbox");
        auto r = link(rest[3], spec.at("associationTypeId").get<int>());
        if (r.status != 200) return r;
      }
      return link(rest[3], std::nullopt);
    }
    if (m == "DELETE" && (rest.size() == 4 || rest.size() == 5)) {
      auto to_id = to_int(rest[3]);
      if (to_id) {
        s_.crm.dissociate(p_, t, from->id, *to, *to_id);
        s_.crm.after_association_change(p_, t, from->id, *to, *to_id, c_.now_ms, c_.events);
      }
      return http::Response{204, {}, {}};
    }
    return std::nullopt;
  }


  std::optional<http::Response> batch(ObjectType from, ObjectType to, const std::vector<std::string>& rest) {
    if (rest.empty() || c_.request.method != "POST") return std::nullopt;
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (!body.contains("inputs") || !body.at("inputs").is_array()) return error_response(400, "VALIDATION_ERROR", "'inputs' must be an array");
    const auto& inputs = body.at("inputs");
    std::string op = rest[0];
    if (rest.size() == 2) op += "/" + rest[1];
    if (op == "read") {
      if (auto e = c_.require_scope({kContactsRead, "crm.objects.tasks.read"})) return e;
      if (auto e = deal_scope(from, to, false)) return e;
      if (inputs.size() > 1000) return error_response(400, "VALIDATION_ERROR", "Batch read accepts at most 1000 inputs");
      json results = json::array();
      json missing = json::array();
      for (const auto& in : inputs) {
        auto id = json_id(in.at("id"));
        const CrmObject* o = id ? s_.crm.find(p_, from, std::to_string(*id), "") : nullptr;
        if (!o) {
          missing.push_back(in.at("id"));
          continue;
        }
        json tos = json::array();
        if (const auto* edges = s_.crm.associations(p_, from, o->id))
          for (const auto& e : *edges)
            if (e.to_type == to)
              tos.push_back({{"toObjectId", e.to_id},
                             {"associationTypes", json::array({{{"category", e.category}, {"typeId", e.type_id}, {"label", nullptr}}})}});
        if (!tos.empty()) results.push_back({{"from", {{"id", std::to_string(o->id)}}}, {"to", tos}});
      }
      json errors = json::array();
      if (!missing.empty())
        errors.push_back({{"status", "error"}, {"category", "OBJECT_NOT_FOUND"}, {"message", "No records found"},
                          {"context", {{"ids", missing}}}, {"errors", json::array()}, {"links", json::object()}});
      return multi_status(c_.now_ms, std::move(results), std::move(errors), 200);
    }
    if (auto e = c_.require_scope({kContactsWrite})) return e;
    if (auto e = deal_scope(from, to, true)) return e;
    if (inputs.size() > 2000) return error_response(400, "VALIDATION_ERROR", "Batch create accepts at most 2000 inputs");
    int type_id = association_type_id(from, to);
    if (type_id == 0)
      return error_response(400, "VALIDATION_ERROR", "associations from " + std::string(object_type_name(from)) + " to " +
                                                         std::string(object_type_name(to)) + " are not supported by the sandbox");
    json results = json::array();
    for (const auto& in : inputs) {
      auto fid = json_id(in.at("from").at("id"));
      auto tid = json_id(in.at("to").at("id"));
      if (!fid || !tid) return error_response(400, "VALIDATION_ERROR", "from.id and to.id must be record ids");
      if (op == "archive") {
        s_.crm.dissociate(p_, from, *fid, to, *tid);
        s_.crm.after_association_change(p_, from, *fid, to, *tid, c_.now_ms, c_.events);
        continue;
      }
      if (op == "create" && in.contains("types")) {
        for (const auto& spec : in.at("types"))
          if (spec.at("associationTypeId").get<int>() != type_id)
            return error_response(400, "VALIDATION_ERROR", "association type " + spec.at("associationTypeId").dump() + " is not valid here");
      } else if (op != "associate/default" && op != "create") {
        return std::nullopt;
      }
      if (auto e = s_.crm.associate(p_, from, *fid, {to, *tid, type_id, "HUBSPOT_DEFINED"})) return from_error(*e);
      s_.crm.after_association_change(p_, from, *fid, to, *tid, c_.now_ms, c_.events);
      results.push_back({{"fromObjectTypeId", object_type_id(from)}, {"fromObjectId", *fid}, {"toObjectTypeId", object_type_id(to)},
                         {"toObjectId", *tid}, {"labels", json::array()}});
    }
    if (op == "archive") return http::Response{204, {}, {}};
    return json_response(op == "create" ? 201 : 200, batch_envelope(c_.now_ms, std::move(results)));
  }
};

}  // namespace

std::optional<http::Response> serve_record_associations(SandboxRouter& s, ApiContext& c, ObjectType t,
                                                        const std::vector<std::string>& rest) {
  return AssociationRoutes(s, c).record(t, rest);
}

std::optional<http::Response> serve_association_batch(SandboxRouter& s, ApiContext& c, ObjectType from, ObjectType to,
                                                      const std::vector<std::string>& rest) {
  return AssociationRoutes(s, c).batch(from, to, rest);
}

}  // namespace tandem::sandbox
