// Seed documents (POST /_sandbox/seed, SandboxServer::seed): owners, teams, contacts, tasks and engagements
// written through validation without webhooks, and synthetic contacts for benchmarks.

#include <algorithm>
#include <charconv>

#include "sandbox/crm_state.hpp"

namespace tandem::sandbox {

std::variant<json, ApiError> CrmState::seed(Portal& p, const json& seed, std::int64_t now_ms) {
  if (!seed.is_object()) return ApiError{400, error_body("VALIDATION_ERROR", "seed must be a JSON object")};
  static const std::vector<std::string> kKeys = {"owners", "teams", "contacts", "tasks", "calls", "emails", "meetings", "notes",
                                                 "generateContacts"};
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
      if (t != ObjectType::kContact) {
        for (const auto& cid : item.value("contactIds", json::array())) {
          auto s = value_as_string(cid);
          std::int64_t id = 0;
          if (s) std::from_chars(s->data(), s->data() + s->size(), id);
          assoc.push_back({ObjectType::kContact, id, association_type_id(t, ObjectType::kContact), "HUBSPOT_DEFINED"});
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
  json engagements = json::object();
  for (ObjectType t : {ObjectType::kCall, ObjectType::kEmail, ObjectType::kMeeting, ObjectType::kNote}) {
    std::string key(object_type_name(t));
    if (auto e = load(t, seed.value(key, json::array()))) return *e;
    if (seed.contains(key)) engagements[key] = seed.at(key).size();
  }
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
  json counts = {{"owners", owners}, {"teams", teams}, {"contacts", contacts}, {"tasks", tasks}};
  counts.update(engagements);
  return counts;
}

}  // namespace tandem::sandbox
