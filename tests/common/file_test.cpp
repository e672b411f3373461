#include <catch2/catch.hpp>

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "common/file.hpp"

namespace fs = std::filesystem;

TEST_CASE("read_file returns the bytes unchanged, or the reason it could not") {
  const fs::path dir = fs::temp_directory_path() / ("tandem-file-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "data.bin").string();
  std::string bytes = "line 1\r\nline 2\n";
  bytes += '\0';
  bytes += std::string(200'000, 'x');  // beyond one read buffer
  std::ofstream(path, std::ios::binary) << bytes;

  auto read = tandem::read_file(path);
  REQUIRE(read);
  CHECK(*read == bytes);

  auto missing = tandem::read_file((dir / "missing").string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == std::errc::no_such_file_or_directory);

  auto directory = tandem::read_file(dir.string());
  REQUIRE_FALSE(directory);
  CHECK(directory.error() == std::errc::is_a_directory);
  fs::remove_all(dir);
}
