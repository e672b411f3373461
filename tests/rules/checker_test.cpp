#include <algorithm>

#include <catch2/catch.hpp>

#include "golden.hpp"
#include "rules/checker.hpp"
#include "rules/ruleset.hpp"

using namespace tandem::rules;
using namespace tandem::rules::testing;

namespace {
PropertyCatalog catalog() {
  std::string error;
  auto c = PropertyCatalog::from_json(read_text(data_path("properties.json")), error);
  REQUIRE(c);
  return *c;
}

std::string diagnostics_for(const std::string& text, const PropertyCatalog* props = nullptr) {
  return compile_ruleset("rules.yaml", text, props).diagnostics.format();
}
}  // namespace

TEST_CASE("every problem in a rule file is reported at once, in file order, with a caret") {
  const PropertyCatalog props = catalog();
  LoadResult r = compile_ruleset("errors.yaml", read_text(data_path("errors.yaml")), &props);
  CHECK_FALSE(r.ruleset);
  CHECK(r.diagnostics.error_count() == 16);
  CHECK(r.diagnostics.warning_count() == 5);
  check_golden("errors.expected", r.diagnostics.format());
}

TEST_CASE("the example rules are clean against the property list's names they share") {
  LoadResult r =
      compile_ruleset("lead-rules.yaml", read_text(std::string(TANDEM_SOURCE_DIR) + "/examples/rules/lead-rules.yaml"));
  INFO(r.diagnostics.format());
  REQUIRE(r.ruleset);
  CHECK(r.diagnostics.error_count() == 0);
  CHECK(r.diagnostics.warning_count() == 0);
  // Only notes, for the signals' dates that are custom properties of the example account.
  std::vector<std::string> noted;
  for (const auto& d : r.diagnostics.all()) {
    CHECK(d.severity == tandem::Severity::kNote);
    noted.push_back(d.message.substr(0, d.message.find(" is not")));
  }
  CHECK(noted == std::vector<std::string>{"the signal's date 'last_pricing_page_visit'", "the signal's date 'webinar_date'"});
  CHECK(r.ruleset->version.label == "2026.11-2");
  CHECK(r.ruleset->version.hash.size() == 64);
}

TEST_CASE("without a property list, near-misses of built-in names are warnings") {
  const std::string out = diagnostics_for(
      "fit:\n  - name: a\n    when: x > 1\n    points: 1\nqualify:\n  - name: q\n    when: fitt >= 50\n    stage: "
      "lead\n");
  CHECK(out ==
        "rules.yaml:7:11: warning: 'fitt' is read as a contact property; did you mean 'fit'?\n"
        "      when: fitt >= 50\n"
        "            ^\n");
}

TEST_CASE("built-ins are only usable where they have a value") {
  const std::string out = diagnostics_for("fit:\n  - name: a\n    when: engagement > 1\n    points: 1\n");
  CHECK(
      out.find(
          "rules.yaml:3:11: error: 'engagement' can only be used in not_ready, qualify and return_to_nurture rules") ==
      0);
}

TEST_CASE("carets land inside quoted and folded conditions") {
  const std::string text =
      "not_ready:\n"
      "  - name: q\n"
      "    when: \"jobtitle contains 'x' and\"\n"
      "  - name: folded\n"
      "    when: >\n"
      "      jobtitle contains \"a\" and\n"
      "      country ==\n";
  const std::string out = diagnostics_for(text);
  CHECK(out.find("rules.yaml:3:37: error: the condition ends too early") != std::string::npos);
  CHECK(out.find("rules.yaml:7:17: error: the condition ends too early") != std::string::npos);
}

TEST_CASE("structural mistakes are reported with their position") {
  CHECK(diagnostics_for("") == "rules.yaml:1:1: error: the rule file is empty\n");
  CHECK(diagnostics_for("- a\n- b\n").find("rules.yaml:1:1: error: a rule file is a mapping") == 0);
  CHECK(diagnostics_for("fit: [").find("rules.yaml:1:") == 0);
  CHECK(diagnostics_for("qualify:\n  - when: x == 1\n").find("rules.yaml:2:5: error: a qualify rule needs 'stage'") ==
        0);
  std::string deep(200, '[');
  CHECK(diagnostics_for("fit: " + deep).find("nests brackets more than") != std::string::npos);
}

