// The whole engine: EAL, ports, binding table, its writer, and the worker lcores. Knows
// nothing of N-API; the addon converts arguments into a DataplaneConfig and calls in here.
#pragma once

#include <rte_mempool.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../core/arp_event.h"
#include "../core/nd_event.h"
#include "binding_table.h"
#include "fdb.h"
#include "port_runtime.h"
#include "lcore_stats.h"
#include "ports.h"
#include "status.h"
#include "table_writer.h"
#include "worker.h"

namespace microarp {

struct DataplaneConfig {
  std::vector<std::string> eal_args;  // full argv for rte_eal_init, program name first
  std::vector<PortSpec> ports;
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  uint32_t mbufs = 0;  // 0: sized from ports, workers and descriptors
  uint32_t table_capacity = 1u << 20;
  uint32_t table_ipv6_capacity = 1u << 16;  // of table_capacity, how many may be IPv6
  uint32_t update_ring_size = 1u << 16;
  bool drop_unbound = false;
  // Serve dpdk-dumpcap/dpdk-pdump (secondary processes) through the pdump library.
  bool enable_pdump = true;
  uint32_t fdb_capacity = 1u << 16;
  uint32_t fdb_aging_seconds = 300;  // 0: learned entries never age
  bool enforce = true;               // ARP inspection: drop (true) or only count (false)
  bool has_probe_mac = false;
  uint8_t probe_mac[6] = {};
};

// What EAL memory the tables, rings and pools hold: growth under steady load is a leak.
struct HeapStats {
  uint64_t total_bytes = 0;
  uint64_t allocated_bytes = 0;
};

struct PortStats {
  std::string name;
  std::string device;
  uint16_t port_id;
  uint64_t ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors, rx_nombuf;
  bool link_up;
  bool link_full_duplex;
  uint32_t link_speed_mbps;
  // Link changes the driver reported (a vhost-user guest connecting, going away).
  uint64_t link_ups, link_downs;
};

class Dataplane {
 public:
  Dataplane() = default;
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;
  ~Dataplane() { stop(); }

  // EAL, mempool, ports, table and writer; workers are not running yet, so bindings loaded
  // now are in the table before the first frame is read.
  Status init(const DataplaneConfig& config);
  Status start_workers();
  // Idempotent. Workers joined, writer drained and joined, ports stopped and closed, EAL
  // cleaned up.
  void stop();

  bool initialised() const { return initialised_; }
  bool workers_running() const { return running_.load(std::memory_order_relaxed); }
  TableWriter& writer() { return *writer_; }
  uint32_t update_ring_depth() const { return writer_ ? writer_->ring_depth() : 0; }
  uint64_t update_ring_full_waits() const { return writer_ ? writer_->ring_full_waits() : 0; }
  const BindingTable& table() const { return table_; }
  Fdb& fdb() { return fdb_; }
  size_t port_count() const { return port_count_; }
  // Live per-port switches; false if `index` names no port.
  bool set_admin_up(size_t index, bool up);
  bool set_responder(size_t index, bool on);
  // Replaces port `index`'s ARP security settings (a live reload). Returns once no worker can
  // still be using the old ones, which it then frees; false if `index` names no port.
  bool set_port_security(size_t index, const PortSecurity& next);
  const PortSecurity& port_security(size_t index) const { return *security_[index]; }
  // Closes port `index`'s vdev and creates it again from `devargs` ("net_af_packet2,iface=x"):
  // for an interface deleted and created again, to which the old socket is no longer bound.
  // The workers leave the port alone meanwhile (frames for it are dropped as link_down).
  Status reattach_port(size_t index, const std::string& devargs);
  // Queues a frame to be sent out port `index` by a worker. False: no such port, no mbuf,
  // or the port's inject ring is full.
  bool inject(size_t index, const uint8_t* frame, uint32_t len);
  // Moves up to `max` ArpEvents from the workers' rings into `out`; returns how many.
  unsigned drain_arp_events(ArpEvent* out, unsigned max);
  // Likewise for NdEvents.
  unsigned drain_nd_events(NdEvent* out, unsigned max);
  bool admin_up(size_t index) const { return runtime_[index].admin_up.load(); }
  bool responder_on(size_t index) const { return runtime_[index].responder_on.load(); }

  // mbufs of the pool now out of it (in rings, queues, backlogs, on their way out); a figure
  // that keeps rising while traffic is steady is a leak.
  uint32_t mbufs_in_use() const { return pool_ ? rte_mempool_in_use_count(pool_) : 0; }
  uint32_t mbufs_total() const { return pool_ ? pool_->size : 0; }
  // DPDK's heaps, summed over the sockets; zero once EAL is gone.
  HeapStats heap_stats() const;

  size_t worker_count() const { return workers_.size(); }
  unsigned worker_lcore(size_t i) const { return workers_[i]->lcore_id; }
  const LcoreStats& worker_stats(size_t i) const { return stats_[i]; }
  std::vector<PortStats> port_stats() const;

 private:
  bool initialised_ = false;
  std::atomic<bool> running_{false};
  rte_mempool* pool_ = nullptr;
  std::vector<OpenPort> ports_;
  std::vector<PortStats> final_port_stats_;  // taken just before the ports close
  BindingTable table_;
  Fdb fdb_;
  std::unique_ptr<PortRuntime[]> runtime_;
  // The snapshots runtime_[p].security points to; each owned here until replaced.
  std::vector<std::unique_ptr<PortSecurity>> security_;
  std::vector<PortSpec> specs_;  // as opened, for reattach_port
  uint16_t queues_ = 0;
  uint16_t rx_descriptors_ = 0;
  uint16_t tx_descriptors_ = 0;
  size_t port_count_ = 0;
  std::unique_ptr<TableWriter> writer_;
  std::vector<std::unique_ptr<WorkerContext>> workers_;
  std::vector<rte_ring*> arp_event_rings_;
  std::vector<rte_ring*> nd_event_rings_;
  std::unique_ptr<LcoreStats[]> stats_;
  bool pdump_ = false;
};

}  // namespace microarp
