// `tandem manifest`: writes the HubSpot developer project for this deployment (--out DIR), or
// checks an existing one against the configuration and the rules (--check DIR, exit 1 when they
// differ).

#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/config.hpp"
#include "connector/commands.hpp"
#include "connector/config.hpp"
#include "manifests/project.hpp"
#include "rules/ruleset.hpp"

namespace tandem::connector {
namespace {

struct ManifestArgs {
  std::string config_path;
  std::string rules_path;
  std::string out;
  std::string check;
};

int run(const ManifestArgs& args) {
  auto loaded_config = load_config(args.config_path);
  if (!loaded_config) return 2;
  TandemConfig config = std::move(*loaded_config);
  const std::string rules_path = args.rules_path.empty() ? config.rules.path : args.rules_path;
  auto rules = rules::load_ruleset(rules_path);
  if (!rules.ruleset) {
    std::cerr << rules.diagnostics.report("the rules");
    return 2;
  }
  manifests::ProjectInput input;
  input.manifest = config.manifest;
  input.redirect_urls = {config.hubspot.redirect_url};
  input.required_scopes = config.hubspot.scopes;
  input.optional_scopes = config.hubspot.optional_scopes;
  input.webhook_target_url = config.webhooks.public_base_url + config.webhooks.path;
  input.properties = rules.ruleset->properties();
  input.rules_file = rules.ruleset->ast.file;
  Diagnostics problems;
  manifests::check_input(input, args.config_path, problems);
  if (problems.has_errors()) {
    std::cerr << problems.report("the configuration");
    return 2;
  }
  if (!problems.empty()) std::cerr << problems.format();
  if (!args.check.empty()) {
    auto found = manifests::check_project(args.check, input);
    if (found.has_errors()) {
      std::cerr << found.report("the HubSpot project") << "Regenerate it with: tandem manifest --config " << args.config_path
                << " --rules " << rules_path << " --out " << args.check << '\n';
      return 1;
    }
    std::cout << args.check << ": the HubSpot project matches the configuration and the rules ("
              << input.properties.size() << " properties subscribed)\n";
    return 0;
  }
  for (const auto& [rel, text] : manifests::generate_project(input)) {
    const auto path = std::filesystem::path(args.out) / rel;
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out || !(out << text) || !out.flush()) {
      std::cerr << "tandem manifest: cannot write " << path.string() << '\n';
      return 2;
    }
    std::cout << "wrote " << path.string() << '\n';
  }
  std::cout << "Upload it with HubSpot's CLI: cd " << args.out << " && hs project upload\n";
  return 0;
}

}  // namespace

void add_manifest_command(CLI::App& app, int& exit_code) {
  static ManifestArgs args;
  auto* command = app.add_subcommand(
      "manifest", "Write the HubSpot developer project (app, OAuth scopes, webhook subscriptions from the rules), or check one");
  command->add_option("--config,-c", args.config_path, "Configuration file")->required()->check(CLI::ExistingFile);
  command->add_option("--rules", args.rules_path, "Rule file or folder (default: rules.path of the configuration)");
  auto* out = command->add_option("--out", args.out, "Write the project into this folder");
  auto* check = command->add_option("--check", args.check, "Compare the project in this folder; exit 1 when it differs");
  out->excludes(check);
  command->callback([&exit_code] {
    if (args.out.empty() && args.check.empty()) {
      std::cerr << "tandem manifest: give --out DIR or --check DIR\n";
      exit_code = 2;
      return;
    }
    exit_code = run(args);
  });
}

}  // namespace tandem::connector
