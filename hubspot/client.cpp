#include "hubspot/client.hpp"

#include <charconv>
#include <sstream>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/log.hpp"

namespace tandem::hubspot {

using nlohmann::json;

namespace {

constexpr std::size_t kRawBodyKept = 2048;

std::optional<int> header_int(const http::Response& r, std::string_view name) {
  auto v = r.headers.get(name);
  if (!v) return std::nullopt;
  int out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size()) return std::nullopt;
  return out;
}

std::string join(const std::vector<std::string>& values, char sep = ',') {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out.push_back(sep);
    out += http::form_encode(v);
  }
  return out;
}

std::string segment(std::string_view s) { return http::form_encode(s); }

std::string transport_label(const http::ClientError& e) { return std::string(to_string(e.kind)); }

}  // namespace

std::string ApiError::describe() const {
  std::string out;
  switch (kind) {
    case Kind::kHttp:
      out = "HTTP " + std::to_string(status);
      if (!body.category.empty()) out += " " + body.category;
      if (!body.policy_name.empty()) out += " " + body.policy_name;
      if (!body.message.empty()) out += ": " + body.message;
      for (const auto& e : body.errors)
        if (!e.message.empty() && e.message != body.message) out += "; " + e.message;
      if (body.message.empty() && body.errors.empty() && !raw_body.empty()) out += ": " + raw_body.substr(0, 200);
      if (!body.correlation_id.empty()) out += " (correlationId " + body.correlation_id + ")";
      break;
    case Kind::kTransport: {
      std::ostringstream s;
      if (transport) s << *transport;
      out = "no answer: " + s.str();
      break;
    }
    case Kind::kBadBody:
      out = "HTTP " + std::to_string(status) + " with a body that could not be read: " + raw_body.substr(0, 200);
      break;
    case Kind::kCancelled:
      out = "not sent: shutting down";
      break;
    case Kind::kToken:
      out = "no token: " + (token ? token->message : std::string("unknown"));
      break;
  }
  if (maybe_applied) out += " [may have been applied]";
  return out;
}

struct HubSpotClient::State {
  State(http::HttpClient& http, TokenSource& tokens, AccountRateLimiter& limiter, MetricsRegistry& metrics, const ClientConfig& config)
      : http(http), tokens(tokens), limiter(limiter), metrics(metrics) {
    // base_url: scheme://host[:port][/prefix]
    const std::string& base = config.base_url;
    auto scheme_end = base.find("://");
    auto path_start = scheme_end == std::string::npos ? std::string::npos : base.find('/', scheme_end + 3);
    origin = path_start == std::string::npos ? base : base.substr(0, path_start);
    if (path_start != std::string::npos) prefix = base.substr(path_start);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    timeout = config.timeout;
  }

  http::HttpClient& http;
  TokenSource& tokens;
  AccountRateLimiter& limiter;
  MetricsRegistry& metrics;
  std::string origin;
  std::string prefix;
  std::chrono::milliseconds timeout;
  Logger log{"hubspot"};

  void count(std::int64_t portal, std::string_view operation, std::string status) {
    metrics
        .counter("tandem_hubspot_requests_total", "Requests to HubSpot's API, by account, operation and status",
                 {{"portal", std::to_string(portal)}, {"operation", std::string(operation)}, {"status", std::move(status)}})
        .inc();
  }

