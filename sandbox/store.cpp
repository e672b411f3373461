#include "sandbox/store.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace tandem::sandbox {

namespace {

constexpr int kTaskToContact = 204;
constexpr int kContactToTask = 203;

const std::vector<std::string> kLifecycleStages = {"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
                                                   "opportunity", "customer", "evangelist", "other"};

PropertyDef text(std::string name, std::string label, std::string group = "contactinformation") {
  return {std::move(name), std::move(label), "string", "text", {}, false, false, std::move(group)};
}
PropertyDef number(std::string name, std::string label, bool ro = false) {
  return {std::move(name), std::move(label), "number", "number", {}, ro, false, "contactinformation"};
}
PropertyDef datetime(std::string name, std::string label, bool ro = false) {
  return {std::move(name), std::move(label), "datetime", "date", {}, ro, false, "contactinformation"};
}
PropertyDef enumeration(std::string name, std::string label, const std::vector<std::string>& values) {
  PropertyDef d{std::move(name), std::move(label), "enumeration", "select", {}, false, false, "contactinformation"};
  for (const auto& v : values) d.options.emplace_back(v, v);
  return d;
}

std::vector<PropertyDef> contact_schema() {
  std::vector<PropertyDef> s = {
      text("email", "Email"), text("firstname", "First Name"), text("lastname", "Last Name"), text("phone", "Phone Number"),
      text("mobilephone", "Mobile Phone Number"), text("company", "Company Name"), text("jobtitle", "Job Title"),
      text("website", "Website URL"), text("city", "City"), text("state", "State/Region"), text("country", "Country/Region"),
      text("zip", "Postal Code"), text("address", "Street Address"), text("industry", "Industry"), text("message", "Message"),
      number("numemployees", "Number of Employees"), number("annualrevenue", "Annual Revenue"),
      datetime("createdate", "Create Date"), datetime("lastmodifieddate", "Last Modified Date", true),
      number("hs_object_id", "Record ID", true), datetime("hubspot_owner_assigneddate", "Owner Assigned Date", true),
      datetime("hs_last_sales_activity_timestamp", "Last Engagement Date", true),
      text("hs_last_sales_activity_type", "Last Engagement Type"),
      datetime("notes_last_contacted", "Last Contacted", true), datetime("notes_last_updated", "Last Activity Date", true),
      number("num_contacted_notes", "Number of Sales Activities", true),
      datetime("hs_sales_email_last_replied", "Recent Sales Email Replied Date", true),
      datetime("hs_sales_email_last_opened", "Recent Sales Email Opened Date", true),
      datetime("hs_sales_email_last_clicked", "Recent Sales Email Clicked Date", true),
  };
  s[s.size() - 1].read_only = true;
  PropertyDef enrolled{"hs_sequences_is_enrolled", "Currently in Sequence", "bool", "booleancheckbox", {{"true", "Yes"}, {"false", "No"}}, true};
  s.push_back(enrolled);
  PropertyDef lc = enumeration("lifecyclestage", "Lifecycle Stage", kLifecycleStages);
  lc.field_type = "radio";
  lc.options = {{"subscriber", "Subscriber"}, {"lead", "Lead"}, {"marketingqualifiedlead", "Marketing Qualified Lead"},
                {"salesqualifiedlead", "Sales Qualified Lead"}, {"opportunity", "Opportunity"}, {"customer", "Customer"},
                {"evangelist", "Evangelist"}, {"other", "Other"}};
  s.push_back(lc);
  PropertyDef ls = enumeration("hs_lead_status", "Lead Status",
                               {"NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING"});
  ls.field_type = "radio";
  s.push_back(ls);
  PropertyDef src = enumeration("hs_analytics_source", "Original Traffic Source",
                                {"ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS", "OTHER_CAMPAIGNS",
                                 "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL"});
  src.read_only = true;
  s.push_back(src);
  PropertyDef owner = enumeration("hubspot_owner_id", "Contact owner", {});
  owner.owner_reference = true;
  s.push_back(owner);
  return s;
}

std::vector<PropertyDef> task_schema() {
  std::vector<PropertyDef> s = {
      datetime("hs_timestamp", "Due date"), text("hs_task_subject", "Task Title", "task"), text("hs_task_body", "Notes", "task"),
      datetime("hs_task_reminders", "Reminder"), datetime("hs_createdate", "Create date", true),
      datetime("hs_lastmodifieddate", "Last modified date", true), number("hs_object_id", "Record ID", true),
      datetime("hs_task_completion_date", "Completed at", true), text("hs_queue_membership_ids", "Queue", "task"),
  };
  s.push_back(enumeration("hs_task_status", "Task Status", {"NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"}));
  s.push_back(enumeration("hs_task_priority", "Priority", {"NONE", "LOW", "MEDIUM", "HIGH"}));
  s.push_back(enumeration("hs_task_type", "Task Type", {"EMAIL", "CALL", "TODO"}));
  PropertyDef owner = enumeration("hubspot_owner_id", "Assigned to", {});
  owner.owner_reference = true;
  s.push_back(owner);
  return s;
}

bool valid_email(std::string_view e) {
  auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= e.size()) return false;
  if (e.find('@', at + 1) != std::string_view::npos) return false;
  auto dot = e.find('.', at + 2);
  if (dot == std::string_view::npos || dot + 1 >= e.size()) return false;
  for (char c : e)
    if (c == ' ' || c == ',' || c == ';' || c == '<' || c == '>') return false;
  return true;
}

