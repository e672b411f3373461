#pragma once
// The command line run in the test's process (connector::run_cli), its output captured: what a
// person typing `tandem ...` would see, without a child process.

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "connector/cli.hpp"

namespace tandem::testing {

struct CliRun {
  int code = 0;
  std::string out;
  std::string err;
};

// `args` without the program name: {"outbox", "stats", "--db", path}.
inline CliRun run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "tandem");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::ostringstream out, err;
  // Restored however run_cli ends, an exception included.
  struct Redirect {
    std::ostream& stream;
    std::streambuf* old;
    Redirect(std::ostream& s, std::streambuf* to) : stream(s), old(s.rdbuf(to)) {}
    ~Redirect() { stream.rdbuf(old); }
  };
  int code = 0;
  {
    Redirect o(std::cout, out.rdbuf()), e(std::cerr, err.rdbuf());
    code = connector::run_cli(static_cast<int>(argv.size()), argv.data());
  }
  return {code, out.str(), err.str()};
}

}  // namespace tandem::testing
