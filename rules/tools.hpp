#pragma once
// The `tandem rules` tools, independent of the command-line parser so tests call them directly.
// Each returns the exit code: 0 ok, 1 errors or failures, 2 usage errors (missing files, bad
// arguments).

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace tandem::rules {

class PropertyCatalog;

struct CheckArgs {
  std::vector<std::string> paths;  // rule files or directories of them
  std::string properties;          // HubSpot property export (JSON), optional
  // Or the contact properties read from a connected account (`--account`), named by `account`.
  const PropertyCatalog* account_properties = nullptr;
  std::string account;
};
int run_check(const CheckArgs& args, std::ostream& out, std::ostream& err);

struct TestArgs {
  std::string path;
  bool coverage = false;
  bool verbose = false;  // name every test: PASS, FAIL (with its details) or NOT RUN, with file:line
};
int run_test(const TestArgs& args, std::ostream& out, std::ostream& err);

struct ExplainArgs {
  std::string rules;
  std::string contact;  // a JSON object: {"id", "properties": {...}} or flat, with an optional "state"
  std::string state;    // optional stored state (JSON, rules/contacts.hpp); replaces the contact's "state"
  std::string at;       // optional; default now
  bool json = false;
};
int run_explain(const ExplainArgs& args, std::int64_t now_ms, std::ostream& out, std::ostream& err);

struct SimulateArgs {
  std::string rules;
  std::string contacts;  // JSON-lines, or CSV by extension; each line may carry stored state (rules/contacts.hpp)
  std::string baseline;  // optional older rules
  std::string at;
  bool progress = false;  // a progress bar on stderr (the command sets it when stdout is a terminal)
};
int run_simulate(const SimulateArgs& args, std::int64_t now_ms, std::ostream& out, std::ostream& err);

}  // namespace tandem::rules
