#include "fdb.h"

#include <rte_errno.h>

#include <string>

namespace microarp {
namespace {

constexpr uint32_t kLearnRingSize = 4096;
constexpr uint32_t kEventRingSize = 16384;
constexpr unsigned kLearnBurst = 64;
constexpr uint64_t kTickMs = 1000;

void* as_data(uint64_t word) { return reinterpret_cast<void*>(static_cast<uintptr_t>(word)); }

}  // namespace

Status Fdb::create(uint32_t capacity, uint32_t aging_seconds, rte_rcu_qsbr* qsbr,
                   uint32_t workers, int socket_id) {
  capacity_ = capacity;
  aging_seconds_ = aging_seconds;
  rte_hash_parameters params = {};
  params.name = "microarp_fdb";
  params.entries = capacity + capacity / 4 + 64;  // headroom for slots in their grace period
  params.key_len = sizeof(FdbKey);
  params.socket_id = socket_id;
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  hash_ = rte_hash_create(&params);
  if (hash_ != nullptr) rte_hash_set_cmp_func(hash_, equal_8_bytes);
  if (hash_ == nullptr) {
    return Status::error("FDB_CREATE", std::string("cannot create the forwarding database: ") +
                                           rte_strerror(rte_errno));
  }
  rte_hash_rcu_config rcu = {};
  rcu.v = qsbr;
  rcu.mode = RTE_HASH_QSBR_MODE_DQ;
  if (rte_hash_rcu_qsbr_add(hash_, &rcu) != 0) {
    destroy();
    return Status::error("FDB_CREATE", "cannot attach RCU to the forwarding database");
  }
  for (uint32_t w = 0; w < workers; w++) {
    const std::string name = "microarp_learn" + std::to_string(w);
    rte_ring* ring = rte_ring_create_elem(name.c_str(), sizeof(LearnRecord), kLearnRingSize,
                                          socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ring == nullptr) {
      destroy();
      return Status::error("FDB_CREATE", "cannot create a learn ring");
    }
    learn_rings_.push_back(ring);
  }
  events_ = rte_ring_create_elem("microarp_fdb_events", sizeof(FdbEvent), kEventRingSize,
                                 socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (events_ == nullptr) {
    destroy();
    return Status::error("FDB_CREATE", "cannot create the FDB event ring");
  }
  return Status::success();
}

void Fdb::destroy() {
  if (hash_ != nullptr) rte_hash_free(hash_);
  hash_ = nullptr;
  for (rte_ring* r : learn_rings_) rte_ring_free(r);
  learn_rings_.clear();
  rte_ring_free(events_);
  events_ = nullptr;
}

uint64_t Fdb::lookup_bulk(const FdbKey* keys[], uint32_t n, uint64_t words[]) const {
  uint64_t hits = 0;
  void* data[RTE_HASH_LOOKUP_BULK_MAX];
  if (rte_hash_lookup_bulk_data(hash_, reinterpret_cast<const void**>(keys), n, &hits, data) <= 0)
    return 0;
  for (uint32_t i = 0; i < n; i++) words[i] = reinterpret_cast<uintptr_t>(data[i]);
  return hits;
}

void Fdb::bump(uint64_t FdbCounters::*field, uint64_t n) {
  uint64_t& slot = counters_.*field;
  __atomic_store_n(&slot, slot + n, __ATOMIC_RELAXED);
}

FdbCounters Fdb::counters() const {
  FdbCounters c;
  c.entries = __atomic_load_n(&counters_.entries, __ATOMIC_RELAXED);
  c.learned = __atomic_load_n(&counters_.learned, __ATOMIC_RELAXED);
  c.moved = __atomic_load_n(&counters_.moved, __ATOMIC_RELAXED);
  c.aged = __atomic_load_n(&counters_.aged, __ATOMIC_RELAXED);
  c.overflow = __atomic_load_n(&counters_.overflow, __ATOMIC_RELAXED);
  c.events_lost = __atomic_load_n(&counters_.events_lost, __ATOMIC_RELAXED);
  return c;
}

void Fdb::emit(FdbEventType type, const FdbKey& key, uint16_t port, uint16_t old_port) {
  FdbEvent e = {};
  e.type = type;
  e.vlan = key.vlan;
  e.port = port;
  e.old_port = old_port;
  std::memcpy(e.mac, key.mac, 6);
  if (rte_ring_sp_enqueue_elem(events_, &e, sizeof e) != 0) bump(&FdbCounters::events_lost);
}

void Fdb::learn(const LearnRecord& r) {
  const FdbKey key = make_fdb_key(r.vlan, r.mac);
  const uint16_t epoch = current_epoch();
  void* data = nullptr;
  if (rte_hash_lookup_data(hash_, &key, &data) >= 0) {
    FdbEntry entry = unpack_fdb_entry(reinterpret_cast<uintptr_t>(data));
    if (entry.is_static) return;  // configured entries do not move
    const uint16_t old_port = entry.port;
    entry.epoch = epoch;
    entry.port = r.port;
    rte_hash_add_key_data(hash_, &key, as_data(pack_fdb_entry(entry)));
    if (old_port != r.port) {
      bump(&FdbCounters::moved);
      emit(FdbEventType::moved, key, r.port, old_port);
    }
    return;
  }
  if (counters_.entries >= capacity_) {
    bump(&FdbCounters::overflow);
    return;
  }
  if (rte_hash_add_key_data(hash_, &key, as_data(pack_fdb_entry({r.port, false, epoch}))) < 0) {
    bump(&FdbCounters::overflow);
    return;
  }
  bump(&FdbCounters::entries);
  bump(&FdbCounters::learned);
  emit(FdbEventType::learned, key, r.port, r.port);
}

void Fdb::age() {
  const uint16_t now = current_epoch();
  std::vector<FdbKey> expired;
  const void* key;
  void* data;
  uint32_t next = 0;
  while (rte_hash_iterate(hash_, &key, &data, &next) >= 0) {
    const FdbEntry entry = unpack_fdb_entry(reinterpret_cast<uintptr_t>(data));
    if (!entry.is_static && static_cast<uint16_t>(now - entry.epoch) > aging_seconds_)
      expired.push_back(*static_cast<const FdbKey*>(key));
  }
  for (const FdbKey& k : expired) {
    void* old = nullptr;
    rte_hash_lookup_data(hash_, &k, &old);
    if (rte_hash_del_key(hash_, &k) >= 0) {
      __atomic_store_n(&counters_.entries, counters_.entries - 1, __ATOMIC_RELAXED);
      bump(&FdbCounters::aged);
      const uint16_t port = unpack_fdb_entry(reinterpret_cast<uintptr_t>(old)).port;
      emit(FdbEventType::aged, k, port, port);
    }
  }
}

void Fdb::service(uint64_t now_ms) {
  LearnRecord burst[kLearnBurst];
  for (rte_ring* ring : learn_rings_) {
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst_elem(ring, burst, sizeof(LearnRecord), kLearnBurst,
                                               nullptr)) > 0) {
      for (unsigned i = 0; i < n; i++) learn(burst[i]);
    }
  }
  if (now_ms >= next_tick_ms_) {
    next_tick_ms_ = now_ms + kTickMs;
    epoch_.store(static_cast<uint16_t>(epoch_.load(std::memory_order_relaxed) + 1),
                 std::memory_order_relaxed);
    if (aging_seconds_ > 0) age();
  }
}

void Fdb::apply_static(const UpdateRecord& record) {
  const FdbKey key = make_fdb_key(record.vlan, record.mac);
  UpdateResult& result = *record.result;
  void* old = nullptr;
  const bool exists = rte_hash_lookup_data(hash_, &key, &old) >= 0;
  if (record.op == UpdateOp::fdb_remove) {
    if (exists && rte_hash_del_key(hash_, &key) >= 0) {
      __atomic_store_n(&counters_.entries, counters_.entries - 1, __ATOMIC_RELAXED);
      result.removed++;
      emit(FdbEventType::removed, key, unpack_fdb_entry(reinterpret_cast<uintptr_t>(old)).port, 0);
    } else {
      result.missing++;
    }
    return;
  }
  const uint16_t port = static_cast<uint16_t>(record.ip_be);
  if (!exists && counters_.entries >= capacity_) {
    result.table_full++;
    return;
  }
  rte_hash_add_key_data(hash_, &key, as_data(pack_fdb_entry({port, true, current_epoch()})));
  if (exists) {
    result.replaced++;
  } else {
    bump(&FdbCounters::entries);
    result.added++;
  }
  emit(FdbEventType::static_added, key, port, port);
}

}  // namespace microarp
