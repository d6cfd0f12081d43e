// Memory the workers touch, mapped in ahead of them: a page fault in a polling worker is a
// trip through the kernel (~1-10 us on this kind of machine), long enough for a guest's TX ring
// or a NIC's RX ring to overflow when it happens once per new page under a burst.
#pragma once

#include <rte_mempool.h>

#include <cstdint>

namespace microarp {

// Without hugepages (--no-huge), EAL's memory is anonymous and mapped lazily: the first lookup
// in each page of a table's buckets, or the first use of each page of the mbuf pool, faults.
// These map what the workers will touch (not all of EAL's memory, which would cost its whole
// size in RSS), on the calling (control) thread, before the workers start. Nothing to do with
// hugepages, which EAL maps at start. Return the bytes populated.
uint64_t prefault_mempool(rte_mempool* pool);
uint64_t prefault_range(const void* start, uint64_t size);

// When port_id is a vhost-user port with a connected guest, maps the guest's memory into this
// process now, on the calling (control) thread: the vhost library maps it lazily, so the pages
// the guest's first frames and the replies' buffers live in would fault in the worker. Only
// the pages the guest has already used are mapped (its buffers are among them); the rest of its
// memory is not allocated on its behalf. Returns the bytes populated, 0 for other ports.
uint64_t prefault_guest_memory(uint16_t port_id);

// Whether port_id is a vhost-user port (driver net_vhost).
bool is_vhost_port(uint16_t port_id);

}  // namespace microarp
