// The forwarding database: (VLAN, MAC) -> port in a FlatTable with lock-free readers, the
// same single writer thread as the binding table, and the same QSBR for reclaiming slots.
// Workers never write it: they push LearnRecords into their own ring and the writer decides.
#pragma once

#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "../core/binding.h"
#include "../core/fdb_entry.h"
#include "../core/update_record.h"
#include "flat_table.h"
#include "status.h"

namespace microarp {

struct FdbCounters {
  uint64_t entries = 0;
  uint64_t learned = 0;
  uint64_t moved = 0;
  uint64_t aged = 0;
  uint64_t overflow = 0;      // learn refused: fdb.capacity reached
  uint64_t events_lost = 0;   // events the control side did not drain in time
};

class Fdb {
 public:
  Fdb() = default;
  Fdb(const Fdb&) = delete;
  Fdb& operator=(const Fdb&) = delete;
  ~Fdb() { destroy(); }

  Status create(uint32_t capacity, uint32_t aging_seconds, rte_rcu_qsbr* qsbr,
                uint32_t workers, int socket_id);
  void destroy();

  // Workers.
  // Keys made by fdb_key() or fdb_key_in_frame(); as FlatTable::lookup_bulk.
  void prefetch(uint64_t key) const { table_.prefetch(key); }
  uint64_t lookup_bulk(const uint64_t keys[], uint32_t n, uint64_t words[]) const {
    return table_.lookup_bulk(keys, n, words);
  }
  rte_ring* learn_ring(uint32_t worker) const { return learn_rings_[worker]; }
  uint16_t current_epoch() const { return epoch_.load(std::memory_order_relaxed); }
  // Bumped when an entry is added, moves or goes (not when an entry is only refreshed): a
  // worker's cached answers hold while it stays the same.
  uint32_t generation() const { return __atomic_load_n(&generation_, __ATOMIC_ACQUIRE); }

  // The writer thread.
  void service(uint64_t now_ms);
  void apply_static(const UpdateRecord& record);

  // The control side.
  rte_ring* event_ring() const { return events_; }
  FdbCounters counters() const;
  uint32_t aging_seconds() const { return aging_seconds_; }
  const void* memory() const { return table_.memory(); }
  uint64_t memory_bytes() const { return table_.memory_bytes(); }

 private:
  void learn(const LearnRecord& r);
  void age();
  void emit(FdbEventType type, uint64_t key, uint16_t port, uint16_t old_port);
  void bump(uint64_t FdbCounters::*field, uint64_t n = 1);
  void changed() { __atomic_store_n(&generation_, generation_ + 1, __ATOMIC_RELEASE); }

  FlatTable table_;
  std::vector<rte_ring*> learn_rings_;
  rte_ring* events_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t aging_seconds_ = 300;
  std::atomic<uint16_t> epoch_{0};
  uint32_t generation_ = 0;
  uint64_t next_tick_ms_ = 0;
  FdbCounters counters_;  // written by the writer only
};

}  // namespace microarp
