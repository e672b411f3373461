#pragma once
// The `tandem` command line: builds the CLI11 application, parses, runs the chosen command.

namespace tandem::connector {

// Returns the process exit code: the command's own, 2 for usage errors (unknown flag or
// subcommand, missing argument), 0 for --help.
int run_cli(int argc, char** argv);

}  // namespace tandem::connector
