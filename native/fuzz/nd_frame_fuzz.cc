// Fuzz target: IPv6 Neighbor Discovery (nd_frame.h) as the worker runs it: classification and
// its checks, inspection on an untrusted port, the solicitation verdict, and the Neighbor
// Advertisement written in place over a solicitation in an mbuf with little or no room.
//
// Input: a 16-byte header, then the frame.
//   [0]      headroom in bytes
//   [1]      tailroom in bytes: the rewrite's capacity is the frame's length plus this
//   [2]      bit 0: the table holds a binding for (VLAN, target)
//            bit 1: ...and it is the solicitor's own MAC (SLLAO, else Ethernet source), not [4..9]
//            bit 2: ...and it has the router bit (kBindingRouter)
//            bit 3: the table holds a binding for the address the message speaks for
//            bit 4: ...and it is the message's own MAC (its option, else Ethernet source), not [10..15]
//            bit 5: the ingress port is marked router: true
//            bit 6: write the right ICMPv6 checksum into the frame before it is classified, so
//                   that mutations get past the checksum to the options and the rewrite
//   [3]      the source byte of both bindings' data words (bits 48-55)
//   [4..9]   the target's binding's MAC
//   [10..15] the claimed address's binding's MAC
// Every frame is classified from an exact-size heap block; an IPv6 frame's class, drop reason
// and link-layer option are checked against the checks of nd_frame.h written out plainly below,
// with a checksum summed here the plain big-endian way. An ND frame's link-layer address lies
// inside its message and its checksum re-verifies. A solicitation the table answers is rewritten
// in place in the mbuf: never a byte past the capacity (the buffer is exactly that long) nor in
// the headroom; 0 when the capacity is short, with nothing written; else an advertisement with
// every field right that classifies back as a valid nd_na and passes microarp's own inspection.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "binding.h"
#include "frame.h"
#include "fuzz_check.h"
#include "fuzz_input.h"
#include "minimal_mbuf.h"
#include "nd_frame.h"

using namespace microarp;

namespace {

constexpr size_t kHeaderSize = 16;
constexpr size_t kMaxFrame = 0xFFFF - 2 * 255;  // headroom + frame + tailroom fit buf_len
constexpr uint8_t kTailPattern = 0xEE;           // what MinimalMbuf leaves in the tailroom

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
bool equal(const uint8_t* a, const uint8_t* b, size_t n) { return std::memcmp(a, b, n) == 0; }
bool all_zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) return false;
  }
  return true;
}

