#include "fdb.h"


#include <string>

namespace microarp {
namespace {

constexpr uint32_t kLearnRingSize = 4096;
constexpr uint32_t kEventRingSize = 16384;
constexpr unsigned kLearnBurst = 64;
constexpr uint64_t kTickMs = 1000;

}  // namespace

Status Fdb::create(uint32_t capacity, uint32_t aging_seconds, rte_rcu_qsbr* qsbr,
                   uint32_t workers, int socket_id) {
  capacity_ = capacity;
  aging_seconds_ = aging_seconds;
  Status status = table_.create("microarp_fdb", capacity, qsbr, socket_id);
  if (!status.ok()) return Status::error("FDB_CREATE", status.message + " (fdb.capacity)");
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
  table_.destroy();
  for (rte_ring* r : learn_rings_) rte_ring_free(r);
  learn_rings_.clear();
  rte_ring_free(events_);
  events_ = nullptr;
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

void Fdb::emit(FdbEventType type, uint64_t key, uint16_t port, uint16_t old_port) {
  FdbEvent e = {};
  e.type = type;
  e.vlan = fdb_key_vlan(key);
  e.port = port;
  e.old_port = old_port;
  fdb_key_mac(key, e.mac);
  if (rte_ring_sp_enqueue_elem(events_, &e, sizeof e) != 0) bump(&FdbCounters::events_lost);
}

void Fdb::learn(const LearnRecord& r) {
  const uint64_t key = fdb_key(r.vlan, r.mac);
  const uint16_t epoch = current_epoch();
  uint64_t word;
  if (table_.lookup(key, &word)) {
    FdbEntry entry = unpack_fdb_entry(word);
    if (entry.is_static) return;  // configured entries do not move
    const uint16_t old_port = entry.port;
    entry.epoch = epoch;
    entry.port = r.port;
    table_.put(key, pack_fdb_entry(entry));
    if (old_port != r.port) {
      changed();
      bump(&FdbCounters::moved);
      emit(FdbEventType::moved, key, r.port, old_port);
    }
    return;
  }
  if (counters_.entries >= capacity_ ||
      table_.put(key, pack_fdb_entry({r.port, false, epoch})) != FlatTable::Put::added) {
    bump(&FdbCounters::overflow);
    return;
  }
  changed();
  bump(&FdbCounters::entries);
  bump(&FdbCounters::learned);
  emit(FdbEventType::learned, key, r.port, r.port);
}

void Fdb::age() {
  const uint16_t now = current_epoch();
  std::vector<uint64_t> expired;
  table_.for_each([&](uint64_t key, uint64_t word) {
    const FdbEntry entry = unpack_fdb_entry(word);
    if (!entry.is_static && static_cast<uint16_t>(now - entry.epoch) > aging_seconds_)
      expired.push_back(key);
  });
  for (const uint64_t key : expired) {
    uint64_t old;
    if (table_.remove(key, &old)) {
      changed();
      __atomic_store_n(&counters_.entries, counters_.entries - 1, __ATOMIC_RELAXED);
      bump(&FdbCounters::aged);
      const uint16_t port = unpack_fdb_entry(old).port;
      emit(FdbEventType::aged, key, port, port);
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
  const uint64_t key = fdb_key(record.vlan, record.mac);
  UpdateResult& result = *record.result;
  if (record.op == UpdateOp::fdb_remove) {
    uint64_t old;
    if (table_.remove(key, &old)) {
      changed();
      __atomic_store_n(&counters_.entries, counters_.entries - 1, __ATOMIC_RELAXED);
      result.removed++;
      emit(FdbEventType::removed, key, unpack_fdb_entry(old).port, 0);
    } else {
      result.missing++;
    }
    return;
  }
  const uint16_t port = static_cast<uint16_t>(record.ip_be);
  uint64_t old;
  const bool exists = table_.lookup(key, &old);
  if (!exists && counters_.entries >= capacity_) {
    result.table_full++;
    return;
  }
  if (table_.put(key, pack_fdb_entry({port, true, current_epoch()})) == FlatTable::Put::full) {
    result.table_full++;
    return;
  }
  changed();
  if (exists) {
    result.replaced++;
  } else {
    bump(&FdbCounters::entries);
    result.added++;
  }
  emit(FdbEventType::static_added, key, port, port);
}

}  // namespace microarp
