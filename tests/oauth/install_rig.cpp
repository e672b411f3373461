#include "tests/oauth/install_rig.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "common/config.hpp"
#include "common/http_client.hpp"
#include "oauth/key_ring.hpp"

namespace tandem::testing {

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind failed");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

sandbox::SandboxConfig install_sandbox_config(std::uint16_t tandem_port, std::vector<std::int64_t> portals, std::int64_t token_ttl_s) {
  auto c = sandbox::default_config();
  c.app.redirect_urls = {"http://127.0.0.1:" + std::to_string(tandem_port) + "/oauth/callback"};
  c.oauth.access_token_ttl_s = token_ttl_s;
  c.limits.ten_secondly = 100'000;
  c.limits.search_per_second = 1'000;
  const auto first = c.portals.front();
  c.portals.clear();
  const char* zones[] = {"Europe/Berlin", "America/New_York", "Asia/Tokyo"};
  for (std::size_t i = 0; i < portals.size(); ++i) {
    auto p = first;
    p.id = portals[i];
    p.domain = "account" + std::to_string(i + 1) + ".example.com";
    p.time_zone = zones[i % 3];
    c.portals.push_back(p);
  }
  return c;
}

namespace {

struct Url {
  std::string origin;
  std::string target;
};

Url split(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) throw std::runtime_error("not an absolute URL: " + url);
  auto slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

}  // namespace

http::Response Browser::get_once(const std::string& raw) {
  std::string url = choose ? choose(raw) : raw;
  Url u = split(url);
  http::Request r;
  r.method = "GET";
  r.target = u.target;
  std::string cookie;
  for (const auto& [k, v] : cookies[u.origin]) cookie += (cookie.empty() ? "" : "; ") + k + "=" + v;
  if (!cookie.empty()) r.headers.set("Cookie", cookie);
  auto answer = http::fetch(u.origin, std::move(r));
  if (!answer) throw std::runtime_error("GET " + url + " got no answer");
  for (const auto& h : answer->headers.all()) {
    if (!http::iequals(h.name, "Set-Cookie")) continue;
    auto semi = h.value.find(';');
    std::string pair = h.value.substr(0, semi);
    auto eq = pair.find('=');
    if (eq != std::string::npos) cookies[u.origin][pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  hops.push_back({url, answer->status});
  return *answer;
}

http::Response Browser::get(const std::string& start) {
  hops.clear();
  std::string url = start;
  for (int i = 0; i < 10; ++i) {
    http::Response r = get_once(url);
    if (r.status < 300 || r.status >= 400) return r;
    auto location = r.headers.get("Location");
    if (!location) return r;
    std::string next(*location);
    if (next.rfind("http", 0) != 0) next = split(hops.back().url).origin + next;
    url = next;
  }
  throw std::runtime_error("too many redirects from " + start);
}

TandemUnderTest::TandemUnderTest(const LiveSandbox& sandbox, const sandbox::SandboxConfig& sc, std::uint16_t port,
                                 const std::string& db_path, const std::string& extra_oauth_yaml, const Clock& clock) {
  ::setenv("OAUTH_TEST_CLIENT_SECRET", sc.app.client_secret.c_str(), 1);
  ::setenv("OAUTH_TEST_TOKEN_KEY", kTokenKeyHex, 1);
  std::string yaml = "server:\n  listen: 127.0.0.1:" + std::to_string(port) +
                     "\nhubspot:\n  api_base_url: " + sandbox.base() + "\n  auth_base_url: " + sandbox.base() +
                     "\n  app_id: \"" + std::to_string(sc.app.id) + "\"\n  client_id: " + sc.app.client_id +
                     "\n  client_secret: {env: OAUTH_TEST_CLIENT_SECRET}\n"
                     "oauth:\n  token_key: {env: OAUTH_TEST_TOKEN_KEY}\n" + extra_oauth_yaml +
                     // The journal's calls would count as token requests in tests that count them;
                     // the uninstall test turns it on.
                     (extra_oauth_yaml.find("uninstall_notices:") == std::string::npos ? "  uninstall_notices: false\n" : "") +
                     "store:\n  path: " + db_path + "\n  synchronous: normal\n"
                     "rules:\n  path: " + std::string(TANDEM_SOURCE_DIR) + "/examples/rules\n";
  config_yaml = yaml;
  auto document = config::Document::parse(yaml, "tandem.yaml");
  Diagnostics diagnostics;
  config = connector::read_config(document, diagnostics, true);
  if (diagnostics.has_errors()) throw std::runtime_error(diagnostics.report("the configuration"));
  auto keys = oauth::KeyRing::from_secrets(*config.oauth.token_key, config.oauth.previous_token_keys);
  if (!keys) throw std::runtime_error(keys.error().message);
  database = std::make_unique<store::Database>(config.store, metrics);
  outbox = std::make_unique<store::SqliteOutbox>(*database);
  tokens = std::make_unique<store::SqliteTokenStore>(*database, std::move(*keys));
  connector::Service::Options options;
  options.server.address = "127.0.0.1";
  options.server.port = port;
  options.handle_signals = false;
  options.job_tick = std::chrono::milliseconds(100);
  service = std::make_unique<connector::Service>(std::move(options), clock, metrics);
  connector::ConnectionsOptions co;
  co.score_properties = {"tandem_fit_score", "tandem_engagement_score"};
  co.accounts_sync_interval = std::chrono::milliseconds(200);
  connections = std::make_unique<connector::Connections>(*service, config, *tokens, *outbox, metrics, clock, co);
  thread = std::thread([this] { service->run(); });
}

TandemUnderTest::~TandemUnderTest() {
  service->stop();
  thread.join();
  connections.reset();
  service.reset();
}

std::string TandemUnderTest::base() const { return "http://127.0.0.1:" + std::to_string(service->port()); }

void TandemUnderTest::on_io(const std::function<void()>& f) {
  std::promise<void> done;
  boost::asio::post(service->io(), [&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

int token_requests(LiveSandbox& sandbox) {
  auto log = sandbox.call("GET", "/_sandbox/requests", nlohmann::json(), 200);
  int n = 0;
  for (const auto& e : log.at("results"))
    if (e.at("method") == "POST" && e.at("target").get<std::string>().rfind("/oauth/2026-03/token", 0) == 0 &&
        e.at("target").get<std::string>().find("/revoke") == std::string::npos)
      ++n;
  return n;
}

}  // namespace tandem::testing
