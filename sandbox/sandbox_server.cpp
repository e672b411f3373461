#include "sandbox/sandbox_server.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/file.hpp"
#include "sandbox/sandbox_router.hpp"
#include "sandbox/state_snapshot.hpp"

namespace tandem::sandbox {

SandboxServer::SandboxServer(boost::asio::io_context& io, SandboxOptions options)
    : impl_(std::make_shared<SandboxRouter>(io, std::move(options))) {
  auto& o = impl_->options;
  if (!o.state_file.empty() && std::filesystem::exists(o.state_file)) {
    auto text = read_file(o.state_file);
    if (!text) throw std::runtime_error("cannot read state file " + o.state_file + ": " + text.error().message());
    json snapshot;
    try {
      snapshot = json::parse(*text);
    } catch (const json::exception& e) {
      throw std::runtime_error("state file " + o.state_file + " is not valid JSON: " + e.what());
    }
    if (auto err = restore_snapshot(snapshot, impl_->crm, impl_->grants)) throw std::runtime_error("state file " + o.state_file + ": " + *err);
  }
  http::ServerOptions so;
  so.address = o.address;
  so.port = o.port;
  so.body_limit = o.body_limit;
  so.max_connections = 4096;
  so.tls = o.tls;
  std::weak_ptr<SandboxRouter> weak = impl_;
  impl_->server = std::make_unique<http::HttpServer>(io, so, [weak](http::Request request, http::Responder responder) {
    if (auto self = weak.lock()) self->handle(std::move(request), std::move(responder));
  });
}

Result<http::TlsServerConfig, http::CertificateError> make_self_signed_certificate() {
  return http::make_self_signed_certificate("tandem sandbox");
}

SandboxServer::~SandboxServer() { stop(); }

std::string SandboxServer::base_url() const { return impl_->server->base_url(); }
std::uint16_t SandboxServer::port() const { return impl_->server->port(); }
nlohmann::json SandboxServer::startup_info() const { return impl_->startup_info(); }

std::optional<std::string> SandboxServer::seed(const nlohmann::json& seed) {
  std::unique_lock lock(impl_->mutex);
  auto r = impl_->crm.seed(impl_->crm.default_portal(), seed, impl_->now_ms());
  if (auto* e = std::get_if<ApiError>(&r)) return e->body.value("message", "seed failed");
  return std::nullopt;
}

std::optional<std::string> SandboxServer::save_state() {
  std::unique_lock lock(impl_->mutex);
  return impl_->save_state_locked();
}

void SandboxServer::stop() {
  {
    std::unique_lock lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->server->stop();
  impl_->webhooks->stop();
  if (auto err = save_state()) impl_->log.error("could not save the sandbox state", {{"error", *err}});
}

}  // namespace tandem::sandbox
