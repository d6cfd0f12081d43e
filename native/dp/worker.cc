#include "worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <utility>

#include "../core/arp_inspection.h"
#include "../core/frame.h"
#include "../core/nd_frame.h"
#include "../core/vlan_policy.h"
#include "egress_form.h"
#include "nd_step.h"

namespace microarp {
namespace {

static_assert(kRxBurst <= 64, "one bulk lookup per RX burst (hits are a 64-bit mask)");

// What pass 1 learns about a frame, for pass 2 to act on.
struct FrameInfo {
  ParsedFrame parsed;
  int vlan;          // VLAN inside microarp, or kNotAdmitted
  bool dst_unicast;
  bool src_unicast;
  uint8_t bind_slot;  // index into the binding lookup, for requests
  uint8_t dst_slot;   // index into the destination FDB lookup, for unicast destinations
  uint8_t src_slot;   // index into the source FDB lookup, for unicast sources
  uint8_t sender_slot;  // index into the sender binding lookup, for ARP with a sender IP
  bool has_sender;
  // The worker's memory of this source (unicast sources): when an entry held (`cached`, and the
  // lookups were skipped), what it said, copied in stage 1: the entry itself may be refilled for
  // another source (by this burst's earlier frames, or the burst finished in between) before
  // this frame is finished. Otherwise the source is remembered once the frame has been handled.
  bool cached;
  bool cached_sender_found;
  uint64_t cached_sender_word;
  uint64_t source_key;
  uint32_t sender_ip_be;  // 0 when the frame has no ARP sender (or one the cache does not keep)
};

// A burst between its two stages: its frames, what stage 1 learnt about each, and the keys it
// prefetched.
// Bursts between their two stages: a burst is finished kBurstsInFlight - 1 loop steps after it
// was prepared, so its buckets have had that long to arrive. (3 and 4 measured no better than 2
// here: RESULTS.md, issue 10.)
constexpr unsigned kBurstsInFlight = 2;

struct Burst {
  uint16_t n = 0;
  uint16_t ingress = 0;
  bool responder_on = false;
  TablesSeen seen = {};
  rte_mbuf* pkts[kRxBurst];
  FrameInfo info[kRxBurst];
  uint64_t bind_keys[kRxBurst], sender_keys[kRxBurst], dst_keys[kRxBurst], src_keys[kRxBurst];
  uint32_t n_bind = 0, n_dst = 0, n_src = 0, n_sender = 0;
  // ND frames, by frame index: the solicitation's target (answered from the table) and the
  // address the message speaks for (inspection and learning), prefetched in stage 1.
  NdKey nd_target[kRxBurst];
  NdKey nd_claimed[kRxBurst];
};

constexpr uint64_t kSourceShift = 48;
constexpr uint64_t kSourceLearned = 1;

bool is_arp(FrameClass cls) {
  return cls == FrameClass::arp_request || cls == FrameClass::arp_probe ||
         cls == FrameClass::arp_gratuitous || cls == FrameClass::arp_reply;
}

// Port state read once per burst: the control side may flip it at any time.
struct PortView {
  bool up[kMaxPorts];
};

constexpr unsigned kTxRetries = 8;

// Sends every staged frame. Frames a full queue refuses are freed and counted: the loop never
// waits for a queue that makes no progress. Returns how many left.
uint16_t flush_tx(WorkerContext& ctx, uint16_t port_index, BurstTally& tally) {
  const uint16_t count = ctx.tx_count[port_index];
  if (count == 0) return 0;
  rte_mbuf** pkts = ctx.tx_pkts[port_index];
  if (ctx.ports[port_index].detached.load(std::memory_order_acquire)) {
    rte_pktmbuf_free_bulk(pkts, count);
    tally.drop(DropReason::link_down, count);
    ctx.tx_count[port_index] = 0;
    return 0;
  }
  uint32_t lengths[kRxBurst];
  for (uint16_t i = 0; i < count; i++) lengths[i] = rte_pktmbuf_pkt_len(pkts[i]);

  // A queue that takes part of a burst is being emptied (a guest draining its RX ring, a NIC
  // completing descriptors): offer it the rest a few times, as OVS does for vhost-user, and
  // give up as soon as it takes nothing, so a stalled peer never holds the worker.
  const uint16_t port_id = ctx.ports[port_index].port_id;
  const uint16_t queue = static_cast<uint16_t>(ctx.index);
  uint16_t sent = rte_eth_tx_burst(port_id, queue, pkts, count);
  for (unsigned retry = 0; sent < count && retry < kTxRetries; retry++) {
    const uint16_t more = rte_eth_tx_burst(port_id, queue, pkts + sent, count - sent);
    if (more == 0) break;
    sent += more;
  }
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < sent; i++) bytes += lengths[i];
  tally.count(Counter::tx_packets, sent);
  tally.count(Counter::tx_bytes, bytes);
  if (sent < count) {
    rte_pktmbuf_free_bulk(pkts + sent, count - sent);
    // Only on this slow path: a link that is down (no guest behind a vhost-user port) is
    // not a full queue, and the operator needs to tell the two apart.
    const bool link_up = ctx.ports[port_index].link_up.load(std::memory_order_relaxed);
    tally.drop(link_up ? DropReason::tx_full : DropReason::link_down, count - sent);
  }
  ctx.tx_count[port_index] = 0;
  return sent;
}

// Sends `m` to each port in `targets` (n > 0), sharing one mbuf by reference count.
void stage_shared(WorkerContext& ctx, rte_mbuf* m, const uint16_t* targets, uint16_t n) {
  if (n > 1) rte_mbuf_refcnt_update(m, static_cast<int16_t>(n - 1));
  for (uint16_t i = 0; i < n; i++) stage_tx(ctx, targets[i], m);
}

// Consumes `m`: floods it to every up port but `ingress` that carries `vlan`, tagged or not
// as each port wants. Ports wanting the frame as it is share it; the others share one copy.
void flood(WorkerContext& ctx, const PortView& view, uint16_t ingress, rte_mbuf* m,
           const FrameInfo& f, BurstTally& tally) {
  const uint16_t vlan = static_cast<uint16_t>(f.vlan);
  const bool tagged_now = f.parsed.tagged;
  uint16_t same[kMaxPorts], other[kMaxPorts];
  uint16_t n_same = 0, n_other = 0;
  EgressForm other_form = EgressForm::none;
  for (uint16_t q = 0; q < ctx.port_count; q++) {
    if (q == ingress || !view.up[q]) continue;
    const EgressForm form = egress_form(ctx.ports[q].policy, vlan);
    if (form == EgressForm::none) continue;
    if ((form == EgressForm::tagged) == tagged_now) {
      same[n_same++] = q;
    } else {
      other[n_other++] = q;
      other_form = form;
    }
  }
  if (n_same + n_other == 0) {
    rte_pktmbuf_free(m);
    tally.drop(DropReason::no_flood_port);
    return;
  }
  tally.count(Counter::flooded);
  if (n_other > 0) {
    rte_mbuf* o = m;
    if (n_same > 0) {
      o = rte_pktmbuf_copy(m, ctx.pool, 0, UINT32_MAX);
      if (o != nullptr) tally.count(Counter::tag_copies);
    }
    if (o == nullptr || !set_form(o, tagged_now, other_form, vlan)) {
      if (o != nullptr) rte_pktmbuf_free(o);
      tally.drop(DropReason::no_mbuf, n_other);
      if (o == m) return;  // m itself was consumed
    } else {
      stage_shared(ctx, o, other, n_other);
    }
  }
  if (n_same > 0) stage_shared(ctx, m, same, n_same);
}

// Consumes `m`: the FDB knows its destination's port.
void forward(WorkerContext& ctx, const PortView& view, uint16_t ingress, uint16_t out,
             rte_mbuf* m, const FrameInfo& f, BurstTally& tally) {
  if (out == ingress) {
    rte_pktmbuf_free(m);
    tally.drop(DropReason::same_port);
    return;
  }
  if (out >= ctx.port_count || !view.up[out]) {
    rte_pktmbuf_free(m);
    tally.drop(DropReason::port_down);
    return;
  }
  const EgressForm form = egress_form(ctx.ports[out].policy, static_cast<uint16_t>(f.vlan));
  if (form == EgressForm::none) {
    // Learned in this VLAN on a port that no longer carries it: flood instead.
    flood(ctx, view, ingress, m, f, tally);
    return;
  }
  if (!set_form(m, f.parsed.tagged, form, static_cast<uint16_t>(f.vlan))) {
    rte_pktmbuf_free(m);
    tally.drop(DropReason::no_mbuf);
    return;
  }
  tally.count(Counter::forwarded_unicast);
  stage_tx(ctx, out, m);
}

void count_class(FrameClass cls, BurstTally& tally) {
  switch (cls) {
    case FrameClass::arp_request: tally.count(Counter::arp_requests); break;
    case FrameClass::arp_probe:
      tally.count(Counter::arp_requests);
      tally.count(Counter::arp_probes);
      break;
    case FrameClass::arp_gratuitous: tally.count(Counter::arp_gratuitous); break;
    case FrameClass::arp_reply: tally.count(Counter::arp_replies_seen); break;
    case FrameClass::ipv4: tally.count(Counter::ipv4_frames); break;
    case FrameClass::ipv6: tally.count(Counter::ipv6_frames); break;
    case FrameClass::nd_dad:
      tally.count(Counter::nd_dad_solicitations);
      tally.count(Counter::nd_solicitations);
      break;
    case FrameClass::nd_ns: tally.count(Counter::nd_solicitations); break;
    case FrameClass::nd_na: tally.count(Counter::nd_advertisements); break;
    case FrameClass::nd_rs:
    case FrameClass::nd_ra:
    case FrameClass::nd_redirect: tally.count(Counter::nd_router_messages); break;
    case FrameClass::other: tally.count(Counter::other_frames); break;
    case FrameClass::malformed: break;
  }
}

bool is_request(FrameClass cls) {
  return cls == FrameClass::arp_request || cls == FrameClass::arp_probe;
}

// Answers a request in place: the reply leaves by the ingress port in the request's own
// encapsulation (tag kept). Consumes `m`.
void answer(WorkerContext& ctx, uint16_t ingress, rte_mbuf* m, const ParsedFrame& parsed,
            uint64_t owner_mac_word, BurstTally& tally) {
  uint8_t owner[6];
  unpack_mac(owner_mac_word, owner);
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(m);
  const uint32_t capacity = len + rte_pktmbuf_tailroom(m);
  const uint32_t reply_len =
      rewrite_request_into_reply(frame, len, capacity, parsed.l3_offset, owner);
  if (reply_len != len) {
    m->pkt_len += reply_len - len;
    m->data_len = static_cast<uint16_t>(reply_len);
  }
  tally.count(Counter::replies_sent);
  stage_tx(ctx, ingress, m);
}

// Reports a source MAC to the FDB writer when it is new, has moved, or is due a refresh.
void maybe_learn(WorkerContext& ctx, uint16_t ingress, const uint8_t* frame, const FrameInfo& f,
                 bool known, uint64_t word, uint16_t epoch) {
  if (known) {
    const FdbEntry e = unpack_fdb_entry(word);
    if (e.is_static || (e.port == ingress && e.epoch == epoch)) return;
  }
  LearnRecord& r = ctx.learn[ctx.learn_count++];
  std::memcpy(r.mac, frame + 6, 6);
  r.vlan = static_cast<uint16_t>(f.vlan);
  r.port = ingress;
  r.reserved = 0;
  r.reserved2 = 0;
}

void report(WorkerContext& ctx, ArpEventKind kind, Violation v, bool enforced, uint16_t ingress,
            const uint8_t* frame, const FrameInfo& f) {
  const uint8_t* arp = frame + f.parsed.l3_offset;
  ArpEvent& e = ctx.events[ctx.event_count++];
  e.kind = kind;
  e.violation = static_cast<uint8_t>(v);
  e.port = ingress;
  e.vlan = static_cast<uint16_t>(f.vlan);
  e.op = static_cast<uint16_t>(arp[arp_field::op] << 8 | arp[arp_field::op + 1]);
  std::memcpy(&e.spa_be, arp + arp_field::spa, 4);
  std::memcpy(&e.tpa_be, arp + arp_field::tpa, 4);
  std::memcpy(e.sha, arp + arp_field::sha, 6);
  std::memcpy(e.eth_src, frame + 6, 6);
  e.gratuitous = f.parsed.cls == FrameClass::arp_gratuitous;
  e.enforced = enforced;
  e.reserved = 0;
}

// Whether a sender is due a report: not if this worker reported it within the last second (a
// known sender refreshing its binding) or 100 ms (an unknown one, still being learned). A
// sender that disagrees with the table is not asked about here: it is always reported.
bool sender_due(WorkerContext& ctx, int32_t vlan, const uint8_t* arp, bool known, uint64_t now) {
  uint32_t ip_be;
  std::memcpy(&ip_be, arp + arp_field::spa, 4);
  return report_due(ctx, uint64_t(uint16_t(vlan)) << 32 | ip_be, known, now);
}

enum class ArpOutcome { pass, consumed };

// Rate limit and inspection on untrusted ports, reports for the control side, and the
// consumption of replies to microarp's own probes. Consumes `m` when it returns consumed.
// `report_held` is set when a sender worth reporting was not, for lack of report budget: the
// source cache then must not remember the frame as handled.
ArpOutcome handle_arp(WorkerContext& ctx, uint16_t ingress, rte_mbuf* m, const uint8_t* frame,
                      const FrameInfo& f, bool sender_found, uint64_t sender_word, uint64_t now,
                      bool* report_held, BurstTally& tally) {
  const PortSecurity& security = *ctx.ports[ingress].security.load(std::memory_order_acquire);
  Violation v = Violation::none;
  if (!security.trusted) {
    PortRateLimits& limits = ctx.rate_limits[ingress].follow(security, ctx.worker_count, ctx.tsc_hz, now);
    if (!limits.arp.take(now)) {
      v = Violation::rate_limited;
    } else {
      v = inspect_arp(frame, f.parsed, security.inspection, sender_found, sender_word);
    }
  }
  if (v != Violation::none) {
    tally.violation(v);
    if (ctx.violation_reports.take(now)) {
      report(ctx, ArpEventKind::violation, v, security.enforce, ingress, frame, f);
    } else {
      tally.count(Counter::arp_events_suppressed);
    }
    if (security.enforce) {
      rte_pktmbuf_free(m);
      tally.drop(DropReason::arp_inspection);
      return ArpOutcome::consumed;
    }
    return ArpOutcome::pass;
  }

  const uint8_t* arp = frame + f.parsed.l3_offset;
  if (f.parsed.cls == FrameClass::arp_reply && ctx.has_probe_mac &&
      mac_equal(arp + arp_field::tha, ctx.probe_mac)) {
    report(ctx, ArpEventKind::probe_reply, Violation::none, false, ingress, frame, f);
    if (mac_equal(frame, ctx.probe_mac)) {
      rte_pktmbuf_free(m);
      tally.count(Counter::probe_replies);
      return ArpOutcome::consumed;
    }
    return ArpOutcome::pass;
  }
  // Senders worth the control side's attention: unknown ones (to learn), learned ones (to
  // refresh), and any that disagree with the table (a conflict, on a trusted port).
  if (f.has_sender) {
    bool disagrees = false;
    if (sender_found) {
      uint8_t owner[6];
      unpack_mac(sender_word, owner);
      disagrees = !mac_equal(owner, arp + arp_field::sha);
    }
    bool worth = !sender_found || disagrees || (sender_word >> kSourceShift) == kSourceLearned;
    // A source the worker's cache holds was reported (or needed no report) this second, and
    // neither table has changed since: nothing new to say about it.
    if (worth && !disagrees && (f.cached || !sender_due(ctx, f.vlan, arp, sender_found, now))) {
      tally.count(Counter::sender_reports_skipped);
      worth = false;
    }
    if (worth) {
      // A host that is not reported now is on its next ARP: bounded control-side work
      // matters more than learning within the same millisecond.
      if (ctx.sender_reports.take(now)) {
        report(ctx, ArpEventKind::sender, Violation::none, false, ingress, frame, f);
      } else {
        tally.count(Counter::arp_events_suppressed);
        *report_held = true;
      }
    }
  }
  return ArpOutcome::pass;
}

// Sends what the control side queued for each port (worker 0 only); true if it sent any.
bool send_injected(WorkerContext& ctx, BurstTally& tally) {
  bool sent = false;
  rte_mbuf* pkts[kRxBurst];
  for (uint16_t p = 0; p < ctx.port_count; p++) {
    rte_ring* ring = ctx.ports[p].inject;
    if (ring == nullptr || rte_ring_empty(ring)) continue;
    const unsigned n = rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts), kRxBurst, nullptr);
    if (n == 0) continue;
    if (!ctx.ports[p].admin_up.load(std::memory_order_relaxed)) {
      rte_pktmbuf_free_bulk(pkts, n);
      tally.drop(DropReason::port_down, n);
      continue;
    }
    for (unsigned i = 0; i < n; i++) stage_tx(ctx, p, pkts[i]);
    tally.count(Counter::injected, n);
    flush_tx(ctx, p, tally);
    sent = true;
  }
  return sent;
}

