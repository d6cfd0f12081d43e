// A hash table of 60-bit keys to 64-bit words, built for the workers' lookups: one cache line
// per bucket (four keys, then their four values), a multiplicative hash, lookups that prefetch a
// whole burst's buckets before probing any, and no locks. One writer thread changes it; any
// number of readers look up concurrently and never wait.
//
// How readers stay correct without locks:
// - A value is one aligned 8-byte word: replaced in place by one store, read whole.
// - An insert writes the value, then the key (release); a reader that sees the key (acquire)
//   sees that value or a later one.
// - A removed slot is not reused until every reader has reported a quiescent state (QSBR)
//   since the removal: a reader that matched the key just before the removal reads the value it
//   had, never the value of a key inserted later in the same slot.
// - A bucket's overflow count (in its first key word) is how many keys live further along the
//   probe sequence while their home is this bucket or before it; a lookup stops at the first
//   bucket whose count is zero. The count saturates (and then stays) at its maximum, which
//   only costs a longer probe.
#pragma once

#include <rte_common.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include <cstdint>
#include <deque>

#include "status.h"

namespace microarp {

class FlatTable {
 public:
  static constexpr uint64_t kKeyBits = 60;
  static constexpr uint64_t kKeyMask = (uint64_t(1) << kKeyBits) - 1;

  FlatTable() = default;
  FlatTable(const FlatTable&) = delete;
  FlatTable& operator=(const FlatTable&) = delete;
  ~FlatTable() { destroy(); }

  // Room for `capacity` live keys at a load of at most one half, so that nearly every lookup
  // reads one bucket. `qsbr` is the readers' quiescent-state variable.
  Status create(const char* name, uint32_t capacity, rte_rcu_qsbr* qsbr, int socket_id);
  void destroy();

  // Readers. `key` must be below 2^60.
  void prefetch(uint64_t key) const { rte_prefetch0(&buckets_[home(key)]); }
  bool lookup(uint64_t key, uint64_t* value) const;
  // Looks each key up: bit i of the result is set when keys[i] was found, and values[i] then
  // holds its value. n <= 64. Callers prefetch() the keys as soon as they know them, so that the
  // buckets arrive while they do other work.
  uint64_t lookup_bulk(const uint64_t keys[], uint32_t n, uint64_t values[]) const;

  // The writer.
  enum class Put { added, replaced, unchanged, full };
  Put put(uint64_t key, uint64_t value);
  bool remove(uint64_t key, uint64_t* old_value);
  // Calls fn(key, value) for every live key.
  template <typename Fn>
  void for_each(Fn fn) const;
  uint32_t size() const { return __atomic_load_n(&size_, __ATOMIC_RELAXED); }
  const void* memory() const { return buckets_; }
  uint64_t memory_bytes() const { return buckets_ ? uint64_t(mask_ + 1) * sizeof(Bucket) : 0; }

 private:
  static constexpr unsigned kSlots = 4;
  static constexpr uint64_t kValid = uint64_t(1) << 63;
  static constexpr uint64_t kPending = uint64_t(1) << 62;  // removed, not reusable yet
  static constexpr unsigned kOverflowShift = 60;
  static constexpr uint64_t kOverflowMax = 3;
  static constexpr uint64_t kOverflowMask = kOverflowMax << kOverflowShift;

  struct alignas(RTE_CACHE_LINE_SIZE) Bucket {
    uint64_t key[kSlots];    // kValid | key; slot 0 also holds the bucket's overflow count
    uint64_t value[kSlots];
  };
  static_assert(sizeof(Bucket) == RTE_CACHE_LINE_SIZE, "one cache line per bucket");

  struct PendingSlot {
    uint32_t bucket;
    uint32_t slot;
    uint64_t token;
  };

  uint32_t home(uint64_t key) const {
    return static_cast<uint32_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  static uint64_t load(const uint64_t& word) { return __atomic_load_n(&word, __ATOMIC_ACQUIRE); }
  static void store(uint64_t& word, uint64_t v) { __atomic_store_n(&word, v, __ATOMIC_RELEASE); }
  static uint64_t overflow_of(uint64_t first_key_word) {
    return (first_key_word & kOverflowMask) >> kOverflowShift;
  }
  // Writer: where `key` lives (true), else false; `probes` is its distance from home.
  bool find(uint64_t key, uint32_t* bucket, unsigned* slot, uint32_t* probes) const;
  void add_overflow(uint32_t from, uint32_t count, int delta);
  void reclaim();

  Bucket* buckets_ = nullptr;
  uint32_t mask_ = 0;
  unsigned shift_ = 64;
  uint32_t capacity_ = 0;
  uint32_t size_ = 0;  // written by the writer, read by anyone
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::deque<PendingSlot> pending_;  // the writer's, oldest first
};

inline bool FlatTable::lookup(uint64_t key, uint64_t* value) const {
  const uint64_t wanted = kValid | key;
  uint32_t b = home(key);
  for (uint32_t probes = 0; probes <= mask_; probes++) {
    const Bucket& bucket = buckets_[b];
    for (unsigned s = 0; s < kSlots; s++) {
      if ((load(bucket.key[s]) & (kValid | kKeyMask)) == wanted) {
        *value = load(bucket.value[s]);
        return true;
      }
    }
    if (overflow_of(load(bucket.key[0])) == 0) return false;
    b = (b + 1) & mask_;
  }
  return false;
}

inline uint64_t FlatTable::lookup_bulk(const uint64_t keys[], uint32_t n, uint64_t values[]) const {
  uint64_t hits = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (lookup(keys[i], &values[i])) hits |= uint64_t(1) << i;
  }
  return hits;
}

template <typename Fn>
void FlatTable::for_each(Fn fn) const {
  for (uint32_t b = 0; b <= mask_; b++) {
    for (unsigned s = 0; s < kSlots; s++) {
      const uint64_t word = buckets_[b].key[s];
      if (word & kValid) fn(word & kKeyMask, buckets_[b].value[s]);
    }
  }
}

}  // namespace microarp
