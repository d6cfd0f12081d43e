// Per-port settings the workers read on every burst and the control side may change live.
// One writer (the addon, on Node's thread); workers load the flags relaxed once per burst and
// the security snapshot with acquire once per ARP frame.
#pragma once

#include <rte_common.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>

#include "../core/vlan_policy.h"
#include "port_security.h"

namespace microarp {

struct alignas(RTE_CACHE_LINE_SIZE) PortRuntime {
  uint16_t port_id = 0;
  VlanPolicy policy;                       // fixed at start
  std::atomic<bool> admin_up{true};        // down: frames in and out are dropped
  std::atomic<bool> responder_on{true};    // off: ARP requests are switched like any frame
  bool drain_greedily = false;             // fixed at start: vhost-user (see drain())
  // Trusted or inspected, subnets, ARP rate, enforce: replaced whole by a reload (see
  // port_security.h). Never null once the dataplane is initialised.
  std::atomic<const PortSecurity*> security{nullptr};
  rte_ring* inject = nullptr;              // frames the control side sends out this port
  // Link state as the driver last reported it (a vhost-user guest connected or not), kept by
  // the link-change callback on the driver's thread; workers read it only to name a drop.
  std::atomic<bool> link_up{true};
  // Set while the port's device is closed and opened again (reattach_port): workers neither
  // receive from it nor send to it, and a send counts as a link_down drop.
  std::atomic<bool> detached{false};
  std::atomic<uint64_t> link_ups{0};
  std::atomic<uint64_t> link_downs{0};
};

}  // namespace microarp
