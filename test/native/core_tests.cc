// Unit tests of the pure core (classification, verdicts, reply rewrite) on byte arrays.
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "binding.h"
#include "counters.h"
#include "fdb_entry.h"
#include "frame.h"
#include "tap.h"
#include "vlan_policy.h"

using namespace microarp;

namespace {

const uint8_t kRequesterMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t kOwnerMac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
const uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct ArpSpec {
  uint16_t op = 1;
  uint8_t spa[4] = {10, 0, 0, 1};
  uint8_t tpa[4] = {10, 0, 0, 7};
  int vlan = -1;  // -1: untagged
  uint16_t htype = 1, ptype = 0x0800;
  uint8_t hlen = 6, plen = 4;
  uint32_t pad_to = 60;
};

std::vector<uint8_t> arp_frame(const ArpSpec& s) {
  std::vector<uint8_t> f;
  auto put16 = [&](uint16_t v) { f.push_back(v >> 8); f.push_back(v & 0xff); };
  auto put = [&](const uint8_t* p, size_t n) { f.insert(f.end(), p, p + n); };
  put(kBroadcast, 6);
  put(kRequesterMac, 6);
  if (s.vlan >= 0) {
    put16(0x8100);
    put16(static_cast<uint16_t>(0x2000 | s.vlan));  // priority 1 must not leak into the VLAN
  }
  put16(0x0806);
  put16(s.htype);
  put16(s.ptype);
  f.push_back(s.hlen);
  f.push_back(s.plen);
  put16(s.op);
  put(kRequesterMac, 6);
  put(s.spa, 4);
  const uint8_t zero[6] = {};
  put(zero, 6);
  put(s.tpa, 4);
  while (f.size() < s.pad_to) f.push_back(0);
  return f;
}

std::vector<uint8_t> ether_frame(uint16_t type, size_t len) {
  std::vector<uint8_t> f(len, 0);
  std::memcpy(f.data(), kBroadcast, 6);
  std::memcpy(f.data() + 6, kRequesterMac, 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  return f;
}

ParsedFrame classify(const std::vector<uint8_t>& f) {
  return classify_frame(f.data(), static_cast<uint32_t>(f.size()));
}

TEST(request_untagged, "request: untagged who-has is an arp_request at offset 14") {
  ParsedFrame p = classify(arp_frame({}));
  CHECK(p.cls == FrameClass::arp_request);
  CHECK(!p.tagged);
  CHECK(p.vlan == 0);
  CHECK(p.l3_offset == 14);
}

TEST(request_tagged, "request: one 802.1Q tag gives the VLAN id without priority bits") {
  ArpSpec s;
  s.vlan = 100;
  ParsedFrame p = classify(arp_frame(s));
  CHECK(p.cls == FrameClass::arp_request);
  CHECK(p.tagged);
  CHECK(p.vlan == 100);
  CHECK(p.l3_offset == 18);
}

TEST(reply_class, "reply: op 2 with distinct addresses is an arp_reply") {
  ArpSpec s;
  s.op = 2;
  CHECK(classify(arp_frame(s)).cls == FrameClass::arp_reply);
}

TEST(garp_request, "gratuitous: request with spa == tpa") {
  ArpSpec s;
  std::memcpy(s.tpa, s.spa, 4);
  CHECK(classify(arp_frame(s)).cls == FrameClass::arp_gratuitous);
}

TEST(garp_reply, "gratuitous: reply with spa == tpa") {
  ArpSpec s;
  s.op = 2;
  std::memcpy(s.tpa, s.spa, 4);
  CHECK(classify(arp_frame(s)).cls == FrameClass::arp_gratuitous);
}

TEST(probe, "probe: request with spa 0.0.0.0 is an arp_probe") {
  ArpSpec s;
  std::memset(s.spa, 0, 4);
  CHECK(classify(arp_frame(s)).cls == FrameClass::arp_probe);
}

TEST(minimum_arp_unpadded, "request: an unpadded 42-byte frame is still a valid request") {
  ArpSpec s;
  s.pad_to = 0;
  std::vector<uint8_t> f = arp_frame(s);
  CHECK(f.size() == 42);
  CHECK(classify(f).cls == FrameClass::arp_request);
}

TEST(truncated_eth, "malformed: shorter than an Ethernet header") {
  std::vector<uint8_t> f = arp_frame({});
  for (uint32_t len : {0u, 1u, 13u}) {
    ParsedFrame p = classify_frame(f.data(), len);
    CHECK(p.cls == FrameClass::malformed);
    CHECK(p.drop == DropReason::truncated);
  }
}

TEST(truncated_vlan, "malformed: 802.1Q TPID but no room for the tag") {
  ArpSpec s;
  s.vlan = 5;
  std::vector<uint8_t> f = arp_frame(s);
  ParsedFrame p = classify_frame(f.data(), 16);
  CHECK(p.cls == FrameClass::malformed);
  CHECK(p.drop == DropReason::truncated);
}

TEST(truncated_arp, "malformed: ARP body cut short, untagged and tagged") {
  ArpSpec s;
  s.pad_to = 0;
  std::vector<uint8_t> f = arp_frame(s);
  ParsedFrame p = classify_frame(f.data(), 41);
  CHECK(p.cls == FrameClass::malformed);
  CHECK(p.drop == DropReason::arp_truncated);
  s.vlan = 7;
  f = arp_frame(s);
  p = classify_frame(f.data(), 45);
  CHECK(p.drop == DropReason::arp_truncated);
  p = classify_frame(f.data(), 46);
  CHECK(p.cls == FrameClass::arp_request);
}

TEST(bad_htype, "malformed: htype != 1") {
  ArpSpec s;
  s.htype = 6;
  ParsedFrame p = classify(arp_frame(s));
  CHECK(p.cls == FrameClass::malformed);
  CHECK(p.drop == DropReason::arp_bad_htype);
}

TEST(bad_ptype, "malformed: ptype != 0x0800") {
  ArpSpec s;
  s.ptype = 0x86dd;
  CHECK(classify(arp_frame(s)).drop == DropReason::arp_bad_ptype);
}

TEST(bad_hlen, "malformed: hlen != 6") {
  ArpSpec s;
  s.hlen = 8;
  CHECK(classify(arp_frame(s)).drop == DropReason::arp_bad_hlen);
}

TEST(bad_plen, "malformed: plen != 4") {
  ArpSpec s;
  s.plen = 16;
  CHECK(classify(arp_frame(s)).drop == DropReason::arp_bad_plen);
}

TEST(bad_opcode, "malformed: opcode other than 1 or 2 (0, 3, 0xffff)") {
  for (uint16_t op : {uint16_t(0), uint16_t(3), uint16_t(0xffff)}) {
    ArpSpec s;
    s.op = op;
    ParsedFrame p = classify(arp_frame(s));
    CHECK(p.cls == FrameClass::malformed);
    CHECK(p.drop == DropReason::arp_bad_opcode);
  }
}

TEST(check_order, "malformed: several faults always count under the first check") {
  ArpSpec s;
  s.htype = 9;
  s.plen = 9;
  s.op = 9;
  CHECK(classify(arp_frame(s)).drop == DropReason::arp_bad_htype);
}

TEST(other_types, "classes: IPv4, IPv6, other, and a second tag (QinQ) as other") {
  CHECK(classify(ether_frame(0x0800, 60)).cls == FrameClass::ipv4);
  CHECK(classify(ether_frame(0x86dd, 60)).cls == FrameClass::ipv6);
  CHECK(classify(ether_frame(0x88cc, 60)).cls == FrameClass::other);
  std::vector<uint8_t> qinq = ether_frame(0x8100, 60);
  qinq[14] = 0x00;
  qinq[15] = 0x0a;
  qinq[16] = 0x81;
  qinq[17] = 0x00;
  ParsedFrame p = classify(qinq);
  CHECK(p.cls == FrameClass::other);
  CHECK(p.vlan == 10);
}

TEST(verdict_answer, "verdict: bound target, requester not the owner -> answer") {
  std::vector<uint8_t> f = arp_frame({});
  CHECK(decide_request(f.data(), 14, true, pack_mac(kOwnerMac)) == RequestVerdict::answer);
}

TEST(verdict_unbound, "verdict: no binding -> unbound") {
  std::vector<uint8_t> f = arp_frame({});
  CHECK(decide_request(f.data(), 14, false, 0) == RequestVerdict::unbound);
}

TEST(verdict_own, "verdict: request from the binding's own MAC -> own_address") {
  std::vector<uint8_t> f = arp_frame({});
  CHECK(decide_request(f.data(), 14, true, pack_mac(kRequesterMac)) ==
        RequestVerdict::own_address);
}

TEST(verdict_probe_conflict, "verdict: probe for an address bound to another MAC -> answer") {
  ArpSpec s;
  std::memset(s.spa, 0, 4);
  std::vector<uint8_t> f = arp_frame(s);
  CHECK(decide_request(f.data(), 14, true, pack_mac(kOwnerMac)) == RequestVerdict::answer);
}

void check_reply(const std::vector<uint8_t>& reply, uint32_t off, const ArpSpec& request) {
  CHECK(std::memcmp(reply.data(), kRequesterMac, 6) == 0);      // eth.dst
  CHECK(std::memcmp(reply.data() + 6, kOwnerMac, 6) == 0);      // eth.src
  CHECK(reply[off + 6] == 0 && reply[off + 7] == 2);            // op
  CHECK(reply[off] == 0 && reply[off + 1] == 1);                // htype kept
  CHECK(reply[off + 2] == 0x08 && reply[off + 3] == 0x00);      // ptype kept
  CHECK(reply[off + 4] == 6 && reply[off + 5] == 4);
  CHECK(std::memcmp(reply.data() + off + 8, kOwnerMac, 6) == 0);       // sha
  CHECK(std::memcmp(reply.data() + off + 14, request.tpa, 4) == 0);    // spa
  CHECK(std::memcmp(reply.data() + off + 18, kRequesterMac, 6) == 0);  // tha
  CHECK(std::memcmp(reply.data() + off + 24, request.spa, 4) == 0);    // tpa
}

TEST(reply_untagged, "reply: every field of an untagged reply") {
  ArpSpec s;
  std::vector<uint8_t> f = arp_frame(s);
  uint32_t len = rewrite_request_into_reply(f.data(), 60, 60, 14, kOwnerMac);
  CHECK(len == 60);
  check_reply(f, 14, s);
  CHECK(f[12] == 0x08 && f[13] == 0x06);
}

TEST(reply_tagged, "reply: the VLAN tag (and its priority) is kept") {
  ArpSpec s;
  s.vlan = 42;
  std::vector<uint8_t> f = arp_frame(s);
  rewrite_request_into_reply(f.data(), 60, 60, 18, kOwnerMac);
  check_reply(f, 18, s);
  CHECK(f[12] == 0x81 && f[13] == 0x00);
  CHECK(f[14] == 0x20 && f[15] == 42);
  CHECK(f[16] == 0x08 && f[17] == 0x06);
}

TEST(reply_padding, "reply: a 42-byte request becomes a zero-padded 60-byte reply") {
  ArpSpec s;
  s.pad_to = 0;
  std::vector<uint8_t> f = arp_frame(s);
  f.resize(128, 0xEE);  // tailroom with garbage that must not leak
  uint32_t len = rewrite_request_into_reply(f.data(), 42, 128, 14, kOwnerMac);
  CHECK(len == 60);
  for (uint32_t i = 42; i < 60; i++) CHECK(f[i] == 0);
  check_reply(f, 14, s);
}

TEST(reply_probe, "reply: a probe's reply goes to the prober with tpa 0.0.0.0") {
  ArpSpec s;
  std::memset(s.spa, 0, 4);
  std::vector<uint8_t> f = arp_frame(s);
  rewrite_request_into_reply(f.data(), 60, 60, 14, kOwnerMac);
  check_reply(f, 14, s);
}

TEST(mac_packing, "binding: a MAC survives the 8-byte data word") {
  uint8_t back[6];
  unpack_mac(pack_mac(kOwnerMac), back);
  CHECK(std::memcmp(back, kOwnerMac, 6) == 0);
  CHECK((pack_mac(kOwnerMac) >> 48) == 0);
}

TEST(names, "counters: names come from counters.def, drop slot 0 is 'none'") {
  CHECK(std::strcmp(kCounterNames[0], "rx_packets") == 0);
  CHECK(std::strcmp(kDropReasonNames[0], "none") == 0);
  CHECK(std::strcmp(kDropReasonNames[static_cast<size_t>(DropReason::truncated)], "truncated") == 0);
}

TEST(vlan_all, "vlan: a port with no mode takes any tag, untagged is VLAN 0") {
  VlanPolicy p;
  CHECK(ingress_vlan(p, false, 0) == 0);
  CHECK(ingress_vlan(p, true, 0) == 0);  // priority tag
  CHECK(ingress_vlan(p, true, 77) == 77);
  CHECK(egress_form(p, 0) == EgressForm::untagged);
  CHECK(egress_form(p, 77) == EgressForm::tagged);
}

TEST(vlan_access, "vlan: an access port admits untagged only, into its VLAN") {
  VlanPolicy p;
  p.mode = PortMode::access;
  p.access_vlan = 10;
  CHECK(ingress_vlan(p, false, 0) == 10);
  CHECK(ingress_vlan(p, true, 0) == 10);
  CHECK(ingress_vlan(p, true, 10) == kNotAdmitted);
  CHECK(ingress_vlan(p, true, 20) == kNotAdmitted);
  CHECK(egress_form(p, 10) == EgressForm::untagged);
  CHECK(egress_form(p, 20) == EgressForm::none);
  CHECK(egress_form(p, 0) == EgressForm::none);
}

TEST(vlan_trunk, "vlan: a trunk admits its VLANs tagged and its native VLAN untagged") {
  VlanPolicy p;
  p.mode = PortMode::trunk;
  p.allow(10);
  p.allow(20);
  CHECK(ingress_vlan(p, true, 10) == 10);
  CHECK(ingress_vlan(p, true, 30) == kNotAdmitted);
  CHECK(ingress_vlan(p, false, 0) == kNotAdmitted);  // no native VLAN
  p.native_vlan = 20;
  CHECK(ingress_vlan(p, false, 0) == 20);
  CHECK(egress_form(p, 10) == EgressForm::tagged);
  CHECK(egress_form(p, 20) == EgressForm::untagged);
  CHECK(egress_form(p, 30) == EgressForm::none);
  CHECK(p.allows(20) && !p.allows(21) && !p.allows(4094));
  p.allow(4094);
  CHECK(p.allows(4094));
}

TEST(vlan_push_pop, "vlan: push then pop restores the frame byte for byte") {
  std::vector<uint8_t> f = ether_frame(0x0800, 64);
  std::vector<uint8_t> buf(4 + f.size());
  std::memcpy(buf.data() + 4, f.data(), f.size());
  vlan_push_after_prepend(buf.data(), 300);
  CHECK(buf[12] == 0x81 && buf[13] == 0x00);
  CHECK(((buf[14] & 0x0F) << 8 | buf[15]) == 300);
  CHECK(buf[16] == 0x08 && buf[17] == 0x00);
  CHECK(std::memcmp(buf.data(), f.data(), 12) == 0);
  ParsedFrame p = classify_frame(buf.data(), static_cast<uint32_t>(buf.size()));
  CHECK(p.tagged && p.vlan == 300 && p.cls == FrameClass::ipv4);
  vlan_pop_before_adj(buf.data());
  CHECK(std::memcmp(buf.data() + 4, f.data(), f.size()) == 0);
}

TEST(fdb_words, "fdb: entries survive the data word; unicast test") {
  FdbEntry e{7, true, 65000};
  FdbEntry back = unpack_fdb_entry(pack_fdb_entry(e));
  CHECK(back.port == 7 && back.is_static && back.epoch == 65000);
  const uint8_t zero[6] = {};
  CHECK(is_unicast_mac(kOwnerMac));
  CHECK(!is_unicast_mac(kBroadcast));
  CHECK(!is_unicast_mac(zero));
  const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
  CHECK(!is_unicast_mac(mcast));
}

}  // namespace

int main() { return tap::run_all(); }
