// The (VLAN, IPv4) -> MAC table: a FlatTable read lock-free by the workers and written by one
// thread, and the QSBR state through which the workers report quiescent states (shared with the
// FDB), so that slots freed by removals are reused only after every worker has moved on.
#pragma once

#include <rte_rcu_qsbr.h>

#include <cstdint>

#include "../core/binding.h"
#include "../core/update_record.h"
#include "flat_table.h"
#include "status.h"

namespace microarp {

class BindingTable {
 public:
  BindingTable() = default;
  BindingTable(const BindingTable&) = delete;
  BindingTable& operator=(const BindingTable&) = delete;
  ~BindingTable() { destroy(); }

  // `capacity` live bindings are guaranteed (the table keeps twice the slots, so slots waiting
  // out a grace period never make an add fail below capacity).
  Status create(const char* name, uint32_t capacity, uint32_t reader_count, int socket_id);
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

  // The single writer only.
  void apply(const UpdateRecord& record);

  // Bumped by every change: a worker's cached answers hold while it stays the same.
  uint32_t generation() const { return __atomic_load_n(&generation_, __ATOMIC_ACQUIRE); }
  uint32_t live_count() const { return __atomic_load_n(&live_, __ATOMIC_RELAXED); }
  uint32_t capacity() const { return capacity_; }
  const void* memory() const { return table_.memory(); }
  uint64_t memory_bytes() const { return table_.memory_bytes(); }

 private:
  FlatTable table_;
  rte_rcu_qsbr* qsbr_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t live_ = 0;  // the table's size, kept after destroy() for the final statistics
  uint32_t generation_ = 0;
};

}  // namespace microarp
