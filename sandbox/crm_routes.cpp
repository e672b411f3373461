// CRM routes on /crm/v3/... and /crm/objects/2026-03/... (contract §4-§6): contacts and tasks
// CRUD, list, batch read/create/update/upsert/archive, associations (v3, v4 and 2026-03 forms),
// owners, properties, teams and account info.

#include <algorithm>
#include <charconv>
#include <set>

#include "sandbox/sandbox_router.hpp"

namespace tandem::sandbox {

namespace {

const char* kRead = "crm.objects.contacts.read";
const char* kWrite = "crm.objects.contacts.write";

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

http::Response not_found(std::string_view id) {
  auto e = not_found_error(id);
  return json_response(e.status, e.body);
}

http::Response from_error(const ApiError& e) { return json_response(e.status, e.body); }

std::string association_label(ObjectType from, ObjectType to) {
  return std::string(object_type_singular(from)) + "_to_" + std::string(object_type_singular(to));
}

// Parses "associations": [{"to":{"id":..},"types":[{"associationCategory":..,"associationTypeId":..}]}].
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
      in.to_type = from == ObjectType::kTask ? ObjectType::kContact : ObjectType::kTask;
      in.to_id = *id;
      in.type_id = t.at("associationTypeId").get<int>();
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

json standard_error(const ApiError& e, json context) {
  json out = {{"status", "error"},
              {"category", e.body.value("category", "VALIDATION_ERROR")},
              {"message", e.body.value("message", "")},
              {"context", std::move(context)},
              {"errors", e.body.value("errors", json::array())},
              {"links", json::object()}};
  return out;
}

// The 207 entry for a failed batch input, tied back to the caller's input by its trace id.
json traced_error(const ApiError& e, const json& input) {
  return standard_error(e, {{"objectWriteTraceId", {input.at("objectWriteTraceId")}}});
}

// Without objectWriteTraceIds a batch is all or nothing: its first problem fails it.
const ApiError* first_problem(const std::vector<std::optional<ApiError>>& problems) {
  for (const auto& p : problems)
    if (p) return &*p;
  return nullptr;
}

http::Response multi_status(std::int64_t now_ms, json results, json errors, int ok_status) {
  json body = batch_envelope(now_ms, std::move(results));
  if (errors.empty()) return json_response(ok_status, body);
  body["numErrors"] = errors.size();
  body["errors"] = std::move(errors);
  return json_response(207, body);
}

std::vector<std::string> string_list(const json& body, const char* key) {
  std::vector<std::string> out;
  if (!body.contains(key)) return out;
  for (const auto& v : body.at(key)) out.push_back(v.get<std::string>());
  return out;
}

class CrmRoutes {
 public:
  CrmRoutes(SandboxRouter& s, ApiContext& c) : s_(s), c_(c), p_(*c.portal) {}

