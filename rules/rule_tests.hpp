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
//         fit: 80                       # or {fit: 80, partner_fit: 20}, each a number as below
//         engagement: 39.9              # a number, a number ± a tolerance, or a [low, high] range
//         not_ready: [student]          # reasons, exactly
//         transition: Hand-raiser       # the qualify rule that moved it (null: none)
//         returned: bad_timing          # the return reason (null: none)
//         held_back: [Marketing qualified]
//         data_quality: [company]       # required properties missing or checks failed (by name)
//         writes: { lifecyclestage: salesqualifiedlead }   # these writes, among others
//         tasks: ["Call Ada Lovelace about their demo request"]   # subjects, exactly (or maps)
//         sla: { First touch on SQL: started }
//         next_state: { recycle_count: 2, cool_off_until: 2027-01-19T10:00:00Z }
//
// An expected number is met to the precision it is written with: the actual score rounded to as
// many decimals as the expectation has equals it (`39.9` holds for 39.85 to 39.95, not for 39.43;
// `40` holds for 39.5 to 40.5). `39.9 ± 0.5` (or `39.9 +- 0.5`) accepts 39.4 to 40.4, and
// `[40, 60]` anything from 40 to 60.
//
// Times (`at`, state, a task's `due`, next_state) are instants: any offset may be written and
// `2026-11-24T09:00:00-05:00` is `2026-11-24T14:00:00Z`; a time without an offset is UTC.
//
// Keys are checked as in every file people edit (common/config.hpp): an unknown key (with the
// nearest known one) or a key given twice is an error, and the test it is in does not run. That
// holds for the names the expectations give as keys too: a fit model, an SLA or a written
// property the rules do not have. A value that is not a number or a time where one is expected is
// an error as well, never a failure.
//
// In a contact, `<<: *base` merges another contact as YAML merge keys do
// (https://yaml.org/type/merge.html; yaml-cpp leaves them to its reader): the contact's own keys
// win over merged ones, in `<<: [*a, *b]` the earlier mapping wins over the later, and a merged
// contact brings its own merges (`<<: *big` where big merges *base: big's values, then base's
// where big has none). A boolean is `true` or `false`: an unquoted yes/no/on/off is an error, a
// quoted "yes" is text.

#include <string>
#include <vector>

#include "common/diagnostics.hpp"
#include "rules/ruleset.hpp"

namespace tandem::rules {

// One test of a file, as it was found.
struct RuleTestResult {
  enum class Outcome { kPassed, kFailed, kNotRun };
  std::string file;
  int line = 0;  // of the test in its file
  std::string name;
  Outcome outcome = Outcome::kNotRun;  // kNotRun: the test, or its file, has errors (in diagnostics)
  std::string failure;                 // kFailed: expected vs actual and the explanation, indented
};

struct RuleTestReport {
  int passed = 0;
  int failed = 0;
  int not_run = 0;
  std::vector<RuleTestResult> results;  // every test found, in the order of the files and tests
  std::string output;                   // the failures: each FAIL file:line: name, then its `failure`
  std::string coverage;                 // when asked: rules and conditions no test exercised
  Diagnostics diagnostics;              // problems with the test files or the rules themselves
};

// `path`: a rules directory (tests in its tests/ folder), a rule file (tests in tests/ beside it)
// or a single test file.
RuleTestReport run_rule_tests(const std::string& path, bool coverage);

}  // namespace tandem::rules
