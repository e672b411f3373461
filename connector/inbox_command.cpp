#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/metrics.hpp"
#include "connector/config.hpp"
#include "connector/commands.hpp"
#include "store/database.hpp"
#include "store/sqlite_inbox.hpp"
#include "webhooks/inbox_report.hpp"

namespace tandem::connector {
namespace {

struct InboxArgs {
  std::string config_path;
  std::string db_path;
  bool json = false;
  std::string state;
  std::int64_t after = 0;
  std::size_t limit = 50;
  std::optional<std::int64_t> id;
  bool all = false;
  std::string from = "dead";
};

// The database and the inbox in it, in the order they close.
struct OpenInbox {
  OpenInbox(const store::StoreConfig& config, int max_attempts)
      : database(config, metrics), inbox(database, SystemClock::instance(), max_attempts) {}
  MetricsRegistry metrics;
  store::Database database;
  store::SqliteInbox inbox;
  store::SqliteInbox* operator->() { return &inbox; }
};

// Prints a storage error of an admin call; returns the exit code.
int report(const webhooks::InboxError& error) {
  std::cerr << "tandem inbox: " << error.message << '\n';
  return 1;
}

// The store from --db, else from the configuration's store.path. Nullptr after printing why.
std::unique_ptr<OpenInbox> open_inbox(const InboxArgs& args) {
  store::StoreConfig store_config;
  int max_attempts = webhooks::WebhooksConfig{}.max_attempts;
  if (!args.db_path.empty()) {
    store_config.path = args.db_path;
  } else if (!args.config_path.empty()) {
    auto loaded_config = load_config(args.config_path);
    if (!loaded_config) return nullptr;
    TandemConfig config = std::move(*loaded_config);
    store_config = config.store;
    max_attempts = config.webhooks.max_attempts;
  } else {
    std::cerr << "tandem inbox: give --config FILE or --db FILE\n";
    return nullptr;
  }
  // An admin command only reads what serve wrote: a mistyped path must be an error, not a new,
  // empty database that reports zero events.
  if (!std::filesystem::exists(store_config.path)) {
    std::cerr << "tandem inbox: no inbox at " << store_config.path << " (tandem serve creates it)\n";
    return nullptr;
  }
  try {
    return std::make_unique<OpenInbox>(store_config, max_attempts);
  } catch (const std::exception& e) {
    std::cerr << "tandem inbox: " << e.what() << '\n';
    return nullptr;
  }
}

void add_common_options(CLI::App* command, InboxArgs& args) {
  command->add_option("--config,-c", args.config_path, "Configuration file (for store.path)");
  command->add_option("--db", args.db_path, "SQLite file of the inbox (instead of --config)");
}

}  // namespace

void add_inbox_command(CLI::App& app, int& exit_code) {
  static InboxArgs args;
  auto* inbox = app.add_subcommand("inbox", "Inspect the webhook inbox; replay dead-lettered events");
  inbox->require_subcommand(1);

  auto* stats = inbox->add_subcommand("stats", "Counts by state and the age of the oldest unprocessed event");
  add_common_options(stats, args);
  stats->add_flag("--json", args.json, "Print JSON");
  stats->callback([&exit_code] {
    auto store = open_inbox(args);
    if (!store) {
      exit_code = 1;
      return;
    }
    auto s = (*store)->stats();
    if (!s) {
      exit_code = report(s.error());
      return;
    }
    std::cout << (args.json ? webhooks::stats_to_json(*s).dump(2) + "\n" : webhooks::render_stats(*s));
    exit_code = 0;
  });

  auto* list = inbox->add_subcommand("list", "List events in arrival order");
  add_common_options(list, args);
  list->add_option("--state", args.state, "pending, claimed, done, dead or skipped")
      ->check(CLI::IsMember({"pending", "claimed", "done", "dead", "skipped"}));
  list->add_option("--after", args.after, "Only events with an id above this (paging)");
  list->add_option("--limit", args.limit, "At most this many events")->check(CLI::Range(1, 100000));
  list->add_flag("--json", args.json, "Print JSON lines, one event each, with the payload as received");
  list->callback([&exit_code] {
    auto store = open_inbox(args);
    if (!store) {
      exit_code = 1;
      return;
    }
    webhooks::ListFilter filter;
    if (!args.state.empty()) filter.state = webhooks::parse_event_state(args.state);
    filter.after_id = args.after;
    filter.limit = args.limit;
    auto events = (*store)->list(filter);
    if (!events) {
      exit_code = report(events.error());
      return;
    }
    if (args.json) {
      for (const auto& e : *events) std::cout << webhooks::event_to_json(e).dump() << '\n';
    } else {
      std::cout << webhooks::render_list(*events);
    }
    exit_code = 0;
  });

  auto* replay = inbox->add_subcommand("replay", "Put dead-lettered (or skipped) events back in the queue");
  add_common_options(replay, args);
  auto* id = replay->add_option("--id", args.id, "The event to replay");
  auto* all = replay->add_flag("--all", args.all, "Every event in the --from state");
  id->excludes(all);
  replay->add_option("--from", args.from, "The state to replay from")->check(CLI::IsMember({"dead", "skipped"}));
  replay->callback([&exit_code] {
    if (!args.id && !args.all) {
      std::cerr << "tandem inbox replay: give --id ID or --all\n";
      exit_code = 2;
      return;
    }
    auto store = open_inbox(args);
    if (!store) {
      exit_code = 1;
      return;
    }
    auto from = webhooks::parse_event_state(args.from).value_or(webhooks::EventState::kDead);
    auto replayed = (*store)->replay(args.id, from);
    if (!replayed) {
      exit_code = report(replayed.error());
      return;
    }
    const std::size_t n = *replayed;
    std::cout << "replayed " << n << " event(s)\n";
    exit_code = args.id && n == 0 ? 1 : 0;
  });
}

}  // namespace tandem::connector
