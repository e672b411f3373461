#include "common/http_client.hpp"

#include <cassert>
#include <deque>
#include <map>
#include <ostream>
#include <type_traits>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include "common/log.hpp"

namespace tandem::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

static_assert(std::is_same_v<HttpClient::Awaitable, net::awaitable<ClientResult>>,
              "the forward declarations in http_client.hpp no longer match Asio's");

std::string_view to_string(ClientError::Kind kind) {
  switch (kind) {
    case ClientError::Kind::kInvalidUrl: return "invalid_url";
    case ClientError::Kind::kResolve: return "resolve";
    case ClientError::Kind::kConnect: return "connect";
    case ClientError::Kind::kTls: return "tls";
    case ClientError::Kind::kTimeout: return "timeout";
    case ClientError::Kind::kConnectionLost: return "connection_lost";
    case ClientError::Kind::kProtocol: return "protocol";
    case ClientError::Kind::kBodyTooLarge: return "body_too_large";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, const ClientError& error) {
  return out << to_string(error.kind) << ": " << error.message;
}

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

struct Origin {
  bool tls = false;
  std::string host;
  std::string port;
  std::string key() const { return (tls ? "https://" : "http://") + host + ':' + port; }
  std::string host_header() const {
    bool default_port = (tls && port == "443") || (!tls && port == "80");
    std::string h = host.find(':') != std::string::npos ? '[' + host + ']' : host;
    return default_port ? h : h + ':' + port;
  }
};

std::optional<Origin> parse_origin(const std::string& text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return std::nullopt;
  Origin o;
  if (parsed->scheme() == "https") o.tls = true;
  else if (parsed->scheme() != "http") return std::nullopt;
  if (!parsed->has_authority() || parsed->encoded_host().empty()) return std::nullopt;
  if (parsed->host_type() == boost::urls::host_type::ipv6) o.host = parsed->host_ipv6_address().to_string();
  else o.host = parsed->host();
  o.port = parsed->has_port() ? std::string(parsed->port()) : (o.tls ? "443" : "80");
  return o;
}

// One connection, plain or TLS. Kept in the pool between requests while the server allows it.
struct Connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool reused = false;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
};

bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

}  // namespace

struct HttpClient::State : std::enable_shared_from_this<HttpClient::State> {
  State(net::io_context& io_context, ClientOptions opts) : io(io_context), options(std::move(opts)) {
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls.set_default_verify_paths();
    tls.set_verify_mode(ssl::verify_peer);
    if (!options.extra_ca_pem.empty()) tls.add_certificate_authority(net::buffer(options.extra_ca_pem));
  }

  net::io_context& io;
  ClientOptions options;
  ssl::context tls{ssl::context::tls_client};
  std::map<std::string, std::deque<std::unique_ptr<Connection>>> pool;  // io thread only

  net::awaitable<ClientResult> exchange(std::string origin_text, Request request, CallOptions call);
  static net::awaitable<ClientResult> guarded_exchange(std::shared_ptr<State> state, std::string origin,
                                                       Request request, CallOptions call);
  static net::awaitable<ClientResult> awaited_exchange(std::shared_ptr<State> state, std::string origin,
                                                       Request request, CallOptions call);
  net::awaitable<Result<std::unique_ptr<Connection>, ClientError>> connect(
      const Origin& origin, std::chrono::steady_clock::time_point deadline);
};

