// CRM records and their associations: create, update, archive, lookups by id or unique property,
// the symmetric association edges, and the SimplePublicObject JSON of a record.

#include "sandbox/crm_state.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace tandem::sandbox {

namespace {

// HubSpot's calculated closed / won flags of a deal, from its stage in the default pipeline
// (CONTRACT-ADDITIONS.md §6.2, §6.4: decide won from hs_is_closed_won, not from labels).
void stamp_deal_flags(CrmObject& o) {
  const auto it = o.props.find("dealstage");
  const std::string stage = it == o.props.end() ? std::string() : it->second;
  o.props["hs_is_closed"] = stage == "closedwon" || stage == "closedlost" ? "true" : "false";
  o.props["hs_is_closed_won"] = stage == "closedwon" ? "true" : "false";
}

}  // namespace

ApiError not_found_error(std::string_view id) {
  (void)id;
  return {404, error_body("OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.")};
}

const PropertyDef* Portal::property(ObjectType t, std::string_view name) const {
  const auto& idx = schema_index[static_cast<int>(t)];
  auto it = idx.find(std::string(name));
  return it == idx.end() ? nullptr : &schemas[static_cast<int>(t)][it->second];
}

const PropertyGroupDef* Portal::group(ObjectType t, std::string_view name) const {
  for (const auto& g : groups[static_cast<int>(t)])
    if (g.name == name) return &g;
  return nullptr;
}

void Portal::add_property(ObjectType t, PropertyDef d) {
  auto& schema = schemas[static_cast<int>(t)];
  schema_index[static_cast<int>(t)][d.name] = schema.size();
  schema.push_back(std::move(d));
}

const OwnerConfig* Portal::owner(std::string_view id) const {
  for (const auto& o : owners)
    if (o.id == id) return &o;
  return nullptr;
}

CrmState::CrmState(const SandboxConfig& config) : config_(config) {
  lifecycle_backwards = config.lifecycle_backwards;
  default_lifecycle_stage = config.default_lifecycle_stage;
  for (const auto& pc : config.portals) portals_[pc.id] = build_portal(pc);
}

Portal* CrmState::portal(std::int64_t id) {
  auto it = portals_.find(id);
  return it == portals_.end() ? nullptr : &it->second;
}

Portal CrmState::empty_portal(std::int64_t id) const {
  PortalConfig cfg;
  cfg.id = id;
  for (const auto& pc : config_.portals)
    if (pc.id == id) cfg = pc;
  return build_portal(cfg);
}

void CrmState::replace_portals(std::map<std::int64_t, Portal> portals) { portals_ = std::move(portals); }

