#include "tests/sandbox/sandbox_fixture.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "common/http_client.hpp"

namespace tandem::sandbox::testing {

struct SandboxFixture::Guard {
  explicit Guard(boost::asio::io_context& io) : guard(io.get_executor()) {}
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard;
};

SandboxConfig test_config() {
  SandboxConfig c = default_config();
  c.random_seed = 42;
  c.limits.ten_secondly = 100'000;
  c.limits.search_per_second = 100'000;
  c.app.webhook_target_url.clear();  // webhook tests set their own target
  c.delivery.time_factor = 1e-6;
  return c;
}

SandboxFixture::SandboxFixture(SandboxConfig cfg, std::string state_file, std::optional<http::TlsServerConfig> tls)
    : config(std::move(cfg)) {
  if (tls) client.extra_ca_pem = tls->certificate_chain_pem;
  io = std::make_unique<boost::asio::io_context>();
  SandboxOptions options;
  options.config = config;
  options.clock = &clock;
  options.state_file = std::move(state_file);
  options.tls = std::move(tls);
  server = std::make_unique<SandboxServer>(*io, options);
  base = server->base_url();
  guard_ = std::make_unique<Guard>(*io);
  thread_ = std::thread([this] { io->run(); });
  token = mint_token();
}

SandboxFixture::~SandboxFixture() {
  server->stop();
  guard_.reset();
  io->stop();
  thread_.join();
  server.reset();
}

http::Response SandboxFixture::call(const std::string& method, const std::string& target, const std::string& body,
                                    const std::string& auth, const std::string& content_type) {
  http::Request request;
  request.method = method;
  request.target = target;
  request.body = body;
  if (!body.empty()) request.headers.set("Content-Type", content_type);
  if (auth == "default") request.headers.set("Authorization", "Bearer " + token);
  else if (!auth.empty()) request.headers.set("Authorization", "Bearer " + auth);
  auto result = http::fetch(base, request, client);
  if (!result) FAIL("request failed: " << result.error().message);
  return std::move(*result);
}

json SandboxFixture::call_json(const std::string& method, const std::string& target, const json& body, int expect_status) {
  auto r = call(method, target, body.is_null() ? std::string{} : body.dump());
  INFO(method << " " << target << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == expect_status);
  if (r.body.empty()) return nullptr;
  return json::parse(r.body);
}

std::string SandboxFixture::mint_token(const json& request) {
  auto r = call("POST", "/_sandbox/oauth/tokens", request.dump(), "");
  REQUIRE(r.status == 200);
  return json::parse(r.body).at("access_token").get<std::string>();
}

}  // namespace tandem::sandbox::testing
