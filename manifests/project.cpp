#include "manifests/project.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tandem::manifests {

using ordered = nlohmann::ordered_json;

namespace {

constexpr const char* kProjectFile = "hsproject.json";
constexpr const char* kAppFile = "src/app/app-hsmeta.json";
constexpr const char* kWebhooksFile = "src/app/webhooks/webhooks-hsmeta.json";

// Why Tandem asks for each scope it knows (contract §9.3). A scope not listed here may still be
// configured (an admin's own reason); the generator writes whatever the configuration says.
//   oauth                          the base scope: account details (time zone) and the uninstall API
//   crm.objects.contacts.read      reading and searching contacts and their properties; HubSpot
//                                  sends no contact webhook to an app without it
//   crm.objects.contacts.write     lifecycle stage, lead status and Tandem's properties; tasks
//                                  (HubSpot's tasks API takes the contacts scopes)
//   crm.objects.owners.read        the owners tasks are assigned to, and their managers
//   crm.schemas.contacts.write     creating Tandem's property group and contact properties on connect
//   settings.users.teams.read      (optional) teams, for routing hand-offs to a team's manager
//   crm.objects.companies.read     (optional) a contact's company, for rules on company properties
const std::vector<std::string> kNeededScopes = {"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write",
                                                "crm.objects.owners.read", "crm.schemas.contacts.write"};

// The contact events every Tandem needs besides property changes: a new contact, one deleted,
// merged (the surviving id takes over the state) and restored. All are object.* subscriptions,
// which the intake (webhooks/event.cpp) reads.
const std::vector<std::string> kContactEvents = {"object.creation", "object.deletion", "object.merge", "object.restore"};

std::string dump(const ordered& j) { return j.dump(2) + "\n"; }

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::optional<std::string> read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int line_of(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  if (at == std::string::npos) return 0;
  return static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n')) + 1;
}

std::set<std::string> strings_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* node = &j;
  for (const char* k : path) {
    if (!node->is_object() || !node->contains(k)) return {};
    node = &node->at(k);
  }
  std::set<std::string> out;
  if (node->is_array())
    for (const auto& v : *node)
      if (v.is_string()) out.insert(v.get<std::string>());
  return out;
}

std::string value_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* node = &j;
  for (const char* k : path) {
    if (!node->is_object() || !node->contains(k)) return {};
    node = &node->at(k);
  }
  return node->is_string() ? node->get<std::string>() : node->dump();
}

}  // namespace

void check_input(const ProjectInput& input, const std::string& config_file, Diagnostics& d) {
  for (const auto& s : kNeededScopes)
    if (std::find(input.required_scopes.begin(), input.required_scopes.end(), s) == input.required_scopes.end())
      d.error(config_file, 0, 0, "hubspot.scopes: '" + s + "' is missing; Tandem cannot work without it (see the README's scope list)");
  if (input.redirect_urls.empty() || input.redirect_urls.front().empty())
    d.error(config_file, 0, 0, "hubspot.redirect_url: empty; HubSpot needs the URL it sends installing admins back to");
  for (const auto& u : input.redirect_urls) {
    const bool local = u.rfind("http://localhost", 0) == 0;
    if (u.rfind("https://", 0) != 0 && !local)
      d.warning(config_file, 0, 0, "hubspot.redirect_url: " + u + " is not https; HubSpot accepts http only for localhost");
  }
  if (input.webhook_target_url.rfind("https://", 0) != 0)
    d.warning(config_file, 0, 0, "server.public_url: the webhook URL " + input.webhook_target_url +
                                     " is not https; HubSpot delivers webhooks to a public https URL");
}

