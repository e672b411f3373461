// The HubSpot project generator and checker: the files' shape, subscriptions that follow the
// rules, the checker's report, and the committed example kept equal to what the generator writes.

#include <algorithm>
#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/config.hpp"
#include "connector/config.hpp"
#include "manifests/project.hpp"
#include "rules/ruleset.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

using nlohmann::json;
using tandem::manifests::ProjectInput;

namespace {

const std::string kRules = R"(version: "t1"
stages: [subscriber, lead, marketingqualifiedlead, salesqualifiedlead]
fit:
  range: [0, 100]
  rules:
    - name: Size
      when: numberofemployees between 50 and 5000
      points: 50
qualify:
  - name: Known
    when: email is present and fit >= 20
    stage: lead
)";

ProjectInput input_for(const std::string& rules_text) {
  auto compiled = tandem::rules::compile_ruleset("rules.yaml", rules_text);
  REQUIRE(compiled.ruleset);
  ProjectInput in;
  in.redirect_urls = {"https://tandem.example.com/oauth/callback"};
  in.required_scopes = {"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.owners.read",
                        "crm.schemas.contacts.write"};
  in.optional_scopes = {"settings.users.teams.read"};
  in.webhook_target_url = "https://tandem.example.com/webhooks/hubspot";
  in.properties = compiled.ruleset->properties();
  in.rules_file = "rules.yaml";
  return in;
}

void write_project(const std::string& dir, const ProjectInput& in) {
  for (const auto& [rel, text] : tandem::manifests::generate_project(in)) {
    auto p = std::filesystem::path(dir) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> messages(const tandem::Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& x : d.all()) out.push_back(x.message);
  return out;
}

}  // namespace

TEST_CASE("manifest: the project is the 2025.2 marketplace OAuth app with subscriptions from the rules", "[manifests]") {
  auto files = tandem::manifests::generate_project(input_for(kRules));
  REQUIRE(files.size() == 3);
  auto project = json::parse(files.at("hsproject.json"));
  CHECK(project.at("platformVersion") == "2025.2");
  CHECK(project.at("srcDir") == "src");
  auto app = json::parse(files.at("src/app/app-hsmeta.json"));
  CHECK(app.at("type") == "app");
  CHECK(app.at("config").at("distribution") == "marketplace");
  CHECK(app.at("config").at("auth").at("type") == "oauth");
  CHECK(app.at("config").at("auth").at("redirectUrls") == json::array({"https://tandem.example.com/oauth/callback"}));
  CHECK(app.at("config").at("auth").at("optionalScopes") == json::array({"settings.users.teams.read"}));
  auto hooks = json::parse(files.at("src/app/webhooks/webhooks-hsmeta.json"));
  CHECK(hooks.at("config").at("settings").at("targetUrl") == "https://tandem.example.com/webhooks/hubspot");
  std::set<std::string> props, types;
  for (const auto& s : hooks.at("config").at("subscriptions").at("crmObjects")) {
    CHECK(s.at("objectType") == "contact");
    CHECK(s.at("active") == true);
    types.insert(s.at("subscriptionType").get<std::string>());
    if (s.contains("propertyName")) props.insert(s.at("propertyName").get<std::string>());
  }
  // The rules read numberofemployees and email; the stage rules read lifecyclestage.
  CHECK(props.contains("numberofemployees"));
  CHECK(props.contains("email"));
  CHECK(types.contains("object.creation"));
  CHECK(types.contains("object.merge"));
  // Deterministic: the same input gives the same bytes.
  CHECK(tandem::manifests::generate_project(input_for(kRules)) == files);
}

TEST_CASE("manifest: a rule on a new property makes the old project miss its subscription", "[manifests]") {
  tandem::testing::TempDir dir;
  write_project(dir.path().string(), input_for(kRules));
  CHECK_FALSE(tandem::manifests::check_project(dir.path().string(), input_for(kRules)).has_errors());
  std::string more = kRules + R"(  - name: Titled
    when: jobtitle contains "head"
    stage: marketingqualifiedlead
)";
  auto found = tandem::manifests::check_project(dir.path().string(), input_for(more));
  REQUIRE(found.error_count() == 1);
  CHECK_THAT(found.format(), Catch::Contains("webhooks-hsmeta.json"));
  CHECK(messages(found).at(0) == "no propertyChange subscription for 'jobtitle', which rules.yaml reads");
}

