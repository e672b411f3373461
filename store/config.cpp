#include "store/config.hpp"

namespace tandem::store {

StoreConfig read_store_config(config::ConfigSection s) {
  StoreConfig c;
  c.path = s.string("path", c.path);
  if (c.path.empty()) s.error("path", "expected the path of the SQLite file");
  auto sync = s.choice("synchronous", "full", {"full", "normal"});
  c.synchronous = sync == "normal" ? StoreConfig::Synchronous::kNormal : StoreConfig::Synchronous::kFull;
  c.busy_timeout = s.duration("busy_timeout", c.busy_timeout);
  if (s.has("max_attempts")) {
    s.optional_string("max_attempts");
    s.error("max_attempts", "moved to webhooks.max_attempts (it is an inbox setting)");
  }
  s.finish();
  return c;
}

}  // namespace tandem::store
