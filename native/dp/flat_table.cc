#include "flat_table.h"

#include "bucket_array.h"

#include <rte_malloc.h>

#include <string>

namespace microarp {

Status FlatTable::create(const char* name, uint32_t capacity, rte_rcu_qsbr* qsbr, int socket_id) {
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

void FlatTable::destroy() {
  rte_free(buckets_);
  buckets_ = nullptr;
  pending_.clear();
}

bool FlatTable::find(uint64_t key, uint32_t* bucket, unsigned* slot, uint32_t* probes) const {
  const uint64_t wanted = kValid | key;
  uint32_t b = home(key);
  for (uint32_t p = 0; p <= mask_; p++) {
    const Bucket& bk = buckets_[b];
    for (unsigned s = 0; s < kSlots; s++) {
      if ((bk.key[s] & (kValid | kKeyMask)) == wanted) {
        *bucket = b;
        *slot = s;
        *probes = p;
        return true;
      }
    }
    if (overflow_of(bk.key[0]) == 0) return false;
    b = (b + 1) & mask_;
  }
  return false;
}

// The `count` buckets from `from` on are passed over by a key that lives further on.
void FlatTable::add_overflow(uint32_t from, uint32_t count, int delta) {
  for (uint32_t i = 0, b = from; i < count; i++, b = (b + 1) & mask_) {
    uint64_t& first = buckets_[b].key[0];
    const uint64_t n = overflow_of(first);
    if (n == kOverflowMax) continue;  // saturated: no longer counted, always probed past
    const uint64_t next = delta > 0 ? n + 1 : n - 1;
    store(first, (first & ~kOverflowMask) | (next << kOverflowShift));
  }
}

// Slots removed before every reader's last quiescent report can be used again.
void FlatTable::reclaim() {
  while (!pending_.empty() && rte_rcu_qsbr_check(qsbr_, pending_.front().token, false) == 1) {
    const PendingSlot& p = pending_.front();
    uint64_t& word = buckets_[p.bucket].key[p.slot];
    store(word, word & ~kPending);
    pending_.pop_front();
  }
}

FlatTable::Put FlatTable::put(uint64_t key, uint64_t value) {
  uint32_t b;
  unsigned s;
  uint32_t probes;
  if (find(key, &b, &s, &probes)) {
    if (buckets_[b].value[s] == value) return Put::unchanged;
    store(buckets_[b].value[s], value);
    return Put::replaced;
  }
  if (size_ >= capacity_) return Put::full;
  reclaim();
  const uint32_t start = home(key);
  b = start;
  for (uint32_t p = 0; p <= mask_; p++, b = (b + 1) & mask_) {
    Bucket& bk = buckets_[b];
    for (s = 0; s < kSlots; s++) {
      if ((bk.key[s] & (kValid | kPending)) != 0) continue;
      store(bk.value[s], value);
      store(bk.key[s], (bk.key[s] & kOverflowMask) | kValid | key);
      add_overflow(start, p, +1);
      __atomic_store_n(&size_, size_ + 1, __ATOMIC_RELAXED);
      return Put::added;
    }
  }
  return Put::full;  // every slot taken or waiting out a grace period
}

bool FlatTable::remove(uint64_t key, uint64_t* old_value) {
  uint32_t b;
  unsigned s;
  uint32_t probes;
  if (!find(key, &b, &s, &probes)) return false;
  Bucket& bk = buckets_[b];
  if (old_value != nullptr) *old_value = bk.value[s];
  // The key stays in the word (not valid) until the slot is reused: only the flags change.
  store(bk.key[s], (bk.key[s] & ~kValid) | kPending);
  add_overflow(home(key), probes, -1);
  __atomic_store_n(&size_, size_ - 1, __ATOMIC_RELAXED);
  pending_.push_back({b, s, rte_rcu_qsbr_start(qsbr_)});
  return true;
}

}  // namespace microarp
