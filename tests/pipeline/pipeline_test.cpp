// Issue 14, "Done when": the lead pipeline end to end. A sandbox HubSpot, the real `tandem serve`
// (a child process over a SQLite file) installed through its install URL, people acting in
// HubSpot through the API; what Tandem did is read back from HubSpot (stages, tasks) and from
// `tandem audit`. The example rules run with their deadlines scaled to seconds (pipeline_rig.hpp).

#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/pipeline/pipeline_rig.hpp"
#include "tests/support/wait_until.hpp"

using namespace tandem;
using namespace tandem::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string prop(const json& props, const std::string& name) { return props.value(name, std::string()); }

// Waits until the contact has `n` tasks; returns them.
std::vector<json> wait_for_tasks(PipelineRig& rig, const std::string& id, std::size_t n,
                                 std::chrono::milliseconds timeout = 20s) {
  std::vector<json> tasks;
  const bool ok = wait_until(
      [&] {
        tasks = rig.tasks_of(id);
        return tasks.size() >= n;
      },
      timeout, 100ms);
  INFO("contact " << id << " has " << tasks.size() << " tasks, expected " << n << "\n"
                   << rig.tandem->logs() << "\noutbox:\n"
                   << rig.tandem_command({"outbox", "list"}).second);
  REQUIRE(ok);
  return tasks;
}

bool wait_for_property(PipelineRig& rig, const std::string& id, const std::string& name, const std::string& value,
                       std::chrono::milliseconds timeout = 20s) {
  return wait_until([&] { return prop(rig.contact(id), name) == value; }, timeout, 100ms);
}

}  // namespace

TEST_CASE("a marketing qualified lead gets a review task for its owner's manager saying why", "[pipeline]") {
  PipelineRig rig;
  rig.install();
  // Chloe (1003) reports to Dana (2002) in the rules' settings.
  const std::string id = rig.create_contact(mql_properties("ada@northwind-retail.example", "1003"));
  auto tasks = wait_for_tasks(rig, id, 1);
  REQUIRE(tasks.size() == 1);
  const json& task = tasks.front();
  CHECK(prop(task, "hubspot_owner_id") == "2002");
  CHECK(prop(task, "hs_task_subject") == "Review new MQL Ada Lovelace (Northwind Retail)");
  const std::string body = prop(task, "hs_task_body");
  CHECK(body.find("Why this lead was handed over") != std::string::npos);
  CHECK(body.find("Target company size") != std::string::npos);  // point by point
  CHECK(body.find("Please assign a rep and give feedback by Friday.") != std::string::npos);
  CHECK(prop(task, "hs_task_status") == "NOT_STARTED");

  REQUIRE(wait_for_property(rig, id, "lifecyclestage", "marketingqualifiedlead"));
  json c = rig.contact(id);
  CHECK(prop(c, "hs_lead_status") == "NEW");
  CHECK(!prop(c, "tandem_handoff_at").empty());
  CHECK(prop(c, "tandem_rules_version").find("2026.11-2") != std::string::npos);
  CHECK(!prop(c, "tandem_fit_score").empty());

  // Tandem's own writes come back as webhooks (its echo): they decide nothing new.
  std::this_thread::sleep_for(2s);
  CHECK(rig.tasks_of(id).size() == 1);

  auto [status, out] = rig.tandem_command({"audit", id});
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("handoff") != std::string::npos);
  CHECK(out.find("marketingqualifiedlead") != std::string::npos);
}

TEST_CASE("a hand-raiser is handed directly to its owner with a call task", "[pipeline]") {
  PipelineRig rig;
  rig.install();
  const std::string id = rig.create_contact(hand_raiser_properties("grace@northwind-retail.example", "1001"));
  auto tasks = wait_for_tasks(rig, id, 1);
  const json& task = tasks.front();
  CHECK(prop(task, "hubspot_owner_id") == "1001");
  CHECK(prop(task, "hs_task_type") == "CALL");
  CHECK(prop(task, "hs_task_priority") == "HIGH");
  CHECK(prop(task, "hs_task_subject") == "Call Grace Hopper about their demo request");
  REQUIRE(wait_for_property(rig, id, "lifecyclestage", "salesqualifiedlead"));
}

TEST_CASE("a returned lead goes back to nurture with its reason and cannot qualify again before its cool-off ends",
          "[pipeline]") {
  PipelineRigOptions options;
  options.cool_off = "8 seconds";
  options.mql_sla = "10 minutes";  // no follow-up task in this test
  PipelineRig rig(options);
  rig.install();
  const std::string id = rig.create_contact(mql_properties("lee@globex.example", "1002"));
  wait_for_tasks(rig, id, 1);
  REQUIRE(wait_for_property(rig, id, "lifecyclestage", "marketingqualifiedlead"));

  // Ben (user 9102) returns the lead: bad timing.
  rig.update_contact(id, {{"hs_lead_status", "BAD_TIMING"}}, "9102");
  REQUIRE(wait_for_property(rig, id, "lifecyclestage", "lead"));
  json c = rig.contact(id);
  CHECK(prop(c, "tandem_return_reason") == "bad_timing");
  CHECK(prop(c, "tandem_recycle_count") == "1");
  CHECK(!prop(c, "tandem_cool_off_until").empty());

  // Marketing keeps nurturing: a new pricing page visit. Inside the cool-off nothing moves.
  rig.update_contact(id, {{"last_pricing_page_visit", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                          std::chrono::system_clock::now().time_since_epoch())
                                                                          .count())}});
  std::this_thread::sleep_for(2s);
  CHECK(prop(rig.contact(id), "lifecyclestage") == "lead");
  CHECK(rig.tasks_of(id).size() == 1);

  // After it, the timer at the cool-off's end qualifies the lead again: a second review.
  auto tasks = wait_for_tasks(rig, id, 2, 30s);
  CHECK(tasks.size() == 2);
  REQUIRE(wait_for_property(rig, id, "lifecyclestage", "marketingqualifiedlead"));
  CHECK(prop(rig.contact(id), "hs_lead_status") == "NEW");
  CHECK(prop(tasks.back(), "hubspot_owner_id") == "2001");  // Ben's manager, Marc

  auto [status, out] = rig.tandem_command({"audit", id, "--json"});
  INFO(out);
  REQUIRE(status == 0);
  auto entries = json::parse(out).at("decisions");
  std::vector<std::string> kinds;
  for (const auto& e : entries) kinds.push_back(e.at("kind"));
  CHECK(kinds == std::vector<std::string>{"handoff", "return_to_nurture", "handoff"});
}

TEST_CASE("an SLA breach gives a follow-up task for the owner and later an escalation to the manager", "[pipeline]") {
  PipelineRig rig;
  rig.install();
  const std::string id = rig.create_contact(mql_properties("kim@initech.example", "1002"));
  auto tasks = wait_for_tasks(rig, id, 3, 40s);
  REQUIRE(tasks.size() == 3);
  CHECK(prop(tasks[0], "hs_task_subject").rfind("Review new MQL", 0) == 0);
  CHECK(prop(tasks[1], "hs_task_subject") == "No follow-up yet on kim@initech.example");
  CHECK(prop(tasks[1], "hubspot_owner_id") == "1002");
  CHECK(prop(tasks[2], "hs_task_subject") == "Escalation: kim@initech.example has had no follow-up for two weeks");
  CHECK(prop(tasks[2], "hubspot_owner_id") == "2001");
  std::this_thread::sleep_for(3s);
  CHECK(rig.tasks_of(id).size() == 3);
}
