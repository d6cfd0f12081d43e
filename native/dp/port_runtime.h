// Per-port settings the workers read on every burst and the control side may change live.
// One writer (the addon, on Node's thread); workers load them relaxed once per burst.
#pragma once

#include <rte_common.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>

#include "../core/arp_inspection.h"
#include "../core/vlan_policy.h"

namespace microarp {

struct alignas(RTE_CACHE_LINE_SIZE) PortRuntime {
  uint16_t port_id = 0;
  VlanPolicy policy;                       // fixed at start
  std::atomic<bool> admin_up{true};        // down: frames in and out are dropped
  std::atomic<bool> responder_on{true};    // off: ARP requests are switched like any frame
  bool trusted = false;                    // fixed at start: no ARP inspection
  bool drain_greedily = false;             // fixed at start: vhost-user (see drain())
  InspectionPolicy inspection;             // fixed at start
  uint32_t arp_rate_pps = 0;               // 0: no ARP rate limit
  uint32_t arp_burst = 0;
  rte_ring* inject = nullptr;              // frames the control side sends out this port
  // Link state as the driver last reported it (a vhost-user guest connected or not), kept by
  // the link-change callback on the driver's thread; workers read it only to name a drop.
  std::atomic<bool> link_up{true};
  std::atomic<uint64_t> link_ups{0};
  std::atomic<uint64_t> link_downs{0};
};

}  // namespace microarp