// ---- the ICMPv6 checksum, the plain way (big-endian words, one at a time) ---------------------
uint16_t sum_with_field(const uint8_t* ip6, uint32_t message_len) {
  uint32_t acc = 0;
  for (uint32_t i = 8; i < 40; i += 2) acc += be16(ip6 + i);
  acc += (message_len >> 16) + (message_len & 0xFFFF) + 58;
  const uint8_t* m = ip6 + 40;
  for (uint32_t i = 0; i + 1 < message_len; i += 2) acc += be16(m + i);
  if (message_len % 2 == 1) acc += uint32_t(m[message_len - 1]) << 8;
  while (acc > 0xFFFF) acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

bool checksum_verifies(const uint8_t* ip6, uint32_t message_len) {
  return sum_with_field(ip6, message_len) == 0xFFFF;
}

// Writes the checksum a sender computes (field as zero) into the message, big endian.
void write_reference_checksum(uint8_t* ip6, uint32_t message_len) {
  ip6[42] = ip6[43] = 0;
  const uint16_t c = static_cast<uint16_t>(~sum_with_field(ip6, message_len));
  ip6[42] = static_cast<uint8_t>(c >> 8);
  ip6[43] = static_cast<uint8_t>(c);
}

// icmpv6_checksum gives what a sender computes; the field holds it, or 0xFFFF for a 0.
bool field_holds(const uint8_t* ip6, uint16_t computed) {
  uint8_t bytes[2];
  std::memcpy(bytes, &computed, 2);
  if (ip6[42] == bytes[0] && ip6[43] == bytes[1]) return true;
  return computed == 0 && ip6[42] == 0xFF && ip6[43] == 0xFF;
}

// ---- the checks of nd_frame.h, written out plainly ---------------------------------------------
struct Expected {
  FrameClass cls;
  DropReason drop;
  uint32_t lladdr_offset;
};

uint32_t fixed_len(uint8_t type) {
  switch (type) {
    case 133: return 8;
    case 134: return 16;
    case 135: case 136: return 24;
    default: return 40;
  }
}

Expected expected_ipv6(const uint8_t* f, uint32_t len, uint32_t off) {
  const Expected plain{FrameClass::ipv6, DropReason::none, 0};
  if (len < off + 41) return plain;
  const uint8_t* ip = f + off;
  if (ip[0] >> 4 != 6 || ip[6] != 58) return plain;
  const uint8_t* m = ip + 40;
  const uint8_t type = m[0];
  if (type < 133 || type > 137) return plain;
  auto bad = [](DropReason why) { return Expected{FrameClass::malformed, why, 0}; };
  const uint32_t payload = be16(ip + 4);
  if (payload < fixed_len(type) || off + 40 + payload > len) return bad(DropReason::nd_truncated);
  if (ip[7] != 255) return bad(DropReason::nd_bad_hop_limit);
  if (m[1] != 0) return bad(DropReason::nd_bad_code);
  if (!checksum_verifies(ip, payload)) return bad(DropReason::nd_bad_checksum);
  // NA and redirect: the target's link-layer address (2); the others: the source's (1).
  const uint8_t kind = type == 136 || type == 137 ? 2 : 1;
  uint32_t lladdr = 0;
  for (uint32_t at = fixed_len(type); at < payload;) {
    if (at + 2 > payload) return bad(DropReason::nd_bad_option);
    const uint32_t option_len = m[at + 1] * 8u;
    if (option_len == 0 || at + option_len > payload) return bad(DropReason::nd_bad_option);
    if (m[at] == kind && lladdr == 0) lladdr = off + 40 + at + 2;
    at += option_len;
  }
  switch (type) {
    case 135: {
      const bool dad = all_zero(ip + 8, 16);
      if (dad && lladdr != 0) return bad(DropReason::nd_bad_option);
      if (m[8] == 0xFF) return bad(DropReason::nd_bad_target);  // ff00::/8
      return {dad ? FrameClass::nd_dad : FrameClass::nd_ns, DropReason::none, lladdr};
    }
    case 136:
      if (m[8] == 0xFF) return bad(DropReason::nd_bad_target);
      return {FrameClass::nd_na, DropReason::none, lladdr};
    case 133: return {FrameClass::nd_rs, DropReason::none, lladdr};
    case 134: return {FrameClass::nd_ra, DropReason::none, lladdr};
    default: return {FrameClass::nd_redirect, DropReason::none, lladdr};
  }
}

// The MAC a message speaks with: its link-layer option, else its Ethernet source.
const uint8_t* own_mac(const uint8_t* f, const ParsedFrame& p) {
  return p.lladdr_offset != 0 ? f + p.lladdr_offset : f + 6;
}

Violation expected_inspection(const uint8_t* f, const ParsedFrame& p, bool router_port,
                              bool claimed_bound, const uint8_t* claimed_mac) {
  const bool router_message = p.cls == FrameClass::nd_ra || p.cls == FrameClass::nd_redirect;
  if (router_message && !router_port) return Violation::ra_guard;
  if (p.cls != FrameClass::nd_redirect && p.lladdr_offset != 0 &&
      !equal(f + p.lladdr_offset, f + 6, 6))
    return Violation::nd_lladdr_mismatch;
  if (claimed_bound && !equal(claimed_mac, own_mac(f, p), 6)) return Violation::nd_spoofed_binding;
  return Violation::none;
}

// The IPv6 header's offset when `f` is an IPv6 frame (one tag at most), else 0.
uint32_t ipv6_offset(const uint8_t* f, uint32_t len) {
  if (len < 14) return 0;
  if (be16(f + 12) == kEtherTypeIpv6) return 14;
  if (be16(f + 12) == kEtherTypeVlan && len >= 18 && be16(f + 16) == kEtherTypeIpv6) return 18;
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size, kHeaderSize);
  const uint16_t headroom = in.u8();
  const uint16_t tailroom = in.u8();
  const uint8_t flags = in.u8();
  const uint8_t source = in.u8();
  uint8_t target_mac[6], claimed_mac[6];
  in.bytes(target_mac, 6);
  in.bytes(claimed_mac, 6);
  if (in.frame_size() > kMaxFrame) return 0;
  const uint32_t len = static_cast<uint32_t>(in.frame_size());
  std::vector<uint8_t> request(in.frame(), in.frame() + len);

  const uint32_t off = ipv6_offset(request.data(), len);
  if ((flags & 0x40) && off != 0 && len >= off + 44) {
    const uint32_t payload = be16(request.data() + off + 4);
    if (payload >= 4 && off + 40 + payload <= len)
      write_reference_checksum(request.data() + off, payload);
  }

  fuzz::MinimalMbuf mbuf(request.data(), static_cast<uint16_t>(len), headroom, tailroom);
  rte_mbuf* m = mbuf.get();
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  const ParsedFrame p = classify_frame(frame, len);
  if (off == 0) {
    FUZZ_CHECK(!is_nd(p.cls) && p.lladdr_offset == 0);
    return 0;
  }

  // The class, the reason and the option, as the checks written out above give them.
  const Expected want = expected_ipv6(frame, len, off);
  FUZZ_CHECK(p.cls == want.cls);
  FUZZ_CHECK(p.drop == want.drop);
  FUZZ_CHECK(p.lladdr_offset == want.lladdr_offset);
  if (p.cls == FrameClass::malformed) return 0;
  FUZZ_CHECK(p.l3_offset == off);
  FUZZ_CHECK(p.tagged == (off == 18));
  if (!is_nd(p.cls)) return 0;

  // Invariants of every ND frame.
  const uint8_t* ip6 = frame + off;
  const uint32_t payload = be16(ip6 + 4);
  FUZZ_CHECK(off + kIpv6HeaderLen + payload <= len);
  FUZZ_CHECK(ip6[7] == 255 && ip6[40 + 1] == 0);
  if (p.lladdr_offset != 0) {
    FUZZ_CHECK(p.lladdr_offset >= off + 40 + 8 + 2);
    FUZZ_CHECK(p.lladdr_offset + 6u <= off + 40 + payload);
    FUZZ_CHECK(p.lladdr_offset + 6u <= len);
    FUZZ_CHECK(frame[p.lladdr_offset - 1] != 0);  // the option's length
  }
  FUZZ_CHECK(checksum_verifies(ip6, payload));
  FUZZ_CHECK(field_holds(ip6, icmpv6_checksum(ip6, payload)));

  // What the message speaks for, and inspection, with the table's answer as the worker asks it.
  const uint8_t* claimed = nd_claimed_address(frame, p);
  if (p.cls == FrameClass::nd_ns) {
    FUZZ_CHECK(claimed == ip6 + 8);
  } else if (p.cls == FrameClass::nd_na) {
    FUZZ_CHECK(claimed == ip6 + 40 + 8);
  } else {
    FUZZ_CHECK(claimed == nullptr);
  }
  const bool router_port = flags & 0x20;
  const bool claimed_bound = claimed != nullptr && (flags & 0x08);
  uint8_t claimed_owner[6];
  std::memcpy(claimed_owner, (flags & 0x10) ? own_mac(frame, p) : claimed_mac, 6);
  const uint64_t source_bits = uint64_t(source) << kBindingSourceShift;
  const Violation v = inspect_nd(frame, p, router_port, claimed_bound,
                                 pack_mac(claimed_owner) | source_bits);
  FUZZ_CHECK(v == expected_inspection(frame, p, router_port, claimed_bound, claimed_owner));
  // The claimed binding's source and router bits never matter.
  FUZZ_CHECK(v == inspect_nd(frame, p, router_port, claimed_bound,
                             pack_mac(claimed_owner) | kBindingRouter));
  FUZZ_CHECK(equal(frame, request.data(), len));  // inspection reads only

  if (p.cls != FrameClass::nd_ns && p.cls != FrameClass::nd_dad) return 0;

  // The verdict for the target.
  const bool found = flags & 0x01;
  const bool router = flags & 0x04;
  uint8_t owner[6];
  std::memcpy(owner, (flags & 0x02) ? own_mac(frame, p) : target_mac, 6);
  const uint64_t owner_word = pack_mac(owner) | source_bits | (router ? kBindingRouter : 0);
  const SolicitationVerdict verdict = decide_solicitation(frame, p, found, owner_word);
  const bool dad = p.cls == FrameClass::nd_dad;
  if (!found) {
    FUZZ_CHECK(verdict == SolicitationVerdict::unbound);
  } else if (equal(owner, own_mac(frame, p), 6)) {
    FUZZ_CHECK(verdict == SolicitationVerdict::own_address);
  } else {
    FUZZ_CHECK(verdict == (dad ? SolicitationVerdict::defend : SolicitationVerdict::answer));
  }
  if (verdict != SolicitationVerdict::answer && verdict != SolicitationVerdict::defend) return 0;

  // respond_to_solicitation() in native/dp/nd_step.cc.
  const bool defend = verdict == SolicitationVerdict::defend;
  const uint32_t capacity = len + rte_pktmbuf_tailroom(m);
  const uint32_t length =
      rewrite_solicitation_into_advertisement(frame, capacity, p, owner_word, defend);
  const uint32_t need = off + kIpv6HeaderLen + kNaMessageLen;
  FUZZ_CHECK(mbuf.headroom_untouched());
  if (capacity < need) {
    FUZZ_CHECK(length == 0);
    FUZZ_CHECK(equal(frame, request.data(), len));
    return 0;
  }
  FUZZ_CHECK(length == need);
  m->data_len = static_cast<uint16_t>(length);
  m->pkt_len = length;
  // Past the advertisement: the solicitation's own bytes, then the untouched tailroom.
  for (uint32_t i = length; i < capacity; i++)
    FUZZ_CHECK(frame[i] == (i < len ? request[i] : kTailPattern));

  // Every field, against the solicitation.
  static const uint8_t kAllNodesMac[6] = {0x33, 0x33, 0, 0, 0, 1};
  static const uint8_t kAllNodes[16] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const uint8_t* q = request.data() + off;  // the solicitation's IPv6 header
  const uint8_t* a = frame + off;           // the advertisement's
  FUZZ_CHECK(equal(frame, defend ? kAllNodesMac : request.data() + 6, 6));
  FUZZ_CHECK(equal(frame + 6, owner, 6));
  FUZZ_CHECK(equal(frame + 12, request.data() + 12, off - 12));  // tag (PCP too), EtherType
  FUZZ_CHECK(a[0] == 0x60 && a[1] == 0 && a[2] == 0 && a[3] == 0);
  FUZZ_CHECK(a[4] == 0 && a[5] == kNaMessageLen && a[6] == 58 && a[7] == 255);
  FUZZ_CHECK(equal(a + 8, q + 40 + 8, 16));                     // src: the target
  FUZZ_CHECK(equal(a + 24, defend ? kAllNodes : q + 8, 16));    // dst: the solicitor
  FUZZ_CHECK(a[40] == 136 && a[41] == 0);
  const uint8_t na_flags = static_cast<uint8_t>((router ? kNaRouter : 0) |
                                                (defend ? 0 : kNaSolicited) | kNaOverride);
  FUZZ_CHECK(a[44] == na_flags && a[45] == 0 && a[46] == 0 && a[47] == 0);
  FUZZ_CHECK(equal(a + 48, q + 40 + 8, 16));                    // the target
  FUZZ_CHECK(a[64] == 2 && a[65] == 1 && equal(a + 66, owner, 6));
  FUZZ_CHECK(checksum_verifies(a, kNaMessageLen));

  // It classifies back as a valid advertisement, from an exact-size copy.
  const std::vector<uint8_t> advertisement(frame, frame + length);
  const uint8_t* na = advertisement.data();
  const ParsedFrame r = classify_frame(na, length);
  FUZZ_CHECK(r.cls == FrameClass::nd_na);
  FUZZ_CHECK(r.tagged == p.tagged && r.vlan == p.vlan && r.l3_offset == p.l3_offset);
  FUZZ_CHECK(r.lladdr_offset == off + 40 + 24 + 2);
  FUZZ_CHECK(nd_claimed_address(na, r) == na + off + 40 + 8);
  FUZZ_CHECK(field_holds(na + off, icmpv6_checksum(na + off, kNaMessageLen)));
  // And passes microarp's own inspection on the receiving side, the target bound to the owner.
  FUZZ_CHECK(inspect_nd(na, r, false, true, owner_word) == Violation::none);
  return 0;
}
