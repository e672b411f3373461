#pragma once
// Golden files for user-visible text. TANDEM_UPDATE_GOLDEN=1 rewrites them (review the diff).

#include <cstdlib>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/support/read_file_or_fail.hpp"

namespace tandem::rules::testing {

inline std::string read_text(const std::string& path) { return ::tandem::testing::read_file_or_fail(path); }

inline std::string data_path(const std::string& name) { return std::string(TANDEM_TEST_DATA_DIR) + "/rules/" + name; }

inline void check_golden(const std::string& name, const std::string& actual) {
  const std::string path = data_path(name);
  if (std::getenv("TANDEM_UPDATE_GOLDEN")) {
    std::ofstream(path, std::ios::binary) << actual;
  }
  const std::string expected = read_text(path);
  INFO("golden file tests/data/rules/" << name << " (TANDEM_UPDATE_GOLDEN=1 rewrites it)");
  CHECK(actual == expected);
}

}  // namespace tandem::rules::testing