// Takes a burst of what the port has into its backlog; on a port that drains greedily (a guest's
// small vhost-user ring), more bursts, until the port is dry or the backlog full: dequeueing
// costs a fraction of processing, so a guest's burst is taken off its ring at once. Other
// ports keep the backlog short, so that frames are processed while still in the core's cache.
void drain(WorkerContext& ctx, uint16_t port) {
  Backlog& b = ctx.backlog[port];
  if (ctx.ports[port].detached.load(std::memory_order_acquire)) return;
  const uint16_t port_id = ctx.ports[port].port_id;
  while (kBacklog - b.size() >= kRxBurst) {
    rte_mbuf* pkts[kRxBurst];
    const uint16_t n = rte_eth_rx_burst(port_id, static_cast<uint16_t>(ctx.index), pkts, kRxBurst);
    for (uint16_t i = 0; i < n; i++) b.slot[(b.tail + i) & (kBacklog - 1)] = pkts[i];
    b.tail += n;
    if (n < kRxBurst || !ctx.ports[port].drain_greedily) break;
  }
}

bool is_solicitation(FrameClass cls) {
  return cls == FrameClass::nd_ns || cls == FrameClass::nd_dad;
}

// Stage 1 for an ND frame: the IPv6 keys it needs, prefetched.
void prepare_nd(WorkerContext& ctx, Burst& b, uint16_t i, const uint8_t* frame, uint16_t vlan) {
  const ParsedFrame& parsed = b.info[i].parsed;
  const uint8_t* claimed = nd_claimed_address(frame, parsed);
  if (claimed != nullptr) {
    b.nd_claimed[i] = nd_key(vlan, claimed);
    ctx.table->prefetch6(b.nd_claimed[i]);
  }
  if (b.responder_on && is_solicitation(parsed.cls)) {
    b.nd_target[i] = nd_key(vlan, frame + parsed.l3_offset + kIpv6HeaderLen + nd_field::target);
    ctx.table->prefetch6(b.nd_target[i]);
  }
}

