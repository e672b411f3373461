#pragma once
// Strict configuration: one YAML file (tandem.yaml) plus TANDEM_* environment overrides.
//
// Each module reads its own section into its own typed struct through ConfigSection, which
// records the keys it was asked for; finish() reports every other key as unknown, with the key
// path and the nearest valid key. Problems are collected, never thrown, so a user sees all of
// them at once (STYLE.md, errors of the first kind).
//
// Environment overrides: TANDEM_SERVER__LISTEN=0.0.0.0:8080 sets server.listen ("__" separates
// levels, names are lower-cased). An override naming an unknown key is an error like a typo in
// the file. Values from the environment are YAML scalars.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostics.hpp"
#include "common/secret.hpp"

namespace tandem::config {

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
  std::vector<std::string> strings(const std::string& key);
  // A secret is never written in the file: `key: {env: NAME}` or `key: {file: PATH}`.
  // Missing and required: an error. Missing and optional: nullopt.
  std::optional<Secret> secret(const std::string& key, bool required);
  // A nested mapping; an absent key gives an empty section (all defaults).
  ConfigSection section(const std::string& key);
  // Keys of a mapping whose keys are data (e.g. a map of team id to manager), each marked read.
  std::vector<std::string> keys();

  // Adds an error at `key` (or at this section when key is empty), for checks a reader makes.
  void error(const std::string& key, const std::string& message);
  // Reports every key of this section that no call above asked for. Call it after reading.
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

  // Applies TANDEM_* variables from `environment` (name -> value), except those in `ignore`
  // (variables with other meanings, such as TANDEM_CONFIG).
  void apply_environment(const std::map<std::string, std::string>& environment,
                         const std::vector<std::string>& ignore = {"TANDEM_CONFIG"});
  // The process environment as a map, for apply_environment.
  static std::map<std::string, std::string> process_environment();

  ConfigSection root();
  [[nodiscard]] const Diagnostics& diagnostics() const;

  struct Impl;  // opaque; public only so that ConfigSection's implementation can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace tandem::config