TEST_CASE("contradictions and overlaps are warnings, disjoint rules are not") {
  const std::string text =
      "qualify:\n"
      "  - name: small\n"
      "    when: numberofemployees < 50 and fit >= 10\n"
      "    stage: marketingqualifiedlead\n"
      "  - name: large\n"
      "    when: numberofemployees >= 50 and fit >= 10\n"
      "    stage: marketingqualifiedlead\n"
      "  - name: A\n"
      "    when: industry == \"RETAIL\"\n"
      "    stage: salesqualifiedlead\n"
      "  - name: B\n"
      "    when: industry == \"BANKING\"\n"
      "    stage: salesqualifiedlead\n"
      "  - name: C\n"
      "    when: industry == \"RETAIL\" and not (industry == \"RETAIL\")\n"
      "    stage: opportunity\n"
      "fit:\n  - name: f\n    when: x > 1\n    points: 1\n";
  const std::string out = diagnostics_for(text);
  CHECK(out.find("overlap") == std::string::npos);
  CHECK(out.find("both move contacts") == std::string::npos);
  CHECK(out.find(
            "rules.yaml:14:5: warning: the qualify rule 'C' can never apply: its conditions contradict each other") ==
        0);
}

TEST_CASE("a qualify rule that implies one alternative of a not-ready rule is reported as dead") {
  const std::string text =
      "not_ready:\n"
      "  - name: Student\n"
      "    when: jobtitle contains \"student\" or jobtitle contains \"intern\"\n"
      "qualify:\n"
      "  - name: Interns with demos\n"
      "    when: jobtitle contains \"intern\" and engagement >= 10\n"
      "    stage: salesqualifiedlead\n"
      "  - name: Anyone engaged\n"
      "    when: engagement >= 10\n"
      "    stage: marketingqualifiedlead\n";
  const std::string out = diagnostics_for(text);
  CHECK(
      out.find("rules.yaml:5:5: warning: the qualify rule 'Interns with demos' can never apply: whenever it holds, the "
               "not_ready rule 'Student' (rules.yaml:2) holds too") == 0);
  CHECK(out.find("Anyone engaged") == std::string::npos);
}

TEST_CASE("HubSpot's default contact properties are built in with types and options") {
  const PropertyCatalog& d = default_contact_properties();
  CHECK(d.names().size() > 150);
  const PropertyInfo* status = d.find("hs_lead_status");
  REQUIRE(status);
  CHECK(status->type == Type::kString);
  CHECK(std::find(status->options.begin(), status->options.end(), "UNQUALIFIED") != status->options.end());
  REQUIRE(d.find("recent_conversion_date"));
  CHECK(d.find("recent_conversion_date")->type == Type::kDate);
  REQUIRE(d.find("num_conversion_events"));
  CHECK(d.find("num_conversion_events")->type == Type::kNumber);
  CHECK_FALSE(d.find("webinar_date"));
}

TEST_CASE("a bare word on the right of a comparison is a warning that suggests the quoted value") {
  const std::string rules =
      "qualify:\n"
      "  - name: q\n"
      "    when: hs_lead_status == UNQUALIFIED or jobtitle contains VP or lifecyclestage != Lead\n"
      "    stage: lead\n";
  const std::string out = diagnostics_for(rules);
  CHECK(out ==
        "rules.yaml:3:29: warning: 'UNQUALIFIED' is not a quoted value, so it is read as a property name, and HubSpot "
        "has no such default contact property; \"UNQUALIFIED\" is an option of 'hs_lead_status': write hs_lead_status "
        "== \"UNQUALIFIED\"\n"
        "      when: hs_lead_status == UNQUALIFIED or jobtitle contains VP or lifecyclestage != Lead\n"
        "                              ^\n"
        "rules.yaml:3:62: warning: 'VP' is not a quoted value, so it is read as a property name, and HubSpot has no "
        "such default contact property; to compare with the text, write \"VP\" (a custom property? check with "
        "--properties or --account)\n"
        "      when: hs_lead_status == UNQUALIFIED or jobtitle contains VP or lifecyclestage != Lead\n"
        "                                                               ^\n"
        "rules.yaml:3:86: warning: 'Lead' is not a quoted value, so it is read as a property name, and HubSpot has no "
        "such default contact property; \"lead\" is an option of 'lifecyclestage': write lifecyclestage != \"lead\"\n"
        "      when: hs_lead_status == UNQUALIFIED or jobtitle contains VP or lifecyclestage != Lead\n"
        "                                                                                       ^\n");
  // Two properties compared with each other stay quiet.
  CHECK(diagnostics_for("qualify:\n  - name: q\n    when: createdate < hs_lifecyclestage_lead_date\n    stage: lead\n")
            .empty());
}