// Stage 1 of a burst: takes up to a burst of the port's backlog, classifies each frame, and
// computes and prefetches the table keys the burst needs. Stage 2 (finish_burst) runs after the
// next burst's stage 1, so the buckets have a whole burst's time to arrive.
void prepare_burst(WorkerContext& ctx, uint16_t ingress, Burst& b, BurstTally& tally) {
  const PortRuntime& in = ctx.ports[ingress];
  Backlog& backlog = ctx.backlog[ingress];
  const uint16_t n = static_cast<uint16_t>(RTE_MIN(backlog.size(), uint32_t(kRxBurst)));
  b.n = n;
  b.ingress = ingress;
  if (n == 0) return;
  for (uint16_t i = 0; i < n; i++) b.pkts[i] = backlog.slot[(backlog.head + i) & (kBacklog - 1)];
  backlog.head += n;
  tally.count(Counter::rx_packets, n);
  b.responder_on = in.responder_on.load(std::memory_order_relaxed);
  // The tables' state this burst is answered from: read before any lookup, so that an entry
  // cached from this burst's lookups is never newer than the generation it is filed under.
  b.seen = TablesSeen{ctx.table->generation(), ctx.fdb->generation(), ctx.fdb->current_epoch()};

  // Pass 1: classify, admit into a VLAN, and gather keys for the bulk lookups, prefetching each
  // key's bucket as soon as it is known: they arrive while the rest of the burst is classified.
  // The source cache's sets are prefetched too, and looked in by pass 1b once all are on the
  // way: a burst's sources are spread over the cache's 256 KiB, which the tables' buckets and
  // the mbufs keep pushing out of L1 and L2.
  FrameInfo* info = b.info;
  rte_mbuf** pkts = b.pkts;
  uint64_t rx_bytes = 0;
  uint32_t n_bind = 0, n_dst = 0, n_src = 0, n_sender = 0, n_cached = 0;
  for (uint16_t i = 0; i < n; i++) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; i++) {
    FrameInfo& f = info[i];
    rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
    const uint8_t* frame = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
    classify_frame_into(frame, rte_pktmbuf_data_len(pkts[i]), f.parsed);
    if (f.parsed.cls == FrameClass::malformed) continue;
    if (f.parsed.tagged) tally.count(Counter::vlan_tagged);
    count_class(f.parsed.cls, tally);
    f.vlan = ingress_vlan(in.policy, f.parsed.tagged, f.parsed.vlan);
    if (f.vlan == kNotAdmitted) continue;
    const uint16_t vlan = static_cast<uint16_t>(f.vlan);
    f.dst_unicast = is_unicast_mac(frame);
    f.src_unicast = is_unicast_mac(frame + 6);
    if (f.dst_unicast) {
      b.dst_keys[n_dst] = fdb_key_in_frame(vlan, frame);
      ctx.fdb->prefetch(b.dst_keys[n_dst]);
      f.dst_slot = static_cast<uint8_t>(n_dst++);
    }
    f.has_sender = false;
    f.sender_ip_be = 0;
    const uint8_t* arp = frame + f.parsed.l3_offset;
    if (is_arp(f.parsed.cls)) {
      const uint32_t spa = load_be32_raw(arp + arp_field::spa);
      f.has_sender = spa != 0;
      // The cache keeps senders that speak for their own frame's source MAC; the others (an
      // inspection matter) are looked up every time.
      if (f.has_sender && mac_equal(arp + arp_field::sha, frame + 6)) f.sender_ip_be = spa;
    }
    f.cached = false;
    if (f.src_unicast) {
      f.source_key = fdb_key_in_frame(vlan, frame + 6);
      ctx.sources.prefetch(f.source_key, f.sender_ip_be);
    }
    if (b.responder_on && is_request(f.parsed.cls)) {
      b.bind_keys[n_bind] =
          binding_key(vlan, load_be32_raw(arp + arp_field::tpa));
      ctx.table->prefetch(b.bind_keys[n_bind]);
      f.bind_slot = static_cast<uint8_t>(n_bind++);
    }
    if (is_nd(f.parsed.cls)) prepare_nd(ctx, b, i, frame, vlan);
  }
  // Pass 1b: the source cache, and the source and sender lookups it did not spare.
  for (uint16_t i = 0; i < n; i++) {
    FrameInfo& f = info[i];
    if (f.parsed.cls == FrameClass::malformed || f.vlan == kNotAdmitted) continue;
    if (f.src_unicast) {
      const SourceCache::Entry* known =
          (f.sender_ip_be != 0 || !f.has_sender)
              ? ctx.sources.find(f.source_key, f.sender_ip_be, ingress, b.seen)
              : nullptr;
      f.cached = known != nullptr;
      if (f.cached) {
        f.cached_sender_found = known->sender_found;
        f.cached_sender_word = known->sender_word;
        n_cached++;
      } else {
        b.src_keys[n_src] = f.source_key;
        ctx.fdb->prefetch(b.src_keys[n_src]);
        f.src_slot = static_cast<uint8_t>(n_src++);
      }
    }
    if (f.has_sender && !f.cached) {
      const uint8_t* arp = rte_pktmbuf_mtod(pkts[i], const uint8_t*) + f.parsed.l3_offset;
      b.sender_keys[n_sender] = binding_key(static_cast<uint16_t>(f.vlan), load_be32_raw(arp + arp_field::spa));
      ctx.table->prefetch(b.sender_keys[n_sender]);
      f.sender_slot = static_cast<uint8_t>(n_sender++);
    }
  }
  tally.count(Counter::rx_bytes, rx_bytes);
  tally.count(Counter::sources_cached, n_cached);
  b.n_bind = n_bind;
  b.n_dst = n_dst;
  b.n_src = n_src;
  b.n_sender = n_sender;
}