std::variant<const CrmObject*, ApiError> CrmState::create(Portal& p, ObjectType t, const json& properties,
                                                       const std::vector<AssociationInput>& associations, std::int64_t now_ms,
                                                       const WriteSource& source, std::vector<ChangeEvent>& events) {
  std::map<std::string, std::string> props;
  if (auto e = validate_create(p, t, properties, associations, props)) return *e;
  CrmObject o;
  o.id = p.next_id++;
  o.created_ms = now_ms;
  o.updated_ms = now_ms;
  for (auto& [k, v] : props)
    if (!v.empty()) o.props[k] = v;
  if (t == ObjectType::kContact && !o.props.contains("lifecyclestage") && !default_lifecycle_stage.empty())
    o.props["lifecyclestage"] = default_lifecycle_stage;
  if (t == ObjectType::kTask && !o.props.contains("hs_task_status")) o.props["hs_task_status"] = "NOT_STARTED";
  if (t == ObjectType::kTask && o.props["hs_task_status"] == "COMPLETED" && !o.props.contains("hs_task_completion_date"))
    o.props["hs_task_completion_date"] = iso8601_ms(now_ms);
  if (t == ObjectType::kMeeting && !o.props.contains("hs_timestamp")) {
    // A copy first: PropertyMap is a flat map, so inserting one key may move the other's value.
    std::string start = o.props.contains("hs_meeting_start_time") ? o.props["hs_meeting_start_time"] : std::string();
    o.props["hs_timestamp"] = start;
  }
  // The user a person's write came from (X-Sandbox-Acting-User), as HubSpot records the creator.
  if (is_engagement(t) && source.source_id.starts_with("userId:")) o.props["hs_created_by_user_id"] = source.source_id.substr(7);
  if (o.props.contains("hubspot_owner_id") && t == ObjectType::kContact) o.props["hubspot_owner_assigneddate"] = iso8601_ms(now_ms);
  if (t == ObjectType::kDeal) stamp_deal_flags(o);
  if (auto it = o.props.find(created_property(t)); it != o.props.end()) {
    o.created_ms = parse_datetime_ms(it->second).value_or(now_ms);
  }
  o.props[created_property(t)] = iso8601_ms(o.created_ms);
  o.props[modified_property(t)] = iso8601_ms(now_ms);
  o.props["hs_object_id"] = std::to_string(o.id);
  if (!seeding_ && config_.limits.search_index_delay_ms > 0) {
    o.search_props.reset();
    o.search_visible_ms = now_ms + config_.limits.search_index_delay_ms;
  }
  auto& stored = p.objects[static_cast<int>(t)][o.id];
  stored = std::move(o);
  if (t == ObjectType::kContact) {
    if (auto it = stored.props.find("email"); it != stored.props.end()) p.email_index[to_lower(it->second)] = stored.id;
  }
  for (const auto& [k, v] : stored.props)
    if (k != modified_property(t)) record_version(stored, k, v, stored.created_ms, source);
  for (const auto& a : associations) associate(p, t, stored.id, a);
  events.push_back({ChangeEvent::Kind::kCreation, p.config.id, t, stored.id, "", "", now_ms, source.change_source, source.source_id});
  for (const auto& [k, v] : stored.props) {
    if (k == "hs_object_id" || k == modified_property(t)) continue;
    events.push_back({ChangeEvent::Kind::kPropertyChange, p.config.id, t, stored.id, k, v, now_ms, source.change_source, source.source_id});
  }
  if (!associations.empty()) refresh_related(p, t, stored.id, now_ms, events);
  return &stored;
}

std::variant<const CrmObject*, ApiError> CrmState::update(Portal& p, ObjectType t, std::int64_t id, const json& properties,
                                                       std::int64_t now_ms, const WriteSource& source,
                                                       std::vector<ChangeEvent>& events) {
  if (auto e = validate_update(p, t, id, properties)) return *e;
  auto& o = p.objects[static_cast<int>(t)][id];
  std::map<std::string, std::string> props;
  check_properties(p, t, properties, &o, props);
  begin_write(o, now_ms);
  bool changed = false;
  for (auto& [k, v] : props) {
    auto it = o.props.find(k);
    std::string old = it == o.props.end() ? std::string{} : it->second;
    if (old == v) continue;
    changed = true;
    if (t == ObjectType::kContact && k == "email") {
      if (!old.empty()) p.email_index.erase(to_lower(old));
      if (!v.empty()) p.email_index[to_lower(v)] = id;
    }
    if (k == "hubspot_owner_id" && t == ObjectType::kContact) {
      o.props["hubspot_owner_assigneddate"] = iso8601_ms(now_ms);
      record_version(o, "hubspot_owner_assigneddate", o.props["hubspot_owner_assigneddate"], now_ms, source);
    }
    if (k == "hs_task_status" && t == ObjectType::kTask && v == "COMPLETED") {
      o.props["hs_task_completion_date"] = iso8601_ms(now_ms);
      record_version(o, "hs_task_completion_date", o.props["hs_task_completion_date"], now_ms, source);
    }
    if (v.empty()) o.props.erase(k);
    else o.props[k] = v;
    record_version(o, k, v, now_ms, source);
    events.push_back({ChangeEvent::Kind::kPropertyChange, p.config.id, t, id, k, v, now_ms, source.change_source, source.source_id});
    if (t == ObjectType::kDeal && k == "dealstage") {
      stamp_deal_flags(o);
      for (const char* flag : {"hs_is_closed", "hs_is_closed_won"}) record_version(o, flag, o.props[flag], now_ms, source);
    }
  }
  if (changed) {
    o.updated_ms = now_ms;
    o.props[modified_property(t)] = iso8601_ms(now_ms);
    if (t != ObjectType::kContact) refresh_related(p, t, id, now_ms, events);
  }
  return &o;
}

