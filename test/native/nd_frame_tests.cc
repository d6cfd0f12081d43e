// Unit tests of IPv6 Neighbor Discovery on byte arrays (native/core/nd_frame.h): the classes
// and where their link-layer address lies, every malformed case and the order of the checks,
// IPv6 that is not ND, the solicitation verdicts, the advertisement written over a solicitation
// (every field, against a checksum computed here the plain way) and ND inspection.
//
// Frames are classified from a heap block of exactly their length, so that the sanitized build
// (build/asan/nd_frame_tests) reports any read past the end.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <vector>

#include "binding.h"
#include "counters.h"
#include "frame.h"
#include "nd_frame.h"
#include "tap.h"

using namespace microarp;

namespace {

using Bytes = std::vector<uint8_t>;

const uint8_t kSolicitorMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t kOwnerMac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
const uint8_t kOtherMac[6] = {0x02, 0x66, 0x66, 0x66, 0x66, 0x66};
const uint8_t kRouterMac[6] = {0x02, 0x77, 0x00, 0x00, 0x00, 0x01};
const uint8_t kSolicitedNodeMac[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x07};
const uint8_t kAllNodesMac[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};

// 2001:db8::1 (the solicitor), 2001:db8::7 (the target), ff02::1:ff00:7 (its solicited-node
// group), ff02::1 (all nodes), :: (DAD), fe80::1 (a router).
const uint8_t kSolicitorIp[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const uint8_t kTargetIp[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
const uint8_t kSolicitedNode[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 7};
const uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const uint8_t kUnspecified[16] = {};
const uint8_t kRouterIp[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

constexpr uint8_t RS = 133, RA = 134, NS = 135, NA = 136, REDIRECT = 137;

// ---- the ICMPv6 checksum, the plain way --------------------------------------------------------
// Big-endian 16-bit words, one at a time, over the pseudo-header (source, destination, upper
// layer length as 32 bits, three zero bytes, next header 58) and the message; an odd last byte
// is padded with a zero; carries folded back until none is left. Shares nothing with
// nd_frame.cc's word-at-a-time native-order sum.
uint32_t sum_be(const uint8_t* p, size_t n, uint32_t acc) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += uint32_t(p[i]) << 8 | p[i + 1];
  if (n % 2 == 1) acc += uint32_t(p[n - 1]) << 8;
  return acc;
}

uint16_t fold_be(uint32_t acc) {
  while (acc > 0xFFFF) acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

// The one's complement sum of pseudo-header and message as they lie, checksum field included.
uint16_t sum_with_field(const uint8_t* ip6, size_t message_len) {
  uint32_t acc = sum_be(ip6 + 8, 32, 0);
  acc += uint32_t(message_len >> 16) + uint32_t(message_len & 0xFFFF);
  acc += 58;
  acc = sum_be(ip6 + 40, message_len, acc);
  return fold_be(acc);
}

// The checksum a sender computes (field taken as zero), as a big-endian number.
uint16_t reference_checksum(const uint8_t* ip6, size_t message_len) {
  Bytes copy(ip6, ip6 + 40 + message_len);
  copy[42] = copy[43] = 0;
  return static_cast<uint16_t>(~sum_with_field(copy.data(), message_len));
}

bool checksum_verifies(const uint8_t* ip6, size_t message_len) {
  return sum_with_field(ip6, message_len) == 0xFFFF;
}

uint16_t stored_checksum(const uint8_t* ip6) { return uint16_t(ip6[42] << 8 | ip6[43]); }

// ---- frames ------------------------------------------------------------------------------------
Bytes option(uint8_t type, const uint8_t* mac) {
  Bytes o = {type, 1};
  o.insert(o.end(), mac, mac + 6);
  return o;
}
Bytes sllao(const uint8_t* mac) { return option(1, mac); }
Bytes tllao(const uint8_t* mac) { return option(2, mac); }
Bytes nonce() { return {14, 1, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}; }
Bytes mtu_option() { return {5, 1, 0, 0, 0, 0, 0x05, 0xdc}; }
Bytes prefix_option() {
  Bytes o(32, 0);
  o[0] = 3;
  o[1] = 4;
  o[2] = 64;
  o[3] = 0xc0;
  std::memcpy(o.data() + 16, kTargetIp, 8);
  return o;
}
Bytes redirected_header_option() {
  Bytes o(48, 0xab);
  o[0] = 4;
  o[1] = 6;
  std::memset(o.data() + 2, 0, 6);
  return o;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct NdSpec {
  uint8_t type = NS;
  uint8_t code = 0;
  uint8_t hop_limit = 255;
  uint8_t version = 6;
  uint8_t next_header = 58;
  int vlan = -1;  // -1: untagged
  uint8_t pcp = 0;
  const uint8_t* eth_dst = kSolicitedNodeMac;
  const uint8_t* eth_src = kSolicitorMac;
  const uint8_t* src = kSolicitorIp;
  const uint8_t* dst = kSolicitedNode;
  const uint8_t* target = kTargetIp;
  uint8_t na_flags = 0;
  Bytes options;
  int payload_len = -1;    // -1: the message's length
  bool checksum = true;    // false: the checksum field left as 0xdead
  uint32_t pad_to = 0;     // Ethernet padding after the message, up to this frame length
  uint8_t pad_byte = 0;
};

// The fixed part of each ND message (RFC 4861 section 4); 8 bytes for other ICMPv6 types.
uint32_t fixed_len(uint8_t type) {
  switch (type) {
    case RA: return 16;
    case NS: case NA: return 24;
    case REDIRECT: return 40;
    default: return 8;
  }
}

uint32_t l3(const NdSpec& s) { return s.vlan >= 0 ? 18 : 14; }

Bytes nd_frame(const NdSpec& s) {
  Bytes f;
  f.insert(f.end(), s.eth_dst, s.eth_dst + 6);
  f.insert(f.end(), s.eth_src, s.eth_src + 6);
  if (s.vlan >= 0) {
    f.insert(f.end(), {0x81, 0x00, uint8_t(s.pcp << 5 | s.vlan >> 8), uint8_t(s.vlan & 0xFF)});
  }
  f.insert(f.end(), {0x86, 0xdd});

  Bytes msg(fixed_len(s.type), 0);
  msg[0] = s.type;
  msg[1] = s.code;
  if (s.type == NS || s.type == NA || s.type == REDIRECT) std::memcpy(msg.data() + 8, s.target, 16);
  if (s.type == NA) msg[4] = s.na_flags;
  if (s.type == REDIRECT) std::memcpy(msg.data() + 24, kSolicitorIp, 16);
  if (s.type == RA) {
    msg[4] = 64;  // current hop limit
    msg[6] = 0x07;  // router lifetime 1800 s
    msg[7] = 0x08;
  }
  msg.insert(msg.end(), s.options.begin(), s.options.end());
  const uint32_t payload = s.payload_len >= 0 ? uint32_t(s.payload_len) : uint32_t(msg.size());

  const uint32_t ip = static_cast<uint32_t>(f.size());
  f.insert(f.end(), {uint8_t(s.version << 4), 0, 0, 0, uint8_t(payload >> 8), uint8_t(payload),
                     s.next_header, s.hop_limit});
  f.insert(f.end(), s.src, s.src + 16);
  f.insert(f.end(), s.dst, s.dst + 16);
  f.insert(f.end(), msg.begin(), msg.end());
  uint16_t c = 0xdead;
  if (s.checksum) c = reference_checksum(f.data() + ip, msg.size());
  f[ip + 42] = uint8_t(c >> 8);
  f[ip + 43] = uint8_t(c);
  while (f.size() < s.pad_to) f.push_back(s.pad_byte);
  return f;
}

// Rewrites the checksum after a test changed the message.
void fix_checksum(Bytes& f, uint32_t off, uint32_t message_len) {
  const uint16_t c = reference_checksum(f.data() + off, message_len);
  f[off + 42] = uint8_t(c >> 8);
  f[off + 43] = uint8_t(c);
}

ParsedFrame classify_len(const Bytes& f, size_t len) {
  std::unique_ptr<uint8_t[]> exact(new uint8_t[len == 0 ? 1 : len]);
  if (len > 0) std::memcpy(exact.get(), f.data(), len);
  return classify_frame(exact.get(), static_cast<uint32_t>(len));
}

ParsedFrame classify(const Bytes& f) { return classify_len(f, f.size()); }

bool is_drop(const ParsedFrame& p, DropReason why) {
  return p.cls == FrameClass::malformed && p.drop == why;
}

bool lladdr_is(const Bytes& f, const ParsedFrame& p, const uint8_t* mac) {
  return p.lladdr_offset != 0 && p.lladdr_offset + 6u <= f.size() &&
         std::memcmp(f.data() + p.lladdr_offset, mac, 6) == 0;
}

NdSpec ns(Bytes options = sllao(kSolicitorMac)) {
  NdSpec s;
  s.options = std::move(options);
  return s;
}

NdSpec dad() {
  NdSpec s;
  s.src = kUnspecified;
  return s;
}

NdSpec na(Bytes options = tllao(kOwnerMac)) {
  NdSpec s;
  s.type = NA;
  s.na_flags = kNaOverride;
  s.eth_src = kOwnerMac;
  s.eth_dst = kAllNodesMac;
  s.src = kTargetIp;
  s.dst = kAllNodes;
  s.options = std::move(options);
  return s;
}

NdSpec rs(Bytes options = sllao(kSolicitorMac)) {
  NdSpec s;
  s.type = RS;
  s.dst = kAllNodes;
  s.eth_dst = kAllNodesMac;
  s.options = std::move(options);
  return s;
}

NdSpec ra(Bytes options = sllao(kRouterMac)) {
  NdSpec s;
  s.type = RA;
  s.eth_src = kRouterMac;
  s.eth_dst = kAllNodesMac;
  s.src = kRouterIp;
  s.dst = kAllNodes;
  s.options = std::move(options);
  return s;
}

NdSpec redirect(Bytes options = tllao(kOtherMac)) {
  NdSpec s;
  s.type = REDIRECT;
  s.eth_src = kRouterMac;
  s.eth_dst = kSolicitorMac;
  s.src = kRouterIp;
  s.dst = kSolicitorIp;
  s.options = std::move(options);
  return s;
}

// ---- classes from valid frames -----------------------------------------------------------------

TEST(ns_untagged, "ns: untagged with SLLAO is nd_ns at offset 14, lladdr at 80 on the SLLAO MAC") {
  const Bytes f = nd_frame(ns());
  CHECK(f.size() == 86);
  const ParsedFrame p = classify(f);
  CHECK(p.cls == FrameClass::nd_ns);
  CHECK(p.drop == DropReason::none);
  CHECK(!p.tagged && p.vlan == 0);
  CHECK(p.l3_offset == 14);
  CHECK(p.lladdr_offset == 14 + 40 + 24 + 2);
  CHECK(lladdr_is(f, p, kSolicitorMac));
}

TEST(ns_tagged, "ns: 802.1Q tagged (PCP 5, VLAN 100) is nd_ns at 18, lladdr at 84") {
  NdSpec s = ns();
  s.vlan = 100;
  s.pcp = 5;
  const Bytes f = nd_frame(s);
  const ParsedFrame p = classify(f);
  CHECK(p.cls == FrameClass::nd_ns);
  CHECK(p.tagged && p.vlan == 100);
  CHECK(p.l3_offset == 18);
  CHECK(p.lladdr_offset == 18 + 40 + 24 + 2);
  CHECK(lladdr_is(f, p, kSolicitorMac));
}

TEST(ns_no_option, "ns: without options (78 bytes, 82 tagged) is nd_ns with lladdr_offset 0") {
  for (int vlan : {-1, 10}) {
    NdSpec s = ns({});
    s.vlan = vlan;
    const Bytes f = nd_frame(s);
    CHECK(f.size() == (vlan < 0 ? 78u : 82u));
    const ParsedFrame p = classify(f);
    CHECK(p.cls == FrameClass::nd_ns);
    CHECK(p.lladdr_offset == 0);
  }
}

TEST(dad_class, "dad: an NS from :: without options is nd_dad, untagged and tagged") {
  for (int vlan : {-1, 20}) {
    NdSpec s = dad();
    s.vlan = vlan;
    const Bytes f = nd_frame(s);
    const ParsedFrame p = classify(f);
    CHECK(p.cls == FrameClass::nd_dad);
    CHECK(p.tagged == (vlan >= 0));
    CHECK(p.l3_offset == l3(s));
    CHECK(p.lladdr_offset == 0);
  }
  // A nonce (RFC 7527) is not a link-layer option: still DAD.
  NdSpec s = dad();
  s.options = nonce();
  CHECK(classify(nd_frame(s)).cls == FrameClass::nd_dad);
}

TEST(na_class, "na: with TLLAO (lladdr at the TLLAO MAC) and without, untagged and tagged") {
  for (int vlan : {-1, 4094}) {
    NdSpec s = na();
    s.vlan = vlan;
    Bytes f = nd_frame(s);
    ParsedFrame p = classify(f);
    CHECK(p.cls == FrameClass::nd_na);
    CHECK(p.vlan == (vlan < 0 ? 0 : 4094));
    CHECK(p.lladdr_offset == l3(s) + 40 + 24 + 2);
    CHECK(lladdr_is(f, p, kOwnerMac));
    s.options.clear();
    f = nd_frame(s);
    p = classify(f);
    CHECK(p.cls == FrameClass::nd_na);
    CHECK(p.lladdr_offset == 0);
  }
}

TEST(rs_class, "rs: with SLLAO (lladdr at 14+40+8+2) and without, untagged and tagged") {
  for (int vlan : {-1, 30}) {
    NdSpec s = rs();
    s.vlan = vlan;
    Bytes f = nd_frame(s);
    ParsedFrame p = classify(f);
    CHECK(p.cls == FrameClass::nd_rs);
    CHECK(p.lladdr_offset == l3(s) + 40 + 8 + 2);
    CHECK(lladdr_is(f, p, kSolicitorMac));
    s.options.clear();
    s.src = kUnspecified;  // an RS from :: carries no SLLAO
    f = nd_frame(s);
    p = classify(f);
    CHECK(p.cls == FrameClass::nd_rs);
    CHECK(p.lladdr_offset == 0);
  }
}

TEST(ra_class, "ra: SLLAO after prefix and MTU options is found (lladdr at 14+40+16+40+2)") {
  for (int vlan : {-1, 30}) {
    NdSpec s = ra(cat({prefix_option(), mtu_option(), sllao(kRouterMac)}));
    s.vlan = vlan;
    const Bytes f = nd_frame(s);
    const ParsedFrame p = classify(f);
    CHECK(p.cls == FrameClass::nd_ra);
    CHECK(p.lladdr_offset == l3(s) + 40 + 16 + 32 + 8 + 2);
    CHECK(lladdr_is(f, p, kRouterMac));
  }
  const ParsedFrame bare = classify(nd_frame(ra({})));
  CHECK(bare.cls == FrameClass::nd_ra);
  CHECK(bare.lladdr_offset == 0);
}

TEST(redirect_class, "redirect: TLLAO (not an SLLAO) is its lladdr; redirected header skipped") {
  for (int vlan : {-1, 30}) {
    NdSpec s = redirect(cat({redirected_header_option(), sllao(kRouterMac), tllao(kOtherMac)}));
    s.vlan = vlan;
    const Bytes f = nd_frame(s);
    const ParsedFrame p = classify(f);
    CHECK(p.cls == FrameClass::nd_redirect);
    CHECK(p.lladdr_offset == l3(s) + 40 + 40 + 48 + 8 + 2);
    CHECK(lladdr_is(f, p, kOtherMac));
  }
  const ParsedFrame only_source = classify(nd_frame(redirect(sllao(kRouterMac))));
  CHECK(only_source.cls == FrameClass::nd_redirect);
  CHECK(only_source.lladdr_offset == 0);
}

TEST(first_option_wins, "options: the first option of the message's kind wins; others skipped") {
  // NS: two SLLAOs, the first is the one acted on.
  Bytes f = nd_frame(ns(cat({sllao(kSolicitorMac), sllao(kOtherMac)})));
  ParsedFrame p = classify(f);
  CHECK(p.cls == FrameClass::nd_ns);
  CHECK(p.lladdr_offset == 80);
  CHECK(lladdr_is(f, p, kSolicitorMac));
  // NS: a TLLAO and a nonce before the SLLAO are skipped.
  f = nd_frame(ns(cat({tllao(kOtherMac), nonce(), sllao(kSolicitorMac)})));
  p = classify(f);
  CHECK(p.cls == FrameClass::nd_ns);
  CHECK(p.lladdr_offset == 14 + 40 + 24 + 16 + 2);
  CHECK(lladdr_is(f, p, kSolicitorMac));
  // NA: an SLLAO is not its kind; the TLLAO after it is.
  f = nd_frame(na(cat({sllao(kOtherMac), tllao(kOwnerMac), tllao(kOtherMac)})));
  p = classify(f);
  CHECK(p.cls == FrameClass::nd_na);
  CHECK(p.lladdr_offset == 14 + 40 + 24 + 8 + 2);
  CHECK(lladdr_is(f, p, kOwnerMac));
  // NA with only an SLLAO: no lladdr.
  p = classify(nd_frame(na(sllao(kOwnerMac))));
  CHECK(p.cls == FrameClass::nd_na);
  CHECK(p.lladdr_offset == 0);
  // An unknown option type of 16 bytes, then the SLLAO.
  Bytes unknown(16, 0x5a);
  unknown[0] = 200;
  unknown[1] = 2;
  f = nd_frame(ns(cat({unknown, sllao(kSolicitorMac)})));
  p = classify(f);
  CHECK(p.cls == FrameClass::nd_ns);
  CHECK(lladdr_is(f, p, kSolicitorMac));
  // A link-layer option longer than 8 bytes: the MAC is still its first 6 data bytes.
  Bytes long_sllao = cat({sllao(kSolicitorMac), Bytes(8, 0)});
  long_sllao[1] = 2;
  f = nd_frame(ns(long_sllao));
  p = classify(f);
  CHECK(p.cls == FrameClass::nd_ns);
  CHECK(p.lladdr_offset == 80);
  CHECK(lladdr_is(f, p, kSolicitorMac));
}

TEST(ethernet_padding, "padding: bytes past the payload length are neither options nor summed") {
  // Zero padding would be a zero-length option, and would change no sum: 0xFF padding would.
  for (uint8_t pad : {uint8_t(0), uint8_t(0xFF)}) {
    NdSpec s = rs({});
    s.pad_to = 100;  // 62 bytes without padding
    s.pad_byte = pad;
    Bytes f = nd_frame(s);
    CHECK(f.size() == 100);
    CHECK(classify(f).cls == FrameClass::nd_rs);
    NdSpec d = dad();
    d.pad_to = 128;
    d.pad_byte = pad;
    CHECK(classify(nd_frame(d)).cls == FrameClass::nd_dad);
    NdSpec n = ns();
    n.vlan = 7;
    n.pad_to = 1514;
    n.pad_byte = pad;
    f = nd_frame(n);
    const ParsedFrame p = classify(f);
    CHECK(p.cls == FrameClass::nd_ns);
    CHECK(lladdr_is(f, p, kSolicitorMac));
  }
}

TEST(checksum_forms, "checksum: stored 0xFFFF stands for a computed 0; odd and long messages") {
  // Make the sum of the message with a zero checksum 0xFFFF: a nonce word equal to the
  // checksum computed without it.
  NdSpec s = dad();
  s.options = {14, 1, 0, 0, 0, 0, 0, 0};
  Bytes f = nd_frame(s);
  const uint16_t c = stored_checksum(f.data() + 14);
  f[14 + 40 + 24 + 2] = uint8_t(c >> 8);
  f[14 + 40 + 24 + 3] = uint8_t(c);
  fix_checksum(f, 14, 32);
  CHECK(stored_checksum(f.data() + 14) == 0x0000);
  CHECK(classify(f).cls == FrameClass::nd_dad);
  f[14 + 42] = f[14 + 43] = 0xFF;
  CHECK(classify(f).cls == FrameClass::nd_dad);
  // icmpv6_checksum gives the form a sender computes, 0, whatever the field holds.
  uint8_t got[2];
  const uint16_t computed = icmpv6_checksum(f.data() + 14, 32);
  std::memcpy(got, &computed, 2);
  CHECK(got[0] == 0 && got[1] == 0);

  // A 200-byte RA (many options), summed right.
  NdSpec big = ra(cat({prefix_option(), prefix_option(), prefix_option(), prefix_option(),
                       prefix_option(), mtu_option(), sllao(kRouterMac)}));
  f = nd_frame(big);
  CHECK(classify(f).cls == FrameClass::nd_ra);
  f[f.size() - 1] ^= 1;
  CHECK(is_drop(classify(f), DropReason::nd_bad_checksum));
}

TEST(icmpv6_checksum_reference, "checksum: icmpv6_checksum equals the plain big-endian sum") {
  // Every message length from 4 to 80 (odd ones included), any field value, tagged or not.
  Bytes f = nd_frame(ns(cat({nonce(), sllao(kSolicitorMac), Bytes(48, 0)})));
  for (uint32_t i = 14 + 40 + 4; i < f.size(); i++) f[i] = uint8_t(i * 37 + 11);
  for (uint32_t len = 4; len <= 80; len++) {
    for (uint16_t field : {uint16_t(0), uint16_t(0x1234), uint16_t(0xFFFF)}) {
      f[14 + 42] = uint8_t(field >> 8);
      f[14 + 43] = uint8_t(field);
      const uint16_t want = reference_checksum(f.data() + 14, len);
      const uint16_t got = icmpv6_checksum(f.data() + 14, len);
      uint8_t bytes[2];
      std::memcpy(bytes, &got, 2);
      CHECK(bytes[0] == uint8_t(want >> 8) && bytes[1] == uint8_t(want));
      // And stored, it verifies.
      std::memcpy(f.data() + 14 + 42, &got, 2);
      CHECK(checksum_verifies(f.data() + 14, len));
    }
  }
}

// ---- malformed, one check at a time, then several at once --------------------------------------

TEST(truncated_payload_short, "nd_truncated: payload length short of each type's fixed part") {
  for (uint8_t type : {RS, RA, NS, NA, REDIRECT}) {
    NdSpec s;
    s.type = type;
    s.payload_len = int(fixed_len(type)) - 1;
    const ParsedFrame p = classify(nd_frame(s));
    CHECK(is_drop(p, DropReason::nd_truncated));
    s.payload_len = 0;
    CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_truncated));
    // Exactly the fixed part: valid (the NS target is a unicast address).
    s.payload_len = -1;
    CHECK(is_nd(classify(nd_frame(s)).cls));
  }
}

TEST(truncated_frame_short, "nd_truncated: the frame short of its payload length, by 1 and more") {
  for (int vlan : {-1, 10}) {
    NdSpec s = ns();
    s.vlan = vlan;
    const Bytes f = nd_frame(s);
    CHECK(is_drop(classify_len(f, f.size() - 1), DropReason::nd_truncated));
    CHECK(is_drop(classify_len(f, l3(s) + 40 + 1), DropReason::nd_truncated));
    CHECK(is_drop(classify_len(f, l3(s) + 40 + 24), DropReason::nd_truncated));
    CHECK(classify_len(f, f.size()).cls == FrameClass::nd_ns);
    // A payload length past the frame's end.
    s.payload_len = 33;
    CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_truncated));
  }
}

TEST(bad_hop_limit, "nd_bad_hop_limit: 254, 64, 1 and 0, for every type") {
  for (uint8_t type : {RS, RA, NS, NA, REDIRECT}) {
    for (uint8_t hops : {uint8_t(254), uint8_t(64), uint8_t(1), uint8_t(0)}) {
      NdSpec s;
      s.type = type;
      s.hop_limit = hops;
      CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_hop_limit));
    }
  }
}

