#include "webhooks/intake_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>

#include "common/http_server.hpp"
#include "common/log.hpp"
#include "webhooks/receiver.hpp"

namespace tandem::webhooks {

namespace net = boost::asio;

struct IntakeServer::State {
  State(const WebhooksConfig& config, Inbox& inbox, const Clock& clock, MetricsRegistry& metrics, Options opts)
      : options(std::move(opts)), receiver(config, inbox, clock, metrics) {
    auto server_options = WebhookReceiver::server_options(config, options.address, options.port);
    server_options.tls = options.tls;
    server.emplace(io, std::move(server_options), receiver.handler());
    receiver.set_listening(true);
  }

  Options options;
  net::io_context io{1};
  net::executor_work_guard<net::io_context::executor_type> guard{io.get_executor()};
  std::optional<net::signal_set> signals;
  WebhookReceiver receiver;
  std::optional<http::HttpServer> server;
  std::once_flag stop_once;
  std::thread stopper;
  Logger log{"webhooks"};
};

IntakeServer::IntakeServer(const WebhooksConfig& config, Inbox& inbox, const Clock& clock, MetricsRegistry& metrics,
                           Options options)
    : state_(std::make_unique<State>(config, inbox, clock, metrics, std::move(options))) {}

IntakeServer::~IntakeServer() {
  stop();
  if (state_->stopper.joinable()) state_->stopper.join();
  state_->receiver.stop();
}

std::uint16_t IntakeServer::port() const { return state_->server->port(); }
std::string IntakeServer::base_url() const { return state_->server->base_url(); }

void IntakeServer::run() {
  State& s = *state_;
  if (s.options.handle_signals) {
    s.signals.emplace(s.io, SIGINT, SIGTERM);
    s.signals->async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      state_->log.info("signal received: shutting down", {{"signal", signal}});
      stop();
    });
  }
  s.log.info("listening", {{"url", s.server->base_url()}});
  s.io.run();
  if (s.stopper.joinable()) s.stopper.join();
  s.log.info("stopped");
}

void IntakeServer::stop() {
  State& s = *state_;
  std::call_once(s.stop_once, [&s] {
    s.receiver.set_listening(false);
    s.server->stop();
    // The committer may be in a transaction: wait for it off the io thread, which must keep
    // running to write the answers it posts.
    s.stopper = std::thread([&s] {
      s.receiver.stop();
      net::post(s.io, [&s] {
        if (s.signals) s.signals->cancel();
        s.guard.reset();
      });
    });
  });
}

}  // namespace tandem::webhooks
