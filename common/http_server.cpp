#include "common/http_server.hpp"

#include <atomic>
#include <map>
#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/log.hpp"

namespace tandem::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

const Logger& log() {
  static const Logger logger("http.server");
  return logger;
}

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

Response error_response(int status, std::string_view message) {
  return Response::text(status, std::string(message) + "\n");
}

}  // namespace

Responder::Responder(Send send) : send_(std::move(send)) {}

Responder::~Responder() {
  if (send_) {
    log().error("a request handler dropped its responder without answering");
    send_(error_response(500, "internal error: the request was not answered"));
  }
}

void Responder::operator()(Response response) {
  if (!send_) return;  // answering twice is ignored: the first answer already went out
  auto send = std::move(send_);
  send_ = nullptr;
  send(std::move(response));
}

Handler sync_handler(std::function<Response(const Request&)> handler) {
  return [handler = std::move(handler)](Request request, Responder respond) { respond(handler(request)); };
}

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(net::io_context& io_context, ServerOptions opts, Handler h)
      : io(io_context), options(std::move(opts)), handler(std::move(h)), acceptor(io_context) {}

  net::io_context& io;
  ServerOptions options;
  Handler handler;
  tcp::acceptor acceptor;
  std::optional<ssl::context> tls;
  std::uint16_t port = 0;
  std::atomic<bool> stopped{false};
  std::atomic<std::size_t> connections{0};
  // Idle keep-alive connections, closed on stop. Touched only on the io thread.
  std::map<std::uint64_t, std::function<void()>> idle;
  std::uint64_t next_id = 0;

  void rejected(int status, std::string_view reason) const {
    if (!options.on_rejected) return;
    try {
      options.on_rejected(status, reason);
    } catch (const std::exception& e) {
      log().error("the rejection callback threw", {{"error", e.what()}});
    }
  }

  net::awaitable<void> accept_loop();
  template <class Stream>
  net::awaitable<void> serve(Stream stream, std::string remote, std::uint64_t id);
  net::awaitable<void> session(tcp::socket socket);
};

