#include "manifests/config.hpp"

namespace tandem::manifests {

ManifestConfig read_manifest_config(config::ConfigSection s) {
  ManifestConfig c;
  c.project_name = s.string("project_name", c.project_name);
  c.app_uid = s.string("app_uid", c.app_uid);
  c.app_name = s.string("app_name", c.app_name);
  c.description = s.string("description", c.description);
  c.support_email = s.string("support_email", c.support_email);
  c.documentation_url = s.string("documentation_url", c.documentation_url);
  c.support_url = s.string("support_url", c.support_url);
  c.support_phone = s.string("support_phone", c.support_phone);
  c.max_concurrent_requests =
      static_cast<int>(s.integer("max_concurrent_requests", c.max_concurrent_requests, 1, 1000));
  s.finish();
  return c;
}

}  // namespace tandem::manifests
