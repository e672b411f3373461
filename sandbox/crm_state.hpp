#pragma once
// The sandbox's in-memory CRM data: portals with their property schemas, owners, teams, contacts,
// tasks and associations. Not thread-safe: the router's mutex serialises access. Writes validate
// like HubSpot (contract §4-§6) and report the change events webhooks need.
//
// Defined across files by concern: crm_state.cpp (records and associations), crm_schema.cpp
// (built-in schemas, portal set-up), property_validation.cpp (what a write may contain),
// crm_seed.cpp (seed documents). state_snapshot.hpp saves and restores it with the OAuth grants.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/config.hpp"
#include "sandbox/property_map.hpp"
#include "sandbox/wire.hpp"

namespace tandem::sandbox {

// The values index per-type arrays and name the types in state snapshots: append, never renumber.
enum class ObjectType { kContact = 0, kTask = 1, kCall = 2, kEmail = 3, kMeeting = 4, kNote = 5, kDeal = 6 };
constexpr int kObjectTypeCount = 7;

// "contacts", "contact", "0-1" -> kContact; "tasks", "task", "0-27" -> kTask; calls 0-48,
// emails 0-49, meetings 0-47, notes 0-46, deals 0-3 (developers.hubspot.com/docs/api-reference/legacy/crm/understanding-the-crm).
std::optional<ObjectType> parse_object_type(std::string_view text);
std::string_view object_type_name(ObjectType t);      // "contacts", "tasks", "calls", ...
std::string_view object_type_id(ObjectType t);        // "0-1", "0-27", "0-48", ...
std::string_view object_type_singular(ObjectType t);  // "contact", "task", "call", ...
// Calls, emails, meetings and notes: the activities a rep logs (tasks are activities too but
// are to-dos, not something that happened).
constexpr bool is_engagement(ObjectType t) {
  return t == ObjectType::kCall || t == ObjectType::kEmail || t == ObjectType::kMeeting || t == ObjectType::kNote;
}
// The properties HubSpot stamps on every record: "createdate" / "hs_createdate" and
// "lastmodifieddate" / "hs_lastmodifieddate".
const char* created_property(ObjectType t);
const char* modified_property(ObjectType t);

// HUBSPOT_DEFINED association type ids (contract §5.2; developers.hubspot.com/docs/api-reference/
// latest/crm/associations/associate-records/guide, "Association type ID values"): between a
// contact and its tasks and engagements, the only associations the sandbox has.
constexpr int kTaskToContact = 204;
constexpr int kContactToTask = 203;
constexpr int kCallToContact = 194;
constexpr int kContactToCall = 193;
constexpr int kEmailToContact = 198;
constexpr int kContactToEmail = 197;
constexpr int kMeetingToContact = 200;
constexpr int kContactToMeeting = 199;
constexpr int kNoteToContact = 202;
constexpr int kContactToNote = 201;
// Deals and their contacts (CONTRACT-ADDITIONS.md §6.3).
constexpr int kDealToContact = 3;
constexpr int kContactToDeal = 4;
// The HUBSPOT_DEFINED type id from `from` to `to`; 0 when the sandbox has no such association.
int association_type_id(ObjectType from, ObjectType to);
// The object type a contact's association type id leads to (203 -> tasks, 193 -> calls, ...).
std::optional<ObjectType> contact_association_target(int type_id);

struct PropertyDef {
  std::string name;
  std::string label;
  std::string type;        // string | number | datetime | date | bool | enumeration
  std::string field_type;  // text | number | date | booleancheckbox | select | radio | calculation_read_time
  std::vector<std::pair<std::string, std::string>> options;  // value, label
  bool read_only = false;
  bool owner_reference = false;  // options are the portal's owner ids
  std::string group = "contactinformation";
  std::string description;
  // Created through POST .../properties/{type}: kept in state snapshots (built-in and configured
  // properties come back from the configuration instead).
  bool api_created = false;
  bool calculated = false;  // fieldType calculation_equation; the sandbox evaluates no formula
  bool hidden = false;
  bool form_field = false;  // only for api_created; built-ins are form fields unless read-only
  int display_order = -1;
  std::int64_t created_ms = 0;  // 0 = built in or configured
};

struct PropertyGroupDef {
  std::string name;
  std::string label;
  int display_order = -1;
  bool api_created = false;  // as PropertyDef::api_created
};

// One value a property had, as `propertiesWithHistory` returns it (ValueWithTimestamp).
struct PropertyVersion {
  std::string value;  // "" when the write cleared the property
  std::int64_t timestamp_ms = 0;
  std::string source_type;        // INTEGRATION, CRM_UI, ENGAGEMENTS, ...
  std::string source_id;          // the app id, "userId:<id>", "ObjectPropertyUpdater", ...
  std::int64_t updated_by_user_id = 0;  // 0 = none
};
// Versions kept per property (HubSpot's own limit is not documented).
constexpr std::size_t kHistoryLimit = 20;

struct CrmObject {
  std::int64_t id = 0;
  PropertyMap props;
  // Per property, oldest first, at most kHistoryLimit versions. Not kept for the modified-date
  // stamp, which changes on every write.
  std::map<std::string, std::vector<PropertyVersion>, std::less<>> history;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  bool archived = false;
  std::int64_t archived_ms = 0;
  // Search sees a write only after limits.searchIndexDelayMs ("a few moments", contract §4.2);
  // until `search_visible_ms` it sees `search_props` (nullopt = not indexed yet: a new record is
  // absent from search). A write before the previous one became visible restarts the wait and
  // keeps the older indexed state. Reads by id stay immediately consistent.
  std::optional<PropertyMap> search_props;
  std::int64_t search_visible_ms = 0;
};

struct AssociationEdge {
  ObjectType to_type;
  std::int64_t to_id;
  int type_id;
  std::string category = "HUBSPOT_DEFINED";
};

struct ApiError {
  int status = 400;
  json body;  // HubSpot's error body
};

struct ChangeEvent {
  enum class Kind { kCreation, kPropertyChange, kDeletion, kMerge };
  Kind kind;
  std::int64_t portal_id;
  ObjectType object_type;
  std::int64_t object_id;
  std::string property_name;
  std::string property_value;
  std::int64_t occurred_ms;
  std::string change_source;  // INTEGRATION for API writes, CRM_UI for seeds/inspection writes
  std::string source_id;
  // kMerge: object_id is the surviving (primary) record.
  std::vector<std::int64_t> merged_ids;
  int properties_moved = 0;
};

struct WriteSource {
  std::string change_source = "INTEGRATION";
  std::string source_id;  // the writing app's id
};

struct AssociationInput {
  ObjectType to_type;
  std::int64_t to_id;
  int type_id;
  std::string category;
};

struct Portal {
  PortalConfig config;
  std::vector<OwnerConfig> owners;
  std::vector<TeamConfig> teams;
  std::array<std::vector<PropertyDef>, kObjectTypeCount> schemas;
  std::array<std::vector<PropertyGroupDef>, kObjectTypeCount> groups;
  std::array<std::map<std::int64_t, CrmObject>, kObjectTypeCount> objects;
  std::unordered_map<std::string, std::int64_t> email_index;  // lowercase email -> live contact id
  std::map<std::pair<int, std::int64_t>, std::vector<AssociationEdge>> associations;
  // Contacts merged away -> the contact they were merged into (possibly merged again since).
  std::map<std::int64_t, std::int64_t> merged_into;
  std::int64_t next_id = 1001;

