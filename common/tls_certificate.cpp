#include "common/tls_certificate.hpp"

#include <memory>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace tandem::http {

namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

Result<TlsServerConfig, CertificateError> make_self_signed_certificate(std::string_view common_name,
                                                                       std::chrono::seconds validity) {
  PKey key(EVP_EC_gen("P-256"));
  if (!key) return CertificateError{"EC P-256 key generation failed"};
  Cert cert(X509_new());
  if (!cert) return CertificateError{"X509_new failed"};
  X509_set_version(cert.get(), 2);  // v3, needed for the extensions
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  // A minute of slack for clocks that differ slightly between processes.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(validity.count()));
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return CertificateError{"X509_set_pubkey failed"};
  std::string cn(common_name);
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1)
    return CertificateError{"cannot set the subject CN"};
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  // Clients verify the host name against the SAN only (RFC 6125 §6.4.4), so both spellings of
  // this machine go there; CA:TRUE lets the certificate be its own trust anchor.
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1, DNS:localhost"},
                            std::pair{NID_basic_constraints, "critical, CA:TRUE"}}) {
    Extension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1)
      return CertificateError{"cannot add a certificate extension"};
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return CertificateError{"certificate signing failed"};
  Bio cert_bio(BIO_new(BIO_s_mem()));
  Bio key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return CertificateError{"cannot write the certificate or key as PEM"};
  return TlsServerConfig{bio_string(cert_bio.get()), bio_string(key_bio.get())};
}

}  // namespace tandem::http
