#pragma once
// Evaluation: a pure function of (compiled ruleset, contact properties, Tandem's stored state for
// the contact, evaluation time). No I/O, no clocks, no shared mutable state: call it from any
// number of threads with one Evaluator (its buffers) per thread. After the first contact the fast
// path (no trace) does not allocate unless the decision plans actions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/ruleset.hpp"

namespace tandem::rules {

// A contact's properties as HubSpot sends them: strings; empty means not set.
struct ContactRecord {
  std::string id;
  std::vector<std::pair<std::string, std::string>> properties;
  [[nodiscard]] const std::string* find(std::string_view name) const {
    for (const auto& [k, v] : properties)
      if (k == name) return &v;
    return nullptr;
  }
};

// What Tandem remembers about a contact between evaluations (persisted by the store).
struct ContactState {
  std::optional<std::int64_t> stage_entered_at;  // when the contact entered its current stage (ms)
  std::int32_t recycle_count = 0;                // returns to nurture so far
  std::optional<std::int64_t> cool_off_until;    // may not qualify again before this
  std::string last_return_reason;
  std::vector<std::string> fired;  // SLA tasks/escalations already created ("First touch", "First touch/escalate")
};

struct SlotValue {
  std::string_view text;
  double number = 0;
  std::int64_t ms = 0;
  bool present = false;
  bool has_number = false;
  bool has_date = false;
};

struct Contribution {
  std::int32_t rule = -1;  // index into the model's rules or the engagement signals
  double base = 0;         // points before decay
  double points = 0;       // after decay (fit: equal to base)
  double age_days = -1;    // signals with a date
  double factor = 1;       // decay factor
};

struct ScoreResult {
  double score = 0;  // clamped to the range
  double raw = 0;
  std::vector<Contribution> contributions;
};

enum class TaskOrigin : std::uint8_t { kQualify, kSla, kEscalation, kDataQuality };

struct PlannedTask {
  TaskOrigin origin = TaskOrigin::kQualify;
  std::int32_t rule = -1;  // qualify / sla index; -1 for data quality
  std::string assignee;    // HubSpot owner id; empty when it could not be resolved
  AssigneeKind assignee_kind = AssigneeKind::kOwner;
  std::int64_t due_ms = 0;
  [[nodiscard]] const TaskSpec& spec(const CompiledRuleset& rs) const;
};

struct PropertyWrite {
  std::string property;
  std::string value;
  // lifecyclestage only moves forward in HubSpot; going back means clearing it first.
  bool clear_first = false;
};

struct SlaTimer {
  std::int32_t sla = -1;
  std::int64_t started_ms = 0, due_ms = 0;
  std::optional<std::int64_t> escalate_ms;
  enum class Status : std::uint8_t { kStarted, kRunning, kMet, kOverdue, kEscalated } status = Status::kStarted;
};

struct DataQualityFailure {
  bool required = false;  // a required property is missing (else a check failed)
  std::int32_t index = 0;
};

struct Decision {
  // The ruleset that decided, hence its version (ruleset->version: hash + label). Valid for as long
  // as the caller holds the RulesetPtr it evaluated with (a hot reload does not invalidate it).
  const CompiledRuleset* ruleset = nullptr;
  // The calendar the deadlines were computed in (EvalOptions::calendar, else the rules' own), so
  // that explanations and task texts show local times in the same zone. Valid while both live.
  const BusinessCalendar* calendar = nullptr;
  std::int64_t at_ms = 0;
  std::int32_t current_stage = -1;  // index in ruleset->ast.stages; -1 when not set or unknown
  std::int32_t target_stage = -1;   // equal to current_stage when nothing changes
  std::int32_t transition = -1;     // qualify rule that moved the contact
  std::int32_t returned = -1;       // return_to_nurture rule that applied
  std::int32_t campaign = -1;       // index in ruleset->ast.campaigns.campaigns; -1: none
  bool relevant = false;            // a relevant lead of its campaign
  std::vector<ScoreResult> fit;     // per model
  ScoreResult engagement;
  std::vector<std::int32_t> not_ready;  // not_ready rules that hold
  std::vector<std::int32_t> blocked;    // qualify rules that held but were held back
  bool in_cool_off = false;
  std::vector<DataQualityFailure> data_quality;
  std::vector<SlaTimer> sla;
  std::vector<PropertyWrite> writes;
  std::vector<PlannedTask> tasks;
  ContactState next_state;

  [[nodiscard]] bool stage_changes() const { return target_stage != current_stage; }
  [[nodiscard]] std::string_view target_stage_name() const;
  [[nodiscard]] std::string_view current_stage_name() const;
};

struct EvalOptions {
  bool trace = false;        // record each node's result (explanations, coverage)
  bool plan_actions = true;  // writes, tasks and next state; off for pure scoring
  // The calendar for deadlines instead of the rules' own (the account's time zone when the rules
  // name none); null: the rules' settings.
  const BusinessCalendar* calendar = nullptr;
};

class Evaluator {
 public:
  // Fills `out` (its buffers are reused). `contact` must outlive the call only.
  void evaluate(const CompiledRuleset& rs, const ContactRecord& contact, const ContactState& state, std::int64_t at_ms,
                Decision& out, const EvalOptions& options = {});
  // The same with properties already bound to slots (bind() below): the benchmark's path.
  void evaluate_slots(const CompiledRuleset& rs, const ContactRecord* contact, const ContactState& state,
                      std::int64_t at_ms, Decision& out, const EvalOptions& options);
  // Binds properties to slots, parsing numbers and dates once. Views into `contact`.
  void bind(const CompiledRuleset& rs, const ContactRecord& contact);
  void bind_value(const CompiledRuleset& rs, std::int32_t slot, std::string_view text);
  void clear_slots(const CompiledRuleset& rs);
  // Property slots bound earlier (a copy of slots() after bind()), for callers that bind once and
  // evaluate the same contact at several times, or measure evaluation alone. Views into the
  // original contact must still be valid.
  void load_slots(const CompiledRuleset& rs, const SlotValue* properties);

  // After evaluate(..., trace): per node, -1 not evaluated, 0 false, 1 true.
  [[nodiscard]] const std::vector<std::int8_t>& trace() const { return trace_; }
  [[nodiscard]] const std::vector<SlotValue>& slots() const { return slots_; }

 private:
  bool test(std::int32_t node);
  bool number(std::int32_t node, double& out);
  bool date(std::int32_t node, std::int64_t& out);
  bool text(std::int32_t node, std::string_view& out);
  bool boolean(std::int32_t node, bool& out);
  void set_number(std::int32_t slot, double v);
  void set_date(std::int32_t slot, std::int64_t ms);

  const CompiledRuleset* rs_ = nullptr;
  std::vector<SlotValue> slots_;
  std::vector<std::int8_t> trace_;
  bool tracing_ = false;
};

}  // namespace tandem::rules
