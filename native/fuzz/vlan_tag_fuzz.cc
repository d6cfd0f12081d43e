// Fuzz target: 802.1Q tag push and pop (vlan_push_after_prepend, vlan_pop_before_adj) on an mbuf
// with little or no headroom, and the VLAN a switched frame leaves with: admitted on one port
// (ingress_vlan), sent out another (egress_form), tagged or untagged as that port wants.
//
// Input: an 18-byte header, then the frame.
//   [0]      headroom in bytes
//   [1]      tailroom in bytes
//   [2..3]   the VLAN id the push and pop check pushes (any 16 bits: the tag keeps 12)
//   [4..10]  ingress port: mode % 3 (all, access, trunk), then three VLANs a, b, c (16 bits each)
//   [11..17] egress port, the same way
// A port's VLANs: access carries a; a trunk carries b and c (1-4094, as the config allows) with a
// as its native VLAN (0 = none).
//
// Checked: push then pop gives the original bytes back (and a push without headroom fails
// without touching the frame); a switched frame leaves with exactly its MACs, the tag its egress
// port wants (its own priority bits kept) and its payload; and the egress port, receiving it
// back, admits it into the VLAN it was switched in.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "frame.h"
#include "fuzz_check.h"
#include "fuzz_input.h"
#include "minimal_mbuf.h"
#include "vlan_policy.h"
#include "../dp/egress_form.h"

using namespace microarp;

namespace {

constexpr size_t kHeaderSize = 18;
constexpr size_t kMaxFrame = 0xFFFF - 2 * 255;

VlanPolicy read_policy(fuzz::FuzzInput& in) {
  VlanPolicy p;
  const uint8_t mode = in.u8() % 3;
  const uint16_t a = in.u16() % 4095;
  const uint16_t b = static_cast<uint16_t>(1 + in.u16() % 4094);
  const uint16_t c = static_cast<uint16_t>(1 + in.u16() % 4094);
  if (mode == 1) {
    p.mode = PortMode::access;
    p.access_vlan = a;
  } else if (mode == 2) {
    p.mode = PortMode::trunk;
    p.native_vlan = a;
    p.allow(b);
    p.allow(c);
  }
  return p;
}

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Push then pop on the raw primitives, with the VLAN id `vlan`.
void check_push_pop(const std::vector<uint8_t>& frame, uint16_t headroom, uint16_t tailroom,
                    uint16_t vlan) {
  const uint16_t len = static_cast<uint16_t>(frame.size());
  fuzz::MinimalMbuf mbuf(frame.data(), len, headroom, tailroom);
  rte_mbuf* m = mbuf.get();
  uint8_t* start = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, kVlanTagLen));
  if (headroom < kVlanTagLen) {
    FUZZ_CHECK(start == nullptr);
    FUZZ_CHECK(mbuf.len() == len && std::memcmp(mbuf.data(), frame.data(), len) == 0);
    FUZZ_CHECK(mbuf.headroom_untouched());
    return;
  }
  FUZZ_CHECK(start != nullptr);
  vlan_push_after_prepend(start, vlan);
  FUZZ_CHECK(mbuf.len() == len + kVlanTagLen && mbuf.data() == start);
  FUZZ_CHECK(std::memcmp(start, frame.data(), 12) == 0);
  // The VLAN id's 12 bits, priority 0.
  FUZZ_CHECK(be16(start + 12) == kEtherTypeVlan && be16(start + 14) == (vlan & 0x0FFF));
  FUZZ_CHECK(std::memcmp(start + 16, frame.data() + 12, len - 12) == 0);
  FUZZ_CHECK(mbuf.headroom_untouched());
  // (A frame the tag turns into a cut-short ARP is malformed: no tag is reported for it.)
  const ParsedFrame tagged = classify_frame(start, mbuf.len());
  if (tagged.cls != FrameClass::malformed)
    FUZZ_CHECK(tagged.tagged && tagged.vlan == (vlan & 0x0FFF));

  vlan_pop_before_adj(mbuf.data());
  FUZZ_CHECK(rte_pktmbuf_adj(m, kVlanTagLen) != nullptr);
  FUZZ_CHECK(mbuf.len() == len && std::memcmp(mbuf.data(), frame.data(), len) == 0);
  FUZZ_CHECK(rte_pktmbuf_headroom(m) == headroom);
  // The 4 bytes the tag took are headroom again, holding what was there; the rest is untouched.
  FUZZ_CHECK(mbuf.pattern_intact(static_cast<uint16_t>(headroom - kVlanTagLen)));
}

