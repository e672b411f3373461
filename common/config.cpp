#include "common/config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

extern char** environ;

namespace tandem::config {

struct Document::Impl {
  std::string name;
  std::string text;
  YAML::Node root{YAML::NodeType::Map};
  Diagnostics diagnostics;
  std::map<std::string, std::string> from_environment;  // key path -> variable that set it
};

struct ConfigSection::Impl {
  std::shared_ptr<Document::Impl> doc;
  YAML::Node node;  // a mapping, or undefined when the section is absent
  std::string path;
  std::set<std::string> asked;
  bool finished = false;

  std::string key_path(const std::string& key) const { return path.empty() ? key : path + '.' + key; }

  std::optional<YAML::Node> child(const std::string& key) const {
    if (!node.IsMap()) return std::nullopt;
    const YAML::Node& self = node;
    YAML::Node value = self[key];
    if (!value.IsDefined()) return std::nullopt;
    return value;
  }

  YAML::Mark mark_of_key(const std::string& key) const {
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == key) return it->first.Mark();
      }
    }
    return node.Mark();
  }

  void report(const std::string& key, const YAML::Mark& mark, const std::string& message) const {
    std::string full = key_path(key);
    if (auto env = doc->from_environment.find(full); env != doc->from_environment.end()) {
      doc->diagnostics.error("environment", 0, 0, env->second + " (" + full + "): " + message);
      return;
    }
    if (mark.is_null()) {
      doc->diagnostics.error(doc->name, 0, 0, (full.empty() ? std::string("configuration") : full) + ": " + message);
      return;
    }
    doc->diagnostics.error(doc->name, mark.line + 1, mark.column + 1,
                           (full.empty() ? std::string("configuration") : full) + ": " + message,
                           source_line_of(doc->text, mark.line + 1));
  }

  // The scalar at key, or nullopt (absent, or an error already reported).
  std::optional<std::string> scalar(const std::string& key, const char* expected) {
    asked.insert(key);
    auto value = child(key);
    if (!value || value->IsNull()) return std::nullopt;
    if (!value->IsScalar()) {
      report(key, value->Mark(), std::string("expected ") + expected);
      return std::nullopt;
    }
    return value->Scalar();
  }
};

ConfigSection::ConfigSection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

const std::string& ConfigSection::path() const { return impl_->path; }

bool ConfigSection::has(const std::string& key) const { return impl_->child(key).has_value(); }

std::string ConfigSection::string(const std::string& key, const std::string& fallback) {
  return impl_->scalar(key, "a string").value_or(fallback);
}

std::optional<std::string> ConfigSection::optional_string(const std::string& key) { return impl_->scalar(key, "a string"); }

std::string ConfigSection::choice(const std::string& key, const std::string& fallback, const std::vector<std::string>& allowed) {
  auto value = impl_->scalar(key, "a string");
  if (!value) return fallback;
  if (std::find(allowed.begin(), allowed.end(), *value) != allowed.end()) return *value;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  std::string message = "'" + *value + "' is not one of: " + list;
  if (auto near = nearest_match(*value, allowed); !near.empty()) message += "; did you mean '" + near + "'?";
  impl_->report(key, impl_->child(key)->Mark(), message);
  return fallback;
}

