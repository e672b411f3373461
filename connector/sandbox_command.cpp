// `tandem sandbox`: runs the HubSpot-compatible sandbox until SIGINT/SIGTERM. Prints exactly one
// JSON line on stdout once listening (url, portal_id, app_id, client_id, client_secret,
// redirect_urls, webhook_target_url, ...); logs go to stderr.

#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "connector/commands.hpp"
#include "sandbox/sandbox_server.hpp"

namespace tandem::connector {

namespace {

struct SandboxArgs {
  std::string listen = "127.0.0.1:0";
  std::string config;
  std::string seed;
  std::string state;
};

int run_sandbox(const SandboxArgs& args) {
  Logger log("sandbox");
  sandbox::SandboxOptions options;
  if (!args.config.empty()) {
    Diagnostics diagnostics;
    options.config = sandbox::load_config_file(args.config, diagnostics);
    if (diagnostics.has_errors()) {
      std::cerr << diagnostics.format() << diagnostics.error_count() << " error(s) in " << args.config << "\n";
      return 2;
    }
  }
  auto colon = args.listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "--listen must be HOST:PORT, got '" << args.listen << "'\n";
    return 2;
  }
  options.address = args.listen.substr(0, colon);
  try {
    int port = std::stoi(args.listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    options.port = static_cast<std::uint16_t>(port);
  } catch (const std::exception&) {
    std::cerr << "--listen: invalid port in '" << args.listen << "'\n";
    return 2;
  }
  options.state_file = args.state;

  boost::asio::io_context io;
  std::unique_ptr<sandbox::SandboxServer> server;
  try {
    server = std::make_unique<sandbox::SandboxServer>(io, options);
  } catch (const std::exception& e) {
    std::cerr << "tandem sandbox: " << e.what() << "\n";
    return 1;
  }
  if (!args.seed.empty()) {
    std::ifstream in(args.seed, std::ios::binary);
    if (!in) {
      std::cerr << "tandem sandbox: cannot read seed file " << args.seed << "\n";
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::json seed;
    try {
      seed = nlohmann::json::parse(ss.str());
    } catch (const nlohmann::json::exception& e) {
      std::cerr << "tandem sandbox: seed file " << args.seed << " is not valid JSON: " << e.what() << "\n";
      return 2;
    }
    if (auto err = server->seed(seed)) {
      std::cerr << "tandem sandbox: seed file " << args.seed << ": " << *err << "\n";
      return 2;
    }
  }
  std::cout << server->startup_info().dump() << std::endl;
  log.info("sandbox listening", {{"url", server->base_url()}});

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log.info("stopping", {{"signal", signal}});
    server->stop();
    io.stop();
  });
  io.run();
  server.reset();
  return 0;
}

}  // namespace

void add_sandbox_command(CLI::App& app, int& exit_code) {
  static SandboxArgs args;
  auto* command = app.add_subcommand("sandbox", "Run a local HubSpot-compatible server for tests, demos and benchmarks");
  command->add_option("--listen", args.listen, "HOST:PORT to listen on (port 0 picks a free port)")->capture_default_str();
  command->add_option("--config", args.config, "Sandbox configuration (YAML; see examples/sandbox.yaml)")->check(CLI::ExistingFile);
  command->add_option("--seed", args.seed, "JSON seed file with owners, teams, contacts and tasks")->check(CLI::ExistingFile);
  command->add_option("--state", args.state, "State file: loaded at start when present, written on shutdown");
  command->callback([&exit_code] { exit_code = run_sandbox(args); });
}

}  // namespace tandem::connector
