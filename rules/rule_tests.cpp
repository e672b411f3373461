#include "rules/rule_tests.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

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
    document_ = config::Document::adopt(root, text, file, report_.diagnostics);
    // Results of tests under a mistyped 'rules' or 'at' would mean nothing.
    if (!keys_ok(root, "a rule test file", {"rules", "at", "tests"})) return;
    RulesetPtr rs = rules_for(file, root, hint);
    if (!rs) {
      report_.diagnostics.error(file, 1, 1,
                                "the rules these tests need do not load; fix them first (tandem rules check)");
      return;
    }
    std::int64_t default_at = 0;
    if (root["at"]) {
      auto ms = root["at"].IsScalar() ? parse_date_ms(root["at"].Scalar()) : std::nullopt;
      if (!ms)
        error(file, text, root["at"], "'at' is a date such as 2026-11-20T10:00:00Z");
      else
        default_at = *ms;
    }
    for (const auto& t : root["tests"]) {
      try {
        run_case(*rs, file, text, t, default_at);
      } catch (const YAML::Exception& e) {
        report_.diagnostics.error(file, e.mark.line + 1, e.mark.column + 1, "malformed test: " + e.msg,
                                  source_line_of(text, e.mark.line + 1));
      } catch (const std::exception& e) {
        const int line = t.Mark().line + 1;
        report_.diagnostics.error(file, line, t.Mark().column + 1, std::string("malformed test: ") + e.what(),
                                  source_line_of(text, line));
      }
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

  // The keys of `expect`'s nested mappings, before any of them is compared.
  bool expect_keys_ok(const YAML::Node& e) {
    bool ok = true;
    if (e["tasks"] && e["tasks"].IsSequence())
      for (const auto& task : e["tasks"])
        ok = keys_ok(task, "an expected task",
                     {"subject", "type", "priority", "assignee", "assignee_role", "due", "body_contains"}) &&
             ok;
    if (e["next_state"]) ok = keys_ok(e["next_state"], "next_state", {"recycle_count", "cool_off_until"}) && ok;
    if (e["fit"]) ok = data_keys_ok(e["fit"], "the expected fit") && ok;
    if (e["writes"]) ok = data_keys_ok(e["writes"], "the expected writes") && ok;
    if (e["sla"]) ok = data_keys_ok(e["sla"], "the expected sla") && ok;
    return ok;
  }

  void run_case(const CompiledRuleset& rs, const std::string& file, const std::string& text, const YAML::Node& t,
                std::int64_t default_at) {
    if (!t.IsMap()) return error(file, text, t, "each test is a mapping with name, contact and expect");
    if (!keys_ok(t, "a test", {"name", "at", "contact", "state", "expect"})) return;
    const std::string name =
        t["name"] ? t["name"].as<std::string>() : "test at line " + std::to_string(t.Mark().line + 1);
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
      if (!t["contact"].IsMap()) return error(file, text, t["contact"], "contact maps property names to values");
      // "<<" is one more key here; the merge below gives it its meaning.
      if (!data_keys_ok(t["contact"], "a test's contact")) return;
      // yaml-cpp does not implement merge keys ("<<: *base"); tests use them to vary one contact.
      std::vector<std::pair<std::string, std::string>> merged;
      bool contact_ok = true;
      auto add_entries = [&](const YAML::Node& map, bool override_existing, auto&& self) -> void {
        for (auto it = map.begin(); it != map.end(); ++it) {
          // Copies (Node is a handle): it->first/second live in yaml-cpp's iterator proxy, a
          // temporary, and ASan caught the recursive call reading one after its scope.
          const YAML::Node key_node = it->first;
          const YAML::Node value_node = it->second;
          const std::string key = key_node.Scalar();
          if (key == "<<") {
            // https://yaml.org/type/merge.html: a mapping, or a list of mappings of which the
            // earlier ones win.
            if (value_node.IsMap()) {
              self(value_node, false, self);
            } else if (value_node.IsSequence() && std::all_of(value_node.begin(), value_node.end(),
                                                              [](const YAML::Node& m) { return m.IsMap(); })) {
              for (const auto& m : value_node) self(m, false, self);
            } else {
              error(file, text, value_node, "'<<' merges a mapping into the contact, such as <<: *ada");
              contact_ok = false;
            }
            continue;
          }
          // Merged mappings are checked where they are written.
          if (override_existing && ambiguous_boolean(value_node)) {
            error(file, text, value_node,
                  key + " must be true or false, not '" + value_node.Scalar() + "' (quote it, \"" +
                      value_node.Scalar() + "\", if the property holds that text)");
            contact_ok = false;
            continue;
          }
          std::string value = value_node.IsScalar() ? value_node.Scalar() : "";
          if (value_node.IsSequence())
            for (const auto& v : value_node) value += (value.empty() ? "" : ";") + (v.IsScalar() ? v.Scalar() : "");
          auto found = std::find_if(merged.begin(), merged.end(), [&](auto& kv) { return kv.first == key; });
          if (found == merged.end())
            merged.emplace_back(key, value);
          else if (override_existing)
            found->second = value;
        }
      };
      // Explicit keys first, so that they win over merged ones.
      const YAML::Node contact_node = t["contact"];
      add_entries(contact_node, true, add_entries);
      if (!contact_ok) return;
      for (auto& [key, value] : merged) {
        if (key == "id")
          contact.id = value;
        else
          contact.properties.emplace_back(key, value);
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
    Decision d;
    ev_.evaluate(rs, contact, state, at, d, EvalOptions{true, true});
    if (coverage_) record_coverage(rs);

    Failure f;
    const YAML::Node& e = t["expect"];
    if (!e || !e.IsMap()) return error(file, text, t, "the test needs 'expect'");
    if (!keys_ok(e, "expect",
                 {"stage", "transition", "returned", "fit", "engagement", "not_ready", "held_back", "data_quality",
                  "writes", "tasks", "sla", "next_state"}) ||
        !expect_keys_ok(e))
      return;
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
    auto number_check = [&](const std::string& what, const YAML::Node& want, double got) {
      if (want.IsSequence() && want.size() == 2) {
        const double lo = want[0].as<double>(), hi = want[1].as<double>();
        if (got < lo - 1e-9 || got > hi + 1e-9)
          f.add(what, "between " + format_points(lo) + " and " + format_points(hi), format_points(got));
      } else if (std::fabs(want.as<double>() - got) > 0.5) {
        f.add(what, format_points(want.as<double>()), format_points(got));
      }
    };
    if (e["fit"]) {
      if (e["fit"].IsMap()) {
        for (auto it = e["fit"].begin(); it != e["fit"].end(); ++it) {
          const std::string model = it->first.Scalar();
          auto m =
              std::find_if(rs.ast.fit.begin(), rs.ast.fit.end(), [&](const FitModel& x) { return x.name == model; });
          if (m == rs.ast.fit.end())
            f.add("fit model", model, "no such model");
          else
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
            if (key == "type")
              got = r->type;
            else if (key == "priority")
              got = r->priority;
            else if (key == "assignee")
              got = r->assignee;
            else if (key == "assignee_role")
              got = r->assignee_role;
            else if (key == "due")
              got = format_date(r->due_ms);
            else if (key == "body_contains")
              got = r->body.find(value) != std::string::npos ? value : r->body;
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
    if (e["next_state"]) {
      const YAML::Node& ns = e["next_state"];
      if (ns["recycle_count"] && ns["recycle_count"].as<int>() != d.next_state.recycle_count)
        f.add("next_state recycle_count", ns["recycle_count"].Scalar(), std::to_string(d.next_state.recycle_count));
      if (ns["cool_off_until"]) {
        const std::string got = d.next_state.cool_off_until ? format_date(*d.next_state.cool_off_until) : "none";
        auto want = parse_date_ms(ns["cool_off_until"].Scalar());
        if (!want || !d.next_state.cool_off_until || *want != *d.next_state.cool_off_until)
          f.add("next_state cool_off_until", ns["cool_off_until"].Scalar(), got);
      }
    }
    if (f.lines.empty()) {
      ++report_.passed;
      return;
    }
    ++report_.failed;
    report_.output += "FAIL " + file + ":" + std::to_string(t.Mark().line + 1) + ": " + name + "\n";
    for (const auto& l : f.lines) report_.output += "  " + l + "\n";
    report_.output += "  explanation:\n";
    const std::string expl = explain_text(rs, contact, d, ev_);
    std::size_t i = 0;
    while (i < expl.size()) {
      const std::size_t nl = expl.find('\n', i);
      const std::string line = expl.substr(i, nl == std::string::npos ? std::string::npos : nl - i);
      report_.output += line.empty() ? "\n" : "    " + line + "\n";
      if (nl == std::string::npos) break;
      i = nl + 1;
    }
    report_.output += "\n";
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
  std::optional<config::Document> document_;  // the test file being run, reporting into report_.diagnostics
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
