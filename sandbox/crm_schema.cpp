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
      datetime("notes_last_contacted", "Last Contacted", true), datetime("notes_last_updated", "Last Activity Date", true),
      // Labels from exported property lists: num_contacted_notes is "Number of times contacted",
      // num_notes "Number of Sales Activities" (CONTRACT-ADDITIONS.md §2).
      number("num_contacted_notes", "Number of times contacted", true), number("num_notes", "Number of Sales Activities", true),
      datetime("hs_sales_email_last_replied", "Recent Sales Email Replied Date", true),
      datetime("hs_sales_email_last_opened", "Recent Sales Email Opened Date", true),
      datetime("hs_sales_email_last_clicked", "Recent Sales Email Clicked Date", true),
  };
  s[s.size() - 1].read_only = true;
  PropertyDef enrolled{"hs_sequences_is_enrolled", "Currently in Sequence", "bool", "booleancheckbox", {{"true", "Yes"}, {"false", "No"}}, true};
  s.push_back(enrolled);
  // Option values are not confirmed; the sandbox sets EMAIL_REPLIED (roll-ups in crm_rollups.cpp).
  PropertyDef last_type = enumeration("hs_last_sales_activity_type", "Last Engagement Type",
                                      {"EMAIL_REPLIED", "MEETING_BOOKED", "FORM_SUBMITTED", "EMAIL_OPENED", "EMAIL_CLICKED"});
  last_type.read_only = true;
  s.push_back(last_type);
  PropertyDef merged{"hs_merged_object_ids", "Merged Contact IDs", "enumeration", "checkbox", {}, true};
  s.push_back(merged);
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

using Labels = std::initializer_list<std::pair<const char*, const char*>>;

// What every engagement has (developers.hubspot.com/docs/api-reference/latest/crm/activities/
// {calls,emails,meetings,notes}/guide, "Properties"): hs_timestamp (required; when it happened),
// the owner shown as its creator, attachments, and HubSpot's record stamps.
std::vector<PropertyDef> engagement_base(const std::string& group) {
  std::vector<PropertyDef> s = {
      datetime("hs_timestamp", "Activity date"), text("hs_attachment_ids", "Attached file IDs", group),
      datetime("hs_createdate", "Create date", true), datetime("hs_lastmodifieddate", "Last modified date", true),
      number("hs_object_id", "Record ID", true), number("hs_created_by_user_id", "Created by user ID", true),
  };
  PropertyDef owner = enumeration("hubspot_owner_id", "Activity assigned to", {});
  owner.owner_reference = true;
  s.push_back(owner);
  for (auto& d : s) d.group = group;
  return s;
}

std::vector<PropertyDef> call_schema() {
  auto s = engagement_base("call");
  for (auto [name, label] : Labels{{"hs_call_body", "Call notes"}, {"hs_call_title", "Call Title"},
                             {"hs_call_callee_object_id", "Callee object id"}, {"hs_call_callee_object_type", "Callee object type"},
                             {"hs_call_disposition", "Call outcome"}, {"hs_call_from_number", "From Number"},
                             {"hs_call_to_number", "To Number"}, {"hs_call_recording_url", "Recording URL"},
                             {"hs_activity_type", "Call and meeting type"}})
    s.push_back(text(name, label, "call"));
  PropertyDef duration = number("hs_call_duration", "Call duration");
  duration.group = "call";
  s.push_back(duration);
  PropertyDef direction = enumeration("hs_call_direction", "Call direction", {"INBOUND", "OUTBOUND"});
  PropertyDef status = enumeration("hs_call_status", "Call status",
                                   {"BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED", "IN_PROGRESS",
                                    "NO_ANSWER", "QUEUED", "RINGING", "MISSED"});
  PropertyDef source = enumeration("hs_call_source", "Call source", {"INTEGRATIONS_PLATFORM"});
  PropertyDef voicemail{"hs_call_has_voicemail", "Has voicemail", "bool", "booleancheckbox", {{"true", "Yes"}, {"false", "No"}}, false};
  for (auto* d : {&direction, &status, &source, &voicemail}) {
    d->group = "call";
    s.push_back(*d);
  }
  return s;
}

