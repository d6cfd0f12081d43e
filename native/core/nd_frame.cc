#include "nd_frame.h"

#include <cstring>

#include "binding.h"

namespace microarp {
namespace {

uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// As frame.cc's: the classifier writes into the caller's ParsedFrame.
void fail(ParsedFrame& parsed, DropReason why) {
  parsed = ParsedFrame{FrameClass::malformed, why, false, 0, 0, 0};
}

// The fixed part of each ND message, before its options (RFC 4861 section 4), by type - 133.
constexpr uint32_t kFixedLen[5] = {8, 16, 24, 24, 40};

// The option carrying the sender's (1) or the target's (2) link-layer address, by type - 133:
// an NA and a redirect speak of their target's.
constexpr uint8_t kLladdrOption[5] = {1, 1, 1, 2, 2};

// One's complement sum of `len` bytes as native 16-bit words, folded to 32 bits. Summing in
// native order and storing the result as it lies is RFC 1071's byte-order independence: no
// swap per word. Four bytes a step: an ND message is 24-72 bytes.
uint64_t sum_words(const uint8_t* p, uint32_t len, uint64_t acc) {
  for (; len >= 4; p += 4, len -= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    acc += w;
  }
  if (len >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    acc += w;
    p += 2;
    len -= 2;
  }
  if (len == 1) {
    const uint8_t last[2] = {p[0], 0};
    uint16_t w;
    std::memcpy(&w, last, 2);
    acc += w;
  }
  return acc;
}

uint16_t fold(uint64_t acc) {
  acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
  acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
  acc = (acc & 0xFFFF) + (acc >> 16);
  acc = (acc & 0xFFFF) + (acc >> 16);
  acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

// The sum of the pseudo-header (RFC 8200 section 8.1) and the message, checksum included.
uint16_t icmpv6_sum(const uint8_t* ip6, uint32_t message_len) {
  const uint8_t tail[8] = {static_cast<uint8_t>(message_len >> 24),
                           static_cast<uint8_t>(message_len >> 16),
                           static_cast<uint8_t>(message_len >> 8),
                           static_cast<uint8_t>(message_len), 0, 0, 0, kNextHeaderIcmpv6};
  uint64_t acc = sum_words(ip6 + ip6_field::src, 32, 0);
  acc = sum_words(tail, 8, acc);
  acc = sum_words(ip6 + kIpv6HeaderLen, message_len, acc);
  return fold(acc);
}

const uint8_t* lladdr_or_source(const uint8_t* frame, const ParsedFrame& parsed) {
  return parsed.lladdr_offset != 0 ? frame + parsed.lladdr_offset : frame + 6;
}

}  // namespace

bool ipv6_is_unspecified(const uint8_t* addr) {
  uint64_t hi, lo;
  std::memcpy(&hi, addr, 8);
  std::memcpy(&lo, addr + 8, 8);
  return (hi | lo) == 0;
}

uint16_t icmpv6_checksum(const uint8_t* ip6, uint32_t message_len) {
  uint16_t stored;
  std::memcpy(&stored, ip6 + kIpv6HeaderLen + nd_field::checksum, 2);
  // The sum with the field as zero: take the field's own words back out.
  uint32_t without = uint32_t(icmpv6_sum(ip6, message_len)) + uint16_t(~stored);
  without = (without & 0xFFFF) + (without >> 16);
  return static_cast<uint16_t>(~without);
}

void classify_ipv6(const uint8_t* frame, uint32_t len, ParsedFrame& parsed) {
  parsed.cls = FrameClass::ipv6;
  const uint32_t off = parsed.l3_offset;
  if (len < off + kIpv6HeaderLen + 1) return;
  const uint8_t* ip6 = frame + off;
  if ((ip6[0] >> 4) != 6 || ip6[ip6_field::next_header] != kNextHeaderIcmpv6) return;
  const uint8_t* msg = ip6 + kIpv6HeaderLen;
  const uint8_t type = msg[nd_field::type];
  if (type < icmp6_type::router_solicitation || type > icmp6_type::redirect) return;

  const unsigned kind = type - icmp6_type::router_solicitation;
  const uint32_t payload = load_be16(ip6 + ip6_field::payload_length);
  if (payload < kFixedLen[kind] || len < off + kIpv6HeaderLen + payload)
    return fail(parsed, DropReason::nd_truncated);
  if (ip6[ip6_field::hop_limit] != kNdHopLimit) return fail(parsed, DropReason::nd_bad_hop_limit);
  if (msg[nd_field::code] != 0) return fail(parsed, DropReason::nd_bad_code);
  if (icmpv6_sum(ip6, payload) != 0xFFFF) return fail(parsed, DropReason::nd_bad_checksum);

  // Options (RFC 4861 4.6): type, length in units of 8 bytes (never 0), data. The first
  // link-layer address option of the kind this message carries is the one acted on.
  for (uint32_t at = kFixedLen[kind]; at < payload;) {
    if (payload - at < 2) return fail(parsed, DropReason::nd_bad_option);
    const uint32_t option_len = uint32_t(msg[at + 1]) * 8;
    if (option_len == 0 || option_len > payload - at) return fail(parsed, DropReason::nd_bad_option);
    if (msg[at] == kLladdrOption[kind] && parsed.lladdr_offset == 0)
      parsed.lladdr_offset = static_cast<uint16_t>(off + kIpv6HeaderLen + at + 2);
    at += option_len;
  }

  switch (type) {
    case icmp6_type::neighbor_solicitation: {
      // RFC 4861 7.1.1: a solicitation from :: carries no source link-layer address. An
      // option fault, so checked before the target, as the documented order says.
      const bool dad = ipv6_is_unspecified(ip6 + ip6_field::src);
      if (dad && parsed.lladdr_offset != 0) return fail(parsed, DropReason::nd_bad_option);
      if (ipv6_is_multicast(msg + nd_field::target)) return fail(parsed, DropReason::nd_bad_target);
      parsed.cls = dad ? FrameClass::nd_dad : FrameClass::nd_ns;
      break;
    }
    case icmp6_type::neighbor_advertisement:
      if (ipv6_is_multicast(msg + nd_field::target)) return fail(parsed, DropReason::nd_bad_target);
      parsed.cls = FrameClass::nd_na;
      break;
    case icmp6_type::router_solicitation: parsed.cls = FrameClass::nd_rs; break;
    case icmp6_type::router_advertisement: parsed.cls = FrameClass::nd_ra; break;
    default: parsed.cls = FrameClass::nd_redirect; break;
  }
}

SolicitationVerdict decide_solicitation(const uint8_t* frame, const ParsedFrame& parsed,
                                        bool found, uint64_t owner_word) {
  if (!found) return SolicitationVerdict::unbound;
  uint8_t owner[6];
  unpack_mac(owner_word, owner);
  if (mac_equal(lladdr_or_source(frame, parsed), owner)) return SolicitationVerdict::own_address;
  return parsed.cls == FrameClass::nd_dad ? SolicitationVerdict::defend
                                          : SolicitationVerdict::answer;
}

uint32_t rewrite_solicitation_into_advertisement(uint8_t* frame, uint32_t capacity,
                                                 const ParsedFrame& parsed, uint64_t owner_word,
                                                 bool to_all_nodes) {
  const uint32_t off = parsed.l3_offset;
  const uint32_t length = off + kIpv6HeaderLen + kNaMessageLen;
  if (capacity < length) return 0;
  uint8_t* ip6 = frame + off;
  uint8_t* msg = ip6 + kIpv6HeaderLen;
  static const uint8_t kAllNodesMac[6] = {0x33, 0x33, 0, 0, 0, 1};
  static const uint8_t kAllNodes[16] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const uint8_t flags = static_cast<uint8_t>(((owner_word & kBindingRouter) ? kNaRouter : 0) |
                                             (to_all_nodes ? 0 : kNaSolicited) | kNaOverride);

  // The message as 8-byte words in frame order: the fixed part's first word, and the target
  // link-layer address option (type 2, length 1, the MAC, which owner_word holds in its low
  // 48 bits in frame order).
  const uint8_t head[8] = {icmp6_type::neighbor_advertisement, 0, 0, 0, flags, 0, 0, 0};
  uint64_t head_word, option_word;
  std::memcpy(&head_word, head, 8);
  const uint8_t option_type_length[2] = {2, 1};
  uint16_t option_prefix;
  std::memcpy(&option_prefix, option_type_length, 2);
  option_word = uint64_t(option_prefix) | ((owner_word & 0xFFFFFFFFFFFFull) << 16);

  // The checksum from what the solicitation already holds, before anything is written: reading
  // back bytes just stored in pieces would stall on store forwarding. The pseudo-header's two
  // addresses are the solicitation's source and its target, swapped (a DAD's source is ::,
  // which sums to nothing, and all-nodes takes its place); the target counts twice, once there
  // and once in the message.
  const uint8_t tail[8] = {0, 0, 0, kNaMessageLen, 0, 0, 0, kNextHeaderIcmpv6};
  uint64_t acc = sum_words(ip6 + ip6_field::src, 16, 0);
  const uint64_t target_sum = sum_words(msg + nd_field::target, 16, 0);
  acc += 2 * target_sum;
  if (to_all_nodes) acc = sum_words(kAllNodes, 16, acc);
  acc = sum_words(tail, 8, acc);
  acc += (head_word & 0xFFFFFFFFu) + (head_word >> 32);
  acc += (option_word & 0xFFFFFFFFu) + (option_word >> 32);
  const uint16_t checksum = static_cast<uint16_t>(~fold(acc));

  std::memcpy(frame + 0, to_all_nodes ? kAllNodesMac : frame + 6, 6);
  std::memcpy(frame + 6, &owner_word, 6);

  // The target stays where the solicitation had it (offset 8 in both messages).
  const uint8_t version_class_flow[4] = {0x60, 0, 0, 0};
  std::memcpy(ip6, version_class_flow, 4);
  ip6[ip6_field::payload_length] = 0;
  ip6[ip6_field::payload_length + 1] = kNaMessageLen;
  ip6[ip6_field::next_header] = kNextHeaderIcmpv6;
  ip6[ip6_field::hop_limit] = kNdHopLimit;
  std::memcpy(ip6 + ip6_field::dst, to_all_nodes ? kAllNodes : ip6 + ip6_field::src, 16);
  std::memcpy(ip6 + ip6_field::src, msg + nd_field::target, 16);

  std::memcpy(msg, &head_word, 8);
  std::memcpy(msg + nd_field::checksum, &checksum, 2);
  std::memcpy(msg + 24, &option_word, 8);
  return length;
}

const uint8_t* nd_claimed_address(const uint8_t* frame, const ParsedFrame& parsed) {
  const uint8_t* ip6 = frame + parsed.l3_offset;
  if (parsed.cls == FrameClass::nd_ns) return ip6 + ip6_field::src;
  if (parsed.cls == FrameClass::nd_na) return ip6 + kIpv6HeaderLen + nd_field::target;
  return nullptr;
}

Violation inspect_nd(const uint8_t* frame, const ParsedFrame& parsed, bool router_port,
                     bool claimed_bound, uint64_t claimed_word) {
  const FrameClass cls = parsed.cls;
  if ((cls == FrameClass::nd_ra || cls == FrameClass::nd_redirect) && !router_port)
    return Violation::ra_guard;
  // A redirect's target link-layer address is the better first hop's, not the sender's.
  if (cls != FrameClass::nd_redirect && parsed.lladdr_offset != 0 &&
      !mac_equal(frame + parsed.lladdr_offset, frame + 6))
    return Violation::nd_lladdr_mismatch;
  if (claimed_bound) {
    uint8_t owner[6];
    unpack_mac(claimed_word, owner);
    if (!mac_equal(owner, lladdr_or_source(frame, parsed))) return Violation::nd_spoofed_binding;
  }
  return Violation::none;
}

}  // namespace microarp
