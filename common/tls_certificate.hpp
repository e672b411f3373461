#pragma once
// A self-signed certificate for a server on this machine (127.0.0.1 and localhost), generated in
// process with OpenSSL's EVP/X509 API, so local TLS needs neither files nor the openssl tool.
// The certificate is its own CA (basicConstraints CA:TRUE): a client trusts it by adding its PEM
// as an extra CA (http::ClientOptions::extra_ca_pem).

#include <chrono>
#include <string>
#include <string_view>

#include "common/http_server.hpp"
#include "common/result.hpp"

namespace tandem::http {

struct CertificateError {
  std::string message;  // which OpenSSL step failed
};

// An EC P-256 key and a certificate with subject CN=`common_name`, SAN IP:127.0.0.1 and
// DNS:localhost, valid from a minute ago for `validity`, signed with SHA-256. Both as PEM.
// Fails only when OpenSSL does (out of memory, a broken installation).
Result<TlsServerConfig, CertificateError> make_self_signed_certificate(
    std::string_view common_name, std::chrono::seconds validity = std::chrono::hours(24 * 30));

}  // namespace tandem::http
