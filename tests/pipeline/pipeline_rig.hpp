#pragma once
// The lead pipeline end to end on this machine: a sandbox HubSpot in this process (owners with
// managers, the custom properties the example rules read, webhooks to Tandem), the real `tandem
// serve` as a child process over a SQLite file, and an admin's browser installing Tandem through
// its install URL. Sales and marketing act in HubSpot through the API with the sandbox's
// acting-user header, as people in HubSpot's UI would; what Tandem did is read back from the
// sandbox (stages, tasks) and from Tandem (`tandem audit`, /readyz, /metrics).
//
// The rules are the example rules (examples/rules/lead-rules.yaml) with their SLA deadlines,
// escalations and cool-offs scaled to seconds, so that a week plays in seconds.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/config.hpp"
#include "tests/hubspot/live_sandbox.hpp"
#include "tests/support/serve_process.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

namespace tandem::testing {

struct PipelineRigOptions {
  // Replacements of the example rules' durations.
  std::string mql_sla = "4 seconds";       // First touch on MQL: within
  std::string mql_escalation = "8 seconds";  // ... escalate after
  std::string sql_sla = "4 seconds";
  std::string sql_escalation = "8 seconds";
  std::string cool_off = "6 seconds";  // every return rule's cool-off
  double duplicate_probability = 0;
  double out_of_order_probability = 0;
  std::string extra_yaml;  // appended to tandem.yaml
  // The example's business days, hours and holidays as written (instead of around the clock).
  bool business_calendar = false;
  bool rules_time_zone = true;  // false: the rules name no time_zone (the account's is used)
  std::string account_time_zone = "UTC";  // the sandbox account's, from its details
  std::string mql_task_due = "2 business days";
  std::string campaigns_yaml;  // written beside the rules as campaigns.yaml when not empty
};

class PipelineRig {
 public:
  explicit PipelineRig(PipelineRigOptions options = {});
  ~PipelineRig();

  // The admin's install through Tandem's install URL; REQUIREs the success page.
  void install();
  // Contacts created and changed as people in HubSpot (X-Sandbox-Acting-User).
  std::string create_contact(const nlohmann::json& properties, const std::string& acting_user = "9001");
  void update_contact(const std::string& id, const nlohmann::json& properties, const std::string& acting_user = "9001");
  // A rep logs a call on the contact, as in HubSpot's UI; returns the call's id.
  std::string log_call(const std::string& contact_id, const std::string& owner, const std::string& acting_user);
  // HubSpot's merge: `merged` goes into `primary`.
  void merge_contacts(const std::string& primary, const std::string& merged, const std::string& acting_user = "9001");
  // A contact's properties as the sandbox holds them.
  nlohmann::json contact(const std::string& id);
  // The tasks associated with a contact (their properties), oldest first.
  std::vector<nlohmann::json> tasks_of(const std::string& id);
  // Every task of the portal by contact id.
  std::map<std::string, std::vector<nlohmann::json>> tasks_by_contact();
  // `tandem <args...> --config tandem.yaml`: its exit status and stdout.
  std::pair<int, std::string> tandem_command(const std::vector<std::string>& args);
  nlohmann::json readyz();
  std::string metrics();
  // The sum of a counter's series on /metrics whose labels contain `label` (may be empty).
  double metric_sum(const std::string& name, const std::string& label = "");

  // The rule file Tandem reads (a copy of the example with the durations replaced).
  [[nodiscard]] const std::string& rules_file() const { return rules_file_; }
  [[nodiscard]] static std::string rules_text(const PipelineRigOptions& options);

  TempDir dir;
  std::uint16_t port = 0;
  sandbox::SandboxConfig sandbox_config;
  std::unique_ptr<LiveSandbox> sandbox;
  std::unique_ptr<ServeProcess> tandem;
  std::string people_token;  // a HubSpot user's session (for the API calls people make)
  std::int64_t portal = 0;

 private:
  nlohmann::json crm(const std::string& method, const std::string& target, const nlohmann::json& body,
                     const std::string& acting_user, int expect);
  std::string rules_file_;
  std::string config_file_;
};

// Properties of a contact the example rules hand over as a marketing qualified lead (fit >= 50,
// engagement >= 40, no demo request in the last 7 days), owned by `owner`.
nlohmann::json mql_properties(const std::string& email, const std::string& owner);
// ... and as a hand-raiser (a demo request today): a sales qualified lead, handed directly.
nlohmann::json hand_raiser_properties(const std::string& email, const std::string& owner);

}  // namespace tandem::testing