net::awaitable<Result<std::unique_ptr<Connection>, ClientError>> HttpClient::State::connect(
    const Origin& origin, std::chrono::steady_clock::time_point deadline) {
  using R = Result<std::unique_ptr<Connection>, ClientError>;
  tcp::resolver resolver(io);
  auto [rec, endpoints] = co_await resolver.async_resolve(origin.host, origin.port, kTuple);
  if (rec) co_return R{ClientError{ClientError::Kind::kResolve, "cannot resolve " + origin.host + ": " + rec.message()}};
  auto conn = std::make_unique<Connection>();
  conn->plain.emplace(io);
  auto connect_deadline = std::min(deadline, std::chrono::steady_clock::now() + options.connect_timeout);
  conn->plain->expires_at(connect_deadline);
  auto [cec, ep] = co_await conn->plain->async_connect(endpoints, kTuple);
  if (cec == beast::error::timeout) co_return R{ClientError{ClientError::Kind::kTimeout, "connect to " + origin.key() + " timed out"}};
  if (cec) co_return R{ClientError{ClientError::Kind::kConnect, "cannot connect to " + origin.key() + ": " + cec.message()}};
  conn->plain->socket().set_option(tcp::no_delay(true));
  if (origin.tls) {
    conn->secure.emplace(std::move(*conn->plain), tls);
    conn->plain.reset();
    // SNI, and verification of the certificate against the host name (or IP address).
    if (!SSL_set_tlsext_host_name(conn->secure->native_handle(), origin.host.c_str())) {
      co_return R{ClientError{ClientError::Kind::kTls, "cannot set TLS server name " + origin.host}};
    }
    conn->secure->set_verify_callback(ssl::host_name_verification(origin.host));
    beast::get_lowest_layer(*conn->secure).expires_at(deadline);
    auto [hec] = co_await conn->secure->async_handshake(ssl::stream_base::client, kTuple);
    if (hec == beast::error::timeout) co_return R{ClientError{ClientError::Kind::kTimeout, "TLS handshake with " + origin.key() + " timed out"}};
    if (hec) co_return R{ClientError{ClientError::Kind::kTls, "TLS handshake with " + origin.key() + " failed: " + hec.message()}};
  }
  co_return R{std::move(conn)};
}

net::awaitable<ClientResult> HttpClient::State::exchange(std::string origin_text, Request request, CallOptions call) {
  auto self = shared_from_this();
  const auto deadline = std::chrono::steady_clock::now() + call.timeout.value_or(options.request_timeout);
  auto origin = parse_origin(origin_text);
  if (!origin) co_return ClientError{ClientError::Kind::kInvalidUrl, "not an http(s) origin: " + origin_text};

  bhttp::request<bhttp::string_body> out;
  out.method_string(request.method);
  out.target(request.target);
  out.version(11);
  for (const auto& h : request.headers.all()) out.insert(h.name, h.value);
  if (!request.headers.get("Host")) out.set(bhttp::field::host, origin->host_header());
  if (!request.headers.get("User-Agent")) out.set(bhttp::field::user_agent, options.user_agent);
  out.body() = std::move(request.body);
  out.prepare_payload();

  // A pooled connection may have been closed by the server while idle. When the exchange fails
  // on a reused connection before any response byte, an idempotent request is retried once on a
  // fresh connection; anything else is reported as possibly applied.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> conn;
    auto& idle = pool[origin->key()];
    if (!idle.empty()) {
      conn = std::move(idle.back());
      idle.pop_back();
      conn->reused = true;
    } else {
      auto connected = co_await connect(*origin, deadline);
      if (!connected) co_return connected.error();
      conn = std::move(*connected);
    }

    conn->lowest().expires_at(deadline);
    beast::error_code wec;
    if (conn->secure) std::tie(wec, std::ignore) = co_await bhttp::async_write(*conn->secure, out, kTuple);
    else std::tie(wec, std::ignore) = co_await bhttp::async_write(*conn->plain, out, kTuple);

    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(options.body_limit);
    beast::error_code rec;
    if (!wec) {
      conn->lowest().expires_at(deadline);
      if (conn->secure) std::tie(rec, std::ignore) = co_await bhttp::async_read(*conn->secure, conn->buffer, parser, kTuple);
      else std::tie(rec, std::ignore) = co_await bhttp::async_read(*conn->plain, conn->buffer, parser, kTuple);
    }
    beast::error_code ec = wec ? wec : rec;
    if (!ec) {
      auto in = parser.release();
      Response response;
      response.status = static_cast<int>(in.result_int());
      for (const auto& field : in) response.headers.add(field.name_string(), field.value());
      response.body = std::move(in.body());
      if (in.keep_alive() && idle.size() < options.max_idle_per_origin) {
        conn->reused = false;
        pool[origin->key()].push_back(std::move(conn));
      }
      co_return response;
    }
    bool nothing_received = !parser.got_some();
    if (conn->reused && nothing_received && ec != beast::error::timeout && (wec || idempotent(out.method_string()))) {
      continue;  // stale keep-alive connection
    }
    if (ec == beast::error::timeout) {
      co_return ClientError{ClientError::Kind::kTimeout, "no complete response from " + origin->key() + " in time", true};
    }
    if (ec == bhttp::error::body_limit) {
      co_return ClientError{ClientError::Kind::kBodyTooLarge,
                            "response body from " + origin->key() + " exceeds " + std::to_string(options.body_limit) + " bytes", true};
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
        ec == net::error::broken_pipe || ec == ssl::error::stream_truncated || ec == bhttp::error::partial_message) {
      co_return ClientError{ClientError::Kind::kConnectionLost, "connection to " + origin->key() + " lost: " + ec.message(), true};
    }
    co_return ClientError{ClientError::Kind::kProtocol, "bad response from " + origin->key() + ": " + ec.message(), true};
  }
  co_return ClientError{ClientError::Kind::kConnectionLost, "connection to " + origin->key() + " lost twice", true};
}

