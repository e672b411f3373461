#include "hubspot/tandem_properties.hpp"

#include <algorithm>

namespace tandem::hubspot {

PropertyGroup tandem_property_group() { return PropertyGroup{std::string(kTandemGroup), "Tandem", -1}; }

std::vector<PropertyDefinition> tandem_property_definitions(const std::vector<std::string>& score_properties) {
  const std::string group(kTandemGroup);
  std::vector<PropertyDefinition> out = {
      {std::string(kHandoffAtProperty), "Handed to sales at", "datetime", "date", group,
       "When Tandem last handed this lead to sales (set by Tandem's rules).", {}},
      {std::string(kReturnReasonProperty), "Return reason", "string", "text", group,
       "Why sales returned this lead to marketing, as the return rule that matched says.", {}},
      {std::string(kRecycleCountProperty), "Times returned to nurture", "number", "number", group,
       "How often this lead went back from sales to marketing.", {}},
      {std::string(kCoolOffUntilProperty), "Cool-off ends", "datetime", "date", group,
       "Until when a returned lead cannot qualify again.", {}},
      {std::string(kRulesVersionProperty), "Rules version", "string", "text", group,
       "The version of the shared rules that made Tandem's last decision on this contact.", {}},
  };
  for (const auto& name : score_properties) {
    if (name.empty()) continue;
    if (std::any_of(out.begin(), out.end(), [&](const PropertyDefinition& p) { return p.name == name; })) continue;
    out.push_back({name, name == "tandem_fit_score" ? "Fit score" : name == "tandem_engagement_score" ? "Engagement score" : name,
                   "number", "number", group, "A score computed by Tandem from the shared rules.", {}});
  }
  return out;
}

}  // namespace tandem::hubspot