bool CrmState::archive(Portal& p, ObjectType t, std::int64_t id, std::int64_t now_ms, const WriteSource& source,
                    std::vector<ChangeEvent>& events) {
  auto& objs = p.objects[static_cast<int>(t)];
  auto it = objs.find(id);
  if (it == objs.end() || it->second.archived) return false;
  it->second.archived = true;
  it->second.archived_ms = now_ms;
  if (t == ObjectType::kContact) {
    if (auto e = it->second.props.find("email"); e != it->second.props.end()) p.email_index.erase(to_lower(e->second));
  }
  std::vector<AssociationEdge> edges;
  if (const auto* live = associations(p, t, id)) edges = *live;
  for (const auto& e : edges) dissociate(p, t, id, e.to_type, e.to_id);
  events.push_back({ChangeEvent::Kind::kDeletion, p.config.id, t, id, "", "", now_ms, source.change_source, source.source_id});
  // The contacts a deleted activity counted for lose it.
  for (const auto& e : edges)
    if (e.to_type == ObjectType::kContact) refresh_rollups(p, e.to_id, now_ms, events);
  return true;
}

const CrmObject* CrmState::find(const Portal& p, ObjectType t, std::string_view id, std::string_view id_property, bool archived) const {
  const auto& objs = p.objects[static_cast<int>(t)];
  if (id_property.empty() || id_property == "hs_object_id") {
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
    if (ec != std::errc() || ptr != id.data() + id.size()) return nullptr;
    auto it = objs.find(n);
    if (it == objs.end() && t == ObjectType::kContact && !archived) {
      // A merged-away id answers with the record it was merged into (chains are followed).
      for (auto m = p.merged_into.find(n); m != p.merged_into.end(); m = p.merged_into.find(n)) n = m->second;
      it = objs.find(n);
    }
    if (it == objs.end() || it->second.archived != archived) return nullptr;
    return &it->second;
  }
  if (id_property == "email" && t == ObjectType::kContact && !archived) {
    auto it = p.email_index.find(to_lower(id));
    if (it == p.email_index.end()) return nullptr;
    auto o = objs.find(it->second);
    return o == objs.end() ? nullptr : &o->second;
  }
  return nullptr;
}

std::optional<ApiError> CrmState::associate(Portal& p, ObjectType from, std::int64_t from_id, const AssociationInput& a) {
  auto live = [&](ObjectType t, std::int64_t id) {
    const auto& objs = p.objects[static_cast<int>(t)];
    auto it = objs.find(id);
    return it != objs.end() && !it->second.archived;
  };
  if (!live(from, from_id)) return not_found_error(std::to_string(from_id));
  if (!live(a.to_type, a.to_id)) return not_found_error(std::to_string(a.to_id));
  int forward = association_type_id(from, a.to_type);
  int reverse = association_type_id(a.to_type, from);
  if (forward == 0 || reverse == 0) {
    return ApiError{400, error_body("VALIDATION_ERROR", "associations from " + std::string(object_type_name(from)) + " to " +
                                                            std::string(object_type_name(a.to_type)) +
                                                            " are not supported by the sandbox")};
  }
  auto add = [&](ObjectType ft, std::int64_t fid, ObjectType tt, std::int64_t tid, int type) {
    auto& edges = p.associations[{static_cast<int>(ft), fid}];
    for (const auto& e : edges)
      if (e.to_type == tt && e.to_id == tid && e.type_id == type) return;
    edges.push_back({tt, tid, type, "HUBSPOT_DEFINED"});
  };
  add(from, from_id, a.to_type, a.to_id, forward);
  add(a.to_type, a.to_id, from, from_id, reverse);
  return std::nullopt;
}

void CrmState::dissociate(Portal& p, ObjectType from, std::int64_t from_id, ObjectType to, std::int64_t to_id) {
  auto drop = [&](ObjectType ft, std::int64_t fid, ObjectType tt, std::int64_t tid) {
    auto it = p.associations.find({static_cast<int>(ft), fid});
    if (it == p.associations.end()) return;
    std::erase_if(it->second, [&](const AssociationEdge& e) { return e.to_type == tt && e.to_id == tid; });
    if (it->second.empty()) p.associations.erase(it);
  };
  drop(from, from_id, to, to_id);
  drop(to, to_id, from, from_id);
}