std::optional<std::string> value_as_string(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return std::string{};
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number_float()) return v.dump();
  return std::nullopt;
}

ObjectType other(ObjectType t) { return t == ObjectType::kContact ? ObjectType::kTask : ObjectType::kContact; }

const char* created_prop(ObjectType t) { return t == ObjectType::kContact ? "createdate" : "hs_createdate"; }
const char* modified_prop(ObjectType t) { return t == ObjectType::kContact ? "lastmodifieddate" : "hs_lastmodifieddate"; }

json edge_json(const AssociationEdge& e) {
  return json::array({static_cast<int>(e.to_type), e.to_id, e.type_id, e.category});
}

}  // namespace

std::optional<ObjectType> parse_object_type(std::string_view s) {
  if (s == "contacts" || s == "contact" || s == "0-1") return ObjectType::kContact;
  if (s == "tasks" || s == "task" || s == "0-27") return ObjectType::kTask;
  return std::nullopt;
}
std::string_view object_type_name(ObjectType t) { return t == ObjectType::kContact ? "contacts" : "tasks"; }
std::string_view object_type_id(ObjectType t) { return t == ObjectType::kContact ? "0-1" : "0-27"; }
std::string_view object_type_singular(ObjectType t) { return t == ObjectType::kContact ? "contact" : "task"; }