TEST(bad_code, "nd_bad_code: code 1 and 255, for every type") {
  for (uint8_t type : {RS, RA, NS, NA, REDIRECT}) {
    for (uint8_t code : {uint8_t(1), uint8_t(255)}) {
      NdSpec s;
      s.type = type;
      s.code = code;
      CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_code));
    }
  }
}

TEST(bad_checksum, "nd_bad_checksum: a wrong field, a flipped byte in the message or addresses") {
  NdSpec s = ns();
  s.checksum = false;
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_checksum));
  const Bytes good = nd_frame(ns());
  // Any byte the sum covers: the addresses (pseudo-header), the target, the option.
  for (uint32_t at : {14u + 8, 14u + 39, 14u + 40 + 8, 14u + 40 + 4, 85u}) {
    Bytes f = good;
    f[at] ^= 0x40;
    CHECK(is_drop(classify(f), DropReason::nd_bad_checksum));
  }
  // The payload length is in the pseudo-header too: the same bytes summed as a shorter message.
  Bytes f = nd_frame(ns());
  f[14 + 5] = 24;  // 24 instead of 32: the option becomes padding
  CHECK(is_drop(classify(f), DropReason::nd_bad_checksum));
  // Traffic class and flow label are not summed.
  f = good;
  f[14] = 0x6f;
  f[14 + 3] = 0x99;
  CHECK(classify(f).cls == FrameClass::nd_ns);
}

