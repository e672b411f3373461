#include "connector/cli.hpp"

#include <iostream>

#include <CLI/CLI.hpp>

#include "common/config.hpp"
#include "connector/commands.hpp"
#include "connector/config.hpp"

namespace tandem::connector {
namespace {

constexpr const char* kVersion = "0.1.0";

void add_config_command(CLI::App& app, int& exit_code) {
  auto* config = app.add_subcommand("config", "Work with tandem.yaml");
  config->require_subcommand(1);
  auto* check = config->add_subcommand("check", "Validate a configuration file and TANDEM_* overrides; print every problem");
  static std::string path;
  static bool require_credentials = false;
  check->add_option("--config,-c", path, "Configuration file")->required()->check(CLI::ExistingFile);
  check->add_flag("--require-credentials", require_credentials, "Also require hubspot.client_id and client_secret, as serve does");
  check->callback([&exit_code] {
    if (!load_config(path, require_credentials)) {
      exit_code = 1;
      return;
    }
    std::cout << path << ": configuration is valid\n";
    exit_code = 0;
  });
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"Tandem enforces the lead-handling agreement between marketing and sales in HubSpot."};
  app.name("tandem");
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  int exit_code = 0;

  auto* version = app.add_subcommand("version", "Print the version");
  version->callback([&exit_code] {
    std::cout << "tandem " << kVersion << '\n';
    exit_code = 0;
  });
  add_config_command(app, exit_code);
  add_rules_command(app, exit_code);
  add_sandbox_command(app, exit_code);
  add_serve_command(app, exit_code);
  add_inbox_command(app, exit_code);
  add_outbox_command(app, exit_code);
  add_accounts_command(app, exit_code);
  add_tokens_command(app, exit_code);
  add_manifest_command(app, exit_code);
  add_audit_command(app, exit_code);
  add_scoreboard_command(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    app.exit(e);
    return 2;
  }
  return exit_code;
}

}  // namespace tandem::connector