  // One exchange, with the limiter, the token and one refresh on 401. Answers with a 2xx come
  // back as the response; anything else as an ApiError.
  Awaitable<ApiResult<http::Response>> call(std::int64_t portal, std::string_view operation, std::string method,
                                            std::string target, std::string body, Budget budget, bool write) {
    auto token = co_await tokens.access_token(portal);
    if (!token) {
      ApiError e;
      e.kind = ApiError::Kind::kToken;
      e.token = token.error();
      count(portal, operation, "no_token");
      co_return ApiResult<http::Response>(std::move(e));
    }
    Secret current = *token;
    for (int attempt = 0;; ++attempt) {
      if (!co_await limiter.acquire(portal, budget)) {
        ApiError e;
        e.kind = ApiError::Kind::kCancelled;
        co_return ApiResult<http::Response>(std::move(e));
      }
      http::Request request;
      request.method = method;
      request.target = prefix + target;
      request.body = body;
      request.headers.set("Authorization", std::string("Bearer ") + std::string(current.reveal()));
      request.headers.set("Accept", "application/json");
      if (!body.empty()) request.headers.set("Content-Type", "application/json");
      auto started = std::chrono::steady_clock::now();
      http::ClientResult result = co_await http.send(origin, std::move(request), {.timeout = timeout});
      metrics
          .histogram("tandem_hubspot_request_seconds", "Duration of requests to HubSpot's API", MetricsRegistry::latency_buckets(),
                     {{"operation", std::string(operation)}})
          .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      if (!result) {
        http::ClientError failure = result.error();
        count(portal, operation, transport_label(failure));
        ApiError e;
        e.kind = ApiError::Kind::kTransport;
        e.maybe_applied = write && failure.maybe_applied;
        e.transport = std::move(failure);
        co_return ApiResult<http::Response>(std::move(e));
      }
      http::Response response = std::move(*result);
      count(portal, operation, std::to_string(response.status));
      if (budget == Budget::kGeneral) {
        auto remaining = header_int(response, "X-HubSpot-RateLimit-Remaining");
        auto interval = header_int(response, "X-HubSpot-RateLimit-Interval-Milliseconds");
        if (remaining) limiter.observe(portal, *remaining, std::chrono::milliseconds(interval.value_or(10'000)));
      }
      if (response.status >= 200 && response.status < 300) co_return ApiResult<http::Response>(std::move(response));

      ApiError e;
      e.kind = ApiError::Kind::kHttp;
      e.status = response.status;
      e.raw_body = response.body.substr(0, kRawBodyKept);
      try {
        e.body = json::parse(response.body).get<ApiErrorBody>();
      } catch (const json::exception&) {
        // Not JSON (a proxy's page, a cut body): the raw body says what there is.
      }
      if (auto ra = header_int(response, "Retry-After"); ra && *ra >= 0) e.retry_after = std::chrono::seconds(*ra);
      if (response.status == 401 && attempt == 0) {
        // HubSpot says a 401 is not a reliable expiry signal; the token source refreshes once.
        metrics.counter("tandem_hubspot_token_refreshes_total", "Fresh tokens asked for after HubSpot answered 401",
                        {{"portal", std::to_string(portal)}})
            .inc();
        auto fresh = co_await tokens.refresh(portal, current);
        if (fresh) {
          current = *fresh;
          continue;
        }
        log.warn("HubSpot rejected the token and no fresh one was given",
                 {{"portal", portal}, {"error", fresh.error().message}});
        e.token = fresh.error();
      }
      if (response.status == 429) {
        std::string policy = e.body.policy_name.empty() ? "unknown" : e.body.policy_name;
        metrics
            .counter("tandem_hubspot_rate_limited_total", "429 answers from HubSpot, by account and policy",
                     {{"portal", std::to_string(portal)}, {"policy", policy}})
            .inc();
        log.warn("HubSpot answered 429", {{"portal", portal}, {"policy", policy}, {"operation", operation}});
        // Wait out the window before anything else of this account is sent (DAILY: the caller
        // pauses the account until the reset, which needs the account's time zone).
        std::chrono::milliseconds wait{0};
        if (e.retry_after)
          wait = *e.retry_after;
        else if (e.body.policy_name == "TEN_SECONDLY_ROLLING")
          wait = std::chrono::seconds(10);
        else if (e.body.policy_name == "SECONDLY" || budget == Budget::kSearch)
          wait = std::chrono::seconds(1);
        if (e.body.policy_name != "DAILY" && wait.count() > 0)
          limiter.pause_for(portal, budget, wait);
      }
      co_return ApiResult<http::Response>(std::move(e));
    }
  }

  template <class T>
  static ApiResult<T> parse(const http::Response& response, bool write) {
    try {
      return json::parse(response.body).get<T>();
    } catch (const json::exception& ex) {
      ApiError e;
      e.kind = ApiError::Kind::kBadBody;
      e.status = response.status;
      e.raw_body = response.body.substr(0, kRawBodyKept);
      // A success status means HubSpot applied a write even if its answer cannot be read.
      e.maybe_applied = write;
      return e;
    }
  }

  std::string objects(const std::string& version, std::string_view type) const {
    return "/crm/objects/" + version + "/" + std::string(type);
  }
};

HubSpotClient::HubSpotClient(http::HttpClient& http, TokenSource& tokens, AccountRateLimiter& limiter, MetricsRegistry& metrics,
                             ClientConfig config)
    : state_(std::make_unique<State>(http, tokens, limiter, metrics, config)), config_(std::move(config)) {}

HubSpotClient::~HubSpotClient() = default;

namespace {
json id_inputs(const std::vector<std::string>& ids) {
  json inputs = json::array();
  for (const auto& id : ids) inputs.push_back(json{{"id", id}});
  return inputs;
}
}  // namespace

Awaitable<ApiResult<CrmObject>> HubSpotClient::get_contact(std::int64_t portal, std::string id, std::vector<std::string> properties) {
  std::string target = state_->objects(config_.api_version, "contacts") + "/" + segment(id);
  if (!properties.empty()) target += "?properties=" + join(properties);
  auto r = co_await state_->call(portal, "get_contact", "GET", std::move(target), {}, Budget::kGeneral, false);
  if (!r) co_return ApiResult<CrmObject>(r.error());
  co_return State::parse<CrmObject>(*r, false);
}

Awaitable<ApiResult<BatchResult>> HubSpotClient::batch_read_contacts(std::int64_t portal, std::vector<std::string> ids,
                                                                      std::vector<std::string> properties) {
  json body{{"properties", properties}, {"inputs", id_inputs(ids)}};
  auto r = co_await state_->call(portal, "batch_read_contacts", "POST", state_->objects(config_.api_version, "contacts") + "/batch/read",
                                 body.dump(), Budget::kGeneral, false);
  if (!r) co_return ApiResult<BatchResult>(r.error());
  co_return State::parse<BatchResult>(*r, false);
}

Awaitable<ApiResult<Page<CrmObject>>> HubSpotClient::list_contacts(std::int64_t portal, std::string after,
                                                                   std::vector<std::string> properties, int limit) {
  std::string target = state_->objects(config_.api_version, "contacts") + "?limit=" + std::to_string(limit);
  if (!after.empty()) target += "&after=" + http::form_encode(after);
  if (!properties.empty()) target += "&properties=" + join(properties);
  auto r = co_await state_->call(portal, "list_contacts", "GET", std::move(target), {}, Budget::kGeneral, false);
  if (!r) co_return ApiResult<Page<CrmObject>>(r.error());
  try {
    json j = json::parse(r->body);
    Page<CrmObject> page;
    page.results = j.at("results").get<std::vector<CrmObject>>();
    if (auto p = j.find("paging"); p != j.end() && p->is_object())
      if (auto n = p->find("next"); n != p->end() && n->is_object()) page.next_after = n->value("after", "");
    co_return ApiResult<Page<CrmObject>>(std::move(page));
  } catch (const json::exception&) {
    ApiError e;
    e.kind = ApiError::Kind::kBadBody;
    e.status = r->status;
    e.raw_body = r->body.substr(0, kRawBodyKept);
    co_return ApiResult<Page<CrmObject>>(std::move(e));
  }
}

Awaitable<ApiResult<BatchResult>> HubSpotClient::batch_update_contacts(std::int64_t portal, std::vector<UpdateInput> inputs) {
  json body{{"inputs", inputs}};
  auto r = co_await state_->call(portal, "batch_update_contacts", "POST",
                                 state_->objects(config_.api_version, "contacts") + "/batch/update", body.dump(), Budget::kGeneral, true);
  if (!r) co_return ApiResult<BatchResult>(r.error());
  co_return State::parse<BatchResult>(*r, true);
}

Awaitable<ApiResult<SearchPage>> HubSpotClient::search_contacts(std::int64_t portal, SearchRequest request) {
  json body = request;
  auto r = co_await state_->call(portal, "search_contacts", "POST", state_->objects(config_.api_version, "contacts") + "/search",
                                 body.dump(), Budget::kSearch, false);
  if (!r) co_return ApiResult<SearchPage>(r.error());
  co_return State::parse<SearchPage>(*r, false);
}

Awaitable<ApiResult<BatchResult>> HubSpotClient::batch_create_tasks(std::int64_t portal, std::vector<CreateInput> inputs) {
  json body{{"inputs", inputs}};
  auto r = co_await state_->call(portal, "batch_create_tasks", "POST", state_->objects(config_.api_version, "tasks") + "/batch/create",
                                 body.dump(), Budget::kGeneral, true);
  if (!r) co_return ApiResult<BatchResult>(r.error());
  co_return State::parse<BatchResult>(*r, true);
}

Awaitable<ApiResult<BatchResult>> HubSpotClient::batch_read_tasks(std::int64_t portal, std::vector<std::string> ids,
                                                                   std::vector<std::string> properties) {
  json body{{"properties", properties}, {"inputs", id_inputs(ids)}};
  auto r = co_await state_->call(portal, "batch_read_tasks", "POST", state_->objects(config_.api_version, "tasks") + "/batch/read",
                                 body.dump(), Budget::kGeneral, false);
  if (!r) co_return ApiResult<BatchResult>(r.error());
  co_return State::parse<BatchResult>(*r, false);
}

Awaitable<ApiResult<CrmObject>> HubSpotClient::update_task(std::int64_t portal, std::string id,
                                                           std::map<std::string, std::string> properties) {
  json body{{"properties", properties}};
  auto r = co_await state_->call(portal, "update_task", "PATCH", state_->objects(config_.api_version, "tasks") + "/" + segment(id),
                                 body.dump(), Budget::kGeneral, true);
  if (!r) co_return ApiResult<CrmObject>(r.error());
  co_return State::parse<CrmObject>(*r, true);
}

Awaitable<ApiResult<Page<AssociatedId>>> HubSpotClient::associations(std::int64_t portal, std::string from_type, std::string from_id,
                                                                     std::string to_type, std::string after) {
  std::string target = state_->objects(config_.api_version, from_type) + "/" + segment(from_id) + "/associations/" + segment(to_type) +
                       "?limit=500";
  if (!after.empty()) target += "&after=" + http::form_encode(after);
  auto r = co_await state_->call(portal, "associations", "GET", std::move(target), {}, Budget::kGeneral, false);
  if (!r) co_return ApiResult<Page<AssociatedId>>(r.error());
  try {
    json j = json::parse(r->body);
    Page<AssociatedId> page;
    page.results = j.at("results").get<std::vector<AssociatedId>>();
    if (auto p = j.find("paging"); p != j.end() && p->is_object())
      if (auto n = p->find("next"); n != p->end() && n->is_object()) page.next_after = n->value("after", "");
    co_return ApiResult<Page<AssociatedId>>(std::move(page));
  } catch (const json::exception&) {
    ApiError e;
    e.kind = ApiError::Kind::kBadBody;
    e.status = r->status;
    e.raw_body = r->body.substr(0, kRawBodyKept);
    co_return ApiResult<Page<AssociatedId>>(std::move(e));
  }
}

Awaitable<ApiResult<void>> HubSpotClient::batch_create_associations(std::int64_t portal, std::string from_type, std::string to_type,
                                                                    std::vector<AssociationInput> inputs) {
  json body{{"inputs", inputs}};
  auto r = co_await state_->call(portal, "batch_create_associations", "POST",
                                 "/crm/associations/" + config_.api_version + "/" + segment(from_type) + "/" + segment(to_type) +
                                     "/batch/create",
                                 body.dump(), Budget::kGeneral, true);
  if (!r) co_return ApiResult<void>(r.error());
  co_return ApiResult<void>();
}

Awaitable<ApiResult<Page<Owner>>> HubSpotClient::owners(std::int64_t portal, std::string after, int limit) {
  std::string target = "/crm/owners/" + config_.api_version + "?limit=" + std::to_string(limit);
  if (!after.empty()) target += "&after=" + http::form_encode(after);
  auto r = co_await state_->call(portal, "owners", "GET", std::move(target), {}, Budget::kGeneral, false);
  if (!r) co_return ApiResult<Page<Owner>>(r.error());
  try {
    json j = json::parse(r->body);
    Page<Owner> page;
    page.results = j.at("results").get<std::vector<Owner>>();
    if (auto p = j.find("paging"); p != j.end() && p->is_object())
      if (auto n = p->find("next"); n != p->end() && n->is_object()) page.next_after = n->value("after", "");
    co_return ApiResult<Page<Owner>>(std::move(page));
  } catch (const json::exception&) {
    ApiError e;
    e.kind = ApiError::Kind::kBadBody;
    e.status = r->status;
    e.raw_body = r->body.substr(0, kRawBodyKept);
    co_return ApiResult<Page<Owner>>(std::move(e));
  }
}

Awaitable<ApiResult<PropertyDefinition>> HubSpotClient::property(std::int64_t portal, std::string object_type, std::string name) {
  auto r = co_await state_->call(portal, "property", "GET",
                                 "/crm/properties/" + config_.api_version + "/" + segment(object_type) + "/" + segment(name), {},
                                 Budget::kGeneral, false);
  if (!r) co_return ApiResult<PropertyDefinition>(r.error());
  co_return State::parse<PropertyDefinition>(*r, false);
}

Awaitable<ApiResult<std::vector<PropertyDefinition>>> HubSpotClient::properties(std::int64_t portal, std::string object_type) {
  auto r = co_await state_->call(portal, "properties", "GET", "/crm/properties/" + config_.api_version + "/" + segment(object_type), {},
                                 Budget::kGeneral, false);
  if (!r) co_return ApiResult<std::vector<PropertyDefinition>>(r.error());
  try {
    co_return ApiResult<std::vector<PropertyDefinition>>(json::parse(r->body).at("results").get<std::vector<PropertyDefinition>>());
  } catch (const json::exception&) {
    ApiError e;
    e.kind = ApiError::Kind::kBadBody;
    e.status = r->status;
    e.raw_body = r->body.substr(0, kRawBodyKept);
    co_return ApiResult<std::vector<PropertyDefinition>>(std::move(e));
  }
}

Awaitable<ApiResult<bool>> HubSpotClient::create_property_group(std::int64_t portal, std::string object_type, PropertyGroup group) {
  json body = group;
  auto r = co_await state_->call(portal, "create_property_group", "POST",
                                 "/crm/properties/" + config_.api_version + "/" + segment(object_type) + "/groups", body.dump(),
                                 Budget::kGeneral, true);
  if (!r) {
    ApiError e = r.error();
    if (e.kind == ApiError::Kind::kHttp && e.status == 409) co_return ApiResult<bool>(false);
    co_return ApiResult<bool>(std::move(e));
  }
  co_return ApiResult<bool>(true);
}

Awaitable<ApiResult<bool>> HubSpotClient::create_property(std::int64_t portal, std::string object_type, PropertyDefinition property) {
  json body = property;
  auto r = co_await state_->call(portal, "create_property", "POST", "/crm/properties/" + config_.api_version + "/" + segment(object_type),
                                 body.dump(), Budget::kGeneral, true);
  if (!r) {
    ApiError e = r.error();
    if (e.kind == ApiError::Kind::kHttp && e.status == 409) co_return ApiResult<bool>(false);
    co_return ApiResult<bool>(std::move(e));
  }
  co_return ApiResult<bool>(true);
}

Awaitable<ApiResult<AccountDetails>> HubSpotClient::account_details(std::int64_t portal) {
  auto r = co_await state_->call(portal, "account_details", "GET", "/account-info/" + config_.api_version + "/details", {},
                                 Budget::kGeneral, false);
  if (!r) co_return ApiResult<AccountDetails>(r.error());
  co_return State::parse<AccountDetails>(*r, false);
}

}  // namespace tandem::hubspot
