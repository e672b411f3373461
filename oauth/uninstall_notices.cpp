#include "oauth/uninstall_notices.hpp"

#include <charconv>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "common/log.hpp"
#include "common/time_format.hpp"

namespace tandem::oauth {

namespace net = boost::asio;
using nlohmann::json;

namespace {

constexpr const char* kJournalPath = "/webhooks-journal/journal/2026-03";
constexpr const char* kSubscriptionsPath = "/webhooks-journal/subscriptions/2026-03";
// A malformed entry is read again this many times before it is skipped (with an error logged),
// so that one bad file cannot hide every later uninstall.
constexpr int kAttemptsBeforeSkip = 3;

// "https://host[:port]/path?query" -> origin and target; nullopt when it is not an absolute URL.
std::optional<std::pair<std::string, std::string>> split_url(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos || (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0))
    return std::nullopt;
  auto slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return std::pair{url, std::string("/")};
  return std::pair{url.substr(0, slash), url.substr(slash)};
}

// A number given as a JSON number or a string of digits (HubSpot's journal files are
// [UNCONFIRMED]: ids are read both ways).
std::int64_t id_of(const json& j) {
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_string()) {
    // Digits only; anything else, or a number too large for an id, is no id (0).
    const auto& s = j.get_ref<const std::string&>();
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc{} && end == s.data() + s.size() && !s.empty() && s[0] != '-' ? v : 0;
  }
  return 0;
}

std::int64_t time_of(const json& j) {
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_string()) return parse_timestamp_ms(j.get_ref<const std::string&>()).value_or(0);
  return 0;
}

std::string text_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// HubSpot's message from an error body, for the log and /readyz (never a token: the journal's
// answers carry none).
std::string answer(const http::Response& r) {
  std::string what = "HubSpot answered " + std::to_string(r.status);
  json body = json::parse(r.body, nullptr, false);
  if (body.is_object()) {
    std::string m = text_of(body, "message");
    if (!m.empty()) what += ": " + m;
  }
  return what;
}

}  // namespace

struct UninstallNotices::State {
  State(TokenStore& store, MetricsRegistry& metrics, const Clock& clock, UninstallNoticesOptions options)
      : store(store), metrics(metrics), clock(clock), options(std::move(options)) {}

  TokenStore& store;
  MetricsRegistry& metrics;
  const Clock& clock;
  UninstallNoticesOptions options;
  Logger log{"uninstall_notices"};

  // Job thread only.
  Secret token;
  std::int64_t token_expires_at = 0;
  bool subscribed = false;
  std::map<std::string, int> bad_entries;  // offset -> failed reads of its file

  mutable std::mutex mutex;  // guards the status below
  bool status_subscribed = false;
  std::int64_t last_poll_at = 0;
  std::string last_error;
  std::uint64_t uninstalls = 0;

  std::int64_t now() const { return to_epoch_ms(clock.now()); }

  http::Request api_request(std::string method, std::string target) const {
    http::Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers.set("Authorization", "Bearer " + std::string(token.reveal()));
    r.headers.set("Accept", "application/json");
    return r;
  }

  void count_poll(const char* result) {
    metrics.counter("tandem_uninstall_notice_polls_total", "Rounds reading HubSpot's journal for uninstalls, by result",
                    {{"result", result}})
        .inc();
  }