// The frame admitted on `in` and switched out of `out`, as the worker does it.
void check_egress(const std::vector<uint8_t>& frame, uint16_t headroom, uint16_t tailroom,
                  const VlanPolicy& in, const VlanPolicy& out) {
  const uint16_t len = static_cast<uint16_t>(frame.size());
  fuzz::MinimalMbuf mbuf(frame.data(), len, headroom, tailroom);
  rte_mbuf* m = mbuf.get();
  const ParsedFrame p = classify_frame(mbuf.data(), len);
  if (p.cls == FrameClass::malformed) return;
  const int admitted = ingress_vlan(in, p.tagged, p.vlan);
  if (admitted == kNotAdmitted) return;
  const uint16_t vlan = static_cast<uint16_t>(admitted);
  const EgressForm form = egress_form(out, vlan);
  if (form == EgressForm::none) return;

  // finish_burst() in native/dp/worker.cc: a priority tag gets the id of the VLAN the frame was
  // admitted into before the frame is switched.
  if (p.tagged && p.vlan != vlan) vlan_set_id(mbuf.data(), vlan);
  if (!set_form(m, p.tagged, form, vlan)) {
    // Dropped for want of headroom (counted as no_mbuf): the frame is left as it was.
    FUZZ_CHECK(form == EgressForm::tagged && !p.tagged && headroom < kVlanTagLen);
    FUZZ_CHECK(mbuf.len() == len && std::memcmp(mbuf.data(), frame.data(), len) == 0);
    return;
  }

  // What must leave: the MACs, the tag the port wants, then everything after the frame's own
  // outer tag (an inner tag of a QinQ frame is payload).
  const size_t payload_at = p.tagged ? 16 : 12;
  std::vector<uint8_t> expected(frame.begin(), frame.begin() + 12);
  if (form == EgressForm::tagged) {
    const uint16_t priority = p.tagged ? (be16(frame.data() + 14) & 0xF000) : 0;
    const uint16_t tci = static_cast<uint16_t>(priority | vlan);
    const uint8_t tag[4] = {0x81, 0x00, static_cast<uint8_t>(tci >> 8), static_cast<uint8_t>(tci)};
    expected.insert(expected.end(), tag, tag + 4);
  }
  expected.insert(expected.end(), frame.begin() + payload_at, frame.end());
  FUZZ_CHECK(mbuf.len() == expected.size());
  FUZZ_CHECK(std::memcmp(mbuf.data(), expected.data(), expected.size()) == 0);
  FUZZ_CHECK(rte_pktmbuf_pkt_len(m) == mbuf.len());

  // Received back by the egress port, the frame is in the VLAN it was switched in: a frame never
  // crosses into another VLAN on the way.
  const ParsedFrame sent = classify_frame(mbuf.data(), mbuf.len());
  if (form == EgressForm::tagged || !sent.tagged) {
    FUZZ_CHECK(sent.tagged == (form == EgressForm::tagged));
    FUZZ_CHECK(ingress_vlan(out, sent.tagged, sent.vlan) == admitted);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput input(data, size, kHeaderSize);
  const uint16_t headroom = input.u8();
  const uint16_t tailroom = input.u8();
  const uint16_t push_vlan = input.u16();
  const VlanPolicy in = read_policy(input);
  const VlanPolicy out = read_policy(input);
  // Only classified frames reach the tag surgery: at least an Ethernet header.
  if (input.frame_size() < kEthHeaderLen || input.frame_size() > kMaxFrame) return 0;
  const std::vector<uint8_t> frame(input.frame(), input.frame() + input.frame_size());

  check_push_pop(frame, headroom, tailroom, push_vlan);
  check_egress(frame, headroom, tailroom, in, out);
  return 0;
}
