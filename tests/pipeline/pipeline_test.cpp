// Issue 14, "Done when": the lead pipeline end to end. A sandbox HubSpot, the real `tandem serve`
// (a child process over a SQLite file) installed through its install URL, people acting in
// HubSpot through the API; what Tandem did is read back from HubSpot (stages, tasks) and from
// `tandem audit`. The example rules run with their deadlines scaled to seconds (pipeline_rig.hpp).

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/time_format.hpp"
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
  options.mql_escalation = "20 minutes";
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

TEST_CASE("duplicate and out-of-order webhooks and Tandem's own echoes processed again decide nothing twice",
          "[pipeline]") {
  PipelineRigOptions options;
  options.duplicate_probability = 0.5;
  options.out_of_order_probability = 0.5;
  options.mql_sla = "10 minutes";
  options.mql_escalation = "20 minutes";
  PipelineRig rig(options);
  rig.install();
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(rig.create_contact(mql_properties("lead" + std::to_string(i) + "@acme.example", "1001")));
  // Marketing keeps changing them while Tandem decides: each change is another event.
  for (int round = 0; round < 3; ++round)
    for (const auto& id : ids) rig.update_contact(id, {{"jobtitle", "Head of Data " + std::to_string(round)}});
  for (const auto& id : ids) wait_for_tasks(rig, id, 1);
  for (const auto& id : ids) REQUIRE(wait_for_property(rig, id, "lifecyclestage", "marketingqualifiedlead"));

  // Tandem's own writes came back as events it skipped. Processing them anyway (an admin's
  // replay) decides the same as before, so nothing new is written.
  REQUIRE(wait_until([&] { return rig.metric_sum("tandem_outbox_pending") == 0; }, 20s, 100ms));
  auto [status, out] = rig.tandem_command({"inbox", "replay", "--all", "--from", "skipped"});
  INFO(out);
  REQUIRE(status == 0);
  REQUIRE(out.find("replayed 0 event") == std::string::npos);
  REQUIRE(wait_until(
      [&] {
        auto stats = json::parse(rig.tandem_command({"inbox", "stats", "--json"}).second, nullptr, false);
        return stats.is_object() && stats.value("unprocessed", -1) == 0;
      },
      20s, 200ms));
  std::this_thread::sleep_for(2s);
  auto all = rig.tasks_by_contact();
  for (const auto& id : ids) {
    INFO("contact " << id);
    CHECK(all[id].size() == 1);
  }
}

TEST_CASE("killed with SIGKILL while timers and writes are pending: after restarts each timer fires once and each task exists once",
          "[pipeline]") {
  PipelineRigOptions options;
  options.mql_sla = "5 seconds";
  options.mql_escalation = "10 seconds";
  PipelineRig rig(options);
  rig.install();
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(rig.create_contact(mql_properties("k" + std::to_string(i) + "@kill.example", "1003")));
  std::this_thread::sleep_for(700ms);
  rig.tandem->stop(SIGKILL);  // decisions and their writes in flight
  std::this_thread::sleep_for(1s);
  rig.tandem->start();
  std::this_thread::sleep_for(3s);
  rig.tandem->stop(SIGKILL);  // the SLA timers running
  std::this_thread::sleep_for(8s);  // the follow-ups come due while Tandem is down
  rig.tandem->start();
  auto all = rig.tasks_by_contact();
  REQUIRE(wait_until(
      [&] {
        all = rig.tasks_by_contact();
        for (const auto& id : ids)
          if (all[id].size() < 3) return false;
        return true;
      },
      40s, 200ms));
  std::this_thread::sleep_for(3s);
  all = rig.tasks_by_contact();
  for (const auto& id : ids) {
    INFO("contact " << id << "\n" << rig.tandem->logs());
    REQUIRE(all[id].size() == 3);
    std::set<std::string> subjects;
    for (const auto& t : all[id]) subjects.insert(prop(t, "hs_task_subject"));
    CHECK(subjects.size() == 3);
  }
}