std::map<std::string, std::string> generate_project(const ProjectInput& in) {
  std::map<std::string, std::string> files;
  files[kProjectFile] = dump(ordered{{"name", in.manifest.project_name}, {"srcDir", "src"}, {"platformVersion", kPlatformVersion}});

  ordered support = ordered::object();
  if (!in.manifest.support_email.empty()) support["supportEmail"] = in.manifest.support_email;
  if (!in.manifest.documentation_url.empty()) support["documentationUrl"] = in.manifest.documentation_url;
  if (!in.manifest.support_url.empty()) support["supportUrl"] = in.manifest.support_url;
  if (!in.manifest.support_phone.empty()) support["supportPhone"] = in.manifest.support_phone;
  ordered app{{"uid", in.manifest.app_uid},
              {"type", "app"},
              {"config",
               {{"description", in.manifest.description},
                {"name", in.manifest.app_name},
                {"distribution", "marketplace"},
                {"auth",
                 {{"type", "oauth"},
                  {"redirectUrls", in.redirect_urls},
                  {"requiredScopes", in.required_scopes},
                  {"optionalScopes", in.optional_scopes},
                  {"conditionallyRequiredScopes", ordered::array()}}},
                {"permittedUrls", {{"fetch", {"https://api.hubapi.com"}}, {"iframe", ordered::array()}, {"img", ordered::array()}}},
                {"support", support}}}};
  files[kAppFile] = dump(app);

  ordered crm = ordered::array();
  for (const auto& e : kContactEvents) crm.push_back(ordered{{"subscriptionType", e}, {"objectType", "contact"}, {"active", true}});
  for (const auto& p : sorted_unique(in.properties))
    crm.push_back(ordered{{"subscriptionType", "object.propertyChange"}, {"objectType", "contact"}, {"propertyName", p}, {"active", true}});
  ordered webhooks{{"uid", "webhooks"},
                   {"type", "webhooks"},
                   {"config",
                    {{"settings", {{"targetUrl", in.webhook_target_url}, {"maxConcurrentRequests", in.manifest.max_concurrent_requests}}},
                     {"subscriptions", {{"crmObjects", crm}}}}}};
  files[kWebhooksFile] = dump(webhooks);
  return files;
}

