#include "worker.h"

#include <rte_ethdev.h>
#include <rte_hash.h>

#include "../core/frame.h"

namespace microarp {
namespace {

static_assert(kRxBurst <= RTE_HASH_LOOKUP_BULK_MAX, "one bulk lookup per RX burst");

void stage_tx(WorkerContext& ctx, uint16_t port_index, rte_mbuf* m) {
  ctx.tx_pkts[port_index][ctx.tx_count[port_index]++] = m;
}

// Sends every staged frame. Frames a full queue refuses are freed and counted: the loop never
// waits for a queue. Returns how many left on `port_index`.
uint16_t flush_tx(WorkerContext& ctx, uint16_t port_index, BurstTally& tally) {
  const uint16_t count = ctx.tx_count[port_index];
  if (count == 0) return 0;
  rte_mbuf** pkts = ctx.tx_pkts[port_index];
  uint32_t lengths[kRxBurst];
  for (uint16_t i = 0; i < count; i++) lengths[i] = rte_pktmbuf_pkt_len(pkts[i]);

  const uint16_t sent =
      rte_eth_tx_burst(ctx.port_ids[port_index], static_cast<uint16_t>(ctx.index), pkts, count);
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < sent; i++) bytes += lengths[i];
  tally.count(Counter::tx_packets, sent);
  tally.count(Counter::tx_bytes, bytes);
  if (sent < count) {
    rte_pktmbuf_free_bulk(pkts + sent, count - sent);
    tally.drop(DropReason::tx_full, count - sent);
  }
  ctx.tx_count[port_index] = 0;
  return sent;
}

// Consumes `m`: stages it on every port but the ingress one, sharing the mbuf by reference
// count instead of copying it.
void flood(WorkerContext& ctx, uint16_t ingress, rte_mbuf* m, BurstTally& tally) {
  if (ctx.port_count < 2) {
    rte_pktmbuf_free(m);
    tally.drop(DropReason::no_flood_port);
    return;
  }
  if (ctx.port_count > 2) rte_mbuf_refcnt_update(m, static_cast<int16_t>(ctx.port_count - 2));
  for (uint16_t p = 0; p < ctx.port_count; p++) {
    if (p != ingress) stage_tx(ctx, p, m);
  }
  tally.count(Counter::flooded);
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
    case FrameClass::other: tally.count(Counter::other_frames); break;
    case FrameClass::malformed: break;
  }
}

bool is_request(FrameClass cls) {
  return cls == FrameClass::arp_request || cls == FrameClass::arp_probe;
}

// Answers a request in place (consumes `m` by staging it back on the ingress port).
void answer(WorkerContext& ctx, uint16_t ingress, rte_mbuf* m, const ParsedFrame& parsed,
            uint64_t owner_mac_word) {
  uint8_t owner[6];
  unpack_mac(owner_mac_word, owner);
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(m);
  const uint32_t capacity = len + rte_pktmbuf_tailroom(m);
  const uint32_t reply_len =
      rewrite_request_into_reply(frame, len, capacity, parsed.arp_offset, owner);
  if (reply_len != len) {
    m->pkt_len += reply_len - len;
    m->data_len = static_cast<uint16_t>(reply_len);
  }
  stage_tx(ctx, ingress, m);
}

void process_burst(WorkerContext& ctx, uint16_t ingress, BurstTally& tally) {
  rte_mbuf* pkts[kRxBurst];
  const uint16_t n = rte_eth_rx_burst(ctx.port_ids[ingress], static_cast<uint16_t>(ctx.index),
                                      pkts, kRxBurst);
  if (n == 0) return;

  // Pass 1: classify the whole burst and gather the requests' keys for one bulk lookup.
  ParsedFrame parsed[kRxBurst];
  BindingKey keys[kRxBurst];
  const BindingKey* key_ptrs[kRxBurst];
  uint8_t key_slot[kRxBurst];
  uint32_t nkeys = 0;
  uint64_t rx_bytes = 0;
  for (uint16_t i = 0; i < n; i++) {
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  }
  for (uint16_t i = 0; i < n; i++) {
    rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
    const uint8_t* frame = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
    parsed[i] = classify_frame(frame, rte_pktmbuf_data_len(pkts[i]));
    if (parsed[i].tagged) tally.count(Counter::vlan_tagged);
    count_class(parsed[i].cls, tally);
    if (is_request(parsed[i].cls)) {
      keys[nkeys] = make_binding_key(
          parsed[i].vlan, load_be32_raw(frame + parsed[i].arp_offset + arp_field::tpa));
      key_ptrs[nkeys] = &keys[nkeys];
      key_slot[i] = static_cast<uint8_t>(nkeys++);
    }
  }
  tally.count(Counter::rx_packets, n);
  tally.count(Counter::rx_bytes, rx_bytes);

  uint64_t macs[kRxBurst];
  const uint64_t hits = nkeys ? ctx.table->lookup_bulk(key_ptrs, nkeys, macs) : 0;

  // Pass 2: in arrival order, answer, flood or drop each frame.
  for (uint16_t i = 0; i < n; i++) {
    rte_mbuf* m = pkts[i];
    if (parsed[i].cls == FrameClass::malformed) {
      rte_pktmbuf_free(m);
      tally.drop(parsed[i].drop);
      continue;
    }
    if (!is_request(parsed[i].cls)) {
      flood(ctx, ingress, m, tally);
      continue;
    }
    const uint8_t slot = key_slot[i];
    const bool found = (hits >> slot) & 1;
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    switch (decide_request(frame, parsed[i].arp_offset, found, macs[slot])) {
      case RequestVerdict::answer:
        answer(ctx, ingress, m, parsed[i], macs[slot]);
        break;
      case RequestVerdict::own_address:
        tally.count(Counter::requests_own_address);
        flood(ctx, ingress, m, tally);
        break;
      case RequestVerdict::unbound:
        tally.count(Counter::requests_unbound);
        if (ctx.drop_unbound) {
          rte_pktmbuf_free(m);
          tally.drop(DropReason::unbound_target);
        } else {
          flood(ctx, ingress, m, tally);
        }
        break;
    }
  }

  // Everything staged on the ingress port in this burst is a reply.
  tally.count(Counter::replies_sent, flush_tx(ctx, ingress, tally));
  for (uint16_t p = 0; p < ctx.port_count; p++) {
    if (p != ingress) flush_tx(ctx, p, tally);
  }
}

}  // namespace

int worker_main(void* arg) {
  WorkerContext& ctx = *static_cast<WorkerContext*>(arg);
  BurstTally tally;
  ctx.table->register_reader(ctx.index);
  while (ctx.running->load(std::memory_order_relaxed)) {
    for (uint16_t p = 0; p < ctx.port_count; p++) process_burst(ctx, p, tally);
    tally.flush_into(*ctx.stats);
    // No table reference survives past this point: deleted slots may now be reclaimed.
    ctx.table->quiescent(ctx.index);
  }
  ctx.table->unregister_reader(ctx.index);
  return 0;
}

}  // namespace microarp
