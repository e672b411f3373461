#pragma once
// The contact properties Tandem writes, created in each account when it connects (the install's
// "on connect" step), in a property group of Tandem's own, so that HubSpot's lists, reports and
// workflows can use them. The pipeline writes them under these names.

#include <string>
#include <string_view>
#include <vector>

#include "hubspot/types.hpp"

namespace tandem::hubspot {

inline constexpr std::string_view kTandemGroup = "tandem";
inline constexpr std::string_view kHandoffAtProperty = "tandem_handoff_at";
inline constexpr std::string_view kReturnReasonProperty = "tandem_return_reason";
inline constexpr std::string_view kRecycleCountProperty = "tandem_recycle_count";
inline constexpr std::string_view kCoolOffUntilProperty = "tandem_cool_off_until";
inline constexpr std::string_view kRulesVersionProperty = "tandem_rules_version";

PropertyGroup tandem_property_group();
// Tandem's own properties, then one number property per score property the rules write
// (settings.score_properties), without duplicates.
std::vector<PropertyDefinition> tandem_property_definitions(const std::vector<std::string>& score_properties);

}  // namespace tandem::hubspot
