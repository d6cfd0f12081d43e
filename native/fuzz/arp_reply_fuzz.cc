// Fuzz target: the in-place ARP reply (rewrite_request_into_reply), on an mbuf laid out as the
// input says: little or no headroom, little or no tailroom (a short request is padded to 60
// bytes only when the tailroom allows), tagged or untagged.
//
// Input: an 8-byte header, then the frame.
//   [0]      headroom in bytes
//   [1]      tailroom in bytes
//   [2..7]   the owner's MAC: the binding the table holds for the request's target
// The frame goes through what the worker does with it: classify, decide_request, then answer()
// (native/dp/worker.cc), whose length bookkeeping is repeated below step for step. Every reply
// must re-parse as an ARP reply from the owner to the requester with every field right, keep the
// tag (priority bits included) and the bytes past the ARP body, and pass microarp's own
// inspection; no byte outside the reply may change.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "arp_inspection.h"
#include "binding.h"
#include "frame.h"
#include "fuzz_check.h"
#include "fuzz_input.h"
#include "minimal_mbuf.h"

using namespace microarp;

namespace {

constexpr size_t kHeaderSize = 8;
constexpr size_t kMaxFrame = 0xFFFF - 2 * 255;  // headroom + frame + tailroom fit buf_len

bool equal(const uint8_t* a, const uint8_t* b, size_t n) { return std::memcmp(a, b, n) == 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size, kHeaderSize);
  const uint16_t headroom = in.u8();
  const uint16_t tailroom = in.u8();
  uint8_t owner[6];
  in.bytes(owner, 6);
  if (in.frame_size() > kMaxFrame) return 0;
  const uint32_t len = static_cast<uint32_t>(in.frame_size());
  const std::vector<uint8_t> request(in.frame(), in.frame() + len);

  fuzz::MinimalMbuf mbuf(request.data(), static_cast<uint16_t>(len), headroom, tailroom);
  rte_mbuf* m = mbuf.get();
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  const ParsedFrame p = classify_frame(frame, rte_pktmbuf_data_len(m));
  if (p.cls != FrameClass::arp_request && p.cls != FrameClass::arp_probe) return 0;
  const uint32_t off = p.l3_offset;
  const RequestVerdict verdict = decide_request(frame, p.l3_offset, true, pack_mac(owner));
  if (verdict != RequestVerdict::answer) {
    FUZZ_CHECK(verdict == RequestVerdict::own_address);
    FUZZ_CHECK(equal(owner, frame + off + arp_field::sha, 6));
    return 0;
  }

  // answer() in native/dp/worker.cc.
  const uint32_t capacity = len + rte_pktmbuf_tailroom(m);
  const uint32_t reply_len = rewrite_request_into_reply(frame, len, capacity, p.l3_offset, owner);
  if (reply_len != len) {
    m->pkt_len += reply_len - len;
    m->data_len = static_cast<uint16_t>(reply_len);
  }

  // The length: padded to the Ethernet minimum when there is room, never past the buffer.
  const uint32_t expected_len = len < kMinFrameLen && capacity >= kMinFrameLen ? kMinFrameLen : len;
  FUZZ_CHECK(reply_len == expected_len);
  FUZZ_CHECK(rte_pktmbuf_data_len(m) == reply_len && rte_pktmbuf_pkt_len(m) == reply_len);
  FUZZ_CHECK(rte_pktmbuf_headroom(m) == headroom);
  FUZZ_CHECK(mbuf.headroom_untouched());
  for (uint32_t i = len; i < reply_len; i++) FUZZ_CHECK(frame[i] == 0);

  // The reply, field by field, against the request it was made from.
  const ParsedFrame r = classify_frame(frame, reply_len);
  FUZZ_CHECK(r.cls == FrameClass::arp_reply);
  FUZZ_CHECK(r.tagged == p.tagged && r.vlan == p.vlan && r.l3_offset == p.l3_offset);
  const uint8_t* q = request.data() + off;  // the request's ARP body
  const uint8_t* a = frame + off;           // the reply's
  FUZZ_CHECK(equal(frame + 0, q + arp_field::sha, 6));  // eth.dst: the requester
  FUZZ_CHECK(equal(frame + 6, owner, 6));               // eth.src: the owner
  FUZZ_CHECK(equal(frame + 12, request.data() + 12, off - 12));  // tag (PCP too), EtherType
  FUZZ_CHECK(equal(a, q, 6));                           // htype, ptype, hlen, plen
  FUZZ_CHECK(a[arp_field::op] == 0 && a[arp_field::op + 1] == kArpOpReply);
  FUZZ_CHECK(equal(a + arp_field::sha, owner, 6));
  FUZZ_CHECK(equal(a + arp_field::spa, q + arp_field::tpa, 4));
  FUZZ_CHECK(equal(a + arp_field::tha, q + arp_field::sha, 6));
  FUZZ_CHECK(equal(a + arp_field::tpa, q + arp_field::spa, 4));
  // Padding and trailers after the ARP body are the request's own.
  const uint32_t body_end = off + kArpBodyLen;
  FUZZ_CHECK(equal(frame + body_end, request.data() + body_end, len - body_end));

  // A reply microarp sends passes microarp's inspection on the receiving side, as long as the
  // address it speaks for is one a sender may have.
  const uint32_t spa_host = be32_to_host(load_be32_raw(a + arp_field::spa));
  if (!sender_ip_invalid(spa_host)) {
    FUZZ_CHECK(inspect_arp(frame, r, InspectionPolicy{}, true, pack_mac(owner)) == Violation::none);
  }
  return 0;
}