TEST(bad_option_zero, "nd_bad_option: an option of length 0, first or after a good one") {
  Bytes zero = {1, 0, 0, 0, 0, 0, 0, 0};
  CHECK(is_drop(classify(nd_frame(ns(zero))), DropReason::nd_bad_option));
  CHECK(is_drop(classify(nd_frame(ns(cat({sllao(kSolicitorMac), zero})))),
                DropReason::nd_bad_option));
  // Unknown types too: the length is checked whatever the type.
  zero[0] = 99;
  CHECK(is_drop(classify(nd_frame(ra(cat({sllao(kRouterMac), zero})))), DropReason::nd_bad_option));
}

TEST(bad_option_past_end, "nd_bad_option: an option running past the end of the message") {
  Bytes too_long = sllao(kSolicitorMac);
  too_long[1] = 2;  // says 16 bytes, 8 are there
  CHECK(is_drop(classify(nd_frame(ns(too_long))), DropReason::nd_bad_option));
  // ...even though the frame goes on (Ethernet padding is not the message's).
  NdSpec s = ns(too_long);
  s.pad_to = 200;
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_option));
  too_long[1] = 255;
  CHECK(is_drop(classify(nd_frame(na(too_long))), DropReason::nd_bad_option));
  CHECK(is_drop(classify(nd_frame(redirect(cat({tllao(kOtherMac), too_long})))),
                DropReason::nd_bad_option));
}

