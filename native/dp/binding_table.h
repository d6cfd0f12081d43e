// The binding tables: (VLAN, IPv4) -> MAC in a FlatTable and (VLAN, IPv6) -> MAC in an NdTable,
// read lock-free by the workers and written by one thread, under one capacity and one
// generation, and the QSBR state through which the workers report quiescent states (shared with the
// FDB), so that slots freed by removals are reused only after every worker has moved on.
#pragma once

#include <rte_rcu_qsbr.h>

#include <cstdint>

#include "../core/binding.h"
#include "../core/update_record.h"
#include "flat_table.h"
#include "nd_table.h"
#include "status.h"

namespace microarp {

class BindingTable {
 public:
  BindingTable() = default;
  BindingTable(const BindingTable&) = delete;
  BindingTable& operator=(const BindingTable&) = delete;
  ~BindingTable() { destroy(); }

  // `capacity` live bindings of both families together are guaranteed, of which at most
  // `ipv6_capacity` IPv6 ones (each table keeps twice the slots, so slots waiting out a grace
  // period never make an add fail below capacity).
  Status create(const char* name, uint32_t capacity, uint32_t ipv6_capacity,
                uint32_t reader_count, int socket_id);
  void destroy();

  // Readers (workers). `reader_id` is the worker index given to register_reader().
  void register_reader(uint32_t reader_id);
  void unregister_reader(uint32_t reader_id);
  void quiescent(uint32_t reader_id) { rte_rcu_qsbr_quiescent(qsbr_, reader_id); }
  // The QSBR variable, shared with the FDB: one quiescent report covers both tables.
  rte_rcu_qsbr* qsbr() const { return qsbr_; }
  // Looks up `n` keys made by binding_key() (n <= 64); bit i of the result is set on a hit and
  // then words[i] holds the binding word (packed MAC and source).
  void prefetch(uint64_t key) const { table_.prefetch(key); }
  uint64_t lookup_bulk(const uint64_t keys[], uint32_t n, uint64_t words[]) const {
    return table_.lookup_bulk(keys, n, words);
  }
  void prefetch6(const NdKey& key) const { table6_.prefetch(key); }
  bool lookup6(const NdKey& key, uint64_t* word) const { return table6_.lookup(key, word); }

  // The single writer only.
  void apply(const UpdateRecord& record);
  // An IPv6 op (upsert6/remove6 record) with its address.
  void apply6(const UpdateRecord& record, const uint8_t addr[16]);

  // Bumped by every change: a worker's cached answers hold while it stays the same.
  uint32_t generation() const { return __atomic_load_n(&generation_, __ATOMIC_ACQUIRE); }
  uint32_t live_count() const { return __atomic_load_n(&live_, __ATOMIC_RELAXED); }
  uint32_t live_ipv6_count() const { return __atomic_load_n(&live6_, __ATOMIC_RELAXED); }
  uint32_t capacity() const { return capacity_; }
  uint32_t ipv6_capacity() const { return ipv6_capacity_; }
  uint64_t ipv6_memory_bytes() const { return table6_.memory_bytes(); }
  const void* memory() const { return table_.memory(); }
  uint64_t memory_bytes() const { return table_.memory_bytes(); }

 private:
  // After a change: the counts, then the generation that tells workers their caches are stale.
  void changed();

  FlatTable table_;
  NdTable table6_;
  rte_rcu_qsbr* qsbr_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t ipv6_capacity_ = 0;
  uint32_t live_ = 0;   // both tables' sizes, kept after destroy() for the final statistics
  uint32_t live6_ = 0;  // the IPv6 table's
  uint32_t generation_ = 0;
};

}  // namespace microarp
