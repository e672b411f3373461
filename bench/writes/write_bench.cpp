// Tandem's side of the write benchmark (bench/writes/run.sh builds and runs it): records a backlog
// into a fresh SQLite outbox, then drains it into `tandem sandbox` through the write path exactly
// as `tandem serve` composes it (connector::WritePath over store::SqliteOutbox), with HubSpot's
// real limits on Tandem's side (the default RateLimits) and on the sandbox's (110 per 10 s).
//
//   write_bench --sandbox URL --db FILE --portal ID:TOKEN [--portal ID:TOKEN ...]
//               [--updates N] [--tasks M] [--first-contact ID] [--warmup S] [--timeout S] [--label NAME]
//               [--cpu-of PID] [--synchronous full|normal]
//
// --cpu-of: also report that process's CPU (utime + stime from /proc) over the drain: run.sh
// passes the sandbox's, to show whether the sandbox was the bound.
// --synchronous: the outbox's durability (store.synchronous); full, the default of tandem serve,
// flushes the WAL at every commit; normal does not (a diagnostic: how much the flushes cost).
//
// Per account: N property updates over N distinct contacts FIRST..FIRST+N-1 (so coalescing
// cannot shrink the work), and M task creations over the first M of them, recorded 10 updates
// then 1 task, as the pipeline would record them. Every account is drained at once by one writer.
//
// Timing: t0 is the sandbox's own timestamp of the first request of the run (its request log);
// an account's end is when its count of written items (the writer's tandem_outbox_items_total
// {outcome="written"}, polled every 20 ms) last moved; the run's end, when the writer's total
// count last moved. Records/s is records written / (end - t0); the steady rate is the slope of
// records written between t0 + WARMUP and end - 10 s, which leaves out the first 10 s window
// (where the rolling window lets a full budget start at once) and the tail. The run is over when
// the outbox has nothing pending. The 429 share comes from the sandbox's request log over the run
// (every request, whoever sent it), per account from the client's tandem_hubspot_requests_total
// counter.
//
// Prints one JSON line per account ("kind":"account") and one for the run ("kind":"run").
// Exit status: 0 when every account drained with nothing dead, 1 otherwise (figures still printed).

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/http_client.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/secret.hpp"
#include "connector/write_path.hpp"
#include "hubspot/outbox.hpp"
#include "hubspot/token_source.hpp"
#include "store/database.hpp"
#include "store/sqlite_outbox.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
namespace hs = tandem::hubspot;

namespace {

constexpr double kCeilingRecordsPerSecond = 110.0 / 10.0 * 100.0;  // HubSpot: 110 per 10 s, 100 per batch

struct Options {
  std::string sandbox;
  std::string db;
  std::vector<std::pair<std::int64_t, std::string>> portals;  // id, token
  std::int64_t updates = 100'000;
  std::int64_t tasks = 10'000;
  std::int64_t first_contact = 1001;
  double warmup_s = 20;
  double timeout_s = 900;
  std::string label = "run";
  int cpu_of = 0;
  bool synchronous_full = true;  // a process (the sandbox) whose CPU over the drain is reported
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "write_bench: " << why << "\n"
            << "usage: write_bench --sandbox URL --db FILE --portal ID:TOKEN [--portal ID:TOKEN ...]\n"
               "                   [--updates N] [--tasks M] [--first-contact ID] [--warmup S] [--timeout S] [--label NAME]\n"
               "                   [--cpu-of PID] [--synchronous full|normal]\n";
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--sandbox") o.sandbox = value();
      else if (a == "--db") o.db = value();
      else if (a == "--portal") {
        std::string v = value();
        auto colon = v.find(':');
        if (colon == std::string::npos) usage("--portal wants ID:TOKEN");
        o.portals.emplace_back(std::stoll(v.substr(0, colon)), v.substr(colon + 1));
      } else if (a == "--updates") o.updates = std::stoll(value());
      else if (a == "--tasks") o.tasks = std::stoll(value());
      else if (a == "--first-contact") o.first_contact = std::stoll(value());
      else if (a == "--warmup") o.warmup_s = std::stod(value());
      else if (a == "--timeout") o.timeout_s = std::stod(value());
      else if (a == "--label") o.label = value();
      else if (a == "--cpu-of") o.cpu_of = std::stoi(value());
      else if (a == "--synchronous") {
        std::string v = value();
        if (v != "full" && v != "normal") usage("--synchronous is full or normal");
        o.synchronous_full = v == "full";
      }
      else usage("unknown argument " + a);
    } catch (const std::exception&) {
      usage("bad value for " + a);
    }
  }
  if (o.sandbox.empty() || o.db.empty() || o.portals.empty()) usage("--sandbox, --db and --portal are required");
  if (o.tasks > o.updates) usage("--tasks must not exceed --updates (tasks go to the first contacts)");
  return o;
}

