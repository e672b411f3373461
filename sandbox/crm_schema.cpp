// The CRM vocabulary the sandbox knows: object types and their names, the built-in contact and
// task property schemas with HubSpot's labels and options (contract §4), lifecycle stages, and a
// portal's set-up from its configuration.

#include <string>
#include <vector>

#include "sandbox/crm_state.hpp"

namespace tandem::sandbox {

namespace {

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

}  // namespace

std::optional<ObjectType> parse_object_type(std::string_view s) {
  if (s == "contacts" || s == "contact" || s == "0-1") return ObjectType::kContact;
  if (s == "tasks" || s == "task" || s == "0-27") return ObjectType::kTask;
  return std::nullopt;
}
std::string_view object_type_name(ObjectType t) { return t == ObjectType::kContact ? "contacts" : "tasks"; }
std::string_view object_type_id(ObjectType t) { return t == ObjectType::kContact ? "0-1" : "0-27"; }
std::string_view object_type_singular(ObjectType t) { return t == ObjectType::kContact ? "contact" : "task"; }

const char* created_property(ObjectType t) { return t == ObjectType::kContact ? "createdate" : "hs_createdate"; }
const char* modified_property(ObjectType t) { return t == ObjectType::kContact ? "lastmodifieddate" : "hs_lastmodifieddate"; }

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

Portal build_portal(const PortalConfig& cfg) {
  Portal portal;
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
  for (int t = 0; t < kObjectTypeCount; ++t) {
    for (std::size_t i = 0; i < portal.schemas[t].size(); ++i) portal.schema_index[t][portal.schemas[t][i].name] = i;
    // The groups the properties name, in order of first use.
    for (const auto& d : portal.schemas[t]) {
      if (portal.group(static_cast<ObjectType>(t), d.group)) continue;
      std::string label = d.group == "contactinformation" ? "Contact information"
                          : d.group == "task"             ? "Task information"
                          : d.group == "custom"           ? "Custom properties"
                                                          : d.group;
      portal.groups[t].push_back({d.group, label, static_cast<int>(portal.groups[t].size())});
    }
  }
  return portal;
}

}  // namespace tandem::sandbox
