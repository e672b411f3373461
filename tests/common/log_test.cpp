#include <catch2/catch.hpp>

#include <sstream>

#include "common/log.hpp"

using namespace tandem;

namespace {
std::vector<nlohmann::json> lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}
}  // namespace

TEST_CASE("every log line is one JSON object with time, level, component, message and fields") {
  std::ostringstream sink;
  set_log_sink(&sink);
  configure_logging({});
  Logger("webhooks").info("batch stored", {{"events", 3}, {"portal", 62515}});
  set_log_sink(nullptr);
  auto parsed = lines(sink.str());
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0]["level"] == "info");
  CHECK(parsed[0]["component"] == "webhooks");
  CHECK(parsed[0]["message"] == "batch stored");
  CHECK(parsed[0]["events"] == 3);
  CHECK(parsed[0]["time"].get<std::string>().size() == 24);  // 2026-01-01T00:00:00.000Z
}

TEST_CASE("levels are set per component") {
  std::ostringstream sink;
  set_log_sink(&sink);
  LogSettings settings;
  settings.level = LogLevel::kWarn;
  settings.components["http.server"] = LogLevel::kDebug;
  configure_logging(settings);
  Logger("http.server").debug("shown");
  Logger("rules").info("hidden");
  Logger("rules").error("shown too");
  configure_logging({});
  set_log_sink(nullptr);
  auto parsed = lines(sink.str());
  REQUIRE(parsed.size() == 2);
  CHECK(parsed[0]["message"] == "shown");
  CHECK(parsed[1]["message"] == "shown too");
}

TEST_CASE("invalid UTF-8 in a field does not throw out of a log call") {
  std::ostringstream sink;
  set_log_sink(&sink);
  configure_logging({});
  CHECK_NOTHROW(Logger("webhooks").warn("bad body", {{"body", std::string("\xff\xfe bad")}}));
  set_log_sink(nullptr);
  CHECK(lines(sink.str()).size() == 1);
}
