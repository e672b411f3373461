#include "tests/hubspot/live_sandbox.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "common/http_client.hpp"

namespace tandem::testing {

using nlohmann::json;

namespace {
// Holds the sandbox's io_context open until the destructor lets it go.
using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
}  // namespace

LiveSandbox::LiveSandbox(sandbox::SandboxConfig config, std::optional<http::TlsServerConfig> tls)
    : io_(std::make_unique<boost::asio::io_context>()) {
  portal_ = config.portals.empty() ? 0 : config.portals.front().id;
  sandbox::SandboxOptions options;
  if (tls) ca_pem_ = tls->certificate_chain_pem;
  options.tls = std::move(tls);
  options.config = std::move(config);
  options.address = "127.0.0.1";
  server_ = std::make_unique<sandbox::SandboxServer>(*io_, std::move(options));
  base_ = server_->base_url();
  thread_ = std::thread([io = io_.get()] {
    Guard guard(io->get_executor());
    io->run();
  });
}

LiveSandbox::~LiveSandbox() {
  server_->stop();
  io_->stop();
  thread_.join();
  server_.reset();
}

json LiveSandbox::call(const std::string& method, const std::string& target, const json& body, int expect) {
  http::Request request;
  request.method = method;
  request.target = target;
  if (!body.is_null()) {
    request.body = body.dump();
    request.headers.set("Content-Type", "application/json");
  }
  http::ClientOptions client;
  client.extra_ca_pem = ca_pem_;
  auto r = http::fetch(base_, request, client);
  REQUIRE(r.has_value());
  INFO(method << " " << target << " -> " << r->status << " " << r->body);
  REQUIRE(r->status == expect);
  if (r->body.empty()) return json();
  return json::parse(r->body);
}

std::string LiveSandbox::mint_token(std::int64_t portal, std::int64_t ttl_s) {
  json request{{"expiresIn", ttl_s}};
  if (portal) request["portalId"] = portal;
  return call("POST", "/_sandbox/oauth/tokens", request, 200).at("access_token").get<std::string>();
}

json LiveSandbox::seed(const json& seed, std::int64_t portal) {
  return call("POST", "/_sandbox/seed?portalId=" + std::to_string(portal ? portal : portal_), seed, 200);
}

json LiveSandbox::snapshot() { return call("GET", "/_sandbox/snapshot", nullptr, 200); }

void LiveSandbox::set_faults(const json& rules) {
  if (rules.empty()) {
    call("DELETE", "/_sandbox/faults", nullptr, 204);
    return;
  }
  call("PUT", "/_sandbox/faults", json{{"rules", rules}}, 200);
}

void LiveSandbox::set_limits(int ten_secondly, int search_per_second) {
  call("PUT", "/_sandbox/limits", json{{"tenSecondly", ten_secondly}, {"searchPerSecond", search_per_second}}, 200);
}

std::vector<std::string> LiveSandbox::contact_ids(std::int64_t portal) {
  if (!portal) portal = portal_;
  std::vector<std::string> out;
  json all = snapshot();
  for (const auto& p : all.at("portals")) {
    if (p.at("id").get<std::int64_t>() != portal) continue;
    for (const auto& c : p.at("objects").at("contacts")) out.push_back(std::to_string(c.at("id").get<std::int64_t>()));
  }
  return out;
}

}  // namespace tandem::testing
