#include "hubspot/types.hpp"

#include <nlohmann/json.hpp>

namespace tandem::hubspot {

using nlohmann::json;

namespace {

// HubSpot sends ids as strings on CRM objects and as numbers in associations v4; both are text here.
std::string id_text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_integer()) return std::to_string(j.get<std::int64_t>());
  if (j.is_number_unsigned()) return std::to_string(j.get<std::uint64_t>());
  throw json::type_error::create(302, "expected an id (string or integer)", &j);
}

std::string text_or_empty(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::map<std::string, std::vector<std::string>> read_context(const json& j) {
  std::map<std::string, std::vector<std::string>> out;
  auto it = j.find("context");
  if (it == j.end() || !it->is_object()) return out;
  for (const auto& [k, v] : it->items()) {
    if (v.is_array()) {
      for (const auto& e : v) out[k].push_back(e.is_string() ? e.get<std::string>() : e.dump());
    } else if (v.is_string()) {
      out[k].push_back(v.get<std::string>());
    }
  }
  return out;
}

}  // namespace

void from_json(const json& j, CrmObject& v) {
  v.id = id_text(j.at("id"));
  v.properties.clear();
  if (auto it = j.find("properties"); it != j.end() && it->is_object()) {
    for (const auto& [k, p] : it->items()) {
      if (p.is_null())
        v.properties[k] = std::nullopt;
      else
        v.properties[k] = p.is_string() ? p.get<std::string>() : p.dump();
    }
  }
  v.created_at = text_or_empty(j, "createdAt");
  v.updated_at = text_or_empty(j, "updatedAt");
  v.archived = j.value("archived", false);
  v.object_write_trace_id = text_or_empty(j, "objectWriteTraceId");
}

void from_json(const json& j, ApiErrorBody& v) {
  // "the fields … should all be treated as optional in any error parsing" (contract §8).
  if (!j.is_object()) return;
  v.status = text_or_empty(j, "status");
  v.message = text_or_empty(j, "message");
  v.correlation_id = text_or_empty(j, "correlationId");
  v.category = text_or_empty(j, "category");
  v.policy_name = text_or_empty(j, "policyName");
  v.error_type = text_or_empty(j, "errorType");
  v.context = read_context(j);
  v.errors.clear();
  if (auto it = j.find("errors"); it != j.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (!e.is_object()) continue;
      v.errors.push_back(ErrorDetail{text_or_empty(e, "message"), text_or_empty(e, "code"), read_context(e)});
    }
  }
}

void from_json(const json& j, BatchResult& v) {
  v.status = text_or_empty(j, "status");
  v.results = j.at("results").get<std::vector<CrmObject>>();
  v.errors.clear();
  if (auto it = j.find("errors"); it != j.end() && it->is_array())
    for (const auto& e : *it) v.errors.push_back(e.get<ApiErrorBody>());
}

void from_json(const json& j, SearchPage& v) {
  v.total = j.value("total", std::int64_t{0});
  v.results = j.at("results").get<std::vector<CrmObject>>();
  v.next_after.clear();
  if (auto p = j.find("paging"); p != j.end() && p->is_object())
    if (auto n = p->find("next"); n != p->end() && n->is_object()) v.next_after = text_or_empty(*n, "after");
}

void from_json(const json& j, AssociationType& v) {
  v.category = text_or_empty(j, "category");
  if (v.category.empty()) v.category = text_or_empty(j, "associationCategory");
  auto it = j.find("typeId");
  if (it == j.end()) it = j.find("associationTypeId");
  v.type_id = it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
}

void from_json(const json& j, AssociatedId& v) {
  v.to_object_id = id_text(j.at("toObjectId"));
  v.types.clear();
  if (auto it = j.find("associationTypes"); it != j.end() && it->is_array())
    for (const auto& t : *it) v.types.push_back(t.get<AssociationType>());
}

void from_json(const json& j, Owner& v) {
  v.id = id_text(j.at("id"));
  v.email = text_or_empty(j, "email");
  v.type = text_or_empty(j, "type");
  v.first_name = text_or_empty(j, "firstName");
  v.last_name = text_or_empty(j, "lastName");
  if (auto it = j.find("userId"); it != j.end() && it->is_number_integer())
    v.user_id = it->get<std::int64_t>();
  else
    v.user_id.reset();
  v.archived = j.value("archived", false);
  v.teams.clear();
  if (auto it = j.find("teams"); it != j.end() && it->is_array())
    for (const auto& t : *it) v.teams.push_back(OwnerTeam{id_text(t.at("id")), text_or_empty(t, "name"), t.value("primary", false)});
}

