#pragma once
// The one strict walker over YAML files people edit: tandem.yaml (plus TANDEM_* environment
// overrides), the sandbox configuration, rule files.
//
// Each module reads its own section into its own typed struct through ConfigSection, which
// records the keys it was asked for; finish() reports every other key as unknown, with the key
// path and the nearest valid key, and every key given twice. Problems are collected, never
// thrown, so a user sees all of them at once (STYLE.md, errors of the first kind).
//
// A section is named in diagnostics by its key path ("server.tls.certificate_file: ...") or, for
// files whose readers walk the YAML themselves (rule files), by a noun given by the reader
// ("unknown key 'nme' in a qualify rule; did you mean 'name'?").
//
// Booleans are YAML 1.2 core `true` and `false`, lower case, and nothing else: YAML 1.1 spellings
// (yes/no/on/off/y/n) mean a boolean to some readers and a string to others.
//
// Environment overrides: TANDEM_SERVER__LISTEN=0.0.0.0:8080 sets server.listen ("__" separates
// levels, names are lower-cased). An override naming an unknown key is an error like a typo in
// the file. Values from the environment are YAML scalars.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostics.hpp"
#include "common/secret.hpp"

namespace YAML {
class Node;
}

namespace tandem::config {

// `true` or `false`; nullopt for anything else (the one spelling of a boolean in every file).
std::optional<bool> parse_boolean(std::string_view text);

class Document;

class ConfigSection {
 public:
  // "server.listen"-style path of this section ("" for the root).
  [[nodiscard]] const std::string& path() const;
  [[nodiscard]] bool has(const std::string& key) const;

  std::string string(const std::string& key, const std::string& fallback);
  std::optional<std::string> optional_string(const std::string& key);
  // One of `allowed`; anything else is an error listing them.
  std::string choice(const std::string& key, const std::string& fallback, const std::vector<std::string>& allowed);
  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max);
  double number(const std::string& key, double fallback, double min, double max);
  bool boolean(const std::string& key, bool fallback);
  // "250ms", "30s", "5m", "2h", "14d" (a bare number is seconds).
  std::chrono::milliseconds duration(const std::string& key, std::chrono::milliseconds fallback);
  // "512", "64KiB", "1MiB", "1GiB" (also KB/MB/GB as powers of 1000).
  std::uint64_t bytes(const std::string& key, std::uint64_t fallback);
  // A YAML list of strings (from the environment: a comma-separated list).
  std::vector<std::string> strings(const std::string& key);
  // A YAML list of whole numbers, each within [min, max].
  std::vector<std::int64_t> integers(const std::string& key, std::int64_t min, std::int64_t max);
  // An http:// or https:// URL to which paths are appended ("https://tandem.example.com",
  // "https://example.com/hooks"): a trailing '/' is removed, so that appending "/webhooks/hubspot"
  // never makes "...//webhooks/hubspot". No query or fragment.
  std::string base_url(const std::string& key, const std::string& fallback);
  // The contents of the file whose path is at `key`, read now, so that a missing or unreadable
  // file is reported with the key's position before anything starts. nullopt when absent or
  // unreadable (then reported).
  std::optional<std::string> file_contents(const std::string& key);
  // A secret is never written in the file: `key: {env: NAME}` or `key: {file: PATH}`.
  // Missing and required: an error. Missing and optional: nullopt.
  std::optional<Secret> secret(const std::string& key, bool required);
  // A nested mapping; an absent key gives an empty section (all defaults).
  ConfigSection section(const std::string& key);
  // A list of mappings, one section each (paths "key[0]", "key[1]", ...); items that are not
  // mappings are reported and left out. Call finish() on each.
  std::vector<ConfigSection> sections(const std::string& key);
  // Keys of a mapping whose keys are data (e.g. a map of team id to manager), each marked read.
  std::vector<std::string> keys();

  // For readers with a value grammar of their own (rule files): when `key` is present, marks it
  // read and calls `read` with its key and value nodes (the key's mark is where diagnostics
  // about it point). Returns whether it was present. Needs <yaml-cpp/yaml.h> at the call site.
  bool raw(const std::string& key, const std::function<void(const YAML::Node& key, const YAML::Node& value)>& read);

  // Adds an error at `key` (or at this section when key is empty), for checks a reader makes.
  void error(const std::string& key, const std::string& message);
  // Reports every key of this section that no call above asked for, every key given more than
  // once and every key that is not a plain scalar. Call it after reading.
  void finish();

 private:
  friend class Document;
  struct Impl;
  explicit ConfigSection(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

class Document {
 public:
  // Parses YAML text; `name` is the file name used in diagnostics. A syntax error is recorded
  // in diagnostics() and leaves an empty document.
  static Document parse(std::string text, std::string name);
  // Reads a file; an unreadable file is recorded in diagnostics().
  static Document load(const std::string& path);
  // A document over YAML its caller parsed itself (after limits of its own on the input). `text`
  // is the source `root` came from (for the source line under each diagnostic); diagnostics go
  // to `sink`, in the order they are found, interleaved with the caller's own. `sink` must
  // outlive the document and its sections.
  static Document adopt(const YAML::Node& root, std::string text, std::string name, Diagnostics& sink);

  // Applies TANDEM_* variables from `environment` (name -> value), except those in `ignore`
  // (variables with other meanings, such as TANDEM_CONFIG).
  void apply_environment(const std::map<std::string, std::string>& environment,
                         const std::vector<std::string>& ignore = {"TANDEM_CONFIG"});
  // The process environment as a map, for apply_environment.
  static std::map<std::string, std::string> process_environment();

  ConfigSection root();
  // A section over a mapping anywhere in this document, named in diagnostics by `noun` ("a
  // qualify rule", "the rule file") instead of a key path. A node that is not a mapping gives an
  // empty section: the caller reports the wrong shape in its own words.
  ConfigSection section_at(const YAML::Node& mapping, std::string noun);
  [[nodiscard]] const Diagnostics& diagnostics() const;

  struct Impl;  // opaque; public only so that ConfigSection's implementation can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace tandem::config
