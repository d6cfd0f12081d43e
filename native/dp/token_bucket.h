// Rate limits on a worker's hot path.
#pragma once

#include <cstdint>

namespace microarp {

// A token bucket kept in TSC ticks of credit: a token costs tsc_hz / rate ticks, so taking
// one is a compare and a subtraction, with no division on the hot path. Owned by one worker
// (each worker polices its own share of a port's rate); no syscall, no lock.
// A rate as the operator configures it for a port: frames per second and the burst above it.
struct RateLimit {
  uint32_t pps = 0;    // 0: no limit
  uint32_t burst = 0;  // 0: pps
};

struct TokenBucket {
  uint64_t cost = 0;        // ticks per token; 0 = unlimited
  uint64_t depth = 0;       // credit when full: burst tokens' worth of ticks
  uint64_t credit = 0;
  uint64_t last_tsc = 0;

  void configure(uint64_t per_second, uint64_t burst, uint64_t tsc_hz) {
    cost = per_second ? tsc_hz / per_second : 0;
    if (per_second && cost == 0) cost = 1;
    depth = (burst ? burst : per_second) * cost;
    credit = depth;
  }
  bool take(uint64_t now_tsc) {
    if (cost == 0) return true;
    credit += now_tsc - last_tsc;
    last_tsc = now_tsc;
    if (credit > depth) credit = depth;
    if (credit < cost) return false;
    credit -= cost;
    return true;
  }
};

}  // namespace microarp
