#include <catch2/catch.hpp>

#include <thread>

#include "rules/evaluator.hpp"
#include "rules/explain.hpp"
#include "rules/time.hpp"

using namespace tandem::rules;

namespace {

const std::int64_t kAt = *parse_date_ms("2026-11-20T10:00:00Z");  // a Friday

RulesetPtr compile(const std::string& text) {
  LoadResult r = compile_ruleset("t.yaml", text);
  INFO(r.diagnostics.format());
  REQUIRE(r.ruleset);
  return r.ruleset;
}

// One not_ready rule per condition: decision.not_ready tells which held.
std::vector<bool> holds(const std::vector<std::string>& conditions, const ContactRecord& contact,
                        std::int64_t at = kAt) {
  std::string text = "not_ready:\n";
  for (std::size_t i = 0; i < conditions.size(); ++i)
    text += "  - name: c" + std::to_string(i) + "\n    when: '" + conditions[i] + "'\n";
  auto rs = compile(text);
  Evaluator ev;
  Decision d;
  ev.evaluate(*rs, contact, {}, at, d);
  std::vector<bool> out(conditions.size(), false);
  for (auto i : d.not_ready) out[static_cast<std::size_t>(i)] = true;
  return out;
}

bool holds1(const std::string& condition, const ContactRecord& contact) { return holds({condition}, contact)[0]; }

ContactRecord contact(std::vector<std::pair<std::string, std::string>> props) {
  return ContactRecord{"c1", std::move(props)};
}

}  // namespace

TEST_CASE("a condition on a missing property is false unless it asks 'is missing'") {
  const ContactRecord empty = contact({{"company", ""}});
  CHECK_FALSE(holds1("numberofemployees > 10", empty));
  CHECK_FALSE(holds1("numberofemployees <= 10", empty));
  CHECK_FALSE(holds1("country != \"Germany\"", empty));
  CHECK_FALSE(holds1("country not in [\"Germany\"]", empty));
  CHECK_FALSE(holds1("jobtitle contains \"x\"", empty));
  CHECK_FALSE(holds1("d within 30d", empty));
  CHECK(holds1("company is missing", empty));  // an empty string is not a value
  CHECK(holds1("not (country == \"Germany\")", empty));
  CHECK_FALSE(holds1("company is present", empty));
}

TEST_CASE("text comparisons ignore case, and numbers and dates are parsed from HubSpot strings") {
  const ContactRecord c = contact({{"email", "Ada@GMAIL.com"},
                                   {"jobtitle", "Head of Data"},
                                   {"n", "250"},
                                   {"bad", "12abc"},
                                   {"tags", "Snowflake; dbt;BigQuery"},
                                   {"d1", "2026-11-01T00:00:00Z"},
                                   {"d2", "1794909600000"},
                                   {"flag", "true"}});
  CHECK(holds({"email ends with \"@gmail.com\"", "jobtitle == \"head of data\"", "jobtitle starts with \"HEAD\"",
               "n between 50 and 5000", "n in [100, 250]", "bad > 1", "tags has \"dbt\"", "tags has \"db\"",
               "d1 within 30d", "d1 within 7d", "d2 > d1", "d1 < \"2026-11-02\"", "flag", "flag == true",
               "n + 50 == 300", "d1 > now - 20d"},
              c) == std::vector<bool>{true, true, true, true, true, false, true, false, true, false, true, true, true,
                                      true, true, true});
}