  std::optional<http::Response> route() {
    const auto& seg = c_.segments;
    const auto& m = c_.request.method;
    // /crm/v3/objects/{type}/... and /crm/objects/2026-03/{type}/...
    if (seg.size() >= 4 && seg[0] == "crm" &&
        ((seg[1] == "v3" && seg[2] == "objects") || (seg[1] == "objects" && seg[2] == "2026-03") ||
         (seg[1] == "v4" && seg[2] == "objects"))) {
      auto type = parse_object_type(seg[3]);
      if (!type) return error_response(400, "VALIDATION_ERROR", "Unable to infer object type from: " + seg[3]);
      return objects(*type, std::vector<std::string>(seg.begin() + 4, seg.end()), seg[1] == "v4");
    }
    // /crm/v4/associations/{from}/{to}/batch/... and /crm/associations/2026-03/{from}/{to}/batch/...
    if (seg.size() >= 7 && seg[0] == "crm" &&
        ((seg[1] == "v4" && seg[2] == "associations") || (seg[1] == "associations" && seg[2] == "2026-03")) && seg[5] == "batch") {
      auto from = parse_object_type(seg[3]);
      auto to = parse_object_type(seg[4]);
      if (!from || !to) return error_response(400, "VALIDATION_ERROR", "Unknown object type");
      return association_batch(*from, *to, std::vector<std::string>(seg.begin() + 6, seg.end()));
    }
    // /crm/v3/owners[/id] and /crm/owners/2026-03[/id]
    if (seg.size() >= 3 && seg[0] == "crm" && ((seg[1] == "v3" && seg[2] == "owners") || (seg[1] == "owners" && seg[2] == "2026-03"))) {
      if (m != "GET") return std::nullopt;
      if (auto e = c_.require_scope({"crm.objects.owners.read", "automation"})) return e;
      return seg.size() == 3 ? owners_list() : owner_get(seg[3]);
    }
    // /crm/v3/properties/{type}[/name] and /crm/properties/2026-03/{type}[/name]
    if (seg.size() >= 4 && seg[0] == "crm" && ((seg[1] == "v3" && seg[2] == "properties") || (seg[1] == "properties" && seg[2] == "2026-03"))) {
      if (m != "GET") return std::nullopt;
      auto type = parse_object_type(seg[3]);
      if (!type) return error_response(400, "VALIDATION_ERROR", "Unable to infer object type from: " + seg[3]);
      if (auto e = c_.require_scope({kRead, "crm.schemas.contacts.read"})) return e;
      if (seg.size() == 4) {
        json results = json::array();
        for (const auto& d : p_.schemas[static_cast<int>(*type)]) results.push_back(property_json(d));
        return json_response(200, json{{"results", results}});
      }
      const auto* d = p_.property(*type, seg[4]);
      if (!d) return error_response(404, "OBJECT_NOT_FOUND", "Unable to find property " + seg[4]);
      return json_response(200, property_json(*d));
    }
    if (seg.size() == 3 && seg[0] == "account-info" && (seg[1] == "v3" || seg[1] == "2026-03") && seg[2] == "details" && m == "GET") {
      if (auto e = c_.require_scope({"oauth"})) return e;
      return json_response(200, json{{"portalId", p_.config.id}, {"accountType", "STANDARD"}, {"timeZone", p_.config.time_zone},
                                     {"companyCurrency", "USD"}, {"additionalCurrencies", json::array()}, {"utcOffset", "+00:00"},
                                     {"utcOffsetMilliseconds", 0}, {"uiDomain", "app.hubspot.com"}, {"dataHostingLocation", "na1"}});
    }
    if (seg.size() == 4 && seg[0] == "settings" && seg[1] == "v3" && seg[2] == "users" && seg[3] == "teams" && m == "GET") {
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
    if (seg.size() == 3 && seg[0] == "appinstalls" && (seg[1] == "v3" || seg[1] == "2026-03") && seg[2] == "external-install" &&
        m == "DELETE") {
      // Uninstall: every token of this portal stops working.
      for (auto& [k, a] : s_.grants.access_tokens)
        if (a.portal_id == p_.config.id) a.revoked = true;
      for (auto& [k, r] : s_.grants.refresh_tokens)
        if (r.portal_id == p_.config.id) r.revoked = true;
      return http::Response{204, {}, {}};
    }
    return std::nullopt;
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

  std::optional<http::Response> body_or_error(json& out) {
    auto parsed = parse_json_body(c_.request);
    if (auto* r = std::get_if<http::Response>(&parsed)) return std::move(*r);
    out = std::move(std::get<json>(parsed));
    if (!out.is_object()) return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: expected an object");
    return std::nullopt;
  }

  std::optional<http::Response> check_batch_size(const json& body) {
    if (!body.contains("inputs") || !body.at("inputs").is_array()) {
      return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: 'inputs' must be an array");
    }
    auto n = body.at("inputs").size();
    if (n > static_cast<std::size_t>(s_.options.config.limits.batch_max)) {
      return error_response(400, "VALIDATION_ERROR",
                            "Batch input size " + std::to_string(n) + " exceeds the limit of " +
                                std::to_string(s_.options.config.limits.batch_max) + " inputs",
                            json::array(), {{"inputs", {std::to_string(n)}}});
    }
    return std::nullopt;
  }

  std::optional<http::Response> objects(ObjectType t, const std::vector<std::string>& rest, bool v4) {
    const auto& m = c_.request.method;
    if (v4) {
      // v4 only has association routes: {id}/associations/{toType}[...]
      if (rest.size() >= 3 && rest[1] == "associations") return associations(t, rest);
      return std::nullopt;
    }
    if (rest.empty()) {
      if (m == "GET") {
        if (auto e = c_.require_scope({kRead})) return e;
        return list(t);
      }
      if (m == "POST") {
        if (auto e = c_.require_scope({kWrite})) return e;
        return create(t);
      }
      return std::nullopt;
    }
    if (rest.size() == 1 && rest[0] == "search" && m == "POST") {
      if (auto e = c_.require_scope({kRead})) return e;
      return search_objects(s_, c_, t);
    }
    if (rest.size() == 2 && rest[0] == "batch" && m == "POST") {
      if (auto e = c_.require_scope({rest[1] == "read" ? kRead : kWrite})) return e;
      if (rest[1] == "read") return batch_read(t);
      if (rest[1] == "create") return batch_create(t);
      if (rest[1] == "update") return batch_update(t);
      if (rest[1] == "upsert") return batch_upsert(t);
      if (rest[1] == "archive") return batch_archive(t);
      return std::nullopt;
    }
    if (rest.size() == 1) {
      if (m == "GET") {
        if (auto e = c_.require_scope({kRead})) return e;
        return get(t, rest[0]);
      }
      if (m == "PATCH") {
        if (auto e = c_.require_scope({kWrite})) return e;
        return update(t, rest[0]);
      }
      if (m == "DELETE") {
        if (auto e = c_.require_scope({kWrite})) return e;
        const auto* o = s_.crm.find(p_, t, rest[0], "");
        if (o) s_.crm.archive(p_, t, o->id, c_.now_ms, c_.source, c_.events);
        return http::Response{204, {}, {}};  // HubSpot answers 204 even when the record is already gone
      }
      return std::nullopt;
    }
    if (rest.size() >= 3 && rest[1] == "associations") return associations(t, rest);
    return std::nullopt;
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
    const auto& objs = p_.objects[static_cast<int>(t)];
    json results = json::array();
    auto it = objs.upper_bound(after);
    std::int64_t last = 0;
    for (; it != objs.end() && static_cast<std::int64_t>(results.size()) < *limit; ++it) {
      if (it->second.archived != archived) continue;
      results.push_back(with_associations(t, it->second, s_.crm.to_public(p_, t, it->second, props), assoc));
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

  http::Response batch_read(ObjectType t) {
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (auto e = check_batch_size(body)) return std::move(*e);
    auto props = string_list(body, "properties");
    std::string id_property = body.value("idProperty", "");
    bool archived = c_.query.get("archived").value_or("false") == "true";
    json results = json::array();
    json missing = json::array();
    for (const auto& in : body.at("inputs")) {
      auto id = in.at("id");
      std::string ids = id.is_string() ? id.get<std::string>() : id.dump();
      const auto* o = s_.crm.find(p_, t, ids, id_property, archived);
      if (!o) {
        missing.push_back(ids);
        continue;
      }
      json j = s_.crm.to_public(p_, t, *o, props);
      if (!id_property.empty() && id_property != "hs_object_id") j["id"] = std::to_string(o->id);
      results.push_back(std::move(j));
    }
    json errors = json::array();
    if (!missing.empty()) {
      errors.push_back(missing_error(t, missing));
    }
    return multi_status(c_.now_ms, std::move(results), std::move(errors), 200);
  }

  static json missing_error(ObjectType t, json missing) {
    return {{"status", "error"},
            {"category", "OBJECT_NOT_FOUND"},
            {"message", "Could not get some " + to_upper(object_type_singular(t)) +
                            " objects, they may be deleted or not exist. Check that ids are valid."},
            {"context", {{"ids", std::move(missing)}}},
            {"errors", json::array()},
            {"links", json::object()}};
  }

  static std::string to_upper(std::string_view s) {
    std::string out(s);
    for (auto& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return out;
  }

  // Multi-status needs every input to carry a distinct objectWriteTraceId (contract §4, D-ERR).
  static bool has_trace_ids(const json& inputs) {
    std::set<std::string> seen;
    for (const auto& in : inputs) {
      if (!in.contains("objectWriteTraceId") || !in.at("objectWriteTraceId").is_string()) return false;
      if (!seen.insert(in.at("objectWriteTraceId").get<std::string>()).second) return false;
    }
    return !inputs.empty();
  }

  http::Response batch_create(ObjectType t) {
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (auto e = check_batch_size(body)) return std::move(*e);
    const auto& inputs = body.at("inputs");
    bool partial = has_trace_ids(inputs);
    std::vector<std::optional<ApiError>> problems(inputs.size());
    std::vector<std::vector<AssociationInput>> assocs(inputs.size());
    std::set<std::string> emails;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto& in = inputs[i];
      if (!in.is_object() || !in.contains("properties")) {
        problems[i] = ApiError{400, error_body("VALIDATION_ERROR", "inputs[" + std::to_string(i) + "].properties is required")};
        continue;
      }
      auto a = parse_associations(in, t);
      if (auto* r = std::get_if<http::Response>(&a)) {
        problems[i] = ApiError{400, json::parse(r->body)};
        continue;
      }
      assocs[i] = std::get<std::vector<AssociationInput>>(a);
      problems[i] = s_.crm.validate_create(p_, t, in.at("properties"), assocs[i]);
      if (!problems[i] && t == ObjectType::kContact && in.at("properties").contains("email") && in.at("properties").at("email").is_string()) {
        auto e = to_lower(in.at("properties").at("email").get<std::string>());
        if (!e.empty() && !emails.insert(e).second)
          problems[i] = ApiError{409, error_body("CONFLICT", "Duplicate email " + e + " within the batch")};
      }
    }
    if (const ApiError* problem = partial ? nullptr : first_problem(problems)) return from_error(*problem);
    json results = json::array();
    json errors = json::array();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (problems[i]) {
        errors.push_back(traced_error(*problems[i], inputs[i]));
        continue;
      }
      auto r = s_.crm.create(p_, t, inputs[i].at("properties"), assocs[i], c_.now_ms, c_.source, c_.events);
      if (auto* e = std::get_if<ApiError>(&r)) {
        if (!partial) return from_error(*e);
        errors.push_back(traced_error(*e, inputs[i]));
        continue;
      }
      json j = s_.crm.to_public(p_, t, *std::get<const CrmObject*>(r), {}, true);
      if (partial) j["objectWriteTraceId"] = inputs[i].at("objectWriteTraceId");
      results.push_back(std::move(j));
    }
    return multi_status(c_.now_ms, std::move(results), std::move(errors), 201);
  }

  http::Response batch_update(ObjectType t) {
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (auto e = check_batch_size(body)) return std::move(*e);
    const auto& inputs = body.at("inputs");
    bool partial = has_trace_ids(inputs);
    std::set<std::int64_t> seen;
    std::vector<const CrmObject*> targets(inputs.size(), nullptr);
    std::vector<std::optional<ApiError>> problems(inputs.size());
    json missing = json::array();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto& in = inputs[i];
      if (!in.is_object() || !in.contains("id") || !in.contains("properties")) {
        return error_response(400, "VALIDATION_ERROR", "inputs[" + std::to_string(i) + "] needs 'id' and 'properties'");
      }
      auto id = in.at("id");
      std::string ids = id.is_string() ? id.get<std::string>() : id.dump();
      targets[i] = s_.crm.find(p_, t, ids, in.value("idProperty", ""));
      if (!targets[i]) {
        missing.push_back(ids);
        continue;
      }
      if (!seen.insert(targets[i]->id).second) {
        return error_response(400, "VALIDATION_ERROR", "Duplicate IDs found in batch input: " + ids, json::array(),
                              {{"ids", {ids}}});
      }
      problems[i] = s_.crm.validate_update(p_, t, targets[i]->id, in.at("properties"));
    }
    if (const ApiError* problem = partial ? nullptr : first_problem(problems)) return from_error(*problem);
    json results = json::array();
    json errors = json::array();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!targets[i]) continue;
      if (problems[i]) {
        errors.push_back(traced_error(*problems[i], inputs[i]));
        continue;
      }
      auto r = s_.crm.update(p_, t, targets[i]->id, inputs[i].at("properties"), c_.now_ms, c_.source, c_.events);
      if (auto* e = std::get_if<ApiError>(&r)) return from_error(*e);
      json j = s_.crm.to_public(p_, t, *std::get<const CrmObject*>(r), {}, true);
      if (partial) j["objectWriteTraceId"] = inputs[i].at("objectWriteTraceId");
      results.push_back(std::move(j));
    }
    if (!missing.empty()) {
      errors.push_back(missing_error(t, missing));
    }
    return multi_status(c_.now_ms, std::move(results), std::move(errors), 200);
  }

