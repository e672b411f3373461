#pragma once
// The HubSpot developer project Tandem is uploaded as (platform 2025.2, contract §9.1), generated
// from the configuration and the rules, and the check of an existing project against them.
//
//   hsproject.json                            the project: name, source folder, platform version
//   src/app/app-hsmeta.json                   the app: marketplace distribution, OAuth with the
//                                             redirect URL and the required and optional scopes
//   src/app/webhooks/webhooks-hsmeta.json     the webhook target URL, its concurrency, and one
//                                             subscription per contact event the rules depend on
//
// The subscriptions follow from the rules: a property change for every contact property the rules
// read, so that a rule on a new property cannot silently miss its events.

#include <map>
#include <string>
#include <vector>

#include "common/diagnostics.hpp"
#include "manifests/config.hpp"

namespace tandem::manifests {

inline constexpr const char* kPlatformVersion = "2025.2";

struct ProjectInput {
  ManifestConfig manifest;
  std::vector<std::string> redirect_urls;
  std::vector<std::string> required_scopes;
  std::vector<std::string> optional_scopes;
  std::string webhook_target_url;
  std::vector<std::string> properties;  // contact properties the rules read
  std::string rules_file;               // named in the checker's messages
};

// Problems with the input itself (a scope Tandem cannot work without is missing, a URL HubSpot
// refuses): errors in `diagnostics`, named after `config_file`.
void check_input(const ProjectInput& input, const std::string& config_file, Diagnostics& diagnostics);

// Relative path -> file contents (2-space JSON, trailing newline), deterministic.
std::map<std::string, std::string> generate_project(const ProjectInput& input);

// Compares the project in `dir` with what generate_project() would write; every difference is an
// error naming the file (and the line, where there is one) in words an admin understands.
Diagnostics check_project(const std::string& dir, const ProjectInput& input);

}  // namespace tandem::manifests
