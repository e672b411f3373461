// `tandem outbox stats|list|retry|drop`: the admin's view of the writes Tandem intends to make in
// HubSpot, in the style of `tandem inbox` (same options, --json, plain tables).

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/metrics.hpp"
#include "connector/commands.hpp"
#include "connector/config.hpp"
#include "store/database.hpp"
#include "store/sqlite_outbox.hpp"
#include "webhooks/inbox_report.hpp"

namespace tandem::connector {
namespace {

using hubspot::ItemState;
using hubspot::Lane;
using hubspot::ListedItem;
using hubspot::OutboxStats;

struct OutboxArgs {
  std::string config_path;
  std::string db_path;
  bool json = false;
  std::string state;
  std::string lane;
  std::optional<std::int64_t> portal;
  std::int64_t after = 0;
  std::size_t limit = 50;
  std::optional<std::int64_t> id;
  bool all = false;
};

// The database and the outbox in it, in the order they close.
struct OpenOutbox {
  explicit OpenOutbox(const store::StoreConfig& config) : database(config, metrics), outbox(database) {}
  MetricsRegistry metrics;
  store::Database database;
  store::SqliteOutbox outbox;
  store::SqliteOutbox* operator->() { return &outbox; }
};

int report(const hubspot::OutboxError& error) {
  std::cerr << "tandem outbox: " << error.message << '\n';
  return 1;
}

// The store from --db, else from the configuration's store.path. Nullptr after printing why.
std::unique_ptr<OpenOutbox> open_outbox(const OutboxArgs& args) {
  store::StoreConfig store_config;
  if (!args.db_path.empty()) {
    store_config.path = args.db_path;
  } else if (!args.config_path.empty()) {
    auto loaded_config = load_config(args.config_path);
    if (!loaded_config) return nullptr;
    TandemConfig config = std::move(*loaded_config);
    store_config = config.store;
  } else {
    std::cerr << "tandem outbox: give --config FILE or --db FILE\n";
    return nullptr;
  }
  // As for `tandem inbox`: a mistyped path must be an error, not a new, empty database.
  if (!std::filesystem::exists(store_config.path)) {
    std::cerr << "tandem outbox: no database at " << store_config.path << " (tandem serve creates it)\n";
    return nullptr;
  }
  try {
    return std::make_unique<OpenOutbox>(store_config);
  } catch (const std::exception& e) {
    std::cerr << "tandem outbox: " << e.what() << '\n';
    return nullptr;
  }
}

void add_common_options(CLI::App* command, OutboxArgs& args) {
  command->add_option("--config,-c", args.config_path, "Configuration file (for store.path)");
  command->add_option("--db", args.db_path, "SQLite file of the store (instead of --config)");
}

std::string seconds(std::chrono::milliseconds age) {
  char text[64];
  std::snprintf(text, sizeof text, "%.3f", std::chrono::duration<double>(age).count());
  return text;
}

std::string render_stats(const OutboxStats& s) {
  std::string out = "portal\tlane\tpending\tdead\tdone\toldest pending (s)\n";
  for (const auto& l : s.lanes) {
    out += std::to_string(l.portal_id) + '\t' + std::string(hubspot::to_string(l.lane)) + '\t' +
           std::to_string(l.pending) + '\t' + std::to_string(l.dead) + '\t' + std::to_string(l.done) + '\t' +
           seconds(l.oldest_pending_age) + '\n';
  }
  if (s.lanes.empty()) out += "(the outbox is empty)\n";
  return out;
}

nlohmann::json stats_to_json(const OutboxStats& s) {
  nlohmann::json lanes = nlohmann::json::array();
  for (const auto& l : s.lanes) {
    lanes.push_back({{"portal_id", l.portal_id},
                     {"lane", hubspot::to_string(l.lane)},
                     {"pending", l.pending},
                     {"dead", l.dead},
                     {"done", l.done},
                     {"oldest_pending_age_ms", l.oldest_pending_age.count()}});
  }
  return {{"lanes", lanes}};
}

std::string properties_text(const ListedItem& item) {
  std::string out;
  for (const auto& p : item.properties) out += (out.empty() ? "" : " ") + p.name + "=" + p.value;
  return out;
}

std::string error_text(const ListedItem& item) {
  if (item.last_error.empty() && item.last_status == 0) return "";
  return (item.last_status ? std::to_string(item.last_status) + " " : std::string()) + item.last_error;
}

// One line per item: id, state, lane, portal, contact, attempts, recorded (UTC), retry at (UTC,
// "-" when due), key, HubSpot id, properties, the last error.
std::string render_list(const std::vector<ListedItem>& items) {
  std::string out =
      "id\tstate\tlane\tportal\tcontact\tattempts\trecorded\tretry at\tkey\thubspot id\tproperties\terror\n";
  for (const auto& i : items) {
    out += std::to_string(i.id) + '\t' + std::string(hubspot::to_string(i.state)) + '\t' +
           std::string(hubspot::to_string(i.lane)) + '\t' + std::to_string(i.portal_id) + '\t' + i.contact_id + '\t' +
           std::to_string(i.attempts) + '\t' + webhooks::format_epoch_ms(i.recorded_at) + '\t' +
           (i.retry_at ? webhooks::format_epoch_ms(i.retry_at) : "-") + '\t' + i.key + '\t' +
           (i.hubspot_id.empty() ? "-" : i.hubspot_id) + '\t' + properties_text(i) + '\t' + error_text(i) + '\n';
  }
  return out;
}

nlohmann::json item_to_json(const ListedItem& i) {
  nlohmann::json properties = nlohmann::json::object();
  for (const auto& p : i.properties) properties[p.name] = p.value;
  return {{"id", i.id},
          {"state", hubspot::to_string(i.state)},
          {"lane", hubspot::to_string(i.lane)},
          {"portal_id", i.portal_id},
          {"contact_id", i.contact_id},
          {"key", i.key},
          {"attempts", i.attempts},
          {"recorded_at", webhooks::format_epoch_ms(i.recorded_at)},
          {"retry_at", i.retry_at ? nlohmann::json(webhooks::format_epoch_ms(i.retry_at)) : nlohmann::json()},
          {"hubspot_id", i.hubspot_id},
          {"properties", properties},
          {"last_error", i.last_error},
          {"last_status", i.last_status}};
}

// retry and drop: one item (--id), a portal's (--portal) or every one (--all).
void add_target_options(CLI::App* command, OutboxArgs& args) {
  auto* id = command->add_option("--id", args.id, "The item");
  auto* portal = command->add_option("--portal", args.portal, "Every item of this HubSpot account");
  auto* all = command->add_flag("--all", args.all, "Every item");
  id->excludes(all);
  id->excludes(portal);
  portal->excludes(all);
}

}  // namespace

void add_outbox_command(CLI::App& app, int& exit_code) {
  static OutboxArgs args;
  args = OutboxArgs{};  // run_cli() may run more than once in a process (the tests)
  auto* outbox = app.add_subcommand("outbox", "Inspect the writes waiting for HubSpot; retry or drop dead ones");
  outbox->require_subcommand(1);

  auto* stats = outbox->add_subcommand("stats", "Counts per account and lane and the age of the oldest pending write");
  add_common_options(stats, args);
  stats->add_flag("--json", args.json, "Print JSON");
  stats->callback([&exit_code] {
    auto store = open_outbox(args);
    if (!store) {
      exit_code = 1;
      return;
    }
    auto s = (*store)->stats(to_epoch_ms(SystemClock::instance().now()));
    if (!s) {
      exit_code = report(s.error());
      return;
    }
    std::cout << (args.json ? stats_to_json(*s).dump(2) + "\n" : render_stats(*s));
    exit_code = 0;
  });

  auto* list = outbox->add_subcommand("list", "List items in the order they were first recorded");
  add_common_options(list, args);
  list->add_option("--state", args.state, "pending, in_flight, dead or done")
      ->check(CLI::IsMember({"pending", "in_flight", "dead", "done"}));
  list->add_option("--lane", args.lane, "contact_updates, lifecycle_clear, lifecycle_set or task_creates")
      ->check(CLI::IsMember({"contact_updates", "lifecycle_clear", "lifecycle_set", "task_creates"}));
  list->add_option("--portal", args.portal, "Only items of this HubSpot account");
  list->add_option("--after", args.after, "Only items with an id above this (paging)");
  list->add_option("--limit", args.limit, "At most this many items")->check(CLI::Range(1, 100000));
  list->add_flag("--json", args.json, "Print JSON lines, one item each");
  list->callback([&exit_code] {
    auto store = open_outbox(args);
    if (!store) {
      exit_code = 1;
      return;
    }
    hubspot::OutboxFilter filter;
    if (!args.state.empty()) filter.state = hubspot::parse_item_state(args.state);
    if (!args.lane.empty()) filter.lane = hubspot::parse_lane(args.lane);
    filter.portal_id = args.portal;
    filter.after_id = args.after;
    filter.limit = args.limit;
    auto items = (*store)->list(filter);
    if (!items) {
      exit_code = report(items.error());
      return;
    }
    if (args.json) {
      for (const auto& i : *items) std::cout << item_to_json(i).dump() << '\n';
    } else {
      std::cout << render_list(*items);
    }
    exit_code = 0;
  });

  // retry and drop: the same targets, one outbox call each.
  using Change = Result<std::size_t, hubspot::OutboxError> (hubspot::Outbox::*)(std::optional<std::int64_t>,
                                                                                         std::optional<std::int64_t>);
  auto add_change = [&](const char* name, const char* help, const char* done, Change change) {
    auto* command = outbox->add_subcommand(name, help);
    add_common_options(command, args);
    add_target_options(command, args);
    command->callback([&exit_code, name, done, change] {
      if (!args.id && !args.portal && !args.all) {
        std::cerr << "tandem outbox " << name << ": give --id ID, --portal PORTAL or --all\n";
        exit_code = 2;
        return;
      }
      auto store = open_outbox(args);
      if (!store) {
        exit_code = 1;
        return;
      }
      auto changed = (store->outbox.*change)(args.id, args.portal);
      if (!changed) {
        exit_code = report(changed.error());
        return;
      }
      std::cout << done << " " << *changed << " item(s)\n";
      exit_code = args.id && *changed == 0 ? 1 : 0;
    });
  };
  add_change("retry", "Put dead items back in the queue, attempts reset", "retried", &hubspot::Outbox::retry);
  add_change("drop", "Remove pending or dead items for good (their keys stay recorded)", "dropped", &hubspot::Outbox::drop);
}

}  // namespace tandem::connector
