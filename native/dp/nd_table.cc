// NdTable's writer side: FlatTable's, with 32-byte slots keyed by two address words and a VLAN.
//
// Notes:
// - Buckets: a power of two of them, two slots each, at least two slots per key of capacity,
//   so the table is at most half full: 64 bytes per binding when the capacity is a power of
//   two, up to 128 when it is just above one.
// - An insert writes the address words and the value, then the meta word (release). A removal
//   only changes the meta word's flags (valid off, pending on): the address stays in the slot
//   until the slot is reused, after every reader has reported a quiescent state, so that a
//   reader that has matched the meta word still reads the address and value it matched.
#include "nd_table.h"

#include "bucket_array.h"

#include <rte_malloc.h>

#include <string>

namespace microarp {

Status NdTable::create(const char* name, uint32_t capacity, rte_rcu_qsbr* qsbr, int socket_id) {
  BucketArray array;
  const Status status = allocate_buckets(name, capacity, kSlots, sizeof(Bucket), socket_id, &array);
  if (!status.ok()) return status;
  buckets_ = static_cast<Bucket*>(array.memory);
  mask_ = array.mask;
  shift_ = array.shift;
  capacity_ = capacity;
  size_ = 0;
  qsbr_ = qsbr;
  return Status::success();
}

void NdTable::destroy() {
  rte_free(buckets_);
  buckets_ = nullptr;
  mask_ = 0;
  size_ = 0;
  pending_.clear();
}

bool NdTable::find(const NdKey& key, uint32_t* bucket, unsigned* slot, uint32_t* probes) const {
  const uint64_t wanted = kValid | vlan_of(key);
  uint32_t b = home(key);
  for (uint32_t p = 0; p <= mask_; p++) {
    const Bucket& bk = buckets_[b];
    for (unsigned s = 0; s < kSlots; s++) {
      const Slot& sl = bk.slot[s];
      if ((sl.meta & (kValid | kVlanMask)) == wanted && sl.hi == key.hi && sl.lo == key.lo) {
        *bucket = b;
        *slot = s;
        *probes = p;
        return true;
      }
    }
    if (overflow_of(bk.slot[0].meta) == 0) return false;
    b = (b + 1) & mask_;
  }
  return false;
}

// The `count` buckets from `from` on are passed over by a key that lives further on.
void NdTable::add_overflow(uint32_t from, uint32_t count, int delta) {
  for (uint32_t i = 0, b = from; i < count; i++, b = (b + 1) & mask_) {
    uint64_t& meta = buckets_[b].slot[0].meta;
    const uint64_t n = overflow_of(meta);
    if (n == kOverflowMax) continue;  // saturated: no longer counted, always probed past
    const uint64_t next = delta > 0 ? n + 1 : n - 1;
    store(meta, (meta & ~kOverflowMask) | (next << kOverflowShift));
  }
}

// Slots removed before every reader's last quiescent report can be used again.
void NdTable::reclaim() {
  while (!pending_.empty() && rte_rcu_qsbr_check(qsbr_, pending_.front().token, false) == 1) {
    const PendingSlot& p = pending_.front();
    uint64_t& meta = buckets_[p.bucket].slot[p.slot].meta;
    store(meta, meta & ~kPending);
    pending_.pop_front();
  }
}

NdTable::Put NdTable::put(const NdKey& key, uint64_t value) {
  uint32_t b;
  unsigned s;
  uint32_t probes;
  if (find(key, &b, &s, &probes)) {
    Slot& slot = buckets_[b].slot[s];
    if (slot.value == value) return Put::unchanged;
    store(slot.value, value);
    return Put::replaced;
  }
  if (size_ >= capacity_) return Put::full;
  reclaim();
  const uint32_t start = home(key);
  b = start;
  for (uint32_t p = 0; p <= mask_; p++, b = (b + 1) & mask_) {
    Bucket& bk = buckets_[b];
    for (s = 0; s < kSlots; s++) {
      Slot& slot = bk.slot[s];
      if ((slot.meta & (kValid | kPending)) != 0) continue;
      // A free slot: no reader reads its address until the meta word below says valid.
      slot.hi = key.hi;
      slot.lo = key.lo;
      store(slot.value, value);
      store(slot.meta, (slot.meta & kOverflowMask) | kValid | vlan_of(key));
      add_overflow(start, p, +1);
      __atomic_store_n(&size_, size_ + 1, __ATOMIC_RELAXED);
      return Put::added;
    }
  }
  return Put::full;  // every slot taken or waiting out a grace period
}

bool NdTable::remove(const NdKey& key, uint64_t* old_value) {
  uint32_t b;
  unsigned s;
  uint32_t probes;
  if (!find(key, &b, &s, &probes)) return false;
  Slot& slot = buckets_[b].slot[s];
  if (old_value != nullptr) *old_value = slot.value;
  // The address and VLAN stay in the slot (not valid) until it is reused: only the flags change.
  store(slot.meta, (slot.meta & ~kValid) | kPending);
  add_overflow(home(key), probes, -1);
  __atomic_store_n(&size_, size_ - 1, __ATOMIC_RELAXED);
  pending_.push_back({b, s, rte_rcu_qsbr_start(qsbr_)});
  return true;
}

}  // namespace microarp