TEST_CASE("fit scores are clamped to their range and engagement decays with its half-life") {
  auto rs = compile(
      "fit:\n"
      "  range: [0, 50]\n"
      "  rules:\n"
      "    - {name: a, when: x > 1, points: 40}\n"
      "    - {name: b, when: x > 2, points: 30}\n"
      "    - {name: c, when: x > 100, points: -90}\n"
      "engagement:\n"
      "  half_life: 10d\n"
      "  signals:\n"
      "    - {name: s, when: d is present, date: d, points: 40}\n"
      "    - {name: w, when: e is present, date: e, points: 10, window: 5d}\n"
      "    - {name: p, per: views, points: 2, max: 15}\n");
  Evaluator ev;
  Decision d;
  ev.evaluate(*rs, contact({{"x", "5"}, {"d", "2026-11-10T10:00:00Z"}, {"e", "2026-11-10T10:00:00Z"}, {"views", "30"}}),
              {}, kAt, d);
  CHECK(d.fit[0].raw == 70);
  CHECK(d.fit[0].score == 50);
  CHECK(d.engagement.score == Approx(20 + 15));  // 40 halved once; the 10-day-old event is outside its 5-day window
  REQUIRE(d.engagement.contributions.size() == 2);
  CHECK(d.engagement.contributions[0].age_days == Approx(10));
  CHECK(d.engagement.contributions[0].factor == Approx(0.5));

  ev.evaluate(*rs, contact({{"x", "500"}}), {}, kAt, d);
  CHECK(d.fit[0].score == 0);  // 40 + 30 - 90 clamped at the bottom
}

TEST_CASE("business days skip weekends and holidays in the account's offset") {
  BusinessCalendar cal;
  cal.zone = *TimeZone::parse("+01:00");
  cal.holidays.push_back(*parse_date_ms("2026-11-24") / kMsPerDay);
  const auto two_days = *parse_duration("2 business days");
  CHECK(format_date(cal.add(kAt, two_days)) == "2026-11-25T10:00:00Z");  // Fri -> Mon, (Tue holiday) -> Wed
  CHECK(format_date(cal.add(kAt, *parse_duration("4 business hours"))) == "2026-11-20T14:00:00Z");
  CHECK(format_date(cal.add(kAt, *parse_duration("8 business hours"))) ==
        "2026-11-23T10:00:00Z");  // 6h on Friday, 2h on Monday from 09:00 local
  CHECK(format_date(cal.add(kAt, *parse_duration("3 days"))) == "2026-11-23T10:00:00Z");
  const std::int64_t saturday = *parse_date_ms("2026-11-21T12:00:00Z");
  // From a Saturday, counting starts at Monday 09:00 local; +1 business day is Tuesday, a holiday here.
  CHECK(format_date(cal.add(saturday, *parse_duration("1 business day"))) == "2026-11-25T08:00:00Z");
}

TEST_CASE("a due date in business days stays within business hours") {
  BusinessCalendar cal;  // UTC, Monday to Friday, 09:00-17:00
  const auto two_days = *parse_duration("2 business days");
  // Monday 18:00: due at the close of Wednesday, not at 18:00.
  CHECK(format_date(cal.add(*parse_date_ms("2026-11-23T18:00:00Z"), two_days)) == "2026-11-25T17:00:00Z");
  // Monday 07:00: from the opening.
  CHECK(format_date(cal.add(*parse_date_ms("2026-11-23T07:00:00Z"), two_days)) == "2026-11-25T09:00:00Z");
  // Inside business hours the time of day is kept.
  CHECK(format_date(cal.add(*parse_date_ms("2026-11-23T11:30:00Z"), two_days)) == "2026-11-25T11:30:00Z");
  // Friday 20:00: Tuesday's close.
  CHECK(format_date(cal.add(*parse_date_ms("2026-11-27T20:00:00Z"), two_days)) == "2026-12-01T17:00:00Z");
}

