// A port's ARP and ND security settings as one immutable snapshot: trusted or inspected, the
// sender subnets, the ARP and ND rates, and whether violations are dropped (enforce) or only counted.
// A live reload replaces the whole snapshot (PortRuntime::security, published with release,
// the old one freed after a QSBR grace period), so a worker never sees half of one reload and
// half of another. Workers load the pointer once per ARP or ND frame.
#pragma once

#include <cstdint>

#include "../core/arp_inspection.h"
#include "token_bucket.h"

namespace microarp {

struct PortSecurity {
  bool trusted = false;  // no ARP inspection, no rate limit
  bool router = false;   // RA guard lets Router Advertisements and Redirects in from here
  bool enforce = true;   // violations dropped (false: counted and reported only)
  InspectionPolicy inspection;
  RateLimit arp_rate;  // ARP frames accepted per second
  RateLimit nd_rate;   // Neighbor Discovery messages accepted per second
  // Bumped by each replacement: a worker whose rate limiters were set up from an older
  // snapshot sets them up again.
  uint32_t generation = 0;
};

// One worker's rate limiters for one untrusted port. Each of `workers` polices 1/workers of
// the port's rates: a port's frames spread over the workers' queues.
struct PortRateLimits {
  TokenBucket arp;
  TokenBucket nd;
  uint32_t generation = 0;  // of the PortSecurity they were set up from

  void configure(const PortSecurity& s, uint32_t workers, uint64_t tsc_hz, uint64_t now_tsc) {
    share(arp, s.arp_rate, workers, tsc_hz, now_tsc);
    share(nd, s.nd_rate, workers, tsc_hz, now_tsc);
    generation = s.generation;
  }
  // Set up again if a reload replaced the port's settings since.
  PortRateLimits& follow(const PortSecurity& s, uint32_t workers, uint64_t tsc_hz, uint64_t now_tsc) {
    if (generation != s.generation) configure(s, workers, tsc_hz, now_tsc);
    return *this;
  }

 private:
  static void share(TokenBucket& bucket, const RateLimit& rate, uint32_t workers, uint64_t tsc_hz,
                    uint64_t now_tsc) {
    const uint64_t pps = rate.pps ? (rate.pps + workers - 1) / workers : 0;
    const uint64_t burst = rate.burst ? (rate.burst + workers - 1) / workers : pps;
    bucket.configure(pps, burst, tsc_hz);
    bucket.last_tsc = now_tsc;
  }
};

}  // namespace microarp
