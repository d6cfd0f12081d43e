// ARP inspection on untrusted ports (in the manner of Dynamic ARP Inspection): checks that a
// frame's sender is who it claims to be, in a fixed order so that a frame with several faults
// is always counted under the same reason. Pure: unit-tested on byte arrays.
#pragma once

#include <cstdint>
#include <cstring>

#include "binding.h"
#include "counters.h"
#include "frame.h"

namespace microarp {

constexpr unsigned kMaxPortSubnets = 8;

struct InspectionPolicy {
  uint8_t subnet_count = 0;  // 0: any sender IP
  uint32_t net[kMaxPortSubnets] = {};   // host byte order, host bits zero
  uint32_t mask[kMaxPortSubnets] = {};
  // IPv6 prefixes for the addresses ND messages speak for; 0: any.
  uint8_t subnet6_count = 0;
  uint8_t net6[kMaxPortSubnets][16] = {};  // host bits zero
  uint8_t length6[kMaxPortSubnets] = {};
};

// Whether the IPv6 address `addr` is inside one of the port's IPv6 prefixes. Link-local
// addresses (fe80::/10) always are: every IPv6 host solicits and answers from one (router
// discovery, DAD follow-ups), and they never leave the link.
inline bool in_subnets6(const InspectionPolicy& p, const uint8_t* addr) {
  if (p.subnet6_count == 0 || (addr[0] == 0xFE && (addr[1] & 0xC0) == 0x80)) return true;
  for (unsigned i = 0; i < p.subnet6_count; i++) {
    const unsigned length = p.length6[i];
    const unsigned whole = length / 8, bits = length % 8;
    if (std::memcmp(addr, p.net6[i], whole) != 0) continue;
    if (bits != 0 && ((addr[whole] ^ p.net6[i][whole]) & uint8_t(0xFF00 >> bits)) != 0) continue;
    return true;
  }
  return false;
}

inline uint32_t be32_to_host(uint32_t raw_be) { return __builtin_bswap32(raw_be); }

inline bool sender_ip_invalid(uint32_t spa_host) {
  return spa_host == 0 || (spa_host >> 28) == 0xE || spa_host == 0xFFFFFFFFu;
}

inline bool in_subnets(const InspectionPolicy& p, uint32_t ip_host) {
  if (p.subnet_count == 0) return true;
  for (unsigned i = 0; i < p.subnet_count; i++) {
    if ((ip_host & p.mask[i]) == p.net[i]) return true;
  }
  return false;
}

// `sender_bound`/`sender_word`: the binding table's answer for (VLAN, sender IP).
inline Violation inspect_arp(const uint8_t* frame, const ParsedFrame& parsed,
                             const InspectionPolicy& policy, bool sender_bound,
                             uint64_t sender_word) {
  const uint8_t* arp = frame + parsed.l3_offset;
  if (!mac_equal(frame + 6, arp + arp_field::sha)) return Violation::sha_mismatch;
  const uint32_t spa = be32_to_host(load_be32_raw(arp + arp_field::spa));
  if (parsed.cls != FrameClass::arp_probe && sender_ip_invalid(spa)) return Violation::bad_sender_ip;
  if (parsed.cls == FrameClass::arp_reply &&
      !mac_equal(frame, arp + arp_field::tha))
    return Violation::reply_dst_mismatch;
  if (parsed.cls == FrameClass::arp_probe) return Violation::none;
  if (!in_subnets(policy, spa)) return Violation::sender_outside_subnet;
  if (sender_bound) {
    uint8_t owner[6];
    unpack_mac(sender_word, owner);
    if (!mac_equal(owner, arp + arp_field::sha)) return Violation::spoofed_binding;
  }
  return Violation::none;
}

}  // namespace microarp
