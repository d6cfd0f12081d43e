// A port's ARP and ND security settings as one immutable snapshot: trusted or inspected, the
// sender subnets, the ARP rate, and whether violations are dropped (enforce) or only counted.
// A live reload replaces the whole snapshot (PortRuntime::security, published with release,
// the old one freed after a QSBR grace period), so a worker never sees half of one reload and
// half of another. Workers load the pointer once per ARP frame.
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
  uint32_t arp_rate_pps = 0;  // 0: no ARP rate limit
  uint32_t arp_burst = 0;
  // Bumped by each replacement: a worker whose rate limiter was set up from an older
  // snapshot sets it up again.
  uint32_t generation = 0;
};

// One worker's share of the port's ARP rate: each of `workers` polices 1/workers of it.
inline void configure_arp_rate(TokenBucket& bucket, const PortSecurity& s, uint32_t workers,
                               uint64_t tsc_hz, uint64_t now_tsc) {
  const uint64_t share = s.arp_rate_pps ? (s.arp_rate_pps + workers - 1) / workers : 0;
  const uint64_t burst = s.arp_burst ? (s.arp_burst + workers - 1) / workers : share;
  bucket.configure(share, burst, tsc_hz);
  bucket.last_tsc = now_tsc;
}

}  // namespace microarp
