#pragma once
// HubSpot's payloads, one small struct each, with from_json/to_json at the edge (STYLE.md).
// Wire formats: ../shared/hubspot-contract.md §4 (contacts), §5 (tasks, associations), §6
// (owners), §8 (errors); the properties API and account details as the sandbox answers them.
// Ids are strings on the wire for objects, numbers for association v4 ids: both are kept as text.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tandem::hubspot {

// SimplePublicObject: a contact or a task. Properties requested but unset come back as null.
struct CrmObject {
  std::string id;
  std::map<std::string, std::optional<std::string>> properties;
  std::string created_at;  // ISO-8601 as sent
  std::string updated_at;
  bool archived = false;
  std::string object_write_trace_id;  // echoed by batch create when the input carried one
};

// One input of a batch create (tasks) with its associations.
struct AssociationType {
  std::string category = "HUBSPOT_DEFINED";  // HUBSPOT_DEFINED | USER_DEFINED | INTEGRATOR_DEFINED
  int type_id = 0;                           // e.g. 204 task→contact (contract §5.2)
};
struct AssociationTarget {
  std::string to_id;
  std::vector<AssociationType> types;
};
struct CreateInput {
  std::map<std::string, std::string> properties;
  std::vector<AssociationTarget> associations;
  std::string object_write_trace_id;  // unique per input: enables 207 (contract §4, D-ERR)
};
struct UpdateInput {
  std::string id;
  std::map<std::string, std::string> properties;
  std::string object_write_trace_id;
};

// StandardError inside a 207 batch response, and the body of an error response (contract §8).
struct ErrorDetail {
  std::string message;
  std::string code;  // e.g. PROPERTY_DOESNT_EXIST
  std::map<std::string, std::vector<std::string>> context;
};
struct ApiErrorBody {
  std::string status;
  std::string message;
  std::string correlation_id;
  std::string category;      // VALIDATION_ERROR, RATE_LIMIT, EXPIRED_AUTHENTICATION, ...
  std::string policy_name;   // 429: TEN_SECONDLY_ROLLING | SECONDLY | DAILY
  std::string error_type;    // 429: RATE_LIMIT
  std::map<std::string, std::vector<std::string>> context;  // 207 errors: objectWriteTraceId, ids
  std::vector<ErrorDetail> errors;
};

// A batch response: 200/201 with every result, or 207 with some errors.
struct BatchResult {
  std::string status;  // COMPLETE ...
  std::vector<CrmObject> results;
  std::vector<ApiErrorBody> errors;
};

// Search (contract §4.2).
struct Filter {
  std::string property_name;
  std::string op;  // EQ, NEQ, LT, GT, IN, HAS_PROPERTY ...
  std::optional<std::string> value;
  std::optional<std::string> high_value;
  std::vector<std::string> values;
};
struct FilterGroup {
  std::vector<Filter> filters;
};
struct Sort {
  std::string property_name;
  std::string direction = "ASCENDING";
};
struct SearchRequest {
  std::vector<FilterGroup> filter_groups;
  std::vector<std::string> properties;
  std::vector<Sort> sorts;
  int limit = 100;
  std::string after;  // empty: first page
  std::string query;
};
struct SearchPage {
  std::int64_t total = 0;
  std::vector<CrmObject> results;
  std::string next_after;  // empty: last page
};
// A page of a list call (owners, a record's associations).
template <class T>
struct Page {
  std::vector<T> results;
  std::string next_after;  // empty: last page
};

// Associations v4: one associated record.
struct AssociatedId {
  std::string to_object_id;
  std::vector<AssociationType> types;
};
// One input of a v4 batch association create.
struct AssociationInput {
  std::string from_id;
  std::string to_id;
  std::vector<AssociationType> types;
};

// Owners (contract §6).
struct OwnerTeam {
  std::string id;
  std::string name;
  bool primary = false;
};
struct Owner {
  std::string id;  // the value for hubspot_owner_id
  std::string email;
  std::string type;  // PERSON | QUEUE
  std::string first_name;
  std::string last_name;
  std::optional<std::int64_t> user_id;
  bool archived = false;
  std::vector<OwnerTeam> teams;
};

// Properties API.
struct PropertyOption {
  std::string label;
  std::string value;
  int display_order = 0;
  bool hidden = false;
};
struct PropertyDefinition {
  std::string name;
  std::string label;
  std::string type;        // string | number | datetime | date | enumeration | bool
  std::string field_type;  // text | textarea | number | date | select | booleancheckbox ...
  std::string group_name;
  std::string description;
  std::vector<PropertyOption> options;
};
struct PropertyGroup {
  std::string name;
  std::string label;
  int display_order = -1;
};

// GET /account-info/{version}/details.
struct AccountDetails {
  std::int64_t portal_id = 0;
  std::string time_zone;  // IANA name, e.g. America/New_York
  std::string ui_domain;
  std::string data_hosting_location;
};

void from_json(const nlohmann::json& j, CrmObject& v);
void from_json(const nlohmann::json& j, ApiErrorBody& v);
void from_json(const nlohmann::json& j, BatchResult& v);
void from_json(const nlohmann::json& j, SearchPage& v);
void from_json(const nlohmann::json& j, AssociationType& v);
void from_json(const nlohmann::json& j, AssociatedId& v);
void from_json(const nlohmann::json& j, Owner& v);
void from_json(const nlohmann::json& j, PropertyDefinition& v);
void from_json(const nlohmann::json& j, PropertyGroup& v);
void from_json(const nlohmann::json& j, AccountDetails& v);
void to_json(nlohmann::json& j, const AssociationType& v);
void to_json(nlohmann::json& j, const CreateInput& v);
void to_json(nlohmann::json& j, const UpdateInput& v);
void to_json(nlohmann::json& j, const SearchRequest& v);
void to_json(nlohmann::json& j, const AssociationInput& v);
void to_json(nlohmann::json& j, const PropertyDefinition& v);
void to_json(nlohmann::json& j, const PropertyGroup& v);

}  // namespace tandem::hubspot
