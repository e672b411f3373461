// Batch routes on records (contract §4): read, create, update, upsert and archive of at most
// `limits.batchMax` inputs; all or nothing unless every input carries an objectWriteTraceId, in
// which case failed inputs come back in a 207 multi-status.

#include <set>

#include "sandbox/crm_routes.hpp"

namespace tandem::sandbox {

namespace {

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

std::vector<std::string> string_list(const json& body, const char* key) {
  std::vector<std::string> out;
  if (!body.contains(key)) return out;
  for (const auto& v : body.at(key)) out.push_back(v.get<std::string>());
  return out;
}

class BatchRoutes : public CrmCall {
 public:
  using CrmCall::CrmCall;

  std::optional<http::Response> route(ObjectType t, const std::string& op) {
    if (auto e = require_object_scope(c_, t, op != "read")) return e;
    if (op == "read") return batch_read(t);
    if (op == "create") return batch_create(t);
    if (op == "update") return batch_update(t);
    if (op == "upsert") return batch_upsert(t);
    if (op == "archive") return batch_archive(t);
    return std::nullopt;
  }

 private:
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


  http::Response batch_read(ObjectType t) {
    json body;
    if (auto e = body_or_error(body)) return std::move(*e);
    if (auto e = check_batch_size(body)) return std::move(*e);
    auto props = string_list(body, "properties");
    auto with_history = string_list(body, "propertiesWithHistory");
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
      if (!with_history.empty()) j["propertiesWithHistory"] = s_.crm.history_json(p_, t, *o, with_history);
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
};

}  // namespace

std::optional<http::Response> serve_object_batch(SandboxRouter& s, ApiContext& c, ObjectType t, const std::string& op) {
  return BatchRoutes(s, c).route(t, op);
}

}  // namespace tandem::sandbox
