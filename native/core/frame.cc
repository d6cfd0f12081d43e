#include "frame.h"

#include <cstring>

#include "binding.h"
#include "nd_frame.h"

namespace microarp {
namespace {

uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// The classifier writes into the caller's ParsedFrame rather than returning one: a struct
// built field by field and returned in registers went through the stack with narrow stores
// and a wide reload, a store-forwarding stall on every frame (perf: most of classify_frame's
// samples, and 12% of the replies when the struct grew for ND).
void fail(ParsedFrame& parsed, DropReason why) {
  parsed = ParsedFrame{FrameClass::malformed, why, false, 0, 0, 0};
}

// The ARP checks run in a fixed order, cheapest and most telling first, so that a frame with
// several faults is always counted under the same reason.
void classify_arp(const uint8_t* frame, uint32_t len, ParsedFrame& parsed) {
  const uint32_t off = parsed.l3_offset;
  if (len < off + kArpBodyLen) return fail(parsed, DropReason::arp_truncated);
  const uint8_t* arp = frame + off;
  if (load_be16(arp + arp_field::htype) != 1) return fail(parsed, DropReason::arp_bad_htype);
  if (load_be16(arp + arp_field::ptype) != kEtherTypeIpv4)
    return fail(parsed, DropReason::arp_bad_ptype);
  if (arp[arp_field::hlen] != 6) return fail(parsed, DropReason::arp_bad_hlen);
  if (arp[arp_field::plen] != 4) return fail(parsed, DropReason::arp_bad_plen);

  const uint16_t op = load_be16(arp + arp_field::op);
  if (op != kArpOpRequest && op != kArpOpReply) return fail(parsed, DropReason::arp_bad_opcode);

  const uint32_t spa = load_be32_raw(arp + arp_field::spa);
  const uint32_t tpa = load_be32_raw(arp + arp_field::tpa);
  if (spa == tpa && spa != 0) {
    parsed.cls = FrameClass::arp_gratuitous;
  } else if (op == kArpOpReply) {
    parsed.cls = FrameClass::arp_reply;
  } else if (spa == 0) {
    parsed.cls = FrameClass::arp_probe;
  } else {
    parsed.cls = FrameClass::arp_request;
  }
}

}  // namespace

uint32_t load_be32_raw(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void classify_frame_into(const uint8_t* frame, uint32_t len, ParsedFrame& parsed) {
  if (len < kEthHeaderLen) return fail(parsed, DropReason::truncated);

  parsed = ParsedFrame{FrameClass::other, DropReason::none, false, 0, kEthHeaderLen, 0};
  uint16_t ether_type = load_be16(frame + 12);
  if (ether_type == kEtherTypeVlan) {
    if (len < kEthHeaderLen + kVlanTagLen) return fail(parsed, DropReason::truncated);
    parsed.tagged = true;
    parsed.vlan = load_be16(frame + 14) & 0x0FFF;
    ether_type = load_be16(frame + 16);
    parsed.l3_offset = kEthHeaderLen + kVlanTagLen;
  }

  switch (ether_type) {
    case kEtherTypeArp:
      return classify_arp(frame, len, parsed);
    case kEtherTypeIpv4:
      parsed.cls = FrameClass::ipv4;
      return;
    case kEtherTypeIpv6:
      return classify_ipv6(frame, len, parsed);
    default:
      // A second tag (QinQ) is "other" too: it is switched, never answered.
      parsed.cls = FrameClass::other;
      return;
  }
}

ParsedFrame classify_frame(const uint8_t* frame, uint32_t len) {
  ParsedFrame parsed;
  classify_frame_into(frame, len, parsed);
  return parsed;
}

RequestVerdict decide_request(const uint8_t* frame, uint16_t l3_offset, bool found,
                              uint64_t owner_mac_word) {
  if (!found) return RequestVerdict::unbound;
  uint8_t owner[6];
  unpack_mac(owner_mac_word, owner);
  if (mac_equal(frame + l3_offset + arp_field::sha, owner)) return RequestVerdict::own_address;
  return RequestVerdict::answer;
}

uint32_t rewrite_request_into_reply(uint8_t* frame, uint32_t len, uint32_t capacity,
                                    uint16_t l3_offset, const uint8_t owner_mac[6]) {
  uint8_t* arp = frame + l3_offset;
  uint8_t requester_mac[6];
  uint8_t requester_ip[4];
  uint8_t target_ip[4];
  std::memcpy(requester_mac, arp + arp_field::sha, 6);
  std::memcpy(requester_ip, arp + arp_field::spa, 4);
  std::memcpy(target_ip, arp + arp_field::tpa, 4);

  std::memcpy(frame + 0, requester_mac, 6);  // eth.dst
  std::memcpy(frame + 6, owner_mac, 6);      // eth.src
  store_be16(arp + arp_field::op, kArpOpReply);
  std::memcpy(arp + arp_field::sha, owner_mac, 6);
  std::memcpy(arp + arp_field::spa, target_ip, 4);
  std::memcpy(arp + arp_field::tha, requester_mac, 6);
  std::memcpy(arp + arp_field::tpa, requester_ip, 4);

  // Bytes past the ARP body of the request (padding, trailers) are left as they were; a
  // short frame is padded with zeros so that the reply is a valid Ethernet frame.
  if (len < kMinFrameLen && capacity >= kMinFrameLen) {
    std::memset(frame + len, 0, kMinFrameLen - len);
    len = kMinFrameLen;
  }
  return len;
}

}  // namespace microarp