std::vector<PropertyDef> email_schema() {
  auto s = engagement_base("email");
  for (auto [name, label] : Labels{{"hs_email_subject", "Email subject"}, {"hs_email_text", "Email body"},
                             {"hs_email_html", "Email HTML body"}, {"hs_email_headers", "Email headers"}})
    s.push_back(text(name, label, "email"));
  // Filled from hs_email_headers by HubSpot; read-only for API writes.
  for (auto [name, label] : Labels{{"hs_email_from_email", "From"}, {"hs_email_from_firstname", "From first name"},
                             {"hs_email_from_lastname", "From last name"}, {"hs_email_to_email", "To"},
                             {"hs_email_to_firstname", "To first name"}, {"hs_email_to_lastname", "To last name"}}) {
    PropertyDef d = text(name, label, "email");
    d.read_only = true;
    s.push_back(d);
  }
  PropertyDef direction = enumeration("hs_email_direction", "Email direction", {"EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"});
  PropertyDef status = enumeration("hs_email_status", "Email send status", {"BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"});
  for (auto* d : {&direction, &status}) {
    d->group = "email";
    s.push_back(*d);
  }
  return s;
}

std::vector<PropertyDef> meeting_schema() {
  auto s = engagement_base("meeting");
  for (auto [name, label] : Labels{{"hs_meeting_title", "Meeting name"}, {"hs_meeting_body", "Meeting description"},
                             {"hs_internal_meeting_notes", "Internal meeting notes"}, {"hs_meeting_external_url", "External URL"},
                             {"hs_meeting_location", "Location"}, {"hs_activity_type", "Call and meeting type"}})
    s.push_back(text(name, label, "meeting"));
  for (auto [name, label] : Labels{{"hs_meeting_start_time", "Start Time"}, {"hs_meeting_end_time", "End Time"}}) {
    PropertyDef d = datetime(name, label);
    d.group = "meeting";
    s.push_back(d);
  }
  // The guide lists the outcomes as "scheduled, completed, rescheduled, no show, and canceled"
  // and its examples send "SCHEDULED"; the other internal values are inferred.
  PropertyDef outcome = enumeration("hs_meeting_outcome", "Meeting outcome", {"SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"});
  outcome.group = "meeting";
  s.push_back(outcome);
  return s;
}

// The deal properties revenue figures need (CONTRACT-ADDITIONS.md §6.2): amount as a number,
// the default pipeline's stages (§6.4), close date, owner, and HubSpot's closed / won flags.
std::vector<PropertyDef> deal_schema() {
  auto deal = [](PropertyDef d) {
    d.group = "dealinformation";
    return d;
  };
  std::vector<PropertyDef> s = {deal(text("dealname", "Deal Name")),
                                deal(number("amount", "Amount")),
                                deal(datetime("closedate", "Close Date")),
                                deal(datetime("createdate", "Create Date")),
                                deal(datetime("hs_lastmodifieddate", "Last Modified Date", true)),
                                deal(number("hs_object_id", "Record ID", true)),
                                deal(enumeration("pipeline", "Pipeline", {"default"}))};
  PropertyDef stage = deal(enumeration("dealstage", "Deal Stage", {}));
  stage.options = {{"appointmentscheduled", "Appointment Scheduled"}, {"qualifiedtobuy", "Qualified To Buy"},
                   {"presentationscheduled", "Presentation Scheduled"}, {"decisionmakerboughtin", "Decision Maker Bought-In"},
                   {"contractsent", "Contract Sent"}, {"closedwon", "Closed Won"}, {"closedlost", "Closed Lost"}};
  s.push_back(stage);
  // Calculated by HubSpot from the stage (read-only here, set when the stage is written).
  PropertyDef closed{"hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", {{"true", "Yes"}, {"false", "No"}}, true};
  PropertyDef won{"hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox", {{"true", "Yes"}, {"false", "No"}}, true};
  closed.group = won.group = "dealinformation";
  s.push_back(closed);
  s.push_back(won);
  PropertyDef owner = deal(enumeration("hubspot_owner_id", "Deal owner", {}));
  owner.owner_reference = true;
  s.push_back(owner);
  return s;
}

std::vector<PropertyDef> note_schema() {
  auto s = engagement_base("note");
  s.push_back(text("hs_note_body", "Note body", "note"));
  return s;
}

}  // namespace