  std::array<std::unordered_map<std::string, std::size_t>, kObjectTypeCount> schema_index;
  [[nodiscard]] const PropertyDef* property(ObjectType t, std::string_view name) const;
  [[nodiscard]] const PropertyGroupDef* group(ObjectType t, std::string_view name) const;
  // Appends to the schema and its index, so that writes accept the property at once. The name
  // must be new.
  void add_property(ObjectType t, PropertyDef d);
  [[nodiscard]] const OwnerConfig* owner(std::string_view id) const;
};

class CrmState {
 public:
  explicit CrmState(const SandboxConfig& config);

  [[nodiscard]] Portal* portal(std::int64_t id);
  [[nodiscard]] Portal& default_portal() { return portals_.begin()->second; }
  [[nodiscard]] const std::map<std::int64_t, Portal>& portals() const { return portals_; }

  // --- CRM. `now_ms` stamps createdate/lastmodifieddate; events are appended to `events`.
  std::variant<const CrmObject*, ApiError> create(Portal& p, ObjectType t, const json& properties,
                                                  const std::vector<AssociationInput>& associations, std::int64_t now_ms,
                                                  const WriteSource& source, std::vector<ChangeEvent>& events);
  // Validates without writing (batch create checks every input before applying any).
  std::optional<ApiError> validate_create(const Portal& p, ObjectType t, const json& properties,
                                          const std::vector<AssociationInput>& associations) const;
  std::variant<const CrmObject*, ApiError> update(Portal& p, ObjectType t, std::int64_t id, const json& properties,
                                                  std::int64_t now_ms, const WriteSource& source,
                                                  std::vector<ChangeEvent>& events);
  std::optional<ApiError> validate_update(const Portal& p, ObjectType t, std::int64_t id, const json& properties) const;
  // Archives (soft-deletes) and removes the record's associations. False when absent.
  bool archive(Portal& p, ObjectType t, std::int64_t id, std::int64_t now_ms, const WriteSource& source,
               std::vector<ChangeEvent>& events);

  // POST …/contacts/merge (CONTRACT-ADDITIONS.md §4): `merged_id`'s properties fill the
  // primary's empty ones, its associations and history move to the primary, it disappears and
  // its id (and email) resolve to the primary from then on. One kMerge event.
  std::variant<const CrmObject*, ApiError> merge_contacts(Portal& p, std::int64_t primary_id, std::int64_t merged_id,
                                                          std::int64_t now_ms, const WriteSource& source,
                                                          std::vector<ChangeEvent>& events);

