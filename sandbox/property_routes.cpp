// Property definitions (contract §4): the schema of each object type, one property by name, with
// owner-reference options filled from the portal's owners; creating properties and property
// groups (POST .../properties/{type} and .../properties/{type}/groups, which HubSpot documents
// under "Properties API"). A created property is part of the portal's schema at once, so the
// next record write may set it.

#include <array>
#include <set>
#include <utility>

#include "sandbox/crm_routes.hpp"

namespace tandem::sandbox {

namespace {

// The schema writes need. The sandbox's tasks accept the contacts scopes like the rest of its
// tasks API does (crm_routes.hpp), so one scope covers both object types.
constexpr std::string_view kSchemasWrite = "crm.schemas.contacts.write";
constexpr std::string_view kSchemasRead = "crm.schemas.contacts.read";

// The fieldType each type may be shown with (HubSpot's "Property type and fieldType values";
// the enums of PropertyCreate in @hubspot/api-client 13).
const std::array<std::pair<std::string_view, std::set<std::string_view>>, 6> kFieldTypes = {{
    {"string", {"text", "textarea", "file"}},
    {"number", {"number", "calculation_equation"}},
    {"date", {"date"}},
    {"datetime", {"date"}},
    {"enumeration", {"select", "radio", "checkbox", "booleancheckbox"}},
    {"bool", {"booleancheckbox"}},
}};

const std::set<std::string_view>* field_types_of(std::string_view type) {
  for (const auto& [t, fields] : kFieldTypes)
    if (t == type) return &fields;
  return nullptr;
}

// HubSpot's internal names are lowercase; UNCONFIRMED: the exact rule and its message.
bool valid_internal_name(std::string_view n) {
  if (n.empty() || n.size() > 100 || n[0] < 'a' || n[0] > 'z') return false;
  for (char ch : n)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  return true;
}

// HubSpot's message when a body lacks required fields of its model (the Immutables builder's
// wording, as HubSpot answers for other models); the line and column are not tracked here.
http::Response missing_fields(std::string_view model, const std::vector<std::string>& missing) {
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  return error_response(400, "VALIDATION_ERROR",
                        "Invalid input JSON on line 1, column 1: Cannot build " + std::string(model) +
                            ", some of required attributes are not set [" + list + "]");
}

// The fields of `body` that `names` lists and that are absent or not strings.
std::vector<std::string> missing_strings(const json& body, std::initializer_list<const char*> names) {
  std::vector<std::string> missing;
  for (const char* n : names)
    if (!body.contains(n) || !body.at(n).is_string() || body.at(n).get_ref<const std::string&>().empty())
      missing.emplace_back(n);
  return missing;
}

class PropertyRoutes : public CrmCall {
 public:
  using CrmCall::CrmCall;

