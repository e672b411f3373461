#pragma once
// Time is injected: code that needs "now" takes a Clock&. Tests use ManualClock and never sleep.

#include <atomic>
#include <chrono>

namespace tandem {

class Clock {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  using SteadyTime = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  // Calendar time, for timestamps that leave the process (webhook timestamps, due dates).
  [[nodiscard]] virtual WallTime now() const = 0;
  // Monotonic time, for timeouts, rate limits and leases.
  [[nodiscard]] virtual SteadyTime steady_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] WallTime now() const override { return std::chrono::system_clock::now(); }
  [[nodiscard]] SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
  // A process-wide instance for composition roots.
  static SystemClock& instance();
};

// Starts at the given wall time; both clocks move only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(WallTime start = WallTime{std::chrono::milliseconds{1'700'000'000'000}})
      : wall_ns_(start.time_since_epoch().count()) {}
  [[nodiscard]] WallTime now() const override { return WallTime{WallTime::duration{wall_ns_.load()}}; }
  [[nodiscard]] SteadyTime steady_now() const override { return SteadyTime{SteadyTime::duration{steady_ns_.load()}}; }
  void advance(std::chrono::nanoseconds by) {
    wall_ns_ += std::chrono::duration_cast<WallTime::duration>(by).count();
    steady_ns_ += std::chrono::duration_cast<SteadyTime::duration>(by).count();
  }
  // Moves the wall clock only (steady time never goes backwards).
  void set(WallTime to) { wall_ns_ = to.time_since_epoch().count(); }

 private:
  std::atomic<WallTime::rep> wall_ns_;
  std::atomic<SteadyTime::rep> steady_ns_{0};
};

// Milliseconds since the Unix epoch, the unit HubSpot uses on the wire.
inline std::int64_t to_epoch_ms(Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline Clock::WallTime from_epoch_ms(std::int64_t ms) { return Clock::WallTime{std::chrono::milliseconds{ms}}; }

}  // namespace tandem