void from_json(const json& j, PropertyDefinition& v) {
  v.name = j.at("name").get<std::string>();
  v.label = text_or_empty(j, "label");
  v.type = text_or_empty(j, "type");
  v.field_type = text_or_empty(j, "fieldType");
  v.group_name = text_or_empty(j, "groupName");
  v.description = text_or_empty(j, "description");
  v.options.clear();
  if (auto it = j.find("options"); it != j.end() && it->is_array())
    for (const auto& o : *it)
      v.options.push_back(PropertyOption{text_or_empty(o, "label"), text_or_empty(o, "value"), o.value("displayOrder", 0),
                                         o.value("hidden", false)});
}

void from_json(const json& j, PropertyGroup& v) {
  v.name = j.at("name").get<std::string>();
  v.label = text_or_empty(j, "label");
  v.display_order = j.value("displayOrder", -1);
}

void from_json(const json& j, AccountDetails& v) {
  v.portal_id = j.at("portalId").get<std::int64_t>();
  v.time_zone = text_or_empty(j, "timeZone");
  v.ui_domain = text_or_empty(j, "uiDomain");
  v.data_hosting_location = text_or_empty(j, "dataHostingLocation");
}

void to_json(json& j, const AssociationType& v) {
  j = json{{"associationCategory", v.category}, {"associationTypeId", v.type_id}};
}

void to_json(json& j, const CreateInput& v) {
  j = json{{"properties", v.properties}};
  if (!v.associations.empty()) {
    json list = json::array();
    for (const auto& a : v.associations) list.push_back(json{{"to", {{"id", a.to_id}}}, {"types", a.types}});
    j["associations"] = std::move(list);
  }
  if (!v.object_write_trace_id.empty()) j["objectWriteTraceId"] = v.object_write_trace_id;
}

void to_json(json& j, const UpdateInput& v) {
  j = json{{"id", v.id}, {"properties", v.properties}};
  if (!v.object_write_trace_id.empty()) j["objectWriteTraceId"] = v.object_write_trace_id;
}

void to_json(json& j, const SearchRequest& v) {
  json groups = json::array();
  for (const auto& g : v.filter_groups) {
    json filters = json::array();
    for (const auto& f : g.filters) {
      json x{{"propertyName", f.property_name}, {"operator", f.op}};
      if (f.value) x["value"] = *f.value;
      if (f.high_value) x["highValue"] = *f.high_value;
      if (!f.values.empty()) x["values"] = f.values;
      filters.push_back(std::move(x));
    }
    groups.push_back(json{{"filters", std::move(filters)}});
  }
  j = json{{"filterGroups", std::move(groups)}, {"limit", v.limit}};
  if (!v.properties.empty()) j["properties"] = v.properties;
  if (!v.sorts.empty()) {
    json sorts = json::array();
    for (const auto& s : v.sorts) sorts.push_back(json{{"propertyName", s.property_name}, {"direction", s.direction}});
    j["sorts"] = std::move(sorts);
  }
  if (!v.after.empty()) j["after"] = v.after;
  if (!v.query.empty()) j["query"] = v.query;
}

void to_json(json& j, const AssociationInput& v) {
  j = json{{"from", {{"id", v.from_id}}}, {"to", {{"id", v.to_id}}}, {"types", v.types}};
}

void to_json(json& j, const PropertyDefinition& v) {
  j = json{{"name", v.name}, {"label", v.label}, {"type", v.type}, {"fieldType", v.field_type}, {"groupName", v.group_name}};
  if (!v.description.empty()) j["description"] = v.description;
  if (!v.options.empty()) {
    json options = json::array();
    for (const auto& o : v.options)
      options.push_back(json{{"label", o.label}, {"value", o.value}, {"displayOrder", o.display_order}, {"hidden", o.hidden}});
    j["options"] = std::move(options);
  }
}

void to_json(json& j, const PropertyGroup& v) {
  j = json{{"name", v.name}, {"label", v.label}};
  if (v.display_order >= 0) j["displayOrder"] = v.display_order;
}

}  // namespace tandem::hubspot
