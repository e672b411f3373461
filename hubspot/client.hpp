#pragma once
// The typed HubSpot REST client: one coroutine per call, over common/http_client (HTTPS with
// verification, SNI and a keep-alive pool per host). Every call
//   1. waits for the account's rate limiter (search calls on the search budget),
//   2. takes the account's token from the TokenSource and sends it as a Bearer token,
//   3. on 401 asks the TokenSource once for a fresh token and sends once more,
//   4. tells the limiter what the response said (rate-limit headers, a 429's policy window),
//   5. counts the request per account and status, and parses the body into the payload struct.
// It does not retry anything else: the caller decides (retry_policy.hpp), because only the
// caller knows whether a write may be repeated. Nothing throws; failures are ApiError values.
//
// Paths are HubSpot's date-versioned ones (`/crm/objects/2026-03/...`), the version configurable.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "common/http_client.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"
#include "hubspot/awaitable.hpp"
#include "hubspot/rate_limiter.hpp"
#include "hubspot/token_source.hpp"
#include "hubspot/types.hpp"

namespace tandem::hubspot {

struct ClientConfig {
  std::string base_url = "https://api.hubapi.com";
  std::string api_version = "2026-03";
  // Deadline of one exchange. A write that times out may have been applied (ApiError::maybe_applied).
  std::chrono::milliseconds timeout{30'000};
};

struct ApiError {
  enum class Kind {
    kHttp,       // HubSpot answered with an error status; `body` is its parsed error
    kTransport,  // no answer (connect, TLS, timeout, reset): `transport`
    kBadBody,    // an answer whose body is not the JSON expected (cut short, not JSON)
    kToken,      // no token for the account: `token`
    kCancelled,  // not sent: the rate limiter was closed (shutdown)
  };
  Kind kind = Kind::kHttp;
  int status = 0;  // the HTTP status when there was an answer
  ApiErrorBody body;
  std::string raw_body;  // the first 2 KiB of the answer, for dead letters and logs
  std::optional<http::ClientError> transport;
  std::optional<TokenError> token;
  // True when HubSpot may have applied the request: a transport failure after the request was
  // (perhaps partly) written, or a success status whose body could not be read.
  bool maybe_applied = false;
  std::optional<std::chrono::milliseconds> retry_after;  // from a Retry-After header
  // One line for logs and dead letters: status, category, message, correlationId.
  [[nodiscard]] std::string describe() const;
  friend std::ostream& operator<<(std::ostream& os, const ApiError& e) { return os << e.describe(); }
};

template <class T>
using ApiResult = Result<T, ApiError>;

class HubSpotClient {
 public:
  // Everything given must outlive the client; use it from the http client's io_context.
  HubSpotClient(http::HttpClient& http, TokenSource& tokens, AccountRateLimiter& limiter, MetricsRegistry& metrics,
                ClientConfig config = {});
  ~HubSpotClient();
  HubSpotClient(const HubSpotClient&) = delete;
  HubSpotClient& operator=(const HubSpotClient&) = delete;

  // Contacts (contract §4).
  Awaitable<ApiResult<CrmObject>> get_contact(std::int64_t portal, std::string id, std::vector<std::string> properties);
  // 200, or 207 with errors for ids that do not exist.
  Awaitable<ApiResult<BatchResult>> batch_read_contacts(std::int64_t portal, std::vector<std::string> ids,
                                                         std::vector<std::string> properties);
  Awaitable<ApiResult<BatchResult>> batch_update_contacts(std::int64_t portal, std::vector<UpdateInput> inputs);
  Awaitable<ApiResult<SearchPage>> search_contacts(std::int64_t portal, SearchRequest request);
  // One page of every contact, in id order (GET …/contacts?limit&after&properties): the backfill's
  // read, without search's 10,000-result cap and 5-per-second budget.
  Awaitable<ApiResult<Page<CrmObject>>> list_contacts(std::int64_t portal, std::string after,
                                                       std::vector<std::string> properties, int limit = 100);

  // Tasks (contract §5.1).
  Awaitable<ApiResult<BatchResult>> batch_create_tasks(std::int64_t portal, std::vector<CreateInput> inputs);
  Awaitable<ApiResult<BatchResult>> batch_read_tasks(std::int64_t portal, std::vector<std::string> ids,
                                                      std::vector<std::string> properties);
  Awaitable<ApiResult<CrmObject>> update_task(std::int64_t portal, std::string id, std::map<std::string, std::string> properties);

  // Associations v4 (contract §5.3): one page of a record's associations of one type, read
  // directly (consistent, unlike search); and batch create (labelled types).
  Awaitable<ApiResult<Page<AssociatedId>>> associations(std::int64_t portal, std::string from_type, std::string from_id,
                                                         std::string to_type, std::string after = {});
  Awaitable<ApiResult<void>> batch_create_associations(std::int64_t portal, std::string from_type, std::string to_type,
                                                        std::vector<AssociationInput> inputs);

  // Owners (contract §6), one page.
  Awaitable<ApiResult<Page<Owner>>> owners(std::int64_t portal, std::string after = {}, int limit = 100);

  // Properties: read one or all of an object type; create a group or a property. The creates
  // are idempotent: true when created, false when it already existed (HubSpot answers 409).
  Awaitable<ApiResult<PropertyDefinition>> property(std::int64_t portal, std::string object_type, std::string name);
  Awaitable<ApiResult<std::vector<PropertyDefinition>>> properties(std::int64_t portal, std::string object_type);
  Awaitable<ApiResult<bool>> create_property_group(std::int64_t portal, std::string object_type, PropertyGroup group);
  Awaitable<ApiResult<bool>> create_property(std::int64_t portal, std::string object_type, PropertyDefinition property);

  // The account's details, among them its time zone.
  Awaitable<ApiResult<AccountDetails>> account_details(std::int64_t portal);

  [[nodiscard]] const ClientConfig& config() const { return config_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  ClientConfig config_;
};

}  // namespace tandem::hubspot
