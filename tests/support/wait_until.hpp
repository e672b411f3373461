#pragma once
// The one way a test waits for something asynchronous (a server thread's write, a delivery, a
// closed connection): poll a condition until it holds. The timeout only bounds a test that would
// otherwise hang; it measures nothing, so choose it generously (seconds, not milliseconds).

#include <chrono>
#include <functional>

namespace tandem::testing {

// Calls `condition` until it returns true or `timeout` has passed, sleeping `interval` between
// calls; the condition is asked once more at the deadline. Returns whether it held, so a test
// writes REQUIRE(wait_until([&] { return ...; }, 5s)). Runs on the calling thread: the
// condition must not need that thread to become true.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(5));

}  // namespace tandem::testing
