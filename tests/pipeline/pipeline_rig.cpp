#include "tests/pipeline/pipeline_rig.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>

#include "common/http_client.hpp"
#include "rules/ruleset.hpp"
#include "tests/oauth/install_rig.hpp"
#include "tests/support/read_file_or_fail.hpp"
#include "tests/support/wait_until.hpp"

namespace tandem::testing {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kTokenKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  INFO("the example rules no longer contain '" << from << "'");
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

json mql_properties(const std::string& email, const std::string& owner) {
  const auto day = 86'400'000LL;
  return json{{"email", email},
              {"firstname", "Ada"},
              {"lastname", "Lovelace"},
              {"company", "Northwind Retail"},
              {"jobtitle", "Head of Data"},
              {"industry", "RETAIL"},
              {"numberofemployees", "850"},
              {"country", "Germany"},
              {"hubspot_owner_id", owner},
              // A demo request ten days ago (50 points halving every 30 days: about 40 today) and a
              // pricing page visit today (20): engagement about 60; not a hand-raiser any more.
              {"recent_conversion_event_name", "Demo request"},
              {"recent_conversion_date", std::to_string(now_ms() - 10 * day)},
              {"last_pricing_page_visit", std::to_string(now_ms())}};
}

json hand_raiser_properties(const std::string& email, const std::string& owner) {
  json p = mql_properties(email, owner);
  p["firstname"] = "Grace";
  p["lastname"] = "Hopper";
  p["recent_conversion_date"] = std::to_string(now_ms());
  return p;
}

std::string PipelineRig::rules_text(const PipelineRigOptions& o) {
  std::string text = read_file_or_fail(std::string(TANDEM_SOURCE_DIR) + "/examples/rules/lead-rules.yaml");
  replace_once(text, "within: 3 business days", "within: " + o.mql_sla);
  replace_once(text, "after: 14 days", "after: " + o.mql_escalation);
  replace_once(text, "within: 2 business days", "within: " + o.sql_sla);
  replace_once(text, "after: 5 business days", "after: " + o.sql_escalation);
  replace_once(text, "cool_off: 60d", "cool_off: " + o.cool_off);
  replace_once(text, "cool_off: 180d", "cool_off: " + o.cool_off);
  replace_once(text, "cool_off: 30d", "cool_off: " + o.cool_off);
  replace_once(text, "due: 2 business days", "due: " + o.mql_task_due);
  if (!o.rules_time_zone) replace_once(text, "time_zone: \"+01:00\"", "");
  if (o.business_calendar) return text;
  // Business hours would hold a deadline of seconds until the next working morning: the
  // rehearsal works around the clock, every day.
  replace_once(text, "business_days: [mon, tue, wed, thu, fri]", "business_days: [mon, tue, wed, thu, fri, sat, sun]");
  replace_once(text, "business_hours: \"09:00-17:00\"", "business_hours: \"00:00-24:00\"");
  replace_once(text, "holidays: [2026-12-25, 2026-12-26, 2027-01-01]", "holidays: []");
  return text;
}

PipelineRig::PipelineRig(PipelineRigOptions options) {
  port = free_port();
  sandbox_config = sandbox::default_config();
  auto& app = sandbox_config.app;
  app.redirect_urls = {"http://127.0.0.1:" + std::to_string(port) + "/oauth/callback"};
  app.webhook_target_url = "http://127.0.0.1:" + std::to_string(port) + "/webhooks/hubspot";
  sandbox_config.limits.ten_secondly = 100'000;
  sandbox_config.limits.search_per_second = 1'000;
  sandbox_config.delivery.time_factor = 0.0002;  // HubSpot's retry schedule in seconds
  sandbox_config.delivery.duplicate_probability = options.duplicate_probability;
  sandbox_config.delivery.out_of_order_probability = options.out_of_order_probability;
  auto& p = sandbox_config.portals.front();
  portal = p.id;
  p.time_zone = options.account_time_zone;
  p.owners = {
      {"1001", "anna.rep@northwind.example", "Anna", "Rep", 9101, "PERSON", false, {}},
      {"1002", "ben.rep@northwind.example", "Ben", "Rep", 9102, "PERSON", false, {}},
      {"1003", "chloe.rep@northwind.example", "Chloe", "Rep", 9103, "PERSON", false, {}},
      {"2001", "marc.manager@northwind.example", "Marc", "Manager", 9201, "PERSON", false, {}},
      {"2002", "dana.manager@northwind.example", "Dana", "Manager", 9202, "PERSON", false, {}},
      {"3001", "mia.marketing@northwind.example", "Mia", "Marketing", 9001, "PERSON", false, {}},
  };
  p.teams.clear();
  p.properties = {
      {"contacts", "numberofemployees", "Employees", "number", {}},
      {"contacts", "tech_stack", "Tech stack", "string", {}},
      {"contacts", "recent_conversion_event_name", "Recent conversion", "string", {}},
      {"contacts", "recent_conversion_date", "Recent conversion date", "datetime", {}},
      {"contacts", "last_pricing_page_visit", "Last pricing page visit", "datetime", {}},
      {"contacts", "webinar_attended", "Webinar attended", "bool", {}},
      {"contacts", "webinar_date", "Webinar date", "datetime", {}},
  };

  rules_file_ = dir.file("rules/lead-rules.yaml");
  std::filesystem::create_directories(dir.path() / "rules");
  std::ofstream(rules_file_) << rules_text(options);
  if (!options.campaigns_yaml.empty()) std::ofstream(dir.file("rules/campaigns.yaml")) << options.campaigns_yaml;
  auto compiled = rules::load_ruleset(rules_file_);
  INFO(compiled.diagnostics.report("the test rules"));
  REQUIRE(compiled.ruleset);
  // The subscriptions the manifest generator derives from the rules (tandem manifest).
  std::int64_t id = 1;
  app.subscriptions = {{id++, "contact.creation", "", true},
                       {id++, "contact.deletion", "", true},
                       {id++, "contact.merge", "", true}};
  for (const auto& name : compiled.ruleset->properties())
    app.subscriptions.push_back({id++, "contact.propertyChange", name, true});

  sandbox = std::make_unique<LiveSandbox>(sandbox_config);
  people_token = sandbox->mint_token();

  config_file_ = dir.file("tandem.yaml");
  std::ofstream(config_file_) << "server:\n  listen: 127.0.0.1:" << port << "\nhubspot:\n  api_base_url: " << sandbox->base()
                              << "\n  auth_base_url: " << sandbox->base() << "\n  app_id: \"" << app.id
                              << "\"\n  client_id: " << app.client_id
                              << "\n  client_secret: {env: PIPELINE_TEST_CLIENT_SECRET}\n"
                                 "oauth:\n  token_key: {env: PIPELINE_TEST_TOKEN_KEY}\n"
                                 "store:\n  path: "
                              << dir.file("tandem.db") << "\nrules:\n  path: " << dir.file("rules")
                              << "\n  reload_interval: 200ms\n"
                                 "pipeline:\n  idle_poll: 20ms\n  retry_after: 1s\n  lease: 10s\n"
                                 "log:\n  level: info\n"
                              << options.extra_yaml;
  ::setenv("PIPELINE_TEST_CLIENT_SECRET", app.client_secret.c_str(), 1);
  ::setenv("PIPELINE_TEST_TOKEN_KEY", kTokenKey, 1);
  tandem = std::make_unique<ServeProcess>(TANDEM_BINARY, config_file_, dir.file("serve-"), port);
  tandem->start();
}

PipelineRig::~PipelineRig() {
  if (tandem && tandem->running()) tandem->stop(SIGTERM);
}

void PipelineRig::install() {
  Browser browser;
  auto page = browser.get(tandem->origin() + "/oauth/install");
  INFO(page.body);
  REQUIRE(page.status == 200);
}

json PipelineRig::crm(const std::string& method, const std::string& target, const json& body,
                      const std::string& acting_user, int expect) {
  http::Request r;
  r.method = method;
  r.target = target;
  r.headers.set("Authorization", "Bearer " + people_token);
  if (!acting_user.empty()) r.headers.set("X-Sandbox-Acting-User", acting_user);
  if (!body.is_null()) {
    r.body = body.dump();
    r.headers.set("Content-Type", "application/json");
  }
  auto answer = http::fetch(sandbox->base(), r, http::ClientOptions{});
  REQUIRE(answer.has_value());
  INFO(method << " " << target << " -> " << answer->status << " " << answer->body);
  REQUIRE(answer->status == expect);
  return answer->body.empty() ? json() : json::parse(answer->body);
}

std::string PipelineRig::create_contact(const json& properties, const std::string& acting_user) {
  return crm("POST", "/crm/objects/2026-03/contacts", json{{"properties", properties}}, acting_user, 201).at("id");
}

std::string PipelineRig::log_call(const std::string& contact_id, const std::string& owner, const std::string& acting_user) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  json call{{"properties",
             {{"hs_timestamp", std::to_string(now)},
              {"hs_call_title", "First call"},
              {"hs_call_body", "Talked about their data platform; demo next week."},
              {"hs_call_direction", "OUTBOUND"},
              {"hs_call_status", "COMPLETED"},
              {"hubspot_owner_id", owner}}},
            // Association type 194: call to contact (contract §5.4).
            {"associations",
             json::array({{{"to", {{"id", contact_id}}},
                           {"types", json::array({{{"associationCategory", "HUBSPOT_DEFINED"}, {"associationTypeId", 194}}})}}})}};
  return crm("POST", "/crm/objects/2026-03/calls", call, acting_user, 201).at("id");
}