const std::vector<std::string>& default_properties(ObjectType t) {
  static const std::vector<std::string> contact = {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"};
  static const std::vector<std::string> task = {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"};
  return t == ObjectType::kContact ? contact : task;
}

int lifecycle_rank(std::string_view stage) {
  for (std::size_t i = 0; i < kLifecycleStages.size(); ++i)
    if (kLifecycleStages[i] == stage) return static_cast<int>(i);
  return -1;
}

ApiError not_found_error(std::string_view id) {
  (void)id;
  return {404, error_body("OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.")};
}

const PropertyDef* Portal::property(ObjectType t, std::string_view name) const {
  const auto& idx = schema_index[static_cast<int>(t)];
  auto it = idx.find(std::string(name));
  return it == idx.end() ? nullptr : &schemas[static_cast<int>(t)][it->second];
}

const OwnerConfig* Portal::owner(std::string_view id) const {
  for (const auto& o : owners)
    if (o.id == id) return &o;
  return nullptr;
}

Store::Store(const SandboxConfig& config) : config_(config) {
  lifecycle_backwards = config.lifecycle_backwards;
  default_lifecycle_stage = config.default_lifecycle_stage;
  for (const auto& pc : config.portals) build_portal(portals_[pc.id], pc);
}

void Store::build_portal(Portal& portal, const PortalConfig& cfg) {
  portal = Portal{};
  portal.config = cfg;
  portal.owners = cfg.owners;
  portal.teams = cfg.teams;
  portal.schemas[0] = contact_schema();
  portal.schemas[1] = task_schema();
  for (const auto& cp : cfg.properties) {
    auto t = parse_object_type(cp.object_type).value_or(ObjectType::kContact);
    PropertyDef d{cp.name, cp.label.empty() ? cp.name : cp.label, cp.type, "text", {}, false, false, "custom"};
    if (cp.type == "enumeration") d.field_type = "select";
    for (const auto& o : cp.options) d.options.emplace_back(o, o);
    portal.schemas[static_cast<int>(t)].push_back(d);
  }
  for (int t = 0; t < kObjectTypeCount; ++t)
    for (std::size_t i = 0; i < portal.schemas[t].size(); ++i) portal.schema_index[t][portal.schemas[t][i].name] = i;
}

Portal* Store::portal(std::int64_t id) {
  auto it = portals_.find(id);
  return it == portals_.end() ? nullptr : &it->second;
}

std::optional<ApiError> Store::check_properties(const Portal& p, ObjectType t, const json& properties,
                                                const CrmObject* existing,
                                                std::map<std::string, std::string>& out) const {
  if (!properties.is_object()) {
    return ApiError{400, error_body("VALIDATION_ERROR", "Invalid input JSON: 'properties' must be an object")};
  }
  std::vector<PropertyError> errors;
  for (const auto& [name, raw] : properties.items()) {
    const PropertyDef* def = p.property(t, name);
    if (!def) {
      errors.push_back({name, "PROPERTY_DOESNT_EXIST", "Property \"" + name + "\" does not exist"});
      continue;
    }
    auto value = value_as_string(raw);
    if (!value) {
      errors.push_back({name, "INVALID_PROPERTY_VALUE", "Property \"" + name + "\" must be a string"});
      continue;
    }
    if (def->read_only && !(seeding_ && def->name != "hs_object_id" && def->name != "lastmodifieddate" &&
                            def->name != "hs_lastmodifieddate")) {
      errors.push_back({name, "READ_ONLY_VALUE", "\"" + name + "\" is a read only property; its value cannot be set."});
      continue;
    }
    std::string v = *value;
    if (!v.empty()) {
      if (def->type == "enumeration") {
        bool ok = false;
        if (def->owner_reference) {
          const auto* o = p.owner(v);
          ok = o != nullptr && !o->archived;
        } else {
          for (const auto& [ov, ol] : def->options) ok = ok || ov == v;
        }
        if (!ok) {
          std::string allowed;
          if (def->owner_reference) {
            for (const auto& o : p.owners)
              if (!o.archived) allowed += (allowed.empty() ? "" : ", ") + o.id;
          } else {
            for (const auto& [ov, ol] : def->options) allowed += (allowed.empty() ? "" : ", ") + ov;
          }
          errors.push_back({name, "INVALID_OPTION", v + " was not one of the allowed options: [" + allowed + "]"});
          continue;
        }
      } else if (def->type == "number") {
        double d = 0;
        auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
        if (ec != std::errc() || ptr != v.data() + v.size() || !std::isfinite(d)) {
          errors.push_back({name, "INVALID_LONG", v + " is not a valid number"});
          continue;
        }
      } else if (def->type == "datetime" || def->type == "date") {
        auto ms = parse_datetime_ms(v);
        if (!ms) {
          errors.push_back({name, "INVALID_DATE", v + " is not a valid date; use epoch milliseconds or ISO-8601"});
          continue;
        }
        if (def->type == "date") {
          if (*ms % 86'400'000 != 0) {
            errors.push_back({name, "INVALID_DATE", v + " is not midnight UTC"});
            continue;
          }
          v = iso8601_ms(*ms).substr(0, 10);
        } else {
          v = iso8601_ms(*ms);
        }
      } else if (def->type == "bool") {
        auto l = to_lower(v);
        if (l != "true" && l != "false") {
          errors.push_back({name, "INVALID_BOOLEAN", v + " is not a valid boolean"});
          continue;
        }
        v = l;
      }
      if (t == ObjectType::kContact && name == "email" && !valid_email(v)) {
        errors.push_back({name, "INVALID_EMAIL", "Email address " + v + " is invalid"});
        continue;
      }
    }
    // Forward-only lifecycle stage (contract §4.3): a backwards move needs a clear ("") first.
    if (t == ObjectType::kContact && name == "lifecyclestage" && existing && !v.empty()) {
      auto it = existing->props.find("lifecyclestage");
      if (it != existing->props.end() && !it->second.empty() && lifecycle_rank(v) < lifecycle_rank(it->second)) {
        if (lifecycle_backwards == "reject") {
          errors.push_back({name, "INVALID_OPTION",
                            "lifecyclestage can only move forward (" + it->second + " -> " + v +
                                "); clear it with \"\" first"});
        }
        continue;  // "ignore": HubSpot answers 200 and keeps the value
      }
    }
    out[name] = v;
  }
  if (!errors.empty()) return ApiError{400, property_errors_body(errors)};
  return std::nullopt;
}

std::optional<ApiError> Store::validate_create(const Portal& p, ObjectType t, const json& properties,
                                               const std::vector<AssociationInput>& associations) const {
  std::map<std::string, std::string> props;
  return validate_create(p, t, properties, associations, props);
}

std::optional<ApiError> Store::validate_create(const Portal& p, ObjectType t, const json& properties,
                                               const std::vector<AssociationInput>& associations,
                                               std::map<std::string, std::string>& props) const {
  if (auto e = check_properties(p, t, properties, nullptr, props)) return e;
  if (t == ObjectType::kContact) {
    auto has = [&](const char* n) {
      auto it = props.find(n);
      return it != props.end() && !it->second.empty();
    };
    if (!has("email") && !has("firstname") && !has("lastname")) {
      return ApiError{400, error_body("VALIDATION_ERROR",
                                      "A contact needs at least one of the properties email, firstname or lastname")};
    }
    auto it = props.find("email");
    if (it != props.end() && !it->second.empty()) {
      auto found = p.email_index.find(to_lower(it->second));
      if (found != p.email_index.end()) {
        std::string id = std::to_string(found->second);
        return ApiError{409, error_body("CONFLICT", "Contact already exists. Existing ID: " + id)};
      }
    }
  } else {
    auto it = props.find("hs_timestamp");
    if (it == props.end() || it->second.empty()) {
      return ApiError{400, property_errors_body({{"hs_timestamp", "REQUIRED_PROPERTY", "Property \"hs_timestamp\" is required"}})};
    }
  }
  for (const auto& a : associations) {
    const auto& objs = p.objects[static_cast<int>(a.to_type)];
    auto it = objs.find(a.to_id);
    if (it == objs.end() || it->second.archived) {
      return ApiError{400, error_body("VALIDATION_ERROR", "No " + std::string(object_type_singular(a.to_type)) + " with ID " +
                                                              std::to_string(a.to_id) + " exists")};
    }
    bool ok = (t == ObjectType::kTask && a.to_type == ObjectType::kContact && a.type_id == kTaskToContact) ||
              (t == ObjectType::kContact && a.to_type == ObjectType::kTask && a.type_id == kContactToTask);
    if (!ok || (a.category != "HUBSPOT_DEFINED")) {
      return ApiError{400, error_body("VALIDATION_ERROR", "invalid association type " + a.category + "/" + std::to_string(a.type_id) +
                                                              " from " + std::string(object_type_name(t)) + " to " +
                                                              std::string(object_type_name(a.to_type)))};
    }
  }
  return std::nullopt;
}

std::variant<const CrmObject*, ApiError> Store::create(Portal& p, ObjectType t, const json& properties,
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
  if (o.props.contains("hubspot_owner_id") && t == ObjectType::kContact) o.props["hubspot_owner_assigneddate"] = iso8601_ms(now_ms);
  if (auto it = o.props.find(created_prop(t)); it != o.props.end()) {
    o.created_ms = parse_datetime_ms(it->second).value_or(now_ms);
  }
  o.props[created_prop(t)] = iso8601_ms(o.created_ms);
  o.props[modified_prop(t)] = iso8601_ms(now_ms);
  o.props["hs_object_id"] = std::to_string(o.id);
  auto& stored = p.objects[static_cast<int>(t)][o.id];
  stored = std::move(o);
  if (t == ObjectType::kContact) {
    if (auto it = stored.props.find("email"); it != stored.props.end()) p.email_index[to_lower(it->second)] = stored.id;
  }
  for (const auto& a : associations) associate(p, t, stored.id, a);
  events.push_back({ChangeEvent::Kind::kCreation, p.config.id, t, stored.id, "", "", now_ms, source.change_source, source.source_id});
  for (const auto& [k, v] : stored.props) {
    if (k == "hs_object_id" || k == modified_prop(t)) continue;
    events.push_back({ChangeEvent::Kind::kPropertyChange, p.config.id, t, stored.id, k, v, now_ms, source.change_source, source.source_id});
  }
  return &stored;
}

std::optional<ApiError> Store::validate_update(const Portal& p, ObjectType t, std::int64_t id, const json& properties) const {
  const auto& objs = p.objects[static_cast<int>(t)];
  auto it = objs.find(id);
  if (it == objs.end() || it->second.archived) return not_found_error(std::to_string(id));
  std::map<std::string, std::string> props;
  if (auto e = check_properties(p, t, properties, &it->second, props)) return e;
  if (t == ObjectType::kContact) {
    auto e = props.find("email");
    if (e != props.end() && !e->second.empty()) {
      auto found = p.email_index.find(to_lower(e->second));
      if (found != p.email_index.end() && found->second != id) {
        return ApiError{409, error_body("CONFLICT", "Contact already exists. Existing ID: " + std::to_string(found->second))};
      }
    }
  }
  return std::nullopt;
}

std::variant<const CrmObject*, ApiError> Store::update(Portal& p, ObjectType t, std::int64_t id, const json& properties,
                                                       std::int64_t now_ms, const WriteSource& source,
                                                       std::vector<ChangeEvent>& events) {
  if (auto e = validate_update(p, t, id, properties)) return *e;
  auto& o = p.objects[static_cast<int>(t)][id];
  std::map<std::string, std::string> props;
  check_properties(p, t, properties, &o, props);
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
    if (k == "hubspot_owner_id" && t == ObjectType::kContact) o.props["hubspot_owner_assigneddate"] = iso8601_ms(now_ms);
    if (k == "hs_task_status" && t == ObjectType::kTask && v == "COMPLETED") o.props["hs_task_completion_date"] = iso8601_ms(now_ms);
    if (v.empty()) o.props.erase(k);
    else o.props[k] = v;
    events.push_back({ChangeEvent::Kind::kPropertyChange, p.config.id, t, id, k, v, now_ms, source.change_source, source.source_id});
  }
  if (changed) {
    o.updated_ms = now_ms;
    o.props[modified_prop(t)] = iso8601_ms(now_ms);
  }
  return &o;
}

bool Store::archive(Portal& p, ObjectType t, std::int64_t id, std::int64_t now_ms, const WriteSource& source,
                    std::vector<ChangeEvent>& events) {
  auto& objs = p.objects[static_cast<int>(t)];
  auto it = objs.find(id);
  if (it == objs.end() || it->second.archived) return false;
  it->second.archived = true;
  it->second.archived_ms = now_ms;
  if (t == ObjectType::kContact) {
    if (auto e = it->second.props.find("email"); e != it->second.props.end()) p.email_index.erase(to_lower(e->second));
  }
  if (auto* edges = associations(p, t, id)) {
    auto copy = *edges;
    for (const auto& e : copy) dissociate(p, t, id, e.to_type, e.to_id);
  }
  events.push_back({ChangeEvent::Kind::kDeletion, p.config.id, t, id, "", "", now_ms, source.change_source, source.source_id});
  return true;
}

const CrmObject* Store::find(const Portal& p, ObjectType t, std::string_view id, std::string_view id_property, bool archived) const {
  const auto& objs = p.objects[static_cast<int>(t)];
  if (id_property.empty() || id_property == "hs_object_id") {
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
    if (ec != std::errc() || ptr != id.data() + id.size()) return nullptr;
    auto it = objs.find(n);
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

std::optional<ApiError> Store::associate(Portal& p, ObjectType from, std::int64_t from_id, const AssociationInput& a) {
  auto live = [&](ObjectType t, std::int64_t id) {
    const auto& objs = p.objects[static_cast<int>(t)];
    auto it = objs.find(id);
    return it != objs.end() && !it->second.archived;
  };
  if (!live(from, from_id)) return not_found_error(std::to_string(from_id));
  if (!live(a.to_type, a.to_id)) return not_found_error(std::to_string(a.to_id));
  if (from == a.to_type) {
    return ApiError{400, error_body("VALIDATION_ERROR", "associations between two " + std::string(object_type_name(from)) +
                                                            " are not supported by the sandbox")};
  }
  int forward = from == ObjectType::kTask ? kTaskToContact : kContactToTask;
  int reverse = from == ObjectType::kTask ? kContactToTask : kTaskToContact;
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

void Store::dissociate(Portal& p, ObjectType from, std::int64_t from_id, ObjectType to, std::int64_t to_id) {
  auto drop = [&](ObjectType ft, std::int64_t fid, ObjectType tt, std::int64_t tid) {
    auto it = p.associations.find({static_cast<int>(ft), fid});
    if (it == p.associations.end()) return;
    std::erase_if(it->second, [&](const AssociationEdge& e) { return e.to_type == tt && e.to_id == tid; });
    if (it->second.empty()) p.associations.erase(it);
  };
  drop(from, from_id, to, to_id);
  drop(to, to_id, from, from_id);
}

const std::vector<AssociationEdge>* Store::associations(const Portal& p, ObjectType t, std::int64_t id) const {
  auto it = p.associations.find({static_cast<int>(t), id});
  return it == p.associations.end() ? nullptr : &it->second;
}

json Store::to_public(const Portal& p, ObjectType t, const CrmObject& o, const std::vector<std::string>& requested,
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
    put(created_prop(t));
    put(modified_prop(t));
  }
  json out = {{"id", std::to_string(o.id)},
              {"properties", std::move(props)},
              {"createdAt", iso8601_ms(o.created_ms)},
              {"updatedAt", iso8601_ms(o.updated_ms)},
              {"archived", o.archived}};
  if (o.archived) out["archivedAt"] = iso8601_ms(o.archived_ms);
  return out;
}

json Store::snapshot() const {
  json portals = json::array();
  for (const auto& [id, p] : portals_) {
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
        list.push_back({{"id", oid}, {"props", std::move(props)}, {"createdMs", o.created_ms}, {"updatedMs", o.updated_ms},
                        {"archived", o.archived}, {"archivedMs", o.archived_ms}});
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
    portals.push_back({{"id", id}, {"nextId", p.next_id}, {"owners", owners}, {"teams", teams}, {"objects", objects},
                       {"associations", assoc}});
  }
  json codes_j = json::object();
  for (const auto& [c, v] : codes)
    codes_j[c] = {{"portalId", v.portal_id}, {"scopes", v.scopes}, {"redirectUri", v.redirect_uri}, {"expiresMs", v.expires_ms}};
  json access = json::object();
  for (const auto& [k, v] : access_tokens)
    access[k] = {{"portalId", v.portal_id}, {"scopes", v.scopes}, {"expiresMs", v.expires_ms}, {"refreshToken", v.refresh_token},
                 {"revoked", v.revoked}};
  json refresh = json::object();
  for (const auto& [k, v] : refresh_tokens) refresh[k] = {{"portalId", v.portal_id}, {"scopes", v.scopes}, {"revoked", v.revoked}};
  return {{"version", 1}, {"portals", portals}, {"oauth", {{"codes", codes_j}, {"accessTokens", access}, {"refreshTokens", refresh}}}};
}

std::optional<std::string> Store::restore(const json& s) {
  try {
    if (s.at("version").get<int>() != 1) return "unsupported snapshot version";
    std::map<std::int64_t, Portal> next;
    for (const auto& pj : s.at("portals")) {
      auto id = pj.at("id").get<std::int64_t>();
      PortalConfig cfg;
      cfg.id = id;
      for (const auto& pc : config_.portals)
        if (pc.id == id) cfg = pc;
      Portal& p = next[id];
      build_portal(p, cfg);
      p.next_id = pj.at("nextId").get<std::int64_t>();
      p.owners.clear();
      for (const auto& o : pj.at("owners"))
        p.owners.push_back({o.at("id"), o.at("email"), o.at("firstName"), o.at("lastName"), o.at("userId"), o.at("type"),
                            o.at("archived"), o.at("teams").get<std::vector<std::string>>()});
      p.teams.clear();
      for (const auto& t : pj.at("teams")) p.teams.push_back({t.at("id"), t.at("name")});
      for (int t = 0; t < kObjectTypeCount; ++t) {
        for (const auto& oj : pj.at("objects").at(std::string(object_type_name(static_cast<ObjectType>(t))))) {
          CrmObject o;
          o.id = oj.at("id");
          for (const auto& [k, v] : oj.at("props").items()) o.props[k] = v.get<std::string>();
          o.created_ms = oj.at("createdMs");
          o.updated_ms = oj.at("updatedMs");
          o.archived = oj.at("archived");
          o.archived_ms = oj.at("archivedMs");
          if (t == 0 && !o.archived) {
            if (auto e = o.props.find("email"); e != o.props.end()) p.email_index[to_lower(e->second)] = o.id;
          }
          p.objects[t][o.id] = std::move(o);
        }
      }
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
    portals_ = std::move(next);
    codes = std::move(c2);
    access_tokens = std::move(a2);
    refresh_tokens = std::move(r2);
    return std::nullopt;
  } catch (const json::exception& e) {
    return std::string("invalid snapshot: ") + e.what();
  }
}

std::variant<json, ApiError> Store::seed(Portal& p, const json& seed, std::int64_t now_ms) {
  if (!seed.is_object()) return ApiError{400, error_body("VALIDATION_ERROR", "seed must be a JSON object")};
  static const std::vector<std::string> kKeys = {"owners", "teams", "contacts", "tasks", "generateContacts"};
  for (const auto& [k, v] : seed.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), k) == kKeys.end())
      return ApiError{400, error_body("VALIDATION_ERROR", "unknown seed key '" + k + "'")};
  }
  std::size_t owners = 0, teams = 0, contacts = 0, tasks = 0;
  try {
    for (const auto& t : seed.value("teams", json::array())) {
      TeamConfig team{t.at("id").get<std::string>(), t.at("name").get<std::string>()};
      std::erase_if(p.teams, [&](const TeamConfig& x) { return x.id == team.id; });
      p.teams.push_back(team);
      ++teams;
    }
    for (const auto& o : seed.value("owners", json::array())) {
      OwnerConfig owner;
      owner.id = o.at("id").get<std::string>();
      owner.email = o.value("email", "");
      owner.first_name = o.value("firstName", "");
      owner.last_name = o.value("lastName", "");
      owner.user_id = o.value("userId", std::int64_t{0});
      owner.type = o.value("type", "PERSON");
      owner.archived = o.value("archived", false);
      owner.team_ids = o.value("teams", std::vector<std::string>{});
      std::erase_if(p.owners, [&](const OwnerConfig& x) { return x.id == owner.id; });
      p.owners.push_back(owner);
      ++owners;
    }
  } catch (const json::exception& e) {
    return ApiError{400, error_body("VALIDATION_ERROR", std::string("invalid seed: ") + e.what())};
  }
  struct SeedingScope {
    bool& flag;
    explicit SeedingScope(bool& f) : flag(f) { flag = true; }
    ~SeedingScope() { flag = false; }
  } scope(seeding_);
  auto load = [&](ObjectType t, const json& list) -> std::optional<ApiError> {
    std::size_t index = 0;
    std::vector<ChangeEvent> ignored;
    for (const auto& item : list) {
      if (!item.is_object() || !item.contains("properties"))
        return ApiError{400, error_body("VALIDATION_ERROR", "seed " + std::string(object_type_name(t)) + "[" +
                                                                std::to_string(index) + "] needs 'properties'")};
      // Seeds may set read-only properties (engagement dates, analytics source): seeding_ lets
      // check_properties accept them.
      const json& props = item.at("properties");
      std::vector<AssociationInput> assoc;
      if (t == ObjectType::kTask) {
        for (const auto& cid : item.value("contactIds", json::array())) {
          auto s = value_as_string(cid);
          std::int64_t id = 0;
          if (s) std::from_chars(s->data(), s->data() + s->size(), id);
          assoc.push_back({ObjectType::kContact, id, kTaskToContact, "HUBSPOT_DEFINED"});
        }
      }
      std::int64_t created = now_ms;
      if (item.contains("createdAt")) {
        auto s = value_as_string(item.at("createdAt"));
        created = s ? parse_datetime_ms(*s).value_or(now_ms) : now_ms;
      }
      std::optional<std::int64_t> wanted_id;
      if (item.contains("id")) {
        auto s = value_as_string(item.at("id"));
        std::int64_t id = 0;
        if (!s || std::from_chars(s->data(), s->data() + s->size(), id).ec != std::errc() || id <= 0)
          return ApiError{400, error_body("VALIDATION_ERROR", "seed: invalid id")};
        if (p.objects[static_cast<int>(t)].contains(id)) return ApiError{400, error_body("VALIDATION_ERROR", "seed: duplicate id " + *s)};
        wanted_id = id;
      }
      std::int64_t saved_next = p.next_id;
      if (wanted_id) p.next_id = *wanted_id;
      auto r = create(p, t, props, assoc, created, {"CRM_UI", ""}, ignored);
      ignored.clear();
      if (wanted_id) p.next_id = std::max(saved_next, *wanted_id + 1);
      if (auto* err = std::get_if<ApiError>(&r)) {
        err->body["message"] = "seed " + std::string(object_type_name(t)) + "[" + std::to_string(index) +
                               "]: " + err->body["message"].get<std::string>();
        return *err;
      }
      ++index;
    }
    return std::nullopt;
  };
  if (auto e = load(ObjectType::kContact, seed.value("contacts", json::array()))) return *e;
  contacts = seed.value("contacts", json::array()).size();
  if (auto e = load(ObjectType::kTask, seed.value("tasks", json::array()))) return *e;
  tasks = seed.value("tasks", json::array()).size();
  std::int64_t generate = seed.value("generateContacts", std::int64_t{0});
  if (generate > 0) {
    // Synthetic contacts for benchmarks: written directly (no per-record validation) so that
    // 100,000 load in well under a second.
    static const char* kStages[] = {"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"};
    static const char* kStatus[] = {"NEW", "OPEN", "IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "CONNECTED", "UNQUALIFIED"};
    auto& objs = p.objects[0];
    for (std::int64_t i = 0; i < generate; ++i) {
      CrmObject o;
      o.id = p.next_id++;
      o.created_ms = now_ms - (i % 1000) * 60'000;
      o.updated_ms = o.created_ms;
      std::string n = std::to_string(o.id);
      o.props["email"] = "contact" + n + "@example" + std::to_string(i % 97) + ".com";
      o.props["firstname"] = "First" + n;
      o.props["lastname"] = "Last" + std::to_string(i % 500);
      o.props["lifecyclestage"] = kStages[i % 6];
      o.props["hs_lead_status"] = kStatus[i % 6];
      o.props["numemployees"] = std::to_string((i * 37) % 5000);
      o.props["country"] = (i % 3 == 0) ? "Germany" : (i % 3 == 1 ? "France" : "United States");
      if (!p.owners.empty()) o.props["hubspot_owner_id"] = p.owners[static_cast<std::size_t>(i) % p.owners.size()].id;
      o.props["createdate"] = iso8601_ms(o.created_ms);
      o.props["lastmodifieddate"] = iso8601_ms(o.updated_ms);
      o.props["hs_object_id"] = n;
      p.email_index[o.props["email"]] = o.id;
      objs.emplace_hint(objs.end(), o.id, std::move(o));
    }
    contacts += static_cast<std::size_t>(generate);
  }
  return json{{"owners", owners}, {"teams", teams}, {"contacts", contacts}, {"tasks", tasks}};
}

}  // namespace tandem::sandbox