TEST_CASE("a rule file that does not compile is rejected and the running rules stay, a good one is applied without a restart",
          "[pipeline]") {
  PipelineRigOptions options;
  options.mql_sla = "10 minutes";
  options.mql_escalation = "20 minutes";
  PipelineRig rig(options);
  rig.install();
  const std::string before = rig.readyz().at("details").at("rules").at("hash");
  {
    std::ofstream(rig.rules_file()) << PipelineRig::rules_text(options) << "\nqualify_typo: []\n";
  }
  REQUIRE(wait_until([&] { return rig.metric_sum("tandem_rules_reload_failing") == 1; }, 10s, 100ms));
  auto details = rig.readyz().at("details").at("rules");
  CHECK(details.at("hash") == before);
  CHECK(details.at("last_reload").at("outcome") == "rejected");
  CHECK(details.at("last_reload").at("diagnostics").get<std::string>().find("qualify_typo") != std::string::npos);
  CHECK(rig.tandem->logs().find("rule files rejected") != std::string::npos);
  // Still deciding, with the old rules.
  const std::string id = rig.create_contact(mql_properties("still@working.example", "1001"));
  wait_for_tasks(rig, id, 1);

  // A good change: a new version label and a new review subject.
  std::string text = PipelineRig::rules_text(options);
  text.replace(text.find("version: \"2026.11-2\""), std::string("version: \"2026.11-2\"").size(), "version: \"2026.12-1\"");
  text.replace(text.find("Review new MQL"), std::string("Review new MQL").size(), "Please review the MQL");
  std::ofstream(rig.rules_file()) << text;
  REQUIRE(wait_until([&] { return rig.readyz().at("details").at("rules").at("version") == "2026.12-1"; }, 10s, 100ms));
  CHECK(rig.metric_sum("tandem_rules_reload_failing") == 0);
  const std::string second = rig.create_contact(mql_properties("new@rules.example", "1001"));
  auto tasks = wait_for_tasks(rig, second, 1);
  CHECK(prop(tasks.front(), "hs_task_subject").rfind("Please review the MQL", 0) == 0);
  CHECK(prop(rig.contact(second), "tandem_rules_version").find("2026.12-1") != std::string::npos);
}

TEST_CASE("the backfill of a newly connected account evaluates each of its 1000 contacts once", "[pipeline]") {
  PipelineRigOptions options;
  options.mql_sla = "10 minutes";
  options.mql_escalation = "20 minutes";
  PipelineRig rig(options);
  // Contacts that exist before the install (seeds send no webhooks): a tenth of them qualify.
  json contacts = json::array();
  for (int i = 0; i < 1000; ++i) {
    json p = i % 10 == 0 ? mql_properties("seed" + std::to_string(i) + "@acme.example", "1002")
                         : json{{"email", "cold" + std::to_string(i) + "@example.org"},
                                {"company", "Corner Shop " + std::to_string(i)},
                                {"country", "Brazil"},
                                {"jobtitle", "Student"}};
    contacts.push_back({{"properties", p}});
  }
  rig.sandbox->seed({{"contacts", contacts}});
  rig.install();
  REQUIRE(wait_until(
      [&] {
        auto b = rig.readyz().at("details").at("pipeline").at("backfills");
        return !b.empty() && b.at(0).at("finished").get<bool>();
      },
      60s, 200ms));
  CHECK(rig.readyz().at("details").at("pipeline").at("backfills").at(0).at("contacts") == 1000);
  CHECK(rig.metric_sum("tandem_pipeline_decisions_total") == 1000);
  auto all = std::map<std::string, std::vector<json>>();
  REQUIRE(wait_until(
      [&] {
        all = rig.tasks_by_contact();
        return all.size() >= 100;
      },
      60s, 200ms));
  CHECK(all.size() == 100);
  for (const auto& [id, tasks] : all) CHECK(tasks.size() == 1);
  auto [status, out] = rig.tandem_command({"accounts", "show", std::to_string(rig.portal)});
  INFO(out);
  CHECK(out.find("1000") != std::string::npos);
}

TEST_CASE("a rep who logs a call in time meets the SLA and no follow-up task follows", "[pipeline]") {
  PipelineRigOptions options;
  options.mql_sla = "5 seconds";
  options.mql_escalation = "9 seconds";
  PipelineRig rig(options);
  rig.install();
  const std::string met = rig.create_contact(mql_properties("sofia@fabrikam.example", "1003"));
  const std::string ignored = rig.create_contact(mql_properties("omar@contoso.example", "1003"));
  wait_for_tasks(rig, met, 1);
  wait_for_tasks(rig, ignored, 1);
  // Chloe (user 9103) calls Sofia back: HubSpot rolls the call up into Last Contacted.
  rig.log_call(met, "1003", "9103");
  REQUIRE(wait_until([&] { return !prop(rig.contact(met), "notes_last_contacted").empty(); }, 10s, 100ms));
  // Omar, whom nobody called, gets the follow-up and then the escalation; Sofia gets neither.
  wait_for_tasks(rig, ignored, 3, 40s);
  std::this_thread::sleep_for(2s);
  auto tasks = rig.tasks_of(met);
  INFO(rig.tandem->logs());
  CHECK(tasks.size() == 1);
  auto [status, out] = rig.tandem_command({"audit", met, "--json"});
  REQUIRE(status == 0);
  auto state = json::parse(out).at("accounts").at(0).at("state");
  CHECK(state.at("tasks_created").empty());
  CHECK(state.at("next_check_at") == 0);
}

