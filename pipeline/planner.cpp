#include "pipeline/planner.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "hubspot/tandem_properties.hpp"
#include "rules/explain.hpp"

namespace tandem::pipeline {
namespace {

using rules::TaskOrigin;

std::string contact_key(std::int64_t portal, const std::string& contact) {
  return std::to_string(portal) + ":" + contact;
}

std::int64_t numeric_id(const std::string& id) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  return ec == std::errc() && p == id.data() + id.size() ? v : 0;
}

bool fired(const rules::ContactState& s, const std::string& key) {
  return std::find(s.fired.begin(), s.fired.end(), key) != s.fired.end();
}

std::string task_key(std::int64_t portal, const std::string& contact, const rules::Decision& d,
                     const rules::PlannedTask& t, const rules::CompiledRuleset& rs) {
  const std::string base = "t:" + contact_key(portal, contact) + ":";
  const auto recycle = std::to_string(d.next_state.recycle_count);
  const auto entered = std::to_string(d.next_state.stage_entered_at.value_or(0));
  switch (t.origin) {
    case TaskOrigin::kQualify: return base + recycle + ":q:" + rs.ast.qualify[static_cast<std::size_t>(t.rule)].name;
    case TaskOrigin::kSla: return base + entered + ":sla:" + rs.ast.sla[static_cast<std::size_t>(t.rule)].name;
    case TaskOrigin::kEscalation: return base + entered + ":esc:" + rs.ast.sla[static_cast<std::size_t>(t.rule)].name;
    case TaskOrigin::kDataQuality: return base + recycle + ":dq";
  }
  return base;
}

std::string audit_kind(TaskOrigin origin) {
  switch (origin) {
    case TaskOrigin::kQualify: return "handoff";
    case TaskOrigin::kSla: return "follow_up_task";
    case TaskOrigin::kEscalation: return "escalation";
    case TaskOrigin::kDataQuality: return "data_quality_task";
  }
  return "task";
}

}  // namespace

std::pair<std::int64_t, std::string> next_check(const rules::CompiledRuleset& rs, const rules::Decision& d) {
  std::int64_t at = 0;
  std::string why;
  auto consider = [&](std::int64_t t, std::string reason) {
    if (t <= d.at_ms) return;
    if (at == 0 || t < at) {
      at = t;
      why = std::move(reason);
    }
  };
  for (const auto& timer : d.sla) {
    if (timer.status == rules::SlaTimer::Status::kMet) continue;
    const auto& sla = rs.ast.sla[static_cast<std::size_t>(timer.sla)];
    if (sla.task && !fired(d.next_state, sla.name)) consider(timer.due_ms, sla.name + ": follow-up due");
    if (timer.escalate_ms && sla.escalate_task && !fired(d.next_state, sla.name + "/escalate"))
      consider(*timer.escalate_ms, sla.name + ": escalation due");
  }
  if (d.next_state.cool_off_until) consider(*d.next_state.cool_off_until, "cool-off ends");
  return {at, why};
}

