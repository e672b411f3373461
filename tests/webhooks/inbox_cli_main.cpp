// Test-only front end for `tandem serve` and `tandem inbox`, built from the same command files as
// the `tandem` binary, so the CLI is tested before (and independently of) its wiring in main.

#include <CLI/CLI.hpp>

#include "connector/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"tandem (intake commands only)"};
  app.name("tandem");
  app.require_subcommand(1);
  int exit_code = 0;
  tandem::connector::add_serve_command(app, exit_code);
  tandem::connector::add_inbox_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    app.exit(e);
    return 2;
  }
  return exit_code;
}
