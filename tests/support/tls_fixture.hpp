#pragma once
// A self-signed certificate for 127.0.0.1 and localhost, generated in the test process, so TLS
// tests need no files and no network.

#include <string>

namespace tandem::testing {

struct TestCertificate {
  std::string certificate_pem;
  std::string private_key_pem;
};

// Generated once per process (EC P-256, valid for a day, SAN IP:127.0.0.1 and DNS:localhost).
const TestCertificate& test_certificate();
// A second, unrelated certificate: a client that trusts only the first must reject it.
const TestCertificate& other_certificate();

}  // namespace tandem::testing
