// What a worker tells the control side about Neighbor Discovery it saw: one fixed-size ring
// record, the ND counterpart of arp_event.h (layout also in docs/design/ipv6-nd.md).
#pragma once

#include <cstdint>

#include "arp_event.h"

namespace microarp {

// NdEvent::flags: the NA's own R/S/O bits where they sit in its flags byte, and DAD.
constexpr uint8_t kNdEventDad = 0x01;

struct NdEvent {
  ArpEventKind kind;  // sender, violation or probe_reply, as for ARP
  uint8_t violation;  // Violation, for kind == violation
  uint16_t port;      // port index
  uint16_t vlan;
  uint8_t icmp_type;  // 135 NS, 136 NA, 133 RS, 134 RA, 137 redirect
  uint8_t flags;
  uint8_t addr[16];    // NS: the source; NA: the target; RS, RA, redirect: the IPv6 source
  uint8_t target[16];  // NS, NA, redirect: the target; else zero
  uint8_t lladdr[6];   // the link-layer address option's MAC, zero when has_lladdr is 0
  uint8_t eth_src[6];
  uint8_t has_lladdr;
  uint8_t enforced;  // 1 if the frame was dropped
  uint16_t reserved;
};
static_assert(sizeof(NdEvent) == 56, "ring element size must stay a multiple of 4");

}  // namespace microarp
