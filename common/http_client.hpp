#pragma once
// An HTTP/1.1 client over Boost.Beast with keep-alive connection reuse per origin, a deadline on
// every request, a body limit, and TLS with the system trust store, SNI and host-name
// verification (after Beast's http/client/awaitable example). Asio stays out of this header.
// Every outcome is a ClientResult: a Response (any status, 4xx and 5xx included) or a ClientError
// when no response arrived; nothing throws.

#include <chrono>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http.hpp"
#include "common/result.hpp"

// Declared as <boost/asio/awaitable.hpp> and <boost/asio/any_io_executor.hpp> define them, so
// that the awaitable form below needs no Asio header here; http_client.cpp checks with a
// static_assert that HttpClient::Awaitable is the type Asio's coroutines await. (With
// BOOST_ASIO_USE_TS_EXECUTOR_AS_DEFAULT any_io_executor is a typedef and this would not compile;
// Tandem does not define it.)
namespace boost::asio {
class io_context;
class any_io_executor;
template <typename T, typename Executor>
class awaitable;
}  // namespace boost::asio

namespace tandem::http {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // Deadline for one whole exchange (connect, TLS, write, read), not per read.
  std::chrono::milliseconds request_timeout{30'000};
  std::size_t header_limit = 64 * 1024;
  std::size_t body_limit = 64 * 1024 * 1024;
  // Extra trusted certificates (PEM), in addition to the system trust store.
  std::string extra_ca_pem;
  std::size_t max_idle_per_origin = 8;
  std::string user_agent = "tandem/0.1";
};

struct ClientError {
  enum class Kind {
    kInvalidUrl,
    kResolve,
    kConnect,
    kTls,
    kTimeout,
    // The connection broke after the request was (perhaps partly) written: the server may have
    // applied it. Retrying a non-idempotent write needs an idempotency check first.
    kConnectionLost,
    kProtocol,
    kBodyTooLarge,
  };
  Kind kind;
  std::string message;
  // True when the request bytes may have reached the server (see kConnectionLost, kTimeout).
  bool maybe_applied = false;

  // "<kind>: <message>", for logs and test failure messages.
  friend std::ostream& operator<<(std::ostream& out, const ClientError& error);
};

std::string_view to_string(ClientError::Kind kind);

// The outcome of one exchange (common/result.hpp): test with `if (!result)`, read *result or
// result->status, and result.error() for the failure. error() returns the ClientError by value
// in Boost 1.81, so copy it into a local rather than keep a reference or pointer to it.
using ClientResult = Result<Response, ClientError>;

// Settings of one call; what is unset comes from ClientOptions.
struct CallOptions {
  // Deadline of this call's whole exchange, in place of ClientOptions::request_timeout (shorter
  // or longer), counted from when the exchange starts on the io thread (as soon as the io_context
  // runs it after async_send; at the co_await of send()). connect_timeout still caps the
  // connect. When it fires the result is kTimeout, with maybe_applied true once the request was
  // being written.
  std::optional<std::chrono::milliseconds> timeout;
};

class HttpClient {
 public:
  // What send() returns: boost::asio::awaitable<ClientResult> (the default executor spelled out).
  using Awaitable = boost::asio::awaitable<ClientResult, boost::asio::any_io_executor>;

  HttpClient(boost::asio::io_context& io, ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends request to origin ("http://host:port" or "https://host[:port]"; request.target is
  // the path and query). The callback runs on the io_context's thread, exactly once.
  // The client must outlive every request in flight.
  void async_send(std::string origin, Request request, std::function<void(ClientResult)> done);
  void async_send(std::string origin, Request request, CallOptions call, std::function<void(ClientResult)> done);

  // The same exchange for a coroutine:
  //   ClientResult result = co_await client.send(origin, request, {.timeout = 2s});
  // gives what async_send would have passed to its callback (failures are values; nothing
  // throws). Await it from a coroutine running on this client's io_context (the connection pool
  // has no lock; an assert checks), at most once. Nothing is sent until it is awaited. The
  // client must outlive the await. Where it is awaited, include <boost/asio/awaitable.hpp>.
  Awaitable send(std::string origin, Request request, CallOptions call = {});

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Blocking convenience for command-line tools and tests: runs its own io_context on the calling
// thread. Never call it from an io_context thread.
ClientResult fetch(const std::string& origin, Request request, const ClientOptions& options = {},
                   CallOptions call = {});

}  // namespace tandem::http
