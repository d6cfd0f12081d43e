// The (VLAN, IPv4) -> MAC table: rte_hash with lock-free reader/writer concurrency, one writer
// thread, and QSBR so that slots freed by deletes are reused only after every worker has
// passed a quiescent state.
#pragma once

#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include <cstdint>

#include "../core/binding.h"
#include "../core/update_record.h"
#include "status.h"

namespace microarp {

class BindingTable {
 public:
  BindingTable() = default;
  BindingTable(const BindingTable&) = delete;
  BindingTable& operator=(const BindingTable&) = delete;
  ~BindingTable() { destroy(); }

  // `capacity` live bindings are guaranteed; the hash gets headroom on top so that slots
  // waiting out a grace period never make an add fail below capacity.
  Status create(const char* name, uint32_t capacity, uint32_t reader_count, int socket_id);
  void destroy();

  // Readers (workers). `reader_id` is the worker index given to register_reader().
  void register_reader(uint32_t reader_id);
  void unregister_reader(uint32_t reader_id);
  void quiescent(uint32_t reader_id) { rte_rcu_qsbr_quiescent(qsbr_, reader_id); }
  // The QSBR variable, shared with the FDB: one quiescent report covers both tables.
  rte_rcu_qsbr* qsbr() const { return qsbr_; }
  // Looks up `n` keys (n <= RTE_HASH_LOOKUP_BULK_MAX); bit i of the result is set on a hit
  // and then macs[i] holds the packed MAC.
  uint64_t lookup_bulk(const BindingKey* keys[], uint32_t n, uint64_t macs[]) const;

  // The single writer only.
  void apply(const UpdateRecord& record);

  uint32_t live_count() const { return __atomic_load_n(&live_, __ATOMIC_RELAXED); }
  uint32_t capacity() const { return capacity_; }

 private:
  rte_hash* hash_ = nullptr;
  rte_rcu_qsbr* qsbr_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t live_ = 0;  // written by the writer, read by anyone
};

}  // namespace microarp