TEST(bad_option_trailing, "nd_bad_option: one trailing byte (an odd message, summed right)") {
  for (uint8_t type : {RS, RA, NS, NA, REDIRECT}) {
    NdSpec s;
    s.type = type;
    s.options = {1};
    CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_option));
    s.options = cat({sllao(kSolicitorMac), {2}});
    CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_option));
  }
}

TEST(bad_option_dad_sllao, "nd_bad_option: an SLLAO on a DAD solicitation") {
  NdSpec s = dad();
  s.options = sllao(kSolicitorMac);
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_option));
  s.options = cat({nonce(), sllao(kSolicitorMac)});
  s.vlan = 5;
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_option));
  // A TLLAO is not the solicitation's kind: DAD still.
  s.options = tllao(kSolicitorMac);
  CHECK(classify(nd_frame(s)).cls == FrameClass::nd_dad);
}

TEST(bad_target, "nd_bad_target: a multicast NS (or DAD) or NA target") {
  NdSpec s = ns();
  s.target = kSolicitedNode;
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_target));
  s = dad();
  s.target = kAllNodes;
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_target));
  s = na();
  s.target = kAllNodes;
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_target));
  // ff00::/8 only: fe80:: and :: as targets are not multicast.
  s = ns();
  s.target = kRouterIp;
  CHECK(classify(nd_frame(s)).cls == FrameClass::nd_ns);
  // A redirect's target (a router, or the destination itself) is not checked here.
  s = redirect();
  s.target = kAllNodes;
  CHECK(classify(nd_frame(s)).cls == FrameClass::nd_redirect);
}

