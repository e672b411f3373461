// `tandem sandbox`: runs the HubSpot-compatible sandbox until SIGINT/SIGTERM. Prints exactly one
// JSON line on stdout once listening (url, portal_id, app_id, client_id, client_secret,
// redirect_urls, webhook_target_url, ...); logs go to stderr.

#include <iostream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/file.hpp"
#include "common/host_port.hpp"
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
      std::cerr << diagnostics.report(args.config);
      return 2;
    }
  }
  auto listen = parse_host_port(args.listen);
  if (!listen) {
    std::cerr << "--listen '" << args.listen << "': " << listen.error().message << "\n";
    return 2;
  }
  options.address = listen->host;
  options.port = listen->port;
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
    auto text = read_file(args.seed);
    if (!text) {
      std::cerr << "tandem sandbox: cannot read seed file " << args.seed << ": " << text.error().message() << "\n";
      return 2;
    }
    nlohmann::json seed;
    try {
      seed = nlohmann::json::parse(*text);
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
