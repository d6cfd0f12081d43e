// Frame classification and the in-place ARP reply: pure functions over byte arrays, so the
// same code runs on mbufs in the workers and on plain buffers in the unit tests.
#pragma once

#include <cstdint>

#include "counters.h"

namespace microarp {

constexpr uint32_t kEthHeaderLen = 14;
constexpr uint32_t kVlanTagLen = 4;
constexpr uint32_t kArpBodyLen = 28;      // Ethernet/IPv4 ARP
constexpr uint32_t kMinFrameLen = 60;     // Ethernet minimum without FCS
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint16_t kArpOpRequest = 1;
constexpr uint16_t kArpOpReply = 2;

enum class FrameClass : uint8_t {
  malformed,       // see ParsedFrame::drop
  arp_request,     // who-has from a configured sender
  arp_probe,       // RFC 5227 probe: request with sender IP 0.0.0.0
  arp_gratuitous,  // request or reply with sender IP == target IP
  arp_reply,
  ipv4,
  ipv6,            // IPv6 that is not Neighbor Discovery: switched
  nd_ns,           // Neighbor Solicitation from an address (see nd_frame.h for the checks)
  nd_dad,          // Neighbor Solicitation from :: (Duplicate Address Detection)
  nd_na,           // Neighbor Advertisement
  nd_rs,           // Router Solicitation
  nd_ra,           // Router Advertisement
  nd_redirect,     // Redirect
  other,
};

inline bool is_nd(FrameClass cls) {
  return cls >= FrameClass::nd_ns && cls <= FrameClass::nd_redirect;
}

struct ParsedFrame {
  FrameClass cls;
  DropReason drop;      // set when cls == malformed
  bool tagged;          // carried one 802.1Q tag
  uint16_t vlan;        // 0 when untagged
  uint16_t l3_offset;  // offset of the ARP body or IPv6 header (after any tag)
  // ND classes: offset of the 6-byte link-layer address in the message's source (NS, RS, RA)
  // or target (NA, redirect) link-layer address option; 0 when the message has none.
  uint16_t lladdr_offset;
};

// Byte offsets inside the 28-byte Ethernet/IPv4 ARP body.
namespace arp_field {
constexpr uint32_t htype = 0, ptype = 2, hlen = 4, plen = 5, op = 6;
constexpr uint32_t sha = 8, spa = 14, tha = 18, tpa = 24;
}  // namespace arp_field

// Classifies the frame into `parsed` (the workers' form: see frame.cc on why not a return).
void classify_frame_into(const uint8_t* frame, uint32_t len, ParsedFrame& parsed);
// The same, returned: for tests and tools.
ParsedFrame classify_frame(const uint8_t* frame, uint32_t len);

// Reads a 32-bit field exactly as it lies in the frame (network byte order).
uint32_t load_be32_raw(const uint8_t* p);

// Rewrites the ARP request at `frame` into the reply that `owner_mac` would send for the
// request's target, keeping any VLAN tag: eth.dst = requester, eth.src = owner, op = reply,
// sha = owner, spa = target IP, tha = requester's sha, tpa = requester's spa.
// Frames shorter than 60 bytes are zero-padded to 60, which `capacity` must allow.
// Returns the reply's length.
uint32_t rewrite_request_into_reply(uint8_t* frame, uint32_t len, uint32_t capacity,
                                    uint16_t l3_offset, const uint8_t owner_mac[6]);

// What the responder does with an ARP request or probe after the table lookup.
enum class RequestVerdict : uint8_t {
  answer,         // rewrite into a reply and send it back out the ingress port
  own_address,    // the requester owns the binding: a host checking its own address; pass on
  unbound,        // no binding for (VLAN, target IP): apply the 'unknown' policy
};

RequestVerdict decide_request(const uint8_t* frame, uint16_t l3_offset, bool found,
                              uint64_t owner_mac_word);

}  // namespace microarp