TEST_CASE("a named zone follows daylight saving on both sides of the March and November changes") {
  // New York, 2026: clocks go forward on Sunday 8 March at 02:00 (EST -05:00 to EDT -04:00) and back
  // on Sunday 1 November at 02:00.
  const auto ny = TimeZone::parse("America/New_York");
  REQUIRE(ny);
  CHECK(ny->named());
  CHECK(ny->offset_ms_at(*parse_date_ms("2026-03-06T15:00:00Z")) == -5 * kMsPerHour);
  CHECK(ny->offset_ms_at(*parse_date_ms("2026-03-09T15:00:00Z")) == -4 * kMsPerHour);
  CHECK(ny->offset_ms_at(*parse_date_ms("2026-11-02T15:00:00Z")) == -5 * kMsPerHour);
  // 02:30 on 8 March does not exist: it is read as 03:30 EDT. 01:30 on 1 November happens twice: the first.
  CHECK(format_date(ny->to_utc(*parse_date_ms("2026-03-08T02:30:00Z"))) == "2026-03-08T07:30:00Z");
  CHECK(format_date(ny->to_utc(*parse_date_ms("2026-11-01T01:30:00Z"))) == "2026-11-01T05:30:00Z");

  BusinessCalendar cal;
  cal.zone = *ny;
  const auto two_days = *parse_duration("2 business days");
  // Friday 10:00 EST + 2 business days = Tuesday 10:00 local, which is EDT by then.
  CHECK(format_date(cal.add(*parse_date_ms("2026-03-06T15:00:00Z"), two_days)) == "2026-03-10T14:00:00Z");
  // Friday 10:00 EDT + 2 business days = Tuesday 10:00 EST.
  CHECK(format_date(cal.add(*parse_date_ms("2026-10-30T14:00:00Z"), two_days)) == "2026-11-03T15:00:00Z");
  // Friday 16:00 EST + 2 business hours: one on Friday, one from Monday's 09:00 EDT opening.
  CHECK(format_date(cal.add(*parse_date_ms("2026-03-06T21:00:00Z"), *parse_duration("2 business hours"))) ==
        "2026-03-09T14:00:00Z");
  CHECK(format_date(cal.add(*parse_date_ms("2026-10-30T20:00:00Z"), *parse_duration("2 business hours"))) ==
        "2026-11-02T15:00:00Z");
  // A day is the local day: 23:30 EST on 1 December is already 2 December in UTC.
  CHECK(format_day(*parse_date_ms("2026-12-02T04:30:00Z"), *ny) == "2026-12-01");
  CHECK(format_local(*parse_date_ms("2026-12-02T04:30:00Z"), *ny) == "2026-12-01 23:30 America/New_York (04:30 UTC)");
  CHECK(format_local(*parse_date_ms("2026-12-02T04:30:00Z"), TimeZone{}) == "2026-12-02 04:30 UTC");
}

TEST_CASE("time zones are tz database names or fixed offsets and anything else is named") {
  CHECK(TimeZone::parse("Europe/Berlin"));
  CHECK(TimeZone::parse("UTC"));
  CHECK(TimeZone::parse("-05:30")->offset_ms_at(0) == -(5 * kMsPerHour + 30 * kMsPerMinute));
  CHECK_FALSE(TimeZone::parse("+15:00").has_value());
  std::string problem;
  CHECK_FALSE(TimeZone::parse("America/New_Yrok", &problem).has_value());
  CHECK(problem.find("'America/New_Yrok' is not a time zone") != std::string::npos);
  CHECK(problem.find("America/New_York") != std::string::npos);
}

TEST_CASE("dates and durations parse the forms HubSpot and marketers use") {
  CHECK(parse_date_ms("2026-11-20") == kAt - 10 * kMsPerHour);
  CHECK(parse_date_ms("2026-11-20T11:00:00+01:00") == kAt);
  CHECK(parse_date_ms("2026-11-20T10:00:00.000Z") == kAt);
  CHECK(parse_date_ms("1795168800000") == kAt);
  CHECK_FALSE(parse_date_ms("20/11/2026"));
  CHECK_FALSE(parse_date_ms("2026-13-01"));
  CHECK(parse_duration("30d")->calendar_ms() == 30 * kMsPerDay);
  CHECK(parse_duration("2 weeks")->calendar_ms() == 14 * kMsPerDay);
  // The rule files' durations take both spellings, as conditions do.
  for (const auto& [short_form, long_form] : std::vector<std::pair<std::string, std::string>>{
           {"14d", "14 days"}, {"2w", "2 weeks"}, {"12h", "12 hours"}, {"90m", "90 minutes"}, {"1d", "1 day"}}) {
    INFO(short_form << " / " << long_form);
    REQUIRE(parse_duration(short_form));
    REQUIRE(parse_duration(long_form));
    CHECK(parse_duration(short_form)->calendar_ms() == parse_duration(long_form)->calendar_ms());
  }
  CHECK(parse_duration("2 business days")->business);
  CHECK_FALSE(parse_duration("2 business weeks"));
  CHECK_FALSE(parse_duration("soon"));
}

