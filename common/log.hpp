#pragma once
// JSON-lines logging: one object per line on stderr with time, level, component, message and
// fields. The level is set per component. Secrets serialise as "[redacted]" (common/secret.hpp).

#include <map>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tandem {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

std::string_view to_string(LogLevel level);
// "debug", "info", "warn"/"warning", "error", "off"; nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view text);

struct LogSettings {
  LogLevel level = LogLevel::kInfo;
  std::map<std::string, LogLevel, std::less<>> components;  // overrides by component name
};

// Replaces the process-wide settings. Thread-safe.
void configure_logging(const LogSettings& settings);
// Redirects output (tests); nullptr restores stderr. The stream must outlive its use.
void set_log_sink(std::ostream* sink);

class Logger {
 public:
  explicit Logger(std::string component) : component_(std::move(component)) {}

  [[nodiscard]] bool enabled(LogLevel level) const;
  void log(LogLevel level, std::string_view message, const nlohmann::json& fields = nlohmann::json::object()) const;
  void debug(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) const { log(LogLevel::kDebug, m, f); }
  void info(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) const { log(LogLevel::kInfo, m, f); }
  void warn(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) const { log(LogLevel::kWarn, m, f); }
  void error(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) const { log(LogLevel::kError, m, f); }
  [[nodiscard]] const std::string& component() const { return component_; }

 private:
  std::string component_;
};

}  // namespace tandem
