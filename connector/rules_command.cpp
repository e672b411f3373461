// `tandem rules check|test|explain|simulate`: wiring only; the tools live in rules/tools.cpp.

#include <unistd.h>

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "common/clock.hpp"
#include "connector/account_properties.hpp"
#include "connector/account_store.hpp"
#include "connector/commands.hpp"
#include "rules/checker.hpp"
#include "rules/tools.hpp"

namespace tandem::connector {

namespace {

// `rules check --account ID`: the account's contact properties, read through the HubSpot client
// with its stored token, are the list the names and values are checked against.
int check_against_account(rules::CheckArgs args, std::int64_t portal, const std::string& config_path) {
  auto loaded = open_store(config_path, true, "tandem rules check");
  if (!loaded) return 2;
  auto account = loaded->store->tokens.account(portal);
  if (!account) {
    std::cerr << "tandem rules check: reading account " << portal << " failed: " << account.error().message << '\n';
    return 2;
  }
  if (!*account) {
    std::cerr << "tandem rules check: no account " << portal << " (tandem accounts list shows them)\n";
    return 2;
  }
  auto read = read_account_properties(loaded->config, loaded->store->tokens, portal, "contacts");
  if (!read) {
    std::cerr << "tandem rules check: reading the contact properties of account " << portal
              << " failed: " << read.error() << '\n';
    return 2;
  }
  rules::PropertyCatalog catalog;
  for (const auto& p : *read) {
    std::vector<std::string> options;
    for (const auto& o : p.options) options.push_back(o.value);
    catalog.add(rules::PropertyCatalog::describe(p.name, p.type, p.field_type, std::move(options)));
  }
  args.account_properties = &catalog;
  args.account = "account " + std::to_string(portal);
  return rules::run_check(args, std::cout, std::cerr);
}

}  // namespace

void add_rules_command(CLI::App& app, int& exit_code) {
  auto* rules = app.add_subcommand("rules", "Check, test, explain and back-test rule files");
  rules->require_subcommand(1);

  auto check_args = std::make_shared<rules::CheckArgs>();
  auto* check =
      rules->add_subcommand("check", "Report every problem in rule files (file:line:col), errors and warnings");
  check->add_option("paths", check_args->paths, "Rule files or directories")->required();
  check->add_option("--properties", check_args->properties,
                    "Property list exported from HubSpot (JSON), to check names and types");
  auto account = std::make_shared<std::int64_t>(0);
  auto config_path = std::make_shared<std::string>();
  auto* account_option = check
      ->add_option("--account", *account,
                   "A connected account (portal id): check names, types and values against its contact properties, "
                   "read from HubSpot")
      ->excludes("--properties")
      ->check(CLI::PositiveNumber);
  check->add_option("--config", *config_path,
                    "Configuration of the running Tandem, with --account (default: the embedded defaults and TANDEM_* variables, as tandem serve)")
      ->needs(account_option);
  check->callback([check_args, account, account_option, config_path, &exit_code] {
    if (account_option->count() == 0) {
      exit_code = rules::run_check(*check_args, std::cout, std::cerr);
      return;
    }
    exit_code = check_against_account(*check_args, *account, *config_path);
  });

  auto test_args = std::make_shared<rules::TestArgs>();
  auto* test = rules->add_subcommand("test", "Run the rule tests kept next to the rules (tests/*.yaml)");
  test->add_option("path", test_args->path, "Rules directory, rule file or test file")->required();
  test->add_flag("--coverage", test_args->coverage, "List the rules and conditions no test exercised");
  test->add_flag("-v,--verbose", test_args->verbose, "Name every test run: PASS, FAIL or NOT RUN, with file:line");
  test->callback([test_args, &exit_code] { exit_code = rules::run_test(*test_args, std::cout, std::cerr); });

  auto explain_args = std::make_shared<rules::ExplainArgs>();
  auto* explain = rules->add_subcommand("explain", "Explain the decision for one contact");
  explain->add_option("--rules", explain_args->rules, "Rule file (or directory holding one)")->required();
  explain->add_option("--contact", explain_args->contact, "Contact as JSON (HubSpot object or flat properties)")
      ->required();
  explain->add_option("--state", explain_args->state,
                      "Tandem's stored state for the contact (JSON; replaces a \"state\" in the contact)");
  explain->add_option("--at", explain_args->at, "Evaluation time (default: now), e.g. 2026-11-20T10:00:00Z");
  explain->add_flag("--json", explain_args->json, "Machine-readable output");
  explain->callback([explain_args, &exit_code] {
    exit_code = rules::run_explain(*explain_args, to_epoch_ms(SystemClock::instance().now()), std::cout, std::cerr);
  });

  auto simulate_args = std::make_shared<rules::SimulateArgs>();
  auto* simulate = rules->add_subcommand("simulate", "Back-test rules over an export of contacts (JSON-lines or CSV)");
  simulate->add_option("--rules", simulate_args->rules, "Rule file (or directory holding one)")->required();
  simulate
      ->add_option("--contacts", simulate_args->contacts,
                   "Contacts: JSON-lines, or CSV (*.csv) with a header row; Tandem's stored state in a \"state\" "
                   "object per line, or in tandem.* columns (tandem.stage_entered_at, tandem.recycle_count, "
                   "tandem.cool_off_until, tandem.last_return_reason, tandem.fired)")
      ->required();
  simulate->add_option("--baseline", simulate_args->baseline,
                       "Older rules to compare with: which contacts change stage and why");
  simulate->add_option("--at", simulate_args->at, "Evaluation time (default: now)");
  simulate->callback([simulate_args, &exit_code] {
    simulate_args->progress = ::isatty(STDOUT_FILENO) != 0;
    exit_code = rules::run_simulate(*simulate_args, to_epoch_ms(SystemClock::instance().now()), std::cout, std::cerr);
  });
}

}  // namespace tandem::connector
