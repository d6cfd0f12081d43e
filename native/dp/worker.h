// The poll-mode loop that runs on each worker lcore.
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>

#include "../core/arp_event.h"
#include "../core/nd_event.h"
#include "../core/fdb_entry.h"
#include "binding_table.h"
#include "fdb.h"
#include "source_cache.h"
#include "token_bucket.h"
#include "lcore_stats.h"
#include "port_runtime.h"
#include "ports.h"

namespace microarp {

constexpr uint16_t kRxBurst = 32;
// Frames a worker may hold per port between taking them off the port and processing them.
constexpr uint32_t kBacklog = 2048;
static_assert((kBacklog & (kBacklog - 1)) == 0, "the backlog indexes by mask");

// A port's frames taken off its queue but not processed yet. The worker drains every port at
// dequeue speed before it processes a burst, so a sender's ring (a vhost-user guest's 256
// descriptors) is emptied while the frames wait here: a burst larger than that ring is not
// lost because processing is slower than the guest's sending. Single owner, no atomics.
struct Backlog {
  rte_mbuf* slot[kBacklog];
  uint32_t head = 0;  // next frame to process
  uint32_t tail = 0;  // next free slot
  uint32_t size() const { return tail - head; }
};

// Senders this worker reported lately, so that a busy host is reported about once a second
// (a refresh) rather than on every ARP: the control side's work then follows the number of
// hosts, not their ARP rate. Direct-mapped; a collision only costs an extra report.
struct SenderSeen {
  // IPv4: vlan << 32 | ip_be; IPv6: a hash of (vlan, address) with bit 63 set. ~0 is never a
  // real key (an IPv6 hash that happens to be ~0 only costs reports).
  uint64_t key = ~uint64_t(0);
  uint64_t tsc = 0;
};
constexpr uint32_t kSenderSeenSlots = 4096;

// Everything the loop touches, owned by one worker: l3fwd's per-lcore struct habit. The TX
// staging arrays live here rather than on the stack because a burst can fan out to every port.
struct alignas(RTE_CACHE_LINE_SIZE) WorkerContext {
  uint32_t index = 0;  // RCU reader id, and the RX/TX queue this worker owns on every port
  unsigned lcore_id = 0;
  uint16_t port_count = 0;
  PortRuntime* ports = nullptr;  // port_count entries
  bool drop_unbound = false;     // the 'unknown: drop' policy, fixed at start
  BindingTable* table = nullptr;
  Fdb* fdb = nullptr;
  rte_ring* learn_ring = nullptr;  // this worker's, single producer
  rte_mempool* pool = nullptr;     // for the copies flooding needs when tagging differs
  rte_ring* arp_events = nullptr;  // this worker's reports to the control side, single producer
  rte_ring* nd_events = nullptr;   // likewise for Neighbor Discovery
  bool serves_injection = false;   // this worker sends the ports' injected frames
  bool has_probe_mac = false;
  uint8_t probe_mac[6] = {};       // source of microarp's own probes; replies to it are consumed
  uint64_t tsc_hz = 1;
  uint32_t worker_count = 1;       // each worker polices 1/worker_count of a port's rates
  PortRateLimits rate_limits[kMaxPorts];
  TokenBucket violation_reports;   // keeps an ARP flood from flooding the control side too
  TokenBucket sender_reports;      // likewise for senders to learn or refresh
  LcoreStats* stats = nullptr;
  const std::atomic<bool>* running = nullptr;

  rte_mbuf* tx_pkts[kMaxPorts][kRxBurst];
  uint16_t tx_count[kMaxPorts] = {};
  LearnRecord learn[kRxBurst];
  uint16_t learn_count = 0;
  ArpEvent events[kRxBurst];
  uint16_t event_count = 0;
  NdEvent nd_events_staged[kRxBurst];
  uint16_t nd_event_count = 0;
  Backlog backlog[kMaxPorts];
  SenderSeen sender_seen[kSenderSeenSlots];
  SourceCache sources;
};

// Whether the sender filed under `key` is due a report (see SenderSeen): not if this worker
// reported it within the last second (a known sender refreshing its binding) or 100 ms (an
// unknown one, still being learned).
inline bool report_due(WorkerContext& ctx, uint64_t key, bool known, uint64_t now) {
  SenderSeen& seen = ctx.sender_seen[(key * 0x9E3779B97F4A7C15ull) >> 52];
  const uint64_t interval = known ? ctx.tsc_hz : ctx.tsc_hz / 10;
  if (seen.key == key && now - seen.tsc < interval) return false;
  seen.key = key;
  seen.tsc = now;
  return true;
}

// Stages `m` for transmission on port `port_index` at the end of the burst.
inline void stage_tx(WorkerContext& ctx, uint16_t port_index, rte_mbuf* m) {
  ctx.tx_pkts[port_index][ctx.tx_count[port_index]++] = m;
}

// rte_eal_remote_launch entry point; `arg` is a WorkerContext*.
int worker_main(void* arg);

}  // namespace microarp
