#include "tests/support/tls_fixture.hpp"

#include <stdexcept>

#include "common/tls_certificate.hpp"

namespace tandem::testing {
namespace {

TestCertificate generate(const char* common_name) {
  auto made = http::make_self_signed_certificate(common_name, std::chrono::hours(24));
  if (!made) throw std::runtime_error("test certificate: " + made.error().message);
  return {made->certificate_chain_pem, made->private_key_pem};
}

}  // namespace

const TestCertificate& test_certificate() {
  static const TestCertificate cert = generate("tandem test");
  return cert;
}

const TestCertificate& other_certificate() {
  static const TestCertificate cert = generate("someone else");
  return cert;
}

}  // namespace tandem::testing
