#include "binding_table.h"

#include <rte_errno.h>
#include <rte_malloc.h>

#include <string>

namespace microarp {
namespace {

// Measured here: sized at exactly the live count, adds failed under churn while deleted slots
// waited for their grace period; a quarter more removed the failures.
uint32_t entries_with_headroom(uint32_t capacity) {
  uint64_t entries = static_cast<uint64_t>(capacity) + capacity / 4 + 64;
  return entries > UINT32_MAX / 2 ? UINT32_MAX / 2 : static_cast<uint32_t>(entries);
}

}  // namespace

Status BindingTable::create(const char* name, uint32_t capacity, uint32_t reader_count,
                            int socket_id) {
  capacity_ = capacity;
  rte_hash_parameters params = {};
  params.name = name;
  params.entries = entries_with_headroom(capacity);
  params.key_len = sizeof(BindingKey);
  params.hash_func = nullptr;  // CRC32 where the CPU has it, jhash otherwise
  params.socket_id = socket_id;
  params.extra_flag =
      RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  hash_ = rte_hash_create(&params);
  if (hash_ != nullptr) rte_hash_set_cmp_func(hash_, equal_8_bytes);
  if (hash_ == nullptr) {
    return Status::error("TABLE_CREATE", std::string("cannot create the binding table for ") +
                                             std::to_string(capacity) + " bindings: " +
                                             rte_strerror(rte_errno) +
                                             " (give EAL more memory with -m, or lower "
                                             "table.capacity)");
  }

  const size_t qsbr_size = rte_rcu_qsbr_get_memsize(reader_count);
  qsbr_ = static_cast<rte_rcu_qsbr*>(
      rte_zmalloc_socket("microarp_qsbr", qsbr_size, RTE_CACHE_LINE_SIZE, socket_id));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, reader_count) != 0) {
    destroy();
    return Status::error("TABLE_CREATE", "cannot allocate the table's RCU state");
  }

  rte_hash_rcu_config rcu = {};
  rcu.v = qsbr_;
  rcu.mode = RTE_HASH_QSBR_MODE_DQ;
  if (rte_hash_rcu_qsbr_add(hash_, &rcu) != 0) {
    destroy();
    return Status::error("TABLE_CREATE", std::string("cannot attach RCU to the table: ") +
                                             rte_strerror(rte_errno));
  }
  return Status::success();
}

void BindingTable::destroy() {
  if (hash_ != nullptr) rte_hash_free(hash_);  // also frees the defer queue
  hash_ = nullptr;
  rte_free(qsbr_);
  qsbr_ = nullptr;
  // live_ and capacity_ keep their last values for the final statistics.
}

void BindingTable::register_reader(uint32_t reader_id) {
  rte_rcu_qsbr_thread_register(qsbr_, reader_id);
  rte_rcu_qsbr_thread_online(qsbr_, reader_id);
}

void BindingTable::unregister_reader(uint32_t reader_id) {
  rte_rcu_qsbr_thread_offline(qsbr_, reader_id);
  rte_rcu_qsbr_thread_unregister(qsbr_, reader_id);
}

uint64_t BindingTable::lookup_bulk(const BindingKey* keys[], uint32_t n, uint64_t macs[]) const {
  uint64_t hits = 0;
  void* data[RTE_HASH_LOOKUP_BULK_MAX];
  if (rte_hash_lookup_bulk_data(hash_, reinterpret_cast<const void**>(keys), n, &hits, data) <=
      0)
    return 0;
  for (uint32_t i = 0; i < n; i++) macs[i] = reinterpret_cast<uintptr_t>(data[i]);
  return hits;
}

void BindingTable::apply(const UpdateRecord& record) {
  const BindingKey key = make_binding_key(record.vlan, record.ip_be);
  UpdateResult& result = *record.result;

  if (record.op == UpdateOp::remove) {
    if (rte_hash_del_key(hash_, &key) >= 0) {
      result.removed++;
      __atomic_store_n(&live_, live_ - 1, __ATOMIC_RELAXED);
    } else {
      result.missing++;
    }
    return;
  }

  const uint64_t mac = binding_word(record.mac, record.source);
  void* old = nullptr;
  if (rte_hash_lookup_data(hash_, &key, &old) >= 0) {
    if (reinterpret_cast<uintptr_t>(old) == mac) {
      result.unchanged++;
      return;
    }
    // Same key: rte_hash swaps the data word atomically, readers see old or new, never a mix.
    rte_hash_add_key_data(hash_, &key, reinterpret_cast<void*>(static_cast<uintptr_t>(mac)));
    result.replaced++;
    return;
  }
  if (live_ >= capacity_ ||
      rte_hash_add_key_data(hash_, &key, reinterpret_cast<void*>(static_cast<uintptr_t>(mac))) <
          0) {
    result.table_full++;
    return;
  }
  result.added++;
  __atomic_store_n(&live_, live_ + 1, __ATOMIC_RELAXED);
}

}  // namespace microarp
