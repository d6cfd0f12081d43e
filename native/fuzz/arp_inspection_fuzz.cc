// Fuzz target: ARP inspection (inspect_arp) on untrusted ports, as the worker runs it: on every
// frame the classifier calls ARP, with a port's sender subnets and the binding table's answer for
// the sender taken from the input.
//
// Input: a 48-byte header, then the frame.
//   [0]      bit 0: the table holds a binding for (VLAN, sender IP); bits 1-7: subnet count % 9
//   [1..6]   that binding's MAC
//   [7..46]  8 subnets of 5 bytes: network (big endian), prefix length % 33
//   [47]     reserved
// The verdict is checked against the rules of arp_inspection.h written out independently
// (subnet membership by prefix length, not by mask), and must not depend on anything but them.
#include <cstddef>
#include <cstdint>

#include "arp_inspection.h"
#include "frame.h"
#include "fuzz_check.h"
#include "fuzz_input.h"

using namespace microarp;

namespace {

constexpr size_t kHeaderSize = 48;

struct Subnet {
  uint32_t network;  // as given, host bits possibly set
  uint32_t length;
};

bool same_mac(const uint8_t* a, const uint8_t* b) {
  for (int i = 0; i < 6; i++) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

bool inside(uint32_t ip, const Subnet& s) {
  return s.length == 0 || ((ip ^ s.network) >> (32 - s.length)) == 0;
}

Violation expected_verdict(const uint8_t* frame, const ParsedFrame& p, const Subnet* subnets,
                           unsigned count, bool bound, const uint8_t* bound_mac) {
  const uint8_t* arp = frame + p.l3_offset;
  const uint8_t* sha = arp + 8;
  const uint32_t spa = be32(arp + 14);
  const bool probe = p.cls == FrameClass::arp_probe;
  if (!same_mac(frame + 6, sha)) return Violation::sha_mismatch;
  const bool multicast = spa >= 0xE0000000u && spa <= 0xEFFFFFFFu;
  if (!probe && (spa == 0 || multicast || spa == 0xFFFFFFFFu)) return Violation::bad_sender_ip;
  if (p.cls == FrameClass::arp_reply && !same_mac(frame, arp + 18))
    return Violation::reply_dst_mismatch;
  if (probe) return Violation::none;
  bool allowed = count == 0;
  for (unsigned i = 0; i < count; i++) allowed = allowed || inside(spa, subnets[i]);
  if (!allowed) return Violation::sender_outside_subnet;
  if (bound && !same_mac(bound_mac, sha)) return Violation::spoofed_binding;
  return Violation::none;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size, kHeaderSize);
  const uint8_t flags = in.u8();
  const bool bound = flags & 1;
  const unsigned count = (flags >> 1) % (kMaxPortSubnets + 1);
  uint8_t bound_mac[6];
  in.bytes(bound_mac, 6);
  Subnet subnets[kMaxPortSubnets];
  InspectionPolicy policy;
  policy.subnet_count = static_cast<uint8_t>(count);
  for (unsigned i = 0; i < kMaxPortSubnets; i++) {
    subnets[i].network = in.u32();
    subnets[i].length = in.u8() % 33;
    // As the addon builds it from the config (read_subnets in native/addon/addon.cc).
    const uint32_t mask = subnets[i].length == 0 ? 0 : ~uint32_t(0) << (32 - subnets[i].length);
    policy.net[i] = subnets[i].network & mask;
    policy.mask[i] = mask;
  }

  // The frame in a block of exactly its size: a read past it is a finding.
  const size_t len = in.frame_size();
  if (len > 0xFFFF) return 0;
  uint8_t* frame = new uint8_t[len];
  for (size_t i = 0; i < len; i++) frame[i] = in.frame()[i];

  const ParsedFrame p = classify_frame(frame, static_cast<uint32_t>(len));
  const bool arp = p.cls == FrameClass::arp_request || p.cls == FrameClass::arp_probe ||
                   p.cls == FrameClass::arp_gratuitous || p.cls == FrameClass::arp_reply;
  if (arp) {
    const Violation v = inspect_arp(frame, p, policy, bound, pack_mac(bound_mac));
    FUZZ_CHECK(v == expected_verdict(frame, p, subnets, count, bound, bound_mac));
    // A clean frame always speaks for its own source.
    if (v == Violation::none) FUZZ_CHECK(same_mac(frame + 6, frame + p.l3_offset + 8));
    // The same frame under a port with no subnets and no binding: only the frame itself counts.
    const Violation bare = inspect_arp(frame, p, InspectionPolicy{}, false, 0);
    FUZZ_CHECK(bare == Violation::none || bare == Violation::sha_mismatch ||
               bare == Violation::bad_sender_ip || bare == Violation::reply_dst_mismatch);
    if (v == Violation::none) FUZZ_CHECK(bare == Violation::none);
  }
  delete[] frame;
  return 0;
}
