#include "binding_table.h"

#include <rte_malloc.h>

#include <string>

namespace microarp {

Status BindingTable::create(const char* name, uint32_t capacity, uint32_t ipv6_capacity,
                            uint32_t reader_count, int socket_id) {
  capacity_ = capacity;
  ipv6_capacity_ = ipv6_capacity < capacity ? ipv6_capacity : capacity;
  const size_t qsbr_size = rte_rcu_qsbr_get_memsize(reader_count);
  qsbr_ = static_cast<rte_rcu_qsbr*>(
      rte_zmalloc_socket("microarp_qsbr", qsbr_size, RTE_CACHE_LINE_SIZE, socket_id));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, reader_count) != 0) {
    destroy();
    return Status::error("TABLE_CREATE", "cannot allocate the table's RCU state");
  }
  Status status = table_.create(name, capacity, qsbr_, socket_id);
  if (!status.ok()) {
    destroy();
    return Status::error(status.code, status.message + " (table.capacity)");
  }
  const std::string name6 = std::string(name) + "6";
  status = table6_.create(name6.c_str(), ipv6_capacity_, qsbr_, socket_id);
  if (!status.ok()) {
    destroy();
    return Status::error(status.code, status.message + " (table.ipv6_capacity)");
  }
  return Status::success();
}

void BindingTable::destroy() {
  table_.destroy();
  table6_.destroy();
  rte_free(qsbr_);
  qsbr_ = nullptr;
}

void BindingTable::register_reader(uint32_t reader_id) {
  rte_rcu_qsbr_thread_register(qsbr_, reader_id);
  rte_rcu_qsbr_thread_online(qsbr_, reader_id);
}

void BindingTable::unregister_reader(uint32_t reader_id) {
  rte_rcu_qsbr_thread_offline(qsbr_, reader_id);
  rte_rcu_qsbr_thread_unregister(qsbr_, reader_id);
}

void BindingTable::apply(const UpdateRecord& record) {
  const uint64_t key = binding_key(record.vlan, record.ip_be);
  UpdateResult& result = *record.result;

  bool changed = false;
  uint64_t existing;
  if (record.op == UpdateOp::remove) {
    changed = table_.remove(key, nullptr);
    (changed ? result.removed : result.missing)++;
  } else if (live_ >= capacity_ && !table_.lookup(key, &existing)) {
    // Both families share the capacity: a new IPv4 binding needs room in the sum.
    result.table_full++;
  } else {
    // Replacing is one store of the value word: readers see the old binding or the new one.
    switch (table_.put(key, binding_word(record.mac, record.source))) {
      case FlatTable::Put::added: result.added++; changed = true; break;
      case FlatTable::Put::replaced: result.replaced++; changed = true; break;
      case FlatTable::Put::unchanged: result.unchanged++; break;
      case FlatTable::Put::full: result.table_full++; break;
    }
  }
  if (changed) this->changed();
}

void BindingTable::apply6(const UpdateRecord& record, const uint8_t addr[16]) {
  const NdKey key = nd_key(record.vlan, addr);
  UpdateResult& result = *record.result;
  bool changed = false;
  uint64_t existing;
  if (record.op == UpdateOp::remove6) {
    changed = table6_.remove(key, nullptr);
    (changed ? result.removed : result.missing)++;
  } else if (live_ >= capacity_ && !table6_.lookup(key, &existing)) {
    result.table_full++;
  } else {
    uint64_t word = binding_word(record.mac, record.source);
    if (record.flags & kUpdateRouter) word |= kBindingRouter;
    switch (table6_.put(key, word)) {
      case NdTable::Put::added: result.added++; changed = true; break;
      case NdTable::Put::replaced: result.replaced++; changed = true; break;
      case NdTable::Put::unchanged: result.unchanged++; break;
      case NdTable::Put::full: result.table_full++; break;
    }
  }
  if (changed) this->changed();
}

void BindingTable::changed() {
  __atomic_store_n(&live6_, table6_.size(), __ATOMIC_RELAXED);
  __atomic_store_n(&live_, table_.size() + table6_.size(), __ATOMIC_RELAXED);
  // After the change itself: a worker that sees the new generation also sees the change.
  __atomic_store_n(&generation_, generation_ + 1, __ATOMIC_RELEASE);
}

}  // namespace microarp
