// Opening the DPDK ports that the config names, with one RX and one TX queue per worker.
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../core/arp_inspection.h"
#include "../core/vlan_policy.h"
#include "status.h"
#include "token_bucket.h"

namespace microarp {

constexpr uint16_t kMaxPorts = 32;

struct PortSpec {
  std::string name;    // the operator's name for it ("uplink", "vm1")
  std::string device;  // what EAL knows it as: a PCI address or a vdev name ("net_pcap0")
  VlanPolicy policy;
  bool admin_up = true;
  bool responder_on = true;
  bool trusted = false;
  bool router = false;  // RA guard: Router Advertisements and Redirects are let in
  InspectionPolicy inspection;
  RateLimit arp_rate;
  RateLimit nd_rate;
};

struct OpenPort {
  std::string name;
  std::string device;
  uint16_t port_id;
};

// Finds each device, configures `queues` RX/TX queue pairs, enables promiscuous mode where
// the driver has it, and starts it. On error, ports already started are stopped and closed.
Status open_ports(const std::vector<PortSpec>& specs, uint16_t queues, uint16_t rx_descriptors,
                  uint16_t tx_descriptors, rte_mempool* pool, std::vector<OpenPort>& opened);

// Stops and closes every port; closing is what flushes a net_pcap tx file.
void close_ports(std::vector<OpenPort>& ports);

// Opens one port as open_ports() does, for a device EAL has (again); `port_id` is set to it.
Status open_port(const PortSpec& spec, uint16_t queues, uint16_t rx_descriptors,
                 uint16_t tx_descriptors, rte_mempool* pool, uint16_t& port_id);

}  // namespace microarp