  std::optional<http::Response> route() {
    const auto& seg = c_.segments;
    const auto& method = c_.request.method;
    if (method != "GET" && method != "POST") return std::nullopt;
    if (seg.size() > 5) return std::nullopt;
    auto type = parse_object_type(seg[3]);
    if (!type) return error_response(400, "VALIDATION_ERROR", "Unable to infer object type from: " + seg[3]);
    const bool groups = seg.size() == 5 && seg[4] == "groups";
    if (method == "POST") {
      if (seg.size() == 5 && !groups) return std::nullopt;
      if (auto e = c_.require_scope({kSchemasWrite})) return e;
      return groups ? create_group(*type) : create_property(*type);
    }
    if (auto e = c_.require_scope({kContactsRead, kSchemasRead})) return e;
    if (groups) {
      json results = json::array();
      for (const auto& g : p_.groups[static_cast<int>(*type)]) results.push_back(group_json(g));
      return json_response(200, json{{"results", results}});
    }
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
  http::Response create_property(ObjectType type) {
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (auto missing = missing_strings(body, {"name", "label", "type", "fieldType", "groupName"}); !missing.empty())
      return missing_fields("PropertyCreate", missing);
    PropertyDef d;
    d.name = body.at("name").get<std::string>();
    d.label = body.at("label").get<std::string>();
    d.type = body.at("type").get<std::string>();
    d.field_type = body.at("fieldType").get<std::string>();
    d.group = body.at("groupName").get<std::string>();
    d.api_created = true;
    d.created_ms = c_.now_ms;
    const auto* allowed = field_types_of(d.type);
    if (!allowed)
      return error_response(400, "VALIDATION_ERROR",
                            "Invalid input JSON: type '" + d.type +
                                "' is not one of [string, number, date, datetime, enumeration, bool]");
    if (!allowed->contains(d.field_type)) {
      std::string list;
      for (auto f : *allowed) list += (list.empty() ? "" : ", ") + std::string(f);
      // UNCONFIRMED: HubSpot's wording for a type/fieldType mismatch.
      return error_response(400, "VALIDATION_ERROR",
                            "Property " + d.name + " of type " + d.type + " cannot have fieldType " + d.field_type +
                                "; allowed: [" + list + "]");
    }
    if (!valid_internal_name(d.name))
      return error_response(
          400, "VALIDATION_ERROR",
          "Property name " + d.name +
              " is invalid: it must start with a lowercase letter and contain only lowercase letters, digits "
              "and underscores");  // UNCONFIRMED wording
    if (!p_.group(type, d.group))
      return error_response(400, "VALIDATION_ERROR",
                            "Property group " + d.group + " does not exist");  // UNCONFIRMED wording
    // Checked for their JSON type; hasUniqueValue, externalOptions, referencedObjectType and
    // calculationFormula are not enforced or evaluated by the sandbox.
    for (const char* key : {"description", "calculationFormula", "referencedObjectType"})
      if (body.contains(key) && !body.at(key).is_string())
        return error_response(400, "VALIDATION_ERROR", std::string("Invalid input JSON: ") + key + " must be a string");
    for (const char* key : {"hidden", "formField", "hasUniqueValue", "externalOptions"})
      if (body.contains(key) && !body.at(key).is_boolean())
        return error_response(400, "VALIDATION_ERROR",
                              std::string("Invalid input JSON: ") + key + " must be a boolean");
    if (body.contains("displayOrder") && !body.at("displayOrder").is_number_integer())
      return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: displayOrder must be an integer");
    d.description = body.value("description", "");
    d.hidden = body.value("hidden", false);
    d.form_field = body.value("formField", false);
    d.display_order = body.value("displayOrder", -1);
    if (d.field_type == "calculation_equation") {
      d.calculated = true;
      d.read_only = true;
    }
    if (auto e = parse_options(body, d)) return std::move(*e);
    // HubSpot answers 409 when the name is taken (its v1 properties docs; the v3 docs keep it).
    // UNCONFIRMED: the body's category and message.
    if (p_.property(type, d.name))
      return error_response(409, "OBJECT_ALREADY_EXISTS", "A property named '" + d.name + "' already exists.");
    std::string name = d.name;
    p_.add_property(type, std::move(d));
    return json_response(201, property_json(*p_.property(type, name)));
  }

  // options[] of OptionInput {label, value, displayOrder?, hidden?, description?}: required for
  // an enumeration (HubSpot: "required for enumerated properties"), ignored for other types but
  // bool, which gets HubSpot's Yes/No when it sends none.
  std::optional<http::Response> parse_options(const json& body, PropertyDef& d) {
    if (d.type == "bool" && !body.contains("options")) {
      d.options = {{"true", "Yes"}, {"false", "No"}};
      return std::nullopt;
    }
    if (d.type != "enumeration" && d.type != "bool") return std::nullopt;
    if (!body.contains("options")) return missing_fields("PropertyCreate", {"options"});
    const auto& options = body.at("options");
    if (!options.is_array())
      return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: options must be an array");
    std::set<std::string> seen;
    for (const auto& o : options) {
      if (!o.is_object())
        return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: options[] must be objects");
      if (auto missing = missing_strings(o, {"label", "value"}); !missing.empty())
        return missing_fields("OptionInput", missing);
      auto value = o.at("value").get<std::string>();
      if (!seen.insert(value).second)
        return error_response(400, "VALIDATION_ERROR",
                              "Property " + d.name + " has the option value " + value + " twice");  // UNCONFIRMED
      d.options.emplace_back(value, o.at("label").get<std::string>());
    }
    return std::nullopt;
  }

  http::Response create_group(ObjectType type) {
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (auto missing = missing_strings(body, {"name", "label"}); !missing.empty())
      return missing_fields("PropertyGroupCreate", missing);
    if (body.contains("displayOrder") && !body.at("displayOrder").is_number_integer())
      return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: displayOrder must be an integer");
    PropertyGroupDef g{body.at("name").get<std::string>(), body.at("label").get<std::string>(),
                       body.value("displayOrder", -1), true};
    if (!valid_internal_name(g.name))
      return error_response(
          400, "VALIDATION_ERROR",
          "Property group name " + g.name +
              " is invalid: it must start with a lowercase letter and contain only lowercase letters, digits "
              "and underscores");  // UNCONFIRMED wording
    // UNCONFIRMED: the 409 body, as for properties.
    if (p_.group(type, g.name))
      return error_response(409, "OBJECT_ALREADY_EXISTS", "A property group named '" + g.name + "' already exists.");
    p_.groups[static_cast<int>(type)].push_back(g);
    return json_response(201, group_json(g));
  }

  static json group_json(const PropertyGroupDef& g) {
    return {{"name", g.name}, {"label", g.label}, {"displayOrder", g.display_order}, {"archived", false}};
  }

  json property_json(const PropertyDef& d) const {
    json options = json::array();
    int order = 0;
    if (d.owner_reference) {
      for (const auto& o : p_.owners)
        if (!o.archived)
          options.push_back({{"label", o.first_name + " " + o.last_name},
                             {"value", o.id},
                             {"displayOrder", order++},
                             {"hidden", false}});
    } else {
      for (const auto& [v, l] : d.options)
        options.push_back({{"label", l}, {"value", v}, {"displayOrder", order++}, {"hidden", false}});
    }
    const std::string stamp = d.created_ms != 0 ? iso8601_ms(d.created_ms) : "2020-01-01T00:00:00.000Z";
    return {{"name", d.name},
            {"label", d.label},
            {"type", d.type},
            {"fieldType", d.field_type},
            {"groupName", d.group},
            {"description", d.description},
            {"options", options},
            {"displayOrder", d.display_order},
            {"calculated", d.api_created ? d.calculated : d.read_only},
            {"externalOptions", d.owner_reference},
            {"hasUniqueValue", d.name == "email" || d.name == "hs_object_id"},
            {"hidden", d.hidden},
            {"formField", d.api_created ? d.form_field : !d.read_only},
            {"modificationMetadata",
             {{"archivable", d.api_created}, {"readOnlyDefinition", !d.api_created}, {"readOnlyValue", d.read_only}}},
            {"createdAt", stamp},
            {"updatedAt", stamp},
            {"archived", false}};
  }
};

}  // namespace

std::optional<http::Response> serve_properties(SandboxRouter& s, ApiContext& c) { return PropertyRoutes(s, c).route(); }

}  // namespace tandem::sandbox
