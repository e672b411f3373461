#include "rules/rule_tests.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "common/config.hpp"
#include "rules/explain.hpp"
#include "rules/expression.hpp"
#include "rules/parser.hpp"

namespace tandem::rules {
namespace {

namespace fs = std::filesystem;

struct Failure {
  std::vector<std::string> lines;
  void add(const std::string& what, const std::string& expected, const std::string& actual) {
    lines.push_back(what + ": expected " + expected + ", got " + actual);
  }
};

std::string list_text(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s + "]";
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::vector<std::string> strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n.IsSequence())
    for (const auto& x : n) out.push_back(x.IsScalar() ? x.Scalar() : "?");
  else if (n.IsScalar())
    out.push_back(n.Scalar());
  return out;
}

bool same_set(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

// A plain (unquoted) scalar that a YAML 1.1 reader takes for a boolean although Tandem reads
// only `true` and `false` as one (common/config.hpp): in a test contact `hs_email_optout: on`
// would be the text "on", which no rule reads as true.
bool ambiguous_boolean(const YAML::Node& n) {
  static const std::set<std::string> kSpellings = {"y",  "Y",  "yes", "Yes",  "YES",  "n",     "N",
                                                   "no", "No", "NO",  "True", "TRUE", "False", "FALSE",
                                                   "on", "On", "ON",  "off",  "Off",  "OFF"};
  return n.IsScalar() && n.Tag() == "?" && kSpellings.contains(n.Scalar());
}

// A merge key is the plain scalar `<<`; a quoted "<<" is an ordinary key (YAML 1.1 merge type).
bool is_merge_key(const YAML::Node& key) { return key.IsScalar() && key.Scalar() == "<<" && key.Tag() != "!"; }

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// The whole of `text` as a decimal number, and how many decimals it is written with ("39.90" has
// two, "4e1" none). Nullopt for anything else.
std::optional<double> decimal_number(std::string_view text, int& decimals) {
  std::string_view s = trimmed(text);
  if (s.size() > 1 && s.front() == '+' && s[1] != '-') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  const std::size_t dot = s.find('.'), exp = s.find_first_of("eE");
  int fraction = 0, exponent = 0;
  if (dot != std::string_view::npos)
    fraction = static_cast<int>((exp == std::string_view::npos ? s.size() : exp) - dot - 1);
  if (exp != std::string_view::npos) {
    std::string_view e = s.substr(exp + 1);
    if (!e.empty() && e.front() == '+') e.remove_prefix(1);
    const auto [eend, eec] = std::from_chars(e.data(), e.data() + e.size(), exponent);
    // A score is never written with an exponent beyond a few places; such text is no score.
    if (eec != std::errc() || eend != e.data() + e.size() || exponent > 30 || exponent < -30) return std::nullopt;
  }
  decimals = std::clamp(fraction - exponent, 0, 17);
  return v;
}

// An expected score: a number met to the precision it is written with ("39.9": the actual rounded
// to one decimal is 39.9), a number with a tolerance ("39.9 ± 0.5", "39.9 +- 0.5") or a range
// ([40, 60]). Either way an interval the actual must fall in.
struct ExpectedNumber {
  double low = 0, high = 0;  // inclusive
  bool range = false;
  int decimals = 0;  // the most the expectation is written with
  std::string text;  // for the failure line
};

constexpr std::string_view kPlusMinus = "\xC2\xB1";  // U+00B1 PLUS-MINUS SIGN in UTF-8

std::optional<ExpectedNumber> expected_number(const YAML::Node& n) {
  ExpectedNumber x;
  int d0 = 0, d1 = 0;
  if (n.IsSequence()) {
    if (n.size() != 2 || !n[0].IsScalar() || !n[1].IsScalar()) return std::nullopt;
    const auto low = decimal_number(n[0].Scalar(), d0), high = decimal_number(n[1].Scalar(), d1);
    if (!low || !high || *low > *high) return std::nullopt;
    x.range = true;
    x.low = *low;
    x.high = *high;
    x.decimals = std::max(d0, d1);
    x.text = "between " + format_points(*low) + " and " + format_points(*high);
    return x;
  }
  if (!n.IsScalar()) return std::nullopt;
  const std::string& s = n.Scalar();
  x.text = s;
  std::size_t sep = s.find(kPlusMinus), sep_size = kPlusMinus.size();
  if (sep == std::string::npos) {
    sep = s.find("+-");
    sep_size = 2;
  }
  if (sep != std::string::npos) {
    const auto value = decimal_number(std::string_view(s).substr(0, sep), d0);
    const auto tolerance = decimal_number(std::string_view(s).substr(sep + sep_size), d1);
    if (!value || !tolerance || *tolerance < 0) return std::nullopt;
    x.low = *value - *tolerance;
    x.high = *value + *tolerance;
    x.decimals = std::max(d0, d1);
    return x;
  }
  const auto value = decimal_number(s, d0);
  if (!value) return std::nullopt;
  // Half a unit of the last decimal written either side: what rounds to the expectation.
  const double half = 0.5 * std::pow(10.0, -d0);
  x.low = *value - half;
  x.high = *value + half;
  x.decimals = d0;
  return x;
}

bool number_met(const ExpectedNumber& want, double got) {
  // Scores are sums of binary fractions (decayed points); 39.85 itself is not exact in binary.
  const double slack = 1e-9 * std::max(1.0, std::fabs(got));
  return got >= want.low - slack && got <= want.high + slack;
}

// The actual score for a failure line: one decimal more than the expectation is written with,
// trailing zeros dropped ("expected 39.9, got 39.43"; "expected 90, got 15").
std::string actual_number(const ExpectedNumber& want, double got) {
  if (want.range) return format_points(got);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", std::min(want.decimals + 1, 15), got);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

// The offset from UTC a time is written with ("2026-11-24T09:00:00-05:00": -5 h), and its
// suffix; zero and empty for "Z", no offset, or text that is no time.
std::int64_t written_offset_ms(std::string_view text, std::string_view* suffix = nullptr) {
  const std::size_t t = text.find('T'), sign = text.find_last_of("+-");
  if (t == std::string_view::npos || sign == std::string_view::npos || sign < t) return 0;
  const auto local = parse_date_ms(std::string(text.substr(0, sign)) + "Z");
  const auto instant = parse_date_ms(text);
  if (!local || !instant) return 0;
  if (suffix) *suffix = text.substr(sign);
  return *local - *instant;
}

// An actual time for a failure line, in the offset the expectation is written with and in UTC
// ("2026-11-24T10:00:00-05:00 (2026-11-24T15:00:00Z)"), or in UTC alone.
std::string actual_time(std::int64_t ms, std::string_view expected) {
  std::string_view suffix;
  const std::int64_t offset = written_offset_ms(expected, &suffix);
  const std::string utc = format_date(ms);
  if (offset == 0) return utc;
  std::string local = format_date(ms + offset);
  local.pop_back();  // its 'Z'
  return local + std::string(suffix) + " (" + utc + ")";
}

std::optional<int> whole_number(const YAML::Node& n) {
  if (!n.IsScalar()) return std::nullopt;
  const std::string_view s = trimmed(n.Scalar());
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

constexpr const char* kScoreShapes =
    "an expected score is a number such as 45, a number with a tolerance such as 45 \xC2\xB1 5 (or 45 +- 5), or a "
    "range such as [40, 50]";
constexpr const char* kTimeShape = "is a time such as 2026-11-24T14:00:00Z (any offset: 2026-11-24T09:00:00-05:00)";

class TestRunner {
 public:
  TestRunner(RuleTestReport& report, bool coverage) : report_(report), coverage_(coverage) {}

  void run(const std::string& path) {
    std::error_code ec;
    std::vector<std::string> test_files;
    std::string rules_hint;
    if (fs::is_directory(path, ec)) {
      const fs::path dir = fs::path(path) / "tests";
      if (fs::is_directory(dir, ec))
        for (const auto& e : fs::directory_iterator(dir, ec))
          if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
            test_files.push_back(e.path().string());
      rules_hint = path;
    } else if (fs::exists(path, ec)) {
      std::string text;
      read_file(path, text);
      if (text.find("\ntests:") != std::string::npos || text.rfind("tests:", 0) == 0) {
        test_files.push_back(path);
      } else {
        rules_hint = path;
        const fs::path dir = fs::path(path).parent_path() / "tests";
        if (fs::is_directory(dir, ec))
          for (const auto& e : fs::directory_iterator(dir, ec))
            if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
              test_files.push_back(e.path().string());
      }
    } else {
      report_.diagnostics.error(path, 0, 0, "no such file or directory");
      return;
    }
    std::sort(test_files.begin(), test_files.end());
    if (test_files.empty())
      report_.diagnostics.error(path, 0, 0, "no rule tests found (tests/*.yaml next to the rules)");
    for (const auto& f : test_files) run_file(f, rules_hint);
    if (coverage_) coverage_report();
  }

 private:
  RulesetPtr rules_for(const std::string& test_file, const YAML::Node& root, const std::string& hint) {
    std::string rules_path;
    if (root["rules"] && root["rules"].IsScalar())
      rules_path = (fs::path(test_file).parent_path() / root["rules"].Scalar()).lexically_normal().string();
    else if (!hint.empty())
      rules_path = hint;
    else
      rules_path = fs::path(test_file).parent_path().parent_path().string();
    auto it = cache_.find(rules_path);
    if (it != cache_.end()) return it->second;
    LoadResult loaded = load_ruleset(rules_path);
    for (const auto& d : loaded.diagnostics.all())
      if (d.severity == Severity::kError) report_.diagnostics.add(d);
    cache_[rules_path] = loaded.ruleset;
    return loaded.ruleset;
  }

  static RuleTestResult result_for(const std::string& file, const YAML::Node& t) {
    RuleTestResult r;
    r.file = file;
    r.line = t.Mark().line + 1;
    r.name =
        t.IsMap() && t["name"] && t["name"].IsScalar() ? t["name"].Scalar() : "test at line " + std::to_string(r.line);
    return r;
  }

  void record(RuleTestResult result) {
    switch (result.outcome) {
      case RuleTestResult::Outcome::kPassed: ++report_.passed; break;
      case RuleTestResult::Outcome::kFailed:
        ++report_.failed;
        report_.output +=
            "FAIL " + result.file + ":" + std::to_string(result.line) + ": " + result.name + "\n" + result.failure;
        break;
      case RuleTestResult::Outcome::kNotRun: ++report_.not_run; break;
    }
    report_.results.push_back(std::move(result));
  }

  void run_file(const std::string& file, const std::string& hint) {
    std::string text;
    if (!read_file(file, text)) {
      report_.diagnostics.error(file, 0, 0, "cannot read the file");
      return;
    }
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      report_.diagnostics.error(file, e.mark.line + 1, e.mark.column + 1, "this is not valid YAML: " + e.msg,
                                source_line_of(text, e.mark.line + 1));
      return;
    }
    if (!root.IsMap() || !root["tests"] || !root["tests"].IsSequence()) {
      report_.diagnostics.error(file, 1, 1, "a rule test file has a 'tests' list");
      return;
    }
    const YAML::Node tests = root["tests"];
    auto none_run = [&] {
      for (const auto& t : tests) record(result_for(file, t));
    };
    document_ = config::Document::adopt(root, text, file, report_.diagnostics);
    merge_errors_.clear();
    // Results of tests under a mistyped 'rules' or 'at' would mean nothing.
    if (!keys_ok(root, "a rule test file", {"rules", "at", "tests"})) return none_run();
    RulesetPtr rs = rules_for(file, root, hint);
    if (!rs) {
      report_.diagnostics.error(file, 1, 1,
                                "the rules these tests need do not load; fix them first (tandem rules check)");
      return none_run();
    }
    std::int64_t default_at = 0;
    if (root["at"]) {
      auto ms = root["at"].IsScalar() ? parse_date_ms(root["at"].Scalar()) : std::nullopt;
      if (!ms)
        error(file, text, root["at"], "'at' is a date such as 2026-11-20T10:00:00Z");
      else
        default_at = *ms;
    }
    for (const auto& t : tests) {
      RuleTestResult result = result_for(file, t);
      try {
        run_case(*rs, file, text, t, default_at, result);
      } catch (const YAML::Exception& e) {
        result.outcome = RuleTestResult::Outcome::kNotRun;
        report_.diagnostics.error(file, e.mark.line + 1, e.mark.column + 1, "malformed test: " + e.msg,
                                  source_line_of(text, e.mark.line + 1));
      } catch (const std::exception& e) {
        result.outcome = RuleTestResult::Outcome::kNotRun;
        const int line = t.Mark().line + 1;
        report_.diagnostics.error(file, line, t.Mark().column + 1, std::string("malformed test: ") + e.what(),
                                  source_line_of(text, line));
      }
      record(std::move(result));
    }
  }

  void error(const std::string& file, const std::string& text, const YAML::Node& n, const std::string& msg) {
    const int line = n.Mark().line + 1;
    report_.diagnostics.error(file, line, n.Mark().column + 1, msg, source_line_of(text, line));
  }

  // Checks the keys of a mapping with the common walker: unknown ones (with a did-you-mean), keys
  // given twice and keys that are not words are reported in the words of `noun`. A node that is
  // not a mapping passes; the caller reports a wrong shape in its own words.
  bool keys_ok(const YAML::Node& map, const std::string& noun, const std::vector<std::string>& known) {
    const std::size_t before = report_.diagnostics.error_count();
    config::ConfigSection section = document_->section_at(map, noun);
    for (const auto& key : known) section.raw(key, [](const YAML::Node&, const YAML::Node&) {});
    section.finish();
    return report_.diagnostics.error_count() == before;
  }

  // The same for a mapping whose keys are data (property, model or SLA names): any word is a
  // key, but each only once.
  bool data_keys_ok(const YAML::Node& map, const std::string& noun) {
    const std::size_t before = report_.diagnostics.error_count();
    config::ConfigSection section = document_->section_at(map, noun);
    section.keys();
    section.finish();
    return report_.diagnostics.error_count() == before;
  }

  // A data key that names something the rules must have (a fit model, an SLA, a property they
  // write): a misspelt one is a mistake in the test, reported like an unknown key, not a failure.
  void check_name(const std::string& file, const std::string& text, const YAML::Node& key, const std::string& what,
                  const std::string& noun, const std::vector<std::string>& known, const std::string& rules_have) {
    if (!key.IsScalar() || std::find(known.begin(), known.end(), key.Scalar()) != known.end()) return;
    std::string message = "unknown " + what + " '" + key.Scalar() + "' in " + noun;
    if (const std::string near = nearest_match(key.Scalar(), known); !near.empty())
      message += "; did you mean '" + near + "'?";
    else
      message += known.empty() ? " (the rules have none)" : " (" + rules_have + " " + joined(known) + ")";
    error(file, text, key, message);
  }

  struct Entry {
    std::string key;
    YAML::Node value;
    bool own = false;  // written in the contact itself, not merged into it
  };

  // The entries of `map` with its merge keys resolved (https://yaml.org/type/merge.html), which
  // yaml-cpp 0.7 leaves to its reader: it keeps `<<` as an ordinary key whose value is the aliased
  // node. A mapping's own keys win over everything merged into it; of `<<: [*a, *b]` the earlier
  // mapping wins; a merged mapping brings its own merges, below its own keys, so `<<: *big` where
  // big merges *base has big's values, then base's where big has none. False when a `<<` merges
  // something that is not a mapping, or a mapping into itself (reported once, where written).
  bool merge_into(const std::string& file, const std::string& text, const YAML::Node& map, bool own,
                  std::vector<YAML::Node>& open, std::vector<Entry>& out) {
    open.push_back(map);
    std::vector<YAML::Node> sources;
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies (Node is a handle): it->first/second live in yaml-cpp's iterator proxy, a
      // temporary, and ASan caught a recursive call reading one after its scope.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) continue;  // reported by data_keys_ok where it is written
      if (is_merge_key(key)) {
        sources.push_back(value);
        continue;
      }
      const std::string name = key.Scalar();
      if (std::none_of(out.begin(), out.end(), [&](const Entry& e) { return e.key == name; }))
        out.push_back({name, value, own});
    }
    bool ok = true;
    auto bad = [&](const YAML::Node& at, const std::string& message) {
      ok = false;
      if (merge_errors_.insert({at.Mark().line, at.Mark().column}).second) error(file, text, at, message);
    };
    auto merge = [&](const YAML::Node& source) {
      if (std::any_of(open.begin(), open.end(), [&](const YAML::Node& o) { return o.is(source); })) {
        bad(source, "'<<' merges a mapping into itself");
      } else if (std::any_of(merged_.begin(), merged_.end(), [&](const YAML::Node& m) { return m.is(source); })) {
        // Merged already, above this one: its keys are in, and win (a diamond of merges is walked once).
      } else if (open.size() >= kMaxMergeDepth) {
        bad(source, "merges nest more than " + std::to_string(kMaxMergeDepth) + " levels deep");
      } else {
        merged_.push_back(source);
        if (!merge_into(file, text, source, false, open, out)) ok = false;
      }
    };
    for (const auto& source : sources) {
      if (source.IsMap()) {
        merge(source);
      } else if (source.IsSequence() &&
                 std::all_of(source.begin(), source.end(), [](const YAML::Node& m) { return m.IsMap(); })) {
        for (const auto& m : source) merge(m);
      } else {
        bad(source, "'<<' merges a mapping into the contact, such as <<: *ada, or a list of them, <<: [*ada, *acme]");
      }
    }
    open.pop_back();
    return ok;
  }

  // Every mistake in `expect` at once, before the test runs: keys (also those naming the
  // rules' fit models, SLAs and written properties), scores, times and counts.
  bool expect_ok(const CompiledRuleset& rs, const std::string& file, const std::string& text, const YAML::Node& e) {
    const std::size_t first = report_.diagnostics.all().size();
    keys_ok(e, "expect",
            {"stage", "transition", "returned", "campaign", "relevant", "fit", "engagement", "not_ready", "held_back", "data_quality", "writes",
             "tasks", "sla", "next_state"});
    auto score = [&](const YAML::Node& n) {
      if (expected_number(n)) return;
      int d = 0;
      if (n.IsSequence() && n.size() == 2 && n[0].IsScalar() && n[1].IsScalar() && decimal_number(n[0].Scalar(), d) &&
          decimal_number(n[1].Scalar(), d))
        error(file, text, n, "a range of scores is [low, high], the lower first");
      else
        error(file, text, n, kScoreShapes);
    };
    if (const YAML::Node fit = e["fit"]) {
      std::vector<std::string> models;
      for (const auto& m : rs.ast.fit) models.push_back(m.name);
      if (fit.IsMap()) {
        data_keys_ok(fit, "the expected fit");
        for (auto it = fit.begin(); it != fit.end(); ++it) {
          const YAML::Node key = it->first;
          const YAML::Node value = it->second;
          check_name(file, text, key, "fit model", "the expected fit", models, "the rules have");
          score(value);
        }
      } else {
        if (models.empty()) error(file, text, fit, "the rules have no fit model to expect a fit of");
        score(fit);
      }
    }
    if (const YAML::Node engagement = e["engagement"]) score(engagement);
    if (const YAML::Node campaign = e["campaign"]; campaign && !campaign.IsNull()) {
      std::vector<std::string> names;
      for (const auto& c : rs.ast.campaigns.campaigns) names.push_back(c.name);
      if (!campaign.IsScalar())
        error(file, text, campaign, "'campaign' is the name of a campaign in the campaigns file (null: none)");
      else
        check_name(file, text, campaign, "campaign", "the expected campaign", names, "the campaigns file has");
    }
    if (const YAML::Node relevant = e["relevant"];
        relevant && !(relevant.IsScalar() && (relevant.Scalar() == "true" || relevant.Scalar() == "false")))
      error(file, text, relevant, "'relevant' is true or false");
    if (const YAML::Node writes = e["writes"]) {
      std::vector<std::string> written;
      for (const std::int32_t slot :
           {rs.lifecycle_slot, rs.lead_status_slot, rs.fit_score_slot, rs.engagement_score_slot})
        if (slot >= 0) written.push_back(rs.slot_names[static_cast<std::size_t>(slot)]);
      data_keys_ok(writes, "the expected writes");
      if (!writes.IsMap()) {
        error(file, text, writes, "'writes' maps properties to the values written, such as { lifecyclestage: lead }");
      } else {
        for (auto it = writes.begin(); it != writes.end(); ++it) {
          const YAML::Node key = it->first;
          const YAML::Node value = it->second;
          check_name(file, text, key, "property", "the expected writes", written, "the rules write");
          if (!value.IsScalar() && !value.IsNull())
            error(file, text, value, "an expected write is one value, such as lead (null: cleared)");
        }
      }
    }
    if (const YAML::Node sla = e["sla"]) {
      std::vector<std::string> names;
      for (const auto& s : rs.ast.sla) names.push_back(s.name);
      data_keys_ok(sla, "the expected sla");
      if (!sla.IsMap()) {
        error(file, text, sla, "'sla' maps SLA names to their states, such as { First touch on MQL: running }");
      } else {
        static const std::vector<std::string> states = {"started", "running", "met", "overdue", "escalated"};
        for (auto it = sla.begin(); it != sla.end(); ++it) {
          const YAML::Node key = it->first;
          const YAML::Node value = it->second;
          check_name(file, text, key, "SLA", "the expected sla", names, "the rules have");
          if (!value.IsScalar() || std::find(states.begin(), states.end(), value.Scalar()) == states.end()) {
            std::string msg = "an SLA's state is started, running, met, overdue or escalated";
            if (value.IsScalar())
              if (auto near = nearest_match(value.Scalar(), states); !near.empty()) msg += "; did you mean '" + near + "'?";
            error(file, text, value, msg);
          }
        }
      }
    }
    if (const YAML::Node tasks = e["tasks"]) {
      if (!tasks.IsSequence() && !tasks.IsNull())
        error(file, text, tasks,
              "'tasks' is a list of subjects or of mappings such as { subject: ..., due: ... } ([] for none)");
      else if (tasks.IsSequence())
        for (const auto& task : tasks) {
          if (task.IsScalar()) continue;
          if (!task.IsMap()) {
            error(file, text, task, "an expected task is its subject, or a mapping with its subject and more");
            continue;
          }
          keys_ok(task, "an expected task",
                  {"subject", "type", "priority", "assignee", "assignee_role", "due", "body_contains"});
          if (!task["subject"] || !task["subject"].IsScalar())
            error(file, text, task, "an expected task gives its subject");
          if (const YAML::Node due = task["due"]; due && !(due.IsScalar() && parse_date_ms(due.Scalar())))
            error(file, text, due, std::string("'due' ") + kTimeShape);
        }
    }
    if (const YAML::Node ns = e["next_state"]) {
      keys_ok(ns, "next_state", {"recycle_count", "cool_off_until", "stage_entered_at"});
      if (!ns.IsMap()) {
        error(file, text, ns, "next_state is a mapping such as { recycle_count: 1 }");
      } else {
        if (ns["recycle_count"] && !whole_number(ns["recycle_count"]))
          error(file, text, ns["recycle_count"], "next_state recycle_count is a whole number");
        for (const char* key : {"cool_off_until", "stage_entered_at"})
          if (const YAML::Node when = ns[key];
              when && !when.IsNull() && !(when.IsScalar() && parse_date_ms(when.Scalar())))
            error(file, text, when, "next_state " + std::string(key) + " " + kTimeShape + ", or null for none");
      }
    }
    // In the order they are written, as the user reads the file, not in the order checked.
    const std::vector<Diagnostic>& all = report_.diagnostics.all();
    std::vector<Diagnostic> found(all.begin() + static_cast<std::ptrdiff_t>(first), all.end());
    if (found.empty()) return true;
    std::stable_sort(found.begin(), found.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    Diagnostics sorted;
    for (std::size_t i = 0; i < first; ++i) sorted.add(all[i]);
    for (auto& d : found) sorted.add(std::move(d));
    report_.diagnostics = std::move(sorted);  // the same object: the document keeps reporting into it
    return false;
  }

  // `result` stays kNotRun when the test has mistakes (reported as diagnostics).
  void run_case(const CompiledRuleset& rs, const std::string& file, const std::string& text, const YAML::Node& t,
                std::int64_t default_at, RuleTestResult& result) {
    if (!t.IsMap()) return error(file, text, t, "each test is a mapping with name, contact and expect");
    if (!keys_ok(t, "a test", {"name", "at", "contact", "state", "expect"})) return;
    const std::string& name = result.name;
    std::int64_t at = default_at;
    if (t["at"]) {
      auto ms = parse_date_ms(t["at"].as<std::string>());
      if (!ms) return error(file, text, t["at"], "'at' is a date such as 2026-11-20T10:00:00Z");
      at = *ms;
    }
    if (at == 0)
      return error(file, text, t, "the test needs 'at' (here or at the top of the file): decisions depend on time");
    ContactRecord contact;
    contact.id = name;
    if (t["contact"]) {
      const YAML::Node contact_node = t["contact"];
      if (!contact_node.IsMap()) return error(file, text, contact_node, "contact maps property names to values");
      // "<<" is one more key here; merge_into gives it its meaning.
      if (!data_keys_ok(contact_node, "a test's contact")) return;
      std::vector<Entry> entries;
      std::vector<YAML::Node> open;
      merged_.clear();
      bool contact_ok = merge_into(file, text, contact_node, true, open, entries);
      for (const auto& entry : entries) {
        // Merged mappings are checked where they are written.
        if (entry.own && ambiguous_boolean(entry.value)) {
          error(file, text, entry.value,
                entry.key + " must be true or false, not '" + entry.value.Scalar() + "' (quote it, \"" +
                    entry.value.Scalar() + "\", if the property holds that text)");
          contact_ok = false;
        }
      }
      if (!contact_ok) return;
      for (const auto& entry : entries) {
        std::string value = entry.value.IsScalar() ? entry.value.Scalar() : "";
        if (entry.value.IsSequence())
          for (const auto& v : entry.value) value += (value.empty() ? "" : ";") + (v.IsScalar() ? v.Scalar() : "");
        if (entry.key == "id")
          contact.id = value;
        else
          contact.properties.emplace_back(entry.key, std::move(value));
      }
    }
    ContactState state;
    if (t["state"]) {
      const YAML::Node& s = t["state"];
      if (!s.IsMap() && !s.IsNull()) return error(file, text, s, "state is a mapping such as { recycle_count: 1 }");
      if (!keys_ok(s, "state", {"stage_entered_at", "recycle_count", "cool_off_until", "last_return_reason", "fired"}))
        return;
      auto date = [&](const char* key, std::optional<std::int64_t>& out) {
        if (!s[key]) return true;
        auto ms = parse_date_ms(s[key].as<std::string>());
        if (!ms) {
          error(file, text, s[key], std::string(key) + " is a date");
          return false;
        }
        out = *ms;
        return true;
      };
      if (!date("stage_entered_at", state.stage_entered_at) || !date("cool_off_until", state.cool_off_until)) return;
      if (s["recycle_count"]) state.recycle_count = s["recycle_count"].as<int>();
      if (s["last_return_reason"]) state.last_return_reason = s["last_return_reason"].as<std::string>();
      if (s["fired"]) state.fired = strings(s["fired"]);
    }
    const YAML::Node e = t["expect"];
    if (!e) return error(file, text, t, "the test needs 'expect'");
    if (!e.IsMap()) return error(file, text, e, "'expect' is a mapping such as { stage: lead }");
    if (!expect_ok(rs, file, text, e)) return;

    Decision d;
    ev_.evaluate(rs, contact, state, at, d, EvalOptions{true, true});
    if (coverage_) record_coverage(rs);

    Failure f;
    const std::string stage = d.target_stage >= 0 ? std::string(d.target_stage_name()) : "none";
    if (e["stage"] && e["stage"].as<std::string>() != stage) f.add("stage", e["stage"].as<std::string>(), stage);
    if (e["transition"]) {
      const std::string want = e["transition"].IsNull() ? "none" : e["transition"].as<std::string>();
      const std::string got = d.transition >= 0 ? rs.ast.qualify[static_cast<std::size_t>(d.transition)].name : "none";
      if (want != got) f.add("transition", want, got);
    }
    if (e["returned"]) {
      const std::string want = e["returned"].IsNull() ? "none" : e["returned"].as<std::string>();
      const std::string got = d.returned >= 0 ? rs.ast.returns[static_cast<std::size_t>(d.returned)].reason : "none";
      if (want != got) f.add("returned", want, got);
    }
    if (e["campaign"]) {
      const std::string want = e["campaign"].IsNull() ? "none" : e["campaign"].as<std::string>();
      const std::string got =
          d.campaign >= 0 ? rs.ast.campaigns.campaigns[static_cast<std::size_t>(d.campaign)].name : "none";
      if (want != got) f.add("campaign", want, got);
    }
    if (e["relevant"]) {
      const std::string want = e["relevant"].as<std::string>();
      const std::string got = d.relevant ? "true" : "false";
      if (want != got) f.add("relevant", want, got);
    }
    auto number_check = [&](const std::string& what, const YAML::Node& node, double got) {
      const ExpectedNumber want = *expected_number(node);  // expect_ok checked it
      if (!number_met(want, got)) f.add(what, want.text, actual_number(want, got));
    };
    if (e["fit"]) {
      if (e["fit"].IsMap()) {
        for (auto it = e["fit"].begin(); it != e["fit"].end(); ++it) {
          const std::string model = it->first.Scalar();
          auto m =
              std::find_if(rs.ast.fit.begin(), rs.ast.fit.end(), [&](const FitModel& x) { return x.name == model; });
          number_check("fit " + model, it->second, d.fit[static_cast<std::size_t>(m - rs.ast.fit.begin())].score);
        }
      } else if (!d.fit.empty()) {
        number_check("fit", e["fit"], d.fit.front().score);
      }
    }
    if (e["engagement"]) number_check("engagement", e["engagement"], d.engagement.score);
    if (e["not_ready"]) {
      std::vector<std::string> got;
      for (auto i : d.not_ready) got.push_back(rs.ast.not_ready[static_cast<std::size_t>(i)].reason);
      if (!same_set(strings(e["not_ready"]), got))
        f.add("not_ready", list_text(strings(e["not_ready"])), list_text(got));
    }
    if (e["held_back"]) {
      std::vector<std::string> got;
      for (auto i : d.blocked) got.push_back(rs.ast.qualify[static_cast<std::size_t>(i)].name);
      if (!same_set(strings(e["held_back"]), got))
        f.add("held_back", list_text(strings(e["held_back"])), list_text(got));
    }
    if (e["data_quality"]) {
      std::vector<std::string> got;
      for (const auto& q : d.data_quality)
        got.push_back(q.required ? rs.ast.data_quality.required[static_cast<std::size_t>(q.index)].value
                                 : rs.ast.data_quality.checks[static_cast<std::size_t>(q.index)].name);
      if (!same_set(strings(e["data_quality"]), got))
        f.add("data_quality", list_text(strings(e["data_quality"])), list_text(got));
    }
    if (e["writes"]) {
      for (auto it = e["writes"].begin(); it != e["writes"].end(); ++it) {
        const std::string prop = it->first.Scalar();
        const std::string want = it->second.IsNull() ? "(no write)" : it->second.Scalar();
        std::string got = "(no write)";
        for (const auto& w : d.writes)
          if (w.property == prop) got = w.value;
        if (want != got) f.add("write " + prop, want, got);
      }
    }
    std::vector<RenderedTask> tasks;
    for (const auto& task : d.tasks) tasks.push_back(render_task(rs, contact, d, task));
    if (e["tasks"]) {
      const YAML::Node& want = e["tasks"];
      std::vector<std::string> got_subjects;
      for (const auto& r : tasks) got_subjects.push_back(r.subject);
      std::vector<std::string> want_subjects;
      for (const auto& w : want)
        want_subjects.push_back(w.IsMap() ? w["subject"].as<std::string>("") : w.as<std::string>());
      if (!same_set(want_subjects, got_subjects))
        f.add("tasks", list_text(want_subjects), list_text(got_subjects));
      else
        for (const auto& w : want) {
          if (!w.IsMap()) continue;
          const std::string subject = w["subject"].as<std::string>("");
          auto r =
              std::find_if(tasks.begin(), tasks.end(), [&](const RenderedTask& x) { return x.subject == subject; });
          for (auto it = w.begin(); it != w.end(); ++it) {
            const std::string key = it->first.Scalar(), value = it->second.Scalar();
            std::string got;
            if (key == "subject") continue;
            if (key == "type") {
              got = r->type;
            } else if (key == "priority") {
              got = r->priority;
            } else if (key == "assignee") {
              got = r->assignee;
            } else if (key == "assignee_role") {
              got = r->assignee_role;
            } else if (key == "due") {
              // The same instant in any offset (expect_ok checked that it is a time).
              if (parse_date_ms(value) == r->due_ms) continue;
              got = actual_time(r->due_ms, value);
            } else if (key == "body_contains") {
              got = r->body.find(value) != std::string::npos ? value : r->body;
            }
            if (got != value) f.add("task \"" + subject + "\" " + key, value, got);
          }
        }
    }
    if (e["sla"]) {
      static const char* names[] = {"started", "running", "met", "overdue", "escalated"};
      for (auto it = e["sla"].begin(); it != e["sla"].end(); ++it) {
        const std::string sla = it->first.Scalar(), want = it->second.Scalar();
        std::string got = "(not running)";
        for (const auto& timer : d.sla)
          if (rs.ast.sla[static_cast<std::size_t>(timer.sla)].name == sla) got = names[static_cast<int>(timer.status)];
        if (want != got) f.add("sla " + sla, want, got);
      }
    }
    if (const YAML::Node ns = e["next_state"]) {
      if (ns["recycle_count"] && *whole_number(ns["recycle_count"]) != d.next_state.recycle_count)
        f.add("next_state recycle_count", ns["recycle_count"].Scalar(), std::to_string(d.next_state.recycle_count));
      auto time_check = [&](const char* key, const std::optional<std::int64_t>& got) {
        const YAML::Node want = ns[key];
        if (!want) return;
        const std::optional<std::int64_t> want_ms = want.IsNull() ? std::nullopt : parse_date_ms(want.Scalar());
        if (want_ms == got) return;
        const std::string want_text = want.IsNull() ? "none" : want.Scalar();
        f.add("next_state " + std::string(key), want_text, got ? actual_time(*got, want_text) : "none");
      };
      time_check("cool_off_until", d.next_state.cool_off_until);
      time_check("stage_entered_at", d.next_state.stage_entered_at);
    }
    if (f.lines.empty()) {
      result.outcome = RuleTestResult::Outcome::kPassed;
      return;
    }
    result.outcome = RuleTestResult::Outcome::kFailed;
    for (const auto& l : f.lines) result.failure += "  " + l + "\n";
    result.failure += "  explanation:\n";
    const std::string expl = explain_text(rs, contact, d, ev_);
    std::size_t i = 0;
    while (i < expl.size()) {
      const std::size_t nl = expl.find('\n', i);
      const std::string line = expl.substr(i, nl == std::string::npos ? std::string::npos : nl - i);
      result.failure += line.empty() ? "\n" : "    " + line + "\n";
      if (nl == std::string::npos) break;
      i = nl + 1;
    }
    result.failure += "\n";
  }

  void record_coverage(const CompiledRuleset& rs) {
    auto& seen = seen_[&rs];
    if (seen.empty()) {
      seen.assign(rs.nodes.size(), 0);
      order_.push_back(&rs);
    }
    const auto& trace = ev_.trace();
    for (std::size_t i = 0; i < trace.size(); ++i)
      if (trace[i] == 1)
        seen[i] |= 1;
      else if (trace[i] == 0)
        seen[i] |= 2;
  }

  void coverage_report() {
    std::string& out = report_.coverage;
    for (const CompiledRuleset* rs : order_) {
      const auto& seen = seen_[rs];
      const RulesetAst& ast = rs->ast;
      std::vector<std::string> rules;
      int total_rules = 0;
      auto rule = [&](std::int32_t root, const std::string& kind, const std::string& name, Pos p) {
        ++total_rules;
        if (root >= 0 && !(seen[static_cast<std::size_t>(root)] & 1))
          rules.push_back("  " + ast.file + ":" + std::to_string(p.line) + ": " + kind + " \"" + name +
                          "\" never applied");
      };
      for (std::size_t m = 0; m < ast.fit.size(); ++m)
        for (std::size_t r = 0; r < ast.fit[m].rules.size(); ++r)
          rule(rs->fit_roots[m][r], "fit rule", ast.fit[m].rules[r].name, ast.fit[m].rules[r].pos);
      for (std::size_t i = 0; i < ast.engagement.signals.size(); ++i)
        rule(rs->signal_roots[i], "signal", ast.engagement.signals[i].name, ast.engagement.signals[i].pos);
      for (std::size_t i = 0; i < ast.data_quality.checks.size(); ++i) {
        ++total_rules;
        const auto root = rs->check_roots[i];
        if (root >= 0 && !(seen[static_cast<std::size_t>(root)] & 2))
          rules.push_back("  " + ast.file + ":" + std::to_string(ast.data_quality.checks[i].pos.line) +
                          ": data check \"" + ast.data_quality.checks[i].name + "\" never failed");
      }
      for (std::size_t i = 0; i < ast.not_ready.size(); ++i)
        rule(rs->not_ready_roots[i], "not_ready rule", ast.not_ready[i].name, ast.not_ready[i].pos);
      for (std::size_t i = 0; i < ast.returns.size(); ++i)
        rule(rs->return_roots[i], "return_to_nurture rule", ast.returns[i].name, ast.returns[i].pos);
      for (std::size_t i = 0; i < ast.qualify.size(); ++i)
        rule(rs->qualify_roots[i], "qualify rule", ast.qualify[i].name, ast.qualify[i].pos);
      for (std::size_t i = 0; i < ast.sla.size(); ++i)
        rule(rs->sla_roots[i], "sla done_when", ast.sla[i].name, ast.sla[i].pos);
      // Leaf conditions that never held, or never failed, in any test.
      std::vector<std::string> conditions;
      int total_conditions = 0;
      for (std::size_t i = 0; i < rs->nodes.size(); ++i) {
        const Node& n = rs->nodes[i];
        if (n.kind < NodeKind::kTrue || n.kind == NodeKind::kAnd || n.kind == NodeKind::kOr ||
            n.kind == NodeKind::kNot || !n.condition || !n.expr)
          continue;
        ++total_conditions;
        if ((seen[i] & 3) == 3) continue;
        const Pos p = n.condition->at(n.expr->offset);
        const char* what = seen[i] == 0 ? "never evaluated" : (seen[i] & 1) ? "never false" : "never true";
        conditions.push_back("  " + ast.file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " +
                             to_source(*n.expr) + " (" + what + ")");
      }
      out += "Coverage of " + ast.file + ": " + std::to_string(total_rules - static_cast<int>(rules.size())) + " of " +
             std::to_string(total_rules) + " rules exercised, " +
             std::to_string(total_conditions - static_cast<int>(conditions.size())) + " of " +
             std::to_string(total_conditions) + " conditions seen both true and false\n";
      if (!rules.empty()) {
        out += "Rules no test exercised:\n";
        for (const auto& r : rules) out += r + "\n";
      }
      if (!conditions.empty()) {
        out += "Conditions not seen both true and false:\n";
        for (const auto& c : conditions) out += c + "\n";
      }
    }
  }

  RuleTestReport& report_;
  bool coverage_;
  Evaluator ev_;
  std::optional<config::Document> document_;    // the test file being run, reporting into report_.diagnostics
  std::set<std::pair<int, int>> merge_errors_;  // positions of bad merges reported in this file
  std::vector<YAML::Node> merged_;              // the mappings merged into the contact being read
  static constexpr std::size_t kMaxMergeDepth = 32;
  std::map<std::string, RulesetPtr> cache_;
  std::map<const CompiledRuleset*, std::vector<std::uint8_t>> seen_;
  std::vector<const CompiledRuleset*> order_;
};

}  // namespace

RuleTestReport run_rule_tests(const std::string& path, bool coverage) {
  RuleTestReport report;
  TestRunner runner(report, coverage);
  runner.run(path);
  return report;
}

}  // namespace tandem::rules
