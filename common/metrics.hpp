#pragma once
// Counters, gauges and histograms, rendered in the Prometheus text exposition format (0.0.4)
// for /metrics. Updating a metric is lock-free; registering one takes a lock.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tandem {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  void inc(std::uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double by);
  [[nodiscard]] double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  [[nodiscard]] const std::vector<double>& upper_bounds() const { return bounds_; }
  // Cumulative count per bucket (the last is +Inf), the sum and the total count.
  [[nodiscard]] std::vector<std::uint64_t> cumulative_counts() const;
  [[nodiscard]] double sum() const { return sum_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // one per bound, plus +Inf
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// Names follow Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*); registering the same name and labels
// twice returns the same metric; the same name with another kind is a programming error.
// References stay valid for the registry's lifetime.
class MetricsRegistry {
 public:
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> upper_bounds,
                       const Labels& labels = {});
  [[nodiscard]] std::string render() const;

  // Latency buckets in seconds, 0.5 ms to 10 s.
  static std::vector<double> latency_buckets();

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Family {
    Kind kind;
    std::string help;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(const std::string& name, const std::string& help, Kind kind);
  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace tandem