void PipelineRig::merge_contacts(const std::string& primary, const std::string& merged, const std::string& acting_user) {
  crm("POST", "/crm/objects/2026-03/contacts/merge", json{{"primaryObjectId", primary}, {"objectIdToMerge", merged}},
      acting_user, 200);
}

void PipelineRig::update_contact(const std::string& id, const json& properties, const std::string& acting_user) {
  crm("PATCH", "/crm/objects/2026-03/contacts/" + id, json{{"properties", properties}}, acting_user, 200);
}

json PipelineRig::contact(const std::string& id) {
  const json snapshot = sandbox->snapshot();
  for (const auto& p : snapshot.at("portals")) {
    if (p.at("id").get<std::int64_t>() != portal) continue;
    for (const auto& c : p.at("objects").at("contacts"))
      if (std::to_string(c.at("id").get<std::int64_t>()) == id) return c.at("props");
  }
  FAIL("contact " << id << " is not in the sandbox");
  return {};
}

std::map<std::string, std::vector<json>> PipelineRig::tasks_by_contact() {
  std::map<std::string, std::vector<json>> out;
  const json snapshot = sandbox->snapshot();
  for (const auto& p : snapshot.at("portals")) {
    if (p.at("id").get<std::int64_t>() != portal) continue;
    // Associations: [fromType, fromId, toType, toId, typeId, category], kept from either side:
    // task (1) -> contact (0) with 204, or contact -> task with 203.
    std::map<std::int64_t, std::string> task_contact;
    for (const auto& a : p.at("associations")) {
      if (a.at(0).get<int>() == 1 && a.at(2).get<int>() == 0 && a.at(4).get<int>() == 204)
        task_contact[a.at(1).get<std::int64_t>()] = std::to_string(a.at(3).get<std::int64_t>());
      if (a.at(0).get<int>() == 0 && a.at(2).get<int>() == 1 && a.at(4).get<int>() == 203)
        task_contact[a.at(3).get<std::int64_t>()] = std::to_string(a.at(1).get<std::int64_t>());
    }
    for (const auto& t : p.at("objects").at("tasks")) {
      if (t.at("archived").get<bool>()) continue;
      auto it = task_contact.find(t.at("id").get<std::int64_t>());
      if (it != task_contact.end()) out[it->second].push_back(t.at("props"));
    }
  }
  return out;
}

