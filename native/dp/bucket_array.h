// The bucket array of a lock-free hash table (FlatTable, NdTable): a power of two of
// cache-line buckets with room for every entry at a load of at most one half, zeroed, from
// DPDK's heap on the workers' socket.
#pragma once

#include <rte_common.h>
#include <rte_malloc.h>

#include <cstdint>
#include <string>

#include "status.h"

namespace microarp {

struct BucketArray {
  void* memory = nullptr;
  uint32_t mask = 0;   // buckets - 1
  unsigned shift = 64;  // 64 - log2(buckets): a 64-bit hash's top bits index a bucket
};

inline Status allocate_buckets(const char* name, uint32_t capacity, unsigned slots_per_bucket,
                               size_t bucket_size, int socket_id, BucketArray* out) {
  // Two slots per entry at least, and a power of two of buckets (the hash's top bits index them).
  uint64_t buckets = 2;
  while (buckets * slots_per_bucket < uint64_t(capacity) * 2) buckets <<= 1;
  if (buckets > (uint64_t(1) << 31)) {
    return Status::error("TABLE_CREATE", std::string(name) + ": " + std::to_string(capacity) +
                                             " entries is more than a table can hold");
  }
  out->memory = rte_zmalloc_socket(name, buckets * bucket_size, RTE_CACHE_LINE_SIZE, socket_id);
  if (out->memory == nullptr) {
    return Status::error("TABLE_CREATE",
                         std::string("cannot allocate ") + std::to_string((buckets * bucket_size) >> 20) +
                             " MiB for " + name + " (" + std::to_string(capacity) +
                             " entries): give DPDK more memory (memory_mb, or hugepages) or "
                             "lower the capacity");
  }
  out->mask = static_cast<uint32_t>(buckets - 1);
  out->shift = 64 - static_cast<unsigned>(__builtin_ctzll(buckets));
  return Status::success();
}

}  // namespace microarp
