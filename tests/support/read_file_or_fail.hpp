#pragma once
// Reading a file a test needs (a golden file, a fixture, a child's log): a file that cannot be
// read ends the test with its path and the reason, never passes as empty text.

#include <string>

#include <catch2/catch.hpp>

#include "common/file.hpp"

namespace tandem::testing {

inline std::string read_file_or_fail(const std::string& path) {
  auto text = tandem::read_file(path);
  if (!text) FAIL("cannot read " << path << ": " << text.error().message());
  return std::move(*text);
}

}  // namespace tandem::testing
