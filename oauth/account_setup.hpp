#pragma once
// On connect: Tandem's property group and the contact properties it writes (hubspot/
// tandem_properties.hpp), created idempotently in the account (HubSpot answers 409 for one that
// exists; an existing property of another type is an error Tandem cannot fix for the admin).
// Needs the crm.schemas.contacts.write scope.

#include <cstdint>
#include <string>
#include <vector>

#include "hubspot/awaitable.hpp"
#include "hubspot/client.hpp"

namespace tandem::oauth {

struct PropertySetup {
  bool ok = false;
  int created = 0;  // group and properties created now
  int existed = 0;  // already there, with the right type
  std::string error;  // when !ok: what went wrong, for the page, the log and `tandem accounts show`
};

hubspot::Awaitable<PropertySetup> create_tandem_properties(hubspot::HubSpotClient& client, std::int64_t portal,
                                                           std::vector<hubspot::PropertyDefinition> properties);

}  // namespace tandem::oauth
