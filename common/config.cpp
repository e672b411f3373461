#include "common/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "common/file.hpp"

extern char** environ;

namespace tandem::config {

std::optional<bool> parse_boolean(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

namespace {

std::optional<std::int64_t> parse_integer(const std::string& text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::string joined(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

}  // namespace

struct Document::Impl {
  std::string name;
  std::string text;
  YAML::Node root{YAML::NodeType::Map};
  Diagnostics own;
  Diagnostics* sink = &own;                             // `own`, or the caller's (adopt)
  std::map<std::string, std::string> from_environment;  // key path -> variable that set it
};

struct ConfigSection::Impl {
  std::shared_ptr<Document::Impl> doc;
  YAML::Node node;  // a mapping, or undefined when the section is absent
  std::string path;
  std::string noun;  // when set, diagnostics name the section by it instead of by `path`
  std::set<std::string> asked;
  std::vector<std::string> asked_in_order;  // for "valid keys: ..." in the order the reader reads them
  bool finished = false;

  Impl(std::shared_ptr<Document::Impl> d, YAML::Node n, std::string p, std::string what = {})
      : doc(std::move(d)), node(std::move(n)), path(std::move(p)), noun(std::move(what)) {}

  void ask(const std::string& key) {
    if (asked.insert(key).second) asked_in_order.push_back(key);
  }

  std::string key_path(const std::string& key) const { return path.empty() ? key : path + '.' + key; }

  // The first entry with this key (a later duplicate is reported by finish()).
  std::optional<std::pair<YAML::Node, YAML::Node>> entry(const std::string& key) const {
    if (!node.IsMap()) return std::nullopt;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return std::make_pair(it->first, it->second);
    }
    return std::nullopt;
  }

  std::optional<YAML::Node> child(const std::string& key) const {
    auto e = entry(key);
    if (!e) return std::nullopt;
    return e->second;
  }

  YAML::Mark mark_of_key(const std::string& key) const {
    auto e = entry(key);
    return e ? e->first.Mark() : node.Mark();
  }

  void report_at(const YAML::Mark& mark, const std::string& message) const {
    if (mark.is_null() || mark.line < 0) {
      doc->sink->error(doc->name, 0, 0, message);
      return;
    }
    doc->sink->error(doc->name, mark.line + 1, mark.column + 1, message, source_line_of(doc->text, mark.line + 1));
  }

  void report(const std::string& key, const YAML::Mark& mark, const std::string& message) const {
    if (!noun.empty()) {
      report_at(mark, message);
      return;
    }
    std::string full = key_path(key);
    if (auto env = doc->from_environment.find(full); env != doc->from_environment.end()) {
      doc->sink->error("environment", 0, 0, env->second + " (" + full + "): " + message);
      return;
    }
    report_at(mark, (full.empty() ? std::string("configuration") : full) + ": " + message);
  }

  // The scalar at key, or nullopt (absent, or an error already reported).
  std::optional<std::string> scalar(const std::string& key, const char* expected) {
    ask(key);
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
  auto whole = parse_integer(*value);
  if (!whole) {
    impl_->report(key, impl_->child(key)->Mark(), "'" + *value + "' is not a whole number");
    return fallback;
  }
  const std::int64_t parsed = *whole;
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
  if (auto b = parse_boolean(*value)) return *b;
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
  impl_->ask(key);
  auto value = impl_->child(key);
  std::vector<std::string> out;
  if (!value || value->IsNull()) return out;
  if (value->IsScalar() && impl_->doc->from_environment.contains(impl_->key_path(key))) {
    // An environment variable holds one string: a comma-separated list.
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

std::vector<std::int64_t> ConfigSection::integers(const std::string& key, std::int64_t min, std::int64_t max) {
  impl_->ask(key);
  auto value = impl_->child(key);
  std::vector<std::int64_t> out;
  if (!value || value->IsNull()) return out;
  if (!value->IsSequence()) {
    impl_->report(key, value->Mark(), "expected a list of whole numbers");
    return out;
  }
  for (const auto& item : *value) {
    auto parsed = item.IsScalar() ? parse_integer(item.Scalar()) : std::nullopt;
    if (!parsed) {
      impl_->report(key, item.Mark(), "expected a list of whole numbers");
      continue;
    }
    if (*parsed < min || *parsed > max) {
      impl_->report(
          key, item.Mark(),
          std::to_string(*parsed) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
      continue;
    }
    out.push_back(*parsed);
  }
  return out;
}

std::string ConfigSection::base_url(const std::string& key, const std::string& fallback) {
  auto value = impl_->scalar(key, "a URL");
  if (!value) return fallback;
  std::string url = *value;
  if (url.empty()) return url;
  auto scheme_end = url.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  bool ok = (scheme == "http" || scheme == "https") && url.size() > scheme_end + 3 && url[scheme_end + 3] != '/';
  if (ok && url.find_first_of("?# \t") != std::string::npos) ok = false;
  if (!ok) {
    impl_->report(
        key, impl_->child(key)->Mark(),
        "'" + url + "' is not an http:// or https:// URL without query or fragment (e.g. https://tandem.example.com)");
    return fallback;
  }
  while (url.size() > scheme_end + 3 && url.back() == '/') url.pop_back();
  return url;
}

std::optional<std::string> ConfigSection::file_contents(const std::string& key) {
  auto path = impl_->scalar(key, "a file path");
  if (!path) return std::nullopt;
  if (path->empty()) {
    impl_->report(key, impl_->child(key)->Mark(), "expected a file path");
    return std::nullopt;
  }
  auto contents = read_file(*path);
  if (!contents) {
    impl_->report(key, impl_->child(key)->Mark(), "cannot read " + *path + ": " + contents.error().message());
    return std::nullopt;
  }
  return std::move(*contents);
}

std::optional<Secret> ConfigSection::secret(const std::string& key, bool required) {
  impl_->ask(key);
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
  ConfigSection source(std::make_shared<Impl>(impl_->doc, *value, impl_->key_path(key)));
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
  impl_->ask(key);
  auto value = impl_->child(key);
  YAML::Node node;
  if (value && !value->IsNull()) {
    if (value->IsMap()) node = *value;
    else impl_->report(key, value->Mark(), "expected a mapping of keys to values");
  }
  return ConfigSection(std::make_shared<Impl>(impl_->doc, node, impl_->key_path(key)));
}

std::vector<ConfigSection> ConfigSection::sections(const std::string& key) {
  impl_->ask(key);
  auto value = impl_->child(key);
  std::vector<ConfigSection> out;
  if (!value || value->IsNull()) return out;
  if (!value->IsSequence()) {
    impl_->report(key, value->Mark(), "expected a list");
    return out;
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    const YAML::Node item = (*value)[i];
    const std::string item_key = key + '[' + std::to_string(i) + ']';
    if (!item.IsMap()) {
      impl_->report(item_key, item.Mark(), "expected a mapping of keys to values");
      continue;
    }
    out.push_back(ConfigSection(std::make_shared<Impl>(impl_->doc, item, impl_->key_path(item_key))));
  }
  return out;
}

std::vector<std::string> ConfigSection::keys() {
  std::vector<std::string> out;
  if (!impl_->node.IsMap()) return out;
  for (auto it = impl_->node.begin(); it != impl_->node.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    out.push_back(it->first.Scalar());
    impl_->ask(it->first.Scalar());
  }
  return out;
}

bool ConfigSection::raw(const std::string& key,
                        const std::function<void(const YAML::Node& key, const YAML::Node& value)>& read) {
  impl_->ask(key);
  auto e = impl_->entry(key);
  if (!e) return false;
  read(e->first, e->second);
  return true;
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
  const auto& valid = impl_->asked_in_order;
  const bool by_noun = !impl_->noun.empty();
  std::set<std::string> seen;
  for (auto it = impl_->node.begin(); it != impl_->node.end(); ++it) {
    if (!it->first.IsScalar()) {
      impl_->report("", it->first.Mark(),
                    by_noun ? "keys in " + impl_->noun + " must be plain words"
                            : "keys must be plain words, not lists or mappings");
      continue;
    }
    const std::string key = it->first.Scalar();
    if (!seen.insert(key).second) {
      // yaml-cpp keeps both; one reader would take the first, another the last.
      impl_->report(key, it->first.Mark(), by_noun ? "'" + key + "' is given twice in " + impl_->noun : "given twice");
      continue;
    }
    if (impl_->asked.contains(key)) continue;
    const std::string near = nearest_match(key, valid);
    std::string message = by_noun ? "unknown key '" + key + "' in " + impl_->noun : std::string("unknown key");
    if (!near.empty())
      message += "; did you mean '" + near + "'?";
    else if (!valid.empty())
      message += by_noun ? " (known keys: " + joined(valid, " ") + ")" : " (valid keys: " + joined(valid, ", ") + ")";
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
      doc.impl_->sink->error(doc.impl_->name, root.Mark().line + 1, root.Mark().column + 1,
                             "the configuration must be a mapping of sections",
                             source_line_of(doc.impl_->text, root.Mark().line + 1));
    }
  } catch (const YAML::Exception& e) {
    doc.impl_->sink->error(doc.impl_->name, e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg,
                           source_line_of(doc.impl_->text, e.mark.line + 1));
  }
  return doc;
}

Document Document::load(const std::string& path) {
  auto text = read_file(path);
  if (!text) {
    Document doc = parse("", path);
    doc.impl_->sink->error(path, 0, 0, "cannot read the file: " + text.error().message());
    return doc;
  }
  return parse(std::move(*text), path);
}

Document Document::adopt(const YAML::Node& root, std::string text, std::string name, Diagnostics& sink) {
  Document doc;
  doc.impl_ = std::make_shared<Impl>();
  doc.impl_->name = std::move(name);
  doc.impl_->text = std::move(text);
  doc.impl_->root = root;
  doc.impl_->sink = &sink;
  return doc;
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
      impl_->sink->error("environment", 0, 0, name + ": cannot be read as a configuration key path");
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
        impl_->sink->error("environment", 0, 0, name + ": " + path + " is not a section");
        ok = false;
      }
      node.reset(next);
    }
    if (!ok) continue;
    node[parts.back()] = value;
    impl_->from_environment[path.empty() ? parts.back() : path + '.' + parts.back()] = name;
  }
}

ConfigSection Document::root() { return ConfigSection(std::make_shared<ConfigSection::Impl>(impl_, impl_->root, "")); }

ConfigSection Document::section_at(const YAML::Node& mapping, std::string noun) {
  YAML::Node node = mapping.IsMap() ? mapping : YAML::Node();
  return ConfigSection(std::make_shared<ConfigSection::Impl>(impl_, node, "", std::move(noun)));
}

const Diagnostics& Document::diagnostics() const { return *impl_->sink; }

}  // namespace tandem::config