TEST_CASE("two contacts merged while both have a timer running leave one timer on the surviving contact", "[pipeline]") {
  PipelineRigOptions options;
  options.mql_sla = "6 seconds";
  options.mql_escalation = "10 minutes";
  PipelineRig rig(options);
  rig.install();
  const std::string keep = rig.create_contact(mql_properties("ana@tailspin.example", "1001"));
  const std::string gone = rig.create_contact(mql_properties("ana.old@tailspin.example", "1001"));
  wait_for_tasks(rig, keep, 1);
  wait_for_tasks(rig, gone, 1);
  rig.merge_contacts(keep, gone);
  // The merged contact's review task moved to the survivor with the merge; the SLA follows up once.
  auto tasks = wait_for_tasks(rig, keep, 3, 30s);
  std::this_thread::sleep_for(3s);
  tasks = rig.tasks_of(keep);
  int follow_ups = 0;
  for (const auto& t : tasks)
    if (prop(t, "hs_task_subject").rfind("No follow-up yet", 0) == 0) ++follow_ups;
  INFO(rig.tandem->logs());
  CHECK(follow_ups == 1);
  CHECK(tasks.size() == 3);
  // One timer is left in all: the survivor's escalation, ten minutes out.
  auto timers = rig.readyz().at("details").at("pipeline").at("timers");
  CHECK(timers.at("scheduled") == 1);
  auto [status, out] = rig.tandem_command({"audit", keep, "--json"});
  REQUIRE(status == 0);
  CHECK(json::parse(out).at("accounts").at(0).at("state").at("next_check_reason") == "First touch on MQL: escalation due");
}

TEST_CASE("SIGTERM stops Tandem cleanly in the middle of the work and a restart finishes it", "[pipeline]") {
  PipelineRigOptions options;
  options.mql_sla = "10 minutes";
  options.mql_escalation = "20 minutes";
  PipelineRig rig(options);
  rig.install();
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(rig.create_contact(mql_properties("t" + std::to_string(i) + "@term.example", "1002")));
  const int status = rig.tandem->stop(SIGTERM);
  INFO(rig.tandem->logs());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  rig.tandem->start();
  for (const auto& id : ids) wait_for_tasks(rig, id, 1);
  std::this_thread::sleep_for(1s);
  auto all = rig.tasks_by_contact();
  for (const auto& id : ids) CHECK(all[id].size() == 1);
}

TEST_CASE("rules that name no time zone count deadlines in the account's time zone from HubSpot", "[pipeline]") {
  // Kiritimati is UTC+14 all year: its working hours (09:00-17:00 local, 19:00-03:00 UTC) never
  // overlap UTC's, so a deadline counted in UTC cannot pass for one counted in the account's zone.
  PipelineRigOptions options;
  options.business_calendar = true;
  options.rules_time_zone = false;
  options.account_time_zone = "Pacific/Kiritimati";
  options.mql_task_due = "4 business hours";
  PipelineRig rig(options);
  rig.install();
  const std::string id = rig.create_contact(mql_properties("kiri@northwind-retail.example", "1001"));
  auto tasks = wait_for_tasks(rig, id, 1);
  REQUIRE(tasks.size() == 1);
  const std::string handoff_text = prop(rig.contact(id), "tandem_handoff_at");
  REQUIRE(!handoff_text.empty());
  const auto handoff_at = parse_timestamp_ms(handoff_text);
  REQUIRE(handoff_at);
  const std::int64_t handoff = *handoff_at;
  const auto due_at = parse_timestamp_ms(prop(tasks.front(), "hs_timestamp"));  // ms or ISO 8601
  REQUIRE(due_at);
  const std::int64_t due = *due_at;

  // The deadline walked here with the zone's fixed offset: Monday to Friday, 09:00-17:00 local,
  // the example's holidays (local dates) skipped.
  constexpr std::int64_t hour = 3'600'000, day = 24 * hour, offset = 14 * hour;
  auto holiday = [](std::int64_t local_day) {
    for (const char* d : {"2026-12-25", "2026-12-26", "2027-01-01"}) {
      std::tm tm{};
      strptime(d, "%Y-%m-%d", &tm);
      if (timegm(&tm) / 86400 == local_day) return true;
    }
    return false;
  };
  std::int64_t t = handoff, remaining = 4 * hour, expected = -1;
  for (int guard = 0; guard < 100 && expected < 0; ++guard) {
    const std::int64_t local = t + offset, d = local / day, tod = local - d * day;
    const int weekday = static_cast<int>((d + 4) % 7);  // 1970-01-01 was a Thursday; 0 = Sunday
    const bool working = weekday >= 1 && weekday <= 5 && !holiday(d);
    if (working && tod >= 9 * hour && tod < 17 * hour) {
      const std::int64_t open = 17 * hour - tod;
      if (remaining <= open) expected = t + remaining;
      remaining -= open;
      t += open;
    } else {
      t += (working && tod < 9 * hour) ? 9 * hour - tod : day - tod;  // to the opening, or the next day
    }
  }
  INFO("hand-off at " << handoff << ", task due " << due);
  CHECK(due == expected);
}

