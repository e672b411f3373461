#pragma once
// Checks a parsed rule file: names (against a HubSpot property export when given, with "did you
// mean"), types (a date compared with text, a number used as a condition), stage names, template
// placeholders, and, as warnings, rules that can never apply (a qualify rule a not-ready rule
// always blocks, contradictory conditions) and overlapping transitions into the same stage.
// Annotates the AST's expressions with their types, which the compiler relies on.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostics.hpp"
#include "rules/ast.hpp"

namespace tandem::rules {

// A property list exported from HubSpot (GET /crm/properties/.../contacts).
struct PropertyInfo {
  std::string name;
  Type type = Type::kUnknown;
  bool multi = false;                // enumeration with fieldType checkbox: values joined with ';'
  std::vector<std::string> options;  // enumeration values, when listed
};

class PropertyCatalog {
 public:
  // Accepts {"results":[{"name","type","fieldType","options":[{"value"}]}]} or a bare array.
  // Returns nullopt and sets `error` when the file is not such a list.
  static std::optional<PropertyCatalog> from_json(std::string_view text, std::string& error);
  // One property as HubSpot describes it: type "number", "datetime", "enumeration"…, fieldType
  // "checkbox" for several values, and the options' values.
  static PropertyInfo describe(std::string name, std::string_view type, std::string_view field_type,
                               std::vector<std::string> options);
  void add(PropertyInfo info);
  [[nodiscard]] const PropertyInfo* find(std::string_view name) const;
  [[nodiscard]] const std::vector<std::string>& names() const { return names_; }

 private:
  std::map<std::string, PropertyInfo, std::less<>> by_name_;
  std::vector<std::string> names_;
};

// HubSpot's default contact properties with their types and options (rules/data/), built in.
// Without an account's list, names not in it are warned about (a misspelling) or noted (perhaps
// a custom property).
const PropertyCatalog& default_contact_properties();

// Built-in names a condition may use besides contact properties.
enum class Section { kFit, kSignal, kDataQuality, kNotReady, kReturn, kQualify, kSla, kCampaign, kRelevant };

// `text` is the rule file's content (for source lines in diagnostics), `campaigns_text` the
// campaigns file's (ast.campaigns). `catalog` may be null: unknown names are then taken as
// contact properties. Appends to `diagnostics`.
void check_ruleset(RulesetAst& ast, std::string_view text, const PropertyCatalog* catalog, Diagnostics& diagnostics,
                   std::string_view campaigns_text = {});

}  // namespace tandem::rules