  http::Response batch_upsert(ObjectType t) {
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (auto e = check_batch_size(body)) return std::move(*e);
    const auto& inputs = body.at("inputs");
    // Validate everything first: an upsert batch is applied all or nothing.
    std::vector<const CrmObject*> targets(inputs.size(), nullptr);
    std::vector<json> props(inputs.size());
    std::set<std::string> seen;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto& in = inputs[i];
      if (!in.is_object() || !in.contains("id") || !in.contains("properties") || !in.contains("idProperty")) {
        return error_response(400, "VALIDATION_ERROR", "inputs[" + std::to_string(i) + "] needs 'id', 'idProperty' and 'properties'");
      }
      std::string id_property = in.at("idProperty").get<std::string>();
      std::string ids = in.at("id").is_string() ? in.at("id").get<std::string>() : in.at("id").dump();
      if (!seen.insert(to_lower(ids)).second) {
        return error_response(400, "VALIDATION_ERROR", "Duplicate IDs found in batch input: " + ids);
      }
      if (id_property != "email" || t != ObjectType::kContact) {
        if (id_property != "hs_object_id")
          return error_response(400, "VALIDATION_ERROR", "idProperty " + id_property + " is not a unique property of " +
                                                             std::string(object_type_name(t)));
      }
      targets[i] = s_.crm.find(p_, t, ids, id_property);
      props[i] = in.at("properties");
      if (targets[i]) {
        if (auto e = s_.crm.validate_update(p_, t, targets[i]->id, props[i])) return from_error(*e);
      } else {
        if (id_property == "hs_object_id") return not_found(ids);
        if (!props[i].contains("email")) props[i]["email"] = ids;
        if (auto e = s_.crm.validate_create(p_, t, props[i], {})) return from_error(*e);
      }
    }
    json results = json::array();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      std::variant<const CrmObject*, ApiError> r =
          targets[i] ? s_.crm.update(p_, t, targets[i]->id, props[i], c_.now_ms, c_.source, c_.events)
                     : s_.crm.create(p_, t, props[i], {}, c_.now_ms, c_.source, c_.events);
      if (auto* e = std::get_if<ApiError>(&r)) return from_error(*e);
      json j = s_.crm.to_public(p_, t, *std::get<const CrmObject*>(r), {}, true);
      j["new"] = targets[i] == nullptr;
      results.push_back(std::move(j));
    }
    return json_response(200, batch_envelope(c_.now_ms, std::move(results)));
  }

