// A child process for the kill -9 run: drains the outbox in the given SQLite file into the
// sandbox until nothing is pending, then exits 0. The test kills it at random moments and starts
// it again.
//   writer_test_tool DB BASE_URL PORTAL TOKEN

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "hubspot/token_source.hpp"
#include "tests/hubspot/write_path_rig.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: writer_test_tool DB BASE_URL PORTAL TOKEN\n";
    return 2;
  }
  std::int64_t portal = std::atoll(argv[3]);
  tandem::hubspot::StaticTokenSource tokens;
  tokens.set(portal, tandem::Secret(argv[4]));
  auto o = tandem::testing::fast_write_options(argv[2]);
  tandem::testing::WriterHarness writer(argv[1], tokens, o);
  writer.start();
  while (writer.pending() > 0) std::this_thread::sleep_for(50ms);
  writer.stop();
  return 0;
}
