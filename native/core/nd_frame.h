// IPv6 Neighbor Discovery (RFC 4861) on byte arrays: the checks a frame passes before the
// workers treat it as ND, the Neighbor Advertisement written in place over a solicitation, and
// ND inspection. Pure functions, as frame.h's ARP ones, so that unit tests and fuzz targets
// run the workers' own code.
#pragma once

#include <cstdint>

#include "counters.h"
#include "frame.h"

namespace microarp {

constexpr uint32_t kIpv6HeaderLen = 40;
constexpr uint8_t kNextHeaderIcmpv6 = 58;
constexpr uint8_t kNdHopLimit = 255;

namespace icmp6_type {
constexpr uint8_t router_solicitation = 133, router_advertisement = 134;
constexpr uint8_t neighbor_solicitation = 135, neighbor_advertisement = 136, redirect = 137;
}  // namespace icmp6_type

// Byte offsets inside the IPv6 fixed header.
namespace ip6_field {
constexpr uint32_t payload_length = 4, next_header = 6, hop_limit = 7, src = 8, dst = 24;
}  // namespace ip6_field

// Byte offsets inside an ND message (from the ICMPv6 type).
namespace nd_field {
constexpr uint32_t type = 0, code = 1, checksum = 2, flags = 4, target = 8;
}  // namespace nd_field

// The flags byte of a Neighbor Advertisement.
constexpr uint8_t kNaRouter = 0x80, kNaSolicited = 0x40, kNaOverride = 0x20;
// A Neighbor Advertisement with one target link-layer address option: 24 + 8 bytes.
constexpr uint32_t kNaMessageLen = 32;

// Classifies, in place, the IPv6 frame whose header is at parsed.l3_offset: an ND class (with
// parsed.lladdr_offset set when it carries its link-layer address option), plain `ipv6`, or
// `malformed` with the first check it fails, in this order:
//   nd_truncated (payload length short of the message, or frame short of the payload length),
//   nd_bad_hop_limit (not 255), nd_bad_code (not 0), nd_bad_checksum, nd_bad_option (length 0,
//   past the end, or a source link-layer option on a DAD solicitation), nd_bad_target
//   (a multicast NS/NA target).
// Only ICMPv6 right after the fixed header is ND (RFC 4861 messages carry no extension
// headers); anything else, and an IPv6 header the frame does not hold, is switched as `ipv6`.
void classify_ipv6(const uint8_t* frame, uint32_t len, ParsedFrame& parsed);

// The ICMPv6 checksum field's value for the message of `message_len` bytes after the IPv6
// header at `ip6`, as computed with the field itself taken as zero. Byte-order neutral: the
// result is stored with a plain 2-byte copy.
uint16_t icmpv6_checksum(const uint8_t* ip6, uint32_t message_len);

// What the responder does with a solicitation after the table lookup.
enum class SolicitationVerdict : uint8_t {
  answer,       // an NA back to the solicitor, solicited and override set
  defend,       // DAD of an address bound to another MAC: an NA to all-nodes, S clear
  own_address,  // the solicitor owns the binding (its own DAD or a check): pass it on
  unbound,      // no binding for (VLAN, target): the 'unknown' policy
};

SolicitationVerdict decide_solicitation(const uint8_t* frame, const ParsedFrame& parsed,
                                        bool found, uint64_t owner_word);

// Rewrites the solicitation at `frame` (class nd_ns or nd_dad) into the Neighbor Advertisement
// the owner of `owner_word` (binding.h: MAC and router bit) would send, keeping any VLAN tag:
//   eth.dst = the solicitor (all-nodes 33:33:00:00:00:01 when `to_all_nodes`), eth.src = owner;
//   IPv6 src = the target, dst = the solicitor's address (ff02::1 when `to_all_nodes`), hop
//   limit 255, flow label 0; ICMPv6 136 with R from the binding, S unless `to_all_nodes`, O;
//   the target; a target link-layer address option with the owner's MAC; the checksum.
// Returns the advertisement's length (the frame's new length), or 0 when `capacity` cannot
// hold it (a solicitation without options is 8 bytes shorter than the advertisement).
uint32_t rewrite_solicitation_into_advertisement(uint8_t* frame, uint32_t capacity,
                                                 const ParsedFrame& parsed, uint64_t owner_word,
                                                 bool to_all_nodes);

// The address an ND message speaks for, whose binding inspection and learning consult: an NS's
// source (nullptr for DAD), an NA's target; nullptr for router messages.
const uint8_t* nd_claimed_address(const uint8_t* frame, const ParsedFrame& parsed);

// ND inspection on an untrusted port, in a fixed order: ra_guard (an RA or redirect, unless
// the port is marked router), nd_lladdr_mismatch (an NS, NA, RS or RA whose link-layer address
// option is not the Ethernet source), nd_spoofed_binding (the claimed address is bound to
// another MAC). `claimed_bound`/`claimed_word`: the table's answer for the claimed address.
Violation inspect_nd(const uint8_t* frame, const ParsedFrame& parsed, bool router_port,
                     bool claimed_bound, uint64_t claimed_word);

inline bool ipv6_is_multicast(const uint8_t* addr) { return addr[0] == 0xFF; }
bool ipv6_is_unspecified(const uint8_t* addr);

}  // namespace microarp
