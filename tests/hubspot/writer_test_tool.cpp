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
  tandem::connector::WritePathOptions o;
  o.client.base_url = argv[2];
  o.client.timeout = 10s;
  o.limits.per_ten_seconds = 90'000;
  o.limits.search_per_second = 900;
  o.writer.settle = 3s;
  o.writer.retry.base = 20ms;
  o.writer.retry.cap = 500ms;
  tandem::testing::WriterHarness writer(argv[1], tokens, o);
  writer.start();
  while (writer.pending() > 0) std::this_thread::sleep_for(50ms);
  writer.stop();
  return 0;
}
