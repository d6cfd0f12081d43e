#include "dataplane.h"

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_cycles.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_malloc.h>
#include <rte_pdump.h>

#include <cstring>

#include "eal.h"
#include "prefault.h"

namespace microarp {
namespace {

constexpr unsigned kMempoolCache = 256;
constexpr unsigned kInjectRingSize = 1024;
constexpr unsigned kArpEventRingSize = 4096;
// Violation reports per worker per second (and burst): enough to see an attack, not enough to
// let one drown the control side.
constexpr uint64_t kViolationReportRate = 1000;
constexpr uint64_t kViolationReportBurst = 200;
constexpr uint64_t kSenderReportRate = 20000;
constexpr uint64_t kSenderReportBurst = 2000;

// Runs on the driver's thread (vhost-user's events thread) when a port's link changes.
int on_link_change(uint16_t port_id, rte_eth_event_type, void* arg, void*) {
  PortRuntime& port = *static_cast<PortRuntime*>(arg);
  rte_eth_link link = {};
  rte_eth_link_get_nowait(port_id, &link);
  const bool up = link.link_status == RTE_ETH_LINK_UP;
  // A guest that just connected: map its memory before "up" is reported, so that a guest
  // waiting for the link finds the port draining at full rate from its first frame.
  if (up) prefault_guest_memory(port_id);
  if (port.link_up.exchange(up) != up) (up ? port.link_ups : port.link_downs).fetch_add(1);
  return 0;
}

uint32_t mbufs_needed(const DataplaneConfig& config, uint32_t workers) {
  const uint64_t ports = config.ports.size();
  const uint64_t per_queue = uint64_t(config.rx_descriptors) + config.tx_descriptors;
  // Each worker holds up to kBacklog frames per port between draining and processing them.
  const uint64_t in_flight = uint64_t(workers) * (kRxBurst * (ports + 1) + kMempoolCache + kBacklog * ports);
  const uint64_t n = ports * workers * per_queue + in_flight + 4096;
  return static_cast<uint32_t>(n);
}

}  // namespace

Status Dataplane::init(const DataplaneConfig& config) {
  if (initialised_) return Status::error("ALREADY_STARTED", "the dataplane is already running");
  if (config.ports.empty()) return Status::error("CONFIG", "at least one port is needed");

  Status status = eal_init(config.eal_args);
  if (!status.ok()) return status;

  std::vector<unsigned> lcores;
  unsigned lcore_id;
  RTE_LCORE_FOREACH_WORKER(lcore_id) { lcores.push_back(lcore_id); }
  if (lcores.empty()) {
    eal_cleanup();
    return Status::error("NO_WORKERS",
                         "EAL has no worker lcore: give it at least two lcores (the main one "
                         "runs Node, workers poll ports), e.g. --lcores '0@(0-1),1@1'");
  }

  if (config.enable_pdump) {
    // Failing here only costs packet capture, not the dataplane: carry on without it.
    pdump_ = rte_pdump_init() == 0;
  }

  const int socket = rte_socket_id();
  const uint32_t nmbufs = config.mbufs ? config.mbufs : mbufs_needed(config, lcores.size());
  pool_ = rte_pktmbuf_pool_create("microarp_mbufs", nmbufs, kMempoolCache, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
  if (pool_ == nullptr) {
    eal_cleanup();
    // What the operator can change: memory (memory_mb, or hugepages), or what needs the
    // mbufs (ports x workers x (descriptors + backlog)).
    const uint64_t mib = (uint64_t(nmbufs) * (RTE_MBUF_DEFAULT_BUF_SIZE + sizeof(rte_mbuf)) >> 20) + 1;
    return Status::error("MEMPOOL", "not enough DPDK memory for " + std::to_string(nmbufs) +
                                        " mbufs (about " + std::to_string(mib) + " MiB for " +
                                        std::to_string(config.ports.size()) +
                                        " port(s): every queue's descriptors plus a backlog of " +
                                        std::to_string(kBacklog) +
                                        " frames per port and worker): raise memory_mb, use "
                                        "hugepages, or lower rx_descriptors/tx_descriptors");
  }

  specs_ = config.ports;
  queues_ = static_cast<uint16_t>(lcores.size());
  rx_descriptors_ = config.rx_descriptors;
  tx_descriptors_ = config.tx_descriptors;
  status = open_ports(config.ports, static_cast<uint16_t>(lcores.size()),
                      config.rx_descriptors, config.tx_descriptors, pool_, ports_);
  if (!status.ok()) {
    eal_cleanup();
    return status;
  }

  status = table_.create("microarp_bindings", config.table_capacity, config.table_ipv6_capacity,
                         static_cast<uint32_t>(lcores.size()), socket);
  if (!status.ok()) {
    close_ports(ports_);
    eal_cleanup();
    return status;
  }

  status = fdb_.create(config.fdb_capacity, config.fdb_aging_seconds, table_.qsbr(),
                       static_cast<uint32_t>(lcores.size()), socket);
  if (!status.ok()) {
    table_.destroy();
    close_ports(ports_);
    eal_cleanup();
    return status;
  }

  port_count_ = ports_.size();
  runtime_ = std::make_unique<PortRuntime[]>(port_count_);
  for (size_t p = 0; p < port_count_; p++) {
    runtime_[p].port_id = ports_[p].port_id;
    runtime_[p].policy = config.ports[p].policy;
    runtime_[p].admin_up.store(config.ports[p].admin_up);
    runtime_[p].responder_on.store(config.ports[p].responder_on);
    runtime_[p].drain_greedily = is_vhost_port(ports_[p].port_id);
    auto security = std::make_unique<PortSecurity>();
    security->trusted = config.ports[p].trusted;
    security->router = config.ports[p].router;
    security->enforce = config.enforce;
    security->inspection = config.ports[p].inspection;
    security->arp_rate = config.ports[p].arp_rate;
    security->nd_rate = config.ports[p].nd_rate;
    runtime_[p].security.store(security.get(), std::memory_order_release);
    security_.push_back(std::move(security));
    const std::string name = "microarp_inject" + std::to_string(p);
    runtime_[p].inject = rte_ring_create(name.c_str(), kInjectRingSize, socket, RING_F_SC_DEQ);
    // Drivers without link interrupts never call it; their state is read once, here.
    rte_eth_dev_callback_register(ports_[p].port_id, RTE_ETH_EVENT_INTR_LSC, on_link_change,
                                  &runtime_[p]);
    rte_eth_link link = {};
    rte_eth_link_get_nowait(ports_[p].port_id, &link);
    runtime_[p].link_up.store(link.link_status == RTE_ETH_LINK_UP);
  }
  for (size_t i = 0; i < lcores.size(); i++) {
    const std::string name = "microarp_arpev" + std::to_string(i);
    arp_event_rings_.push_back(rte_ring_create_elem(name.c_str(), sizeof(ArpEvent), kArpEventRingSize,
                                                    socket, RING_F_SP_ENQ | RING_F_SC_DEQ));
    const std::string nd_name = "microarp_ndev" + std::to_string(i);
    nd_event_rings_.push_back(rte_ring_create_elem(nd_name.c_str(), sizeof(NdEvent),
                                                   kArpEventRingSize, socket,
                                                   RING_F_SP_ENQ | RING_F_SC_DEQ));
  }

  writer_ = std::make_unique<TableWriter>(table_, fdb_);
  status = writer_->start("microarp_updates", config.update_ring_size, socket);
  if (!status.ok()) {
    writer_.reset();
    fdb_.destroy();
    table_.destroy();
    close_ports(ports_);
    eal_cleanup();
    return status;
  }

  stats_ = std::make_unique<LcoreStats[]>(lcores.size());
  for (size_t i = 0; i < lcores.size(); i++) {
    auto ctx = std::make_unique<WorkerContext>();
    ctx->index = static_cast<uint32_t>(i);
    ctx->lcore_id = lcores[i];
    ctx->port_count = static_cast<uint16_t>(port_count_);
    ctx->ports = runtime_.get();
    ctx->drop_unbound = config.drop_unbound;
    ctx->table = &table_;
    ctx->fdb = &fdb_;
    ctx->learn_ring = fdb_.learn_ring(static_cast<uint32_t>(i));
    ctx->pool = pool_;
    ctx->arp_events = arp_event_rings_[i];
    ctx->nd_events = nd_event_rings_[i];
    ctx->worker_count = static_cast<uint32_t>(lcores.size());
    ctx->serves_injection = i == 0;
    ctx->has_probe_mac = config.has_probe_mac;
    std::memcpy(ctx->probe_mac, config.probe_mac, 6);
    ctx->tsc_hz = rte_get_tsc_hz();
    const uint64_t now = rte_rdtsc();
    for (size_t p = 0; p < port_count_; p++)
      ctx->rate_limits[p].configure(*security_[p], ctx->worker_count, ctx->tsc_hz, now);
    ctx->violation_reports.configure(kViolationReportRate, kViolationReportBurst, ctx->tsc_hz);
    ctx->violation_reports.last_tsc = now;
    ctx->sender_reports.configure(kSenderReportRate, kSenderReportBurst, ctx->tsc_hz);
    ctx->sender_reports.last_tsc = now;
    ctx->stats = &stats_[i];
    ctx->running = &running_;
    workers_.push_back(std::move(ctx));
  }
  // Everything the workers will touch is allocated: map it now rather than a page per fault
  // under the first bursts.
  prefault_mempool(pool_);
  prefault_range(table_.memory(), table_.memory_bytes());
  prefault_range(fdb_.memory(), fdb_.memory_bytes());
  initialised_ = true;
  return Status::success();
}

Status Dataplane::start_workers() {
  if (!initialised_) return Status::error("NOT_STARTED", "the dataplane is not initialised");
  if (running_.load()) return Status::success();
  running_.store(true);
  for (auto& ctx : workers_) {
    const int rc = rte_eal_remote_launch(worker_main, ctx.get(), ctx->lcore_id);
    if (rc != 0) {
      running_.store(false);
      rte_eal_mp_wait_lcore();
      return Status::error("LAUNCH", "cannot launch worker lcore " +
                                         std::to_string(ctx->lcore_id) + ": " +
                                         rte_strerror(-rc));
    }
  }
  return Status::success();
}

void Dataplane::stop() {
  if (!initialised_) return;
  running_.store(false);
  rte_eal_mp_wait_lcore();
  writer_->stop();
  for (size_t p = 0; p < port_count_; p++) {
    rte_eth_dev_callback_unregister(ports_[p].port_id, RTE_ETH_EVENT_INTR_LSC, on_link_change,
                                    &runtime_[p]);
    void* m;
    while (runtime_[p].inject && rte_ring_dequeue(runtime_[p].inject, &m) == 0)
      rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(runtime_[p].inject);
    runtime_[p].inject = nullptr;
  }
  for (rte_ring* r : arp_event_rings_) rte_ring_free(r);
  arp_event_rings_.clear();
  for (rte_ring* r : nd_event_rings_) rte_ring_free(r);
  nd_event_rings_.clear();
  final_port_stats_ = port_stats();
  close_ports(ports_);
  fdb_.destroy();  // before the table: its RCU state is the table's
  table_.destroy();
  writer_.reset();
  // workers_ and stats_ stay: the final counters are read after the stop.
  rte_mempool_free(pool_);
  pool_ = nullptr;
  if (pdump_) rte_pdump_uninit();
  pdump_ = false;
  eal_cleanup();
  initialised_ = false;
}

bool Dataplane::set_admin_up(size_t index, bool up) {
  if (index >= port_count_) return false;
  runtime_[index].admin_up.store(up, std::memory_order_relaxed);
  return true;
}

bool Dataplane::inject(size_t index, const uint8_t* frame, uint32_t len) {
  if (!initialised_ || index >= port_count_ || runtime_[index].inject == nullptr) return false;
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) return false;
  char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(len));
  if (data == nullptr) {
    rte_pktmbuf_free(m);
    return false;
  }
  std::memcpy(data, frame, len);
  if (rte_ring_mp_enqueue(runtime_[index].inject, m) != 0) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

namespace {

// Up to `max` records from the workers' rings, worker by worker.
template <typename Record>
unsigned drain_rings(const std::vector<rte_ring*>& rings, Record* out, unsigned max) {
  unsigned total = 0;
  for (rte_ring* r : rings) {
    if (total == max) break;
    total += rte_ring_sc_dequeue_burst_elem(r, out + total, sizeof(Record), max - total, nullptr);
  }
  return total;
}

}  // namespace

unsigned Dataplane::drain_arp_events(ArpEvent* out, unsigned max) {
  return drain_rings(arp_event_rings_, out, max);
}

unsigned Dataplane::drain_nd_events(NdEvent* out, unsigned max) {
  return drain_rings(nd_event_rings_, out, max);
}

Status Dataplane::reattach_port(size_t index, const std::string& devargs) {
  if (!initialised_ || index >= port_count_) return Status::error("NO_PORT", "no port with that index");
  const size_t comma = devargs.find(',');
  const std::string name = devargs.substr(0, comma);
  const std::string args = comma == std::string::npos ? "" : devargs.substr(comma + 1);
  if (name != specs_[index].device || name.rfind("net_", 0) != 0)
    return Status::error("NOT_A_VDEV", "port '" + specs_[index].name + "' is not the vdev " + name);
  PortRuntime& port = runtime_[index];
  port.detached.store(true, std::memory_order_release);
  // Once every worker has passed a quiescent state, none is inside a receive or a send on it.
  rte_rcu_qsbr_synchronize(table_.qsbr(), RTE_QSBR_THRID_INVALID);
  const uint16_t old_id = port.port_id;
  rte_eth_dev_callback_unregister(old_id, RTE_ETH_EVENT_INTR_LSC, on_link_change, &port);
  rte_eth_dev_stop(old_id);
  rte_eth_dev_close(old_id);
  rte_eal_hotplug_remove("vdev", name.c_str());
  int rc = rte_eal_hotplug_add("vdev", name.c_str(), args.c_str());
  if (rc != 0) {
    return Status::error("PORT_SETUP", "port '" + specs_[index].name + "': EAL could not create " +
                                           devargs + " again: " + rte_strerror(-rc) +
                                           " (the port stays detached; its frames are dropped)");
  }
  uint16_t port_id = 0;
  Status status = open_port(specs_[index], queues_, rx_descriptors_, tx_descriptors_, pool_, port_id);
  if (!status.ok()) return status;
  port.port_id = port_id;
  ports_[index].port_id = port_id;
  rte_eth_dev_callback_register(port_id, RTE_ETH_EVENT_INTR_LSC, on_link_change, &port);
  port.detached.store(false, std::memory_order_release);
  return Status::success();
}

HeapStats Dataplane::heap_stats() const {
  HeapStats total;
  if (!initialised_) return total;
  for (unsigned i = 0; i < rte_socket_count(); i++) {
    rte_malloc_socket_stats s = {};
    if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &s) != 0) continue;
    total.total_bytes += s.heap_totalsz_bytes;
    total.allocated_bytes += s.heap_allocsz_bytes;
  }
  return total;
}

