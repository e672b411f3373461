// What a CRM write may contain (contract §4): known, writable properties, values of the
// property's type and options, valid emails, unique emails, the forward-only lifecycle stage,
// required properties per object type and valid HUBSPOT_DEFINED associations.

#include <charconv>
#include <cmath>

#include "sandbox/crm_state.hpp"

namespace tandem::sandbox {

namespace {

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

}  // namespace

std::optional<std::string> value_as_string(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return std::string{};
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number_float()) return v.dump();
  return std::nullopt;
}

std::optional<ApiError> CrmState::check_properties(const Portal& p, ObjectType t, const json& properties,
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
          // A checkbox (multiple choice) value is its chosen options joined with ";", as HubSpot
          // stores multi-select values.
          auto is_option = [&](std::string_view x) {
            for (const auto& [ov, ol] : def->options)
              if (ov == x) return true;
            return false;
          };
          if (def->field_type == "checkbox") {
            ok = true;
            for (std::size_t at = 0; at <= v.size();) {
              std::size_t end = v.find(';', at);
              if (end == std::string::npos) end = v.size();
              ok = ok && is_option(std::string_view(v).substr(at, end - at));
              at = end + 1;
            }
          } else {
            ok = is_option(v);
          }
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
      // "The note's text content, limited to 65,536 characters" (notes guide, "Properties").
      if (t == ObjectType::kNote && name == "hs_note_body" && v.size() > 65'536) {
        errors.push_back({name, "INVALID_PROPERTY_VALUE", "hs_note_body is longer than 65,536 characters"});
        continue;
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

std::optional<ApiError> CrmState::validate_create(const Portal& p, ObjectType t, const json& properties,
                                               const std::vector<AssociationInput>& associations) const {
  std::map<std::string, std::string> props;
  return validate_create(p, t, properties, associations, props);
}

std::optional<ApiError> CrmState::validate_create(const Portal& p, ObjectType t, const json& properties,
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
  } else if (t == ObjectType::kDeal) {
    // What HubSpot does with a deal created without a name or a stage is UNCONFIRMED
    // (CONTRACT-ADDITIONS.md §6.1): the strictest reading, both required, as in HubSpot's forms.
    for (const char* name : {"dealname", "dealstage"}) {
      auto it = props.find(name);
      if (it == props.end() || it->second.empty())
        return ApiError{400, property_errors_body({{name, "REQUIRED_PROPERTY", std::string("Property \"") + name + "\" is required"}})};
    }
  } else {
    auto it = props.find("hs_timestamp");
    // A meeting without hs_timestamp takes hs_meeting_start_time (meetings guide, "Properties").
    if (t == ObjectType::kMeeting && (it == props.end() || it->second.empty())) {
      if (auto start = props.find("hs_meeting_start_time"); start != props.end() && !start->second.empty()) it = start;
    }
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
    int expected = association_type_id(t, a.to_type);
    bool ok = expected != 0 && a.type_id == expected;
    if (!ok || (a.category != "HUBSPOT_DEFINED")) {
      return ApiError{400, error_body("VALIDATION_ERROR", "invalid association type " + a.category + "/" + std::to_string(a.type_id) +
                                                              " from " + std::string(object_type_name(t)) + " to " +
                                                              std::string(object_type_name(a.to_type)))};
    }
  }
  return std::nullopt;
}

std::optional<ApiError> CrmState::validate_update(const Portal& p, ObjectType t, std::int64_t id, const json& properties) const {
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

}  // namespace tandem::sandbox