TEST_CASE("one compiled ruleset is shared by threads and gives the same decisions") {
  auto rs = compile(
      "fit:\n  - {name: a, when: n > 10, points: 10}\n  - {name: b, when: email ends with \"@x.com\", points: 5}\n"
      "engagement:\n  half_life: 7d\n  signals:\n    - {name: s, when: d is present, date: d, points: 20}\n");
  std::vector<ContactRecord> contacts;
  for (int i = 0; i < 200; ++i)
    contacts.push_back(contact({{"n", std::to_string(i)},
                                {"email", i % 2 ? "a@x.com" : "a@y.com"},
                                {"d", format_date(kAt - i * kMsPerHour)}}));
  auto run = [&](std::vector<double>& out) {
    Evaluator ev;
    Decision d;
    for (const auto& c : contacts) {
      ev.evaluate(*rs, c, {}, kAt, d, EvalOptions{false, false});
      out.push_back(d.fit[0].score + d.engagement.score);
    }
  };
  std::vector<double> expected;
  run(expected);
  std::vector<std::vector<double>> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&run, &r] { run(r); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) CHECK(r == expected);
}

TEST_CASE("several named fit models, each usable in conditions by name") {
  auto rs = compile(
      "fit:\n  - {name: size, when: n >= 100, points: 60}\n"
      "fit_models:\n  - name: partner_fit\n    range: [0, 10]\n    rules:\n      - {name: agency, when: industry == "
      "\"MARKETING\", points: 25}\n"
      "qualify:\n  - {name: partner, when: partner_fit >= 10 and fit < 50, stage: opportunity}\n"
      "  - {name: customer, when: fit >= 50, stage: marketingqualifiedlead}\n");
  Evaluator ev;
  Decision d;
  ev.evaluate(*rs, contact({{"n", "5"}, {"industry", "marketing"}, {"lifecyclestage", "lead"}}), {}, kAt, d);
  REQUIRE(d.fit.size() == 2);
  CHECK(d.fit[1].score == 10);
  CHECK(d.fit[1].raw == 25);
  CHECK(d.target_stage_name() == "opportunity");
  ev.evaluate(*rs, contact({{"n", "500"}, {"industry", "marketing"}, {"lifecyclestage", "lead"}}), {}, kAt, d);
  CHECK(d.target_stage_name() == "marketingqualifiedlead");
}

TEST_CASE("the fast path does not depend on tracing: same decision with and without a trace") {
  auto rs = compile(
      "fit:\n  - {name: a, when: x > 1 or y == \"a\", points: 10}\n  - {name: b, when: x > 1 and y == \"b\", points: "
      "5}\n"
      "not_ready:\n  - {name: n, when: z is present}\n"
      "qualify:\n  - {name: q, when: fit >= 10, stage: lead}\n");
  Evaluator ev;
  Decision fast, traced;
  for (const auto& c : {contact({{"x", "2"}, {"y", "b"}}), contact({{"y", "a"}, {"z", "1"}}), contact({})}) {
    ev.evaluate(*rs, c, {}, kAt, fast, EvalOptions{false, false});
    const double fast_fit = fast.fit[0].score;
    const auto fast_stage = fast.target_stage;
    ev.evaluate(*rs, c, {}, kAt, traced, EvalOptions{true, true});
    CHECK(fast_fit == traced.fit[0].score);
    CHECK(fast_stage == traced.target_stage);
  }
}

