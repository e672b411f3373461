#include "common/clock.hpp"

namespace tandem {

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace tandem