namespace {

Request to_request(bhttp::request<bhttp::string_body>&& in, std::string remote) {
  Request r;
  r.method = std::string(in.method_string());
  r.target = std::string(in.target());
  for (const auto& field : in) r.headers.add(field.name_string(), field.value());
  r.body = std::move(in.body());
  r.remote_address = std::move(remote);
  return r;
}

bhttp::response<bhttp::string_body> to_beast(Response&& r, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> out;
  out.version(version);
  out.result(static_cast<unsigned>(r.status));
  out.reason(reason_phrase(r.status));
  for (const auto& h : r.headers.all()) out.insert(h.name, h.value);
  if (!r.headers.get("Server")) out.set(bhttp::field::server, "tandem");
  out.body() = std::move(r.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

struct ReadWatch {
  bool reading = true;
  bool timed_out = false;
};

template <class Stream>
auto& lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

}  // namespace

template <class Stream>
net::awaitable<void> HttpServer::State::serve(Stream stream, std::string remote, std::uint64_t id) {
  auto self = shared_from_this();
  beast::flat_buffer buffer;
  bool close = false;
  while (!close && !stopped) {
    // Wait for the first byte of the next request under the idle timeout; the whole request must
    // then arrive within the read timeout, so a client trickling bytes cannot hold a connection.
    if (buffer.size() == 0) {
      lowest(stream).expires_after(options.idle_timeout);
      idle[id] = [&stream] { lowest(stream).socket().cancel(); };
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      idle.erase(id);
      if (ec) break;  // idle timeout, peer closed, or server stopping: nothing to answer
      buffer.commit(n);
    }
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(options.body_limit);
    // Beast's own stream timeout closes the socket, which would leave no way to answer 408; a
    // timer that only cancels the read keeps the connection writable.
    lowest(stream).expires_never();
    auto watch = std::make_shared<ReadWatch>();
    net::steady_timer timer(io, options.read_timeout);
    timer.async_wait([watch, &stream](beast::error_code timer_ec) {
      if (timer_ec || !watch->reading) return;
      watch->timed_out = true;
      beast::error_code ignored;
      lowest(stream).socket().cancel(ignored);
    });
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    watch->reading = false;
    timer.cancel();
    if (watch->timed_out) ec = beast::error::timeout;
    std::optional<Response> early;
    std::string_view rejection;
    if (ec == bhttp::error::body_limit) {
      early = error_response(413, "request body exceeds " + std::to_string(options.body_limit) + " bytes");
      rejection = "body_too_large";
    } else if (ec == bhttp::error::header_limit) {
      early = error_response(431, "request header fields too large");
      rejection = "headers_too_large";
    } else if (ec == beast::error::timeout) {
      early = error_response(408, "request not received in time");
      rejection = "slow_request";
    } else if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
               ec == net::error::operation_aborted) {
      break;
    } else if (ec) {
      early = error_response(400, "malformed HTTP request: " + ec.message());
      rejection = ec == bhttp::error::partial_message ? "partial_message" : "malformed";
    }
    if (early) {
      rejected(early->status, rejection);
      early->headers.set("Connection", "close");
      auto response = to_beast(std::move(*early), 11, false);
      lowest(stream).expires_after(options.write_timeout);
      co_await bhttp::async_write(stream, response, kTuple);
      break;
    }

    auto beast_request = parser.release();
    unsigned version = beast_request.version();
    bool keep_alive = beast_request.keep_alive() && !stopped;
    Request request = to_request(std::move(beast_request), remote);

    // The handler may answer from any thread; the answer is posted back to this connection.
    Response response = co_await net::async_initiate<decltype(net::use_awaitable), void(Response)>(
        [this, &request](auto completion) {
          auto shared = std::make_shared<decltype(completion)>(std::move(completion));
          auto executor = io.get_executor();
          Responder responder([shared, executor](Response r) {
            net::post(executor, [shared, r = std::move(r)]() mutable { std::move(*shared)(std::move(r)); });
          });
          try {
            handler(std::move(request), std::move(responder));
          } catch (const std::exception& e) {
            // The responder was moved into the handler; it answers 500 when destroyed unanswered.
            log().error("request handler threw", {{"error", e.what()}});
          }
        },
        net::use_awaitable);

    if (response.headers.get(kAbortHeader)) {
      beast::error_code ignored;
      lowest(stream).socket().set_option(net::socket_base::linger(true, 0), ignored);
      lowest(stream).socket().close(ignored);
      idle.erase(id);
      co_return;
    }
    if (auto connection = response.headers.get("Connection"); connection && iequals(*connection, "close")) {
      keep_alive = false;
    }
    auto out = to_beast(std::move(response), version, keep_alive);
    lowest(stream).expires_after(options.write_timeout);
    auto [write_ec, written] = co_await bhttp::async_write(stream, out, kTuple);
    if (write_ec) break;
    close = !keep_alive;
  }
  idle.erase(id);
  if constexpr (requires { stream.async_shutdown(net::use_awaitable); }) {
    lowest(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(kTuple);
  }
  beast::error_code ignored;
  lowest(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> HttpServer::State::session(tcp::socket socket) {
  auto self = shared_from_this();
  std::string remote;
  {
    beast::error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    if (!ec) remote = endpoint.address().to_string() + ':' + std::to_string(endpoint.port());
  }
  struct Count {
    std::atomic<std::size_t>& n;
    ~Count() { --n; }
  } count{connections};
  std::uint64_t id = next_id++;
  // Without TCP_NODELAY a response written in two segments waits for the peer's delayed ACK
  // (about 40 ms on Linux) before its second half leaves.
  beast::error_code nodelay_ignored;
  socket.set_option(tcp::no_delay(true), nodelay_ignored);
  beast::tcp_stream tcp_stream(std::move(socket));
  if (connections.load() > options.max_connections) {
    // Overload: answer at once rather than queue without bound; HubSpot retries later.
    rejected(503, "busy");
    auto response = error_response(503, "server busy, retry later");
    response.headers.set("Retry-After", std::to_string(options.retry_after_seconds));
    response.headers.set("Connection", "close");
    auto out = to_beast(std::move(response), 11, false);
    tcp_stream.expires_after(options.write_timeout);
    if (!tls) co_await bhttp::async_write(tcp_stream, out, kTuple);
    co_return;
  }
  if (tls) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls);
    beast::get_lowest_layer(stream).expires_after(options.read_timeout);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
    if (ec) {
      log().debug("TLS handshake failed", {{"remote", remote}, {"error", ec.message()}});
      co_return;
    }
    co_await serve(std::move(stream), std::move(remote), id);
  } else {
    co_await serve(std::move(tcp_stream), std::move(remote), id);
  }
}

net::awaitable<void> HttpServer::State::accept_loop() {
  auto self = shared_from_this();
  while (!stopped) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) {
      if (ec == net::error::operation_aborted || stopped) break;
      log().warn("accept failed", {{"error", ec.message()}});
      continue;
    }
    ++connections;
    net::co_spawn(io, session(std::move(socket)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log().error("connection ended with an exception", {{"error", ex.what()}});
      }
    });
  }
}

HttpServer::HttpServer(net::io_context& io, ServerOptions options, Handler handler)
    : state_(std::make_shared<State>(io, std::move(options), std::move(handler))) {
  auto& s = *state_;
  if (s.options.tls) {
    s.tls.emplace(ssl::context::tls_server);
    s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    try {
      s.tls->use_certificate_chain(net::buffer(s.options.tls->certificate_chain_pem));
      s.tls->use_private_key(net::buffer(s.options.tls->private_key_pem), ssl::context::pem);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(std::string("invalid TLS certificate or key: ") + e.what());
    }
  }
  auto address = net::ip::make_address(s.options.address);
  tcp::endpoint endpoint(address, s.options.port);
  s.acceptor.open(endpoint.protocol());
  s.acceptor.set_option(net::socket_base::reuse_address(true));
  s.acceptor.bind(endpoint);
  s.acceptor.listen(net::socket_base::max_listen_connections);
  s.port = s.acceptor.local_endpoint().port();
  net::co_spawn(io, s.accept_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log().error("accept loop ended with an exception", {{"error", ex.what()}});
    }
  });
}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::port() const { return state_->port; }

std::string HttpServer::base_url() const {
  std::string host = state_->options.address;
  if (host.find(':') != std::string::npos) host = '[' + host + ']';
  return std::string(state_->tls ? "https://" : "http://") + host + ':' + std::to_string(state_->port);
}

std::size_t HttpServer::connections() const { return state_->connections.load(); }

void HttpServer::stop() {
  if (state_->stopped.exchange(true)) return;
  net::post(state_->io, [state = state_] {
    beast::error_code ignored;
    state->acceptor.close(ignored);
    auto idle = std::move(state->idle);
    for (auto& [id, close] : idle) close();
  });
}

}  // namespace tandem::http
