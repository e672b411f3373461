#pragma once
// An HTTP/1.1 client over Boost.Beast with keep-alive connection reuse per origin, a deadline on
// every request, a body limit, and TLS with the system trust store, SNI and host-name
// verification (after Beast's http/client/awaitable example). Asio stays out of this header.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "common/http.hpp"

namespace boost::asio {
class io_context;
}

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
};

std::string_view to_string(ClientError::Kind kind);

using ClientResult = std::variant<Response, ClientError>;

class HttpClient {
 public:
  HttpClient(boost::asio::io_context& io, ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends request to origin ("http://host:port" or "https://host[:port]"; request.target is
  // the path and query). The callback runs on the io_context's thread, exactly once.
  // The client must outlive every request in flight.
  void async_send(std::string origin, Request request, std::function<void(ClientResult)> done);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Blocking convenience for command-line tools and tests: runs its own io_context on the calling
// thread. Never call it from an io_context thread.
ClientResult fetch(const std::string& origin, Request request, const ClientOptions& options = {});

}  // namespace tandem::http
