#pragma once
// `tandem serve --config <file>` (or a test tool built from the same sources) as a child process,
// for tests that kill it (SIGKILL, SIGTERM) and start it again on the same port. Its stdout and
// stderr go to one log file per start.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/http.hpp"

namespace tandem::testing {

// One request to `origin`, or nullopt when there was no answer (refused, reset, timeout).
std::optional<http::Response> try_fetch(const std::string& origin, http::Request request,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(2));

class ServeProcess {
 public:
  // `program` is run as `program serve --config config_path` (plus `extra_args`).
  ServeProcess(std::string program, std::string config_path, std::string log_prefix, std::uint16_t port,
               std::vector<std::string> extra_env = {});
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Starts the process and waits (bounded) until /readyz answers 200. A start that exits at once
  // is retried a few times: while tandem is down, the kernel may briefly hand its port to some
  // outgoing connection as a local port (the port is fixed, so that the sandbox's target URL
  // stays valid across restarts). Fails the test when it never becomes ready.
  void start();
  // Sends `signal`, reaps the process (bounded: SIGKILL after 20 s), returns the wait status.
  int stop(int signal);
  // Sends a signal without waiting (SIGHUP).
  void signal(int signal) const;
  [[nodiscard]] bool running() const { return pid_ > 0; }

  [[nodiscard]] std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] const std::string& log_path() const { return log_path_; }
  // Every start's log, concatenated.
  [[nodiscard]] std::string logs() const;

 private:
  bool try_start(std::string& failure);

  std::string program_;
  std::string config_path_;
  std::string log_prefix_;
  std::uint16_t port_;
  std::vector<std::string> extra_env_;  // "NAME=value"
  pid_t pid_ = -1;
  int starts_ = 0;
  std::string log_path_;
};

}  // namespace tandem::testing