// The sandbox's /_sandbox/ API (not rate-limited, not HubSpot's surface).
json sandbox_call(const std::string& base, const std::string& method, const std::string& target, const json& body = nullptr) {
  tandem::http::Request request;
  request.method = method;
  request.target = target;
  if (!body.is_null()) {
    request.body = body.dump();
    request.headers.set("Content-Type", "application/json");
  }
  auto r = tandem::http::fetch(base, request);
  if (!r) {
    auto e = r.error();
    std::cerr << "write_bench: " << method << " " << target << " failed: " << e << "\n";
    std::exit(1);
  }
  if (r->status / 100 != 2) {
    std::cerr << "write_bench: " << method << " " << target << " answered " << r->status << ": " << r->body << "\n";
    std::exit(1);
  }
  return r->body.empty() ? json() : json::parse(r->body);
}

// utime + stime of a process in seconds, from /proc/PID/stat (0 when unreadable).
double process_cpu_seconds(int pid) {
  if (pid <= 0) return 0;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return 0;
  char buf[4096];
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  // Fields after the command name, which is in parentheses and may hold spaces.
  const char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::int64_t epoch_ms() { return tandem::to_epoch_ms(tandem::SystemClock::instance().now()); }

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The backlog of one account: 10 updates, then 1 task, ... over distinct contacts; the tasks go
// to contacts already updated (task k to contact FIRST+k), and what is left of them at the end.
std::vector<hs::Intent> backlog(std::int64_t portal, const Options& o) {
  // The label in the values: a second run against the same contacts writes new values.
  std::vector<hs::Intent> intents;
  intents.reserve(static_cast<std::size_t>(o.updates + o.tasks));
  std::int64_t next_task = 0;
  auto task = [&] {
    std::string contact = std::to_string(o.first_contact + next_task);
    hs::TaskCreation t{"bench-t-" + o.label + "-" + std::to_string(portal) + "-" + contact, portal, contact, {}};
    t.properties.push_back({"hs_timestamp", std::to_string(1'767'225'600'000LL + next_task * 1000)});
    t.properties.push_back({"hs_task_subject", o.label + ": follow up with contact " + contact});
    t.properties.push_back({"hs_task_body", "Qualified by the benchmark rules."});
    t.properties.push_back({"hs_task_type", "CALL"});
    intents.emplace_back(std::move(t));
    ++next_task;
  };
  for (std::int64_t i = 0; i < o.updates; ++i) {
    std::string contact = std::to_string(o.first_contact + i);
    hs::ContactUpdate u{"bench-u-" + o.label + "-" + std::to_string(portal) + "-" + contact, portal, contact, {}};
    u.properties.push_back({"jobtitle", o.label + " title " + std::to_string(i) + " of " + contact});
    u.properties.push_back({"city", "city-" + std::to_string(i % 101)});
    intents.emplace_back(std::move(u));
    if (i % 10 == 9 && next_task < o.tasks) task();
  }
  while (next_task < o.tasks) task();
  return intents;
}

// Sums counter samples of `name` from the Prometheus text, by the value of label `by`, for the
// samples whose labels include every pair of `match`.
std::map<std::string, double> counter_by(const std::string& text, const std::string& name, const std::string& by,
                                         const std::map<std::string, std::string>& match) {
  std::map<std::string, double> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind(name + "{", 0) != 0) continue;
    std::size_t close = line.rfind('}');
    if (close == std::string::npos) continue;
    std::map<std::string, std::string> labels;
    std::string body = line.substr(name.size() + 1, close - name.size() - 1);
    std::size_t p = 0;
    while (p < body.size()) {
      std::size_t eq = body.find('=', p);
      if (eq == std::string::npos || eq + 1 >= body.size() || body[eq + 1] != '"') break;
      std::size_t q = body.find('"', eq + 2);
      if (q == std::string::npos) break;
      labels[body.substr(p, eq - p)] = body.substr(eq + 2, q - eq - 2);
      p = q + 1;
      if (p < body.size() && body[p] == ',') ++p;
    }
    bool ok = true;
    for (const auto& [k, v] : match)
      if (labels[k] != v) ok = false;
    if (!ok) continue;
    out[labels[by]] += std::atof(line.c_str() + close + 1);
  }
  return out;
}

struct Sample {
  double t;  // seconds since the writer started
  std::int64_t written;
};