  http::Response batch_archive(ObjectType t) {
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (auto e = check_batch_size(body)) return std::move(*e);
    for (const auto& in : body.at("inputs")) {
      auto id = in.at("id");
      std::string ids = id.is_string() ? id.get<std::string>() : id.dump();
      if (const auto* o = s_.crm.find(p_, t, ids, "")) s_.crm.archive(p_, t, o->id, c_.now_ms, c_.source, c_.events);
    }
    return http::Response{204, {}, {}};
  }

  // rest = {id, "associations", toType, ...}
  std::optional<http::Response> associations(ObjectType t, const std::vector<std::string>& rest) {
    const auto& m = c_.request.method;
    auto to = parse_object_type(rest[2] == "default" && rest.size() >= 4 ? rest[3] : rest[2]);
    if (!to) return error_response(400, "VALIDATION_ERROR", "Unknown object type " + rest[2]);
    const auto* from = s_.crm.find(p_, t, rest[0], "");
    if (m == "GET" && rest.size() == 3) {
      if (auto e = c_.require_scope({kRead, "crm.objects.tasks.read"})) return e;
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
    if (auto e = c_.require_scope({kWrite})) return e;
    if (!from) return not_found(rest[0]);
    auto link = [&](const std::string& to_id_text, std::optional<int> type_id) -> http::Response {
      auto to_id = to_int(to_id_text);
      if (!to_id) return not_found(to_id_text);
      int expected = t == ObjectType::kTask ? 204 : 203;
      if (type_id && *type_id != expected) {
        return error_response(400, "VALIDATION_ERROR", "association type " + std::to_string(*type_id) + " is not valid from " +
                                                           std::string(object_type_name(t)) + " to " + std::string(object_type_name(*to)));
      }
      if (auto e = s_.crm.associate(p_, t, from->id, {*to, *to_id, expected, "HUBSPOT_DEFINED"})) return from_error(*e);
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
                                                                               {"associationTypeId", t == ObjectType::kTask ? 204 : 203}}}}}));
      return json_response(200, body);
    }
    if (m == "PUT" && rest.size() == 5) {
      // v3 form: {id}/associations/{toType}/{toId}/{typeId or label}
      std::optional<int> type_id = to_int(rest[4]);
      if (!type_id) {
        if (rest[4] != association_label(t, *to)) return error_response(400, "VALIDATION_ERROR", "Unknown association type " + rest[4]);
        type_id = t == ObjectType::kTask ? 204 : 203;
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
      if (to_id) s_.crm.dissociate(p_, t, from->id, *to, *to_id);
      return http::Response{204, {}, {}};
    }
    return std::nullopt;
  }

  std::optional<http::Response> association_batch(ObjectType from, ObjectType to, const std::vector<std::string>& rest) {
    if (rest.empty() || c_.request.method != "POST") return std::nullopt;
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (!body.contains("inputs") || !body.at("inputs").is_array()) return error_response(400, "VALIDATION_ERROR", "'inputs' must be an array");
    const auto& inputs = body.at("inputs");
    std::string op = rest[0];
    if (rest.size() == 2) op += "/" + rest[1];
    if (op == "read") {
      if (auto e = c_.require_scope({kRead, "crm.objects.tasks.read"})) return e;
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
    if (auto e = c_.require_scope({kWrite})) return e;
    if (inputs.size() > 2000) return error_response(400, "VALIDATION_ERROR", "Batch create accepts at most 2000 inputs");
    int type_id = from == ObjectType::kTask ? 204 : 203;
    json results = json::array();
    for (const auto& in : inputs) {
      auto fid = json_id(in.at("from").at("id"));
      auto tid = json_id(in.at("to").at("id"));
      if (!fid || !tid) return error_response(400, "VALIDATION_ERROR", "from.id and to.id must be record ids");
      if (op == "archive") {
        s_.crm.dissociate(p_, from, *fid, to, *tid);
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
      results.push_back({{"fromObjectTypeId", object_type_id(from)}, {"fromObjectId", *fid}, {"toObjectTypeId", object_type_id(to)},
                         {"toObjectId", *tid}, {"labels", json::array()}});
    }
    if (op == "archive") return http::Response{204, {}, {}};
    return json_response(op == "create" ? 201 : 200, batch_envelope(c_.now_ms, std::move(results)));
  }

  SandboxRouter& s_;
  ApiContext& c_;
  Portal& p_;
};

}  // namespace

std::optional<http::Response> handle_crm(SandboxRouter& s, ApiContext& ctx) { return CrmRoutes(s, ctx).route(); }

bool is_search_route(const http::Request& request, const std::vector<std::string>& seg) {
  return request.method == "POST" && seg.size() == 5 && seg[0] == "crm" && seg[4] == "search";
}

}  // namespace tandem::sandbox
