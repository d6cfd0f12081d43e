#include "prefault.h"

#include <rte_eal.h>
#include <rte_eth_vhost.h>
#include <rte_ethdev.h>
#include <rte_vhost.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace microarp {
namespace {

enum class Fallback { write_back, read };

// Faults in [start, start + size) for writing: workers write into both their mbufs and the
// guest's buffers. Kernels older than 5.14 lack MADV_POPULATE_WRITE: then each page is touched,
// by writing a byte back where nothing else runs yet, by a read where a guest does.
void populate(void* start, uint64_t size, Fallback fallback) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t first = reinterpret_cast<uintptr_t>(start) & ~(page - 1);
  const uint64_t length = size + (reinterpret_cast<uintptr_t>(start) - first);
  if (madvise(reinterpret_cast<void*>(first), length, MADV_POPULATE_WRITE) == 0) return;
  for (uint64_t offset = 0; offset < length; offset += page) {
    volatile uint8_t* byte = reinterpret_cast<volatile uint8_t*>(first + offset);
    const uint8_t value = *byte;
    if (fallback == Fallback::write_back) *byte = value;
  }
}

// Maps the pages of [start, start + size) that are already in memory (mincore): in a guest's
// memory, the pages it has used, where its buffers are. The pages it never touched are left
// alone: populating them would allocate all of the guest's memory on its behalf.
uint64_t populate_resident(void* start, uint64_t size) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t first = reinterpret_cast<uintptr_t>(start) & ~(page - 1);
  const uint64_t length = size + (reinterpret_cast<uintptr_t>(start) - first);
  std::vector<unsigned char> resident((length + page - 1) / page);
  if (mincore(reinterpret_cast<void*>(first), length, resident.data()) != 0) return 0;
  uint64_t populated = 0;
  for (size_t i = 0; i < resident.size();) {
    if ((resident[i] & 1) == 0) {
      i++;
      continue;
    }
    size_t end = i;
    while (end < resident.size() && (resident[end] & 1) != 0) end++;
    populate(reinterpret_cast<void*>(first + i * page), (end - i) * page, Fallback::read);
    populated += (end - i) * page;
    i = end;
  }
  return populated;
}

void populate_chunk(rte_mempool*, void* populated, rte_mempool_memhdr* chunk, unsigned) {
  populate(chunk->addr, chunk->len, Fallback::write_back);
  *static_cast<uint64_t*>(populated) += chunk->len;
}

}  // namespace

bool is_vhost_port(uint16_t port_id) {
  rte_eth_dev_info info = {};
  if (rte_eth_dev_info_get(port_id, &info) != 0 || info.driver_name == nullptr) return false;
  return std::strcmp(info.driver_name, "net_vhost") == 0;
}

uint64_t prefault_mempool(rte_mempool* pool) {
  if (rte_eal_has_hugepages()) return 0;
  uint64_t populated = 0;
  rte_mempool_mem_iter(pool, populate_chunk, &populated);
  return populated;
}

uint64_t prefault_range(const void* start, uint64_t size) {
  if (rte_eal_has_hugepages() || start == nullptr) return 0;
  populate(const_cast<void*>(start), size, Fallback::write_back);
  return size;
}

uint64_t prefault_guest_memory(uint16_t port_id) {
  if (!is_vhost_port(port_id)) return 0;
  const int vid = rte_eth_vhost_get_vid_from_port_id(port_id);
  if (vid < 0) return 0;
  rte_vhost_memory* memory = nullptr;
  if (rte_vhost_get_mem_table(vid, &memory) != 0 || memory == nullptr) return 0;
  uint64_t populated = 0;
  for (uint32_t r = 0; r < memory->nregions; r++) {
    const rte_vhost_mem_region& region = memory->regions[r];
    populated += populate_resident(reinterpret_cast<void*>(region.host_user_addr), region.size);
  }
  std::free(memory);  // the vhost library allocates it with malloc
  return populated;
}

}  // namespace microarp