TEST_CASE("with the account's properties a bare word is an error naming the option it matches") {
  const PropertyCatalog props = catalog();
  const std::string out =
      diagnostics_for("qualify:\n  - name: q\n    when: hs_lead_status == unqualified\n    stage: lead\n", &props);
  CHECK(out.find("rules.yaml:3:29: error: 'unqualified' is not a quoted value, so it is read as a property name, and "
                 "the account has no such property; \"UNQUALIFIED\" is an option of 'hs_lead_status': write "
                 "hs_lead_status == \"UNQUALIFIED\"\n") == 0);
  CHECK(out.find("unknown property") == std::string::npos);
  // A misspelt property on the right is still offered as one.
  const std::string near =
      diagnostics_for("qualify:\n  - name: q\n    when: createdate < recent_conversion_dat\n    stage: lead\n", &props);
  CHECK(near.find("or did you mean the property 'recent_conversion_date'?") != std::string::npos);
}

TEST_CASE("a signal's date is checked against HubSpot's defaults without a property list") {
  const std::string out = diagnostics_for(
      "engagement:\n"
      "  half_life: 30d\n"
      "  signals:\n"
      "    - name: Demo\n"
      "      when: recent_conversion_event_name == \"Demo request\"\n"
      "      date: recent_conversoin_date\n"
      "      points: 10\n"
      "    - name: Webinar\n"
      "      when: webinar_date is present\n"
      "      date: webinar_date\n"
      "      points: 5\n"
      "    - name: Emails\n"
      "      when: hs_email_open > 0\n"
      "      date: hs_email_open\n"
      "      points: 5\n");
  CHECK(out.find("rules.yaml:6:13: warning: the signal's date 'recent_conversoin_date' is not a HubSpot contact "
                 "property; did you mean 'recent_conversion_date'? (if it is a custom property, check with "
                 "--properties or --account)\n") == 0);
  CHECK(out.find("rules.yaml:10:13: note: the signal's date 'webinar_date' is not one of HubSpot's default contact "
                 "properties; if it is a custom property, check its name with --properties or --account\n") !=
        std::string::npos);
  CHECK(out.find("rules.yaml:14:13: warning: the signal's date 'hs_email_open' is a number in HubSpot, but a date is "
                 "needed here\n") != std::string::npos);
}

TEST_CASE("a value HubSpot's default options do not have is a warning") {
  const std::string out =
      diagnostics_for("qualify:\n  - name: q\n    when: lifecyclestage == \"marketingqualifiedleads\"\n    stage: lead\n");
  CHECK(out.find("rules.yaml:3:29: warning: 'marketingqualifiedleads' is not a value of 'lifecyclestage' in HubSpot's "
                 "default options; did you mean \"marketingqualifiedlead\"?") == 0);
  // Case does not matter, as when the rules compare.
  CHECK(diagnostics_for("qualify:\n  - name: q\n    when: lifecyclestage == \"Lead\"\n    stage: lead\n").empty());
}

TEST_CASE("an unexpected character is shown whole, and typographic quotes are named") {
  const std::string out = diagnostics_for("qualify:\n  - name: q\n    when: jobtitle == \u201cVP\u201d\n    stage: lead\n");
  CHECK(out ==
        "rules.yaml:3:23: error: unexpected character '\u201c': write text values between straight quotes, \"like "
        "this\" or 'like this'\n"
        "      when: jobtitle == \u201cVP\u201d\n"
        "                        ^\n");
}