TEST_CASE("text tests take a list with any of and whole words with contains word") {
  const ContactRecord c = contact({{"jobtitle", "Senior VP, Data Platform"},
                                   {"mvp", "MVP Engineer"},
                                   {"intl", "International Sales"},
                                   {"email", "ana@eu.rivalmetrics.com"}});
  CHECK(holds({"jobtitle contains any of [\"director\", \"vp\"]", "jobtitle contains any of [\"director\", \"cto\"]",
               "jobtitle starts with any of [\"junior\", \"senior\"]", "email ends with any of [\"@gmail.com\", \"rivalmetrics.com\"]",
               "email ends with any of [\"@gmail.com\", \"@yahoo.com\"]", "jobtitle contains word \"vp\"",
               "mvp contains word \"vp\"", "mvp contains \"vp\"", "intl contains word \"intern\"",
               "intl contains any word of [\"intern\", \"sales\"]", "jobtitle contains word \"data platform\"",
               "jobtitle contains word \"data plat\"", "missing_prop contains any of [\"a\"]"},
              c) == std::vector<bool>{true, false, true, true, false, true, false, true, false, true, true, false, false});
}

TEST_CASE("any of needs a list of text") {
  LoadResult r = compile_ruleset("t.yaml", "not_ready:\n  - name: n\n    when: 'jobtitle contains any of [1, \"vp\"]'\n");
  CHECK_FALSE(r.ruleset);
  CHECK_THAT(r.diagnostics.format(), Catch::Contains("'contains any of' needs text items, not a number"));
}

TEST_CASE("an email domain test matches the domain and its subdomains") {
  const ContactRecord c = contact({{"email", "Ana@EU.RivalMetrics.com"}, {"other", "bob@notrivalmetrics.com"}, {"bad", "no address"}});
  CHECK(holds({"email domain in [\"rivalmetrics.com\"]", "email domain in [\"gmail.com\", \"yahoo.com\"]",
               "other domain in [\"rivalmetrics.com\"]", "email domain == \"eu.rivalmetrics.com\"",
               "email domain != \"gmail.com\"", "email domain not in [\"rivalmetrics.com\"]",
               "bad domain in [\"address\"]", "bad domain not in [\"x.com\"]", "missing_prop domain not in [\"x.com\"]",
               "email domain in [\"metrics.com\"]"},
              c) == std::vector<bool>{true, false, false, true, true, false, false, false, false, false});
}

TEST_CASE("an email domain test refuses a domain written with its at sign") {
  LoadResult r = compile_ruleset("t.yaml", "not_ready:\n  - name: n\n    when: 'email domain in [\"@gmail.com\"]'\n");
  CHECK_FALSE(r.ruleset);
  CHECK_THAT(r.diagnostics.format(), Catch::Contains("give the domain without '@', e.g. \"gmail.com\""));
}

TEST_CASE("task due dates and SLA deadlines are shown in local time next to UTC") {
  auto rs = compile(
      "settings:\n  time_zone: America/New_York\n  business_hours: \"09:00-17:00\"\n"
      "qualify:\n  - name: q\n    when: email is present\n    stage: marketingqualifiedlead\n    handoff: direct\n"
      "    task:\n      subject: \"Call\"\n      body: \"Call by {{due}}\"\n      due: 2 business days\n");
  Evaluator ev;
  Decision d;
  // Friday 20 November, 10:00 UTC = 05:00 in New York: two business days from Monday's opening.
  const ContactRecord c = contact({{"email", "a@b.example"}, {"lifecyclestage", "lead"}, {"hubspot_owner_id", "7"}});
  ev.evaluate(*rs, c, {}, kAt, d, EvalOptions{true, true});
  REQUIRE(d.tasks.size() == 1);
  RenderedTask task = render_task(*rs, c, d, d.tasks[0]);
  CHECK(format_date(task.due_ms) == "2026-11-24T14:00:00Z");
  CHECK(task.body == "Call by 2026-11-24 09:00 America/New_York (14:00 UTC)");
  CHECK_THAT(explain_text(*rs, c, d, ev), Catch::Contains("due 2026-11-24 09:00 America/New_York (14:00 UTC)"));
  // In the account's zone when the caller gives one (the rules' zone is then not used): 11:00 in
  // Berlin is within business hours, so the time of day is kept.
  BusinessCalendar berlin = rs->ast.settings.calendar;
  berlin.zone = *TimeZone::parse("Europe/Berlin");
  ev.evaluate(*rs, c, {}, kAt, d, EvalOptions{.trace = true, .plan_actions = true, .calendar = &berlin});
  REQUIRE(d.tasks.size() == 1);
  CHECK(render_task(*rs, c, d, d.tasks[0]).body == "Call by 2026-11-24 11:00 Europe/Berlin (10:00 UTC)");
}

