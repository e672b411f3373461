#include "common/log.hpp"

#include "common/time_format.hpp"

#include <chrono>
#include <iostream>
#include <mutex>
#include <shared_mutex>

namespace tandem {
namespace {

struct LogState {
  std::shared_mutex settings_mutex;
  LogSettings settings;
  std::mutex write_mutex;
  std::ostream* sink = nullptr;
};

LogState& state() {
  static LogState s;
  return s;
}

std::string iso8601_now() {
  return format_iso8601_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "info";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  if (text == "off") return LogLevel::kOff;
  return std::nullopt;
}

void configure_logging(const LogSettings& settings) {
  std::unique_lock lock(state().settings_mutex);
  state().settings = settings;
}

void set_log_sink(std::ostream* sink) {
  std::lock_guard lock(state().write_mutex);
  state().sink = sink;
}

bool Logger::enabled(LogLevel level) const {
  if (level == LogLevel::kOff) return false;
  std::shared_lock lock(state().settings_mutex);
  const auto& settings = state().settings;
  auto it = settings.components.find(component_);
  LogLevel threshold = it != settings.components.end() ? it->second : settings.level;
  return level >= threshold;
}

void Logger::log(LogLevel level, std::string_view message, const nlohmann::json& fields) const {
  if (!enabled(level)) return;
  nlohmann::json line = {{"time", iso8601_now()},
                         {"level", to_string(level)},
                         {"component", component_},
                         {"message", message}};
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) {
      if (!line.contains(key)) line[key] = value;
    }
  } else if (!fields.is_null()) {
    line["fields"] = fields;
  }
  // Invalid UTF-8 in a field (a hostile webhook body, say) must not throw out of a log call.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(state().write_mutex);
  std::ostream& out = state().sink != nullptr ? *state().sink : std::cerr;
  out << text << '\n';
  out.flush();
}

}  // namespace tandem
