#pragma once
// HubSpot request signatures (hubspot-contract.md §3.4, https://developers.hubspot.com/docs/apps/
// developer-platform/build-apps/authentication/request-validation).
//   v3: Base64(HMAC-SHA256(secret, method + uri + body + timestamp)), timestamp in epoch ms from
//       X-HubSpot-Request-Timestamp, uri = full public URL with HubSpot's selective decoding.
//   v2: hex(SHA-256(secret + method + uri + body));  v1: hex(SHA-256(secret + body)).
// Verification works on the raw body bytes and compares in constant time.

#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "webhooks/config.hpp"

namespace tandem::webhooks {

enum class SignatureFailure {
  kNone,
  kMissing,             // no signature header we accept
  kVersionDisabled,     // only a v1/v2 signature, and that version is not enabled
  kBadTimestamp,        // v3 without a usable X-HubSpot-Request-Timestamp
  kStale,               // older than the tolerance
  kFuture,              // further ahead than the tolerance
  kMismatch,            // computed value differs
};

std::string_view to_string(SignatureFailure failure);

struct SignatureCheck {
  SignatureFailure failure = SignatureFailure::kNone;
  std::string_view version;  // "v3", "v2", "v1" or empty
  [[nodiscard]] bool ok() const { return failure == SignatureFailure::kNone; }
};

// Decodes exactly the escapes of HubSpot's v3 table (%3A : %2F / %3F ? %40 @ %21 ! %24 $ %27 '
// %28 ( %29 ) %2A * %2C , %3B ;), either hex case; every other escape stays as it is.
std::string hubspot_decode_uri(std::string_view uri);

// The signature values themselves; used by the verifier, the tests, the sandbox and benchmarks.
std::string sign_v3(std::string_view secret, std::string_view method, std::string_view uri, std::string_view body,
                    std::string_view timestamp);
std::string sign_v2(std::string_view secret, std::string_view method, std::string_view uri, std::string_view body);
std::string sign_v1(std::string_view secret, std::string_view body);

class SignatureVerifier {
 public:
  // Keeps references: config and clock must outlive the verifier.
  SignatureVerifier(const WebhooksConfig& config, const Clock& clock) : config_(config), clock_(clock) {}

  // The full URL HubSpot signed for this request target: public base URL + target, decoded.
  [[nodiscard]] std::string signed_uri(std::string_view target) const;

  // v3 when its header is present (a bad v3 is never rescued by v1/v2); otherwise v1/v2 when
  // enabled. Pure: no state changes, safe from any thread.
  [[nodiscard]] SignatureCheck verify(const http::Request& request) const;

 private:
  const WebhooksConfig& config_;
  const Clock& clock_;
};

}  // namespace tandem::webhooks