TEST_CASE("manifest: the checker reports scopes and a target URL that differ", "[manifests]") {
  tandem::testing::TempDir dir;
  auto in = input_for(kRules);
  write_project(dir.path().string(), in);
  in.required_scopes.push_back("crm.objects.companies.read");
  in.optional_scopes.clear();
  in.webhook_target_url = "https://hooks.example.com/webhooks/hubspot";
  auto found = messages(tandem::manifests::check_project(dir.path().string(), in));
  CHECK(std::count(found.begin(), found.end(), "no required scope 'crm.objects.companies.read', which hubspot.scopes has") == 1);
  CHECK(std::count(found.begin(), found.end(), "optional scope 'settings.users.teams.read' is not in hubspot.optional_scopes") == 1);
  CHECK(std::count(found.begin(), found.end(),
                   "targetUrl is https://tandem.example.com/webhooks/hubspot, but Tandem receives webhooks at "
                   "https://hooks.example.com/webhooks/hubspot (server.public_url + webhooks.path)") == 1);
  CHECK(found.size() == 3);
  // An extra subscription and a missing file.
  std::filesystem::remove(dir.path() / "hsproject.json");
  auto gone = messages(tandem::manifests::check_project(dir.path().string(), input_for(R"(version: "t2"
qualify:
  - name: Known
    when: email is present
    stage: lead
)")));
  CHECK(std::any_of(gone.begin(), gone.end(), [](const std::string& m) { return m.find("missing") == 0; }));
  CHECK(std::any_of(gone.begin(), gone.end(), [](const std::string& m) {
    return m == "the propertyChange subscription for 'numberofemployees' is not needed: rules.yaml does not read it";
  }));
}

TEST_CASE("manifest: an input without a scope Tandem needs is an error", "[manifests]") {
  auto in = input_for(kRules);
  in.required_scopes = {"crm.objects.contacts.read"};
  tandem::Diagnostics d;
  tandem::manifests::check_input(in, "tandem.yaml", d);
  CHECK(d.error_count() == 4);
  CHECK_THAT(d.format(), Catch::Contains("hubspot.scopes: 'oauth' is missing"));
}

TEST_CASE("manifest: manifests/example is what the generator writes for the example configuration and rules", "[manifests]") {
  const std::string root = TANDEM_SOURCE_DIR;
  std::ifstream f(root + "/examples/tandem.yaml");
  std::stringstream text;
  text << f.rdbuf();
  auto document = tandem::config::Document::parse(text.str(), "examples/tandem.yaml");
  document.apply_environment({{"TANDEM_SERVER__PUBLIC_URL", "https://tandem.example.com"}});
  tandem::Diagnostics diagnostics;
  auto config = tandem::connector::read_config(document, diagnostics, false);
  REQUIRE_FALSE(diagnostics.has_errors());
  auto rules = tandem::rules::load_ruleset(root + "/examples/rules");
  REQUIRE(rules.ruleset);
  ProjectInput in;
  in.manifest = config.manifest;
  in.redirect_urls = {config.hubspot.redirect_url};
  in.required_scopes = config.hubspot.scopes;
  in.optional_scopes = config.hubspot.optional_scopes;
  in.webhook_target_url = config.webhooks.public_base_url + config.webhooks.path;
  in.properties = rules.ruleset->properties();
  for (const auto& [rel, want] : tandem::manifests::generate_project(in)) {
    INFO("manifests/example/" << rel << " differs from what the generator writes; regenerate it from the repository root with\n"
                                        "  TANDEM_SERVER__PUBLIC_URL=https://tandem.example.com tandem manifest --config "
                                        "examples/tandem.yaml --rules examples/rules --out manifests/example");
    CHECK(read(std::filesystem::path(root) / "manifests/example" / rel) == want);
  }
}