TEST(check_order, "order: truncated, hop limit, code, checksum, option, target, first wins") {
  // Everything wrong: a multicast target, an option of length 0, a bad checksum, code 1, hop
  // limit 64 and a payload length short of the frame. Each step below fixes the first fault.
  NdSpec s = ns({1, 0, 0, 0, 0, 0, 0, 0});
  s.target = kSolicitedNode;
  s.checksum = false;
  s.code = 1;
  s.hop_limit = 64;
  s.payload_len = 100;
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_truncated));
  s.payload_len = -1;
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_hop_limit));
  s.hop_limit = 255;
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_code));
  s.code = 0;
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_checksum));
  s.checksum = true;
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_option));
  s.options = sllao(kSolicitorMac);
  CHECK(is_drop(classify(nd_frame(s)), DropReason::nd_bad_target));
  s.target = kTargetIp;
  CHECK(classify(nd_frame(s)).cls == FrameClass::nd_ns);

  // A DAD solicitation with an SLLAO and a multicast target: the option is checked first.
  NdSpec d = dad();
  d.options = sllao(kSolicitorMac);
  d.target = kSolicitedNode;
  CHECK(is_drop(classify(nd_frame(d)), DropReason::nd_bad_option));
  // A bad option and a multicast NA target.
  NdSpec a = na({2, 0, 0, 0, 0, 0, 0, 0});
  a.target = kAllNodes;
  CHECK(is_drop(classify(nd_frame(a)), DropReason::nd_bad_option));
  // A frame short of its payload with every other fault: truncated, tagged too.
  NdSpec t = ns();
  t.vlan = 9;
  t.hop_limit = 1;
  t.code = 9;
  const Bytes f = nd_frame(t);
  CHECK(is_drop(classify_len(f, f.size() - 8), DropReason::nd_truncated));
}

// ---- IPv6 that is not Neighbor Discovery -------------------------------------------------------

TEST(not_nd_next_header, "ipv6: other next headers (UDP, hop-by-hop before ICMPv6) are ipv6") {
  for (uint8_t nh : {uint8_t(17), uint8_t(6), uint8_t(0), uint8_t(60), uint8_t(59)}) {
    NdSpec s = ns();
    s.next_header = nh;
    s.hop_limit = 64;
    s.checksum = false;
    const ParsedFrame p = classify(nd_frame(s));
    CHECK(p.cls == FrameClass::ipv6);
    CHECK(p.drop == DropReason::none);
    CHECK(p.lladdr_offset == 0);
  }
}

TEST(not_nd_types, "ipv6: other ICMPv6 types (echo 128/129, 1, 132, 138, 255) are ipv6") {
  for (uint8_t type : {uint8_t(128), uint8_t(129), uint8_t(1), uint8_t(132), uint8_t(138),
                       uint8_t(255), uint8_t(0)}) {
    NdSpec s;
    s.type = type;
    s.hop_limit = 64;    // would fail the ND checks
    s.checksum = false;
    s.code = 3;
    s.payload_len = 2;   // short of everything
    for (int vlan : {-1, 10}) {
      s.vlan = vlan;
      const ParsedFrame p = classify(nd_frame(s));
      CHECK(p.cls == FrameClass::ipv6);
      CHECK(p.drop == DropReason::none);
      CHECK(p.tagged == (vlan >= 0));
      CHECK(p.l3_offset == l3(s));
    }
  }
  // A valid echo request.
  NdSpec echo;
  echo.type = 128;
  echo.hop_limit = 64;
  CHECK(classify(nd_frame(echo)).cls == FrameClass::ipv6);
}

TEST(not_nd_short_header, "ipv6: an IPv6 header the frame does not hold (or no ICMPv6 type byte)") {
  for (int vlan : {-1, 10}) {
    NdSpec s = ns();
    s.vlan = vlan;
    const Bytes f = nd_frame(s);
    for (uint32_t cut : {0u, 1u, 20u, 39u, 40u}) {
      const ParsedFrame p = classify_len(f, l3(s) + cut);
      CHECK(p.cls == FrameClass::ipv6);
      CHECK(p.drop == DropReason::none);
    }
  }
}