TEST_CASE("or missing holds for the comparison and for a contact without the property") {
  CHECK(holds({"n > 10 or missing", "n > 100 or missing"}, contact({{"n", "50"}})) == std::vector<bool>{true, false});
  CHECK(holds({"n > 10 or missing", "n > 100 or is missing"}, contact({})) == std::vector<bool>{true, true});
}

TEST_CASE("an explanation shows the and-or structure and says what an or-group still needs") {
  auto rs = compile(
      "qualify:\n  - name: q\n    when: n > 10 and (stage == \"lead\" or stage is missing)\n"
      "    stage: marketingqualifiedlead\n");
  Evaluator ev;
  Decision d;
  const ContactRecord small = contact({{"n", "5"}, {"stage", "lead"}, {"lifecyclestage", "lead"}});
  ev.evaluate(*rs, small, {}, kAt, d, EvalOptions{true, true});
  std::string text = explain_text(*rs, small, d, ev);
  // The or-group held: only the comparison is needed.
  CHECK_THAT(text, Catch::Contains("Not moved to marketingqualifiedlead by \"q\": needs n > 10 (n is \"5\").\n"));
  CHECK_THAT(text, Catch::Contains("          no   n > 10  (n is \"5\")\n"
                                   "          yes  any of:\n"
                                   "               yes  stage == \"lead\"  (stage is \"lead\")\n"
                                   "               no   stage is missing  (stage is \"lead\")\n"));

  const ContactRecord other = contact({{"n", "50"}, {"stage", "other"}, {"lifecyclestage", "lead"}});
  ev.evaluate(*rs, other, {}, kAt, d, EvalOptions{true, true});
  text = explain_text(*rs, other, d, ev);
  CHECK_THAT(text, Catch::Contains("needs one of: stage == \"lead\" (stage is \"other\") or stage is missing (stage is "
                                   "\"other\").\n"));

  // A nested and-group inside an or-group is needed as a whole, in brackets.
  auto nested = compile(
      "qualify:\n  - name: q\n    when: a == 1 or (b == 2 and c == 3)\n    stage: marketingqualifiedlead\n");
  const ContactRecord none = contact({{"a", "0"}, {"b", "0"}, {"c", "0"}, {"lifecyclestage", "lead"}});
  ev.evaluate(*nested, none, {}, kAt, d, EvalOptions{true, true});
  text = explain_text(*nested, none, d, ev);
  CHECK_THAT(text, Catch::Contains("needs one of: a == 1 (a is \"0\") or (b == 2 (b is \"0\") and c == 3 (c is \"0\")).\n"));
  CHECK_THAT(text, Catch::Contains("          no   any of:\n"
                                   "               no   a == 1  (a is \"0\")\n"
                                   "               no   all of:\n"
                                   "                    no   b == 2  (b is \"0\")\n"
                                   "                    no   c == 3  (c is \"0\")\n"));

  // As JSON, the tree of a rule that held.
  auto nr = compile("not_ready:\n  - name: n\n    when: a == 1 or (b == 2 and c == 3)\n");
  const ContactRecord one = contact({{"a", "1"}, {"b", "2"}, {"c", "0"}});
  ev.evaluate(*nr, one, {}, kAt, d, EvalOptions{true, true});
  const nlohmann::json tree = explain_json(*nr, one, d, ev).at("not_ready").at(0).at("condition_tree");
  INFO(tree.dump());
  CHECK(tree.at("held") == true);
  REQUIRE(tree.at("any").size() == 2);
  CHECK(tree.at("any").at(0).at("condition") == "a == 1");
  CHECK(tree.at("any").at(1).at("held") == false);
  CHECK(tree.at("any").at(1).at("all").at(0).at("held") == true);
  CHECK(tree.at("any").at(1).at("all").at(1).at("values") == "c is \"0\"");
}