  // The app's client-credentials token, fetched when there is none or it is about to expire.
  net::awaitable<std::string> ensure_token(TokenEndpoint& endpoint) {
    if (!token.empty() && now() < token_expires_at - 60'000) co_return std::string();
    std::vector<std::string> scopes = {"developer.webhooks_journal.read", "developer.webhooks_journal.subscriptions.read",
                                       "developer.webhooks_journal.subscriptions.write"};
    GrantResult grant = co_await endpoint.client_credentials(std::move(scopes));
    if (!grant) {
      token = Secret();
      co_return "getting the app's token for the journal failed: " + grant.error().message +
          (grant.error().kind == GrantError::Kind::kRefused
               ? " (the app needs the scopes developer.webhooks_journal.read and developer.webhooks_journal.subscriptions.read/.write)"
               : "");
    }
    token = grant->access_token;
    token_expires_at = now() + grant->expires_in_s * 1000;
    co_return std::string();
  }

  // The app's subscription to uninstall events: found in the list, or created.
  net::awaitable<std::string> ensure_subscription(http::HttpClient& http) {
    if (subscribed) co_return std::string();
    http::ClientResult listed = co_await http.send(options.api_origin, api_request("GET", kSubscriptionsPath));
    if (!listed) co_return "listing the journal subscriptions failed: no answer";
    if (listed->status == 401) token = Secret();
    if (listed->status != 200) co_return "listing the journal subscriptions failed: " + answer(*listed);
    json body = json::parse(listed->body, nullptr, false);
    if (body.is_object() && body.contains("results") && body["results"].is_array()) {
      for (const auto& sub : body["results"]) {
        if (!sub.is_object() || text_of(sub, "subscriptionType") != "APP_LIFECYCLE_EVENT") continue;
        // The response schema has no eventTypeId; HubSpot may give the event type as objectTypeId
        // [UNCONFIRMED], so both are accepted.
        if (text_of(sub, "eventTypeId") == kAppUninstallEventType || text_of(sub, "objectTypeId") == kAppUninstallEventType) {
          subscribed = true;
          co_return std::string();
        }
      }
    }
    http::Request create = api_request("POST", kSubscriptionsPath);
    create.headers.set("Content-Type", "application/json");
    create.body = json{{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", kAppUninstallEventType},
                       {"properties", json::array()}}
                      .dump();
    http::ClientResult created = co_await http.send(options.api_origin, std::move(create));
    if (!created) co_return "subscribing to uninstall events failed: no answer";
    if (created->status == 401) token = Secret();
    if (created->status / 100 != 2) co_return "subscribing to uninstall events failed: " + answer(*created);
    subscribed = true;
    log.info("subscribed to HubSpot's app uninstall events (Webhooks Journal)");
    co_return std::string();
  }

  // One journal event: an uninstall of an account Tandem serves disconnects it.
  void handle_event(const json& e, std::int64_t published_at, std::vector<std::int64_t>& out) {
    if (!e.is_object()) return;
    const bool uninstall = text_of(e, "eventTypeId") == kAppUninstallEventType || text_of(e, "action") == "APP_UNINSTALL";
    if (!uninstall) return;
    const std::int64_t portal = id_of(e.value("portalId", json()));
    if (portal <= 0) {
      log.warn("an uninstall event without an account id was ignored");
      return;
    }
    json props = e.value("properties", json::object());
    if (!props.is_object()) props = json::object();
    if (options.app_id != 0 && props.contains("hs_app_id") && id_of(props["hs_app_id"]) != options.app_id) return;
    std::int64_t occurred = time_of(e.value("occurredAt", json()));
    if (occurred == 0) occurred = published_at;
    auto account = store.account(portal);
    if (!account) {
      throw std::runtime_error("reading account " + std::to_string(portal) + " failed: " + account.error().message);
    }
    if (!*account || (*account)->status == AccountStatus::kDisconnected) return;  // not ours, or already done
    if (occurred != 0 && (*account)->installed_at > occurred) {
      log.info("an uninstall older than the account's last install was ignored",
               {{"portal", portal}, {"uninstalled_at", format_iso8601_ms(occurred)},
                {"installed_at", format_iso8601_ms((*account)->installed_at)}});
      return;
    }
    const std::int64_t user = id_of(props.value("hs_initiating_user_id", json()));
    std::string reason = "uninstalled in HubSpot";
    if (user > 0) reason += " by user " + std::to_string(user);
    if (occurred != 0) reason += " on " + format_iso8601_ms(occurred);
    auto done = store.disconnect(portal, reason, now());
    if (!done) throw std::runtime_error("disconnecting account " + std::to_string(portal) + " failed: " + done.error().message);
    if (!*done) return;
    out.push_back(portal);
    metrics.counter("tandem_uninstall_notices_total", "Accounts disconnected because they were uninstalled in HubSpot").inc();
    log.info("account uninstalled in HubSpot: disconnected (tokens deleted, work stopped, data kept for the retention)",
             {{"portal", portal}, {"reason", reason}});
    std::lock_guard lock(mutex);
    ++uninstalls;
  }

  // A file's events: {offset, journalEvents: [...]} [UNCONFIRMED shape]; an array of events or a
  // single event are read too.
  bool handle_file(const std::string& text, std::vector<std::int64_t>& out) {
    json file = json::parse(text, nullptr, false);
    if (file.is_discarded()) return false;
    if (file.is_array()) {
      for (const auto& e : file) handle_event(e, 0, out);
      return true;
    }
    if (!file.is_object()) return false;
    const std::int64_t published = time_of(file.value("publishedAt", json()));
    if (auto it = file.find("journalEvents"); it != file.end()) {
      if (!it->is_array()) return false;
      for (const auto& e : *it) handle_event(e, published, out);
      return true;
    }
    handle_event(file, published, out);
    return true;
  }

  // Every entry after the stored offset, each handled before the offset moves past it.
  net::awaitable<std::string> read_journal(http::HttpClient& http, std::vector<std::int64_t>& out) {
    auto stored = store.journal_offset();
    if (!stored) co_return "reading the journal's offset failed: " + stored.error().message;
    std::string at = *stored;
    bool restarted = false;
    for (std::size_t n = 0; n < options.max_entries_per_poll; ++n) {
      std::string target = at.empty() ? std::string(kJournalPath) + "/earliest"
                                      : std::string(kJournalPath) + "/offset/" + http::form_encode(at) + "/next";
      http::ClientResult r = co_await http.send(options.api_origin, api_request("GET", target));
      if (!r) co_return "reading the journal failed: no answer";
      if (r->status == 204) co_return std::string();  // caught up
      if (r->status == 404 && !at.empty() && !restarted) {
        // The offset is older than the journal's 3 days (Tandem was stopped that long) or unknown:
        // read again from the earliest entry; an uninstall older than that may have been missed.
        log.warn("the journal no longer has Tandem's offset; reading again from its earliest entry",
                 {{"offset", at}});
        at.clear();
        restarted = true;
        continue;
      }
      if (r->status == 401) token = Secret();
      if (r->status != 200) co_return "reading the journal failed: " + answer(*r);
      json entry = json::parse(r->body, nullptr, false);
      const std::string offset = entry.is_object() ? text_of(entry, "currentOffset") : std::string();
      const std::string url = entry.is_object() ? text_of(entry, "url") : std::string();
      auto where = split_url(url);
      if (offset.empty() || !where) co_return "reading the journal failed: an answer without currentOffset and url";
      // A pre-signed URL: no Authorization header (HubSpot: "Request it without an Authorization header").
      http::Request get;
      get.method = "GET";
      get.target = where->second;
      http::ClientResult file = co_await http.send(where->first, std::move(get));
      if (!file) co_return "fetching a journal entry failed: no answer";
      if (file->status != 200) co_return "fetching a journal entry failed: its URL answered " + std::to_string(file->status);
      if (!handle_file(file->body, out)) {
        if (++bad_entries[offset] < kAttemptsBeforeSkip) co_return "a journal entry is not the JSON expected (offset " + offset + ")";
        log.error("skipped a journal entry that is not the JSON expected, after several tries", {{"offset", offset}});
      }
      bad_entries.erase(offset);
      auto saved = store.save_journal_offset(offset, now());
      if (!saved) co_return "saving the journal's offset failed: " + saved.error().message;
      at = offset;
    }
    co_return std::string();  // more next round
  }

  net::awaitable<void> round(http::HttpClient& http, TokenEndpoint& endpoint, std::vector<std::int64_t>& out,
                             std::string& error) {
    error = co_await ensure_token(endpoint);
    if (!error.empty()) co_return;
    error = co_await ensure_subscription(http);
    if (!error.empty()) co_return;
    error = co_await read_journal(http, out);
  }
};

UninstallNotices::UninstallNotices(TokenStore& store, MetricsRegistry& metrics, const Clock& clock,
                                   UninstallNoticesOptions options)
    : state_(std::make_unique<State>(store, metrics, clock, std::move(options))) {}

UninstallNotices::~UninstallNotices() = default;

std::vector<std::int64_t> UninstallNotices::poll() {
  State& s = *state_;
  std::vector<std::int64_t> out;
  std::string error;
  {
    net::io_context io;
    http::HttpClient client(io, s.options.http);
    TokenEndpoint endpoint(client, s.options.endpoint);
    std::exception_ptr failure;
    net::co_spawn(io, s.round(client, endpoint, out, error), [&failure](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        error = e.what();
      } catch (...) {
        error = "an unexpected failure";
      }
    }
  }
  if (error.empty()) {
    s.count_poll("ok");
  } else {
    s.count_poll("failed");
    s.log.warn("reading HubSpot's journal for uninstalls failed; trying again next round", {{"error", error}});
  }
  std::lock_guard lock(s.mutex);
  s.status_subscribed = s.subscribed;
  s.last_poll_at = s.now();
  s.last_error = error;
  return out;
}

json UninstallNotices::status() const {
  const State& s = *state_;
  std::lock_guard lock(s.mutex);
  return json{{"subscribed", s.status_subscribed},
              {"last_poll_at", s.last_poll_at ? json(format_iso8601_ms(s.last_poll_at)) : json(nullptr)},
              {"last_error", s.last_error},
              {"uninstalls", s.uninstalls}};
}

}  // namespace tandem::oauth
