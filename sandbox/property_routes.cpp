// Property definitions (contract §4): the schema of each object type, one property by name, with
// owner-reference options filled from the portal's owners.

#include "sandbox/crm_routes.hpp"

namespace tandem::sandbox {

namespace {

class PropertyRoutes : public CrmCall {
 public:
  using CrmCall::CrmCall;

  std::optional<http::Response> route() {
    const auto& seg = c_.segments;
    if (c_.request.method != "GET") return std::nullopt;
    auto type = parse_object_type(seg[3]);
    if (!type) return error_response(400, "VALIDATION_ERROR", "Unable to infer object type from: " + seg[3]);
    if (auto e = c_.require_scope({kContactsRead, "crm.schemas.contacts.read"})) return e;
    if (seg.size() == 4) {
      json results = json::array();
      for (const auto& d : p_.schemas[static_cast<int>(*type)]) results.push_back(property_json(d));
      return json_response(200, json{{"results", results}});
    }
    const auto* d = p_.property(*type, seg[4]);
    if (!d) return error_response(404, "OBJECT_NOT_FOUND", "Unable to find property " + seg[4]);
    return json_response(200, property_json(*d));
  }

 private:
  json property_json(const PropertyDef& d) const {
    json options = json::array();
    int order = 0;
    if (d.owner_reference) {
      for (const auto& o : p_.owners)
        if (!o.archived)
          options.push_back({{"label", o.first_name + " " + o.last_name}, {"value", o.id}, {"displayOrder", order++}, {"hidden", false}});
    } else {
      for (const auto& [v, l] : d.options) options.push_back({{"label", l}, {"value", v}, {"displayOrder", order++}, {"hidden", false}});
    }
    return {{"name", d.name},
            {"label", d.label},
            {"type", d.type},
            {"fieldType", d.field_type},
            {"groupName", d.group},
            {"description", ""},
            {"options", options},
            {"displayOrder", -1},
            {"calculated", d.read_only},
            {"externalOptions", d.owner_reference},
            {"hasUniqueValue", d.name == "email" || d.name == "hs_object_id"},
            {"hidden", false},
            {"formField", !d.read_only},
            {"modificationMetadata", {{"archivable", false}, {"readOnlyDefinition", true}, {"readOnlyValue", d.read_only}}},
            {"createdAt", "2020-01-01T00:00:00.000Z"},
            {"updatedAt", "2020-01-01T00:00:00.000Z"},
            {"archived", false}};
  }

};

}  // namespace

std::optional<http::Response> serve_properties(SandboxRouter& s, ApiContext& c) { return PropertyRoutes(s, c).route(); }

}  // namespace tandem::sandbox
