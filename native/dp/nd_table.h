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
  // The meta word: the VLAN in bits 0-11, then the flags, and in a bucket's first slot the
  // bucket's overflow count: how many keys live further along the probe sequence while their
  // home is this bucket or before it. A lookup stops at the first bucket whose count is zero.
  // The count saturates (and then stays) at its maximum, which only costs a longer probe; with
  // two slots a bucket it is wider than FlatTable's.
  static constexpr unsigned kSlots = 2;
  static constexpr uint64_t kVlanMask = 0xfff;
  static constexpr uint64_t kValid = uint64_t(1) << 12;
  static constexpr uint64_t kPending = uint64_t(1) << 13;  // removed, not reusable yet
  static constexpr unsigned kOverflowShift = 16;
  static constexpr uint64_t kOverflowMax = 0xffff;
  static constexpr uint64_t kOverflowMask = kOverflowMax << kOverflowShift;

  struct Slot {
    uint64_t hi;     // the address's first 8 bytes, as in NdKey
    uint64_t lo;     // its last 8 bytes
    uint64_t meta;   // kValid/kPending | VLAN; slot 0 also holds the overflow count
    uint64_t value;  // the binding word
  };
  struct alignas(RTE_CACHE_LINE_SIZE) Bucket {
    Slot slot[kSlots];
  };
  static_assert(sizeof(Slot) == 32, "32-byte slots");
  static_assert(sizeof(Bucket) == RTE_CACHE_LINE_SIZE, "one cache line per bucket");

  struct PendingSlot {
    uint32_t bucket;
    uint32_t slot;
    uint64_t token;
  };

  // The unit tests read homes, probe distances and overflow counts through this.
  friend struct NdTableInspect;

  // Both halves of a 64x64 -> 128-bit product folded together: every input bit reaches the
  // top bits, which index the buckets. A plain multiplicative hash would not do: a change in
  // an address word's last byte (the top byte of the word, as loaded from the frame) moves
  // only the top 8 bits of its product, so 2001:db8:0:X::Y for 256 X and 256 Y would fall in
  // 256 buckets. The VLAN is added into the first word times an odd constant, so that the same
  // address in two VLANs lands in two unrelated buckets.
  static uint64_t fold_mul(uint64_t a, uint64_t b) {
    const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
  }
  static uint64_t vlan_of(const NdKey& key) { return key.vlan & kVlanMask; }
  uint32_t home(const NdKey& key) const {
    const uint64_t h = fold_mul(key.hi + vlan_of(key) * 0xD6E8FEB86659FD93ull, 0x9E3779B97F4A7C15ull) ^
                       fold_mul(key.lo, 0xC2B2AE3D27D4EB4Full);
    return static_cast<uint32_t>(h >> shift_);
  }
  static uint64_t load(const uint64_t& word) { return __atomic_load_n(&word, __ATOMIC_ACQUIRE); }
  static void store(uint64_t& word, uint64_t v) { __atomic_store_n(&word, v, __ATOMIC_RELEASE); }
  static uint64_t overflow_of(uint64_t first_meta) {
    return (first_meta & kOverflowMask) >> kOverflowShift;
  }
  // Writer: where `key` lives (true), else false; `probes` is its distance from home.
  bool find(const NdKey& key, uint32_t* bucket, unsigned* slot, uint32_t* probes) const;
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

inline void NdTable::prefetch(const NdKey& key) const { rte_prefetch0(&buckets_[home(key)]); }

// The meta word first (acquire): a valid slot's address words and value were written before
// it. The address words are compared only once the meta word says valid and the VLAN matches,
// and are plain loads: no one writes them while a reader may read them (a slot is written only
// when free, after a grace period), so that ThreadSanitizer can check that claim.
inline bool NdTable::lookup(const NdKey& key, uint64_t* value) const {
  const uint64_t wanted = kValid | vlan_of(key);
  uint32_t b = home(key);
  for (uint32_t probes = 0; probes <= mask_; probes++) {
    const Bucket& bucket = buckets_[b];
    for (unsigned s = 0; s < kSlots; s++) {
      const Slot& slot = bucket.slot[s];
      if ((load(slot.meta) & (kValid | kVlanMask)) == wanted &&
          slot.hi == key.hi && slot.lo == key.lo) {
        *value = load(slot.value);
        return true;
      }
    }
    if (overflow_of(load(bucket.slot[0].meta)) == 0) return false;
    b = (b + 1) & mask_;
  }
  return false;
}

inline uint64_t NdTable::memory_bytes() const {
  return buckets_ ? uint64_t(mask_ + 1) * sizeof(Bucket) : 0;
}

template <typename Fn>
void NdTable::for_each(Fn fn) const {
  for (uint32_t b = 0; b <= mask_ && buckets_ != nullptr; b++) {
    for (unsigned s = 0; s < kSlots; s++) {
      const Slot& slot = buckets_[b].slot[s];
      if (slot.meta & kValid) {
        const NdKey key{slot.hi, slot.lo, static_cast<uint16_t>(slot.meta & kVlanMask)};
        fn(key, slot.value);
      }
    }
  }
}

}  // namespace microarp