std::int64_t ConfigSection::integer(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
  auto value = impl_->scalar(key, "a whole number");
  if (!value) return fallback;
  std::int64_t parsed = 0;
  std::size_t used = 0;
  try {
    parsed = std::stoll(*value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value->size()) {
    impl_->report(key, impl_->child(key)->Mark(), "'" + *value + "' is not a whole number");
    return fallback;
  }
  if (parsed < min || parsed > max) {
    impl_->report(key, impl_->child(key)->Mark(),
                  std::to_string(parsed) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return fallback;
  }
  return parsed;
}

double ConfigSection::number(const std::string& key, double fallback, double min, double max) {
  auto value = impl_->scalar(key, "a number");
  if (!value) return fallback;
  double parsed = 0;
  std::size_t used = 0;
  try {
    parsed = std::stod(*value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value->size() || !std::isfinite(parsed)) {
    impl_->report(key, impl_->child(key)->Mark(), "'" + *value + "' is not a number");
    return fallback;
  }
  if (parsed < min || parsed > max) {
    std::ostringstream range;
    range << "[" << min << ", " << max << "]";
    impl_->report(key, impl_->child(key)->Mark(), *value + " is out of range " + range.str());
    return fallback;
  }
  return parsed;
}

bool ConfigSection::boolean(const std::string& key, bool fallback) {
  auto value = impl_->scalar(key, "true or false");
  if (!value) return fallback;
  if (*value == "true") return true;
  if (*value == "false") return false;
  impl_->report(key, impl_->child(key)->Mark(), "'" + *value + "' is not true or false");
  return fallback;
}

namespace {

// Splits "30s" into 30 and "s".
bool split_quantity(const std::string& text, double& amount, std::string& unit) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return false;
  try {
    amount = std::stod(text.substr(0, i));
  } catch (const std::exception&) {
    return false;
  }
  std::size_t j = i;
  while (j < text.size() && text[j] == ' ') ++j;
  unit = text.substr(j);
  return true;
}

}  // namespace

std::chrono::milliseconds ConfigSection::duration(const std::string& key, std::chrono::milliseconds fallback) {
  auto value = impl_->scalar(key, "a duration");
  if (!value) return fallback;
  double amount = 0;
  std::string unit;
  static const std::map<std::string, double> kUnits = {
      {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"min", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  if (!split_quantity(*value, amount, unit) || !kUnits.contains(unit)) {
    impl_->report(key, impl_->child(key)->Mark(), "'" + *value + "' is not a duration (examples: 250ms, 30s, 5m, 2h, 14d)");
    return fallback;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(amount * kUnits.at(unit))));
}

std::uint64_t ConfigSection::bytes(const std::string& key, std::uint64_t fallback) {
  auto value = impl_->scalar(key, "a size");
  if (!value) return fallback;
  double amount = 0;
  std::string unit;
  static const std::map<std::string, double> kUnits = {{"", 1},          {"B", 1},           {"KiB", 1024.0},
                                                       {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"KB", 1e3},
                                                       {"MB", 1e6},        {"GB", 1e9}};
  if (!split_quantity(*value, amount, unit) || !kUnits.contains(unit)) {
    impl_->report(key, impl_->child(key)->Mark(), "'" + *value + "' is not a size (examples: 512, 64KiB, 1MiB)");
    return fallback;
  }
  return static_cast<std::uint64_t>(std::llround(amount * kUnits.at(unit)));
}

std::vector<std::string> ConfigSection::strings(const std::string& key) {
  impl_->asked.insert(key);
  auto value = impl_->child(key);
  std::vector<std::string> out;
  if (!value || value->IsNull()) return out;
  if (value->IsScalar()) {  // from the environment: a comma-separated list
    std::stringstream ss(value->Scalar());
    for (std::string item; std::getline(ss, item, ',');) {
      if (!item.empty()) out.push_back(item);
    }
    return out;
  }
  if (!value->IsSequence()) {
    impl_->report(key, value->Mark(), "expected a list of strings");
    return out;
  }
  for (const auto& item : *value) {
    if (!item.IsScalar()) {
      impl_->report(key, item.Mark(), "expected a list of strings");
      continue;
    }
    out.push_back(item.Scalar());
  }
  return out;
}

std::optional<Secret> ConfigSection::secret(const std::string& key, bool required) {
  impl_->asked.insert(key);
  auto value = impl_->child(key);
  if (!value || value->IsNull()) {
    if (required) impl_->report(key, impl_->node.Mark(), "required; give {env: VARIABLE} or {file: PATH}");
    return std::nullopt;
  }
  if (value->IsScalar()) {
    impl_->report(key, value->Mark(),
                  "secrets are not written in configuration; give {env: VARIABLE} or {file: PATH}");
    return std::nullopt;
  }
  ConfigSection source(std::make_shared<Impl>(Impl{impl_->doc, *value, impl_->key_path(key), {}, false}));
  auto env = source.optional_string("env");
  auto file = source.optional_string("file");
  source.finish();
  if (env.has_value() == file.has_value()) {
    impl_->report(key, value->Mark(), "give exactly one of {env: VARIABLE} or {file: PATH}");
    return std::nullopt;
  }
  if (env) {
    auto secret = Secret::from_env(*env);
    if (!secret) {
      if (required) impl_->report(key, value->Mark(), "environment variable " + *env + " is not set");
      return std::nullopt;
    }
    return secret;
  }
  auto secret = Secret::from_file(*file);
  if (!secret) impl_->report(key, value->Mark(), "cannot read secret file " + *file);
  return secret;
}

ConfigSection ConfigSection::section(const std::string& key) {
  impl_->asked.insert(key);
  auto value = impl_->child(key);
  YAML::Node node;
  if (value && !value->IsNull()) {
    if (value->IsMap()) node = *value;
    else impl_->report(key, value->Mark(), "expected a mapping of keys to values");
  }
  return ConfigSection(std::make_shared<Impl>(Impl{impl_->doc, node, impl_->key_path(key), {}, false}));
}

std::vector<std::string> ConfigSection::keys() {
  std::vector<std::string> out;
  if (!impl_->node.IsMap()) return out;
  for (auto it = impl_->node.begin(); it != impl_->node.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    out.push_back(it->first.Scalar());
    impl_->asked.insert(it->first.Scalar());
  }
  return out;
}

void ConfigSection::error(const std::string& key, const std::string& message) {
  if (key.empty()) {
    impl_->report("", impl_->node.Mark(), message);
    return;
  }
  auto value = impl_->child(key);
  impl_->report(key, value ? value->Mark() : impl_->mark_of_key(key), message);
}

void ConfigSection::finish() {
  if (impl_->finished || !impl_->node.IsMap()) return;
  impl_->finished = true;
  std::vector<std::string> valid(impl_->asked.begin(), impl_->asked.end());
  for (auto it = impl_->node.begin(); it != impl_->node.end(); ++it) {
    std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (impl_->asked.contains(key)) continue;
    std::string message = "unknown key";
    if (auto near = nearest_match(key, valid); !near.empty()) message += "; did you mean '" + near + "'?";
    else if (!valid.empty()) {
      std::string list;
      for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
      message += " (valid keys: " + list + ")";
    }
    impl_->report(key, it->first.Mark(), message);
  }
}

Document Document::parse(std::string text, std::string name) {
  Document doc;
  doc.impl_ = std::make_shared<Impl>();
  doc.impl_->name = std::move(name);
  doc.impl_->text = std::move(text);
  try {
    YAML::Node root = YAML::Load(doc.impl_->text);
    if (root.IsMap()) {
      doc.impl_->root = root;
    } else if (!root.IsNull() && root.IsDefined()) {
      doc.impl_->diagnostics.error(doc.impl_->name, root.Mark().line + 1, root.Mark().column + 1,
                                   "the configuration must be a mapping of sections",
                                   source_line_of(doc.impl_->text, root.Mark().line + 1));
    }
  } catch (const YAML::Exception& e) {
    doc.impl_->diagnostics.error(doc.impl_->name, e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg,
                                 source_line_of(doc.impl_->text, e.mark.line + 1));
  }
  return doc;
}

Document Document::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Document doc = parse("", path);
    doc.impl_->diagnostics.error(path, 0, 0, "cannot read the configuration file");
    return doc;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path);
}

std::map<std::string, std::string> Document::process_environment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) out.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return out;
}

