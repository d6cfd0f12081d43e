// The poll-mode loop that runs on each worker lcore.
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>

#include "../core/fdb_entry.h"
#include "binding_table.h"
#include "fdb.h"
#include "lcore_stats.h"
#include "port_runtime.h"
#include "ports.h"

namespace microarp {

constexpr uint16_t kRxBurst = 32;

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
  LcoreStats* stats = nullptr;
  const std::atomic<bool>* running = nullptr;

  rte_mbuf* tx_pkts[kMaxPorts][kRxBurst];
  uint16_t tx_count[kMaxPorts] = {};
  LearnRecord learn[kRxBurst];
  uint16_t learn_count = 0;
};

// rte_eal_remote_launch entry point; `arg` is a WorkerContext*.
int worker_main(void* arg);

}  // namespace microarp
