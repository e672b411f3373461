#include "sandbox/state_snapshot.hpp"

#include <map>

namespace tandem::sandbox {

namespace {

json edge_json(const AssociationEdge& e) {
  return json::array({static_cast<int>(e.to_type), e.to_id, e.type_id, e.category});
}

json property_def_json(const PropertyDef& d) {
  json options = json::array();
  for (const auto& [v, l] : d.options) options.push_back(json::array({v, l}));
  return {{"name", d.name},          {"label", d.label},         {"type", d.type},
          {"fieldType", d.field_type}, {"groupName", d.group},      {"description", d.description},
          {"options", options},        {"readOnly", d.read_only},  {"calculated", d.calculated},
          {"hidden", d.hidden},        {"formField", d.form_field}, {"displayOrder", d.display_order},
          {"createdMs", d.created_ms}};
}

PropertyDef property_def_from_json(const json& j) {
  PropertyDef d;
  d.name = j.at("name");
  d.label = j.at("label");
  d.type = j.at("type");
  d.field_type = j.at("fieldType");
  d.group = j.at("groupName");
  d.description = j.at("description");
  for (const auto& o : j.at("options")) d.options.emplace_back(o.at(0).get<std::string>(), o.at(1).get<std::string>());
  d.read_only = j.at("readOnly");
  d.calculated = j.at("calculated");
  d.hidden = j.at("hidden");
  d.form_field = j.at("formField");
  d.display_order = j.at("displayOrder");
  d.created_ms = j.at("createdMs");
  d.api_created = true;
  return d;
}

}  // namespace

json take_snapshot(const CrmState& crm, const OAuthGrants& grants) {
  json portals = json::array();
  for (const auto& [id, p] : crm.portals()) {
    json owners = json::array();
    for (const auto& o : p.owners)
      owners.push_back({{"id", o.id}, {"email", o.email}, {"firstName", o.first_name}, {"lastName", o.last_name},
                        {"userId", o.user_id}, {"type", o.type}, {"archived", o.archived}, {"teams", o.team_ids}});
    json teams = json::array();
    for (const auto& t : p.teams) teams.push_back({{"id", t.id}, {"name", t.name}});
    json objects = json::object();
    for (int t = 0; t < kObjectTypeCount; ++t) {
      json list = json::array();
      for (const auto& [oid, o] : p.objects[t]) {
        json props = json::object();
        for (const auto& [k, v] : o.props) props[k] = v;
        json row = {{"id", oid}, {"props", std::move(props)}, {"createdMs", o.created_ms}, {"updatedMs", o.updated_ms},
                    {"archived", o.archived}, {"archivedMs", o.archived_ms}};
        if (!o.history.empty()) {
          json history = json::object();
          for (const auto& [name, versions] : o.history) {
            json list_j = json::array();
            for (const auto& v : versions)
              list_j.push_back(json::array({v.value, v.timestamp_ms, v.source_type, v.source_id, v.updated_by_user_id}));
            history[name] = std::move(list_j);
          }
          row["history"] = std::move(history);
        }
        list.push_back(std::move(row));
      }
      objects[std::string(object_type_name(static_cast<ObjectType>(t)))] = std::move(list);
    }
    json assoc = json::array();
    for (const auto& [key, edges] : p.associations)
      for (const auto& e : edges) {
        json row = edge_json(e);
        row.insert(row.begin(), key.second);
        row.insert(row.begin(), key.first);
        assoc.push_back(std::move(row));
      }
    // Only what the API created: built-in and configured properties and groups come back from
    // the configuration, so a changed configuration still applies to a restored state.
    json properties = json::object();
    json groups = json::object();
    for (int t = 0; t < kObjectTypeCount; ++t) {
      json plist = json::array();
      for (const auto& d : p.schemas[t])
        if (d.api_created) plist.push_back(property_def_json(d));
      json glist = json::array();
      for (const auto& g : p.groups[t])
        if (g.api_created) glist.push_back({{"name", g.name}, {"label", g.label}, {"displayOrder", g.display_order}});
      std::string key(object_type_name(static_cast<ObjectType>(t)));
      properties[key] = std::move(plist);
      groups[key] = std::move(glist);
    }
    json merged = json::array();
    for (const auto& [from, to] : p.merged_into) merged.push_back(json::array({from, to}));
    portals.push_back({{"id", id}, {"nextId", p.next_id}, {"owners", owners}, {"teams", teams}, {"objects", objects},
                       {"associations", assoc}, {"properties", properties}, {"propertyGroups", groups},
                       {"mergedInto", merged}});
  }
  json codes_j = json::object();
  for (const auto& [c, v] : grants.codes)
    codes_j[c] = {{"portalId", v.portal_id}, {"scopes", v.scopes}, {"redirectUri", v.redirect_uri}, {"expiresMs", v.expires_ms}};
  json access = json::object();
  for (const auto& [k, v] : grants.access_tokens)
    access[k] = {{"portalId", v.portal_id}, {"scopes", v.scopes}, {"expiresMs", v.expires_ms}, {"refreshToken", v.refresh_token},
                 {"revoked", v.revoked}};
  json refresh = json::object();
  for (const auto& [k, v] : grants.refresh_tokens) refresh[k] = {{"portalId", v.portal_id}, {"scopes", v.scopes}, {"revoked", v.revoked}};
  return {{"version", 1}, {"portals", portals}, {"oauth", {{"codes", codes_j}, {"accessTokens", access}, {"refreshTokens", refresh}}}};
}

std::optional<std::string> restore_snapshot(const json& s, CrmState& crm, OAuthGrants& grants) {
  try {
    if (s.at("version").get<int>() != 1) return "unsupported snapshot version";
    std::map<std::int64_t, Portal> next;
    for (const auto& pj : s.at("portals")) {
      auto id = pj.at("id").get<std::int64_t>();
      Portal& p = next[id];
      p = crm.empty_portal(id);
      p.next_id = pj.at("nextId").get<std::int64_t>();
      p.owners.clear();
      for (const auto& o : pj.at("owners"))
        p.owners.push_back({o.at("id"), o.at("email"), o.at("firstName"), o.at("lastName"), o.at("userId"), o.at("type"),
                            o.at("archived"), o.at("teams").get<std::vector<std::string>>()});
      p.teams.clear();
      for (const auto& t : pj.at("teams")) p.teams.push_back({t.at("id"), t.at("name")});
      // "properties" and "propertyGroups" are absent from snapshots written before properties
      // could be created; a name the configuration now defines keeps the configured definition.
      for (int t = 0; t < kObjectTypeCount; ++t) {
        const std::string key(object_type_name(static_cast<ObjectType>(t)));
        if (pj.contains("propertyGroups") && pj.at("propertyGroups").contains(key))
          for (const auto& g : pj.at("propertyGroups").at(key))
            if (!p.group(static_cast<ObjectType>(t), g.at("name").get<std::string>()))
              p.groups[t].push_back({g.at("name"), g.at("label"), g.at("displayOrder"), true});
        if (pj.contains("properties") && pj.at("properties").contains(key))
          for (const auto& dj : pj.at("properties").at(key)) {
            auto d = property_def_from_json(dj);
            if (!p.property(static_cast<ObjectType>(t), d.name)) p.add_property(static_cast<ObjectType>(t), std::move(d));
          }
      }
      for (int t = 0; t < kObjectTypeCount; ++t) {
        // Snapshots written before an object type existed have no list for it.
        const std::string key(object_type_name(static_cast<ObjectType>(t)));
        if (!pj.at("objects").contains(key)) continue;
        for (const auto& oj : pj.at("objects").at(key)) {
          CrmObject o;
          o.id = oj.at("id");
          for (const auto& [k, v] : oj.at("props").items()) o.props[k] = v.get<std::string>();
          o.created_ms = oj.at("createdMs");
          o.updated_ms = oj.at("updatedMs");
          o.archived = oj.at("archived");
          o.archived_ms = oj.at("archivedMs");
          // Absent from snapshots written before history was kept.
          if (oj.contains("history"))
            for (const auto& [name, versions] : oj.at("history").items())
              for (const auto& v : versions)
                o.history[name].push_back({v.at(0).get<std::string>(), v.at(1).get<std::int64_t>(), v.at(2).get<std::string>(),
                                           v.at(3).get<std::string>(), v.at(4).get<std::int64_t>()});
          if (t == 0 && !o.archived) {
            if (auto e = o.props.find("email"); e != o.props.end()) p.email_index[to_lower(e->second)] = o.id;
          }
          p.objects[t][o.id] = std::move(o);
        }
      }
      if (pj.contains("mergedInto"))
        for (const auto& m : pj.at("mergedInto")) p.merged_into[m.at(0).get<std::int64_t>()] = m.at(1).get<std::int64_t>();
      for (const auto& a : pj.at("associations")) {
        p.associations[{a.at(0).get<int>(), a.at(1).get<std::int64_t>()}].push_back(
            {static_cast<ObjectType>(a.at(2).get<int>()), a.at(3).get<std::int64_t>(), a.at(4).get<int>(), a.at(5).get<std::string>()});
      }
    }
    if (next.empty()) return "a snapshot needs at least one portal";
    std::map<std::string, AuthCode> c2;
    std::unordered_map<std::string, AccessToken> a2;
    std::unordered_map<std::string, RefreshToken> r2;
    const auto& oauth = s.at("oauth");
    for (const auto& [k, v] : oauth.at("codes").items())
      c2[k] = {v.at("portalId"), v.at("scopes").get<std::vector<std::string>>(), v.at("redirectUri"), v.at("expiresMs")};
    for (const auto& [k, v] : oauth.at("accessTokens").items())
      a2[k] = {v.at("portalId"), v.at("scopes").get<std::vector<std::string>>(), v.at("expiresMs"), v.at("refreshToken"), v.at("revoked")};
    for (const auto& [k, v] : oauth.at("refreshTokens").items())
      r2[k] = {v.at("portalId"), v.at("scopes").get<std::vector<std::string>>(), v.at("revoked")};
    crm.replace_portals(std::move(next));
    grants.codes = std::move(c2);
    grants.access_tokens = std::move(a2);
    grants.refresh_tokens = std::move(r2);
    return std::nullopt;
  } catch (const json::exception& e) {
    return std::string("invalid snapshot: ") + e.what();
  }
}

}  // namespace tandem::sandbox