void Document::apply_environment(const std::map<std::string, std::string>& environment,
                                 const std::vector<std::string>& ignore) {
  static const std::string kPrefix = "TANDEM_";
  for (const auto& [name, value] : environment) {
    if (name.rfind(kPrefix, 0) != 0 || std::find(ignore.begin(), ignore.end(), name) != ignore.end()) continue;
    std::vector<std::string> parts;
    std::string rest = name.substr(kPrefix.size());
    for (std::size_t start = 0;;) {
      auto sep = rest.find("__", start);
      std::string part = rest.substr(start, sep == std::string::npos ? std::string::npos : sep - start);
      std::transform(part.begin(), part.end(), part.begin(), [](unsigned char c) { return std::tolower(c); });
      parts.push_back(part);
      if (sep == std::string::npos) break;
      start = sep + 2;
    }
    if (std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); })) {
      impl_->diagnostics.error("environment", 0, 0, name + ": cannot be read as a configuration key path");
      continue;
    }
    YAML::Node node = impl_->root;
    std::string path;
    bool ok = true;
    for (std::size_t i = 0; i + 1 < parts.size() && ok; ++i) {
      path += (path.empty() ? "" : ".") + parts[i];
      const YAML::Node& const_node = node;
      YAML::Node existing = const_node[parts[i]];
      if (!existing.IsDefined() || existing.IsNull()) node[parts[i]] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = node[parts[i]];
      if (!next.IsMap()) {
        impl_->diagnostics.error("environment", 0, 0, name + ": " + path + " is not a section");
        ok = false;
      }
      node.reset(next);
    }
    if (!ok) continue;
    node[parts.back()] = value;
    impl_->from_environment[path.empty() ? parts.back() : path + '.' + parts.back()] = name;
  }
}

ConfigSection Document::root() {
  return ConfigSection(std::make_shared<ConfigSection::Impl>(ConfigSection::Impl{impl_, impl_->root, "", {}, false}));
}

const Diagnostics& Document::diagnostics() const { return impl_->diagnostics; }

}  // namespace tandem::config