TEST(not_nd_version, "ipv6: an EtherType 0x86DD frame whose version is not 6 is ipv6") {
  for (uint8_t version : {uint8_t(4), uint8_t(0), uint8_t(7), uint8_t(15)}) {
    NdSpec s = ns();
    s.version = version;
    CHECK(classify(nd_frame(s)).cls == FrameClass::ipv6);
  }
}

// ---- the solicitation verdict ------------------------------------------------------------------

uint64_t word(const uint8_t* mac, uint64_t extra = 0) {
  return binding_word(mac, static_cast<uint8_t>(BindingSource::configured)) | extra;
}

SolicitationVerdict verdict(const NdSpec& s, bool found, uint64_t owner) {
  const Bytes f = nd_frame(s);
  const ParsedFrame p = classify(f);
  CHECK(p.cls == FrameClass::nd_ns || p.cls == FrameClass::nd_dad);
  return decide_solicitation(f.data(), p, found, owner);
}

TEST(verdict_answer, "verdict: bound to another MAC -> answer (the source bits don't matter)") {
  CHECK(verdict(ns(), true, word(kOwnerMac)) == SolicitationVerdict::answer);
  CHECK(verdict(ns({}), true, word(kOwnerMac, kBindingRouter)) == SolicitationVerdict::answer);
  NdSpec s = ns();
  s.vlan = 10;
  CHECK(verdict(s, true, pack_mac(kOwnerMac)) == SolicitationVerdict::answer);
}

TEST(verdict_defend, "verdict: DAD of an address bound to another MAC -> defend") {
  CHECK(verdict(dad(), true, word(kOwnerMac)) == SolicitationVerdict::defend);
  NdSpec s = dad();
  s.vlan = 10;
  CHECK(verdict(s, true, word(kOwnerMac, kBindingRouter)) == SolicitationVerdict::defend);
}

TEST(verdict_own, "verdict: own_address by the SLLAO, or by the Ethernet source with no option") {
  // SLLAO = owner, Ethernet source another MAC: the option speaks.
  NdSpec s = ns(sllao(kOwnerMac));
  CHECK(verdict(s, true, word(kOwnerMac)) == SolicitationVerdict::own_address);
  // SLLAO another MAC, Ethernet source = owner: the option still speaks.
  s = ns(sllao(kOtherMac));
  s.eth_src = kOwnerMac;
  CHECK(verdict(s, true, word(kOwnerMac)) == SolicitationVerdict::answer);
  // No option: the Ethernet source.
  s = ns({});
  s.eth_src = kOwnerMac;
  CHECK(verdict(s, true, word(kOwnerMac)) == SolicitationVerdict::own_address);
  CHECK(verdict(s, true, word(kOtherMac)) == SolicitationVerdict::answer);
  // A host's own DAD.
  NdSpec d = dad();
  d.eth_src = kOwnerMac;
  CHECK(verdict(d, true, word(kOwnerMac, kBindingRouter)) == SolicitationVerdict::own_address);
}

TEST(verdict_unbound, "verdict: no binding -> unbound, whatever the word and the class") {
  CHECK(verdict(ns(), false, 0) == SolicitationVerdict::unbound);
  CHECK(verdict(ns(), false, word(kSolicitorMac)) == SolicitationVerdict::unbound);
  CHECK(verdict(dad(), false, word(kOwnerMac)) == SolicitationVerdict::unbound);
}

// ---- the advertisement written over a solicitation ---------------------------------------------

struct Rewritten {
  Bytes request;  // as classified
  Bytes frame;    // the buffer after the rewrite (capacity bytes)
  uint32_t length = 0;
  ParsedFrame parsed{};
};

// The worker's path: classify, then rewrite in an exact-size buffer of `capacity` bytes.
Rewritten rewrite(const NdSpec& s, uint32_t capacity, uint64_t owner_word, bool to_all_nodes) {
  Rewritten r;
  r.request = nd_frame(s);
  r.parsed = classify(r.request);
  CHECK(r.parsed.cls == FrameClass::nd_ns || r.parsed.cls == FrameClass::nd_dad);
  std::unique_ptr<uint8_t[]> buf(new uint8_t[capacity]);
  std::memset(buf.get(), 0xEE, capacity);
  std::memcpy(buf.get(), r.request.data(), std::min<size_t>(capacity, r.request.size()));
  r.length = rewrite_solicitation_into_advertisement(buf.get(), capacity, r.parsed, owner_word,
                                                     to_all_nodes);
  r.frame.assign(buf.get(), buf.get() + capacity);
  return r;
}

// Every field of the advertisement, against the solicitation it answers.
void check_advertisement(const Rewritten& r, const uint8_t* owner, bool router, bool dad_defence) {
  const uint32_t off = r.parsed.l3_offset;
  const uint8_t* f = r.frame.data();
  const uint8_t* q = r.request.data();
  CHECK(r.length == off + 40 + 32);
  CHECK(r.length == (r.parsed.tagged ? 90u : 86u));
  // Ethernet.
  CHECK(std::memcmp(f, dad_defence ? kAllNodesMac : q + 6, 6) == 0);
  CHECK(std::memcmp(f + 6, owner, 6) == 0);
  CHECK(std::memcmp(f + 12, q + 12, off - 12) == 0);  // the tag (PCP too) and the EtherType
  // IPv6.
  const uint8_t* ip = f + off;
  CHECK(ip[0] == 0x60 && ip[1] == 0 && ip[2] == 0 && ip[3] == 0);  // version 6, TC 0, flow 0
  CHECK(ip[4] == 0 && ip[5] == 32);                                 // payload length
  CHECK(ip[6] == 58);                                                // next header
  CHECK(ip[7] == 255);                                               // hop limit
  CHECK(std::memcmp(ip + 8, q + off + 40 + 8, 16) == 0);             // src: the target
  CHECK(std::memcmp(ip + 24, dad_defence ? kAllNodes : q + off + 8, 16) == 0);
  // ICMPv6.
  const uint8_t* m = ip + 40;
  CHECK(m[0] == 136 && m[1] == 0);
  const uint8_t flags = uint8_t((router ? 0x80 : 0) | (dad_defence ? 0 : 0x40) | 0x20);
  CHECK(m[4] == flags);
  CHECK(m[5] == 0 && m[6] == 0 && m[7] == 0);
  CHECK(std::memcmp(m + 8, q + off + 40 + 8, 16) == 0);  // the target
  CHECK(m[24] == 2 && m[25] == 1);                       // TLLAO, 8 bytes
  CHECK(std::memcmp(m + 26, owner, 6) == 0);
  // The checksum, against the plain sum.
  CHECK(stored_checksum(ip) == reference_checksum(ip, 32));
  CHECK(checksum_verifies(ip, 32));
  // Nothing past the advertisement written.
  for (uint32_t i = std::max<uint32_t>(r.length, uint32_t(r.request.size())); i < r.frame.size(); i++)
    CHECK(r.frame[i] == 0xEE);
  // It classifies back as a valid advertisement, its lladdr on the owner's MAC, in the VLAN.
  const Bytes na_frame(f, f + r.length);
  const ParsedFrame p = classify(na_frame);
  CHECK(p.cls == FrameClass::nd_na);
  CHECK(p.tagged == r.parsed.tagged && p.vlan == r.parsed.vlan);
  CHECK(p.lladdr_offset == off + 40 + 24 + 2);
  CHECK(lladdr_is(na_frame, p, owner));
  // And passes microarp's own inspection on the receiving side, the target bound to the owner.
  CHECK(inspect_nd(na_frame.data(), p, false, true, pack_mac(owner)) == Violation::none);
}