Plan plan_decision(const rules::CompiledRuleset& rs, const rules::Evaluator& evaluator,
                   const rules::ContactRecord& contact, const rules::Decision& d, std::int64_t portal,
                   const std::optional<StoredContact>& stored, const Trigger& trigger) {
  Plan plan;
  const std::string& id = contact.id;
  const std::string version = rs.version.to_string();

  hubspot::ContactUpdate update;
  update.key = "u:" + std::to_string(d.at_ms) + ":" + contact_key(portal, id);
  update.portal_id = portal;
  update.contact_id = id;
  auto set = [&](std::string name, std::string value) {
    for (auto& p : update.properties)
      if (p.name == name) {
        p.value = std::move(value);
        return;
      }
    update.properties.push_back({std::move(name), std::move(value)});
  };
  const std::string lifecycle =
      rs.lifecycle_slot >= 0 ? rs.slot_names[static_cast<std::size_t>(rs.lifecycle_slot)] : "lifecyclestage";
  for (const auto& w : d.writes) {
    if (w.property == lifecycle) {
      hubspot::LifecycleChange change;
      change.key = "s:" + contact_key(portal, id) + ":" + std::to_string(d.next_state.recycle_count) + ":" + w.value;
      change.portal_id = portal;
      change.contact_id = id;
      change.stage = w.value;
      change.backwards = w.clear_first;
      plan.intents.emplace_back(std::move(change));
    } else {
      set(w.property, w.value);
    }
  }

  const bool moves = d.stage_changes() && (d.transition >= 0 || d.returned >= 0);
  auto has_property = [&](std::string_view name) { return rs.slot_of(name) >= 0; };
  if (d.returned >= 0) {
    set(std::string(hubspot::kReturnReasonProperty), d.next_state.last_return_reason);
    set(std::string(hubspot::kRecycleCountProperty), std::to_string(d.next_state.recycle_count));
    set(std::string(hubspot::kCoolOffUntilProperty),
        d.next_state.cool_off_until ? std::to_string(*d.next_state.cool_off_until) : std::string());
  } else if (d.transition >= 0) {
    const auto& t = rs.ast.qualify[static_cast<std::size_t>(d.transition)];
    if (t.task) set(std::string(hubspot::kHandoffAtProperty), std::to_string(d.at_ms));
    // The reason of the last return stays on the contact until it is handed over again: a rule
    // that returns leads whose reason is set must not return the new hand-off at once.
    if (has_property(hubspot::kReturnReasonProperty)) {
      const auto* reason = contact.find(hubspot::kReturnReasonProperty);
      if (reason && !reason->empty()) set(std::string(hubspot::kReturnReasonProperty), "");
    }
  }

  for (const auto& t : d.tasks) {
    rules::RenderedTask r = rules::render_task(rs, contact, d, t);
    hubspot::TaskCreation task;
    task.key = task_key(portal, id, d, t, rs);
    task.portal_id = portal;
    task.contact_id = id;
    task.properties = {{"hs_timestamp", std::to_string(r.due_ms)},
                       {"hs_task_subject", r.subject},
                       {"hs_task_body", r.body},
                       {"hs_task_status", "NOT_STARTED"}};
    if (!r.type.empty()) task.properties.push_back({"hs_task_type", r.type});
    if (!r.priority.empty()) task.properties.push_back({"hs_task_priority", r.priority});
    if (!r.assignee.empty()) task.properties.push_back({"hubspot_owner_id", r.assignee});
    plan.actions.push_back(r.origin + " task \"" + r.subject + "\" for " + r.assignee_role + " " +
                           (r.assignee.empty() ? "(nobody: no owner)" : r.assignee));
    plan.intents.emplace_back(std::move(task));
  }

  if (moves || !d.tasks.empty()) set(std::string(hubspot::kRulesVersionProperty), version);
  if (!update.properties.empty()) plan.intents.emplace_back(std::move(update));

  plan.next.rules = d.next_state;
  plan.next.evaluated_at = d.at_ms;
  plan.next.evaluations = (stored ? stored->evaluations : 0) + 1;
  plan.next.stage = std::string(d.target_stage_name());
  plan.next.rules_version = version;
  // A contact is counted for the campaign it was first attributed to, as long as the campaigns file
  // still has it (a later conversion overwriting the property it was attributed by does not move
  // it), and stays a relevant lead once it was one.
  const auto& campaigns = rs.ast.campaigns.campaigns;
  const bool kept = stored && !stored->campaign.empty() &&
                    std::any_of(campaigns.begin(), campaigns.end(), [&](const rules::Campaign& c) { return c.name == stored->campaign; });
  if (kept) {
    plan.next.campaign = stored->campaign;
    plan.next.relevant = stored->relevant || (d.campaign >= 0 && campaigns[static_cast<std::size_t>(d.campaign)].name == stored->campaign && d.relevant);
  } else {
    plan.next.campaign = d.campaign >= 0 ? campaigns[static_cast<std::size_t>(d.campaign)].name : "";
    plan.next.relevant = d.relevant;
  }
  std::tie(plan.next.next_check_at, plan.next.next_check_reason) = next_check(rs, d);

  std::string rule;
  if (d.returned >= 0) rule = rs.ast.returns[static_cast<std::size_t>(d.returned)].name;
  if (d.transition >= 0) rule = rs.ast.qualify[static_cast<std::size_t>(d.transition)].name;
  if (moves) {
    StageTransition tr;
    tr.portal_id = portal;
    tr.contact_id = id;
    tr.at = d.at_ms;
    tr.from = std::string(d.current_stage_name());
    tr.to = std::string(d.target_stage_name());
    tr.cause = "rule";
    tr.rule = rule;
    tr.rules_version = version;
    tr.event_id = trigger.events.empty() ? 0 : trigger.events.front();
    plan.transition = tr;
    plan.actions.insert(plan.actions.begin(), (d.returned >= 0 ? "returned to " : "moved to ") + tr.to + " by \"" +
                                                  rule + "\" (from " + (tr.from.empty() ? "no stage" : tr.from) + ")");
  }

  if (moves || !d.tasks.empty()) {
    AuditEntry e;
    e.portal_id = portal;
    e.contact_id = numeric_id(id);
    e.at = d.at_ms;
    e.rules_version = version;
    e.source_event = trigger.events.empty() ? 0 : trigger.events.front();
    if (d.returned >= 0)
      e.kind = "return_to_nurture";
    else if (d.transition >= 0 && !d.tasks.empty() && d.tasks.front().origin == TaskOrigin::kQualify)
      e.kind = "handoff";
    else if (moves)
      e.kind = "stage_change";
    else
      e.kind = audit_kind(d.tasks.front().origin);
    nlohmann::json detail;
    detail["contact"] = id;
    detail["rules_version"] = version;
    detail["rules_hash"] = rs.version.hash;
    detail["trigger"] = {{"kind", trigger.kind}, {"events", trigger.events}, {"changes", trigger.changes}};
    if (!trigger.timer_reason.empty()) detail["trigger"]["timer"] = trigger.timer_reason;
    if (moves) detail["stage"] = {{"from", plan.transition->from}, {"to", plan.transition->to}, {"rule", rule}};
    if (d.returned >= 0) {
      detail["return"] = {{"reason", d.next_state.last_return_reason}, {"recycle_count", d.next_state.recycle_count}};
      if (d.next_state.cool_off_until) detail["return"]["cool_off_until"] = *d.next_state.cool_off_until;
    }
    detail["explanation"] = rules::explain_text(rs, contact, d, evaluator);
    detail["summary"] = rules::short_explanation(rs, d);
    nlohmann::json actions = nlohmann::json::array();
    for (const auto& intent : plan.intents) {
      std::visit(
          [&](const auto& i) {
            using T = std::decay_t<decltype(i)>;
            nlohmann::json a{{"key", i.key}};
            if constexpr (std::is_same_v<T, hubspot::TaskCreation>) {
              a["kind"] = "task";
              for (const auto& p : i.properties)
                if (p.name != "hs_task_body") a[p.name] = p.value;
            } else if constexpr (std::is_same_v<T, hubspot::LifecycleChange>) {
              a["kind"] = "stage";
              a["stage"] = i.stage;
              a["backwards"] = i.backwards;
            } else {
              a["kind"] = "update";
              for (const auto& p : i.properties) a["properties"][p.name] = p.value;
            }
            actions.push_back(std::move(a));
          },
          intent);
    }
    detail["actions"] = std::move(actions);
    detail["said"] = plan.actions;
    e.detail = detail.dump();
    plan.audit = std::move(e);
  }
  return plan;
}

}  // namespace tandem::pipeline
