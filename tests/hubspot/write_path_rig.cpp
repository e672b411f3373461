#include "tests/hubspot/write_path_rig.hpp"

#include <chrono>
#include <future>
#include <set>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"

namespace tandem::testing {

using nlohmann::json;

Workload make_workload(std::int64_t portal, const std::vector<std::string>& contacts, int tasks_per_contact,
                       int updates_per_contact) {
  Workload w;
  int rounds = std::max(tasks_per_contact, updates_per_contact);
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t c = 0; c < contacts.size(); ++c) {
      const std::string& id = contacts[c];
      if (r < updates_per_contact) {
        hubspot::ContactUpdate u{"u-" + std::to_string(portal) + "-" + id + "-" + std::to_string(r), portal, id, {}};
        // Two properties move every round; a third only every third round, so that coalesced
        // inputs carry values recorded at different times.
        u.properties.push_back({"jobtitle", "title " + std::to_string(r) + " of " + id});
        u.properties.push_back({"city", "city-" + std::to_string((r * 7 + c) % 101)});
        if (r % 3 == 0) u.properties.push_back({"company", "company-" + std::to_string(r)});
        for (const auto& p : u.properties) w.latest[id][p.name] = p.value;
        w.intents.emplace_back(std::move(u));
      }
      if (r < tasks_per_contact) {
        std::string key = "t-" + std::to_string(portal) + "-" + id + "-" + std::to_string(r);
        hubspot::TaskCreation t{key, portal, id, {}};
        t.properties.push_back({"hs_timestamp", std::to_string(1'767'225'600'000LL + r * 86'400'000LL)});
        t.properties.push_back({"hs_task_subject", "Follow up " + std::to_string(r) + " with contact " + id});
        t.properties.push_back({"hs_task_body", "Qualified: fits the profile (round " + std::to_string(r) + ")."});
        t.properties.push_back({"hs_task_type", "CALL"});
        w.task_contact[key] = id;
        w.intents.emplace_back(std::move(t));
      }
    }
  }
  return w;
}

std::vector<std::string> check_against(const json& snapshot, std::int64_t portal, const Workload& workload,
                                       std::size_t max_lines) {
  std::vector<std::string> problems;
  std::size_t count = 0;
  auto problem = [&](std::string line) {
    if (++count <= max_lines) problems.push_back(std::move(line));
  };
  const json* p = nullptr;
  for (const auto& candidate : snapshot.at("portals"))
    if (candidate.at("id").get<std::int64_t>() == portal) p = &candidate;
  if (!p) return {"portal " + std::to_string(portal) + " is not in the snapshot"};

  // Associations task (type 1) → contact (type 0) with type 204: [fromType, fromId, toType, toId, typeId, category].
  std::map<std::int64_t, std::set<std::int64_t>> task_to_contacts;
  for (const auto& a : p->at("associations"))
    if (a.at(0).get<int>() == 1 && a.at(2).get<int>() == 0 && a.at(4).get<int>() == 204)
      task_to_contacts[a.at(1).get<std::int64_t>()].insert(a.at(3).get<std::int64_t>());

  std::map<std::string, std::string> marker_to_key;
  for (const auto& [key, contact] : workload.task_contact) marker_to_key[hubspot::task_marker(key)] = key;
  std::map<std::string, int> seen;
  for (const auto& t : p->at("objects").at("tasks")) {
    if (t.at("archived").get<bool>()) continue;
    std::string body = t.at("props").value("hs_task_body", "");
    std::string found;
    for (const auto& [marker, key] : marker_to_key)
      if (body.size() >= marker.size() && body.compare(body.size() - marker.size(), marker.size(), marker) == 0) found = key;
    auto task_id = t.at("id").get<std::int64_t>();
    if (found.empty()) {
      problem("task " + std::to_string(task_id) + " has no known marker: " + body.substr(0, 80));
      continue;
    }
    if (++seen[found] == 2) problem("task " + found + " exists more than once");
    const std::string& contact = workload.task_contact.at(found);
    auto it = task_to_contacts.find(task_id);
    if (it == task_to_contacts.end() || !it->second.count(std::stoll(contact)))
      problem("task " + found + " (" + std::to_string(task_id) + ") is not associated with contact " + contact);
  }
  for (const auto& [key, contact] : workload.task_contact)
    if (!seen.count(key)) problem("task " + key + " is missing");

  std::map<std::string, const json*> contacts;
  for (const auto& c : p->at("objects").at("contacts")) contacts[std::to_string(c.at("id").get<std::int64_t>())] = &c.at("props");
  for (const auto& [id, props] : workload.latest) {
    auto it = contacts.find(id);
    if (it == contacts.end()) {
      problem("contact " + id + " is missing");
      continue;
    }
    for (const auto& [name, value] : props) {
      std::string actual = it->second->value(name, std::string("<unset>"));
      if (actual != value) problem("contact " + id + " " + name + " is '" + actual + "', intended '" + value + "'");
    }
  }
  if (count > max_lines) problems.push_back("... " + std::to_string(count - max_lines) + " more");
  return problems;
}