const std::vector<AssociationEdge>* CrmState::associations(const Portal& p, ObjectType t, std::int64_t id) const {
  auto it = p.associations.find({static_cast<int>(t), id});
  return it == p.associations.end() ? nullptr : &it->second;
}

std::variant<const CrmObject*, ApiError> CrmState::merge_contacts(Portal& p, std::int64_t primary_id, std::int64_t merged_id,
                                                                 std::int64_t now_ms, const WriteSource& source,
                                                                 std::vector<ChangeEvent>& events) {
  auto& contacts = p.objects[static_cast<int>(ObjectType::kContact)];
  auto live = [&](std::int64_t id) {
    auto it = contacts.find(id);
    return it == contacts.end() || it->second.archived ? nullptr : &it->second;
  };
  CrmObject* primary = live(primary_id);
  CrmObject* merged = live(merged_id);
  if (!primary) return not_found_error(std::to_string(primary_id));
  if (!merged) return not_found_error(std::to_string(merged_id));
  if (primary_id == merged_id)
    return ApiError{400, error_body("VALIDATION_ERROR", "primaryObjectId and objectIdToMerge must be different records")};

  begin_write(*primary, now_ms);
  // The primary's values win; the merged record's fill what the primary lacks. Record stamps,
  // the email (kept as a second address that finds the primary) and roll-ups (recomputed below)
  // are not moved.
  static const std::set<std::string, std::less<>> kNotMoved = {
      "hs_object_id", "createdate", "lastmodifieddate", "email", "hs_merged_object_ids", "notes_last_contacted",
      "num_contacted_notes", "notes_last_updated", "num_notes", "hs_sales_email_last_replied",
      "hs_last_sales_activity_timestamp", "hs_last_sales_activity_type"};
  int moved = 0;
  for (const auto& [k, v] : merged->props) {
    if (kNotMoved.contains(k) || v.empty() || primary->props.contains(k)) continue;
    primary->props[k] = v;
    record_version(*primary, k, v, now_ms, source);
    events.push_back({ChangeEvent::Kind::kPropertyChange, p.config.id, ObjectType::kContact, primary_id, k, v, now_ms,
                      source.change_source, source.source_id});
    ++moved;
  }
  // The combined history: both records' versions, newest kept.
  for (auto& [name, versions] : merged->history) {
    auto& into = primary->history[name];
    into.insert(into.end(), versions.begin(), versions.end());
    std::stable_sort(into.begin(), into.end(),
                     [](const PropertyVersion& a, const PropertyVersion& b) { return a.timestamp_ms < b.timestamp_ms; });
    if (into.size() > kHistoryLimit) into.erase(into.begin(), into.end() - static_cast<std::ptrdiff_t>(kHistoryLimit));
  }
  // Merged Contact IDs: the merged record and whatever had been merged into it.
  std::string ids = primary->props.contains("hs_merged_object_ids") ? primary->props["hs_merged_object_ids"] : "";
  for (const std::string& add : {std::to_string(merged_id), merged->props.contains("hs_merged_object_ids")
                                                                ? merged->props["hs_merged_object_ids"]
                                                                : std::string{}}) {
    if (add.empty()) continue;
    ids += (ids.empty() ? "" : ";") + add;
  }
  primary->props["hs_merged_object_ids"] = ids;
  record_version(*primary, "hs_merged_object_ids", ids, now_ms, source);

  std::vector<AssociationEdge> edges;
  if (const auto* e = associations(p, ObjectType::kContact, merged_id)) edges = *e;
  for (const auto& e : edges) {
    dissociate(p, ObjectType::kContact, merged_id, e.to_type, e.to_id);
    associate(p, ObjectType::kContact, primary_id, {e.to_type, e.to_id, e.type_id, e.category});
  }
  if (auto e = merged->props.find("email"); e != merged->props.end()) p.email_index[to_lower(e->second)] = primary_id;
  for (auto& [from, to] : p.merged_into)
    if (to == merged_id) to = primary_id;
  p.merged_into[merged_id] = primary_id;
  contacts.erase(merged_id);

  primary->updated_ms = now_ms;
  primary->props["lastmodifieddate"] = iso8601_ms(now_ms);
  ChangeEvent merge{ChangeEvent::Kind::kMerge, p.config.id, ObjectType::kContact, primary_id, "", "", now_ms,
                    source.change_source, source.source_id};
  merge.merged_ids = {merged_id};
  merge.properties_moved = moved;
  events.push_back(std::move(merge));
  refresh_rollups(p, primary_id, now_ms, events);
  return primary;
}