  // Finds a live record by id, or by a unique property ("email", "hs_object_id"). The id of a
  // contact merged into another finds the one it was merged into.
  [[nodiscard]] const CrmObject* find(const Portal& p, ObjectType t, std::string_view id, std::string_view id_property,
                                      bool archived = false) const;

  std::optional<ApiError> associate(Portal& p, ObjectType from, std::int64_t from_id, const AssociationInput& a);
  void dissociate(Portal& p, ObjectType from, std::int64_t from_id, ObjectType to, std::int64_t to_id);
  [[nodiscard]] const std::vector<AssociationEdge>* associations(const Portal& p, ObjectType t, std::int64_t id) const;
  // After the routes associate or dissociate two records: a contact's activity roll-ups
  // (crm_rollups.cpp) follow its tasks and engagements.
  void after_association_change(Portal& p, ObjectType a, std::int64_t a_id, ObjectType b, std::int64_t b_id,
                                std::int64_t now_ms, std::vector<ChangeEvent>& events);
  // {"name": [{value, timestamp, sourceType, sourceId?, updatedByUserId?}, ...newest first]} for
  // the requested properties the schema knows.
  [[nodiscard]] json history_json(const Portal& p, ObjectType t, const CrmObject& o, const std::vector<std::string>& names) const;

  // SimplePublicObject JSON. `requested` empty = the object type's default properties.
  [[nodiscard]] json to_public(const Portal& p, ObjectType t, const CrmObject& o, const std::vector<std::string>& requested,
                               bool all_set = false) const;

  // --- restoring a snapshot (state_snapshot.cpp)
  // The portal `id` as configured (or with default settings when the configuration does not
  // name it), with its schemas and no records.
  [[nodiscard]] Portal empty_portal(std::int64_t id) const;
  // Replaces every portal; `portals` must not be empty.
  void replace_portals(std::map<std::int64_t, Portal> portals);
  [[nodiscard]] int search_index_delay_ms() const { return config_.limits.search_index_delay_ms; }
  void set_search_index_delay_ms(int ms) { config_.limits.search_index_delay_ms = ms; }

  // --- seeding (crm_seed.cpp)
  // Seed file: {"owners":[...], "teams":[...], "contacts":[{"id"?,"properties":{...},"createdAt"?}], "tasks":[...],
  // "generateContacts": N}. Writes through validation but emits no webhooks. Returns counts or an error.
  std::variant<json, ApiError> seed(Portal& p, const json& seed, std::int64_t now_ms);

  std::string lifecycle_backwards = "ignore";
  std::string default_lifecycle_stage = "lead";

 private:
  std::optional<ApiError> validate_create(const Portal& p, ObjectType t, const json& properties,
                                          const std::vector<AssociationInput>& associations,
                                          std::map<std::string, std::string>& normalised) const;
  std::optional<ApiError> check_properties(const Portal& p, ObjectType t, const json& properties, const CrmObject* existing,
                                           std::map<std::string, std::string>& normalised) const;

  // Appends a version of `name` to o's history, dropping the oldest beyond kHistoryLimit.
  static void record_version(CrmObject& o, std::string_view name, const std::string& value, std::int64_t ms,
                             const WriteSource& source);
  // Before a write changes `o`: what search sees stays the old state until the write is indexed.
  void begin_write(CrmObject& o, std::int64_t now_ms) const;
  // Recomputes a contact's activity roll-ups from its live engagements and tasks and writes the
  // ones that changed as HubSpot's own (changeSource ENGAGEMENTS). No-op while seeding.
  void refresh_rollups(Portal& p, std::int64_t contact_id, std::int64_t now_ms, std::vector<ChangeEvent>& events);
  // refresh_rollups for the contact itself, or for every contact a task or engagement is associated with.
  void refresh_related(Portal& p, ObjectType t, std::int64_t id, std::int64_t now_ms, std::vector<ChangeEvent>& events);

  SandboxConfig config_;
  std::map<std::int64_t, Portal> portals_;
  bool seeding_ = false;  // seeds may set read-only properties
};

// A portal as configured: its settings, owners, teams and schemas (built-in plus custom
// properties), no records.
Portal build_portal(const PortalConfig& cfg);
// A property value sent as JSON, as the text HubSpot stores ("" for null); nullopt for arrays
// and objects.
std::optional<std::string> value_as_string(const json& v);
// Default contact properties returned when none are requested (contract §4).
const std::vector<std::string>& default_properties(ObjectType t);
int lifecycle_rank(std::string_view stage);
// {"status":"error",...} object for a missing record, 404.
ApiError not_found_error(std::string_view id);

}  // namespace tandem::sandbox