Diagnostics check_project(const std::string& dir, const ProjectInput& input) {
  Diagnostics d;
  const auto want = generate_project(input);
  std::map<std::string, std::pair<std::string, nlohmann::json>> have;
  for (const auto& [rel, text] : want) {
    const auto path = (std::filesystem::path(dir) / rel).string();
    auto t = read_text(std::filesystem::path(dir) / rel);
    if (!t) {
      d.error(path, 0, 0, "missing (tandem manifest --out " + dir + " writes it)");
      continue;
    }
    auto j = nlohmann::json::parse(*t, nullptr, false);
    if (j.is_discarded()) {
      d.error(path, 0, 0, "is not valid JSON");
      continue;
    }
    have[rel] = {*t, j};
  }
  auto file = [&](const char* rel) { return (std::filesystem::path(dir) / rel).string(); };
  auto want_json = [&](const char* rel) { return nlohmann::json::parse(want.at(rel)); };

  if (auto it = have.find(kProjectFile); it != have.end()) {
    auto w = want_json(kProjectFile);
    for (const char* k : {"name", "srcDir", "platformVersion"})
      if (value_at(it->second.second, {k}) != value_at(w, {k}))
        d.error(file(kProjectFile), line_of(it->second.first, std::string("\"") + k + "\""), 0,
                std::string(k) + " is " + value_at(it->second.second, {k}) + ", expected " + value_at(w, {k}));
  }
  if (auto it = have.find(kAppFile); it != have.end()) {
    const auto& [text, j] = it->second;
    auto w = want_json(kAppFile);
    auto compare_set = [&](const char* key, const std::string& what, const std::string& from) {
      auto h = strings_at(j, {"config", "auth", key});
      auto e = strings_at(w, {"config", "auth", key});
      for (const auto& s : e)
        if (!h.contains(s)) d.error(file(kAppFile), line_of(text, std::string("\"") + key + "\""), 0, "no " + what + " '" + s + "', which " + from + " has");
      for (const auto& s : h)
        if (!e.contains(s))
          d.error(file(kAppFile), line_of(text, "\"" + s + "\""), 0, what + " '" + s + "' is not in " + from);
    };
    compare_set("requiredScopes", "required scope", "hubspot.scopes");
    compare_set("optionalScopes", "optional scope", "hubspot.optional_scopes");
    compare_set("redirectUrls", "redirect URL", "hubspot.redirect_url");
    for (auto path : {std::vector<const char*>{"config", "distribution"}, std::vector<const char*>{"config", "auth", "type"}}) {
      std::string h = path.size() == 2 ? value_at(j, {path[0], path[1]}) : value_at(j, {path[0], path[1], path[2]});
      std::string e = path.size() == 2 ? value_at(w, {path[0], path[1]}) : value_at(w, {path[0], path[1], path[2]});
      if (h != e) d.error(file(kAppFile), line_of(text, std::string("\"") + path.back() + "\""), 0, std::string(path.back()) + " is " + h + ", expected " + e);
    }
  }
  if (auto it = have.find(kWebhooksFile); it != have.end()) {
    const auto& [text, j] = it->second;
    auto w = want_json(kWebhooksFile);
    std::string h_url = value_at(j, {"config", "settings", "targetUrl"}), e_url = value_at(w, {"config", "settings", "targetUrl"});
    if (h_url != e_url)
      d.error(file(kWebhooksFile), line_of(text, "\"targetUrl\""), 0,
              "targetUrl is " + h_url + ", but Tandem receives webhooks at " + e_url + " (server.public_url + webhooks.path)");
    std::string h_max = value_at(j, {"config", "settings", "maxConcurrentRequests"});
    std::string e_max = value_at(w, {"config", "settings", "maxConcurrentRequests"});
    if (h_max != e_max)
      d.error(file(kWebhooksFile), line_of(text, "\"maxConcurrentRequests\""), 0,
              "maxConcurrentRequests is " + h_max + ", expected " + e_max + " (manifest.max_concurrent_requests)");
    // Subscriptions, by what they subscribe to.
    auto subs = [](const nlohmann::json& doc, bool active_only) {
      std::map<std::string, bool> out;  // "type|property" -> active
      const auto* list = &doc;
      for (const char* k : {"config", "subscriptions", "crmObjects"}) {
        if (!list->is_object() || !list->contains(k)) return out;
        list = &list->at(k);
      }
      if (!list->is_array()) return out;
      for (const auto& s : *list) {
        if (!s.is_object() || s.value("objectType", "") != "contact") continue;
        bool active = s.value("active", true);
        if (active_only && !active) continue;
        out[s.value("subscriptionType", "") + "|" + s.value("propertyName", "")] = active;
      }
      return out;
    };
    auto h = subs(j, false);
    auto e = subs(w, false);
    auto describe = [](const std::string& key) {
      auto bar = key.find('|');
      std::string type = key.substr(0, bar), prop = key.substr(bar + 1);
      return prop.empty() ? type + " subscription" : "propertyChange subscription for '" + prop + "'";
    };
    for (const auto& [key, active] : e) {
      auto found = h.find(key);
      const std::string prop = key.substr(key.find('|') + 1);
      const std::string why = prop.empty() ? "Tandem needs" : input.rules_file + " reads";
      if (found == h.end())
        d.error(file(kWebhooksFile), line_of(text, "\"crmObjects\""), 0, "no " + describe(key) + ", which " + why);
      else if (!found->second)
        d.error(file(kWebhooksFile), line_of(text, prop.empty() ? key.substr(0, key.find('|')) : "\"" + prop + "\""), 0,
                "the " + describe(key) + " is inactive, but " + why + " it");
    }
    for (const auto& [key, active] : h)
      if (!e.contains(key)) {
        const std::string prop = key.substr(key.find('|') + 1);
        d.error(file(kWebhooksFile), line_of(text, prop.empty() ? key.substr(0, key.find('|')) : "\"" + prop + "\""), 0,
                "the " + describe(key) + " is not needed: " + (prop.empty() ? std::string("Tandem does not use it") : input.rules_file + " does not read it"));
      }
  }
  return d;
}

}  // namespace tandem::manifests