bool Dataplane::set_port_security(size_t index, const PortSecurity& next) {
  if (!initialised_ || index >= port_count_) return false;
  auto fresh = std::make_unique<PortSecurity>(next);
  fresh->generation = security_[index]->generation + 1;
  runtime_[index].security.store(fresh.get(), std::memory_order_release);
  // A worker may be in the middle of a frame with the old snapshot: it is freed only once
  // every worker has reported a quiescent state since (at most one burst; at once when the
  // workers are stopped).
  rte_rcu_qsbr_synchronize(table_.qsbr(), RTE_QSBR_THRID_INVALID);
  security_[index] = std::move(fresh);
  return true;
}

bool Dataplane::set_responder(size_t index, bool on) {
  if (index >= port_count_) return false;
  runtime_[index].responder_on.store(on, std::memory_order_relaxed);
  return true;
}

std::vector<PortStats> Dataplane::port_stats() const {
  if (ports_.empty()) return final_port_stats_;
  std::vector<PortStats> out;
  for (const OpenPort& port : ports_) {
    rte_eth_stats s = {};
    rte_eth_stats_get(port.port_id, &s);
    rte_eth_link link = {};
    rte_eth_link_get_nowait(port.port_id, &link);
    const size_t index = out.size();
    out.push_back(PortStats{port.name, port.device, port.port_id, s.ipackets, s.opackets,
                            s.ibytes, s.obytes, s.imissed, s.ierrors, s.oerrors, s.rx_nombuf,
                            link.link_status == RTE_ETH_LINK_UP,
                            link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX, link.link_speed,
                            runtime_[index].link_ups.load(), runtime_[index].link_downs.load()});
  }
  return out;
}

}  // namespace microarp
