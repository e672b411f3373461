#pragma once
// A raw TCP server on 127.0.0.1 whose every connection is handled by a script, for the error paths
// a real HTTP server never takes: a connection reset after the request was read, a response
// that never comes, a truncated body, a byte-at-a-time trickle.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace tandem::testing {

// What a scripted connection can do. All calls block; each returns false once the peer is gone.
class ScriptedConnection {
 public:
  virtual ~ScriptedConnection() = default;
  // Reads one HTTP request (headers and Content-Length body); empty on EOF.
  virtual std::string read_request() = 0;
  virtual bool write(const std::string& bytes) = 0;
  // Closes with a TCP reset (SO_LINGER 0).
  virtual void reset() = 0;
  virtual void close() = 0;
};

class ScriptedServer {
 public:
  using Script = std::function<void(ScriptedConnection&)>;
  explicit ScriptedServer(Script script);
  ~ScriptedServer();
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::string origin() const;  // "http://127.0.0.1:PORT"
  // Connections accepted so far.
  [[nodiscard]] int connections() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tandem::testing
