#include "ports.h"

#include <rte_ethdev.h>

#include <cstring>
#include <string>

namespace microarp {
namespace {

Status port_error(const PortSpec& spec, const char* what, int rc) {
  return Status::error("PORT_SETUP", "port '" + spec.name + "' (" + spec.device + "): " + what +
                                         ": " + rte_strerror(rc < 0 ? -rc : rc));
}

// Queue setup and start are where a driver finds the pool too small for it (net_pcap's
// infinite_rx keeps the whole file in mbufs, a NIC fills its RX ring): say which key sizes it.
Status pool_error(const PortSpec& spec, const char* what, int rc, const rte_mempool* pool) {
  Status status = port_error(spec, what, rc);
  status.message += " (the driver's messages above say why; if it needs more mbufs than the "
                    "pool's " + std::to_string(pool->size) + ", raise 'mbufs')";
  return status;
}

Status open_one(const PortSpec& spec, uint16_t queues, uint16_t rx_descriptors,
                uint16_t tx_descriptors, rte_mempool* pool, uint16_t& port_id) {
  if (rte_eth_dev_get_port_by_name(spec.device.c_str(), &port_id) != 0) {
    return Status::error("PORT_NOT_FOUND",
                         "port '" + spec.name + "': no DPDK device named '" + spec.device +
                             "': EAL could not create or find it (its messages above say "
                             "why; a vdev is given as its devargs, e.g. "
                             "'net_af_packet0,iface=eth1'; a PCI device must be bound to "
                             "vfio-pci or uio)");
  }

  rte_eth_dev_info info;
  int rc = rte_eth_dev_info_get(port_id, &info);
  if (rc != 0) return port_error(spec, "cannot read device info", rc);
  if (info.max_rx_queues < queues || info.max_tx_queues < queues) {
    return Status::error(
        "PORT_SETUP", "port '" + spec.name + "' (" + spec.device + ") has " +
                          std::to_string(info.max_rx_queues) + " RX and " +
                          std::to_string(info.max_tx_queues) + " TX queues but " +
                          std::to_string(queues) +
                          " workers need one each (lower 'workers', or give the device more "
                          "queues, e.g. qpairs= for net_af_packet, queues= for net_vhost)");
  }

  rte_eth_conf conf = {};
  // Several workers read one queue each: a NIC spreads frames over them by RSS. Addresses and
  // ports hash IP traffic; ARP has no IP header, so it is hashed on its L2 payload where the
  // NIC can (i40e, ice), and lands on one queue otherwise. Vdevs that spread by themselves
  // (one rx_pcap per queue, af_packet's fanout) have no RSS to configure.
  const uint64_t wanted_rss = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_L2_PAYLOAD;
  if (queues > 1 && (info.flow_type_rss_offloads & wanted_rss) != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & wanted_rss;
  }
  rc = rte_eth_dev_configure(port_id, queues, queues, &conf);
  if (rc != 0) return port_error(spec, "configure failed", rc);

  uint16_t nb_rxd = rx_descriptors;
  uint16_t nb_txd = tx_descriptors;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
  if (rc != 0) return port_error(spec, "descriptor counts refused", rc);

  const int socket = rte_eth_dev_socket_id(port_id);
  for (uint16_t q = 0; q < queues; q++) {
    rc = rte_eth_rx_queue_setup(port_id, q, nb_rxd, socket, nullptr, pool);
    if (rc != 0) return pool_error(spec, "RX queue setup failed", rc, pool);
    rc = rte_eth_tx_queue_setup(port_id, q, nb_txd, socket, nullptr);
    if (rc != 0) return port_error(spec, "TX queue setup failed", rc);
  }

  rc = rte_eth_dev_start(port_id);
  if (rc != 0) return pool_error(spec, "start failed", rc, pool);
  // A responder must see requests for every MAC; drivers without the knob (pcap) already do.
  rte_eth_promiscuous_enable(port_id);
  return Status::success();
}

}  // namespace

Status open_ports(const std::vector<PortSpec>& specs, uint16_t queues, uint16_t rx_descriptors,
                  uint16_t tx_descriptors, rte_mempool* pool, std::vector<OpenPort>& opened) {
  if (specs.size() > kMaxPorts)
    return Status::error("PORT_SETUP", "at most " + std::to_string(kMaxPorts) + " ports");
  for (const PortSpec& spec : specs) {
    uint16_t port_id = 0;
    Status status = open_one(spec, queues, rx_descriptors, tx_descriptors, pool, port_id);
    if (!status.ok()) {
      if (rte_eth_dev_is_valid_port(port_id) && status.code != "PORT_NOT_FOUND")
        rte_eth_dev_close(port_id);
      close_ports(opened);
      return status;
    }
    opened.push_back(OpenPort{spec.name, spec.device, port_id});
  }
  return Status::success();
}

Status open_port(const PortSpec& spec, uint16_t queues, uint16_t rx_descriptors,
                 uint16_t tx_descriptors, rte_mempool* pool, uint16_t& port_id) {
  return open_one(spec, queues, rx_descriptors, tx_descriptors, pool, port_id);
}

void close_ports(std::vector<OpenPort>& ports) {
  for (const OpenPort& port : ports) {
    rte_eth_dev_stop(port.port_id);
    rte_eth_dev_close(port.port_id);
  }
  ports.clear();
}

}  // namespace microarp
