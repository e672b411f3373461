#include "rules/tools.hpp"

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "rules/checker.hpp"
#include "rules/contacts.hpp"
#include "rules/explain.hpp"
#include "rules/rule_tests.hpp"
#include "rules/ruleset.hpp"
#include "rules/simulate.hpp"

namespace tandem::rules {
namespace {

bool resolve_at(const std::string& text, std::int64_t now_ms, std::int64_t& out, std::ostream& err) {
  if (text.empty()) {
    out = now_ms;
    return true;
  }
  auto ms = parse_date_ms(text);
  if (!ms) {
    err << "--at: '" << text << "' is not a date such as 2026-11-20T10:00:00Z\n";
    return false;
  }
  out = *ms;
  return true;
}

// Loads rules for explain/simulate: 2 when the path is wrong, 1 when the rules have errors.
int load_for_use(const std::string& path, RulesetPtr& out, std::ostream& err) {
  std::string error;
  auto files = rule_files(path, error);
  if (!error.empty()) {
    err << error << "\n";
    return 2;
  }
  LoadResult loaded = load_ruleset(path);
  if (!loaded.ruleset) {
    err << loaded.diagnostics.format();
    err << path << ": the rules have errors; run 'tandem rules check " << path << "'\n";
    return 1;
  }
  out = loaded.ruleset;
  return 0;
}

}  // namespace

int run_check(const CheckArgs& args, std::ostream& out, std::ostream& err) {
  std::optional<PropertyCatalog> catalog;
  if (!args.properties.empty()) {
    std::string text, error;
    if (!read_file(args.properties, text)) {
      err << args.properties << ": cannot read the property list\n";
      return 2;
    }
    catalog = PropertyCatalog::from_json(text, error);
    if (!catalog) {
      err << args.properties << ": " << error << "\n";
      return 2;
    }
  }
  const PropertyCatalog* properties = catalog ? &*catalog : args.account_properties;
  std::vector<std::string> files;
  for (const auto& p : args.paths) {
    std::string error;
    // A campaigns file is checked with the rules beside it.
    std::string dir = std::filesystem::path(p).parent_path().string();
    auto f = rule_files(is_campaigns_file(p) ? (dir.empty() ? std::string(".") : dir) : p, error);
    if (!error.empty()) {
      err << error << "\n";
      return 2;
    }
    files.insert(files.end(), f.begin(), f.end());
  }
  std::size_t errors = 0, warnings = 0;
  for (const auto& f : files) {
    std::string text;
    if (!read_file(f, text)) {
      err << f << ": cannot read the file\n";
      return 2;
    }
    std::optional<CampaignsSource> campaigns;
    if (auto beside = campaigns_file_beside(f)) {
      campaigns.emplace();
      campaigns->file = *beside;
      if (!read_file(*beside, campaigns->text)) {
        err << *beside << ": cannot read the file\n";
        return 2;
      }
    }
    LoadResult r = compile_ruleset(f, text, properties, campaigns ? &*campaigns : nullptr);
    out << r.diagnostics.format();
    errors += r.diagnostics.error_count();
    warnings += r.diagnostics.warning_count();
    if (r.ruleset) {
      const auto& ast = r.ruleset->ast;
      std::size_t fit_rules = 0;
      for (const auto& m : ast.fit) fit_rules += m.rules.size();
      out << f << ": " << (r.diagnostics.error_count() ? "errors" : "ok") << ", version "
          << r.ruleset->version.to_string() << ": " << fit_rules << " fit rules, " << ast.engagement.signals.size()
          << " signals, " << ast.not_ready.size() << " not-ready rules, " << ast.qualify.size() << " qualify rules, "
          << ast.returns.size() << " return rules, " << ast.sla.size() << " SLAs; reads " << r.ruleset->property_count
          << " properties\n";
      if (campaigns) {
        const auto& ca = ast.campaigns;
        out << ca.file << ": ok, version " << r.ruleset->campaigns_version.to_string() << ": " << ca.campaigns.size()
            << (ca.campaigns.size() == 1 ? " campaign" : " campaigns") << "\n";
      }
    }
  }
  if (args.account_properties && !catalog)
    out << "checked against the " << args.account_properties->names().size() << " contact properties of "
        << args.account << "\n";
  out << errors << (errors == 1 ? " error, " : " errors, ") << warnings
      << (warnings == 1 ? " warning\n" : " warnings\n");
  return errors ? 1 : 0;
}

int run_test(const TestArgs& args, std::ostream& out, std::ostream& err) {
  RuleTestReport report = run_rule_tests(args.path, args.coverage);
  if (!report.diagnostics.empty()) err << report.diagnostics.format();
  if (args.verbose) {
    for (const auto& r : report.results) {
      const std::string where = r.file + ":" + std::to_string(r.line) + ": " + r.name;
      switch (r.outcome) {
        case RuleTestResult::Outcome::kPassed: out << "PASS " << where << "\n"; break;
        case RuleTestResult::Outcome::kFailed: out << "FAIL " << where << "\n" << r.failure; break;
        case RuleTestResult::Outcome::kNotRun: out << "NOT RUN " << where << " (see the errors above)\n"; break;
      }
    }
  } else {
    out << report.output;
  }
  if (args.coverage) out << report.coverage << "\n";
  out << report.passed << " passed, " << report.failed << " failed";
  // Tests with mistakes are neither: the errors say what to fix.
  if (report.not_run) out << ", " << report.not_run << " not run";
  out << "\n";
  return (report.failed || report.diagnostics.has_errors()) ? 1 : 0;
}

int run_explain(const ExplainArgs& args, std::int64_t now_ms, std::ostream& out, std::ostream& err) {
  std::int64_t at = 0;
  if (!resolve_at(args.at, now_ms, at, err)) return 2;
  RulesetPtr rs;
  if (int rc = load_for_use(args.rules, rs, err)) return rc;
  std::string text, error;
  if (!read_file(args.contact, text)) {
    err << args.contact << ": cannot read the contact\n";
    return 2;
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  ContactRecord contact;
  if (j.is_discarded() || !contact_from_json(j, contact, error)) {
    err << args.contact << ": " << (j.is_discarded() ? "not valid JSON" : error) << "\n";
    return 2;
  }
  ContactState state;
  // A line copied from a simulate export carries its stored state; --state replaces it.
  if (args.state.empty() && j.contains("state") && j["state"].is_object() &&
      !state_from_json(j["state"], state, error)) {
    err << args.contact << ": " << error << "\n";
    return 2;
  }
  if (!args.state.empty()) {
    std::string stext;
    if (!read_file(args.state, stext)) {
      err << args.state << ": cannot read the state\n";
      return 2;
    }
    nlohmann::json sj = nlohmann::json::parse(stext, nullptr, false);
    if (sj.is_discarded() || !state_from_json(sj, state, error)) {
      err << args.state << ": " << (sj.is_discarded() ? "not valid JSON" : error) << "\n";
      return 2;
    }
  }
  Evaluator ev;
  Decision d;
  ev.evaluate(*rs, contact, state, at, d, EvalOptions{true, true});
  if (args.json) {
    // Rule files and contacts may hold text that is not UTF-8 (yaml-cpp does not check): replaced.
    out << explain_json(*rs, contact, d, ev).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    out << explain_text(*rs, contact, d, ev);
  }
  return 0;
}

int run_simulate(const SimulateArgs& args, std::int64_t now_ms, std::ostream& out, std::ostream& err) {
  std::int64_t at = 0;
  if (!resolve_at(args.at, now_ms, at, err)) return 2;
  RulesetPtr rs, base;
  if (int rc = load_for_use(args.rules, rs, err)) return rc;
  if (!args.baseline.empty())
    if (int rc = load_for_use(args.baseline, base, err)) return rc;
  SimulateOptions options;
  options.contacts = args.contacts;
  options.at_ms = at;
  if (args.progress) {
    options.progress = [&err](std::uint64_t done, std::uint64_t total) {
      const int width = 40;
      const double f = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
      const int filled = static_cast<int>(f * width);
      err << "\r[" << std::string(static_cast<std::size_t>(filled), '#')
          << std::string(static_cast<std::size_t>(width - filled), ' ') << "] " << static_cast<int>(f * 100) << "%"
          << (done >= total ? "\n" : "") << std::flush;
    };
  }
  SimulateResult result = simulate(*rs, base.get(), options);
  if (!result.error.empty()) {
    err << result.error << "\n";
    return 2;
  }
  out << format_simulation(*rs, base.get(), result);
  return 0;
}

}  // namespace tandem::rules