TEST_CASE("the scoreboard counts each campaign's contacts and funnel as the pipeline decides them", "[pipeline]") {
  PipelineRigOptions options;
  const std::int64_t day = 86'400'000;
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  options.campaigns_yaml = "currency: EUR\n"
                           "campaigns:\n"
                           "  - name: Webinars\n"
                           "    when: email domain in [\"webinar.example\"]\n"
                           "    start: " + format_iso8601_s(now - day).substr(0, 10) + "\n"
                           "    end: " + format_iso8601_s(now + day).substr(0, 10) + "\n"
                           "    budget: [{ item: Platform, cost: 900 }]\n"
                           "    targets: { relevant_leads: 10, mqls: 4 }\n";
  PipelineRig rig(options);
  rig.install();
  const std::string webinar = rig.create_contact(mql_properties("ada@webinar.example", "1003"));
  const std::string other = rig.create_contact(mql_properties("bob@northwind-retail.example", "1001"));
  REQUIRE(wait_for_property(rig, webinar, "lifecyclestage", "marketingqualifiedlead"));
  REQUIRE(wait_for_property(rig, other, "lifecyclestage", "marketingqualifiedlead"));
  json figures;
  // The state is saved with the decision's writes; read until both decisions are in.
  REQUIRE(wait_until(
      [&] {
        auto [status, out] = rig.tandem_command({"scoreboard", "--json"});
        if (status != 0) return false;
        figures = json::parse(out, nullptr, false);
        return figures.is_array() && figures.size() == 1 && figures[0].value("contacts", 0) == 2;
      },
      20s, 200ms));
  INFO(figures.dump(2));
  const json& f = figures[0];
  CHECK(f.at("portal") == rig.portal);
  const json& webinars = f.at("campaigns").at(0);
  CHECK(webinars.at("name") == "Webinars");
  CHECK(webinars.at("contacts") == 1);
  CHECK(webinars.at("relevant") == 1);  // no 'relevant' condition: every attributed contact
  CHECK(webinars.at("funnel").at(0).at("title") == "MQLs");
  CHECK(webinars.at("funnel").at(0).at("reached") == 1);
  CHECK(webinars.at("funnel").at(0).at("target") == 4);
  CHECK(webinars.at("cost_per_relevant") == 900);
  CHECK(f.at("campaigns").at(1).at("name") == "(no campaign)");
  CHECK(f.at("campaigns").at(1).at("contacts") == 1);
  auto [status, text] = rig.tandem_command({"scoreboard"});
  CHECK(status == 0);
  CHECK(text.find("Webinars") != std::string::npos);

  // Marketing ops add a catch-all campaign first in the file: the running Tandem reloads it (only
  // the campaigns file changed), new contacts count for it, and the webinar contact, decided again
  // after a change, stays counted for the campaign it came from.
  const double reloads = rig.metric_sum("tandem_rules_reloads_total", "applied");
  {
    std::ofstream(rig.dir.file("rules/campaigns.yaml")) << "campaigns:\n"
                                                           "  - name: Everyone\n"
                                                           "    when: email is present\n"
                                                           "    start: " + format_iso8601_s(now - day).substr(0, 10) + "\n"
                                                           "    end: " + format_iso8601_s(now + day).substr(0, 10) + "\n"
                                                        + options.campaigns_yaml.substr(options.campaigns_yaml.find("campaigns:\n") + 11);
  }
  REQUIRE(wait_until([&] { return rig.metric_sum("tandem_rules_reloads_total", "applied") > reloads; }, 10s, 100ms));
  rig.update_contact(webinar, {{"jobtitle", "Head of Data Platform"}});
  const std::string later = rig.create_contact(mql_properties("cy@northwind-retail.example", "1002"));
  REQUIRE(wait_for_property(rig, later, "lifecyclestage", "marketingqualifiedlead"));
  REQUIRE(wait_until(
      [&] {
        auto [code, out] = rig.tandem_command({"scoreboard", "--json"});
        if (code != 0) return false;
        figures = json::parse(out, nullptr, false);
        if (!figures.is_array() || figures.empty()) return false;
        std::map<std::string, int> by_name;
        for (const auto& c : figures[0].at("campaigns")) by_name[c.at("name")] = c.at("contacts");
        return by_name["Everyone"] == 1 && by_name["Webinars"] == 1 && by_name["(no campaign)"] == 1;
      },
      20s, 200ms));
}
