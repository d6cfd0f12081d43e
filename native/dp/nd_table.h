// The (VLAN, IPv6) -> MAC table the workers answer Neighbor Solicitations from: FlatTable's
// scheme (one writer, lock-free readers, QSBR before a slot is reused, overflow counts, at most
// half full) with 32-byte slots, because a 128-bit address and a VLAN do not fit FlatTable's
// 60-bit keys and hashing the address down would answer for the wrong host on a collision.
//
// A slot is the address (two 8-byte words, as they lie in the frame), a meta word (valid,
// pending, the VLAN, and in a bucket's first slot the overflow count) and the binding word of
// binding.h (MAC, source, router flag). Two slots fill one cache line: a lookup reads one line.
//
// How readers stay correct without locks, as in FlatTable:
// - an insert writes the address and the value, then the meta word (release); a reader that
//   sees the meta word valid (acquire) sees that address and that value or a later one;
// - a value is replaced by one aligned 8-byte store;
// - a removed slot keeps its address until every reader has reported a quiescent state.
#pragma once

#include <rte_common.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include <cstdint>
#include <cstring>
#include <deque>

#include "status.h"

namespace microarp {

// An IPv6 address as two 8-byte words loaded from the frame (memcpy, no byte swap), plus the
// VLAN it is bound in.
struct NdKey {
  uint64_t hi;
  uint64_t lo;
  uint16_t vlan;
};

inline NdKey nd_key(uint16_t vlan, const uint8_t addr[16]) {
  NdKey key;
  std::memcpy(&key.hi, addr, 8);
  std::memcpy(&key.lo, addr + 8, 8);
  key.vlan = vlan;
  return key;
}

class NdTable {
 public:
  NdTable() = default;
  NdTable(const NdTable&) = delete;
  NdTable& operator=(const NdTable&) = delete;
  ~NdTable() { destroy(); }

  // Room for `capacity` live keys at a load of at most one half. `qsbr` is the readers'
  // quiescent-state variable (the binding table's).
  Status create(const char* name, uint32_t capacity, rte_rcu_qsbr* qsbr, int socket_id);
  void destroy();

  // Readers.
  void prefetch(const NdKey& key) const;
  bool lookup(const NdKey& key, uint64_t* value) const;

  // The writer.
  enum class Put { added, replaced, unchanged, full };
  Put put(const NdKey& key, uint64_t value);
  bool remove(const NdKey& key, uint64_t* old_value);
  // Calls fn(const NdKey&, uint64_t value) for every live key.
  template <typename Fn>
  void for_each(Fn fn) const;
  uint32_t size() const { return __atomic_load_n(&size_, __ATOMIC_RELAXED); }
  uint64_t memory_bytes() const;

 private:
  // Implementation (slots, buckets, hash, pending slots): see nd_table.cc's notes.
  struct Slot;
  struct Bucket;
  Bucket* buckets_ = nullptr;
  uint32_t mask_ = 0;
  unsigned shift_ = 64;
  uint32_t capacity_ = 0;
  uint32_t size_ = 0;
  rte_rcu_qsbr* qsbr_ = nullptr;
};

}  // namespace microarp