namespace {

struct TypeNames {
  ObjectType type;
  std::string_view plural, singular, id;
};
constexpr TypeNames kTypeNames[] = {
    {ObjectType::kContact, "contacts", "contact", "0-1"}, {ObjectType::kTask, "tasks", "task", "0-27"},
    {ObjectType::kCall, "calls", "call", "0-48"},         {ObjectType::kEmail, "emails", "email", "0-49"},
    {ObjectType::kMeeting, "meetings", "meeting", "0-47"}, {ObjectType::kNote, "notes", "note", "0-46"},
    {ObjectType::kDeal, "deals", "deal", "0-3"},
};
const TypeNames& names_of(ObjectType t) { return kTypeNames[static_cast<int>(t)]; }

// (engagement type, engagement -> contact, contact -> engagement); contract §5.2.
struct ContactAssociation {
  ObjectType type;
  int to_contact, from_contact;
};
constexpr ContactAssociation kContactAssociations[] = {
    {ObjectType::kTask, kTaskToContact, kContactToTask},       {ObjectType::kCall, kCallToContact, kContactToCall},
    {ObjectType::kEmail, kEmailToContact, kContactToEmail},    {ObjectType::kMeeting, kMeetingToContact, kContactToMeeting},
    {ObjectType::kNote, kNoteToContact, kContactToNote},       {ObjectType::kDeal, kDealToContact, kContactToDeal},
};

}  // namespace

std::optional<ObjectType> parse_object_type(std::string_view s) {
  for (const auto& n : kTypeNames)
    if (s == n.plural || s == n.singular || s == n.id) return n.type;
  return std::nullopt;
}
std::string_view object_type_name(ObjectType t) { return names_of(t).plural; }
std::string_view object_type_id(ObjectType t) { return names_of(t).id; }
std::string_view object_type_singular(ObjectType t) { return names_of(t).singular; }

int association_type_id(ObjectType from, ObjectType to) {
  for (const auto& a : kContactAssociations) {
    if (from == a.type && to == ObjectType::kContact) return a.to_contact;
    if (from == ObjectType::kContact && to == a.type) return a.from_contact;
  }
  return 0;
}

std::optional<ObjectType> contact_association_target(int type_id) {
  for (const auto& a : kContactAssociations)
    if (a.from_contact == type_id) return a.type;
  return std::nullopt;
}

const char* created_property(ObjectType t) {
  return t == ObjectType::kContact || t == ObjectType::kDeal ? "createdate" : "hs_createdate";
}
const char* modified_property(ObjectType t) { return t == ObjectType::kContact ? "lastmodifieddate" : "hs_lastmodifieddate"; }

const std::vector<std::string>& default_properties(ObjectType t) {
  static const std::vector<std::string> contact = {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"};
  static const std::vector<std::string> activity = {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"};
  // A deal read without `properties` (CONTRACT-ADDITIONS.md §6.1; the stamps as observed).
  static const std::vector<std::string> deal = {"amount",    "closedate",        "createdate",          "dealname",
                                                "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"};
  return t == ObjectType::kContact ? contact : t == ObjectType::kDeal ? deal : activity;
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
  portal.schemas[static_cast<int>(ObjectType::kContact)] = contact_schema();
  portal.schemas[static_cast<int>(ObjectType::kTask)] = task_schema();
  portal.schemas[static_cast<int>(ObjectType::kCall)] = call_schema();
  portal.schemas[static_cast<int>(ObjectType::kEmail)] = email_schema();
  portal.schemas[static_cast<int>(ObjectType::kMeeting)] = meeting_schema();
  portal.schemas[static_cast<int>(ObjectType::kNote)] = note_schema();
  portal.schemas[static_cast<int>(ObjectType::kDeal)] = deal_schema();
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
                          : d.group == "call"             ? "Call information"
                          : d.group == "email"            ? "Email information"
                          : d.group == "meeting"          ? "Meeting information"
                          : d.group == "note"             ? "Note information"
                          : d.group == "dealinformation"  ? "Deal information"
                          : d.group == "custom"           ? "Custom properties"
                                                          : d.group;
      portal.groups[t].push_back({d.group, label, static_cast<int>(portal.groups[t].size())});
    }
  }
  return portal;
}

}  // namespace tandem::sandbox