TEST_CASE("a hold for the cool-off says when the cool-off ends") {
  auto rs = compile("qualify:\n  - name: q\n    when: email is present\n    stage: marketingqualifiedlead\n");
  Evaluator ev;
  Decision d;
  const ContactRecord c = contact({{"email", "a@b.example"}, {"lifecyclestage", "lead"}});
  ContactState state;
  state.cool_off_until = *parse_date_ms("2026-11-27T10:00:00Z");
  ev.evaluate(*rs, c, state, kAt, d, EvalOptions{true, true});
  REQUIRE(d.blocked.size() == 1);
  const std::string text = explain_text(*rs, c, d, ev);
  CHECK_THAT(text, Catch::Contains("the contact is in its cool-off after being returned to nurture, until 2026-11-27"));
  CHECK(explain_json(*rs, c, d, ev).at("held_back").at(0).at("until") == "2026-11-27T10:00:00Z");
}

TEST_CASE("a contact is attributed to the first campaign whose condition and period hold, in the rules' zone") {
  const std::string rules =
      "settings:\n  time_zone: America/New_York\n"
      "fit:\n  - name: f\n    when: jobtitle contains \"data\"\n    points: 60\n";
  CampaignsSource campaigns{"campaigns.yaml",
                            "relevant: fit >= 50\n"
                            "campaigns:\n"
                            "  - name: Fall fair\n"
                            "    when: hs_analytics_source == \"OFFLINE\"\n"
                            "    start: 2026-11-01\n"
                            "    end: 2026-11-30\n"
                            "  - name: Anything offline\n"
                            "    when: hs_analytics_source == \"OFFLINE\"\n"
                            "    date: recent_conversion_date\n"
                            "    start: 2026-01-01\n"
                            "    end: 2026-12-31\n"};
  LoadResult r = compile_ruleset("t.yaml", rules, nullptr, &campaigns);
  INFO(r.diagnostics.format());
  REQUIRE(r.ruleset);
  const CompiledRuleset& rs = *r.ruleset;
  Evaluator ev;
  Decision d;
  auto campaign_of = [&](const std::string& created, const std::string& jobtitle = "Head of Data") {
    ev.evaluate(rs, contact({{"hs_analytics_source", "OFFLINE"}, {"createdate", created}, {"jobtitle", jobtitle},
                             {"recent_conversion_date", "2026-06-01T12:00:00Z"}}),
                {}, kAt, d);
    return d.campaign >= 0 ? rs.ast.campaigns.campaigns[static_cast<std::size_t>(d.campaign)].name : std::string("none");
  };
  // 1 November starts at 00:00 in New York, 04:00 UTC (daylight saving until 06:00 UTC that day).
  CHECK(campaign_of("2026-11-01T03:59:59Z") == "Anything offline");
  CHECK(campaign_of("2026-11-01T04:00:00Z") == "Fall fair");
  CHECK(d.relevant);
  // 30 November ends at midnight in New York, 05:00 UTC on 1 December (standard time).
  CHECK(campaign_of("2026-12-01T04:59:59Z") == "Fall fair");
  CHECK(campaign_of("2026-12-01T05:00:00Z") == "Anything offline");
  CHECK(campaign_of("2026-11-10T12:00:00Z", "Student") == "Fall fair");
  CHECK_FALSE(d.relevant);  // attributed, but fit 0 < 50
  ev.evaluate(rs, contact({{"hs_analytics_source", "ORGANIC_SEARCH"}, {"createdate", "2026-11-10T12:00:00Z"}}), {}, kAt,
              d);
  CHECK(d.campaign == -1);
  CHECK_FALSE(d.relevant);

  // The explanation names it.
  const ContactRecord fair = contact({{"hs_analytics_source", "OFFLINE"}, {"createdate", "2026-11-10T12:00:00Z"},
                                      {"jobtitle", "Head of Data"}});
  ev.evaluate(rs, fair, {}, kAt, d, EvalOptions{true, true});
  CHECK_THAT(explain_text(rs, fair, d, ev), Catch::Contains("Campaign: \"Fall fair\" (campaigns.yaml:3), a relevant lead.\n"));
  CHECK(explain_json(rs, fair, d, ev).at("campaign").at("name") == "Fall fair");
}