std::vector<json> PipelineRig::tasks_of(const std::string& id) {
  auto all = tasks_by_contact();
  auto it = all.find(id);
  return it == all.end() ? std::vector<json>{} : it->second;
}

std::pair<int, std::string> PipelineRig::tandem_command(const std::vector<std::string>& args) {
  std::string command = shell_quote(TANDEM_BINARY);
  for (const auto& a : args) command += " " + shell_quote(a);
  command += " --config " + shell_quote(config_file_) + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

json PipelineRig::readyz() {
  http::Request r;
  r.method = "GET";
  r.target = "/readyz";
  auto answer = try_fetch(tandem->origin(), r, 5s);
  REQUIRE(answer.has_value());
  return json::parse(answer->body);
}

std::string PipelineRig::metrics() {
  http::Request r;
  r.method = "GET";
  r.target = "/metrics";
  auto answer = try_fetch(tandem->origin(), r, 5s);
  REQUIRE(answer.has_value());
  return answer->body;
}

double PipelineRig::metric_sum(const std::string& name, const std::string& label) {
  double sum = 0;
  std::istringstream in(metrics());
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : ' ';
    if (next != '{' && next != ' ') continue;
    if (!label.empty() && line.find(label) == std::string::npos) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

}  // namespace tandem::testing
