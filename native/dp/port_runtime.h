// Per-port settings the workers read on every burst and the control side may change live.
// One writer (the addon, on Node's thread); workers load them relaxed once per burst.
#pragma once

#include <rte_common.h>

#include <atomic>
#include <cstdint>

#include "../core/vlan_policy.h"

namespace microarp {

struct alignas(RTE_CACHE_LINE_SIZE) PortRuntime {
  uint16_t port_id = 0;
  VlanPolicy policy;                       // fixed at start
  std::atomic<bool> admin_up{true};        // down: frames in and out are dropped
  std::atomic<bool> responder_on{true};    // off: ARP requests are switched like any frame
};

}  // namespace microarp
