// What a worker tells the control side about ARP it saw: one fixed-size ring record.
#pragma once

#include <cstdint>

namespace microarp {

enum class ArpEventKind : uint8_t {
  sender = 1,       // a sender that passed inspection: learn, refresh or conflict candidate
  violation = 2,    // failed inspection (dropped in enforce mode)
  probe_reply = 3,  // an answer to microarp's own probe
};

struct ArpEvent {
  ArpEventKind kind;
  uint8_t violation;  // Violation, for kind == violation
  uint16_t port;      // port index
  uint16_t vlan;
  uint16_t op;
  uint32_t spa_be;
  uint32_t tpa_be;
  uint8_t sha[6];
  uint8_t eth_src[6];
  uint8_t gratuitous;
  uint8_t enforced;  // 1 if the frame was dropped
  uint16_t reserved;
};
static_assert(sizeof(ArpEvent) == 32, "ring element size must stay a multiple of 4");

}  // namespace microarp
