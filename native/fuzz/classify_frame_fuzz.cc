// Fuzz target: the frame classifier (classify_frame), on any bytes a port can deliver, and the
// reads the worker makes of a frame once it is classified (FDB keys from its addresses, the ARP
// fields a request's lookup and a report take). The input is the frame itself.
//
// Beyond "no crash, no out-of-bounds read" (the frame is a heap block of exactly its length),
// it checks the classification against the rules written out plainly below: the tag, the VLAN
// and the offset; one reason per malformed frame, in the fixed order; the ARP class from op,
// sender and target; a second tag (QinQ) never taken for ARP.
#include <cstddef>
#include <cstdint>

#include "binding.h"
#include "fdb_entry.h"
#include "frame.h"
#include "fuzz_check.h"

using namespace microarp;

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

bool is_arp_class(FrameClass cls) {
  return cls == FrameClass::arp_request || cls == FrameClass::arp_probe ||
         cls == FrameClass::arp_gratuitous || cls == FrameClass::arp_reply;
}

// The ARP checks in their documented order: the reason the first failing one gives.
DropReason expected_arp_drop(const uint8_t* frame, uint32_t len, uint32_t off) {
  if (len < off + kArpBodyLen) return DropReason::arp_truncated;
  const uint8_t* arp = frame + off;
  if (be16(arp) != 1) return DropReason::arp_bad_htype;
  if (be16(arp + 2) != 0x0800) return DropReason::arp_bad_ptype;
  if (arp[4] != 6) return DropReason::arp_bad_hlen;
  if (arp[5] != 4) return DropReason::arp_bad_plen;
  const uint16_t op = be16(arp + 6);
  if (op != 1 && op != 2) return DropReason::arp_bad_opcode;
  return DropReason::none;
}

FrameClass expected_arp_class(const uint8_t* arp) {
  const uint16_t op = be16(arp + 6);
  const bool sender_zero = (arp[14] | arp[15] | arp[16] | arp[17]) == 0;
  const bool same = arp[14] == arp[24] && arp[15] == arp[25] && arp[16] == arp[26] &&
                    arp[17] == arp[27];
  if (same && !sender_zero) return FrameClass::arp_gratuitous;
  if (op == 2) return FrameClass::arp_reply;
  return sender_zero ? FrameClass::arp_probe : FrameClass::arp_request;
}

// What the worker reads of a classified frame (prepare_burst, decide_request, report): every
// read must stay inside the frame, and the keys must fit the table's 60 bits.
void read_as_the_worker_does(const uint8_t* frame, const ParsedFrame& p) {
  const uint16_t vlan = p.vlan;
  volatile bool unicast = is_unicast_mac(frame) ^ is_unicast_mac(frame + 6);
  (void)unicast;
  FUZZ_CHECK(fdb_key_in_frame(vlan, frame) >> 60 == 0);
  FUZZ_CHECK(fdb_key_in_frame(vlan, frame + 6) >> 60 == 0);
  if (!is_arp_class(p.cls)) return;
  const uint8_t* arp = frame + p.l3_offset;
  const uint32_t tpa = load_be32_raw(arp + arp_field::tpa);
  const uint32_t spa = load_be32_raw(arp + arp_field::spa);
  FUZZ_CHECK(binding_key(vlan, tpa) >> 60 == 0);
  FUZZ_CHECK(binding_key(vlan, spa) >> 60 == 0);
  // The requester owns the target: a host checking its own address, never answered.
  const uint64_t requester = pack_mac(arp + arp_field::sha);
  FUZZ_CHECK(decide_request(frame, p.l3_offset, true, requester) == RequestVerdict::own_address);
  FUZZ_CHECK(decide_request(frame, p.l3_offset, false, requester) == RequestVerdict::unbound);
  const uint64_t other = requester ^ 1;
  FUZZ_CHECK(decide_request(frame, p.l3_offset, true, other) == RequestVerdict::answer);
  volatile bool speaks_for_itself = mac_equal(arp + arp_field::sha, frame + 6);
  (void)speaks_for_itself;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* frame, size_t size) {
  if (size > 0xFFFF) return 0;  // an mbuf segment's length is 16 bits
  const uint32_t len = static_cast<uint32_t>(size);
#ifdef MICROARP_FUZZ_PLANTED_BUG
  // A planted bug, to show that a finding is reported (test/fuzz.test.ts): the caller hands the
  // classifier one byte more than the frame holds, as code mixing up two lengths would.
  const ParsedFrame p = classify_frame(frame, len + 1);
#else
  const ParsedFrame p = classify_frame(frame, len);
#endif

  FUZZ_CHECK((p.cls == FrameClass::malformed) == (p.drop != DropReason::none));
  if (len < kEthHeaderLen) {
    FUZZ_CHECK(p.cls == FrameClass::malformed && p.drop == DropReason::truncated);
    return 0;
  }
  const bool tagged = be16(frame + 12) == kEtherTypeVlan;
  if (tagged && len < kEthHeaderLen + kVlanTagLen) {
    FUZZ_CHECK(p.cls == FrameClass::malformed && p.drop == DropReason::truncated);
    return 0;
  }
  const uint32_t off = tagged ? 18 : 14;
  const uint16_t inner = be16(frame + off - 2);

  if (inner == kEtherTypeArp) {
    const DropReason why = expected_arp_drop(frame, len, off);
    if (why != DropReason::none) {
      FUZZ_CHECK(p.cls == FrameClass::malformed && p.drop == why);
      return 0;
    }
    FUZZ_CHECK(p.cls == expected_arp_class(frame + off));
  } else if (inner == kEtherTypeIpv4) {
    FUZZ_CHECK(p.cls == FrameClass::ipv4);
  } else if (inner == kEtherTypeIpv6) {
    // Plain IPv6, or Neighbor Discovery: its classes and drop reasons are nd_frame_fuzz.cc's.
    if (p.cls == FrameClass::malformed) {
      const DropReason d = p.drop;
      FUZZ_CHECK(d == DropReason::nd_truncated || d == DropReason::nd_bad_hop_limit ||
                 d == DropReason::nd_bad_code || d == DropReason::nd_bad_checksum ||
                 d == DropReason::nd_bad_option || d == DropReason::nd_bad_target);
      return 0;
    }
    FUZZ_CHECK(p.cls == FrameClass::ipv6 || is_nd(p.cls));
  } else {
    // Anything else, a second 802.1Q or an 802.1ad tag included: switched, never answered.
    FUZZ_CHECK(p.cls == FrameClass::other);
  }
  FUZZ_CHECK(p.drop == DropReason::none);
  FUZZ_CHECK(p.tagged == tagged);
  FUZZ_CHECK(p.vlan == (tagged ? (be16(frame + 14) & 0x0FFF) : 0));
  FUZZ_CHECK(p.l3_offset == off);

  read_as_the_worker_does(frame, p);
  return 0;
}
