#pragma once
// An HTTP/1.1 server over Boost.Beast (one coroutine per connection, after Beast's
// advanced/server-flex example). Asio stays out of this header: the io_context is only
// forward-declared, so modules that serve routes do not compile Beast.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::http {

struct TlsServerConfig {
  std::string certificate_chain_pem;  // PEM contents, leaf first
  std::string private_key_pem;        // PEM contents
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 picks a free port; port() tells which
  std::size_t header_limit = 16 * 1024;  // larger headers get 431
  std::size_t body_limit = 1024 * 1024;  // larger bodies get 413
  // Time allowed to receive a whole request (headers and body) once its first byte arrived.
  // A client trickling bytes slower than that is answered 408 and disconnected.
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};
  // Time a keep-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{30'000};
  // Connections beyond this are accepted and answered 503 with Retry-After, then closed.
  std::size_t max_connections = 512;
  // The Retry-After of that 503, in seconds.
  int retry_after_seconds = 1;
  std::optional<TlsServerConfig> tls;
  // Called once for every request the server itself refuses before a handler sees it, with the
  // status it answers and a stable snake_case reason for a metric label or a log field:
  //   408 "slow_request"       the request did not arrive within read_timeout
  //   413 "body_too_large"     over body_limit
  //   431 "headers_too_large"  over header_limit
  //   400 "partial_message"    the peer ended its side in the middle of a request
  //   400 "malformed"          not parseable as HTTP/1.1
  //   503 "busy"               over max_connections (over TLS the 503 cannot be sent; still called)
  // It is called before the answer is written, so also when writing it fails. It runs on the
  // io_context's thread and must not block; unset, rejections are only answered. A callback
  // rather than a MetricsRegistry keeps metric names and labels with whoever owns the listener.
  std::function<void(int status, std::string_view reason)> on_rejected;
};

// Hands the response back to the connection. Call it exactly once, from any thread; a Responder
// destroyed without having been called answers 500 so that no client waits forever.
class Responder {
 public:
  using Send = std::function<void(Response)>;
  explicit Responder(Send send);
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&&) noexcept = default;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();
  void operator()(Response response);

 private:
  Send send_;
};

// A response carrying this header is not sent: the connection is closed with a TCP reset instead
// (SO_LINGER 0), so the client cannot tell whether the request was applied. For fault injection
// (the sandbox); production handlers never set it.
inline constexpr const char* kAbortHeader = "X-Tandem-Abort";

// Called on the io_context's thread for every complete request. It must not block: slow work
// goes elsewhere and calls the Responder when done.
using Handler = std::function<void(Request, Responder)>;

// Adapts a synchronous, non-blocking handler.
Handler sync_handler(std::function<Response(const Request&)> handler);

class HttpServer {
 public:
  // Binds and listens at once; throws std::system_error when the address cannot be bound, or
  // std::runtime_error when the TLS material is invalid. Serving starts when the io_context runs.
  HttpServer(boost::asio::io_context& io, ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  // "http://127.0.0.1:PORT" or "https://...".
  [[nodiscard]] std::string base_url() const;
  // Connections open now, including one being refused at the limit. Thread-safe.
  [[nodiscard]] std::size_t connections() const;
  // Stops accepting and closes idle connections; requests in flight finish. Thread-safe.
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace tandem::http