TEST(rewrite_answer, "rewrite: every field of the NA answering an untagged NS with SLLAO") {
  const Rewritten r = rewrite(ns(), 86, word(kOwnerMac), false);
  check_advertisement(r, kOwnerMac, false, false);
  // Unicast back to the solicitor.
  CHECK(std::memcmp(r.frame.data(), kSolicitorMac, 6) == 0);
  CHECK(std::memcmp(r.frame.data() + 14 + 24, kSolicitorIp, 16) == 0);
  CHECK(std::memcmp(r.frame.data() + 14 + 8, kTargetIp, 16) == 0);
  CHECK(r.frame[14 + 40 + 4] == 0x60);
}

TEST(rewrite_router, "rewrite: R from kBindingRouter in the word; no other bit leaks") {
  Rewritten r = rewrite(ns(), 86, word(kOwnerMac, kBindingRouter), false);
  check_advertisement(r, kOwnerMac, true, false);
  CHECK(r.frame[14 + 40 + 4] == 0xE0);
  // The source byte and every other high bit but 56 change nothing.
  const uint64_t noise = pack_mac(kOwnerMac) | (uint64_t(0xFF) << 48) | (uint64_t(0xFE) << 56);
  r = rewrite(ns(), 86, noise, false);
  check_advertisement(r, kOwnerMac, false, false);
}

TEST(rewrite_tagged, "rewrite: the 802.1Q tag and its priority are kept (90 bytes)") {
  NdSpec s = ns();
  s.vlan = 300;
  s.pcp = 6;
  const Rewritten r = rewrite(s, 90, word(kOwnerMac), false);
  check_advertisement(r, kOwnerMac, false, false);
  CHECK(r.frame[12] == 0x81 && r.frame[13] == 0x00);
  CHECK(r.frame[14] == (6 << 5 | 1) && r.frame[15] == 0x2c);
  CHECK(r.frame[16] == 0x86 && r.frame[17] == 0xdd);
}

TEST(rewrite_dad, "rewrite: a DAD defence goes to 33:33:00:00:00:01 and ff02::1, S clear") {
  for (int vlan : {-1, 10}) {
    for (bool router : {false, true}) {
      NdSpec s = dad();
      s.vlan = vlan;
      const Rewritten r =
          rewrite(s, vlan < 0 ? 86 : 90, word(kOwnerMac, router ? kBindingRouter : 0), true);
      check_advertisement(r, kOwnerMac, router, true);
      const uint32_t off = l3(s);
      CHECK(std::memcmp(r.frame.data(), kAllNodesMac, 6) == 0);
      CHECK(std::memcmp(r.frame.data() + off + 24, kAllNodes, 16) == 0);
      CHECK(r.frame[off + 40 + 4] == (router ? 0xA0 : 0x20));
    }
  }
}

TEST(rewrite_grows, "rewrite: an NS without options (78/82 bytes) grows by 8 when there is room") {
  for (int vlan : {-1, 10}) {
    NdSpec s = ns({});
    s.vlan = vlan;
    const uint32_t need = vlan < 0 ? 86 : 90;
    CHECK(nd_frame(s).size() == need - 8);
    for (uint32_t capacity : {need, need + 1, 2048u}) {
      const Rewritten r = rewrite(s, capacity, word(kOwnerMac), false);
      CHECK(r.length == need);
      check_advertisement(r, kOwnerMac, false, false);
    }
  }
}

TEST(rewrite_no_room, "rewrite: returns 0 and writes nothing when the capacity cannot hold it") {
  for (int vlan : {-1, 10}) {
    NdSpec s = ns({});
    s.vlan = vlan;
    const uint32_t need = vlan < 0 ? 86 : 90;
    for (uint32_t capacity : {need - 8, need - 1}) {
      const Rewritten r = rewrite(s, capacity, word(kOwnerMac), false);
      CHECK(r.length == 0);
      CHECK(std::memcmp(r.frame.data(), r.request.data(), need - 8) == 0);
    }
    NdSpec d = dad();
    d.vlan = vlan;
    const Rewritten r = rewrite(d, need - 1, word(kOwnerMac), true);
    CHECK(r.length == 0);
    CHECK(std::memcmp(r.frame.data(), r.request.data(), need - 8) == 0);
  }
}

TEST(rewrite_shrinks, "rewrite: a longer NS (nonce, SLLAO, padding) shrinks to 86") {
  NdSpec s = ns(cat({nonce(), sllao(kSolicitorMac)}));
  CHECK(nd_frame(s).size() == 94);
  Rewritten r = rewrite(s, 94, word(kOwnerMac), false);
  CHECK(r.length == 86);
  check_advertisement(r, kOwnerMac, false, false);
  // DAD with a nonce, tagged, padded.
  NdSpec d = dad();
  d.options = nonce();
  d.vlan = 4094;
  d.pad_to = 200;
  d.pad_byte = 0x77;
  r = rewrite(d, 200, word(kOwnerMac), true);
  CHECK(r.length == 90);
  check_advertisement(r, kOwnerMac, false, true);
}

TEST(rewrite_solicitor_without_option, "rewrite: an NS without SLLAO is answered to its Ethernet source") {
  NdSpec s = ns({});
  s.eth_src = kOtherMac;
  const Rewritten r = rewrite(s, 86, word(kOwnerMac), false);
  check_advertisement(r, kOwnerMac, false, false);
  CHECK(std::memcmp(r.frame.data(), kOtherMac, 6) == 0);
}

