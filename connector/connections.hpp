#pragma once
// The connected accounts inside `tandem serve`: the install flow's routes (oauth.install_path,
// oauth.callback_path), the token source over the token store, and the write path draining the
// outbox with those tokens. Also:
//   - /readyz details "accounts" (connected, needing re-authorisation, disconnected) and gauges
//     per account on /metrics (status, access token expiry);
//   - a job that notices changes made by another process (`tandem accounts disconnect`, an
//     install served by another instance) within accounts_sync_interval;
//   - a job that deletes what is kept of disconnected accounts after oauth.disconnected_retention;
//   - a job that reads HubSpot's Webhooks Journal for uninstalls made in HubSpot and disconnects
//     those accounts (oauth.uninstall_notices; /readyz details "uninstall_notices");
//   - at start, Tandem's properties created again in connected accounts where that failed;
//   - the writer's stop as a drain (requests in flight finish and are recorded).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "connector/config.hpp"
#include "connector/write_path.hpp"
#include "hubspot/outbox.hpp"
#include "oauth/account_tokens.hpp"
#include "oauth/install_flow.hpp"
#include "oauth/token_store.hpp"

namespace tandem::connector {

class Service;

struct ConnectionsOptions {
  // The score properties the rules write (created on connect with Tandem's own).
  std::vector<std::string> score_properties;
  std::chrono::milliseconds accounts_sync_interval{std::chrono::seconds(10)};
};

class Connections {
 public:
  // Registers routes, gauges, details, jobs and the drain on `service` and starts the writer;
  // everything given must outlive the service's run().
  Connections(Service& service, const TandemConfig& config, oauth::TokenStore& store, hubspot::Outbox& outbox,
              MetricsRegistry& metrics, const Clock& clock, ConnectionsOptions options);
  ~Connections();
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  oauth::AccountTokenSource& tokens();
  WritePath& write_path();
  // The account's time zone from its HubSpot details (an IANA name), empty when unknown. Thread-safe.
  std::string time_zone(std::int64_t portal) const;
  // Called on the io thread after each install that connected an account (the backfill).
  // Register before the service runs.
  void on_connected(std::function<void(std::int64_t portal)> listener);
  // Called on the job thread when an account becomes connected, or stops being so, through
  // another process (e.g. `tandem accounts disconnect`).
  void on_status_changed(std::function<void(std::int64_t portal, oauth::AccountStatus)> listener);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The write path's options from the configuration (also for the CLI and tests).
WritePathOptions write_path_options(const TandemConfig& config);

}  // namespace tandem::connector
