#pragma once
// Explanations of a decision: in words a sales rep accepts (every point with the rule and line
// that gave it, decay applied, which conditions held and which did not), or as JSON for machines.
// They need the evaluator that made the decision, with tracing on.

#include <string>

#include <nlohmann/json.hpp>

#include "rules/evaluator.hpp"

namespace tandem::rules {

struct ConditionAtom {
  std::string text;    // the condition as written, canonical
  int result = -1;     // 1 held, 0 did not, -1 not evaluated
  std::string values;  // what it read: 'numberofemployees is 250'
  Pos pos;
};

// The leaves of a rule's condition with their results and the values they read.
std::vector<ConditionAtom> condition_atoms(const CompiledRuleset& rs, const Evaluator& ev, std::int32_t root);

// The full explanation, several lines.
std::string explain_text(const CompiledRuleset& rs, const ContactRecord& contact, const Decision& d,
                         const Evaluator& ev);
nlohmann::json explain_json(const CompiledRuleset& rs, const ContactRecord& contact, const Decision& d,
                            const Evaluator& ev);
// A few lines for task bodies ({{explanation}}).
std::string short_explanation(const CompiledRuleset& rs, const Decision& d);

struct RenderedTask {
  std::string subject, body, type, priority, assignee, assignee_role;
  std::int64_t due_ms = 0;
  std::string origin;  // "hand-off", "sla", "escalation", "data quality"
  std::string rule;
};
// Fills {{property}} and {{explanation}} (and fit, engagement, stage, reason, rule, owner, manager, due).
RenderedTask render_task(const CompiledRuleset& rs, const ContactRecord& contact, const Decision& d,
                         const PlannedTask& t);
std::string render_template(const std::string& text, const CompiledRuleset& rs, const ContactRecord& contact,
                            const Decision& d, const PlannedTask* t);

std::string format_points(double v);

// The contact properties a decision needs: those the conditions read (rs.properties()), then
// those the task templates name ({{firstname}}) and the owner, without repeats. What the pipeline
// reads from HubSpot for each contact.
std::vector<std::string> read_properties(const CompiledRuleset& rs);

}  // namespace tandem::rules