HttpClient::HttpClient(net::io_context& io, ClientOptions options)
    : state_(std::make_shared<State>(io, std::move(options))) {}

HttpClient::~HttpClient() = default;

// Both forms of a call run this, so that they give the same results.
net::awaitable<ClientResult> HttpClient::State::guarded_exchange(std::shared_ptr<State> state, std::string origin,
                                                                 Request request, CallOptions call) {
  try {
    co_return co_await state->exchange(std::move(origin), std::move(request), call);
  } catch (const std::exception& e) {
    co_return ClientError{ClientError::Kind::kProtocol, std::string("client failure: ") + e.what(), true};
  }
}

net::awaitable<ClientResult> HttpClient::State::awaited_exchange(std::shared_ptr<State> state, std::string origin,
                                                                 Request request, CallOptions call) {
  [[maybe_unused]] auto executor = co_await net::this_coro::executor;
  assert(&net::query(executor, net::execution::context) == &state->io &&
         "HttpClient::send awaited from a coroutine of another io_context");
  co_return co_await guarded_exchange(std::move(state), std::move(origin), std::move(request), call);
}

void HttpClient::async_send(std::string origin, Request request, std::function<void(ClientResult)> done) {
  async_send(std::move(origin), std::move(request), CallOptions{}, std::move(done));
}

void HttpClient::async_send(std::string origin, Request request, CallOptions call,
                            std::function<void(ClientResult)> done) {
  net::co_spawn(
      state_->io, State::guarded_exchange(state_, std::move(origin), std::move(request), call),
      [done = std::move(done)](std::exception_ptr e, ClientResult result) {
        // guarded_exchange catches what exchange throws; only an allocation failure of the
        // coroutine frame itself could still arrive here.
        if (e) {
          done(ClientError{ClientError::Kind::kProtocol, "client failure: the request could not start", true});
          return;
        }
        done(std::move(result));
      });
}

HttpClient::Awaitable HttpClient::send(std::string origin, Request request, CallOptions call) {
  return State::awaited_exchange(state_, std::move(origin), std::move(request), call);
}

ClientResult fetch(const std::string& origin, Request request, const ClientOptions& options, CallOptions call) {
  net::io_context io;
  HttpClient client(io, options);
  std::optional<ClientResult> result;
  client.async_send(origin, std::move(request), call, [&](ClientResult r) { result = std::move(r); });
  io.run();
  if (!result) return ClientError{ClientError::Kind::kProtocol, "request did not complete"};
  return std::move(*result);
}

}  // namespace tandem::http
