#include "tests/support/serve_process.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "common/http_client.hpp"
#include "tests/support/read_file_or_fail.hpp"
#include "tests/support/wait_until.hpp"

extern char** environ;

namespace tandem::testing {

using namespace std::chrono_literals;

std::optional<http::Response> try_fetch(const std::string& origin, http::Request request,
                                        std::chrono::milliseconds timeout) {
  http::ClientOptions options;
  options.connect_timeout = timeout;
  options.request_timeout = timeout;
  auto result = http::fetch(origin, std::move(request), options);
  if (result) return std::move(*result);
  return std::nullopt;
}

ServeProcess::ServeProcess(std::string program, std::string config_path, std::string log_prefix, std::uint16_t port,
                           std::vector<std::string> extra_env)
    : program_(std::move(program)),
      config_path_(std::move(config_path)),
      log_prefix_(std::move(log_prefix)),
      port_(port),
      extra_env_(std::move(extra_env)) {}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) stop(SIGKILL);
}

void ServeProcess::start() {
  REQUIRE(pid_ <= 0);
  std::string failure;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (try_start(failure)) return;
    std::this_thread::sleep_for(200ms);
  }
  FAIL("tandem serve exited at start: " << failure);
}

int ServeProcess::stop(int signal) {
  ::kill(pid_, signal);
  int status = 0;
  if (!wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) != 0; }, 20s, 2ms)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  return status;
}

void ServeProcess::signal(int signal) const {
  if (pid_ > 0) ::kill(pid_, signal);
}

std::string ServeProcess::logs() const {
  std::string out;
  for (int i = 0; i < starts_; ++i) out += read_file_or_fail(log_prefix_ + std::to_string(i) + ".log");
  return out;
}

bool ServeProcess::try_start(std::string& failure) {
  log_path_ = log_prefix_ + std::to_string(starts_++) + ".log";
  // Everything the child needs is prepared before fork(): between fork and exec only
  // async-signal-safe calls (the test process has threads).
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(log_fd >= 0);
  std::vector<std::string> args = {program_, "serve", "--config", config_path_};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& e : extra_env_) env_strings.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(program_.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  REQUIRE(pid_ > 0);
  std::optional<int> exit_status;
  const bool settled = wait_until(
      [&] {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          exit_status = status;
          return true;
        }
        http::Request probe;
        probe.method = "GET";
        probe.target = "/readyz";
        auto response = try_fetch(origin(), probe, 500ms);
        return response && response->status == 200;
      },
      20s);
  if (exit_status) {
    pid_ = -1;
    failure = "status " + std::to_string(*exit_status) + ": " + read_file_or_fail(log_path_);
    return false;
  }
  if (settled) return true;
  FAIL("tandem serve not ready after 20 s: " << read_file_or_fail(log_path_));
  return false;
}

}  // namespace tandem::testing
