// `tandem sandbox`: runs the HubSpot-compatible sandbox until SIGINT/SIGTERM. Prints exactly one
// JSON line on stdout once listening (url, portal_id, app_id, client_id, client_secret,
// redirect_urls, webhook_target_url, ...); logs go to stderr. With --tls-cert/--tls-key or
// --tls-self-signed it listens on HTTPS only, and the line's url is https://.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <system_error>
#include <tuple>
#include <vector>

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
  std::string tls_cert;
  std::string tls_key;
  std::string tls_self_signed;  // a directory
};

// Writes `text` to `path`, readable by the owner only when `secret` (a private key must not be
// world-readable, even a throw-away one). Error text on failure.
std::optional<std::string> write_text_file(const std::filesystem::path& path, const std::string& text, bool secret) {
  std::error_code ec;
  std::filesystem::remove(path, ec);  // permissions are set on a new file, before the key is in it
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return "cannot create " + path.string();
  if (secret) {
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace, ec);
    if (ec) return "cannot restrict the permissions of " + path.string() + ": " + ec.message();
  }
  out << text;
  out.close();
  if (!out) return "cannot write " + path.string();
  return std::nullopt;
}

// The TLS material the flags name: none, read from PEM files, or generated into a directory
// (whose cert.pem is then returned in `cert_path` for the start-up line). Every flag mistake is
// collected into `errors`.
std::optional<http::TlsServerConfig> tls_from_args(const SandboxArgs& args, std::string& cert_path,
                                                   std::vector<std::string>& errors) {
  if (args.tls_cert.empty() != args.tls_key.empty()) errors.push_back("--tls-cert and --tls-key go together");
  if (!args.tls_self_signed.empty() && !args.tls_cert.empty())
    errors.push_back("--tls-self-signed and --tls-cert/--tls-key exclude each other");
  if (!errors.empty()) return std::nullopt;
  if (!args.tls_cert.empty()) {
    auto cert = read_file(args.tls_cert);
    if (!cert) errors.push_back("--tls-cert: cannot read " + args.tls_cert + ": " + cert.error().message());
    auto key = read_file(args.tls_key);
    if (!key) errors.push_back("--tls-key: cannot read " + args.tls_key + ": " + key.error().message());
    if (!cert || !key) return std::nullopt;
    cert_path = args.tls_cert;
    return http::TlsServerConfig{*cert, *key};
  }
  if (args.tls_self_signed.empty()) return std::nullopt;
  auto made = sandbox::make_self_signed_certificate();
  if (!made) {
    errors.push_back("--tls-self-signed: " + made.error().message);
    return std::nullopt;
  }
  std::filesystem::path dir(args.tls_self_signed);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    errors.push_back("--tls-self-signed: cannot create " + dir.string() + ": " + ec.message());
    return std::nullopt;
  }
  for (auto [name, text, secret] : {std::tuple{"cert.pem", &made->certificate_chain_pem, false},
                                    std::tuple{"key.pem", &made->private_key_pem, true}}) {
    if (auto err = write_text_file(dir / name, *text, secret)) {
      errors.push_back("--tls-self-signed: " + *err);
      return std::nullopt;
    }
  }
  cert_path = (dir / "cert.pem").string();
  return *made;
}

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
  std::string cert_path;
  std::vector<std::string> tls_errors;
  options.tls = tls_from_args(args, cert_path, tls_errors);
  if (!tls_errors.empty()) {
    for (const auto& e : tls_errors) std::cerr << "tandem sandbox: " << e << "\n";
    return 2;
  }

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
  auto info = server->startup_info();
  if (!cert_path.empty()) info["tls_certificate"] = cert_path;
  std::cout << info.dump() << std::endl;
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
  command->add_option("--tls-cert", args.tls_cert, "Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key")
      ->check(CLI::ExistingFile);
  command->add_option("--tls-key", args.tls_key, "Private key of --tls-cert (PEM)")->check(CLI::ExistingFile);
  command->add_option("--tls-self-signed", args.tls_self_signed,
                      "Serve HTTPS with a new self-signed certificate for 127.0.0.1/localhost, written to DIR/cert.pem "
                      "and DIR/key.pem (clients trust DIR/cert.pem)");
  command->callback([&exit_code] { exit_code = run_sandbox(args); });
}

}  // namespace tandem::connector
