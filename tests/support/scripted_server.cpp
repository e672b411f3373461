#include "tests/support/scripted_server.hpp"

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tandem::testing {
namespace {

class Connection final : public ScriptedConnection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  ~Connection() override { close(); }

  std::string read_request() override {
    std::string data;
    char buffer[4096];
    std::size_t header_end = std::string::npos;
    std::size_t need = 0;
    while (true) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          need = header_end + 4;
          auto lower = data.substr(0, header_end);
          for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          auto cl = lower.find("content-length:");
          if (cl != std::string::npos) need += std::stoul(lower.substr(cl + 15));
        }
      }
      if (header_end != std::string::npos && data.size() >= need) return data;
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return {};
      data.append(buffer, static_cast<std::size_t>(n));
    }
  }

  bool write(const std::string& bytes) override {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  void reset() override {
    if (fd_ < 0) return;
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }

  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

}  // namespace

struct ScriptedServer::State {
  int listen_fd = -1;
  std::uint16_t port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<int> connections{0};
  std::thread acceptor;
  std::vector<std::thread> workers;
};

ScriptedServer::ScriptedServer(Script script) : state_(std::make_unique<State>()) {
  state_->listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(state_->listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(state_->listen_fd, 16);
  socklen_t len = sizeof addr;
  ::getsockname(state_->listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  state_->port = ntohs(addr.sin_port);
  state_->acceptor = std::thread([state = state_.get(), script = std::move(script)] {
    while (!state->stopping) {
      pollfd p{state->listen_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(state->listen_fd, nullptr, nullptr);
      if (fd < 0) continue;
      ++state->connections;
      state->workers.emplace_back([fd, &script] {
        Connection c(fd);
        script(c);
      });
    }
  });
}

ScriptedServer::~ScriptedServer() {
  state_->stopping = true;
  state_->acceptor.join();
  for (auto& w : state_->workers) w.join();
  ::close(state_->listen_fd);
}

std::uint16_t ScriptedServer::port() const { return state_->port; }
std::string ScriptedServer::origin() const { return "http://127.0.0.1:" + std::to_string(state_->port); }
int ScriptedServer::connections() const { return state_->connections; }

}  // namespace tandem::testing