void CrmState::record_version(CrmObject& o, std::string_view name, const std::string& value, std::int64_t ms,
                              const WriteSource& source) {
  auto it = o.history.find(name);
  if (it == o.history.end()) it = o.history.emplace(std::string(name), std::vector<PropertyVersion>{}).first;
  PropertyVersion v{value, ms, source.change_source, source.source_id, 0};
  if (source.source_id.starts_with("userId:")) {
    std::int64_t user = 0;
    std::string_view digits = std::string_view(source.source_id).substr(7);
    std::from_chars(digits.data(), digits.data() + digits.size(), user);
    v.updated_by_user_id = user;
  }
  it->second.push_back(std::move(v));
  if (it->second.size() > kHistoryLimit) it->second.erase(it->second.begin());
}

void CrmState::begin_write(CrmObject& o, std::int64_t now_ms) const {
  if (seeding_ || config_.limits.search_index_delay_ms <= 0) return;
  // What search saw until now stays what it sees until this write is indexed.
  if (now_ms >= o.search_visible_ms) o.search_props = o.props;
  o.search_visible_ms = now_ms + config_.limits.search_index_delay_ms;
}

void CrmState::after_association_change(Portal& p, ObjectType a, std::int64_t a_id, ObjectType b, std::int64_t b_id,
                                        std::int64_t now_ms, std::vector<ChangeEvent>& events) {
  if (a == ObjectType::kContact) refresh_rollups(p, a_id, now_ms, events);
  if (b == ObjectType::kContact) refresh_rollups(p, b_id, now_ms, events);
}

json CrmState::history_json(const Portal& p, ObjectType t, const CrmObject& o, const std::vector<std::string>& names) const {
  json out = json::object();
  for (const auto& name : names) {
    if (!p.property(t, name)) continue;  // unknown properties are ignored, as for `properties`
    json versions = json::array();
    if (auto it = o.history.find(name); it != o.history.end()) {
      for (auto v = it->second.rbegin(); v != it->second.rend(); ++v) {
        json j = {{"value", v->value}, {"timestamp", iso8601_ms(v->timestamp_ms)}, {"sourceType", v->source_type}};
        if (!v->source_id.empty()) j["sourceId"] = v->source_id;
        if (v->updated_by_user_id != 0) j["updatedByUserId"] = v->updated_by_user_id;
        versions.push_back(std::move(j));
      }
    }
    out[name] = std::move(versions);
  }
  return out;
}

json CrmState::to_public(const Portal& p, ObjectType t, const CrmObject& o, const std::vector<std::string>& requested,
                      bool all_set) const {
  json props = json::object();
  auto put = [&](const std::string& name) {
    auto it = o.props.find(name);
    if (it != o.props.end()) props[name] = it->second;
    else props[name] = nullptr;
  };
  if (all_set) {
    for (const auto& [k, v] : o.props) props[k] = v;
  } else if (requested.empty()) {
    for (const auto& n : default_properties(t)) put(n);
  } else {
    for (const auto& n : requested)
      if (p.property(t, n)) put(n);
    put("hs_object_id");
    put(created_property(t));
    put(modified_property(t));
  }
  json out = {{"id", std::to_string(o.id)},
              {"properties", std::move(props)},
              {"createdAt", iso8601_ms(o.created_ms)},
              {"updatedAt", iso8601_ms(o.updated_ms)},
              {"archived", o.archived}};
  if (o.archived) out["archivedAt"] = iso8601_ms(o.archived_ms);
  return out;
}

}  // namespace tandem::sandbox
