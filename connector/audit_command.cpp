// `tandem audit CONTACT_ID`: every decision Tandem took for one contact (what triggered it, the
// rules version and hash, the explanation, the actions planned and what became of them in
// HubSpot, with HubSpot's ids), its stage history (Tandem's moves and the ones people or other
// apps made), and what Tandem keeps about it now (stage entry, recycle count, cool-off, timer).
// Text for people, --json for machines.

#include <filesystem>
#include <iostream>
#include <set>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/config.hpp"
#include "common/metrics.hpp"
#include "common/time_format.hpp"
#include "connector/commands.hpp"
#include "connector/config.hpp"
#include "store/database.hpp"
#include "store/sqlite_audit.hpp"
#include "store/sqlite_contact_states.hpp"
#include "store/sqlite_outbox.hpp"

namespace tandem::connector {
namespace {

struct AuditArgs {
  std::string config_path;
  std::string contact;
  std::int64_t portal = 0;
  bool json = false;
  std::size_t limit = 1000;
};

std::string when(std::int64_t ms) { return ms ? format_iso8601_s(ms) : std::string("-"); }

nlohmann::json written_of(store::SqliteOutbox& outbox, std::int64_t portal, const std::string& contact) {
  // What became of the intents, by key: HubSpot's id for tasks, the state of everything.
  nlohmann::json by_key = nlohmann::json::object();
  hubspot::OutboxFilter filter;
  filter.portal_id = portal;
  filter.contact_id = contact;
  filter.limit = 1000;
  auto items = outbox.list(filter);
  if (!items) return by_key;
  for (const auto& i : *items) {
    nlohmann::json w{{"state", std::string(hubspot::to_string(i.state))}, {"lane", std::string(hubspot::to_string(i.lane))}};
    if (!i.hubspot_id.empty()) w["hubspot_id"] = i.hubspot_id;
    if (!i.last_error.empty()) w["error"] = i.last_error;
    by_key[i.key] = w;
  }
  return by_key;
}

int run_audit(const AuditArgs& args) {
  auto loaded_config = load_config(args.config_path);
  if (!loaded_config) return 1;
  TandemConfig config = std::move(*loaded_config);
  if (!std::filesystem::exists(config.store.path)) {
    std::cerr << "tandem audit: no database at " << config.store.path << " (tandem serve creates it)\n";
    return 1;
  }
  MetricsRegistry metrics;
  store::Database database(config.store, metrics);
  store::SqliteAuditLog audit(database);
  store::SqliteContactStates states(database);
  store::SqliteOutbox outbox(database);

  std::int64_t contact_number = 0;
  try {
    contact_number = std::stoll(args.contact);
  } catch (const std::exception&) {
    std::cerr << "tandem audit: '" << args.contact << "' is not a HubSpot contact id\n";
    return 2;
  }
  pipeline::AuditQuery q;
  q.portal_id = args.portal;
  q.contact_id = contact_number;
  q.limit = args.limit;
  auto entries = audit.list(q);
  if (!entries) {
    std::cerr << "tandem audit: " << entries.error().message << '\n';
    return 1;
  }
  std::set<std::int64_t> portals;
  if (args.portal) portals.insert(args.portal);
  for (const auto& e : *entries) portals.insert(e.portal_id);

  nlohmann::json out{{"contact", args.contact}, {"accounts", nlohmann::json::array()}};
  for (auto portal : portals) {
    nlohmann::json account{{"portal", portal}};
    const std::string ids[] = {args.contact};
    if (auto loaded = states.load(portal, ids); loaded && loaded->count(args.contact)) {
      const auto& s = loaded->at(args.contact);
      account["state"] = {{"stage", s.stage},
                          {"stage_entered_at", s.rules.stage_entered_at.value_or(0)},
                          {"recycle_count", s.rules.recycle_count},
                          {"cool_off_until", s.rules.cool_off_until.value_or(0)},
                          {"last_return_reason", s.rules.last_return_reason},
                          {"tasks_created", s.rules.fired},
                          {"evaluations", s.evaluations},
                          {"evaluated_at", s.evaluated_at},
                          {"rules_version", s.rules_version},
                          {"next_check_at", s.next_check_at},
                          {"next_check_reason", s.next_check_reason}};
    }
    nlohmann::json history = nlohmann::json::array();
    if (auto t = states.transitions(portal, args.contact, args.limit))
      for (const auto& tr : *t)
        history.push_back({{"at", tr.at},
                           {"from", tr.from},
                           {"to", tr.to},
                           {"cause", tr.cause},
                           {"rule", tr.rule},
                           {"rules_version", tr.rules_version},
                           {"source", tr.source},
                           {"source_id", tr.source_id}});
    account["stage_history"] = history;
    out["accounts"].push_back(account);
  }
  nlohmann::json decisions = nlohmann::json::array();
  std::map<std::int64_t, nlohmann::json> written;
  for (const auto& e : *entries) {
    if (!written.count(e.portal_id)) written[e.portal_id] = written_of(outbox, e.portal_id, args.contact);
    nlohmann::json d{{"id", e.id}, {"portal", e.portal_id}, {"at", e.at}, {"kind", e.kind}, {"rules_version", e.rules_version}};
    auto detail = nlohmann::json::parse(e.detail, nullptr, false);
    if (detail.is_object()) {
      for (auto& a : detail["actions"]) {
        auto key = a.value("key", "");
        if (written[e.portal_id].contains(key)) a["written"] = written[e.portal_id][key];
      }
      d["detail"] = detail;
    }
    decisions.push_back(d);
  }
  out["decisions"] = decisions;

  if (args.json) {
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  std::cout << "Contact " << args.contact << '\n';
  if (decisions.empty() && portals.empty()) {
    std::cout << "  Tandem has decided nothing about this contact (yet).\n";
    return 0;
  }
  for (const auto& a : out["accounts"]) {
    std::cout << "\nIn account " << a["portal"] << ":\n";
    if (a.contains("state")) {
      const auto& s = a["state"];
      std::cout << "  now " << (s["stage"].get<std::string>().empty() ? "without a stage" : s["stage"].get<std::string>())
                << ", since " << when(s["stage_entered_at"]) << "; returned to nurture " << s["recycle_count"]
                << " time(s)";
      if (s["cool_off_until"].get<std::int64_t>()) std::cout << "; cool-off until " << when(s["cool_off_until"]);
      std::cout << "\n  evaluated " << s["evaluations"] << " time(s), last at " << when(s["evaluated_at"]) << " with rules "
                << s["rules_version"].get<std::string>() << '\n';
      if (s["next_check_at"].get<std::int64_t>())
        std::cout << "  next check " << when(s["next_check_at"]) << ": " << s["next_check_reason"].get<std::string>() << '\n';
    }
    if (!a["stage_history"].empty()) {
      std::cout << "  stage history:\n";
      for (const auto& t : a["stage_history"]) {
        std::string from = t["from"];
        std::cout << "    " << when(t["at"]) << "  " << (from.empty() ? "(none)" : from) << " -> "
                  << t["to"].get<std::string>() << "  ";
        const std::string cause = t["cause"];
        if (cause == "rule")
          std::cout << "by Tandem's rule \"" << t["rule"].get<std::string>() << "\" (" << t["rules_version"].get<std::string>() << ")";
        else if (cause == "person")
          std::cout << "by a person in HubSpot (" << t["source_id"].get<std::string>() << ")";
        else if (cause == "integration")
          std::cout << "by another app (" << t["source_id"].get<std::string>() << ")";
        else
          std::cout << "by HubSpot (" << t["source"].get<std::string>() << ")";
        std::cout << '\n';
      }
    }
  }
  std::cout << "\nDecisions (" << decisions.size() << "):\n";
  for (const auto& d : decisions) {
    std::cout << "\n  " << when(d["at"]) << "  " << d["kind"].get<std::string>() << "  rules "
              << d["rules_version"].get<std::string>() << '\n';
    if (!d.contains("detail")) continue;
    const auto& detail = d["detail"];
    const auto& trigger = detail["trigger"];
    std::cout << "    because: " << trigger.value("kind", "");
    if (trigger.contains("timer")) std::cout << " (" << trigger["timer"].get<std::string>() << ")";
    if (!trigger["changes"].empty()) {
      std::cout << ":";
      for (const auto& c : trigger["changes"]) std::cout << " " << c.get<std::string>() << ";";
    }
    std::cout << '\n';
    for (const auto& s : detail["said"]) std::cout << "    did: " << s.get<std::string>() << '\n';
    for (const auto& a : detail["actions"]) {
      if (!a.contains("written")) continue;
      const auto& w = a["written"];
      std::cout << "    in HubSpot: " << a.value("kind", "") << " " << w.value("state", "");
      if (w.contains("hubspot_id")) std::cout << " (id " << w["hubspot_id"].get<std::string>() << ")";
      if (w.contains("error")) std::cout << ": " << w["error"].get<std::string>();
      std::cout << '\n';
    }
    std::cout << "    why:\n";
    std::string explanation = detail.value("explanation", "");
    std::size_t start = 0;
    while (start < explanation.size()) {
      auto end = explanation.find('\n', start);
      if (end == std::string::npos) end = explanation.size();
      std::cout << "      " << explanation.substr(start, end - start) << '\n';
      start = end + 1;
    }
  }
  return 0;
}

}  // namespace

void add_audit_command(CLI::App& app, int& exit_code) {
  static AuditArgs args;
  auto* command = app.add_subcommand("audit", "Every decision Tandem took for a contact, why, what it wrote in HubSpot, "
                                              "and the contact's stage history");
  command->add_option("contact", args.contact, "HubSpot contact id")->required();
  command->add_option("--config,-c", args.config_path, "Configuration file")->required()->check(CLI::ExistingFile);
  command->add_option("--portal", args.portal, "Only this HubSpot account (hub id)");
  command->add_option("--limit", args.limit, "At most this many decisions")->check(CLI::Range(1, 100000));
  command->add_flag("--json", args.json, "JSON instead of text");
  command->callback([&exit_code] { exit_code = run_audit(args); });
}

}  // namespace tandem::connector