// Records written per second between a and b, from samples taken at increasing t (linear
// interpolation between samples).
std::optional<double> slope(const std::vector<Sample>& s, double a, double b) {
  if (s.size() < 2 || b - a < 5) return std::nullopt;
  auto at = [&](double t) {
    if (t <= s.front().t) return static_cast<double>(s.front().written);
    for (std::size_t i = 1; i < s.size(); ++i)
      if (s[i].t >= t) {
        double f = (t - s[i - 1].t) / (s[i].t - s[i - 1].t);
        return static_cast<double>(s[i - 1].written) + f * static_cast<double>(s[i].written - s[i - 1].written);
      }
    return static_cast<double>(s.back().written);
  };
  return (at(b) - at(a)) / (b - a);
}

double round_to(double v, int digits) {
  double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  tandem::configure_logging({tandem::LogLevel::kWarn, {}});

  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(o.db + suffix);
  tandem::MetricsRegistry metrics;
  tandem::store::StoreConfig store_config;
  store_config.path = o.db;
  // The outbox as `tandem serve` runs it by default: every record and completion flushed.
  store_config.synchronous =
      o.synchronous_full ? tandem::store::StoreConfig::Synchronous::kFull : tandem::store::StoreConfig::Synchronous::kNormal;
  auto db = std::make_unique<tandem::store::Database>(store_config, metrics);
  auto outbox = std::make_unique<tandem::store::SqliteOutbox>(*db);

  // --- the backlog -------------------------------------------------------------------------------
  std::map<std::int64_t, std::int64_t> items_of;  // per account: items to write
  double record_s = 0;
  std::int64_t recorded = 0;
  for (const auto& [portal, token] : o.portals) {
    auto intents = backlog(portal, o);
    auto r0 = std::chrono::steady_clock::now();
    for (std::size_t from = 0; from < intents.size(); from += 1000) {
      std::span<const hs::Intent> part(intents.data() + from, std::min<std::size_t>(1000, intents.size() - from));
      auto r = outbox->record(part, epoch_ms());
      if (!r) {
        std::cerr << "write_bench: recording the backlog failed: " << r.error().message << "\n";
        return 1;
      }
      recorded += static_cast<std::int64_t>(r->recorded);
    }
    record_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();
    items_of[portal] = o.updates + o.tasks;
  }
  std::int64_t total_items = 0;
  for (const auto& [p, n] : items_of) total_items += n;
  if (recorded != total_items) {
    std::cerr << "write_bench: recorded " << recorded << " intents, expected " << total_items << "\n";
    return 1;
  }

  auto pending_by_portal = [&]() {
    std::map<std::int64_t, std::int64_t> pending, dead;
    auto s = outbox->stats(epoch_ms());
    if (!s) {
      std::cerr << "write_bench: outbox stats failed: " << s.error().message << "\n";
      std::exit(1);
    }
    for (const auto& l : s->lanes) {
      pending[l.portal_id] += l.pending;
      dead[l.portal_id] += l.dead;
    }
    return std::pair{pending, dead};
  };

  // --- the sandbox before the run ---------------------------------------------------------------
  // Re-applying the limits empties the sandbox's rate windows: earlier phases of run.sh do not
  // spend this run's budget.
  sandbox_call(o.sandbox, "PUT", "/_sandbox/limits", json{{"tenSecondly", 110}, {"searchPerSecond", 5}});
  json stats_before = sandbox_call(o.sandbox, "GET", "/_sandbox/stats");
  std::uint64_t seq_before = stats_before.at("requests").get<std::uint64_t>();
  std::map<std::int64_t, std::int64_t> tasks_before;
  for (const auto& p : stats_before.at("portals")) tasks_before[p.at("portalId").get<std::int64_t>()] = p.at("tasks").get<std::int64_t>();

  // --- the write path, as tandem serve composes it ----------------------------------------------
  hs::StaticTokenSource tokens;
  for (const auto& [portal, token] : o.portals) tokens.set(portal, tandem::Secret(token));
  tandem::connector::WritePathOptions options;  // HubSpot's real limits: the default RateLimits
  options.client.base_url = o.sandbox;
  boost::asio::io_context io;
  tandem::connector::WritePath path(io, *outbox, tokens, metrics, tandem::SystemClock::instance(), options);

  double cpu0 = cpu_seconds();
  double other_cpu0 = process_cpu_seconds(o.cpu_of);
  auto t_start = std::chrono::steady_clock::now();
  std::int64_t start_ms = epoch_ms();
  path.writer().start();
  std::thread io_thread([&io] {
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard(io.get_executor());
    io.run();
  });

  auto since = [&](std::chrono::steady_clock::time_point t) { return std::chrono::duration<double>(t - t_start).count(); };
  // Items written per account: the writer's tandem_outbox_items_total{outcome="written"}, every lane.
  std::map<std::int64_t, std::vector<tandem::Counter*>> written_counters;
  for (const auto& [portal, items] : items_of)
    for (hs::Lane lane : hs::kLanes)
      written_counters[portal].push_back(&metrics.counter(
          "tandem_outbox_items_total", "Outbox items sent to HubSpot, by what became of them",
          {{"portal", std::to_string(portal)}, {"lane", std::string(hs::to_string(lane))}, {"outcome", "written"}}));
  auto written_of = [&](std::int64_t portal) {
    std::int64_t n = 0;
    for (auto* c : written_counters[portal]) n += static_cast<std::int64_t>(c->value());
    return n;
  };
  std::map<std::int64_t, std::vector<Sample>> samples;  // per account, on every change
  std::map<std::int64_t, double> last_written_at;       // per account: seconds after start
  std::vector<Sample> total_samples;                    // from the writer's counts
  std::uint64_t last_written = 0;
  double last_change = 0;
  double stats_cost = 0;
  auto next_stats = t_start;
  bool timed_out = false;
  std::map<std::int64_t, std::int64_t> dead_by_portal;
  while (true) {
    auto now = std::chrono::steady_clock::now();
    auto c = path.writer().counts();  // atomics: readable from any thread
    if (c.written != last_written) {
      last_written = c.written;
      last_change = since(now);
      total_samples.push_back({last_change, static_cast<std::int64_t>(c.written)});
    }
    for (const auto& [portal, items] : items_of) {
      std::int64_t w = written_of(portal);
      auto& s = samples[portal];
      if (s.empty() || s.back().written != w) {
        s.push_back({since(now), w});
        last_written_at[portal] = since(now);
      }
    }
    // Done when the outbox has nothing pending (in flight included): reading it costs SQLite
    // work, so at most every 250 ms and below ~5% of a core.
    if (now >= next_stats) {
      auto s0 = std::chrono::steady_clock::now();
      auto [pending, dead] = pending_by_portal();
      auto s1 = std::chrono::steady_clock::now();
      stats_cost = std::max(stats_cost, std::chrono::duration<double>(s1 - s0).count());
      dead_by_portal = dead;
      bool all = true;
      for (const auto& [portal, items] : items_of)
        if (pending.count(portal) && pending[portal] != 0) all = false;
      if (all) break;
      next_stats = s1 + std::max<std::chrono::steady_clock::duration>(
                            250ms, std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(stats_cost * 20)));
    }
    if (since(now) > o.timeout_s) {
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  double end_s = timed_out ? since(std::chrono::steady_clock::now()) : last_change;
  auto final_counts = path.writer().counts();
  std::promise<void> stopped;
  path.writer().stop([&] { stopped.set_value(); });
  stopped.get_future().wait();
  io.stop();
  io_thread.join();
  double cpu = cpu_seconds() - cpu0;
  double other_cpu = process_cpu_seconds(o.cpu_of) - other_cpu0;

  // --- what the sandbox saw ----------------------------------------------------------------------
  json log = sandbox_call(o.sandbox, "GET", "/_sandbox/requests?since=" + std::to_string(seq_before));
  std::map<std::string, std::int64_t> by_status;
  std::int64_t requests = 0, first_at = 0, last_end = 0;
  for (const auto& e : log.at("results")) {
    ++requests;
    by_status[std::to_string(e.at("status").get<int>())]++;
    std::int64_t at = e.at("at").get<std::int64_t>();
    if (!first_at || at < first_at) first_at = at;
    last_end = std::max(last_end, at + e.at("durationMs").get<std::int64_t>());
  }
  bool log_complete = !log.at("results").empty() && log.at("results").front().at("seq").get<std::uint64_t>() == seq_before + 1;
  json stats_after = sandbox_call(o.sandbox, "GET", "/_sandbox/stats");
  std::map<std::int64_t, std::int64_t> tasks_created;
  for (const auto& p : stats_after.at("portals")) {
    auto id = p.at("portalId").get<std::int64_t>();
    tasks_created[id] = p.at("tasks").get<std::int64_t>() - tasks_before[id];
  }
  // t0: the first request as the sandbox stamped it (same machine, same clock), in seconds after
  // the writer's start.
  double t0 = first_at ? static_cast<double>(first_at - start_ms) / 1000.0 : 0;
  std::string rendered = metrics.render();

  // --- figures -----------------------------------------------------------------------------------
  bool ok = !timed_out;
  json accounts = json::array();
  double sum_rate = 0, min_fraction = 1e9;
  for (const auto& [portal, items] : items_of) {
    const auto& s = samples[portal];
    std::int64_t written = s.empty() ? 0 : s.back().written;
    std::int64_t dead = dead_by_portal[portal];
    double end = timed_out ? end_s : last_written_at[portal];
    double rate = static_cast<double>(written) / (end - t0);
    auto steady = slope(s, t0 + o.warmup_s, end - 10);
    auto status = counter_by(rendered, "tandem_hubspot_requests_total", "status", {{"portal", std::to_string(portal)}});
    double sent = 0;
    for (const auto& [k, v] : status) sent += v;
    json st = json::object();
    for (const auto& [k, v] : status) st[k] = static_cast<std::int64_t>(v);
    bool tasks_ok = tasks_created[portal] == o.tasks;
    if (dead != 0 || written != items || !tasks_ok) ok = false;
    sum_rate += rate;
    min_fraction = std::min(min_fraction, rate / kCeilingRecordsPerSecond);
    json a = {{"kind", "account"},
              {"label", o.label},
              {"portal", portal},
              {"items", items},
              {"written", written},
              {"dead", dead},
              {"tasks_in_sandbox", tasks_created[portal]},
              {"drain_s", round_to(end - t0, 2)},
              {"records_per_s", round_to(rate, 1)},
              {"fraction_of_ceiling", round_to(rate / kCeilingRecordsPerSecond, 4)},
              {"steady_records_per_s", steady ? json(round_to(*steady, 1)) : json(nullptr)},
              {"steady_fraction_of_ceiling", steady ? json(round_to(*steady / kCeilingRecordsPerSecond, 4)) : json(nullptr)},
              {"client_requests", static_cast<std::int64_t>(sent)},
              {"client_statuses", st},
              {"client_share_429", sent > 0 ? json(round_to((status.count("429") ? status["429"] : 0) / sent, 4)) : json(nullptr)}};
    std::cout << a.dump() << "\n";
    accounts.push_back(a);
  }
  std::int64_t n429 = by_status.count("429") ? by_status["429"] : 0;
  auto total_steady = slope(total_samples, t0 + o.warmup_s, end_s - 10);
  json run = {{"kind", "run"},
              {"label", o.label},
              {"accounts", static_cast<std::int64_t>(items_of.size())},
              {"updates_per_account", o.updates},
              {"synchronous", o.synchronous_full ? "full" : "normal"},
              {"tasks_per_account", o.tasks},
              {"record_s", round_to(record_s, 2)},
              {"first_request_after_start_s", round_to(t0, 3)},
              {"drain_s", round_to(end_s - t0, 2)},
              {"records_written", static_cast<std::int64_t>(final_counts.written)},
              {"records_per_s", round_to(static_cast<double>(final_counts.written) / (end_s - t0), 1)},
              {"steady_records_per_s", total_steady ? json(round_to(*total_steady, 1)) : json(nullptr)},
              {"ceiling_records_per_s", kCeilingRecordsPerSecond * static_cast<double>(items_of.size())},
              {"min_account_fraction_of_ceiling", round_to(min_fraction, 4)},
              {"sandbox_requests", requests},
              {"sandbox_statuses", by_status},
              {"sandbox_share_429", requests ? round_to(static_cast<double>(n429) / static_cast<double>(requests), 4) : 0.0},
              {"sandbox_log_complete", log_complete},
              {"writer", {{"written", final_counts.written},
                          {"retried", final_counts.retried},
                          {"dead", final_counts.dead},
                          {"lookups", final_counts.lookups},
                          {"found_on_lookup", final_counts.found_on_lookup},
                          {"requests", final_counts.requests}}},
              {"records_per_request", requests ? round_to(static_cast<double>(final_counts.written) / static_cast<double>(requests), 1) : 0.0},
              {"bench_cpu_s", round_to(cpu, 2)},
              {"bench_cpu_percent", round_to(cpu / end_s * 100, 1)},
              {"sandbox_cpu_percent", o.cpu_of ? json(round_to(other_cpu / end_s * 100, 1)) : json(nullptr)},
              {"outbox_poll_max_ms", round_to(stats_cost * 1000, 1)},
              {"timed_out", timed_out},
              {"ok", ok}};
  std::cout << run.dump() << std::endl;
  outbox.reset();
  db.reset();
  return ok ? 0 : 1;
}
