#include "webhooks/signature.hpp"

#include <charconv>
#include <cstdint>

#include "common/crypto.hpp"
#include "common/secret.hpp"

namespace tandem::webhooks {
namespace {

bool in_decode_table(char c) {
  switch (c) {
    case ':': case '/': case '?': case '@': case '!': case '$':
    case '\'': case '(': case ')': case '*': case ',': case ';':
      return true;
    default:
      return false;
  }
}

// Some proxies turn the '+' of a Base64 header into a space (hubspot-contract.md §3.4).
std::string normalise_base64(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  std::size_t begin = 0;
  std::size_t end = value.size();
  while (begin < end && (value[begin] == ' ' || value[begin] == '\t')) ++begin;
  while (end > begin && (value[end - 1] == ' ' || value[end - 1] == '\t')) --end;
  for (std::size_t i = begin; i < end; ++i) out.push_back(value[i] == ' ' ? '+' : value[i]);
  return out;
}

std::string lower_trimmed(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == ' ' || c == '\t') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

}  // namespace

std::string_view to_string(SignatureFailure failure) {
  switch (failure) {
    case SignatureFailure::kNone: return "none";
    case SignatureFailure::kMissing: return "missing";
    case SignatureFailure::kVersionDisabled: return "version_disabled";
    case SignatureFailure::kBadTimestamp: return "bad_timestamp";
    case SignatureFailure::kStale: return "stale";
    case SignatureFailure::kFuture: return "future";
    case SignatureFailure::kMismatch: return "mismatch";
  }
  return "unknown";
}

std::string hubspot_decode_uri(std::string_view uri) {
  std::string out;
  out.reserve(uri.size());
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size()) {
      if (auto decoded = crypto::hex_byte(uri[i + 1], uri[i + 2]); decoded && in_decode_table(*decoded)) {
        out.push_back(*decoded);
        i += 2;
        continue;
      }
    }
    out.push_back(uri[i]);
  }
  return out;
}

std::string sign_v3(std::string_view secret, std::string_view method, std::string_view uri, std::string_view body,
                    std::string_view timestamp) {
  std::string message;
  message.reserve(method.size() + uri.size() + body.size() + timestamp.size());
  message.append(method).append(uri).append(body).append(timestamp);
  return crypto::base64_encode(crypto::hmac_sha256(secret, message));
}

std::string sign_v2(std::string_view secret, std::string_view method, std::string_view uri, std::string_view body) {
  std::string message;
  message.reserve(secret.size() + method.size() + uri.size() + body.size());
  message.append(secret).append(method).append(uri).append(body);
  return crypto::to_hex(crypto::sha256(message));
}

std::string sign_v1(std::string_view secret, std::string_view body) {
  std::string message;
  message.reserve(secret.size() + body.size());
  message.append(secret).append(body);
  return crypto::to_hex(crypto::sha256(message));
}

std::string SignatureVerifier::signed_uri(std::string_view target) const {
  std::string_view base = config_.public_base_url;
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string uri;
  uri.reserve(base.size() + target.size());
  uri.append(base).append(target);
  return hubspot_decode_uri(uri);
}

SignatureCheck SignatureVerifier::verify(const http::Request& request) const {
  const std::string_view secret = config_.client_secret.reveal();
  if (auto v3 = request.headers.get("X-HubSpot-Signature-v3")) {
    auto timestamp_header = request.headers.get("X-HubSpot-Request-Timestamp");
    if (!timestamp_header) return {SignatureFailure::kBadTimestamp, "v3"};
    std::string_view ts = *timestamp_header;
    std::int64_t ts_ms = 0;
    auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), ts_ms);
    if (ec != std::errc{} || end != ts.data() + ts.size() || ts.empty() || ts_ms < 0) {
      return {SignatureFailure::kBadTimestamp, "v3"};
    }
    const std::int64_t now_ms = to_epoch_ms(clock_.now());
    const std::int64_t tolerance = config_.timestamp_tolerance.count();
    if (now_ms - ts_ms > tolerance) return {SignatureFailure::kStale, "v3"};
    if (ts_ms - now_ms > tolerance) return {SignatureFailure::kFuture, "v3"};
    const std::string expected = sign_v3(secret, request.method, signed_uri(request.target), request.body, ts);
    if (!constant_time_equals(expected, normalise_base64(*v3))) return {SignatureFailure::kMismatch, "v3"};
    return {SignatureFailure::kNone, "v3"};
  }
  auto legacy = request.headers.get("X-HubSpot-Signature");
  if (!legacy) return {SignatureFailure::kMissing, ""};
  const std::string version = lower_trimmed(request.headers.get("X-HubSpot-Signature-Version").value_or("v1"));
  const std::string received = lower_trimmed(*legacy);
  if (version == "v1") {
    if (!config_.accept_v1) return {SignatureFailure::kVersionDisabled, "v1"};
    if (!constant_time_equals(sign_v1(secret, request.body), received)) return {SignatureFailure::kMismatch, "v1"};
    return {SignatureFailure::kNone, "v1"};
  }
  if (version == "v2") {
    if (!config_.accept_v2) return {SignatureFailure::kVersionDisabled, "v2"};
    // v2's URI "must exactly match the original request": HubSpot documents no decoding for it.
    std::string_view base = config_.public_base_url;
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    const std::string uri = std::string(base) + request.target;
    if (!constant_time_equals(sign_v2(secret, request.method, uri, request.body), received)) {
      return {SignatureFailure::kMismatch, "v2"};
    }
    return {SignatureFailure::kNone, "v2"};
  }
  return {SignatureFailure::kMissing, ""};
}

}  // namespace tandem::webhooks