connector::WritePathOptions fast_write_options(const std::string& base_url, const std::string& extra_ca_pem) {
  using namespace std::chrono_literals;
  connector::WritePathOptions o;
  o.client.base_url = base_url;
  o.client.timeout = 10s;
  o.http.extra_ca_pem = extra_ca_pem;
  o.limits.per_ten_seconds = 90'000;
  o.limits.search_per_second = 900;
  o.writer.settle = 3s;  // above the 2 s latency spikes: a request in a spike is applied by then
  o.writer.retry.base = 20ms;
  o.writer.retry.cap = 500ms;
  return o;
}

WriterHarness::WriterHarness(const std::string& db_path, hubspot::TokenSource& tokens, connector::WritePathOptions options,
                             store::StoreConfig::Synchronous synchronous)
    : io_(std::make_unique<boost::asio::io_context>()) {
  store::StoreConfig config;
  config.path = db_path;
  config.synchronous = synchronous;
  db_ = std::make_unique<store::Database>(config, metrics_);
  outbox_ = std::make_unique<store::SqliteOutbox>(*db_);
  path_ = std::make_unique<connector::WritePath>(*io_, *outbox_, tokens, metrics_, SystemClock::instance(), std::move(options));
}

WriterHarness::~WriterHarness() {
  stop();
  path_.reset();
  outbox_.reset();
  db_.reset();
}

void WriterHarness::start() {
  path_->writer().start();
  thread_ = std::thread([io = io_.get()] {
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard(io->get_executor());
    io->run();
  });
}

void WriterHarness::record(const std::vector<hubspot::Intent>& intents, std::size_t per_call) {
  std::set<std::int64_t> portals;
  for (std::size_t from = 0; from < intents.size(); from += per_call) {
    std::span<const hubspot::Intent> part(intents.data() + from, std::min(per_call, intents.size() - from));
    auto r = outbox_->record(part, to_epoch_ms(SystemClock::instance().now()));
    if (!r) throw std::runtime_error("recording intents failed: " + r.error().message);
    for (const auto& i : part) std::visit([&](const auto& x) { portals.insert(x.portal_id); }, i);
  }
  for (auto p : portals) path_->writer().wake(p);
}

std::int64_t WriterHarness::pending() {
  auto s = outbox_->stats(to_epoch_ms(SystemClock::instance().now()));
  if (!s) throw std::runtime_error("outbox stats failed: " + s.error().message);
  std::int64_t n = 0;
  for (const auto& l : s->lanes) n += l.pending;
  return n;
}

std::int64_t WriterHarness::dead() {
  auto s = outbox_->stats(to_epoch_ms(SystemClock::instance().now()));
  if (!s) throw std::runtime_error("outbox stats failed: " + s.error().message);
  std::int64_t n = 0;
  for (const auto& l : s->lanes) n += l.dead;
  return n;
}

void WriterHarness::stop() {
  if (stopped_ || !thread_.joinable()) return;
  stopped_ = true;
  std::promise<void> done;
  path_->writer().stop([&] { done.set_value(); });
  done.get_future().wait();
  io_->stop();
  thread_.join();
}

}  // namespace tandem::testing
