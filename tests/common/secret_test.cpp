#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/secret.hpp"

using tandem::Secret;

namespace {
// Detects at compile time whether `out << value` compiles.
template <class T>
concept Streamable = requires(std::ostream& out, const T& value) { out << value; };
}  // namespace

static_assert(!Streamable<Secret>, "a Secret must not have a stream operator");

TEST_CASE("a secret never appears in a JSON dump") {
  Secret secret("hunter2-very-secret");
  nlohmann::json j = {{"client_id", "abc"}, {"client_secret", secret}};
  auto dumped = j.dump();
  CHECK(dumped.find("hunter2") == std::string::npos);
  CHECK(j["client_secret"] == "[redacted]");
}

TEST_CASE("a secret never appears in a log line") {
  std::ostringstream sink;
  tandem::set_log_sink(&sink);
  tandem::Logger("oauth").warn("refresh failed", {{"refresh_token", Secret("rt-abcdef-123456")}, {"portal", 42}});
  tandem::set_log_sink(nullptr);
  auto line = sink.str();
  CHECK(line.find("rt-abcdef") == std::string::npos);
  CHECK(line.find("[redacted]") != std::string::npos);
  CHECK(nlohmann::json::parse(line)["portal"] == 42);
}

TEST_CASE("secrets compare in constant time and correctly") {
  Secret a("abc"), b("abc"), c("abd"), d("abcd");
  CHECK(a == b);
  CHECK_FALSE(a == c);
  CHECK_FALSE(a == d);
  CHECK(a.equals("abc"));
  CHECK_FALSE(a.equals(""));
  CHECK(tandem::constant_time_equals("", ""));
}

TEST_CASE("secrets are read from the environment and from files") {
  ::setenv("TANDEM_SECRET_TEST", "from-env", 1);
  CHECK(Secret::from_env("TANDEM_SECRET_TEST")->reveal() == "from-env");
  CHECK_FALSE(Secret::from_env("TANDEM_SECRET_TEST_UNSET"));
  std::string path = std::tmpnam(nullptr);
  std::ofstream(path) << "from-file\n";
  CHECK(Secret::from_file(path)->reveal() == "from-file");
  std::remove(path.c_str());
  CHECK_FALSE(Secret::from_file(path));
}