TEST_CASE("a campaigns file beside the rules is checked like them, each problem in its own file") {
  const std::string rules = "qualify:\n  - name: q\n    when: fit >= 50\n    stage: marketingqualifiedlead\n"
                            "fit:\n  - name: f\n    when: jobtitle contains \"data\"\n    points: 60\n";
  CampaignsSource campaigns{"campaigns.yaml",
                            "version: x\n"
                            "relevant: fit >= 50 and engagment > 1\n"
                            "campaigns:\n"
                            "  - name: Fair\n"
                            "    when: hs_analytics_source == OFFLINE and fit >= 50\n"
                            "    start: 2026-10-01\n"
                            "    end: 2026-09-30\n"
                            "    budget:\n"
                            "      - { item: Booth, cost: -5 }\n"
                            "    targets: { mqls: 60, sqls: 80, opportunities: { count: 5, valeu: 100 } }\n"
                            "    win_rate: 30\n"
                            "  - name: Fair\n"
                            "    when: jobtitle contains \"x\"\n"
                            "    start: 1 October\n"
                            "    end: 2026-12-31\n"
                            "    dat: createdate\n"
                            "  - name: Builtin date\n"
                            "    when: jobtitle contains \"y\"\n"
                            "    date: now\n"
                            "    start: 2026-10-01\n"
                            "    end: 2026-12-31\n"};
  const LoadResult r = compile_ruleset("rules.yaml", rules, nullptr, &campaigns);
  const std::string out = r.diagnostics.format();
  INFO(out);
  CHECK_FALSE(r.ruleset);
  for (const char* expected :
       {"campaigns.yaml:2:25: warning: 'engagment' is read as a contact property; did you mean 'engagement'?",
        "campaigns.yaml:4:5: error: the campaign 'Fair' ends before it starts",
        "campaigns.yaml:4:5: warning: the campaign 'Fair' targets more sqls (80) than mqls (60)",
        "campaigns.yaml:5:34: warning: 'OFFLINE' is not a quoted value",
        "campaigns.yaml:5:46: error: 'fit' can only be used in not_ready, qualify and return_to_nurture rules",
        "campaigns.yaml:9:30: error: cost cannot be negative",
        "campaigns.yaml:10:63: error: unknown key 'valeu' in the target 'opportunities'; did you mean 'value'?",
        "campaigns.yaml:11:15: error: win_rate is the share of opportunities expected to be won, from 0 to 1",
        "campaigns.yaml:12:5: error: there are two campaigns named 'Fair'",
        "campaigns.yaml:14:12: error: start is a day such as 2026-10-01, not '1 October'",
        "campaigns.yaml:16:5: error: unknown key 'dat' in a campaign; did you mean 'date'?",
        "campaigns.yaml:19:11: error: 'now' is computed by Tandem; a campaign's date is a contact property such as createdate"})
    CHECK_THAT(out, Catch::Contains(expected));
  CHECK(out.find("rules.yaml:") == std::string::npos);

  // The rule file's own diagnostics come first, then the campaigns file's, each in line order;
  // a target at a stage the rules do not have is not tracked, and says so.
  const std::string staged =
      "stages: [lead, customer]\nqualify:\n  - name: q\n    when: lifecyclestage == Lead\n    stage: customer\n";
  CampaignsSource mql{"campaigns.yaml", "campaigns:\n  - name: C\n    when: jobtitle contains \"x\"\n"
                                        "    start: 2026-10-01\n    end: 2026-10-31\n    targets: { mqls: 5, won: 1 }\n"};
  const std::string both = compile_ruleset("rules.yaml", staged, nullptr, &mql).diagnostics.format();
  INFO(both);
  const auto rules_at = both.find("rules.yaml:4:29: warning: 'Lead' is not a quoted value");
  const auto campaigns_at =
      both.find("campaigns.yaml:2:5: warning: the campaign 'C' has a target counted at the stage marketingqualifiedlead, "
                "which the rules' stages do not have: it is not tracked");
  REQUIRE(rules_at != std::string::npos);
  REQUIRE(campaigns_at != std::string::npos);
  CHECK(rules_at < campaigns_at);
  CHECK(both.find("stage customer, which") == std::string::npos);
}

TEST_CASE("the example campaigns are checked with the example rules and clean") {
  const std::string dir = std::string(TANDEM_SOURCE_DIR) + "/examples/rules";
  LoadResult r = load_ruleset(dir + "/lead-rules.yaml");
  INFO(r.diagnostics.format());
  REQUIRE(r.ruleset);
  CHECK(r.diagnostics.error_count() == 0);
  CHECK(r.diagnostics.warning_count() == 0);
  const CampaignsAst& c = r.ruleset->ast.campaigns;
  CHECK(c.file == dir + "/campaigns.yaml");
  REQUIRE(c.campaigns.size() == 2);
  CHECK(c.campaigns[0].name == "Data Summit Berlin 2026");
  CHECK(c.campaigns[0].budget.size() == 3);
  CHECK(c.campaigns[0].targets.opportunity_value == 240000);
  CHECK(c.campaigns[0].win_rate == 0.3);
  CHECK(r.ruleset->campaigns_version.label == "2026-Q4");
  // The period is whole days in the rules' zone (+01:00): from 30 September 23:00 UTC.
  CHECK(r.ruleset->campaign_start_ms[0] == *parse_date_ms("2026-09-30T23:00:00Z"));
  CHECK(r.ruleset->campaign_end_ms[0] == *parse_date_ms("2026-12-31T23:00:00Z"));
  // The directory still holds one rule file: the campaigns file is not one.
  std::string error;
  CHECK(rule_files(dir, error) == std::vector<std::string>{dir + "/lead-rules.yaml"});
}
