#pragma once
// Rule unit tests kept next to the rules (examples/rules/tests/*.yaml): contact properties, prior
// state and evaluation time in; expected stage, scores, reasons, writes and tasks out.
//
//   rules: ../lead-rules.yaml        # optional: the rule file in the parent directory by default
//   at: 2026-11-20T10:00:00Z         # default evaluation time for the cases below
//   tests:
//     - name: Director at a mid-size software company with a fresh demo request
//       contact: { numberofemployees: 250, jobtitle: Head of Data, ... }
//       state: { stage_entered_at: ..., recycle_count: 1, cool_off_until: ..., fired: [...] }
//       expect:
//         stage: salesqualifiedlead
//         fit: 80                       # or {fit: 80, partner_fit: 20}; within 0.5
//         engagement: [40, 60]          # a number (within 0.5) or a [low, high] range
//         not_ready: [student]          # reasons, exactly
//         transition: Hand-raiser       # the qualify rule that moved it (null: none)
//         returned: bad_timing          # the return reason (null: none)
//         held_back: [Marketing qualified]
//         data_quality: [company]       # required properties missing or checks failed (by name)
//         writes: { lifecyclestage: salesqualifiedlead }   # these writes, among others
//         tasks: ["Call Ada Lovelace about their demo request"]   # subjects, exactly (or maps)
//         sla: { First touch on SQL: started }
//         next_state: { recycle_count: 2 }
//
// Keys are checked as in every file people edit (common/config.hpp): an unknown key (with the
// nearest known one) or a key given twice is an error, and the test it is in does not run. In a
// contact, `<<: *base` merges another contact (explicit keys win), and a boolean is `true` or
// `false`: an unquoted yes/no/on/off is an error, a quoted "yes" is text.

#include <string>

#include "common/diagnostics.hpp"
#include "rules/ruleset.hpp"

namespace tandem::rules {

struct RuleTestReport {
  int passed = 0;
  int failed = 0;
  std::string output;       // failures with expected vs actual and the explanation
  std::string coverage;     // when asked: rules and conditions no test exercised
  Diagnostics diagnostics;  // problems with the test files or the rules themselves
};

// `path`: a rules directory (tests in its tests/ folder), a rule file (tests in tests/ beside it)
// or a single test file.
RuleTestReport run_rule_tests(const std::string& path, bool coverage);

}  // namespace tandem::rules
