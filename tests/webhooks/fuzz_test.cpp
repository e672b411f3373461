// Fuzz-style robustness: mutated real payloads, signed and unsigned, straight into the receiver
// (thousands per second, no sockets) and a sample over HTTP. Nothing may crash or hang, every
// request gets exactly one answer, and the inbox holds exactly the events of the 200s.

#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <sstream>

#include "store/sqlite_inbox.hpp"
#include "tests/support/file_inbox.hpp"
#include "tests/support/read_file_or_fail.hpp"
#include "tests/webhooks/webhook_test_support.hpp"
#include "common/log.hpp"
#include "webhooks/event.hpp"

using namespace tandem;
using namespace tandem::webhooks;
using namespace tandem::testing;
using namespace std::chrono_literals;

namespace {

std::string read_fixture(const std::string& name) {
  return read_file_or_fail(std::string(TANDEM_TEST_DATA_DIR) + "/webhooks/" + name);
}

class Mutator {
 public:
  explicit Mutator(std::uint32_t seed) : rng_(seed) {}

  std::string mutate(std::string s) {
    const int rounds = 1 + pick(3);
    for (int r = 0; r < rounds; ++r) {
      if (s.empty()) s = "[";
      const std::size_t at = pick(s.size());
      switch (pick(10)) {
        case 0: s[at] = static_cast<char>(s[at] ^ (1 << pick(8))); break;             // bit flip
        case 1: s.erase(at, 1 + pick(8)); break;                                      // deletion
        case 2: s.insert(at, 1, static_cast<char>(pick(256))); break;                 // random byte
        case 3: s.resize(at); break;                                                  // truncation
        case 4: s.insert(at, s.substr(pick(s.size()), pick(64))); break;              // duplicated slice
        case 5: s.insert(at, kTokens[pick(std::size(kTokens))]); break;               // JSON-ish token
        case 6: replace_number(s, at); break;                                         // extreme numbers
        case 7: s.insert(at, std::string(1 + pick(200), s[at])); break;               // repetition
        case 8: s.insert(at, std::string(pick(2) ? "\xC3" : "\xED\xA0\x80")); break;  // broken UTF-8
        default: s[at] = kJsonChars[pick(std::size(kJsonChars) - 1)]; break;          // structural char
      }
    }
    return s;
  }
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

 private:
  void replace_number(std::string& s, std::size_t at) {
    std::size_t begin = s.find_first_of("0123456789", at);
    if (begin == std::string::npos) return;
    std::size_t end = s.find_first_not_of("0123456789", begin);
    s.replace(begin, end == std::string::npos ? std::string::npos : end - begin, kNumbers[pick(std::size(kNumbers))]);
  }
  static constexpr const char* kTokens[] = {"null", "true", "{}", "[]", "\"\"", ",", ":", "\"eventId\":", "{\"a\":[[[[",
                                            "\\u0000", "\\ud800", "1e400", "-0", "[", "]", "}", "\"", "\\"};
  static constexpr const char* kNumbers[] = {"9223372036854775807", "9223372036854775808", "-9223372036854775809",
                                             "1e308", "0.5", "-1", "00", "1E2", "18446744073709551616"};
  static constexpr char kJsonChars[] = "[]{}:,\"\\";
  std::mt19937 rng_;
};

}  // namespace

TEST_CASE("mutated payloads never crash the receiver and are all answered") {
  TempDir dir;
  ManualClock clock{std::chrono::system_clock::now()};
  store::StoreConfig store_config;
  store_config.path = dir.file("inbox.db");
  testing::FileInbox inbox(store_config, clock);
  MetricsRegistry metrics;
  WebhooksConfig config = test_webhooks_config();
  WebhookReceiver receiver(config, inbox, clock, metrics);
  std::ostringstream log_lines;  // thousands of rejection warnings: keep them out of the test output
  set_log_sink(&log_lines);

  const std::vector<std::string> seeds = {read_fixture("sdk_vector.json"), read_fixture("legacy_doc_example.json"),
                                          read_fixture("generic_property_change.json"), read_fixture("batch_100.json")};
  Mutator mutator(20261122);
  ParseOptions parse_options{config.max_events_per_request, config.app_id};
  std::map<int, int> by_status;
  std::size_t expected_new = 0;
  std::set<std::tuple<std::int64_t, std::int64_t, std::string, std::int64_t, std::int64_t, std::int64_t>> keys;

  constexpr int kIterations = 3000;
  for (int i = 0; i < kIterations; ++i) {
    const std::string& seed = seeds[mutator.pick(seeds.size())];
    const std::string body = mutator.mutate(seed);
    http::Request request = signed_request(body, clock.now());
    const bool forged = mutator.pick(4) == 0;
    if (forged) request.body = seed;  // the signature is the mutated body's: a mismatch
    std::promise<int> answered;
    auto future = answered.get_future();
    receiver.handle(request, http::Responder([&answered](http::Response r) { answered.set_value(r.status); }));
    REQUIRE(future.wait_for(5s) == std::future_status::ready);
    const int status = future.get();
    ++by_status[status];

    auto parsed = parse_events(request.body, parse_options);
    if (forged && request.body != body) {
      CHECK(status == 401);
    } else if (std::holds_alternative<ParseError>(parsed)) {
      CHECK(status == 400);
    } else {
      CHECK(status == 200);
      for (const Event& e : std::get<std::vector<Event>>(parsed)) {
        if (keys.emplace(e.portal_id, e.subscription_id, e.subscription_type, e.object_id, e.event_id, e.occurred_at)
                .second) {
          ++expected_new;
        }
      }
    }
  }
  receiver.stop();
  set_log_sink(nullptr);
  std::ostringstream summary;
  for (auto [status, n] : by_status) summary << status << ": " << n << "  ";
  WARN("fuzz statuses: " << summary.str());
  CHECK(by_status[200] > 0);
  CHECK(by_status[400] > 0);
  CHECK(by_status[401] > 0);
  CHECK(testing::ok(inbox.list({.limit = 1000000})).size() == expected_new);
}

TEST_CASE("mutated payloads over HTTP are answered and the server keeps serving") {
  TempDir dir;
  ManualClock clock{std::chrono::system_clock::now()};
  store::StoreConfig store_config;
  store_config.path = dir.file("inbox.db");
  testing::FileInbox inbox(store_config, clock);
  ReceiverHarness h(inbox, clock);
  const std::string seed = read_fixture("batch_100.json");
  Mutator mutator(7);
  std::vector<http::Request> requests;
  for (int i = 0; i < 150; ++i) requests.push_back(signed_request(mutator.mutate(seed), clock.now()));
  auto statuses = h.post_concurrently(std::move(requests));
  for (int status : statuses) CHECK((status == 200 || status == 400));
  CHECK(h.get("/healthz").status == 200);
  CHECK(h.post(signed_request(read_fixture("sdk_vector.json"), clock.now())).status == 200);
}
