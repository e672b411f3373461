#include "oauth/account_setup.hpp"

#include <boost/asio/awaitable.hpp>

#include "hubspot/tandem_properties.hpp"

namespace tandem::oauth {

hubspot::Awaitable<PropertySetup> create_tandem_properties(hubspot::HubSpotClient& client, std::int64_t portal,
                                                           std::vector<hubspot::PropertyDefinition> properties) {
  PropertySetup setup;
  auto group = co_await client.create_property_group(portal, "contacts", hubspot::tandem_property_group());
  if (!group) {
    setup.error = "creating the property group '" + std::string(hubspot::kTandemGroup) + "' failed: " + group.error().describe();
    co_return setup;
  }
  (*group ? setup.created : setup.existed) += 1;
  for (auto& p : properties) {
    const std::string name = p.name;
    const std::string type = p.type;
    auto created = co_await client.create_property(portal, "contacts", std::move(p));
    if (!created) {
      setup.error = "creating the contact property '" + name + "' failed: " + created.error().describe();
      co_return setup;
    }
    if (*created) {
      ++setup.created;
      continue;
    }
    // It exists: Tandem can write it only when its type is the one Tandem writes.
    auto existing = co_await client.property(portal, "contacts", name);
    if (!existing) {
      setup.error = "reading the existing contact property '" + name + "' failed: " + existing.error().describe();
      co_return setup;
    }
    if (existing->type != type) {
      setup.error = "the contact property '" + name + "' exists with type " + existing->type + ", but Tandem writes a " + type +
                    ": rename or delete it in HubSpot, or name another property in the rules";
      co_return setup;
    }
    ++setup.existed;
  }
  setup.ok = true;
  co_return setup;
}

}  // namespace tandem::oauth