// Hands the records a burst staged for the control side to their ring, counting what a full
// ring refused: reports are never waited for.
template <typename Record>
void report_staged(rte_ring* ring, const Record* staged, uint16_t& count, Counter sent,
                   Counter lost, BurstTally& tally) {
  if (count == 0) return;
  const unsigned queued =
      rte_ring_sp_enqueue_burst_elem(ring, staged, sizeof(Record), count, nullptr);
  tally.count(sent, queued);
  tally.count(lost, count - queued);
  count = 0;
}

// Stage 2: looks the burst's keys up and answers, forwards, floods or drops each frame.
void finish_burst(WorkerContext& ctx, const Burst& b, BurstTally& tally) {
  const uint16_t ingress = b.ingress;
  PortView view;
  for (uint16_t q = 0; q < ctx.port_count; q++)
    view.up[q] = ctx.ports[q].admin_up.load(std::memory_order_relaxed);
  if (!view.up[ingress]) {
    rte_pktmbuf_free_bulk(const_cast<rte_mbuf**>(b.pkts), b.n);
    tally.drop(DropReason::port_down, b.n);
    return;
  }


  uint64_t macs[kRxBurst], dst_words[kRxBurst], src_words[kRxBurst], sender_words[kRxBurst];
  const uint64_t bind_hits = b.n_bind ? ctx.table->lookup_bulk(b.bind_keys, b.n_bind, macs) : 0;
  const uint64_t dst_hits = b.n_dst ? ctx.fdb->lookup_bulk(b.dst_keys, b.n_dst, dst_words) : 0;
  const uint64_t src_hits = b.n_src ? ctx.fdb->lookup_bulk(b.src_keys, b.n_src, src_words) : 0;
  const uint64_t sender_hits =
      b.n_sender ? ctx.table->lookup_bulk(b.sender_keys, b.n_sender, sender_words) : 0;
  const TablesSeen& seen = b.seen;
  const uint16_t epoch = seen.fdb_epoch;
  const uint64_t now = rte_rdtsc();

  // Pass 2: in arrival order, learn, then answer, forward, flood or drop each frame.
  for (uint16_t i = 0; i < b.n; i++) {
    rte_mbuf* m = b.pkts[i];
    const FrameInfo& f = b.info[i];
    if (f.parsed.cls == FrameClass::malformed) {
      rte_pktmbuf_free(m);
      tally.drop(f.parsed.drop);
      continue;
    }
    if (f.vlan == kNotAdmitted) {
      rte_pktmbuf_free(m);
      tally.drop(DropReason::vlan_not_admitted);
      continue;
    }
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    bool sender_found = false;
    uint64_t sender_word = 0;
    if (f.cached) {
      sender_found = f.cached_sender_found;
      sender_word = f.cached_sender_word;
    } else if (f.has_sender && ((sender_hits >> f.sender_slot) & 1)) {
      sender_found = true;
      sender_word = sender_words[f.sender_slot];
    }
    if (is_nd(f.parsed.cls)) {
      bool claimed_found = false;
      uint64_t claimed_word = 0;
      if (nd_claimed_address(frame, f.parsed) != nullptr)
        claimed_found = ctx.table->lookup6(b.nd_claimed[i], &claimed_word);
      if (inspect_and_report_nd(ctx, ingress, m, frame, f.parsed, static_cast<uint16_t>(f.vlan),
                                claimed_found, claimed_word, now, tally) == NdOutcome::consumed)
        continue;
    }
    bool report_held = false;
    if (is_arp(f.parsed.cls) &&
        handle_arp(ctx, ingress, m, frame, f, sender_found, sender_word, now, &report_held,
                   tally) == ArpOutcome::consumed)
      continue;
    if (f.src_unicast && !f.cached) {
      maybe_learn(ctx, ingress, frame, f, (src_hits >> f.src_slot) & 1, src_words[f.src_slot],
                  epoch);
      // The source is now known to need nothing more from the FDB this second, the sender is
      // what the table said and has been reported if it had to be: until either table changes,
      // repeats skip both lookups and the report check.
      if ((f.sender_ip_be != 0 || !f.has_sender) && !report_held)
        ctx.sources.remember(f.source_key, f.sender_ip_be, ingress, seen, sender_found,
                             sender_word);
    }

    if (b.responder_on && is_request(f.parsed.cls)) {
      const bool found = (bind_hits >> f.bind_slot) & 1;
      switch (decide_request(frame, f.parsed.l3_offset, found, macs[f.bind_slot])) {
        case RequestVerdict::answer:
          answer(ctx, ingress, m, f.parsed, macs[f.bind_slot], tally);
          continue;
        case RequestVerdict::own_address:
          tally.count(Counter::requests_own_address);
          break;
        case RequestVerdict::unbound:
          tally.count(Counter::requests_unbound);
          if (ctx.drop_unbound) {
            rte_pktmbuf_free(m);
            tally.drop(DropReason::unbound_target);
            continue;
          }
          break;
      }
    }

    if (b.responder_on && is_solicitation(f.parsed.cls)) {
      uint64_t owner_word = 0;
      const bool found = ctx.table->lookup6(b.nd_target[i], &owner_word);
      if (respond_to_solicitation(ctx, ingress, m, f.parsed, found, owner_word, tally) ==
          NdOutcome::consumed)
        continue;
    }

    // A priority-tagged frame (VLAN id 0) belongs to the VLAN its port admitted it into: its tag
    // must say so before it is switched, or it leaves a trunk with id 0 and lands in the native
    // VLAN of whatever is behind that trunk.
    if (f.parsed.tagged && f.parsed.vlan != f.vlan)
      vlan_set_id(rte_pktmbuf_mtod(m, uint8_t*), static_cast<uint16_t>(f.vlan));

    if (f.dst_unicast) {
      if ((dst_hits >> f.dst_slot) & 1) {
        forward(ctx, view, ingress, unpack_fdb_entry(dst_words[f.dst_slot]).port, m, f, tally);
        continue;
      }
      tally.count(Counter::unknown_unicast);
    }
    flood(ctx, view, ingress, m, f, tally);
  }

  report_staged(ctx.learn_ring, ctx.learn, ctx.learn_count, Counter::learn_events,
                Counter::learn_events_lost, tally);
  report_staged(ctx.nd_events, ctx.nd_events_staged, ctx.nd_event_count, Counter::nd_events,
                Counter::nd_events_lost, tally);
  report_staged(ctx.arp_events, ctx.events, ctx.event_count, Counter::arp_events,
                Counter::arp_events_lost, tally);

  for (uint16_t p = 0; p < ctx.port_count; p++) flush_tx(ctx, p, tally);
}

}  // namespace

