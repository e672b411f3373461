#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/http_client.hpp"
#include "common/http_server.hpp"
#include "tests/support/scripted_server.hpp"
#include "tests/support/tls_fixture.hpp"
#include "tests/support/wait_until.hpp"

using namespace tandem::http;
using namespace std::chrono_literals;
using tandem::testing::wait_until;

namespace {

// A server on 127.0.0.1:0 with its own io thread.
struct Served {
  boost::asio::io_context io;
  std::optional<HttpServer> server;
  std::thread thread;

  Served(ServerOptions options, Handler handler) {
    server.emplace(io, std::move(options), std::move(handler));
    thread = std::thread([this] {
      auto guard = boost::asio::make_work_guard(io);
      io.run();
    });
  }
  ~Served() {
    server->stop();
    io.stop();
    thread.join();
  }
};

Handler echo() {
  return sync_handler([](const Request& r) {
    auto response = Response::text(200, r.method + ' ' + r.target + ' ' + r.body);
    response.headers.set("X-Peer", r.remote_address);
    return response;
  });
}

Request get(std::string target) {
  Request r;
  r.target = std::move(target);
  return r;
}

Response ok(const ClientResult& result) {
  if (!result) FAIL("request failed: " << result.error().message);
  return *result;
}

ClientError failed(const ClientResult& result) {
  if (result) FAIL("expected a failure, got HTTP " << result->status);
  return result.error();
}

int raw_connect(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

// Sends raw bytes to 127.0.0.1:port and returns everything the server answers until it closes.
// With half_close the client ends its side after the last chunk, as a peer that gave up would.
std::string raw_exchange(std::uint16_t port, const std::vector<std::string>& chunks, std::chrono::milliseconds pause,
                         bool half_close = false) {
  int fd = raw_connect(port);
  for (const auto& chunk : chunks) {
    if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;
    std::this_thread::sleep_for(pause);
  }
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string answer;
  char buffer[4096];
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return answer;
}

}  // namespace

TEST_CASE("a request round-trips over loopback in clear") {
  Served s({}, echo());
  Request r;
  r.method = "POST";
  r.target = "/echo?x=1";
  r.body = "hello";
  auto response = ok(fetch(s.server->base_url(), r));
  CHECK(response.status == 200);
  CHECK(response.body == "POST /echo?x=1 hello");
  CHECK(response.headers.get("content-type") == "text/plain; charset=utf-8");
}

TEST_CASE("a request round-trips over TLS with a certificate the test generated") {
  const auto& cert = tandem::testing::test_certificate();
  ServerOptions options;
  options.tls = TlsServerConfig{cert.certificate_pem, cert.private_key_pem};
  Served s(options, echo());
  CHECK(s.server->base_url().rfind("https://127.0.0.1:", 0) == 0);
  ClientOptions client;
  client.extra_ca_pem = cert.certificate_pem;
  CHECK(ok(fetch(s.server->base_url(), get("/secure"), client)).body == "GET /secure ");

  SECTION("the host name is verified and SNI sent: localhost is in the certificate") {
    CHECK(ok(fetch("https://localhost:" + std::to_string(s.server->port()), get("/n"), client)).status == 200);
  }
  SECTION("a certificate the client does not trust is refused") {
    ClientOptions other;
    other.extra_ca_pem = tandem::testing::other_certificate().certificate_pem;
    CHECK(failed(fetch(s.server->base_url(), get("/"), other)).kind == ClientError::Kind::kTls);
  }
  SECTION("the system trust store alone does not trust a self-signed certificate") {
    CHECK(failed(fetch(s.server->base_url(), get("/"), {})).kind == ClientError::Kind::kTls);
  }
}

TEST_CASE("a body over the server's limit is answered 413") {
  ServerOptions options;
  options.body_limit = 1024;
  Served s(options, echo());
  Request r;
  r.method = "POST";
  r.body = std::string(1025, 'x');
  CHECK(ok(fetch(s.server->base_url(), r)).status == 413);
  r.body = std::string(1024, 'x');
  CHECK(ok(fetch(s.server->base_url(), r)).status == 200);
}

TEST_CASE("headers over the server's limit are answered 431") {
  ServerOptions options;
  options.header_limit = 2048;
  Served s(options, echo());
  Request r = get("/");
  r.headers.set("X-Big", std::string(4096, 'a'));
  CHECK(ok(fetch(s.server->base_url(), r)).status == 431);
}

TEST_CASE("malformed HTTP is answered 400") {
  Served s({}, echo());
  auto answer = raw_exchange(s.server->port(), {"GARBAGE\r\n\r\n"}, 0ms);
  CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
}

TEST_CASE("the server's read timeout fires on a request trickled byte by byte") {
  ServerOptions options;
  options.read_timeout = 300ms;
  std::atomic<int> handled{0};
  Served s(options, sync_handler([&](const Request&) {
             ++handled;
             return Response::text(200, "late");
           }));
  std::string request = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  std::vector<std::string> bytes;
  for (char c : request) bytes.emplace_back(1, c);
  auto answer = raw_exchange(s.server->port(), bytes, 20ms);
  CHECK(answer.rfind("HTTP/1.1 408", 0) == 0);
  CHECK(handled == 0);
}

TEST_CASE("the client's request deadline fires when the server never answers") {
  tandem::testing::ScriptedServer silent([](tandem::testing::ScriptedConnection& c) {
    c.read_request();
    std::this_thread::sleep_for(1500ms);
  });
  ClientOptions options;
  options.request_timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto error = failed(fetch(silent.origin(), get("/"), options));
  CHECK(error.kind == ClientError::Kind::kTimeout);
  CHECK(error.maybe_applied);
  CHECK(std::chrono::steady_clock::now() - start < 1400ms);
}

TEST_CASE("a connection reset after the request was read is reported as possibly applied") {
  tandem::testing::ScriptedServer resetting([](tandem::testing::ScriptedConnection& c) {
    c.read_request();
    c.reset();
  });
  Request r;
  r.method = "POST";
  r.target = "/crm/v3/objects/tasks";
  r.body = "{}";
  auto error = failed(fetch(resetting.origin(), r));
  CHECK(error.kind == ClientError::Kind::kConnectionLost);
  CHECK(error.maybe_applied);
}

TEST_CASE("a truncated response body is an error, not a short body") {
  tandem::testing::ScriptedServer truncating([](tandem::testing::ScriptedConnection& c) {
    c.read_request();
    c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part");
    c.close();
  });
  CHECK(failed(fetch(truncating.origin(), get("/"))).kind == ClientError::Kind::kConnectionLost);
}

TEST_CASE("a response over the client's body limit is refused") {
  Served s({}, sync_handler([](const Request&) { return Response::text(200, std::string(10'000, 'z')); }));
  ClientOptions options;
  options.body_limit = 1000;
  CHECK(failed(fetch(s.server->base_url(), get("/"), options)).kind == ClientError::Kind::kBodyTooLarge);
}

TEST_CASE("an unreachable port is a connect error") {
  std::uint16_t port;
  {
    Served s({}, echo());
    port = s.server->port();
  }
  CHECK(failed(fetch("http://127.0.0.1:" + std::to_string(port), get("/"))).kind == ClientError::Kind::kConnect);
  CHECK(failed(fetch("ftp://127.0.0.1:1", get("/"))).kind == ClientError::Kind::kInvalidUrl);
}

TEST_CASE("a client error prints its kind and message") {
  std::ostringstream out;
  out << ClientError{ClientError::Kind::kConnectionLost, "connection to 127.0.0.1:1 lost", true};
  CHECK(out.str() == "connection_lost: connection to 127.0.0.1:1 lost");
  // A ClientResult holding an error can be named in a failure message the same way.
  ClientResult result = ClientError{ClientError::Kind::kTimeout, "too slow"};
  std::ostringstream named;
  named << result.error();
  CHECK(named.str() == "timeout: too slow");
}

TEST_CASE("the client keeps connections alive and recovers from one the server closed") {
  ServerOptions options;
  options.idle_timeout = 200ms;
  Served s(options, echo());
  boost::asio::io_context io;
  HttpClient client(io);
  auto send = [&](std::string target) {
    std::optional<ClientResult> result;
    client.async_send(s.server->base_url(), get(std::move(target)), [&](ClientResult r) { result = std::move(r); });
    io.restart();
    io.run();
    REQUIRE(result);
    return std::string(ok(*result).headers.get("X-Peer").value_or(""));
  };
  std::string first = send("/1");
  std::string second = send("/2");
  CHECK(first == second);  // same client port: the connection was reused
  // The server closes the idle connection.
  REQUIRE(wait_until([&] { return s.server->connections() == 0; }, 5s));
  std::string third = send("/3");  // a stale pooled connection is replaced, not reported
  CHECK(third != first);
}

TEST_CASE("a handler may answer later from another thread") {
  std::vector<std::thread> workers;
  std::mutex m;
  Served s({}, [&](Request request, Responder respond) {
    std::lock_guard lock(m);
    workers.emplace_back([request = std::move(request), respond = std::move(respond)]() mutable {
      std::this_thread::sleep_for(20ms);
      respond(Response::text(202, "later " + request.target));
    });
  });
  auto response = ok(fetch(s.server->base_url(), get("/async")));
  CHECK(response.status == 202);
  CHECK(response.body == "later /async");
  std::lock_guard lock(m);
  for (auto& w : workers) w.join();
}

TEST_CASE("a handler that drops its responder answers 500 instead of hanging") {
  Served s({}, [](Request, Responder) {});
  CHECK(ok(fetch(s.server->base_url(), get("/"))).status == 500);
}

TEST_CASE("a handler that throws answers 500") {
  Served s({}, [](Request, Responder) { throw std::runtime_error("boom"); });
  CHECK(ok(fetch(s.server->base_url(), get("/"))).status == 500);
}

TEST_CASE("form encoding round-trips and rejects malformed escapes") {
  CHECK(form_encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
  auto parsed = parse_form("grant_type=authorization_code&redirect_uri=http%3A%2F%2Flocalhost%3A3000&scope=a+b");
  REQUIRE(parsed);
  REQUIRE(parsed->size() == 3);
  CHECK((*parsed)[1].second == "http://localhost:3000");
  CHECK((*parsed)[2].second == "a b");
  CHECK_FALSE(parse_form("a=%zz"));
  CHECK_FALSE(parse_form("a=%4"));
}

TEST_CASE("a handler can make the server reset the connection instead of answering") {
  Served s({}, sync_handler([](const Request&) {
    auto r = Response::text(200, "never sent");
    r.headers.set(kAbortHeader, "reset");
    return r;
  }));
  Request r;
  r.method = "POST";
  r.body = "{}";
  auto error = failed(fetch(s.server->base_url(), r));
  CHECK(error.kind == ClientError::Kind::kConnectionLost);
  CHECK(error.maybe_applied);
}

namespace {

// Lets a scripted connection hold its answer until the test has its result, without the script
// sleeping for a guessed time.
struct Gate {
  std::promise<void> promise;
  std::shared_future<void> future = promise.get_future().share();
  void open() { promise.set_value(); }
  // True when opened before `limit` passed.
  bool wait(std::chrono::milliseconds limit) const { return future.wait_for(limit) == std::future_status::ready; }
};

// A server that reads the request and answers 200 "late" only after `gate` opened or `limit`
// passed: what a slow HubSpot looks like to the client.
tandem::testing::ScriptedServer slow_server(const Gate& gate, std::chrono::milliseconds limit) {
  return tandem::testing::ScriptedServer([&gate, limit](tandem::testing::ScriptedConnection& c) {
    if (c.read_request().empty()) return;
    gate.wait(limit);
    c.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlate");
    c.close();
  });
}

// Runs one call on a fresh client, in callback or in awaitable form, and returns its result.
enum class Form { kCallback, kAwaitable };

ClientResult call(Form form, const std::string& origin, Request request, ClientOptions options = {},
                  CallOptions per_call = {}) {
  boost::asio::io_context io;
  HttpClient client(io, std::move(options));
  std::optional<ClientResult> result;
  if (form == Form::kCallback) {
    client.async_send(origin, std::move(request), per_call, [&](ClientResult r) { result = std::move(r); });
  } else {
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> { result = co_await client.send(origin, std::move(request), per_call); },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  io.run();
  REQUIRE(result);
  return std::move(*result);
}

}  // namespace

TEST_CASE("a per-call deadline shorter than the client's fires") {
  Gate gate;
  auto server = slow_server(gate, 10s);
  ClientOptions options;
  options.request_timeout = 20s;
  for (Form form : {Form::kCallback, Form::kAwaitable}) {
    INFO("form " << static_cast<int>(form));
    auto error = failed(call(form, server.origin(), get("/"), options, {.timeout = 200ms}));
    CHECK(error.kind == ClientError::Kind::kTimeout);
    CHECK(error.maybe_applied);  // the request was written: the server may act on it
  }
  gate.open();
}

TEST_CASE("a per-call deadline longer than the client's lets a slow answer arrive") {
  Gate never;  // the server answers after 600 ms, beyond the client-wide 100 ms
  auto server = slow_server(never, 600ms);
  ClientOptions options;
  options.request_timeout = 100ms;
  SECTION("the client-wide deadline alone cuts it") {
    CHECK(failed(call(Form::kCallback, server.origin(), get("/"), options)).kind == ClientError::Kind::kTimeout);
  }
  SECTION("a longer per-call deadline does not") {
    for (Form form : {Form::kCallback, Form::kAwaitable}) {
      INFO("form " << static_cast<int>(form));
      CHECK(ok(call(form, server.origin(), get("/"), options, {.timeout = 20s})).body == "late");
    }
  }
  SECTION("fetch takes a per-call deadline too") {
    CHECK(ok(fetch(server.origin(), get("/"), options, {.timeout = 20s})).body == "late");
  }
}

TEST_CASE("the awaitable form gives the same results as the callback form") {
  Served echoing({}, echo());
  tandem::testing::ScriptedServer resetting([](tandem::testing::ScriptedConnection& c) {
    c.read_request();
    c.reset();
  });
  Served big({}, sync_handler([](const Request&) { return Response::text(200, std::string(10'000, 'z')); }));
  ClientOptions small;
  small.body_limit = 1000;
  Request post;
  post.method = "POST";
  post.target = "/crm/v3/objects/tasks";
  post.body = "{}";

  struct Case {
    std::string name;
    std::string origin;
    Request request;
    ClientOptions options;
  };
  const std::vector<Case> cases = {
      {"answered", echoing.server->base_url(), post, {}},
      {"reset after the request was read", resetting.origin(), post, {}},
      {"body over the limit", big.server->base_url(), get("/"), small},
      {"not an origin", "ftp://127.0.0.1:1", get("/"), {}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto by_callback = call(Form::kCallback, c.origin, c.request, c.options);
    auto by_await = call(Form::kAwaitable, c.origin, c.request, c.options);
    REQUIRE(by_callback.has_value() == by_await.has_value());
    if (by_callback) {
      CHECK(by_callback->status == by_await->status);
      CHECK(by_callback->body == by_await->body);
    } else {
      const ClientError a = by_callback.error();
      const ClientError b = by_await.error();
      CHECK(to_string(a.kind) == to_string(b.kind));
      CHECK(a.maybe_applied == b.maybe_applied);
      CHECK(a.message == b.message);
    }
  }
}

namespace {

// Records what ServerOptions::on_rejected reports (it runs on the server's io thread).
struct Rejections {
  std::mutex mutex;
  std::vector<std::pair<int, std::string>> seen;

  std::function<void(int, std::string_view)> callback() {
    return [this](int status, std::string_view reason) {
      std::lock_guard lock(mutex);
      seen.emplace_back(status, std::string(reason));
    };
  }
  std::vector<std::pair<int, std::string>> wait_for_one() {
    wait_until(
        [&] {
          std::lock_guard lock(mutex);
          return !seen.empty();
        },
        5s);
    std::lock_guard lock(mutex);
    return seen;
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return seen.size();
  }
};

using Seen = std::vector<std::pair<int, std::string>>;

}  // namespace

TEST_CASE("every rejection the server makes itself is reported once with its status") {
  Rejections rejections;
  ServerOptions options;
  options.on_rejected = rejections.callback();

  SECTION("413, body too large") {
    options.body_limit = 1024;
    Served s(options, echo());
    Request r;
    r.method = "POST";
    r.body = std::string(1025, 'x');
    CHECK(ok(fetch(s.server->base_url(), r)).status == 413);
    CHECK(rejections.wait_for_one() == Seen{{413, "body_too_large"}});
  }
  SECTION("431, headers too large") {
    options.header_limit = 2048;
    Served s(options, echo());
    Request r = get("/");
    r.headers.set("X-Big", std::string(4096, 'a'));
    CHECK(ok(fetch(s.server->base_url(), r)).status == 431);
    CHECK(rejections.wait_for_one() == Seen{{431, "headers_too_large"}});
  }
  SECTION("408, a request that does not arrive in time") {
    options.read_timeout = 200ms;
    Served s(options, echo());
    auto answer = raw_exchange(s.server->port(), {"POST / HTTP/1.1\r\nHost: x\r\n"}, 0ms);
    CHECK(answer.rfind("HTTP/1.1 408", 0) == 0);
    CHECK(rejections.wait_for_one() == Seen{{408, "slow_request"}});
  }
  SECTION("400, not HTTP") {
    Served s(options, echo());
    CHECK(raw_exchange(s.server->port(), {"GARBAGE\r\n\r\n"}, 0ms).rfind("HTTP/1.1 400", 0) == 0);
    CHECK(rejections.wait_for_one() == Seen{{400, "malformed"}});
  }
  SECTION("400, a peer that ends its side in the middle of a body") {
    Served s(options, echo());
    auto answer =
        raw_exchange(s.server->port(), {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort"}, 0ms,
                     /*half_close=*/true);
    CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(rejections.wait_for_one() == Seen{{400, "partial_message"}});
  }
  SECTION("503 at the connection limit, with the configured Retry-After") {
    options.max_connections = 1;
    options.retry_after_seconds = 7;
    Served s(options, echo());
    int holder = raw_connect(s.server->port());
    REQUIRE(wait_until([&] { return s.server->connections() == 1; }, 5s));
    auto response = ok(fetch(s.server->base_url(), get("/")));
    ::close(holder);
    CHECK(response.status == 503);
    CHECK(response.headers.get("Retry-After") == "7");
    CHECK(rejections.wait_for_one() == Seen{{503, "busy"}});
  }
  SECTION("requests the handler answers are not rejections, whatever their status") {
    Served s(options, sync_handler([](const Request&) { return Response::text(413, "the handler's own 413"); }));
    CHECK(ok(fetch(s.server->base_url(), get("/"))).status == 413);
    CHECK(ok(fetch(s.server->base_url(), get("/"))).status == 413);
    CHECK(rejections.count() == 0);
  }
}

TEST_CASE("the connection limit's Retry-After defaults to one second") {
  ServerOptions options;
  options.max_connections = 1;
  Served s(options, echo());
  int holder = raw_connect(s.server->port());
  REQUIRE(wait_until([&] { return s.server->connections() == 1; }, 5s));
  auto response = ok(fetch(s.server->base_url(), get("/")));
  ::close(holder);
  CHECK(response.status == 503);
  CHECK(response.headers.get("Retry-After") == "1");
}

TEST_CASE("wait_until says whether its condition came true before the timeout") {
  std::atomic<bool> flag{false};
  std::thread setter([&] { flag = true; });
  CHECK(wait_until([&] { return flag.load(); }, 5s));
  setter.join();
  CHECK_FALSE(wait_until([] { return false; }, 20ms));
  int calls = 0;
  CHECK(wait_until([&] { return ++calls == 3; }, 5s, 1ms));
  CHECK(calls == 3);
}
