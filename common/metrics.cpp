#include "common/metrics.hpp"

#include <cassert>
#include <charconv>
#include <cmath>
#include <string_view>

namespace tandem {
namespace {

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string render_labels(const Labels& labels, const std::string& extra_key = {}, const std::string& extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + escape_label(v) + '"';
  }
  if (!extra_key.empty()) {
    if (!first) out += ',';
    out += extra_key + "=\"" + extra_value + '"';
  }
  return out + '}';
}

// The shortest text that reads back as the same double (0.0005, not 0.00050000000000000001), in
// the layout of Go's strconv.FormatFloat(v, 'g', -1, 64), which the Prometheus client libraries
// write: exponent form only below 1e-4 or from 1e6 on (1.5e+06, 1e-05). Keeping that layout
// keeps our `le` labels identical to those of other exporters with the same buckets.
std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == 0) return "0";  // also -0
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  assert(ec == std::errc{});
  const std::string_view scientific(buf, static_cast<std::size_t>(end - buf));
  int exponent = 0;
  const auto e = scientific.find('e');
  std::from_chars(scientific.data() + e + (scientific[e + 1] == '+' ? 2 : 1), scientific.data() + scientific.size(),
                  exponent);
  if (exponent < -4 || exponent >= 6) return std::string(scientific);
  const auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  assert(fixed.ec == std::errc{});
  return {buf, fixed.ptr};
}

void atomic_add(std::atomic<double>& target, double by) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + by, std::memory_order_relaxed)) {
  }
}

}  // namespace

void Gauge::add(double by) { atomic_add(value_, by); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, value);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& help, Kind kind) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.kind = kind;
    it->second.help = help;
  }
  // The same name registered as two kinds is a programming error, not outside input.
  assert(it->second.kind == kind);
  return it->second;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, Kind::kCounter).counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, Kind::kGauge).gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      std::vector<double> upper_bounds, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, Kind::kHistogram).histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(std::move(upper_bounds));
  return *slot;
}

std::vector<double> MetricsRegistry::latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + ' ' + f.help + '\n';
    switch (f.kind) {
      case Kind::kCounter:
        out += "# TYPE " + name + " counter\n";
        for (const auto& [labels, c] : f.counters) out += name + render_labels(labels) + ' ' + std::to_string(c->value()) + '\n';
        break;
      case Kind::kGauge:
        out += "# TYPE " + name + " gauge\n";
        for (const auto& [labels, g] : f.gauges) out += name + render_labels(labels) + ' ' + number(g->value()) + '\n';
        break;
      case Kind::kHistogram:
        out += "# TYPE " + name + " histogram\n";
        for (const auto& [labels, h] : f.histograms) {
          auto counts = h->cumulative_counts();
          const auto& bounds = h->upper_bounds();
          for (std::size_t i = 0; i < counts.size(); ++i) {
            std::string le = i < bounds.size() ? number(bounds[i]) : "+Inf";
            out += name + "_bucket" + render_labels(labels, "le", le) + ' ' + std::to_string(counts[i]) + '\n';
          }
          out += name + "_sum" + render_labels(labels) + ' ' + number(h->sum()) + '\n';
          out += name + "_count" + render_labels(labels) + ' ' + std::to_string(h->count()) + '\n';
        }
        break;
    }
  }
  return out;
}

}  // namespace tandem