int worker_main(void* arg) {
  WorkerContext& ctx = *static_cast<WorkerContext*>(arg);
  BurstTally tally;
  // Two bursts in flight: while one is being prepared (its buckets prefetched), the one
  // prepared before it, from this port or the previous one, is finished.
  Burst bursts[kBurstsInFlight];
  unsigned newest = 0;
  ctx.table->register_reader(ctx.index);
  // Where the time goes, as OVS's pmd-perf-show has it: a pass that handled a frame is busy,
  // one that found nothing is idle (one TSC read per pass, none per frame).
  uint64_t pass_start = rte_rdtsc();
  while (ctx.running->load(std::memory_order_relaxed)) {
    bool busy = false;
    for (uint16_t p = 0; p < ctx.port_count; p++) drain(ctx, p);
    for (uint16_t p = 0; p < ctx.port_count; p++) {
      newest = (newest + 1) % kBurstsInFlight;
      Burst& oldest = bursts[(newest + 1) % kBurstsInFlight];
      prepare_burst(ctx, p, bursts[newest], tally);
      if (oldest.n > 0) {
        finish_burst(ctx, oldest, tally);
        oldest.n = 0;
        busy = true;
      }
    }
    if (ctx.serves_injection) busy |= send_injected(ctx, tally);
    const uint64_t pass_end = rte_rdtsc();
    tally.count(busy ? Counter::busy_cycles : Counter::idle_cycles, pass_end - pass_start);
    pass_start = pass_end;
    tally.flush_into(*ctx.stats);
    // No table or FDB reference survives past this point (the staged burst holds keys, not
    // slots): deleted slots may now be reclaimed.
    ctx.table->quiescent(ctx.index);
  }
  // Frames still waiting when the workers stop go back to the pool: none leak.
  for (Burst& b : bursts) {
    if (b.n > 0) rte_pktmbuf_free_bulk(b.pkts, b.n);
  }
  for (uint16_t p = 0; p < ctx.port_count; p++) {
    Backlog& b = ctx.backlog[p];
    for (; b.head != b.tail; b.head++) rte_pktmbuf_free(b.slot[b.head & (kBacklog - 1)]);
  }
  ctx.table->unregister_reader(ctx.index);
  return 0;
}

}  // namespace microarp