// ---- what a message speaks for, and inspection -------------------------------------------------

TEST(claimed_address, "claimed: an NS's source, an NA's target; none for DAD and router messages") {
  Bytes f = nd_frame(ns());
  CHECK(nd_claimed_address(f.data(), classify(f)) == f.data() + 14 + 8);
  NdSpec tagged_na = na();
  tagged_na.vlan = 3;
  f = nd_frame(tagged_na);
  CHECK(nd_claimed_address(f.data(), classify(f)) == f.data() + 18 + 40 + 8);
  for (const NdSpec& s : {dad(), rs(), ra(), redirect()}) {
    f = nd_frame(s);
    const ParsedFrame p = classify(f);
    CHECK(is_nd(p.cls));
    CHECK(nd_claimed_address(f.data(), p) == nullptr);
  }
}

Violation inspect(const NdSpec& s, bool router_port, bool bound = false, uint64_t owner = 0) {
  const Bytes f = nd_frame(s);
  const ParsedFrame p = classify(f);
  CHECK(is_nd(p.cls));
  return inspect_nd(f.data(), p, router_port, bound, owner);
}

TEST(inspect_ra_guard, "inspect: ra_guard on an RA or redirect unless the port is a router's") {
  CHECK(inspect(ra(), false) == Violation::ra_guard);
  CHECK(inspect(ra({}), false) == Violation::ra_guard);
  CHECK(inspect(redirect(), false) == Violation::ra_guard);
  CHECK(inspect(ra(), true) == Violation::none);
  CHECK(inspect(redirect(), true) == Violation::none);
  // Never on the other messages.
  for (const NdSpec& s : {ns(), dad(), na(), rs()}) CHECK(inspect(s, false) == Violation::none);
}

TEST(inspect_lladdr, "inspect: nd_lladdr_mismatch on NS, NA, RS and RA, never on a redirect") {
  NdSpec s = ns(sllao(kOtherMac));
  CHECK(inspect(s, false) == Violation::nd_lladdr_mismatch);
  CHECK(inspect(s, true) == Violation::nd_lladdr_mismatch);
  s = na(tllao(kOtherMac));
  CHECK(inspect(s, false) == Violation::nd_lladdr_mismatch);
  s = rs(sllao(kOtherMac));
  CHECK(inspect(s, false) == Violation::nd_lladdr_mismatch);
  s = ra(sllao(kOtherMac));
  CHECK(inspect(s, true) == Violation::nd_lladdr_mismatch);
  // A redirect's TLLAO is the better first hop's: another MAC by design.
  s = redirect(tllao(kOtherMac));
  CHECK(inspect(s, true) == Violation::none);
  // The option that counts is the first of the message's kind.
  s = ns(cat({sllao(kSolicitorMac), sllao(kOtherMac)}));
  CHECK(inspect(s, false) == Violation::none);
  s = ns(cat({tllao(kOtherMac), sllao(kSolicitorMac)}));
  CHECK(inspect(s, false) == Violation::none);
  // One byte of the MAC is enough.
  uint8_t almost[6];
  std::memcpy(almost, kSolicitorMac, 6);
  almost[5] ^= 0x80;
  CHECK(inspect(ns(sllao(almost)), false) == Violation::nd_lladdr_mismatch);
}

TEST(inspect_spoofed, "inspect: nd_spoofed_binding for an NS source / NA target bound elsewhere") {
  // NS from 2001:db8::1, bound to another MAC: by its SLLAO, or by its Ethernet source.
  CHECK(inspect(ns(), false, true, word(kOtherMac)) == Violation::nd_spoofed_binding);
  CHECK(inspect(ns({}), false, true, word(kOtherMac)) == Violation::nd_spoofed_binding);
  CHECK(inspect(ns(), false, true, word(kSolicitorMac)) == Violation::none);
  CHECK(inspect(ns({}), false, true, word(kSolicitorMac, kBindingRouter)) == Violation::none);
  CHECK(inspect(ns(), false, false, word(kOtherMac)) == Violation::none);
  // NA for 2001:db8::7 from the owner, or from someone else.
  CHECK(inspect(na(), false, true, word(kOwnerMac)) == Violation::none);
  CHECK(inspect(na({}), false, true, word(kOwnerMac)) == Violation::none);
  NdSpec liar = na();
  liar.eth_src = kOtherMac;
  liar.options = tllao(kOtherMac);
  CHECK(inspect(liar, false, true, word(kOwnerMac)) == Violation::nd_spoofed_binding);
  liar.options.clear();
  CHECK(inspect(liar, false, true, word(kOwnerMac)) == Violation::nd_spoofed_binding);
  // Solicited or not, override or not.
  liar.na_flags = kNaSolicited;
  CHECK(inspect(liar, false, true, word(kOwnerMac)) == Violation::nd_spoofed_binding);
  CHECK(inspect(liar, false, false, 0) == Violation::none);
}

TEST(inspect_order, "inspect: ra_guard, then lladdr mismatch, then spoofed binding") {
  // An RA on an untrusted non-router port with a mismatching SLLAO: ra_guard.
  CHECK(inspect(ra(sllao(kOtherMac)), false, true, word(kOtherMac)) == Violation::ra_guard);
  // An NS whose SLLAO mismatches and whose source is bound elsewhere: the mismatch.
  CHECK(inspect(ns(sllao(kOtherMac)), false, true, word(kOwnerMac)) ==
        Violation::nd_lladdr_mismatch);
  NdSpec liar = na(tllao(kOtherMac));
  CHECK(inspect(liar, false, true, word(kOtherMac)) == Violation::nd_lladdr_mismatch);
  // Mismatch fixed: the binding speaks.
  CHECK(inspect(ns(), false, true, word(kOwnerMac)) == Violation::nd_spoofed_binding);
}

TEST(ipv6_helpers, "helpers: ff00::/8 is multicast, :: alone is unspecified") {
  CHECK(ipv6_is_multicast(kAllNodes) && ipv6_is_multicast(kSolicitedNode));
  CHECK(!ipv6_is_multicast(kTargetIp) && !ipv6_is_multicast(kRouterIp));
  CHECK(ipv6_is_unspecified(kUnspecified));
  uint8_t one_bit[16] = {};
  for (int i = 0; i < 16; i++) {
    one_bit[i] = 1;
    CHECK(!ipv6_is_unspecified(one_bit));
    one_bit[i] = 0;
  }
}

}  // namespace

int main() { return tap::run_all(); }
